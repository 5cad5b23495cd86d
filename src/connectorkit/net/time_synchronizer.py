"""The offset between the local clock and the exchange's, for signed timestamps.

Each sample measures the exchange time once: ``offset = server_time - (t_sent + t_received) / 2``,
i.e. it assumes the server read its clock half-way through the round trip. The offset used is the
median of the last few samples, so one sample delayed on the way back (a GC pause, a slow packet)
does not move the signed timestamps.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_logger = logging.getLogger(__name__)


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
        offset = await self.measure_offset(time_provider)
        self.add_time_offset_sample(offset)
        return offset

    async def measure_offset(self, time_provider: Awaitable[float]) -> float:
        """One round-trip-corrected offset sample from ``time_provider``, without recording it."""
        sent = self._wall_clock()
        server_time = await time_provider
        received = self._wall_clock()
        return server_time - (sent + received) / 2


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

    The rejection shows the old samples are stale, so a successful resync replaces them all with
    the fresh sample; if the resync itself fails, its error is raised and the old samples are kept
    (a stale offset is still a better guess than none).
    """
    try:
        return await call()
    except Exception as exc:
        if not is_timestamp_error(exc):
            raise
    offset = await synchronizer.measure_offset(time_provider())
    synchronizer.clear_time_offset_samples()
    synchronizer.add_time_offset_sample(offset)
    _logger.info("The exchange rejected a timestamp; clock offset resynced to %.3fs, retrying once", offset)
    return await call()
