"""Spot market streams over real WebSockets: raw and combined endpoints, live subscriptions,
diff depth consistent with the REST snapshot, trades, book ticker; payloads compared with the docs."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import aiohttp
from sandbox_spot_support import FAST, assert_same_shape, fixture, running, seed_book

from connectorkit.sandbox import Sandbox
from support.waiting import subscribed


async def recv_json(ws: aiohttp.ClientWebSocketResponse, wait: float = 3.0) -> Any:
    msg = await ws.receive(timeout=wait)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def recv_until(ws: aiohttp.ClientWebSocketResponse, pred: Any, wait: float = 3.0) -> Any:
    async def loop() -> Any:
        while True:
            data = await recv_json(ws, wait)
            if pred(data):
                return data

    return await asyncio.wait_for(loop(), wait)


def place(sb: Sandbox, key: str, side: str, qty: str, price: str | None = None, type_: str = "LIMIT") -> Any:
    account = sb.accounts.by_key(key)
    assert account is not None
    return sb.spot.exchange.new_order(
        account,
        symbol="BTCUSDT",
        side=side,
        order_type=type_,
        time_in_force="GTC" if type_ == "LIMIT" else None,
        quantity=Decimal(qty),
        price=Decimal(price) if price else None,
    )


async def test_live_subscribe_list_unsubscribe_and_combined_property() -> None:
    async with running() as (sb, client), client.session.ws_connect(sb.ws_url + "/ws") as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@trade"], "id": 1})
        assert await recv_json(ws) == fixture("web_socket_streams__live_subscribing__subscribe_response")
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
        listed = await recv_json(ws)
        assert listed == {"result": ["btcusdt@aggTrade", "btcusdt@trade"], "id": 3}
        assert_same_shape(
            listed, fixture("web_socket_streams__live_subscribing__list_subscriptions_response")
        )
        await ws.send_json({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 4})
        assert await recv_json(ws) == {"result": None, "id": 4}
        await ws.send_json({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5})
        assert await recv_json(ws) == {"result": None, "id": 5}
        await ws.send_json({"method": "GET_PROPERTY", "params": ["combined"], "id": 6})
        assert await recv_json(ws) == {"result": True, "id": 6}
        await ws.send_json({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 7})
        assert await recv_json(ws) == {"code": 1, "msg": "Invalid value type: expected Boolean", "id": 7}
        await ws.send_str("{not json")
        assert (await recv_json(ws))["code"] == 3
        _key, _ = await seed_book(sb)
        place(sb, client.key, "BUY", "0.1", type_="MARKET")
        frame = await recv_json(ws)
        assert frame["stream"] == "btcusdt@aggTrade"  # combined now, and no @trade any more
        assert_same_shape(frame["data"], fixture("web_socket_streams__aggregate_trade_streams"))


async def test_raw_and_combined_trade_payloads() -> None:
    async with running() as (sb, client):
        _key, _ = await seed_book(sb)
        async with (
            client.session.ws_connect(sb.ws_url + "/ws/btcusdt@trade") as raw,
            client.session.ws_connect(
                sb.ws_url + "/stream?streams=btcusdt@trade/btcusdt@bookTicker"
            ) as combined,
        ):
            await subscribed(sb.spot.hub, "btcusdt@trade", "btcusdt@bookTicker")
            place(sb, client.key, "BUY", "0.1", type_="MARKET")
            trade = await recv_json(raw)
            assert_same_shape(trade, fixture("web_socket_streams__trade_streams"))
            assert (trade["s"], trade["p"], trade["q"], trade["m"]) == (
                "BTCUSDT",
                "30010.00000000",
                "0.10000000",
                False,
            )
            frame = await recv_until(combined, lambda d: d["stream"] == "btcusdt@trade")
            assert_same_shape(frame, fixture("web_socket_streams__combined_stream_payload"))
            assert frame["data"] == trade
            ticker = await recv_until(combined, lambda d: d["stream"] == "btcusdt@bookTicker")
            assert_same_shape(
                ticker["data"], fixture("web_socket_streams__individual_symbol_book_ticker_streams")
            )
            assert ticker["data"]["a"] == "30010.00000000" and ticker["data"]["A"] == "0.40000000"


async def test_agg_trade_groups_fills_of_one_taker_at_one_price() -> None:
    async with running() as (sb, client):
        maker_key, _ = sb.create_account({"BTC": Decimal("1")})
        for _ in range(3):
            place(sb, maker_key, "SELL", "0.01", "30000")
        place(sb, maker_key, "SELL", "0.01", "30001")
        async with client.session.ws_connect(sb.ws_url + "/ws/btcusdt@aggTrade") as ws:
            await subscribed(sb.spot.hub, "btcusdt@aggTrade")
            place(sb, client.key, "BUY", "0.04", type_="MARKET")
            first, second = await recv_json(ws), await recv_json(ws)
            assert (first["p"], first["q"], first["l"] - first["f"]) == ("30000.00000000", "0.03000000", 2)
            assert (second["p"], second["q"], second["f"], second["l"]) == (
                "30001.00000000",
                "0.01000000",
                first["l"] + 1,
                first["l"] + 1,
            )
            assert second["a"] == first["a"] + 1


async def test_diff_depth_keeps_a_local_book_equal_to_the_engine() -> None:
    """The documented procedure (buffer, snapshot, drop u <= lastUpdateId, bridge, then U == u+1)."""
    async with (
        running(simulate=True) as (sb, client),
        client.session.ws_connect(sb.ws_url + "/ws/btcusdt@depth@100ms") as ws,
    ):
        buffered = [await recv_json(ws) for _ in range(3)]
        snap = await client.ok("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5000})
        bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
        asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
        last = snap["lastUpdateId"]
        events = buffered + [await recv_json(ws) for _ in range(15)]
        applied = 0
        for ev in events:
            assert_same_shape(ev, fixture("web_socket_streams__diff_depth_stream"))
            if ev["u"] <= last:
                continue
            if applied == 0:
                assert ev["U"] <= last + 1 <= ev["u"], (ev["U"], last, ev["u"])
            else:
                assert ev["U"] == last + 1
            for side, book in (("b", bids), ("a", asks)):
                for p, q in ev[side]:
                    if Decimal(q) == 0:
                        book.pop(Decimal(p), None)
                    else:
                        book[Decimal(p)] = Decimal(q)
            last = ev["u"]
            applied += 1
        assert applied >= 10
        # Stop the market and let the last diff out: the local book must equal the engine's.
        sb.spot.simulator = None
        await sb.ctx.cancel_tasks()
        engine_book = sb.spot.engine.book("BTCUSDT")
        changes = engine_book.drain_changes()
        if changes is not None:
            for p, q in changes.bids:
                bids[p] = q
            for p, q in changes.asks:
                asks[p] = q
            assert changes.first_update_id == last + 1
        eb, ea = engine_book.depth()
        assert sorted(((p, q) for p, q in bids.items() if q), reverse=True) == eb
        assert sorted((p, q) for p, q in asks.items() if q) == ea


async def test_slow_depth_merges_fast_diffs_and_partial_depth() -> None:
    async with (
        running() as (sb, client),
        client.session.ws_connect(sb.ws_url + "/ws/btcusdt@depth") as slow,
        client.session.ws_connect(sb.ws_url + "/ws/btcusdt@depth5@100ms") as partial,
    ):
        await subscribed(sb.spot.hub, "btcusdt@depth", "btcusdt@depth5@100ms")
        # The market-data rounds driven by hand: two 100 ms rounds, each with one change, then the
        # 1000 ms round that must merge them (no timer decides which window an order falls in).
        await sb.ctx.cancel_tasks()
        place(sb, client.key, "BUY", "0.1", "29000")
        sb.spot.market_data.tick(slow=False)
        place(sb, client.key, "BUY", "0.2", "29000")
        sb.spot.market_data.tick(slow=False)
        sb.spot.market_data.tick(slow=True)
        ev = await recv_json(slow)
        assert ev["b"] == [["29000.00000000", "0.30000000"]]
        assert ev["u"] - ev["U"] == 1  # two 100 ms updates merged into one 1000 ms event
        top = await recv_until(partial, lambda d: d["bids"] and d["bids"][0][1] == "0.30000000")
        assert_same_shape(top, fixture("web_socket_streams__partial_book_depth_streams"))
        assert top["lastUpdateId"] == sb.spot.engine.book("BTCUSDT").update_id


async def test_simulated_market_is_deterministic_for_a_seed() -> None:
    async def run_steps() -> list[Any]:
        async with running(simulate=True, config=replace(FAST, simulator_interval_s=60)) as (sb, _):
            sim = sb.spot.simulator
            assert sim is not None and sim.steps == 0
            await sb.ctx.cancel_tasks()  # drive it by hand
            for _ in range(20):
                sim.step()
            return sb.spot.engine.book("BTCUSDT").depth(10)

    first, second = await run_steps(), await run_steps()
    assert first == second
    assert first[0] and first[1]


async def test_control_message_errors_are_the_documented_ones() -> None:
    # Spot docs "WebSocket Streams" → "Live Subscribing/Unsubscribing" (accepted ids) and "Error Messages".
    async with running() as (sb, client), client.session.ws_connect(sb.ws_url + "/ws") as ws:
        for good_id in (7, "abc-1", None):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": good_id})
            assert await recv_json(ws) == {"result": [], "id": good_id}
        bad_id = {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}
        for request in (
            {"method": "LIST_SUBSCRIPTIONS"},
            {"method": "LIST_SUBSCRIPTIONS", "id": 1.5},
            {"method": "LIST_SUBSCRIPTIONS", "id": "x" * 37},
            {"method": "LIST_SUBSCRIPTIONS", "id": True},
        ):
            await ws.send_json(request)
            assert await recv_json(ws) == bad_id, request
        await ws.send_json({"method": "SUBSCRIBES", "params": [], "id": 9})
        answer = await recv_json(ws)
        assert answer["code"] == 2
        assert answer["msg"].startswith(
            "Invalid request: unknown variant `SUBSCRIBES`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "
            "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"
        )
