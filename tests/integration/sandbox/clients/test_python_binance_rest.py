"""Real python-binance (AsyncClient, REST) against the in-process sandbox, configured as the README says."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from binance.exceptions import BinanceAPIException

from support.sandbox_clients import Venue


async def test_spot_market_data(client: Any) -> None:
    klines = await client.get_klines(symbol="BTCUSDT", interval="1m", limit=500)
    assert len(klines) == 500 and all(len(k) == 12 for k in klines)
    assert all(isinstance(k[1], str) and Decimal(k[3]) <= Decimal(k[1]) <= Decimal(k[2]) for k in klines)
    seconds = await client.get_klines(symbol="BTCUSDT", interval="1s", limit=5)
    assert seconds and all(k[6] - k[0] == 999 for k in seconds)
    ui = await client.get_ui_klines(symbol="BTCUSDT", interval="5m", limit=3)
    assert len(ui) == 3 and ui[1][0] - ui[0][0] == 300_000
    ticker = await client.get_ticker(symbol="BTCUSDT")
    assert int(ticker["count"]) > 0 and ticker["lastId"] >= ticker["firstId"]
    all_tickers = await client.get_ticker()
    assert {t["symbol"] for t in all_tickers} == {"BTCUSDT", "ETHUSDT"}
    rolling = await client.get_symbol_ticker_window(symbol="BTCUSDT", windowSize="2h")
    assert rolling["closeTime"] - rolling["openTime"] <= 2 * 3_600_000 + 59_999
    avg = await client.get_avg_price(symbol="BTCUSDT")
    assert avg["mins"] == 5 and Decimal(avg["price"]) > 0
    recent = await client.get_recent_trades(symbol="BTCUSDT", limit=10)
    assert len(recent) == 10
    aggs = await client.get_aggregate_trades(symbol="BTCUSDT", fromId=recent[0]["id"], limit=3)
    assert [a["a"] for a in aggs] == sorted(a["a"] for a in aggs) and len(aggs) == 3
    with pytest.raises(BinanceAPIException) as bad:
        await client.get_klines(symbol="BTCUSDT", interval="7m")
    assert bad.value.code == -1120


async def test_spot_orders(client: Any) -> None:
    book = await client.get_order_book(symbol="BTCUSDT", limit=5)
    price = (Decimal(book["bids"][0][0]) * Decimal("0.9")).quantize(Decimal("0.01"))
    order = await client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=str(price))
    assert order["status"] == "NEW"
    filled = await client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
    assert filled["status"] == "FILLED"
    assert [o["orderId"] for o in await client.get_open_orders(symbol="BTCUSDT")] == [order["orderId"]]
    await client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
    every = await client.get_all_orders(symbol="BTCUSDT")
    assert [(o["orderId"], o["status"]) for o in every] == [
        (order["orderId"], "CANCELED"),
        (filled["orderId"], "FILLED"),
    ]
    account = await client.get_account()
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    assert Decimal(btc["free"]) > 2


async def test_usdm_futures(client: Any) -> None:
    klines = await client.futures_klines(symbol="ETHUSDT", interval="15m", limit=20)
    assert len(klines) == 20
    ticker = await client.futures_ticker(symbol="ETHUSDT")
    assert ticker["symbol"] == "ETHUSDT" and "bidPrice" not in ticker
    brackets = await client.futures_leverage_bracket(symbol="ETHUSDT")
    assert brackets["brackets"][0]["initialLeverage"] == 100
    assert await client.futures_change_margin_type(symbol="ETHUSDT", marginType="ISOLATED") == {
        "code": 200,
        "msg": "success",
    }
    with pytest.raises(BinanceAPIException) as unchanged:
        await client.futures_change_margin_type(symbol="ETHUSDT", marginType="ISOLATED")
    assert unchanged.value.code == -4046
    order = await client.futures_create_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert order["status"] == "NEW"  # ACK, as on Binance
    with pytest.raises(BinanceAPIException) as with_position:
        await client.futures_change_margin_type(symbol="ETHUSDT", marginType="CROSSED")
    assert with_position.value.code == -4048
    assert [o["orderId"] for o in await client.futures_get_all_orders(symbol="ETHUSDT")] == [order["orderId"]]
    trades = await client.futures_account_trades(symbol="ETHUSDT")
    assert {t["orderId"] for t in trades} == {order["orderId"]}
    funding = await client.futures_funding_rate(symbol="ETHUSDT", limit=2)
    assert len(funding) <= 2 and all(
        set(f) == {"symbol", "fundingRate", "fundingTime", "markPrice"} for f in funding
    )
    agg = await client.futures_aggregate_trades(symbol="ETHUSDT", limit=5)
    assert len(agg) == 5
    recent = await client.futures_recent_trades(symbol="ETHUSDT", limit=5)
    assert len(recent) == 5 and "isBestMatch" not in recent[0]


async def test_unknown_paths_answer_json(client: Any, venue: Venue) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{venue.sb.rest_url}/api/v3/nothingHere") as resp:
            assert resp.status == 404
            assert resp.content_type == "application/json"
            assert await resp.json() == {"code": -1099, "msg": "Not found, authenticated, or authorized."}
        async with session.patch(f"{venue.sb.rest_url}/api/v3/order") as resp:
            assert resp.status == 405
            assert (await resp.json())["code"] == -1020
        async with session.get(f"{venue.sb.futures_ws_url.replace('ws://', 'http://')}/nothing") as resp:
            assert resp.status == 404 and (await resp.json())["code"] == -1099
