"""Fake clocks for the web-layer tests."""

from __future__ import annotations

import asyncio


class SkipClock:
    """A clock whose ``sleep`` advances time at once and records how long it was asked to sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
