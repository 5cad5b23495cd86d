"""The offset between the local clock and the exchange's, for signed timestamps.

Each sample measures the exchange time once: ``offset = server_time - (t_sent + t_received) / 2``,
i.e. it assumes the server read its clock half-way through the round trip. The offset used is the
median of the last few samples, so one sample delayed on the way back (a GC pause, a slow packet)
does not move the signed timestamps.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class TimeSynchronizer:
    """Exchange time = local wall clock + median offset of the last ``max_samples`` samples.

    All times are in seconds (convert the exchange's milliseconds before handing them over).

    :param wall_clock: the local UNIX-seconds clock (injectable for tests).
    """

    def __init__(self, max_samples: int = 5, *, wall_clock: Callable[[], float] = time.time) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be >= 1")
        self._samples: deque[float] = deque(maxlen=max_samples)
        self._wall_clock = wall_clock

    @property
    def has_samples(self) -> bool:
        return bool(self._samples)

    @property
    def time_offset(self) -> float:
        """Seconds to add to the local clock to get the exchange's (0.0 before any sample)."""
        return statistics.median(self._samples) if self._samples else 0.0

    def time(self) -> float:
        """The exchange's current time in UNIX seconds, as best known."""
        return self._wall_clock() + self.time_offset

    def add_time_offset_sample(self, offset: float) -> None:
        self._samples.append(offset)

    def clear_time_offset_samples(self) -> None:
        """Forget all samples (before a resync, e.g. after the exchange rejected a timestamp)."""
        self._samples.clear()

    async def update_server_time_offset_with_time_provider(self, time_provider: Awaitable[float]) -> float:
        """Await ``time_provider`` (the exchange's time in seconds, e.g. from its server-time
        endpoint), add one round-trip-corrected sample and return it."""
        sent = self._wall_clock()
        server_time = await time_provider
        received = self._wall_clock()
        offset = server_time - (sent + received) / 2
        self.add_time_offset_sample(offset)
        return offset


async def call_with_time_resync(
    call: Callable[[], Awaitable[T]],
    *,
    synchronizer: TimeSynchronizer,
    time_provider: Callable[[], Awaitable[float]],
    is_timestamp_error: Callable[[BaseException], bool],
) -> T:
    """Run ``call``; if the exchange rejects its timestamp, resync the clock and retry once.

    ``call`` must build and sign its request anew on each invocation, so the retry carries a fresh
    timestamp. ``is_timestamp_error`` is the connector's classification (e.g. Binance code -1021,
    "Timestamp for this request is outside of the recvWindow"). A second rejection is raised.
    """
    try:
        return await call()
    except Exception as exc:
        if not is_timestamp_error(exc):
            raise
    synchronizer.clear_time_offset_samples()
    await synchronizer.update_server_time_offset_with_time_provider(time_provider())
    return await call()
