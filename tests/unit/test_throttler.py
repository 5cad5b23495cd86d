"""AsyncThrottler: exact pass/deny sequences, fairness, 429 pauses and the sliding-window invariant.

Exact sequences use a hand-set clock and ``try_acquire``; anything that waits runs on an event loop
whose clock is virtual (it jumps to the next timer instead of sleeping), so no test sleeps for real.
"""

from __future__ import annotations

import asyncio
import logging
import random
import selectors
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectorkit.net.errors import RateLimitConfigError, UnknownRateLimitIdError
from connectorkit.net.throttler import (
    AsyncThrottler,
    LinkedLimitWeightPair,
    RateLimit,
    RequestPriority,
    request_priority,
    usable_limit,
)

T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):
    """Never blocks while timers are pending: it advances the loop's virtual clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready or timeout is None or timeout <= 0:
            return ready if ready or timeout is not None else super().select(None)
        self._loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._now = 1000.0
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


class ManualClock:
    """Time set by the test; sleeping is not allowed (exact-sequence tests never wait)."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - a failing test would reach it
        raise AssertionError("ManualClock cannot sleep")


def _throttler(limits: list[RateLimit], **kwargs: Any) -> tuple[AsyncThrottler, ManualClock]:
    clock = ManualClock()
    kwargs.setdefault("safety_margin_pct", 0)
    return AsyncThrottler(limits, clock=clock, **kwargs), clock


# --------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("limit", "share", "margin", "expected"),
    [
        (1200, "100", "0.05", 1140),
        (10, "100", "0.05", 9),  # 9.5 rounds down
        (6000, "50", "0.05", 2850),
        (6000, "33.3", "0.05", 1898),  # 1898.1 rounds down
        (1, "100", "0.05", 1),  # 0.95 would be 0: at least 1
        (3, "10", "0", 1),
        (7, "100", "0", 7),
    ],
)
def test_usable_limit_is_floored_but_at_least_one(limit: int, share: str, margin: str, expected: int) -> None:
    assert usable_limit(limit, Decimal(share), Decimal(margin)) == expected


def test_throttler_applies_share_and_margin_to_every_pool() -> None:
    throttler = AsyncThrottler(
        [RateLimit("W", 6000, 60), RateLimit("E", 50, 10, linked_limits=[LinkedLimitWeightPair("W", 20)])],
        limits_share_percentage=50,
        safety_margin_pct=0.05,
    )
    assert throttler.usable_limit("W") == 2850
    assert throttler.usable_limit("E") == 23


def test_default_margin_is_five_percent() -> None:
    assert AsyncThrottler([RateLimit("A", 100, 1)]).usable_limit("A") == 95


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ([RateLimit("A", 5, 1), RateLimit("A", 6, 1)], "duplicate"),
        ([RateLimit("A", 5, 1, linked_limits=[LinkedLimitWeightPair("nope")])], "unknown limit id 'nope'"),
        ([RateLimit("W", 10, 1), RateLimit("A", 5, 1, linked_limits=[LinkedLimitWeightPair("W", 11)])],
         "never"),
        ([RateLimit("A", 5, 1, weight=6)], "never"),
    ],
)
def test_invalid_configurations_are_rejected(limits: list[RateLimit], match: str) -> None:
    with pytest.raises(RateLimitConfigError, match=match):
        AsyncThrottler(limits, safety_margin_pct=0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: RateLimit("A", 0, 1),
        lambda: RateLimit("A", 5, 0),
        lambda: RateLimit("A", 5, 1, weight=0),
        lambda: RateLimit("A", 5, 1, linked_limits=[LinkedLimitWeightPair("B", -1)]),
        lambda: AsyncThrottler([RateLimit("A", 5, 1)], limits_share_percentage=0),
        lambda: AsyncThrottler([RateLimit("A", 5, 1)], limits_share_percentage=101),
        lambda: AsyncThrottler([RateLimit("A", 5, 1)], safety_margin_pct=1),
    ],
)
def test_invalid_numbers_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(RateLimitConfigError):
        build()


def test_unknown_limit_id_is_a_typed_error() -> None:
    throttler, _ = _throttler([RateLimit("A", 5, 1)])
    with pytest.raises(UnknownRateLimitIdError) as info:
        throttler.execute_task("/api/v3/missing")
    assert info.value.limit_id == "/api/v3/missing"
    assert "'/api/v3/missing'" in str(info.value)
    with pytest.raises(UnknownRateLimitIdError):
        throttler.try_acquire("B")
    assert isinstance(info.value, LookupError)


# ------------------------------------------------------------------------------ exact sequences
def test_single_pool_pass_deny_sequence_across_window_boundaries() -> None:
    throttler, clock = _throttler([RateLimit("A", 3, 1.0)])

    def at(t: float, count: int = 1) -> list[bool]:
        clock.now = t
        return [throttler.try_acquire("A") for _ in range(count)]

    assert at(0.0, 4) == [True, True, True, False]
    assert at(0.5) == [False]
    assert at(0.999999) == [False]
    assert at(1.0, 4) == [True, True, True, False]  # the three grants of t=0 expire exactly at t=1
    assert throttler.used_weight("A") == 3
    # Staggered grants free one slot at a time.
    assert at(2.0) == [True]
    assert at(2.4) == [True]
    assert at(2.8, 2) == [True, False]
    assert at(2.9999) == [False]
    assert at(3.0, 2) == [True, False]
    assert at(3.3999) == [False]
    assert at(3.4, 2) == [True, False]
    assert at(3.8, 2) == [True, False]


def test_linked_pools_are_consumed_by_weight_and_a_deny_consumes_nothing() -> None:
    throttler, clock = _throttler(
        [
            RateLimit("W", 10, 1.0),
            RateLimit("E1", 2, 1.0, linked_limits=[LinkedLimitWeightPair("W", 4)]),
            RateLimit("E2", 100, 1.0, linked_limits=[LinkedLimitWeightPair("W", 3)]),
            RateLimit("E3", 100, 10.0, weight=2),
        ]
    )
    assert throttler.try_acquire("E1") is True  # W 4
    assert throttler.try_acquire("E1") is True  # W 8
    assert (throttler.used_weight("E1"), throttler.used_weight("W")) == (2, 8)
    assert throttler.try_acquire("E2") is False  # W would be 11
    assert throttler.used_weight("E2") == 0 and throttler.used_weight("W") == 8
    assert throttler.try_acquire("W") is True  # the pool itself, weight 1: W 9
    assert throttler.try_acquire("W") is True  # W 10
    assert throttler.try_acquire("W") is False
    assert throttler.try_acquire("E3") is True  # an unlinked pool is unaffected
    clock.now = 1.0
    assert throttler.used_weight("W") == 0
    assert throttler.try_acquire("E2") is True  # W 3
    assert throttler.try_acquire("E1") is True  # E1 1, W 7
    assert throttler.try_acquire("E1") is False  # E1 has room, but W would be 7 + 4 = 11
    assert (throttler.used_weight("E1"), throttler.used_weight("W")) == (1, 7)


def test_linked_sequence_own_limit_and_pool_limit() -> None:
    throttler, clock = _throttler(
        [
            RateLimit("W", 10, 1.0),
            RateLimit("E1", 2, 1.0, linked_limits=[LinkedLimitWeightPair("W", 3)]),
            RateLimit("E2", 100, 1.0, linked_limits=[LinkedLimitWeightPair("W", 2)]),
        ]
    )
    seq = []
    for limit_id in ["E1", "E1", "E1", "E2", "E2", "E2"]:
        seq.append((limit_id, throttler.try_acquire(limit_id)))
    # E1 x2 (own limit 2, W 6), third E1 refused by its own limit though W has room,
    # E2 x2 (W 8, 10), third E2 refused by the pool.
    assert seq == [("E1", True), ("E1", True), ("E1", False), ("E2", True), ("E2", True), ("E2", False)]
    assert throttler.used_weight("W") == 10
    clock.now = 0.5
    assert throttler.try_acquire("E2") is False
    clock.now = 1.0
    assert [throttler.try_acquire("E1") for _ in range(3)] == [True, True, False]
    assert [throttler.try_acquire("E2") for _ in range(3)] == [True, True, False]
    assert throttler.used_weight("W") == 10


def test_a_limit_linked_to_its_own_pool_adds_both_weights() -> None:
    throttler, _ = _throttler(
        [RateLimit("A", 5, 1.0, weight=2, linked_limits=[LinkedLimitWeightPair("A", 1)])]
    )
    assert [throttler.try_acquire("A") for _ in range(2)] == [True, False]
    assert throttler.used_weight("A") == 3


# ------------------------------------------------------------------------ waiting (virtual time)
async def _record(throttler: AsyncThrottler, limit_id: str, log: list[tuple[str, float]], tag: str) -> None:
    async with throttler.execute_task(limit_id):
        log.append((tag, asyncio.get_running_loop().time()))


def test_blocking_grants_happen_exactly_when_the_window_frees() -> None:
    async def main() -> list[tuple[str, float]]:
        throttler = AsyncThrottler([RateLimit("A", 2, 1.0)], safety_margin_pct=0)
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        await asyncio.gather(*(_record(throttler, "A", log, str(i)) for i in range(5)))
        return [(tag, round(t - start, 4)) for tag, t in log]

    assert run_virtual(main) == [("0", 0.0), ("1", 0.0), ("2", 1.0), ("3", 1.0), ("4", 2.0)]


def test_heavy_request_is_not_starved_by_later_light_ones() -> None:
    async def main() -> tuple[list[str], dict[str, float]]:
        throttler = AsyncThrottler(
            [
                RateLimit("P", 10, 1.0),
                RateLimit("BIG", 100, 1.0, linked_limits=[LinkedLimitWeightPair("P", 8)]),
                RateLimit("SMALL", 100, 1.0, linked_limits=[LinkedLimitWeightPair("P", 1)]),
            ],
            safety_margin_pct=0,
        )
        start = asyncio.get_running_loop().time()
        for _ in range(5):
            assert throttler.try_acquire("SMALL")  # P: 5 of 10 used at t=0
        log: list[tuple[str, float]] = []
        tasks = [asyncio.create_task(_record(throttler, "BIG", log, "big"), name="big")]
        await asyncio.sleep(0)  # BIG is queued (needs 8, 5 left) before the small ones arrive
        tasks += [
            asyncio.create_task(_record(throttler, "SMALL", log, f"s{i}"), name=f"s{i}") for i in range(6)
        ]
        await asyncio.sleep(0)
        # The 5 free units must stay unused while BIG waits; later requests may not jump the queue.
        assert log == []
        assert not throttler.try_acquire("SMALL")
        await asyncio.gather(*tasks)
        return [tag for tag, _ in log], {tag: round(t - start, 4) for tag, t in log}

    order, times = run_virtual(main)
    assert order == ["big", "s0", "s1", "s2", "s3", "s4", "s5"]
    # BIG at t=1 (P 8), s0 and s1 also at t=1 (P 10), the rest when BIG's units expire at t=2.
    assert times == {"big": 1.0, "s0": 1.0, "s1": 1.0, "s2": 2.0, "s3": 2.0, "s4": 2.0, "s5": 2.0}


def test_requests_on_disjoint_pools_do_not_wait_for_each_other() -> None:
    async def main() -> dict[str, float]:
        throttler = AsyncThrottler([RateLimit("A", 1, 5.0), RateLimit("B", 1, 5.0)], safety_margin_pct=0)
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        await asyncio.gather(_record(throttler, "A", log, "a0"), _record(throttler, "A", log, "a1"),
                             _record(throttler, "B", log, "b0"))
        return {tag: round(t - start, 4) for tag, t in log}

    assert run_virtual(main) == {"a0": 0.0, "a1": 5.0, "b0": 0.0}


def test_cancelled_waiters_give_up_their_place() -> None:
    async def main() -> dict[str, float]:
        throttler = AsyncThrottler([RateLimit("A", 1, 1.0)], safety_margin_pct=0)
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        tasks = {tag: asyncio.create_task(_record(throttler, "A", log, tag), name=tag) for tag in "abcd"}
        await asyncio.sleep(0.5)
        tasks["b"].cancel()  # the head waiter, sleeping until t=1
        tasks["c"].cancel()  # queued behind it
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        assert tasks["b"].cancelled() and tasks["c"].cancelled()
        return {tag: round(t - start, 4) for tag, t in log}

    assert run_virtual(main) == {"a": 0.0, "d": 1.0}


def test_a_waiter_cancelled_at_the_head_of_one_pool_and_queued_in_another_leaks_nothing() -> None:
    """X needs pools A and B; it heads A's queue but waits behind Y in B. Cancelling it must free A's
    queue at once (Z, on A only, goes on) and leave B's queue and every pool's weight as they were."""

    async def main() -> tuple[dict[str, float], dict[str, int]]:
        throttler = AsyncThrottler(
            [RateLimit("A", 1, 1.0), RateLimit("B", 1, 1.0),
             RateLimit("AB", 10, 1.0, linked_limits=[LinkedLimitWeightPair("A"), LinkedLimitWeightPair("B")]),
             ],
            safety_margin_pct=0,
        )
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        assert throttler.try_acquire("B")  # B is full until t=1
        tasks = {"y": asyncio.create_task(_record(throttler, "B", log, "y"), name="y")}
        await asyncio.sleep(0)
        tasks["x"] = asyncio.create_task(_record(throttler, "AB", log, "x"), name="x")
        await asyncio.sleep(0)
        tasks["z"] = asyncio.create_task(_record(throttler, "A", log, "z"), name="z")
        await asyncio.sleep(0.25)
        assert log == []  # A is free, but z queues behind x, which waits behind y in B
        tasks["x"].cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        assert tasks["x"].cancelled()
        used = {pool: throttler.used_weight(pool) for pool in ("A", "B", "AB")}
        return {tag: round(t - start, 4) for tag, t in log}, used

    times, used = run_virtual(main)
    assert times == {"z": 0.25, "y": 1.0}
    assert used == {"A": 1, "B": 1, "AB": 0}


# ------------------------------------------------------------------------------- 429 / 418 pauses
def test_backoff_without_retry_after_doubles_per_episode_and_resets_on_acceptance() -> None:
    throttler, clock = _throttler([RateLimit("A", 100, 1.0)], backoff_initial=1.0, backoff_max=5.0)
    assert throttler.on_rate_limited() == 1.0
    assert not throttler.try_acquire("A")
    clock.now = 0.5
    assert throttler.on_rate_limited() == 0.5  # answer to a request sent before the pause: no escalation
    clock.now = 1.0
    assert throttler.pause_remaining() == 0.0
    assert throttler.try_acquire("A")
    assert throttler.on_rate_limited() == 2.0  # second episode
    clock.now = 3.0
    assert throttler.on_rate_limited() == 4.0
    clock.now = 7.0
    assert throttler.on_rate_limited() == 5.0  # capped
    clock.now = 8.0
    throttler.on_request_accepted()  # answered during the pause: was sent before it, no reset
    clock.now = 12.0
    throttler.on_request_accepted()
    assert throttler.on_rate_limited() == 1.0


def test_retry_after_sets_the_pause_and_can_only_extend_it() -> None:
    throttler, clock = _throttler([RateLimit("A", 100, 1.0)])
    assert throttler.on_rate_limited(30.0) == 30.0
    clock.now = 10.0
    assert throttler.on_rate_limited(5.0) == 20.0  # shorter hint does not shorten the pause
    assert throttler.on_rate_limited(25.0) == 25.0
    clock.now = 34.999
    assert not throttler.try_acquire("A")
    clock.now = 35.0
    assert throttler.try_acquire("A")


@pytest.mark.parametrize(("retry_after", "pause"), [(2.5, 2.5), (None, 1.0)])
def test_every_request_waits_for_the_pause(retry_after: float | None, pause: float) -> None:
    async def main() -> dict[str, float]:
        throttler = AsyncThrottler([RateLimit("A", 1, 0.2), RateLimit("B", 5, 1.0)], safety_margin_pct=0)
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        await _record(throttler, "A", log, "a0")
        queued = asyncio.create_task(_record(throttler, "A", log, "a1"), name="a1")  # waits for A's window
        await asyncio.sleep(0.1)
        throttler.on_rate_limited(retry_after)  # the 429 arrives at t=0.1
        await asyncio.gather(queued, _record(throttler, "B", log, "b0"), _record(throttler, "A", log, "a2"))
        return {tag: round(t - start, 4) for tag, t in log}

    assert run_virtual(main) == {"a0": 0.0, "a1": 0.1 + pause, "b0": 0.1 + pause, "a2": 0.3 + pause}


# ---------------------------------------------------------------------------- sliding-window proof
def _max_window_weight(grants: list[tuple[float, int]], interval: float) -> int:
    """Largest weight granted in any half-open window [t, t + interval) that starts at a grant."""
    worst = inside = 0
    right = 0
    for left in range(len(grants)):
        while right < len(grants) and grants[right][0] < grants[left][0] + interval:
            inside += grants[right][1]
            right += 1
        worst = max(worst, inside)
        inside -= grants[left][1]
    return worst


def test_ten_thousand_queued_requests_never_exceed_any_limit_in_any_window() -> None:
    rng = random.Random(5)
    orders_links = [LinkedLimitWeightPair("W"), LinkedLimitWeightPair("E1", 2)]
    limits = [RateLimit("W", 50, 1.0), RateLimit("ORDERS", 9, 0.5, linked_limits=orders_links)] + [
        RateLimit(f"E{w}", 7 + w, 0.3, linked_limits=[LinkedLimitWeightPair("W", w)]) for w in range(1, 6)
    ]
    by_id = {rl.limit_id: rl for rl in limits}
    ids = [rng.choice(["E1", "E2", "E3", "E4", "E5", "ORDERS"]) for _ in range(10_000)]

    async def main() -> list[tuple[str, float]]:
        throttler = AsyncThrottler(limits, safety_margin_pct=0.1)  # W usable 45, E1 7, ORDERS 8, ...
        log: list[tuple[str, float]] = []
        await asyncio.gather(*(_record(throttler, limit_id, log, str(i)) for i, limit_id in enumerate(ids)))
        return log

    log = run_virtual(main)
    assert [int(tag) for tag, _ in log] == list(range(10_000))  # all share W: strict arrival order
    usable = {"W": 45, "E1": 7, "E2": 8, "E3": 9, "E4": 10, "E5": 11, "ORDERS": 8}
    per_pool: dict[str, list[tuple[float, int]]] = {pool: [] for pool in usable}
    for tag, t in log:
        rl = by_id[ids[int(tag)]]
        per_pool[rl.limit_id].append((t, rl.weight))
        for pair in rl.linked_limits:
            per_pool[pair.limit_id].append((t, pair.weight))
    total_w = 0
    for pool, grants in per_pool.items():
        grants.sort(key=lambda g: g[0])
        worst = _max_window_weight(grants, by_id[pool].time_interval)
        assert worst <= usable[pool], pool
        if pool == "W":
            total_w = sum(w for _, w in grants)
            assert worst == usable[pool]  # the limit is actually used, not just respected
    # Throughput: FIFO with mixed weights wastes at most a few units per window, so the whole run
    # takes little more than the theoretical minimum of total weight / usable limit windows.
    duration = log[-1][1] - log[0][1]
    assert duration < 1.25 * total_w / 45


def _model_grant_times(limits: list[RateLimit], usable: dict[str, int], ids: list[str]) -> list[float]:
    """Brute-force FIFO model: each request at the earliest time >= the previous grant when it fits."""
    by_id = {rl.limit_id: rl for rl in limits}
    interval = {rl.limit_id: rl.time_interval for rl in limits}
    grants: list[tuple[float, dict[str, int]]] = []
    times: list[float] = []
    t = 0.0
    for limit_id in ids:
        rl = by_id[limit_id]
        need = {rl.limit_id: rl.weight}
        for pair in rl.linked_limits:
            need[pair.limit_id] = need.get(pair.limit_id, 0) + pair.weight
        while True:
            fits = all(
                sum(g.get(pool, 0) for gt, g in grants if gt + interval[pool] > t) + w <= usable[pool]
                for pool, w in need.items()
            )
            if fits:
                break
            t = min(gt + interval[pool] for gt, g in grants for pool in g if gt + interval[pool] > t)
        grants.append((t, need))
        times.append(t)
    return times


def test_grant_times_match_a_brute_force_model() -> None:
    rng = random.Random(11)
    limits = [
        RateLimit("W", 20, 1.0),
        RateLimit("A", 4, 0.25, linked_limits=[LinkedLimitWeightPair("W", 3)]),
        RateLimit("B", 30, 2.0, weight=2, linked_limits=[LinkedLimitWeightPair("W", 1)]),
        RateLimit("C", 6, 0.7, linked_limits=[LinkedLimitWeightPair("W", 5), LinkedLimitWeightPair("B", 1)]),
    ]
    ids = [rng.choice("ABC") for _ in range(400)]
    expected = _model_grant_times(limits, {"W": 20, "A": 4, "B": 30, "C": 6}, ids)

    async def main() -> list[float]:
        throttler = AsyncThrottler(limits, safety_margin_pct=0)
        start = asyncio.get_running_loop().time()
        log: list[tuple[str, float]] = []
        await asyncio.gather(*(_record(throttler, limit_id, log, str(i)) for i, limit_id in enumerate(ids)))
        return [t - start for _, t in sorted(log, key=lambda e: int(e[0]))]

    actual = run_virtual(main)
    # Waiters wake at the exact expiry; only float rounding of the loop's timers separates them.
    assert actual == pytest.approx(expected, abs=1e-6)


def test_status_queries_work_outside_an_event_loop() -> None:
    throttler = AsyncThrottler([RateLimit("A", 5, 60.0)], safety_margin_pct=0)
    assert throttler.try_acquire("A")
    assert throttler.used_weight("A") == 1
    assert throttler.pause_remaining() == 0.0


_MODEL_LIMITS = [
    RateLimit("W", 12, 1.0),
    RateLimit("A", 3, 0.4, linked_limits=[LinkedLimitWeightPair("W", 2)]),
    RateLimit("B", 50, 1.0, weight=3, linked_limits=[LinkedLimitWeightPair("W", 5)]),
    RateLimit("C", 4, 2.5, linked_limits=[LinkedLimitWeightPair("W"), LinkedLimitWeightPair("A", 1)]),
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 0.7), st.sampled_from(["W", "A", "B", "C"])), max_size=60))
def test_try_acquire_matches_a_brute_force_sliding_window_model(steps: list[tuple[float, str]]) -> None:
    throttler, clock = _throttler(_MODEL_LIMITS)
    by_id = {rl.limit_id: rl for rl in _MODEL_LIMITS}
    grants: list[tuple[float, dict[str, int]]] = []
    for dt, limit_id in steps:
        clock.now += dt
        rl = by_id[limit_id]
        need = {rl.limit_id: rl.weight}
        for pair in rl.linked_limits:
            need[pair.limit_id] = need.get(pair.limit_id, 0) + pair.weight
        live = {
            pool: sum(g.get(pool, 0) for t, g in grants if t + by_id[pool].time_interval > clock.now)
            for pool in by_id
        }
        expected = all(live[pool] + w <= by_id[pool].limit for pool, w in need.items())
        assert throttler.try_acquire(limit_id) is expected
        if expected:
            grants.append((clock.now, need))
            for pool, w in need.items():
                live[pool] += w
        assert {pool: throttler.used_weight(pool) for pool in by_id} == live


# ------------------------------------------------------------------- priority (issue 17 item 10)
async def _record_arrival(
    throttler: AsyncThrottler,
    limit_id: str,
    priority: RequestPriority,
    log: list[tuple[int, float, float]],
    tag: int,
) -> None:
    loop = asyncio.get_running_loop()
    arrived = loop.time()
    async with throttler.execute_task(limit_id, priority):
        log.append((tag, arrived, loop.time()))


def test_high_priority_passes_queued_normal_requests_and_never_waits_behind_them() -> None:
    """A poll-saturated budget: NORMAL requests queue; an order (HIGH) arriving later is served as soon
    as there is room for it, ahead of every queued NORMAL one, and at once if it fits now even
    though a heavy NORMAL request is queued."""

    async def main() -> tuple[list[str], dict[str, float]]:
        throttler = AsyncThrottler(
            [
                RateLimit("W", 10, 1.0),
                RateLimit("POLL", 100, 1.0, linked_limits=[LinkedLimitWeightPair("W", 8)]),
                RateLimit("ORDER", 100, 1.0, linked_limits=[LinkedLimitWeightPair("W", 1)]),
            ],
            safety_margin_pct=0,
        )
        start = asyncio.get_running_loop().time()
        assert throttler.try_acquire("POLL")  # W 8 of 10 until t=1
        log: list[tuple[str, float]] = []
        tasks = [
            asyncio.create_task(_record(throttler, "POLL", log, f"poll{i}"), name=f"p{i}") for i in range(3)
        ]
        await asyncio.sleep(0.25)
        assert log == []  # the polls wait for W
        with request_priority(RequestPriority.HIGH):  # how the connector template marks placement
            tasks.append(asyncio.create_task(_record(throttler, "ORDER", log, "order0"), name="o0"))
        await asyncio.sleep(0)
        assert [tag for tag, _ in log] == ["order0"]  # W 9: room for it now, polls or not
        tasks += [
            asyncio.create_task(_high(throttler, "ORDER", log, f"order{i}"), name=f"o{i}") for i in (1, 2)
        ]
        await asyncio.gather(*tasks)
        return [tag for tag, _ in log], {tag: round(t - start, 4) for tag, t in log}

    order, times = run_virtual(main)
    assert order[:3] == ["order0", "order1", "order2"]  # every order before any queued poll
    assert order[3:] == ["poll0", "poll1", "poll2"]
    assert times["order0"] == 0.25 and times["order1"] == 0.25  # W 10: fits at once
    assert times["order2"] == 1.0  # the first slot that frees, ahead of the polls queued since t=0
    assert times["poll0"] == 1.25 and times["poll1"] == 2.25


async def _high(throttler: AsyncThrottler, limit_id: str, log: list[tuple[str, float]], tag: str) -> None:
    async with throttler.execute_task(limit_id, RequestPriority.HIGH):
        log.append((tag, asyncio.get_running_loop().time()))


def test_ten_thousand_mixed_priority_requests_stay_within_every_window_high_never_behind_low() -> None:
    """Random arrivals of 10,000 requests, one in five HIGH, over linked pools. Every pool stays within
    its usable limit in every window, HIGH requests are served in arrival order among themselves,
    and no NORMAL request sharing a pool with a waiting HIGH one is granted while it waits."""
    rng = random.Random(17)
    limits = [
        RateLimit("W", 60, 1.0),
        RateLimit("O10", 12, 0.5),
        RateLimit(
            "ORDERS", 1000, 1.0, linked_limits=[LinkedLimitWeightPair("W"), LinkedLimitWeightPair("O10")]
        ),
        RateLimit("CANCEL", 1000, 1.0, linked_limits=[LinkedLimitWeightPair("W")]),
    ] + [
        RateLimit(f"POLL{w}", 40, 0.4, linked_limits=[LinkedLimitWeightPair("W", w)]) for w in (1, 5, 20)
    ]
    by_id = {rl.limit_id: rl for rl in limits}
    requests: list[tuple[float, str, RequestPriority]] = []
    t = 0.0
    for _ in range(10_000):
        t += rng.expovariate(120.0)  # about twice what W lets through: the budget stays saturated
        if rng.random() < 0.2:
            requests.append((t, rng.choice(["ORDERS", "CANCEL"]), RequestPriority.HIGH))
        else:
            requests.append((t, rng.choice(["POLL1", "POLL5", "POLL20"]), RequestPriority.NORMAL))

    async def main() -> list[tuple[int, float, float]]:
        throttler = AsyncThrottler(limits, safety_margin_pct=0.1)
        loop = asyncio.get_running_loop()
        start = loop.time()
        log: list[tuple[int, float, float]] = []
        tasks = []
        for i, (at, limit_id, priority) in enumerate(requests):
            delay = start + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_record_arrival(throttler, limit_id, priority, log, i)))
        await asyncio.gather(*tasks)
        assert throttler.saturation_episodes >= 1
        return log

    log = run_virtual(main)
    assert len(log) == 10_000
    usable = {"W": 54, "O10": 10, "ORDERS": 900, "CANCEL": 900, "POLL1": 36, "POLL5": 36, "POLL20": 36}
    per_pool: dict[str, list[tuple[float, int]]] = {pool: [] for pool in usable}
    pools_of: dict[str, set[str]] = {}
    for rl in limits:
        pools_of[rl.limit_id] = {rl.limit_id, *(pair.limit_id for pair in rl.linked_limits)}
    for tag, _, granted in log:
        rl = by_id[requests[tag][1]]
        per_pool[rl.limit_id].append((granted, rl.weight))
        for pair in rl.linked_limits:
            per_pool[pair.limit_id].append((granted, pair.weight))
    for pool, grants in per_pool.items():
        grants.sort(key=lambda g: g[0])
        assert _max_window_weight(grants, by_id[pool].time_interval) <= usable[pool], pool
    high = [entry for entry in log if requests[entry[0]][2] is RequestPriority.HIGH]
    normal = [(tag, granted) for tag, _, granted in log if requests[tag][2] is RequestPriority.NORMAL]
    assert [tag for tag, _, _ in high] == sorted(tag for tag, _, _ in high)  # FIFO among HIGH
    waited = [(tag, arrived, granted) for tag, arrived, granted in high if granted > arrived]
    assert len(waited) > 100  # the orders pools really were contended
    for tag, arrived, granted in waited:
        shared = pools_of[requests[tag][1]]
        overtaking = [
            other for other, at in normal
            if arrived < at < granted and pools_of[requests[other][1]] & shared
        ]
        assert overtaking == [], (tag, overtaking[:3])


def test_background_saturation_is_logged_once_per_episode(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> AsyncThrottler:
        throttler = AsyncThrottler([RateLimit("W", 5, 1.0)], safety_margin_pct=0, name="unit")
        log: list[tuple[str, float]] = []
        await asyncio.gather(*(_record(throttler, "W", log, str(i)) for i in range(40)))  # 8 windows' worth
        assert throttler.saturation_episodes == 1 and throttler.is_saturated("W")
        await asyncio.sleep(5)
        await _record(throttler, "W", log, "idle")  # passes without waiting: the episode ends
        assert not throttler.is_saturated("W")
        await asyncio.gather(*(_record(throttler, "W", log, f"b{i}") for i in range(12)))
        return throttler

    with caplog.at_level(logging.INFO, logger="connectorkit.net.throttler"):
        throttler = run_virtual(main)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and throttler.saturation_episodes == 2
    expected = "unit: background requests keep the 'W' budget saturated (5 of 5 used per 1s)"
    assert expected in warnings[0].message
    assert sum("no longer saturated" in r.message for r in caplog.records) == 1


def test_orders_waiting_for_room_are_not_background_saturation(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> AsyncThrottler:
        throttler = AsyncThrottler([RateLimit("W", 5, 1.0)], safety_margin_pct=0)
        log: list[tuple[str, float]] = []
        await asyncio.gather(*(_high(throttler, "W", log, str(i)) for i in range(20)))
        return throttler

    with caplog.at_level(logging.WARNING, logger="connectorkit.net.throttler"):
        assert run_virtual(main).saturation_episodes == 0
    assert caplog.records == []


# -------------------------------------------------------------- advertised limits (issue 17 item 10)
def test_an_advertised_limit_replaces_the_built_in_one_only_when_lower() -> None:
    throttler, clock = _throttler([RateLimit("W", 10, 1.0), RateLimit("E", 100, 1.0,
                                   linked_limits=[LinkedLimitWeightPair("W", 2)])])
    assert throttler.apply_advertised_limit("W", 20) is False  # higher: the built-in 10 stays
    assert throttler.usable_limit("W") == 10
    assert throttler.apply_advertised_limit("W", 6) is True
    assert (throttler.limit("W"), throttler.usable_limit("W")) == (6, 6)
    assert [throttler.try_acquire("E") for _ in range(4)] == [True, True, True, False]  # 3 x 2 = 6
    assert throttler.apply_advertised_limit("W", 6) is False
    assert throttler.apply_advertised_limit("W", 50) is True  # back to the built-in limit, not 50
    assert throttler.usable_limit("W") == 10
    clock.now = 1.0
    assert [throttler.try_acquire("E") for _ in range(6)] == [True] * 5 + [False]
    with pytest.raises(RateLimitConfigError, match="positive int"):
        throttler.apply_advertised_limit("W", 0)
    with pytest.raises(UnknownRateLimitIdError):
        throttler.apply_advertised_limit("nope", 5)


def test_an_advertised_limit_gets_the_share_and_safety_margin() -> None:
    throttler = AsyncThrottler(
        [RateLimit("W", 6000, 60.0)], limits_share_percentage=50, safety_margin_pct=0.05
    )
    assert throttler.apply_advertised_limit("W", 2400)
    assert throttler.usable_limit("W") == 1140


def test_a_request_an_advertised_limit_makes_impossible_raises_instead_of_waiting_forever() -> None:
    async def main() -> None:
        throttler = AsyncThrottler(
            [
                RateLimit("W", 10, 1.0),
                RateLimit("BIG", 100, 1.0, linked_limits=[LinkedLimitWeightPair("W", 8)]),
            ],
            safety_margin_pct=0,
        )
        assert throttler.try_acquire("BIG")
        queued = asyncio.create_task(_record(throttler, "BIG", [], "queued"), name="queued")
        await asyncio.sleep(0.25)
        throttler.apply_advertised_limit("W", 5)  # BIG needs 8 of W: never again
        with pytest.raises(RateLimitConfigError, match="can never be sent"):
            await queued
        with pytest.raises(RateLimitConfigError, match="can never be sent"):
            await _record(throttler, "BIG", [], "new")

    run_virtual(main)
