"""Throttler benchmark: cost of one uncontended ``execute_task`` with many live grants (issue 5).

Run: ``python benchmarks/throttler.py [--live 1000 100000] [--repeat R]``.

Setup, identical for both implementations: an endpoint limit ``ORDER`` linked (weight 1) to a shared
``REQUEST_WEIGHT`` pool, both with room for every request, so no call ever waits. Before timing,
``live`` grants are made one ``dt`` apart on a hand-driven clock whose window is ``live * dt``; each
timed call then advances the clock by ``dt``, so exactly one grant expires per call and the number
of live grants stays at ``live`` for the whole measurement.

1. connectorkit's ``AsyncThrottler`` (``async with throttler.execute_task("ORDER"): pass``), as a
   NORMAL request and as a HIGH one (placement and cancellation, marked with ``request_priority``);
2. a naive baseline written here: each call drops expired grants and sums the weights of the live
   ones by scanning every logged grant of each pool (the obvious implementation, O(live) per call),
   behind the same async-context-manager interface.

It prints microseconds per call for each, and the ratio baseline / connectorkit. Each figure is the
best of ``--repeat`` runs (the machine is shared; the best run is the least disturbed). No
assertions: timing belongs here, not in the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from connectorkit.net.throttler import (
    AsyncThrottler,
    LinkedLimitWeightPair,
    RateLimit,
    RequestPriority,
    request_priority,
)

DT = 0.001  # seconds between two grants on the benchmark clock


class ManualClock:
    """The benchmark drives time by hand; an uncontended call never sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        raise RuntimeError("an uncontended call slept: the benchmark setup is wrong")


class _Throttler(Protocol):
    def execute_task(self, limit_id: str) -> _AsyncCM: ...


class _AsyncCM(Protocol):
    async def __aenter__(self) -> None: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class NaiveThrottler:
    """Scan-all baseline: every check filters and sums the whole log of each pool it touches."""

    def __init__(self, limits: list[RateLimit], clock: ManualClock) -> None:
        self._clock = clock
        self._limits = {rl.limit_id: rl for rl in limits}
        self._logs: dict[str, list[tuple[float, int]]] = {rl.limit_id: [] for rl in limits}

    def execute_task(self, limit_id: str) -> _NaiveTask:
        return _NaiveTask(self, limit_id)

    def log(self, pool_id: str) -> list[tuple[float, int]]:
        return self._logs[pool_id]

    def demands(self, limit_id: str) -> list[tuple[str, int]]:
        rl = self._limits[limit_id]
        return [(rl.limit_id, rl.weight)] + [(pair.limit_id, pair.weight) for pair in rl.linked_limits]

    async def acquire(self, limit_id: str) -> None:
        demands = self.demands(limit_id)
        while True:
            now = self._clock.time()
            fits = True
            for pool_id, weight in demands:
                interval = self._limits[pool_id].time_interval
                log = [entry for entry in self._logs[pool_id] if entry[0] + interval > now]
                self._logs[pool_id] = log
                if sum(w for _, w in log) + weight > self._limits[pool_id].limit:
                    fits = False
            if fits:
                for pool_id, weight in demands:
                    self._logs[pool_id].append((now, weight))
                return
            await self._clock.sleep(0.001)


class _NaiveTask:
    def __init__(self, throttler: NaiveThrottler, limit_id: str) -> None:
        self._throttler = throttler
        self._limit_id = limit_id

    async def __aenter__(self) -> None:
        await self._throttler.acquire(self._limit_id)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def _limits(live: int) -> list[RateLimit]:
    window = live * DT
    room = live + 10  # more than the live grants: nothing ever waits
    return [
        RateLimit("REQUEST_WEIGHT", room, window),
        RateLimit("ORDER", room, window, linked_limits=[LinkedLimitWeightPair("REQUEST_WEIGHT", 1)]),
    ]


async def _measure(throttler: _Throttler, clock: ManualClock, calls: int, high: bool = False) -> float:
    """Seconds per call (the window is already full of live grants)."""
    task = throttler.execute_task
    gc.collect()
    with request_priority(RequestPriority.HIGH if high else RequestPriority.NORMAL):
        started = time.perf_counter()
        for _ in range(calls):
            async with task("ORDER"):
                pass
            clock.now += DT
        return (time.perf_counter() - started) / calls


def _best(build: Callable[[ManualClock], _Throttler], calls: int, repeat: int, high: bool = False) -> float:
    best = float("inf")
    for _ in range(repeat):
        clock = ManualClock()
        throttler = build(clock)
        best = min(best, asyncio.run(_measure(throttler, clock, calls, high)))
    return best


def _filled_fast(clock: ManualClock, live: int) -> AsyncThrottler:
    throttler = AsyncThrottler(_limits(live), safety_margin_pct=0, clock=clock)
    for _ in range(live):
        if not throttler.try_acquire("ORDER"):
            raise RuntimeError("prefill denied: the benchmark setup is wrong")
        clock.now += DT
    return throttler


def _filled_naive(clock: ManualClock, live: int) -> NaiveThrottler:
    throttler = NaiveThrottler(_limits(live), clock)
    for _ in range(live):  # the same grants, logged directly (granting one by one would be O(live^2))
        for pool_id, weight in throttler.demands("ORDER"):
            throttler.log(pool_id).append((clock.now, weight))
        clock.now += DT
    return throttler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--live", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print("uncontended execute_task, own limit + 1 linked pool, live grants held constant")
    print(f"{'live grants':>12} {'connectorkit':>14} {'(HIGH)':>10} {'naive scan':>14} {'ratio':>9}")
    for live in args.live:
        fast_calls = 50_000
        naive_calls = max(50, min(5_000, 10_000_000 // live))

        def build_fast(clock: ManualClock, live: int = live) -> _Throttler:
            return _filled_fast(clock, live)

        def build_naive(clock: ManualClock, live: int = live) -> _Throttler:
            return _filled_naive(clock, live)

        fast = _best(build_fast, fast_calls, args.repeat)
        fast_high = _best(build_fast, fast_calls, args.repeat, high=True)
        naive = _best(build_naive, naive_calls, args.repeat)
        print(f"{live:>12,} {fast * 1e6:>11.2f} us {fast_high * 1e6:>7.2f} us {naive * 1e6:>11.2f} us "
              f"{naive / fast:>8.1f}x")


if __name__ == "__main__":
    main()
