"""An in-process sandbox (seeded, simulated market) and a funded spot + USD-M account for the real
client libraries; every URL is on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.product import SandboxConfig
from support.sandbox_clients import Venue

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
