"""Real ccxt (``binance``, REST) against the in-process sandbox, configured as the README says."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from support.sandbox_clients import Venue

SYMBOL = "BTC/USDT"


async def test_load_markets_serves_the_sapi_calls_and_the_spot_symbols(spot: Any) -> None:
    markets = spot.markets
    assert {"BTC/USDT", "ETH/USDT", "BTC/USDT:USDT"} <= set(markets)
    assert markets[SYMBOL]["spot"] and not markets[SYMBOL]["margin"]
    assert {"BTC", "USDT", "ETH"} <= set(spot.currencies)
    assert (await spot.fetch_status())["status"] == "ok"
    fees = await spot.fetch_trading_fees()
    assert fees[SYMBOL]["maker"] == pytest.approx(0.001)


async def test_market_data_comes_from_the_simulated_history(spot: Any, venue: Venue) -> None:
    candles = await spot.fetch_ohlcv(SYMBOL, "1m", limit=500)
    assert len(candles) == 500
    times = [c[0] for c in candles]
    assert all(b - a == 60_000 for a, b in itertools.pairwise(times))
    assert all(low <= min(o, c) and high >= max(o, c) for _, o, high, low, c, _ in candles)
    assert sum(c[5] for c in candles) > 0
    hourly = await spot.fetch_ohlcv(SYMBOL, "1h", limit=10)
    assert len(hourly) == 10 and all(t % 3_600_000 == 0 for t, *_ in hourly)
    since = times[100]
    page = await spot.fetch_ohlcv(SYMBOL, "1m", since=since, limit=5)
    assert [c[0] for c in page] == times[100:105]

    ticker = await spot.fetch_ticker(SYMBOL)
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["bid"] < ticker["ask"]
    assert ticker["baseVolume"] > 0
    tickers = await spot.fetch_tickers()
    assert {"BTC/USDT", "ETH/USDT"} <= set(tickers)
    trades = await spot.fetch_trades(SYMBOL, limit=20)
    assert len(trades) == 20 and all(t["price"] > 0 for t in trades)
    book = await spot.fetch_order_book(SYMBOL, limit=5)
    assert book["bids"][0][0] < book["asks"][0][0]


async def test_own_trade_shows_in_trades_klines_and_24h_statistics(spot: Any, venue: Venue) -> None:
    before = await spot.fetch_ticker(SYMBOL)
    order = await spot.create_order(SYMBOL, "market", "buy", 0.001)
    assert order["status"] == "closed" and order["filled"] == pytest.approx(0.001)
    mine = await spot.fetch_my_trades(SYMBOL)
    ids = {t["id"] for t in mine}
    public = await spot.fetch_trades(SYMBOL, limit=1000)
    assert ids <= {t["id"] for t in public}
    after = await spot.fetch_ticker(SYMBOL)
    assert after["baseVolume"] - before["baseVolume"] >= 0.001 - 1e-9
    last_candle = (await spot.fetch_ohlcv(SYMBOL, "1m", limit=1))[0]
    assert last_candle[5] >= 0.001 - 1e-9


async def test_orders_of_every_type_cancels_and_order_queries(spot: Any, venue: Venue) -> None:
    book = await spot.fetch_order_book(SYMBOL, limit=5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    resting = await spot.create_order(SYMBOL, "limit", "buy", 0.01, round(bid * 0.9, 2))
    assert resting["status"] == "open"
    maker = await spot.create_order(SYMBOL, "limit", "sell", 0.01, round(ask * 1.1, 2), {"postOnly": True})
    assert maker["status"] == "open" and maker["postOnly"]
    ioc = await spot.create_order(SYMBOL, "limit", "buy", 0.01, round(bid * 0.9, 2), {"timeInForce": "IOC"})
    assert ioc["status"] in ("canceled", "expired") and ioc["filled"] == 0
    fok = await spot.create_order(SYMBOL, "limit", "buy", 0.001, round(ask * 1.05, 2), {"timeInForce": "FOK"})
    assert fok["status"] == "closed" and fok["filled"] == pytest.approx(0.001)
    by_cost = await spot.create_market_buy_order_with_cost(SYMBOL, 20)
    assert by_cost["cost"] == pytest.approx(20, rel=0.01)
    sold = await spot.create_order(SYMBOL, "market", "sell", 0.001)
    assert sold["status"] == "closed"

    open_ids = {o["id"] for o in await spot.fetch_open_orders(SYMBOL)}
    assert open_ids == {resting["id"], maker["id"]}
    fetched = await spot.fetch_order(resting["id"], SYMBOL)
    assert fetched["price"] == resting["price"] and fetched["status"] == "open"
    canceled = await spot.cancel_order(resting["id"], SYMBOL)
    assert canceled["status"] == "canceled"
    await spot.cancel_all_orders(SYMBOL)
    assert await spot.fetch_open_orders(SYMBOL) == []
    closed = await spot.fetch_closed_orders(SYMBOL)  # ccxt: "closed" = filled
    assert {o["id"] for o in closed} == {fok["id"], by_cost["id"], sold["id"]}
    every = {o["id"]: o["status"] for o in await spot.fetch_orders(SYMBOL)}
    assert every[resting["id"]] == every[maker["id"]] == "canceled"
    assert every[ioc["id"]] in ("canceled", "expired") and len(every) == 6
    trades = await spot.fetch_my_trades(SYMBOL)
    assert {t["order"] for t in trades} == {fok["id"], by_cost["id"], sold["id"]}


async def test_balances_follow_the_fills(spot: Any, venue: Venue) -> None:
    start = await spot.fetch_balance()
    assert Decimal(str(start["BTC"]["free"])) == Decimal(2)
    assert Decimal(str(start["USDT"]["total"])) == Decimal(100000)
    book = await spot.fetch_order_book(SYMBOL, limit=5)
    price = round(book["bids"][0][0] * 0.9, 2)
    await spot.create_order(SYMBOL, "limit", "buy", 0.01, price)
    locked = await spot.fetch_balance()
    assert locked["USDT"]["used"] == pytest.approx(price * 0.01)
