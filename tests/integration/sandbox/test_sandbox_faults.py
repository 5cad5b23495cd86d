"""Every fault kind of the injector, shown to happen over real HTTP/WebSocket traffic, and logged."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
from sandbox_spot_support import LIMIT_BUY, Client, running, seed_book
from test_sandbox_spot_streams import place, recv_json

from connectorkit.sandbox import Sandbox
from support.waiting import assert_nothing_queued, subscribed, wait_until

ORDER = {**LIMIT_BUY, "newClientOrderId": "faulty1"}


async def test_drop_websockets_now() -> None:
    async with running() as (sb, client):
        async with client.session.ws_connect(sb.ws_url + "/ws/btcusdt@trade") as ws:
            await subscribed(sb.spot.hub, "btcusdt@trade")
            assert sb.faults.drop_websockets() == 1
            msg = await ws.receive(timeout=2)
            assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
        assert sb.faults.kinds() == ["drop_websockets"]
        assert sb.faults.log[0].detail == {"closed": 1}


async def test_drop_websockets_after_n_messages() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        async with client.session.ws_connect(sb.ws_url + "/ws/btcusdt@trade") as ws:
            await subscribed(sb.spot.hub, "btcusdt@trade")
            sb.faults.drop_websockets(after_messages=2)
            for _ in range(3):
                place(sb, client.key, "BUY", "0.01", type_="MARKET")
            assert (await recv_json(ws))["e"] == "trade"
            assert (await recv_json(ws))["e"] == "trade"
            msg = await ws.receive(timeout=2)
            assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
        assert "drop_websockets" in sb.faults.kinds()


async def test_pause_and_resume_a_stream() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        async with client.session.ws_connect(sb.ws_url + "/ws/btcusdt@trade") as ws:
            await subscribed(sb.spot.hub, "btcusdt@trade")
            sb.faults.pause_stream("btcusdt@trade")
            place(sb, client.key, "BUY", "0.01", type_="MARKET")
            await assert_nothing_queued(ws)
            sb.faults.resume_stream("btcusdt@trade")
            place(sb, client.key, "BUY", "0.02", type_="MARKET")
            trade = await recv_json(ws)
            assert trade["q"] == "0.02000000"  # the trade made during the pause is lost
        assert sb.faults.kinds() == ["pause_stream", "resume_stream"]


async def test_skip_depth_update_ids_makes_a_gap() -> None:
    async with running() as (sb, client):
        async with client.session.ws_connect(sb.ws_url + "/ws/btcusdt@depth@100ms") as ws:
            await subscribed(sb.spot.hub, "btcusdt@depth@100ms")
            place(sb, client.key, "BUY", "0.01", "29000")
            first = await recv_json(ws)
            sb.faults.skip_depth_updates("BTCUSDT", count=5)
            place(sb, client.key, "BUY", "0.01", "29001")
            second = await recv_json(ws)
            assert second["U"] == first["u"] + 1 + 5
            snap = await client.ok("GET", "/api/v3/depth", {"symbol": "BTCUSDT"})
            assert snap["lastUpdateId"] == second["u"]  # a resync from REST lines up again
        assert sb.faults.kinds() == ["skip_depth_updates"]


@contextlib.asynccontextmanager
async def _user_stream(sb: Sandbox, client: Client) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A listen-key stream, returned once the sandbox has subscribed it."""
    listen_key = (await client.ok("POST", "/api/v3/userDataStream", key=True))["listenKey"]
    async with client.session.ws_connect(f"{sb.ws_url}/ws/{listen_key}") as ws:
        await subscribed(sb.spot.hub, listen_key)
        yield ws


async def test_duplicate_user_event() -> None:
    async with running() as (sb, client):
        async with _user_stream(sb, client) as ws:
            sb.faults.duplicate_user_events(1)
            place(sb, client.key, "BUY", "0.01", "29000")
            first, second, third = await recv_json(ws), await recv_json(ws), await recv_json(ws)
            assert first == second and first["e"] == "executionReport"
            assert third["e"] == "outboundAccountPosition"
        assert sb.faults.kinds() == ["duplicate_user_event"]


async def test_reorder_user_events() -> None:
    async with running() as (sb, client):
        async with _user_stream(sb, client) as ws:
            sb.faults.reorder_user_events(1)
            place(sb, client.key, "BUY", "0.01", "29000")
            first, second = await recv_json(ws), await recv_json(ws)
            assert (first["e"], second["e"]) == ("outboundAccountPosition", "executionReport")
        assert sb.faults.kinds() == ["reorder_user_event"]


async def test_delay_rest_answer() -> None:
    async with running() as (sb, client):
        sb.faults.delay_rest(0.5)
        task = asyncio.create_task(client.ok("GET", "/api/v3/ping"), name="delayed-ping")
        # The server takes the delay when the request arrives and only then sleeps: checked at once
        # (this poll's timer falls due before the server's 0.5 s one), the answer is not there yet.
        await wait_until(lambda: "delay_rest" in sb.faults.kinds(), 5, "the delayed request")
        assert not task.done()
        assert await task == {}
        assert sb.faults.kinds() == ["delay_rest"]


async def test_next_requests_fail_with_5xx() -> None:
    async with running() as (sb, client):
        sb.faults.fail_next_requests(2, status=502)
        for _ in range(2):
            status, body, _ = await client.request("POST", "/api/v3/order", ORDER, signed=True)
            assert status == 502 and body["code"] == -1001
        assert sb.spot.exchange.orders == {}  # failed before reaching the engine
        status, _, _ = await client.request("POST", "/api/v3/order", ORDER, signed=True)
        assert status == 200
        assert sb.faults.kinds() == ["fail_request", "fail_request"]


async def test_unknown_status_after_the_order_was_placed() -> None:
    async with running() as (sb, client):
        sb.faults.unknown_status_next_orders(1)
        status, body, _ = await client.request("POST", "/api/v3/order", ORDER, signed=True)
        assert status == 503
        assert body == {
            "code": -1007,
            "msg": "Timeout waiting for response from backend server. Send status unknown; "
            "execution status unknown.",
        }
        found = await client.ok(
            "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "faulty1"}, signed=True
        )
        assert found["status"] == "NEW"  # it really was placed
        assert sb.faults.kinds() == ["unknown_status"]


async def test_forced_429() -> None:
    async with running() as (sb, client):
        sb.faults.force_429(1)
        status, body, headers = await client.request("GET", "/api/v3/ping")
        assert status == 429 and body["code"] == -1003 and headers["Retry-After"] == "1"
        assert (await client.request("GET", "/api/v3/ping"))[0] == 200
        assert sb.faults.kinds() == ["force_429"]


async def test_expire_listen_key() -> None:
    async with running() as (sb, client):
        async with _user_stream(sb, client) as ws:
            expired = sb.faults.expire_listen_key()
            assert len(expired) == 1
            event = await recv_json(ws)
            assert event["e"] == "listenKeyExpired" and event["listenKey"] == expired[0]
        _status, body, _ = await client.request(
            "PUT", "/api/v3/userDataStream", {"listenKey": expired[0]}, key=True
        )
        assert body["code"] == -1125
        assert sb.faults.kinds() == ["expire_listen_key"]


async def test_clock_skew_rejects_timestamps_until_resynced() -> None:
    async with running() as (sb, client):
        sb.faults.clock_skew(-30_000)
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True)
        assert (status, body["code"]) == (400, -1021)
        server_time = (await client.ok("GET", "/api/v3/time"))["serverTime"]
        offset = server_time - int(time.time() * 1000)
        assert -31_000 < offset < -29_000
        synced = int(time.time() * 1000) + offset
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True, timestamp=synced)
        assert status == 200, body
        assert sb.faults.kinds() == ["clock_skew"]


async def test_faults_over_the_admin_http_api() -> None:
    async with running() as (sb, client):
        async with client.session.post(
            sb.rest_url + "/sandbox/faults/fail_next_requests", json={"n": 1, "status": 500}
        ) as resp:
            assert resp.status == 200 and (await resp.json())["ok"] is True
        assert (await client.request("GET", "/api/v3/ping"))[0] == 500
        async with client.session.post(sb.rest_url + "/sandbox/faults/nonsense", json={}) as resp:
            assert resp.status == 400
        async with client.session.post(sb.rest_url + "/sandbox/faults/force_429", json={"bogus": 1}) as resp:
            assert resp.status == 400
        async with client.session.get(sb.rest_url + "/sandbox/faults") as resp:
            log = await resp.json()
        assert [entry["kind"] for entry in log] == ["fail_request"]
        assert log[0]["detail"] == {"path": "/api/v3/ping", "status": 500}


async def test_admin_accounts_and_state() -> None:
    async with running() as (sb, client):
        async with client.session.post(
            sb.rest_url + "/sandbox/accounts",
            json={"balances": {"USDT": "250.5"}, "takerCommission": "0.002"},
        ) as resp:
            created = await resp.json()
        assert set(created) == {"accountId", "apiKey", "secretKey"}
        account = sb.accounts.by_key(created["apiKey"])
        assert account is not None and account.taker_commission == Decimal("0.002")
        assert sb.spot.ledger.balance(created["accountId"], "USDT").free == Decimal("250.5")
        async with client.session.post(
            sb.rest_url + "/sandbox/deposit",
            json={"accountId": created["accountId"], "asset": "BTC", "amount": "1"},
        ) as resp:
            assert resp.status == 200
        async with client.session.get(sb.rest_url + "/sandbox/state") as resp:
            state = await resp.json()
        balances = state["spot"]["exchange"]["ledger"]["balances"][str(created["accountId"])]
        assert balances == {"USDT": ["250.5", "0"], "BTC": ["1", "0"]}
        assert all("secret" not in a for a in state["accounts"])


async def test_admin_rejects_bad_deposits_with_400() -> None:
    async with running() as (sb, client):
        account_id = sb.account_id(client.key)
        for body in (
            {"accountId": 999, "asset": "BTC", "amount": "1"},  # no such account
            {"accountId": account_id, "asset": "BTC", "amount": "-100"},  # overdraws
            {"accountId": account_id, "asset": "BTC", "amount": "Infinity"},
            {"accountId": account_id, "asset": "BTC", "amount": "NaN"},
        ):
            async with client.session.post(sb.rest_url + "/sandbox/deposit", json=body) as resp:
                assert resp.status == 400, body
                assert "error" in await resp.json()
        async with client.session.post(
            sb.rest_url + "/sandbox/accounts", json={"balances": {"USDT": "Infinity"}}
        ) as resp:
            assert resp.status == 400
        assert 999 not in sb.spot.ledger.balances
        assert sb.spot.ledger.balance(account_id, "BTC").free == Decimal("2")
