"""Fake clocks: for the web-layer tests, and one that holds the sandbox's clock."""

from __future__ import annotations

import asyncio

import pytest

from connectorkit.sandbox.clock import SandboxClock


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


class HeldSandboxClock:
    """Holds a sandbox's wall clock (:class:`~connectorkit.sandbox.clock.SandboxClock`) at ``now_ms``
    until :meth:`advance` moves it: every part of the sandbox reads that one clock, so rate-limit
    windows, listen-key validity and funding then follow the test, not the machine's speed. The
    clock-skew fault still applies on top."""

    def __init__(self, clock: SandboxClock, monkeypatch: pytest.MonkeyPatch, now_ms: int) -> None:
        self.now = now_ms
        monkeypatch.setattr(clock, "now_ms", lambda: self.now + clock.skew_ms)

    def advance(self, ms: int) -> None:
        self.now += ms
