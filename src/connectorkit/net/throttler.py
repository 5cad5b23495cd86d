"""Client-side rate limiting for one exchange.

Model
-----
Every :class:`RateLimit` is a *pool*: at most ``limit`` units of weight in any sliding window of
``time_interval`` seconds. A request names one limit id; it consumes ``weight`` units of that
limit's own pool plus ``pair.weight`` units of every pool in ``linked_limits`` (e.g. a Binance
endpoint consumes its own per-endpoint limit and, linked, the shared ``REQUEST_WEIGHT`` pool). A
request passes only when *all* its pools have room; it then consumes all of them at once.

Usable limit
------------
The limit actually enforced is ``max(1, floor(limit * limits_share_percentage / 100 *
(1 - safety_margin_pct)))``. ``limits_share_percentage`` (0 < x <= 100) lets several bots share one
account's limits; ``safety_margin_pct`` is a *fraction* (0.05 = 5 %, 0 <= x < 1) kept free for
clock skew between us and the exchange. The product is computed in Decimal and rounded down, so
the throttler never exceeds the configured share; it is at least 1 so a tiny share still works.
A weight larger than the usable limit of its pool could never pass and is rejected at
construction with :class:`~connectorkit.net.errors.RateLimitConfigError`.

Windows
-------
A request granted at time ``t`` counts against its pools for times ``< t + time_interval``. So in
every half-open window ``[s, s + time_interval)`` the weight granted is at most the usable limit.
A sliding window is stricter than the fixed (calendar) windows many exchanges use, so it is also
safe against those.

Cost
----
Each pool keeps the expiry times and the cumulative weights of its live grants in arrays with a
moving head: expiring old grants is amortized O(1) and finding when enough weight will have
expired is a binary search, O(log n). No check ever scans the history.

Fairness and priority
---------------------
Every request has a :class:`RequestPriority`: HIGH for order placement and cancellation (the
connector template marks them with :func:`request_priority`), NORMAL for everything else (polling,
snapshots, time sync). Within one priority, requests that share a pool are served in arrival
order: a request that cannot pass yet holds its place in the queue of each of its pools, and a
later request of the same priority on any of those pools waits behind it (so a heavy request is
never starved by light ones). A HIGH request is queued ahead of every NORMAL one, and passes at
once whenever its pools have room and no other HIGH request is queued on them: it never waits
behind background work. Requests on disjoint pools do not wait for each other. The order
(priority, arrival) is one total order over all pools, so no two waiters can block each other.

Saturation
----------
When NORMAL requests have to queue because a pool is full, the pool is *saturated*: one warning is
logged when such an episode starts (and one info line when it ends, the next time a NORMAL
request passes without waiting), never one per request; :attr:`AsyncThrottler.saturation_episodes`
counts them. It means background polling alone uses the whole budget: poll less often.

Advertised limits
-----------------
:meth:`AsyncThrottler.apply_advertised_limit` takes a limit the exchange publishes for a pool
(Binance: ``exchangeInfo.rateLimits``): when it is lower than the built-in one it replaces it (share
and safety margin applied as above), when it is not the built-in one stays.

Exchange pushback
-----------------
:meth:`AsyncThrottler.on_rate_limited` is called when the exchange answers 429 or 418: every
request through this throttler then waits until the Retry-After delay has passed, or an exponential
backoff when the exchange gave none.
"""

from __future__ import annotations

import asyncio
import logging
import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import IntEnum
from types import TracebackType

from connectorkit.net.clock import Clock, LoopClock
from connectorkit.net.errors import RateLimitConfigError, UnknownRateLimitIdError
from connectorkit.net.rate_limit_specs import LimitSpec

_logger = logging.getLogger(__name__)

#: Shortest sleep of a waiting request. Event loops fire timers up to their clock resolution early,
#: so sleeping a computed remainder of a few nanoseconds could spin; 1 microsecond always progresses.
_MIN_SLEEP = 1e-6

#: Grants at the front of a pool's arrays are physically dropped once they are this many and more
#: than half of the arrays (keeps memory bounded while staying amortized O(1)).
_COMPACT_AT = 1024


class RequestPriority(IntEnum):
    """Which requests go first when a pool is short of room (see the module docs)."""

    NORMAL = 0
    """Background and everything not marked: polling, snapshots, time sync, account queries."""
    HIGH = 1
    """Order placement and cancellation."""


_PRIORITY: ContextVar[RequestPriority] = ContextVar(
    "connectorkit_request_priority", default=RequestPriority.NORMAL
)


@contextmanager
def request_priority(priority: RequestPriority) -> Iterator[None]:
    """Requests made inside the block (in this task and tasks it creates) get ``priority``.

    ``with request_priority(RequestPriority.HIGH): await self._place_order(order, options=options)``
    is how the connector template marks placement and cancellation; connector code needs nothing.
    """
    token = _PRIORITY.set(RequestPriority(priority))
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def current_request_priority() -> RequestPriority:
    """The priority requests made here get (NORMAL outside any :func:`request_priority` block)."""
    return _PRIORITY.get()


def normal_priority_context() -> Context:
    """A copy of the current context with NORMAL request priority, to start a background task in:
    a task spawned while a placement runs (say, by an event listener) is not placement itself."""
    context = copy_context()
    context.run(_PRIORITY.set, RequestPriority.NORMAL)
    return context


@dataclass(frozen=True, slots=True)
class LinkedLimitWeightPair:
    """A pool that a :class:`RateLimit` also consumes, and by how much."""

    limit_id: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` weight per sliding ``time_interval`` seconds for ``limit_id``.

    A request on this id consumes ``weight`` of this pool and each linked pool's pair weight.
    """

    limit_id: str
    limit: int
    time_interval: float
    weight: int = 1
    linked_limits: Sequence[LinkedLimitWeightPair] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "linked_limits", tuple(self.linked_limits))
        name = repr(self.limit_id)
        if not _is_positive_int(self.limit):
            raise RateLimitConfigError(f"{name}: limit must be a positive int, got {self.limit!r}")
        if not self.time_interval > 0:
            raise RateLimitConfigError(f"{name}: time_interval must be > 0, got {self.time_interval!r}")
        if not _is_positive_int(self.weight):
            raise RateLimitConfigError(f"{name}: weight must be a positive int, got {self.weight!r}")
        for pair in self.linked_limits:
            if not _is_positive_int(pair.weight):
                raise RateLimitConfigError(
                    f"{self.limit_id!r}: weight linked to {pair.limit_id!r} must be a positive int, "
                    f"got {pair.weight!r}"
                )


def rate_limits_from_specs(pools: Iterable[LimitSpec], endpoints: Iterable[LimitSpec]) -> list[RateLimit]:
    """The throttler's :class:`RateLimit` s for a venue's declared pools and endpoints, pools first.

    A linked pool with weight 0 is left out (a ``RateLimit`` link must weigh at least 1).
    """
    return [
        RateLimit(
            limit_id=spec.limit_id,
            limit=spec.limit,
            time_interval=spec.interval_s,
            weight=spec.weight,
            linked_limits=[LinkedLimitWeightPair(pool, w) for pool, w in spec.linked if w > 0],
        )
        for spec in (*pools, *endpoints)
    ]


def usable_limit(limit: int, limits_share_percentage: Decimal, safety_margin_pct: Decimal) -> int:
    """``max(1, floor(limit * share / 100 * (1 - margin)))``, computed exactly in Decimal."""
    exact = Decimal(limit) * limits_share_percentage / 100 * (1 - safety_margin_pct)
    return max(1, int(exact.to_integral_value(rounding=ROUND_FLOOR)))


class _Pool:
    """The live grants of one limit: expiry times and cumulative weights, oldest first; and the
    requests waiting for it, HIGH priority (``urgent``) ahead of NORMAL (``waiters``)."""

    __slots__ = ("_cums", "_expired", "_expiries", "_head", "_total", "builtin_limit", "capacity", "interval",
                 "limit", "limit_id", "queued", "saturated_since", "urgent", "waiters")

    def __init__(self, limit_id: str, limit: int, capacity: int, interval: float) -> None:
        self.limit_id = limit_id
        self.builtin_limit = limit  # the configured limit
        self.limit = limit  # the limit in force: the configured one, or a lower advertised one
        self.capacity = capacity
        self.interval = interval
        self._expiries: list[float] = []
        self._cums: list[int] = []  # total weight granted up to and including each entry
        self._head = 0  # first live entry
        self._total = 0  # weight ever granted
        self._expired = 0  # weight of the entries before _head
        self.urgent: deque[_Waiter] = deque()
        self.waiters: deque[_Waiter] = deque()
        self.queued = 0  # len(urgent) + len(waiters)
        self.saturated_since: float | None = None

    def head(self) -> _Waiter | None:
        """The waiter served next on this pool."""
        if self.urgent:
            return self.urgent[0]
        return self.waiters[0] if self.waiters else None

    def _expire(self, now: float) -> None:
        expiries = self._expiries
        head = self._head
        end = len(expiries)
        while head < end and expiries[head] <= now:
            head += 1
        if head == self._head:
            return
        self._expired = self._cums[head - 1]
        if head >= _COMPACT_AT and 2 * head > end:
            del expiries[:head]
            del self._cums[:head]
            head = 0
        self._head = head

    def used(self, now: float) -> int:
        self._expire(now)
        return self._total - self._expired

    def wait_time(self, now: float, weight: int) -> float:
        """Seconds until ``weight`` fits (0 if it fits now, inf if it never can), assuming nothing
        else is granted."""
        self._expire(now)
        excess = self._total - self._expired + weight - self.capacity
        if excess <= 0:
            return 0.0
        if weight > self.capacity:  # only after an advertised limit lowered the capacity
            return math.inf
        # The oldest entry whose expiry frees at least `excess` weight (weight <= capacity ensures it exists).
        index = bisect_left(self._cums, self._expired + excess, lo=self._head)
        return self._expiries[index] - now

    def grant(self, now: float, weight: int) -> None:
        self._total += weight
        self._expiries.append(now + self.interval)
        self._cums.append(self._total)


class _Waiter:
    __slots__ = ("demands", "urgent", "wakeup")

    def __init__(self, demands: tuple[tuple[_Pool, int], ...], urgent: bool) -> None:
        self.demands = demands
        self.urgent = urgent
        self.wakeup = asyncio.Event()


class _ThrottledTask:
    """The async context manager returned by :meth:`AsyncThrottler.execute_task`."""

    __slots__ = ("_limit_id", "_priority", "_throttler")

    def __init__(self, throttler: AsyncThrottler, limit_id: str, priority: RequestPriority | None) -> None:
        self._throttler = throttler
        self._limit_id = limit_id
        self._priority = priority

    async def __aenter__(self) -> None:
        await self._throttler.acquire(self._limit_id, self._priority)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class AsyncThrottler:
    """Enforces an exchange's rate limits for all requests of one connector (see module docs).

    :param rate_limits: every limit and pool of the exchange; ids must be unique and every linked
        id must be one of them.
    :param limits_share_percentage: the percentage (0 < x <= 100) of each limit this throttler may use.
    :param safety_margin_pct: fraction (0 <= x < 1) of each limit kept unused; 0.05 keeps 5 % free.
    :param clock: time source and sleep; defaults to the running event loop's clock.
    :param backoff_initial: first pause in seconds after a 429/418 without Retry-After; it doubles
        for each further rate-limit episode up to ``backoff_max`` until a request is accepted.
    :param name: who the limits belong to (the connector's name), for log lines.
    """

    def __init__(
        self,
        rate_limits: Iterable[RateLimit],
        limits_share_percentage: float | Decimal = 100,
        safety_margin_pct: float | Decimal = 0.05,
        *,
        clock: Clock | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        name: str = "throttler",
    ) -> None:
        share = Decimal(str(limits_share_percentage))
        margin = Decimal(str(safety_margin_pct))
        if not 0 < share <= 100:
            raise RateLimitConfigError(f"limits_share_percentage must be in (0, 100], got {share}")
        if not 0 <= margin < 1:
            raise RateLimitConfigError(f"safety_margin_pct is a fraction in [0, 1), got {margin}")
        if not 0 < backoff_initial <= backoff_max:
            raise RateLimitConfigError("need 0 < backoff_initial <= backoff_max")
        self._share = share
        self._margin = margin
        self._name = name
        self.saturation_episodes = 0
        """How many times background (NORMAL) requests have saturated a pool (see module docs)."""
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._paused_until = -math.inf
        self._backoff_streak = 0

        limits = list(rate_limits)
        self._pools: dict[str, _Pool] = {}
        for rl in limits:
            if rl.limit_id in self._pools:
                raise RateLimitConfigError(f"duplicate rate limit id {rl.limit_id!r}")
            capacity = usable_limit(rl.limit, share, margin)
            self._pools[rl.limit_id] = _Pool(rl.limit_id, rl.limit, capacity, rl.time_interval)
        self._demands: dict[str, tuple[tuple[_Pool, int], ...]] = {
            rl.limit_id: self._build_demands(rl) for rl in limits
        }

    def _build_demands(self, rl: RateLimit) -> tuple[tuple[_Pool, int], ...]:
        weights: dict[str, int] = {rl.limit_id: rl.weight}
        for pair in rl.linked_limits:
            if pair.limit_id not in self._pools:
                raise RateLimitConfigError(f"{rl.limit_id!r} links to unknown limit id {pair.limit_id!r}")
            weights[pair.limit_id] = weights.get(pair.limit_id, 0) + pair.weight
        demands = []
        for pool_id, weight in weights.items():
            pool = self._pools[pool_id]
            if weight > pool.capacity:
                raise RateLimitConfigError(
                    f"{rl.limit_id!r} needs weight {weight} of {pool_id!r}, whose usable limit is "
                    f"{pool.capacity}: such a request could never be sent"
                )
            demands.append((pool, weight))
        return tuple(demands)

    # ----------------------------------------------------------------------------------- queries
    @property
    def clock(self) -> Clock:
        return self._clock

    def usable_limit(self, limit_id: str) -> int:
        """The enforced limit of a pool after share and safety margin."""
        return self._pool(limit_id).capacity

    def used_weight(self, limit_id: str) -> int:
        """Weight granted on a pool within its current window."""
        return self._pool(limit_id).used(self._clock.time())

    def pause_remaining(self) -> float:
        """Seconds left of the pause imposed by the last 429/418 (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock.time())

    def limit(self, limit_id: str) -> int:
        """The limit in force on a pool before share and safety margin (built-in or advertised)."""
        return self._pool(limit_id).limit

    def is_saturated(self, limit_id: str) -> bool:
        """Whether background requests are queued for room on this pool right now (an episode)."""
        return self._pool(limit_id).saturated_since is not None

    # ---------------------------------------------------------------------------------- granting
    def execute_task(self, limit_id: str, priority: RequestPriority | None = None) -> _ThrottledTask:
        """``async with throttler.execute_task(limit_id):`` waits for capacity, then runs the body.

        ``priority`` defaults to the one set by :func:`request_priority` around the call (NORMAL
        outside any). Capacity is consumed on entry (when the request is about to be sent) and is
        never given back: the exchange counts the request whatever its outcome.
        """
        self._lookup(limit_id)
        return _ThrottledTask(self, limit_id, priority)

    def try_acquire(self, limit_id: str, priority: RequestPriority | None = None) -> bool:
        """Consume capacity for one request now if possible, without waiting or queueing.

        Returns False when a pool lacks room, a request that goes first is queued on one of the
        pools (any for NORMAL, a HIGH one for HIGH), or the exchange asked us to pause.
        """
        demands = self._lookup(limit_id)
        urgent = (_PRIORITY.get() if priority is None else priority) is RequestPriority.HIGH
        if any(pool.urgent if urgent else pool.queued for pool, _ in demands):
            return False
        now = self._clock.time()
        if self._delay(demands, now) > 0:
            return False
        self._grant(demands, now, urgent)
        return True

    async def acquire(self, limit_id: str, priority: RequestPriority | None = None) -> None:
        """Wait (HIGH before NORMAL, each in arrival order) until one request on ``limit_id`` may be
        sent, and consume it. ``priority`` as for :meth:`execute_task`."""
        demands = self._lookup(limit_id)
        urgent = (_PRIORITY.get() if priority is None else priority) is RequestPriority.HIGH
        for pool, _ in demands:
            if pool.urgent if urgent else pool.queued:
                break
        else:
            now = self._clock.time()
            if self._delay(demands, now) <= 0:
                self._grant(demands, now, urgent)
                return
        await self._wait(limit_id, demands, urgent)

    async def _wait(self, limit_id: str, demands: tuple[tuple[_Pool, int], ...], urgent: bool) -> None:
        self._check_can_ever_pass(limit_id, demands)
        waiter = _Waiter(demands, urgent)
        for pool, _ in demands:
            (pool.urgent if urgent else pool.waiters).append(waiter)
            pool.queued += 1
        if not urgent:
            self._note_saturation(demands)
        try:
            while True:
                if all(pool.head() is waiter for pool, _ in demands):
                    now = self._clock.time()
                    delay = self._delay(demands, now)
                    if delay <= 0:
                        self._grant(demands, now, urgent)
                        return
                    if math.isinf(delay):
                        self._check_can_ever_pass(limit_id, demands)
                    await self._clock.sleep(max(delay, _MIN_SLEEP))
                else:
                    waiter.wakeup.clear()
                    await waiter.wakeup.wait()
        finally:
            self._leave(waiter)

    def _check_can_ever_pass(self, limit_id: str, demands: tuple[tuple[_Pool, int], ...]) -> None:
        for pool, weight in demands:
            if weight > pool.capacity:
                raise RateLimitConfigError(
                    f"{limit_id!r} needs weight {weight} of {pool.limit_id!r}, whose usable limit is now "
                    f"{pool.capacity} (limit in force {pool.limit}): such a request can never be sent"
                )

    def _lookup(self, limit_id: str) -> tuple[tuple[_Pool, int], ...]:
        try:
            return self._demands[limit_id]
        except KeyError:
            raise UnknownRateLimitIdError(limit_id) from None

    def _pool(self, limit_id: str) -> _Pool:
        try:
            return self._pools[limit_id]
        except KeyError:
            raise UnknownRateLimitIdError(limit_id) from None

    def _delay(self, demands: tuple[tuple[_Pool, int], ...], now: float) -> float:
        delay = self._paused_until - now
        for pool, weight in demands:
            delay = max(delay, pool.wait_time(now, weight))
        return delay

    def _grant(self, demands: tuple[tuple[_Pool, int], ...], now: float, urgent: bool) -> None:
        for pool, weight in demands:
            pool.grant(now, weight)
            if pool.saturated_since is not None and not urgent and not pool.waiters:
                self._end_saturation(pool, now)

    def _note_saturation(self, demands: tuple[tuple[_Pool, int], ...]) -> None:
        """A NORMAL request had to queue: a pool it found full starts a saturation episode."""
        now = self._clock.time()
        for pool, weight in demands:
            if pool.saturated_since is None and pool.wait_time(now, weight) > 0:
                pool.saturated_since = now
                self.saturation_episodes += 1
                _logger.warning(
                    "%s: background requests keep the %r budget saturated (%d of %d used per %gs); "
                    "order placement and cancellation go first, the rest waits. Poll less often.",
                    self._name, pool.limit_id, pool.used(now), pool.capacity, pool.interval,
                )

    def _end_saturation(self, pool: _Pool, now: float) -> None:
        assert pool.saturated_since is not None
        _logger.info(
            "%s: the %r budget is no longer saturated (after %.1fs)", self._name, pool.limit_id,
            now - pool.saturated_since,
        )
        pool.saturated_since = None

    @staticmethod
    def _leave(waiter: _Waiter) -> None:
        for pool, _ in waiter.demands:
            was_head = pool.head() is waiter
            queue = pool.urgent if waiter.urgent else pool.waiters
            if queue[0] is waiter:
                queue.popleft()
            else:  # cancelled while queued behind others
                queue.remove(waiter)
            pool.queued -= 1
            if was_head:
                head = pool.head()
                if head is not None:
                    head.wakeup.set()

    # ----------------------------------------------------------------------- advertised limits
    def apply_advertised_limit(self, limit_id: str, limit: int) -> bool:
        """The exchange advertises ``limit`` for pool ``limit_id``: enforce it if it is lower than
        the built-in limit, else the built-in one (so a later, higher advertisement restores it).

        Returns whether the limit in force changed. Grants already made count against the new
        limit; a request whose weight now exceeds the pool's usable limit raises
        :class:`~connectorkit.net.errors.RateLimitConfigError` instead of waiting forever.
        """
        pool = self._pool(limit_id)
        if not _is_positive_int(limit):
            raise RateLimitConfigError(
                f"{limit_id!r}: an advertised limit must be a positive int, got {limit!r}"
            )
        effective = min(pool.builtin_limit, limit)
        if effective == pool.limit:
            return False
        pool.limit = effective
        pool.capacity = usable_limit(effective, self._share, self._margin)
        _logger.info(
            "%s: %r limit is now %d per %gs (advertised %d, built-in %d; usable %d)", self._name, limit_id,
            effective, pool.interval, limit, pool.builtin_limit, pool.capacity,
        )
        for waiter in (*pool.urgent, *pool.waiters):  # recompute their waits under the new limit
            waiter.wakeup.set()
        return True

    async def close(self) -> None:
        """Release what the throttler holds: nothing here (a shared-budget subclass closes its store)."""
        return None

    # ------------------------------------------------------------------------ exchange pushback
    def on_rate_limited(self, retry_after: float | None = None) -> float:
        """The exchange answered 429/418: pause every request through this throttler.

        With ``retry_after`` (seconds, from the Retry-After header) the pause lasts that long. Without
        it, the pause is an exponential backoff: ``backoff_initial`` doubled for each rate-limit
        episode since the last accepted request, capped at ``backoff_max``. Answers that arrive
        while a pause is already running (requests sent before it) do not escalate the backoff but
        may extend the pause to their Retry-After. Returns the seconds the pause still lasts.
        """
        now = self._clock.time()
        if now < self._paused_until:
            if retry_after is not None:
                self._paused_until = max(self._paused_until, now + max(0.0, retry_after))
        else:
            self._backoff_streak += 1
            if retry_after is not None:
                delay = max(0.0, retry_after)
            else:
                delay = min(self._backoff_max, self._backoff_initial * 2 ** (self._backoff_streak - 1))
            self._paused_until = now + delay
            _logger.warning(
                "Exchange rate limit hit (episode %d): pausing all requests for %.3fs (%s)",
                self._backoff_streak, delay, "Retry-After" if retry_after is not None else "backoff",
            )
        return self._paused_until - now

    def on_request_accepted(self) -> None:
        """The exchange accepted a request sent after the last pause: the next 429 without
        Retry-After starts again from ``backoff_initial``."""
        if self._backoff_streak and self._clock.time() >= self._paused_until:
            self._backoff_streak = 0


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
