"""Background loops of the sandbox survive a failing round: logged, counted, and the loop goes on."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from decimal import Decimal as D

import pytest

from connectorkit.sandbox.engine import Side
from connectorkit.sandbox.product import Repeater
from connectorkit.sandbox.simulator import MarketSimulator, SimMarket
from support.waiting import wait_until


async def _until(predicate: Callable[[], bool]) -> None:
    await wait_until(predicate, 5, "the loop to go on")


async def test_repeater_logs_counts_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def step() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("boom")

    repeater = Repeater("test loop", 0.001, step)
    task = asyncio.create_task(repeater.run(), name="test-repeater")
    with caplog.at_level(logging.ERROR):
        await _until(lambda: len(calls) >= 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert repeater.failures == 1
    assert "test loop failed" in caplog.text and "boom" in caplog.text


class _FlakyVenue:
    """A venue whose first quote fails with a bug (not an ApiError)."""

    def __init__(self) -> None:
        self.quotes = 0
        self.ids = iter(range(1, 10_000))

    def sim_quote(self, account_id: int, symbol: str, side: Side, price: D, qty: D) -> int | None:
        self.quotes += 1
        if self.quotes == 1:
            raise RuntimeError("venue bug")
        return next(self.ids)

    def sim_cancel(self, account_id: int, symbol: str, order_id: int) -> None:
        pass

    def sim_take(self, account_id: int, symbol: str, side: Side, qty: D) -> None:
        pass


async def test_simulator_keeps_running_after_a_failing_step() -> None:
    venue = _FlakyVenue()
    market = SimMarket("BTCUSDT", D("0.01"), D("0.001"), D("0.001"), D("5"), D("30000"), D("0.001"))
    sim = MarketSimulator(venue, [market], random.Random(1), 1, 2)
    task = asyncio.create_task(sim.run(0.001), name="test-simulator")
    await _until(lambda: sim.steps >= 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert venue.quotes > 10
