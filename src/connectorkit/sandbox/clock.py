"""The sandbox's notion of time: wall clock in ms plus an injectable skew (clock-skew fault)."""

from __future__ import annotations

import time


class SandboxClock:
    def __init__(self) -> None:
        self.skew_ms = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms
