"""Real ccxt (``binanceusdm``, REST) against the in-process sandbox, configured as the README says."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from ccxt.base.errors import ExchangeError

from support.sandbox_clients import Venue

SYMBOL = "BTC/USDT:USDT"


async def test_market_data_and_funding(usdm: Any) -> None:
    candles = await usdm.fetch_ohlcv(SYMBOL, "1m", limit=500)
    assert len(candles) == 500 and sum(c[5] for c in candles) > 0
    assert all(b[0] - a[0] == 60_000 for a, b in itertools.pairwise(candles))
    daily = await usdm.fetch_ohlcv(SYMBOL, "1d", limit=3)
    assert daily and all(t % 86_400_000 == 0 for t, *_ in daily)
    ticker = await usdm.fetch_ticker(SYMBOL)
    assert ticker["low"] <= ticker["last"] <= ticker["high"] and ticker["baseVolume"] > 0
    assert set(await usdm.fetch_tickers()) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    trades = await usdm.fetch_trades(SYMBOL, limit=50)
    assert len(trades) == 50
    rate = await usdm.fetch_funding_rate(SYMBOL)
    assert rate["fundingRate"] is not None
    history = await usdm.fetch_funding_rate_history(SYMBOL)
    assert history and all(h["timestamp"] % (8 * 3_600_000) == 0 for h in history)


async def test_orders_positions_and_trades(usdm: Any) -> None:
    book = await usdm.fetch_order_book(SYMBOL, limit=5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    resting = await usdm.create_order(SYMBOL, "limit", "buy", 0.01, round(bid * 0.9, 1))
    post_only = await usdm.create_order(
        SYMBOL, "limit", "sell", 0.01, round(ask * 1.1, 1), {"postOnly": True}
    )
    bought = await usdm.create_order(SYMBOL, "market", "buy", 0.002)
    assert bought["status"] == "closed" and bought["filled"] == pytest.approx(0.002)
    open_ids = {o["id"] for o in await usdm.fetch_open_orders(SYMBOL)}
    assert open_ids == {resting["id"], post_only["id"]}
    assert (await usdm.cancel_order(resting["id"], SYMBOL))["status"] == "canceled"
    await usdm.cancel_all_orders(SYMBOL)
    every = {o["id"]: o["status"] for o in await usdm.fetch_orders(SYMBOL)}
    assert every == {resting["id"]: "canceled", post_only["id"]: "canceled", bought["id"]: "closed"}
    assert [o["id"] for o in await usdm.fetch_closed_orders(SYMBOL)] == [bought["id"]]
    mine = await usdm.fetch_my_trades(SYMBOL)
    assert {t["order"] for t in mine} == {bought["id"]}
    positions = [p for p in await usdm.fetch_positions([SYMBOL]) if p["contracts"]]
    assert len(positions) == 1 and positions[0]["side"] == "long"
    assert positions[0]["contracts"] == pytest.approx(0.002)
    closing = await usdm.create_order(SYMBOL, "market", "sell", 0.002, None, {"reduceOnly": True})
    assert closing["status"] == "closed" and closing["reduceOnly"]
    assert not [p for p in await usdm.fetch_positions([SYMBOL]) if p["contracts"]]
    balance = await usdm.fetch_balance()
    assert 99_000 < balance["USDT"]["total"] < 100_001


async def test_leverage_margin_type_position_mode(usdm: Any) -> None:
    await usdm.set_leverage(7, SYMBOL)
    assert (await usdm.fetch_leverage(SYMBOL))["longLeverage"] == 7
    leverages = await usdm.fetch_leverages([SYMBOL])
    assert leverages[SYMBOL]["marginMode"] == "cross"
    tiers = await usdm.fetch_leverage_tiers([SYMBOL])
    assert tiers[SYMBOL][0]["maxLeverage"] == 125
    await usdm.set_margin_mode("isolated", SYMBOL)
    assert (await usdm.fetch_leverage(SYMBOL))["marginMode"] == "isolated"
    with pytest.raises(ExchangeError, match="No need to change margin type"):
        await usdm.set_margin_mode("isolated", SYMBOL)
    await usdm.set_margin_mode("cross", SYMBOL)
    await usdm.set_position_mode(True)
    assert (await usdm.fetch_position_mode(SYMBOL))["hedged"] is True
    await usdm.set_position_mode(False)
    assert (await usdm.fetch_position_mode(SYMBOL))["hedged"] is False


async def test_funding_payments_show_in_funding_history(usdm: Any, venue: Venue) -> None:
    assert venue.sb.futures is not None
    history = await usdm.fetch_funding_history(SYMBOL)
    assert history == []  # no position, no payment
    await usdm.create_order(SYMBOL, "market", "buy", 0.002)
    ex = venue.sb.futures.exchange
    ex.marks["BTCUSDT"].next_funding_time = venue.sb.clock.now_ms()
    assert ex.settle_funding() > 0
    paid = await usdm.fetch_funding_history(SYMBOL)
    assert len(paid) == 1 and paid[0]["amount"] != 0
    rates = await usdm.fetch_funding_rate_history(SYMBOL)
    assert rates[-1]["timestamp"] == paid[0]["timestamp"]
