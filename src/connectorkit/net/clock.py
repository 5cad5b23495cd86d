"""The time source of the web layer, injectable so tests can run on virtual time.

The default :class:`LoopClock` reads the running event loop's monotonic clock and sleeps with
``asyncio.sleep``, so the two always agree; an event loop with a virtual clock therefore drives
everything built on it without real sleeping. Tests that need to set time by hand inject their own
:class:`Clock`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic time source in seconds and a matching sleep."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock (``loop.time()``) with ``asyncio.sleep``.

    Outside a running loop (e.g. a status query from synchronous code) it reads ``time.monotonic()``,
    which is what the standard event loops' ``time()`` returns.
    """

    def time(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
