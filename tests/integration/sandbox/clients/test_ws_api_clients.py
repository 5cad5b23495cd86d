"""The spot WebSocket API driven by python-binance's ``ws_*`` methods and ccxt.pro's ``*_ws`` methods."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from binance.exceptions import BinanceAPIException

from support.sandbox_clients import Venue, clients


async def test_python_binance_ws_api(venue: Venue) -> None:
    client = clients.python_binance(
        venue.api_key, venue.secret, rest=venue.sb.rest_url, spot_ws=venue.sb.ws_url
    )
    try:
        book = await asyncio.wait_for(client.ws_get_order_book(symbol="BTCUSDT", limit=5), 10)
        assert len(book["bids"]) <= 5 and book["lastUpdateId"] > 0
        price = await client.ws_get_symbol_ticker(symbol="BTCUSDT")
        assert price["symbol"] == "BTCUSDT" and Decimal(price["price"]) > 0
        limit_price = (Decimal(book["bids"][0][0]) * Decimal("0.9")).quantize(Decimal("0.01"))
        placed = await client.ws_create_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price=str(limit_price),
        )
        assert placed["status"] == "NEW" and placed["fills"] == []
        status = await client.ws_get_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert status["status"] == "NEW" and status["price"] == f"{limit_price:.8f}"
        opened = await client.ws_get_open_orders(symbol="BTCUSDT")
        assert [o["orderId"] for o in opened] == [placed["orderId"]]
        canceled = await client.ws_cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert canceled["status"] == "CANCELED"
        market = await client.ws_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert market["status"] == "FILLED" and market["fills"]
        account = await client.ws_get_account(omitZeroBalances="true")
        btc = next(b for b in account["balances"] if b["asset"] == "BTC")
        assert Decimal(btc["free"]) > 2
        with pytest.raises(BinanceAPIException) as unknown:
            await client.ws_get_order(symbol="BTCUSDT", orderId=10**9)
        assert unknown.value.code == -2013
        with pytest.raises(BinanceAPIException) as off_step:
            await client.ws_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.000001")
        assert off_step.value.code == -1013  # LOT_SIZE
    finally:
        await client.close_connection()


async def test_ccxt_pro_ws_trading(venue: Venue) -> None:
    exchange: Any = clients.point_ccxt(
        ccxtpro.binance({"apiKey": venue.api_key, "secret": venue.secret}), **venue.urls
    )
    try:
        await exchange.load_markets()
        book = await exchange.fetch_order_book("BTC/USDT", limit=5)
        order = await asyncio.wait_for(
            exchange.create_order_ws("BTC/USDT", "limit", "buy", 0.001, round(book["bids"][0][0] * 0.9, 2)),
            10,
        )
        assert order["status"] == "open"
        fetched = await exchange.fetch_order_ws(order["id"], "BTC/USDT")
        assert fetched["id"] == order["id"]
        assert [o["id"] for o in await exchange.fetch_open_orders_ws("BTC/USDT")] == [order["id"]]
        assert (await exchange.cancel_order_ws(order["id"], "BTC/USDT"))["status"] == "canceled"
        # (fetch_balance_ws is left out: ccxt 4.5 reads spot account.status's balances from "assets",
        # the USD-M WS-API field; the sandbox answers the spot shape, "balances", as Binance does.)
        trades = await exchange.fetch_my_trades_ws("BTC/USDT")
        assert trades == []
    finally:
        await exchange.close()
