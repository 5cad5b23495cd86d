"""Spot user data: listen-key streams (legacy) and the WebSocket API subscription (current), with the
documented event payloads; listen-key keep-alive and expiry on an accelerated clock."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sandbox_spot_support import (
    FAST,
    assert_same_key_order,
    assert_same_shape,
    fixture,
    running,
    seed_book,
    sign,
)
from test_sandbox_spot_streams import place, recv_json

from connectorkit.sandbox.venues.binance.spot.wsapi import ws_api_payload
from support.clocks import HeldSandboxClock
from support.waiting import assert_nothing_queued, subscribed

EXEC_OPTIONAL = frozenset({"v"})  # prevented match id: only when self-trade prevention fired


async def test_listen_key_stream_delivers_documented_events() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        listen_key = (await client.ok("POST", "/api/v3/userDataStream", key=True))["listenKey"]
        async with client.session.ws_connect(f"{sb.ws_url}/ws/{listen_key}") as ws:
            await subscribed(sb.spot.hub, listen_key)
            await client.ok(
                "POST",
                "/api/v3/order",
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "type": "MARKET",
                    "quantity": "0.1",
                    "newClientOrderId": "mine1",
                },
                signed=True,
            )
            new = await recv_json(ws)
            assert_same_shape(new, fixture("user_data_stream__order_update"), optional=EXEC_OPTIONAL)
            assert (new["x"], new["X"], new["c"], new["o"]) == ("NEW", "NEW", "mine1", "MARKET")
            trade = await recv_json(ws)
            assert (trade["x"], trade["X"], trade["l"], trade["L"]) == (
                "TRADE",
                "FILLED",
                "0.10000000",
                "29990.00000000",
            )
            assert (trade["n"], trade["N"], trade["m"]) == ("2.99900000", "USDT", False)
            position = await recv_json(ws)
            assert_same_shape(position, fixture("user_data_stream__account_update"))
            balances = {b["a"]: b for b in position["B"]}
            assert balances["BTC"]["f"] == "1.90000000" and balances["USDT"]["f"] == "102996.00100000"

            sb.spot.exchange.deposit(sb.account_id(client.key), "BTC", Decimal("1"))
            update = await recv_json(ws)
            assert_same_shape(update, fixture("user_data_stream__balance_update"))
            assert (update["a"], update["d"]) == ("BTC", "1.00000000")
            for event, doc in (
                (new, "user_data_stream__order_update"),
                (trade, "user_data_stream__order_update"),
                (position, "user_data_stream__account_update"),
                (update, "user_data_stream__balance_update"),
            ):
                assert_same_key_order(event, fixture(doc))  # fields in the documented order


async def test_listen_key_expires_unless_kept_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    config = replace(FAST, listen_key_validity_ms=300, listen_key_sweep_s=0.02)
    async with running(config=config) as (sb, client):
        clock = HeldSandboxClock(sb.clock, monkeypatch, sb.clock.now_ms())  # time moves when we say
        listen_key = (await client.ok("POST", "/api/v3/userDataStream", key=True))["listenKey"]
        async with client.session.ws_connect(f"{sb.ws_url}/ws/{listen_key}") as ws:
            await subscribed(sb.spot.hub, listen_key)
            for _ in range(4):  # keep-alives every 150 ms hold it open past its 300 ms validity
                clock.advance(150)
                await client.ok("PUT", "/api/v3/userDataStream", {"listenKey": listen_key}, key=True)
            await assert_nothing_queued(ws)  # the sweeps meanwhile found it alive
            assert sb.spot.listen_keys.get(listen_key) is not None
            clock.advance(301)  # no keep-alive for longer than its validity: the next sweep expires it
            expired = await recv_json(ws, wait=5)
            assert_same_shape(expired, fixture("user_data_stream__listen_key_expired"))
            assert expired["listenKey"] == listen_key
            assert sb.spot.listen_keys.get(listen_key) is None
            # Nothing more is delivered to an expired key.
            sb.spot.exchange.deposit(sb.account_id(client.key), "BTC", Decimal("1"))
            await assert_nothing_queued(ws)
        _status, body, _ = await client.request(
            "PUT", "/api/v3/userDataStream", {"listenKey": listen_key}, key=True
        )
        assert body["code"] == -1125


def subscribe_request(key: str, secret: str, req_id: Any = "sub-1", ts: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"apiKey": key, "timestamp": ts if ts is not None else int(time.time() * 1000)}
    params["signature"] = sign(secret, ws_api_payload(params))
    return {"id": req_id, "method": "userDataStream.subscribe.signature", "params": params}


async def test_ws_api_signed_subscription() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        async with client.session.ws_connect(sb.ws_api_url) as ws:
            await ws.send_json(subscribe_request(client.key, client.secret))
            answer = await recv_json(ws)
            assert_same_shape(
                answer, fixture("websocket_api__user_data_stream_subscribe_signature__response")
            )
            assert answer["status"] == 200 and answer["id"] == "sub-1"
            sub_id = answer["result"]["subscriptionId"]
            assert answer["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"

            place(sb, client.key, "BUY", "0.01", "29000")
            report = await recv_json(ws)
            assert report["subscriptionId"] == sub_id and report["event"]["e"] == "executionReport"
            position = await recv_json(ws)
            assert_same_shape(position, fixture("websocket_api__user_data_stream__event"))

            await ws.send_json({"id": 2, "method": "session.subscriptions"})
            assert (await recv_json(ws))["result"] == [{"subscriptionId": sub_id}]
            await ws.send_json(
                {"id": 3, "method": "userDataStream.unsubscribe", "params": {"subscriptionId": sub_id}}
            )
            terminated = await recv_json(ws)
            assert terminated["event"]["e"] == "eventStreamTerminated"
            assert (await recv_json(ws))["status"] == 200
            place(sb, client.key, "BUY", "0.01", "29001")
            await ws.send_json({"id": 4, "method": "ping"})
            pong = await recv_json(ws)  # the order placed after unsubscribing sent nothing here
            assert (pong["id"], pong["status"], pong["result"]) == (4, 200, {})
            limit = pong["rateLimits"][0]
            assert (limit["interval"], limit["intervalNum"], limit["limit"]) == ("MINUTE", 1, 6000)
            assert 1 <= limit["count"] <= 6  # 2 + 1 + 2 + 1 weights (less if a minute began meanwhile)


async def test_ws_api_errors_follow_the_response_format() -> None:
    async with running() as (sb, client), client.session.ws_connect(sb.ws_api_url) as ws:
        bad = subscribe_request(client.key, "0" * 64, req_id="e1")
        await ws.send_json(bad)
        answer = await recv_json(ws)
        assert_same_shape(answer, fixture("websocket_api__response_format__error"))
        assert answer["status"] == 400
        assert answer["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
        old = subscribe_request(client.key, client.secret, req_id="e2", ts=int(time.time() * 1000) - 60_000)
        await ws.send_json(old)
        assert (await recv_json(ws))["error"]["code"] == -1021
        await ws.send_json(subscribe_request(client.key, client.secret, req_id="ok"))
        assert (await recv_json(ws))["status"] == 200
        await ws.send_json(subscribe_request(client.key, client.secret, req_id="again"))
        assert (await recv_json(ws))["error"]["code"] == -2035
        await ws.send_json({"id": "x", "method": "order.amend.keepPriority", "params": {}})
        assert (await recv_json(ws))["error"]["code"] == -1020  # not served by the sandbox
        await ws.send_json({"id": "y", "method": "order.place", "params": {}})
        assert (await recv_json(ws))["error"]["code"] == -2014  # SIGNED: the API key comes first


async def test_ws_api_malformed_params_get_an_error_answer_and_the_session_lives() -> None:
    # Bad input is answered with an error in the documented response format; it never kills the session.
    async with running() as (sb, client), client.session.ws_connect(sb.ws_api_url) as ws:
        unsubscribe = {"subscriptionId": "x"}
        await ws.send_json({"id": 1, "method": "userDataStream.unsubscribe", "params": unsubscribe})
        answer = await recv_json(ws)
        assert (answer["id"], answer["status"], answer["error"]["code"]) == (1, 400, -1100)
        await ws.send_json({"id": 2, "method": "userDataStream.subscribe.signature", "params": {"apiKey": 5}})
        answer = await recv_json(ws)
        assert (answer["id"], answer["status"], answer["error"]["code"]) == (2, 401, -2014)
        await ws.send_json({"id": 3, "method": 5})
        answer = await recv_json(ws)
        assert (answer["id"], answer["status"], answer["error"]["code"]) == (3, 400, -1020)
        await ws.send_json({"id": 4, "method": "ping", "params": []})
        answer = await recv_json(ws)
        assert (answer["id"], answer["status"], answer["error"]["code"]) == (4, 400, -1000)
        await ws.send_json({"id": 5, "method": "ping"})
        assert (await recv_json(ws))["status"] == 200
