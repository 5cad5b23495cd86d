"""An in-process sandbox (seeded, simulated market) and a funded spot + USD-M account for the real
client libraries; every URL is on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.product import SandboxConfig
from support.sandbox_clients import Venue, clients

SPOT_FUNDS = {"USDT": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("20")}
FUTURES_FUNDS = {"USDT": Decimal("100000")}


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    config = SandboxConfig(simulator_interval_s=0.05, depth_fast_ms=50, depth_slow_ms=200)
    async with Sandbox(seed=14, config=config) as sb:
        key, secret = sb.create_account(SPOT_FUNDS, futures_balances=FUTURES_FUNDS)
        await _books_quoted(sb)
        yield Venue(sb, key, secret)


async def _books_quoted(sb: Sandbox, timeout_s: float = 10.0) -> None:
    """Wait until the simulated market makers quote both sides of every book (fails loudly)."""
    assert sb.futures is not None
    engines = (sb.spot.engine, sb.futures.exchange.engine)

    def quoted() -> bool:
        return all(b.best_bid() and b.best_ask() for e in engines for b in e.books.values())

    async with asyncio.timeout(timeout_s):
        while not quoted():  # noqa: ASYNC110 - the engine has no event for "book quoted"
            await asyncio.sleep(0.01)


async def _ccxt(venue: Venue, exchange_class: Any) -> AsyncIterator[Any]:
    exchange = clients.point_ccxt(
        exchange_class({"apiKey": venue.api_key, "secret": venue.secret}), **venue.urls
    )
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


@pytest.fixture
async def spot(venue: Venue) -> AsyncIterator[Any]:
    """ccxt.pro ``binance`` (REST and streams) on the sandbox, markets loaded."""
    async for exchange in _ccxt(venue, ccxtpro.binance):
        yield exchange


@pytest.fixture
async def usdm(venue: Venue) -> AsyncIterator[Any]:
    """ccxt.pro ``binanceusdm`` on the sandbox, markets loaded."""
    async for exchange in _ccxt(venue, ccxtpro.binanceusdm):
        yield exchange


@pytest.fixture
async def client(venue: Venue) -> AsyncIterator[Any]:
    """python-binance ``AsyncClient`` on the sandbox."""
    c = clients.python_binance(venue.api_key, venue.secret, rest=venue.sb.rest_url, spot_ws=venue.sb.ws_url)
    try:
        yield c
    finally:
        await c.close_connection()
