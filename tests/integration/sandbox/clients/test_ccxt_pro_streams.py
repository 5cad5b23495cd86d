"""Real ccxt.pro (``binance`` and ``binanceusdm``) market and user streams against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


async def within(awaitable: Awaitable[T], seconds: float = 15.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


@pytest.mark.parametrize("symbol_kind", ["spot", "usdm"])
async def test_market_streams(symbol_kind: str, spot: Any, usdm: Any) -> None:
    exchange, symbol = (spot, SPOT) if symbol_kind == "spot" else (usdm, PERP)
    ticker = await within(exchange.watch_ticker(symbol))
    assert ticker["symbol"] == symbol and ticker["low"] <= ticker["last"] <= ticker["high"]
    tickers = await within(exchange.watch_tickers([symbol]))
    assert symbol in tickers
    candles = await within(exchange.watch_ohlcv(symbol, "1m"))
    assert candles and candles[-1][0] % 60_000 == 0 and candles[-1][5] >= 0
    trades = await within(exchange.watch_trades(symbol))
    assert trades and all(t["symbol"] == symbol and t["price"] > 0 for t in trades)
    book = await within(exchange.watch_order_book(symbol))
    assert book["bids"][0][0] < book["asks"][0][0]
    bids_asks = await within(exchange.watch_bids_asks([symbol]))
    assert bids_asks[symbol]["bid"] < bids_asks[symbol]["ask"]


async def test_spot_user_streams(spot: Any) -> None:
    balance_task = asyncio.create_task(spot.watch_balance(), name="watch-balance")
    orders_task = asyncio.create_task(spot.watch_orders(SPOT), name="watch-orders")
    trades_task = asyncio.create_task(spot.watch_my_trades(SPOT), name="watch-my-trades")
    await asyncio.sleep(0)  # let the three subscriptions go out before the order
    try:
        book = await spot.fetch_order_book(SPOT, limit=5)
        order = await spot.create_order(SPOT, "market", "buy", 0.001)
        orders = await within(orders_task)
        assert order["id"] in {o["id"] for o in orders}
        my_trades = await within(trades_task)
        assert {t["order"] for t in my_trades} == {order["id"]}
        balance = await within(balance_task)
        assert "BTC" in balance or "USDT" in balance
        assert book["asks"]
    finally:
        for task in (balance_task, orders_task, trades_task):
            task.cancel()
        await asyncio.gather(balance_task, orders_task, trades_task, return_exceptions=True)


async def test_usdm_user_streams(usdm: Any) -> None:
    orders_task = asyncio.create_task(usdm.watch_orders(PERP), name="watch-orders")
    positions_task = asyncio.create_task(usdm.watch_positions([PERP]), name="watch-positions")
    balance_task = asyncio.create_task(usdm.watch_balance(), name="watch-balance")
    await asyncio.sleep(0)
    try:
        order = await usdm.create_order(PERP, "market", "buy", 0.002)
        orders = await within(orders_task)
        assert order["id"] in {o["id"] for o in orders}
        positions = await within(positions_task)
        assert any(p["symbol"] == PERP and p["contracts"] for p in positions)
        balance = await within(balance_task)
        assert balance["USDT"]["total"] is not None
    finally:
        for task in (orders_task, positions_task, balance_task):
            task.cancel()
        await asyncio.gather(orders_task, positions_task, balance_task, return_exceptions=True)
