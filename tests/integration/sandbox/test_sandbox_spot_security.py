"""Signature, API key, timestamp and recvWindow checks over raw HTTP (Binance "Endpoint security type")."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from sandbox_spot_support import LIMIT_BUY, Client, running, sign

ORDER = LIMIT_BUY


async def post_split(client: Client, query: str, body: str) -> tuple[int, Any]:
    """POST /api/v3/order with params in both the query string and the body, signed over both."""
    async with client.session.post(
        f"{client.base}/api/v3/order?{query}",
        data=f"{body}&signature={sign(client.secret, query + body)}",
        headers={"X-MBX-APIKEY": client.key, "Content-Type": "application/x-www-form-urlencoded"},
    ) as resp:
        return resp.status, await resp.json()


async def test_valid_signature_in_query_or_in_body() -> None:
    async with running() as (sb, client):
        await client.ok("POST", "/api/v3/order", ORDER, signed=True)
        await client.ok("POST", "/api/v3/order", {**ORDER, "price": "20001"}, signed=True, in_body=True)
        assert len(sb.spot.engine.book("BTCUSDT").open_orders()) == 2


async def test_signature_over_query_plus_body_mixed() -> None:
    # totalParams = query string concatenated with the body; the signature may end the body.
    async with running() as (_sb, client):
        query = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"})
        body = urlencode(
            {"timeInForce": "GTC", "quantity": "0.01", "price": "20000", "timestamp": int(time.time() * 1000)}
        )
        status, answer = await post_split(client, query, body)
        assert status == 200, answer


async def test_bad_signature_is_1022_and_places_nothing() -> None:
    async with running() as (sb, client):
        status, body, _ = await client.request(
            "POST", "/api/v3/order", ORDER, signed=True, signature="00" * 32
        )
        assert (status, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
        # Signed with another account's secret.
        _, other_secret = sb.create_account()
        client.secret = other_secret
        status, body, _ = await client.request("POST", "/api/v3/order", ORDER, signed=True)
        assert body["code"] == -1022
        assert sb.spot.engine.book("BTCUSDT").open_orders() == []


async def test_api_key_missing_malformed_or_unknown() -> None:
    async with running() as (_sb, client):
        async with client.session.get(f"{client.base}/api/v3/account?timestamp=1&signature=ab") as resp:
            assert resp.status == 401
            assert await resp.json() == {"code": -2014, "msg": "API-key format invalid."}
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True, key="not a key!")
        assert (status, body["code"]) == (401, -2014)
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True, key="A" * 64)
        assert (status, body) == (
            401,
            {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        )


async def test_timestamp_and_recv_window_rules() -> None:
    async with running() as (_sb, client):
        now = int(time.time() * 1000)
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True, timestamp=now - 10_000)
        assert (status, body) == (
            400,
            {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
        )
        status, body, _ = await client.request(
            "GET", "/api/v3/account", {"recvWindow": 20_000}, signed=True, timestamp=now - 10_000
        )
        assert status == 200, body
        status, body, _ = await client.request("GET", "/api/v3/account", signed=True, timestamp=now + 5_000)
        assert body == {
            "code": -1021,
            "msg": "Timestamp for this request was 1000ms ahead of the server's time.",
        }
        status, body, _ = await client.request("GET", "/api/v3/account", {"recvWindow": 70_000}, signed=True)
        assert (status, body["code"]) == (400, -1131)
        # A signed request without timestamp: signature over the params as sent, timestamp missing.
        payload = urlencode({"recvWindow": 5000})
        async with client.session.get(
            f"{client.base}/api/v3/account?{payload}&signature={sign(client.secret, payload)}",
            headers={"X-MBX-APIKEY": client.key},
        ) as resp:
            assert (await resp.json())["msg"] == (
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )


async def test_user_stream_endpoints_need_only_the_key() -> None:
    async with running() as (_sb, client):
        created = await client.ok("POST", "/api/v3/userDataStream", key=True)
        assert len(created["listenKey"]) == 60
        # POST again on an account with an active key returns the same key.
        again = await client.ok("POST", "/api/v3/userDataStream", key=True)
        assert again == created
        await client.ok("PUT", "/api/v3/userDataStream", {"listenKey": created["listenKey"]}, key=True)
        await client.ok("DELETE", "/api/v3/userDataStream", {"listenKey": created["listenKey"]}, key=True)
        status, body, _ = await client.request(
            "PUT", "/api/v3/userDataStream", {"listenKey": created["listenKey"]}, key=True
        )
        assert (status, body) == (400, {"code": -1125, "msg": "This listenKey does not exist."})
        status, body, _ = await client.request("POST", "/api/v3/userDataStream")
        assert (status, body["code"]) == (401, -2014)


async def test_duplicate_parameter_is_rejected() -> None:
    async with running() as (_sb, client):
        status, body, _ = await client.request("GET", "/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT")
        assert (status, body) == (400, {"code": -1101, "msg": "Duplicate values for a parameter detected."})


async def test_query_string_wins_over_body_for_the_same_parameter() -> None:
    # Spot docs "General API Information": "If a parameter sent in both the query string and request
    # body, the query string parameter will be used." (not a -1101 duplicate).
    async with running() as (sb, client):
        query = urlencode({**ORDER, "price": "20000"})
        body = urlencode({"price": "21000", "timestamp": int(time.time() * 1000)})
        status, answer = await post_split(client, query, body)
        assert status == 200, answer
        assert answer["price"] == "20000.00000000"
        (order,) = sb.spot.engine.book("BTCUSDT").open_orders()
        assert str(order.price) == "20000"


async def test_spot_accepts_a_microsecond_timestamp() -> None:
    # Spot docs "Timing security": timestamp in milliseconds or microseconds.
    async with running() as (_sb, client):
        status, body, _ = await client.request(
            "GET", "/api/v3/account", {"recvWindow": "5000.5"}, signed=True, timestamp=int(time.time() * 1e6)
        )
        assert status == 200, body
