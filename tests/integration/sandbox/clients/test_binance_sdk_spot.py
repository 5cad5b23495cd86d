"""Binance's official Spot SDK (binance-sdk-spot: REST, WebSocket API, WebSocket streams) on the sandbox,
configured as the README says. Its REST client is synchronous (requests): it runs in a worker thread
so that the in-process sandbox keeps serving on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from support.sandbox_clients import Venue, clients

T = TypeVar("T")


async def in_thread(call: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, call)


async def test_rest(venue: Venue) -> None:
    rest = clients.binance_sdk_spot(
        venue.api_key, venue.secret, rest=venue.sb.rest_url, spot_ws=venue.sb.ws_url
    ).rest_api
    ticker = (await in_thread(lambda: rest.ticker24hr(symbol="BTCUSDT"))).data().actual_instance
    assert ticker.symbol == "BTCUSDT" and ticker.count > 0
    rolling = (
        (await in_thread(lambda: rest.ticker(symbol="BTCUSDT", window_size="1h"))).data().actual_instance
    )
    assert rolling.close_time - rolling.open_time <= 3_600_000 + 59_999
    klines = (await in_thread(lambda: rest.klines(symbol="BTCUSDT", interval="1m", limit=500))).data()
    assert len(klines) == 500
    ui = (await in_thread(lambda: rest.ui_klines(symbol="BTCUSDT", interval="1h", limit=2))).data()
    assert len(ui) == 2
    trades = (await in_thread(lambda: rest.get_trades(symbol="BTCUSDT", limit=3))).data()
    aggs = (await in_thread(lambda: rest.agg_trades(symbol="BTCUSDT", limit=3))).data()
    assert len(trades) == len(aggs) == 3
    avg = (await in_thread(lambda: rest.avg_price(symbol="BTCUSDT"))).data()
    assert avg.mins == 5 and Decimal(avg.price) > 0
    order = (
        await in_thread(lambda: rest.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.001))
    ).data()
    assert order.status == "FILLED"
    orders = (await in_thread(lambda: rest.all_orders(symbol="BTCUSDT"))).data()
    assert [o.order_id for o in orders] == [order.order_id]
    mine = (await in_thread(lambda: rest.my_trades(symbol="BTCUSDT"))).data()
    assert {t.order_id for t in mine} == {order.order_id}
    commission = (await in_thread(lambda: rest.account_commission(symbol="BTCUSDT"))).data()
    assert commission.standard_commission.taker == "0.00100000"
    account = (await in_thread(lambda: rest.get_account())).data()
    assert {b.asset for b in account.balances} >= {"BTC", "USDT"}


async def test_websocket_api_and_streams(venue: Venue) -> None:
    sdk = clients.binance_sdk_spot(
        venue.api_key, venue.secret, rest=venue.sb.rest_url, spot_ws=venue.sb.ws_url
    )
    ws = await sdk.websocket_api.create_connection()
    try:
        depth = (await ws.depth(symbol="BTCUSDT", limit=5)).data().result
        assert len(depth.bids) <= 5
        price = (await ws.ticker_price(symbol="BTCUSDT")).data().actual_instance.result
        assert Decimal(price.price) > 0
        limit = (Decimal(depth.bids[0][0]) * Decimal("0.9")).quantize(Decimal("0.01"))
        placed = (
            (
                await ws.order_place(
                    symbol="BTCUSDT",
                    side="BUY",
                    type="LIMIT",
                    time_in_force="GTC",
                    quantity=0.001,
                    price=float(limit),
                )
            )
            .data()
            .result
        )
        status = (await ws.order_status(symbol="BTCUSDT", order_id=placed.order_id)).data().result
        assert status.status == "NEW"
        opened = (await ws.open_orders_status(symbol="BTCUSDT")).data().result
        assert [o.order_id for o in opened] == [placed.order_id]
        canceled = (await ws.order_cancel(symbol="BTCUSDT", order_id=placed.order_id)).data().result
        assert canceled.status == "CANCELED"
        account = (await ws.account_status()).data().result
        assert {b.asset for b in account.balances} >= {"BTC", "USDT"}
    finally:
        await ws.close_connection()
    streams = await sdk.websocket_streams.create_connection()
    try:
        got: dict[str, Any] = {}
        done = asyncio.Event()

        def keep(name: str) -> Callable[[Any], None]:
            def on_message(data: Any) -> None:
                got.setdefault(name, data)
                if len(got) == 2:
                    done.set()

            return on_message

        (await streams.kline(symbol="btcusdt", interval="1m")).on("message", keep("kline"))
        (await streams.ticker(symbol="btcusdt")).on("message", keep("ticker"))
        await asyncio.wait_for(done.wait(), 15)
        assert got["kline"].k.i == "1m" and got["ticker"].s == "BTCUSDT"
    finally:
        await streams.close_connection()
