"""One rate-limit budget for every process of an account: the throttler's windows kept in Redis.

:class:`SharedBudgetThrottler` is an :class:`~connectorkit.net.throttler.AsyncThrottler` whose
every grant is also taken from sliding windows kept in Redis, one per pool, shared by every
process that uses the same connector and API key. The check and the grant of all of a request's
pools (its own and the linked ones) run as one server-side Lua script, so two processes can never
both take the last unit (no read-then-write race), and the script reads the server's clock, so the
processes' clocks do not matter. The local windows stay in force too (they keep this process's
priorities and arrival order, and bound it alone).

Priority across processes: an order (HIGH) that finds a shared window full leaves a marker on the
pool until the room it waits for frees (plus 1 s of slack should it oversleep); while the marker
stands, background (NORMAL) requests of every process wait, so the order takes the first room.

Each window is a sorted set of grants (score: server time in ms, member: ``<id>:<weight>``) with
the running weight beside it in a counter; expired grants are removed as they age out, so a grant
costs O(log n) plus the grants that expire (a refused request also reads the live grants, to say
how long to wait). Keys live under ``ck:rl:<connector>:<key hash>``
(the API key is never written: a SHA-256 prefix names the account).

If Redis is unreachable, the throttler logs it once and falls back to a conservative local share:
the configured share divided by the number of processes last seen sharing the budget (at least
:data:`FALLBACK_MIN_PARTICIPANTS`), and tries Redis again every :data:`STORE_RETRY_S` seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from redis.exceptions import RedisError

from connectorkit.bus import connection
from connectorkit.net.throttler import AsyncThrottler, RateLimit, RequestPriority, current_request_priority

_LOG = logging.getLogger(__name__)

FALLBACK_MIN_PARTICIPANTS = 2
"""Without Redis, assume at least this many processes share the account (so at most half)."""
STORE_RETRY_S = 10.0
PARTICIPANT_TTL_MS = 30_000

ACQUIRE_SCRIPT = """
-- KEYS: the participants set, then per pool its grants (zset), its running weight (string) and
-- its urgent marker (string: a HIGH request is waiting for room somewhere).
-- ARGV: member id, participant id, urgent (1 for HIGH, 0 for NORMAL), then per pool: capacity,
-- window ms, weight.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + PARTICIPANT_TTL, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], PARTICIPANT_TTL)
local participants = redis.call('ZCARD', KEYS[1])
local urgent = ARGV[3] == '1'
local pools = (#KEYS - 1) / 3
local wait = 0
for i = 0, pools - 1 do
  local grants, total, marker = KEYS[2 + 3 * i], KEYS[3 + 3 * i], KEYS[4 + 3 * i]
  local capacity = tonumber(ARGV[4 + 3 * i])
  local window = tonumber(ARGV[5 + 3 * i])
  local weight = tonumber(ARGV[6 + 3 * i])
  local used = tonumber(redis.call('GET', total) or '0')
  local old = redis.call('ZRANGEBYSCORE', grants, '-inf', now - window)
  for _, member in ipairs(old) do
    used = used - tonumber(string.match(member, ':(%d+)$'))
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', grants, '-inf', now - window)
    redis.call('SET', total, used, 'PX', window)
  end
  local excess = used + weight - capacity
  local pool_wait = 0
  if excess > 0 then
    local live = redis.call('ZRANGE', grants, 0, -1, 'WITHSCORES')
    local freed = 0
    for j = 1, #live, 2 do
      freed = freed + tonumber(string.match(live[j], ':(%d+)$'))
      if freed >= excess then
        pool_wait = tonumber(live[j + 1]) + window - now
        break
      end
    end
  end
  if urgent then
    if pool_wait > 0 then  -- hold NORMAL requests off this pool until the room is ours (1 s slack)
      redis.call('SET', marker, '1', 'PX', pool_wait + 1000)
    end
  else
    local held = redis.call('PTTL', marker)
    if held > 0 then pool_wait = math.max(pool_wait, held) end
  end
  wait = math.max(wait, pool_wait)
end
if wait > 0 then return {wait, participants, now} end
for i = 0, pools - 1 do
  local grants, total = KEYS[2 + 3 * i], KEYS[3 + 3 * i]
  local window = tonumber(ARGV[5 + 3 * i])
  local weight = tonumber(ARGV[6 + 3 * i])
  redis.call('ZADD', grants, now, ARGV[1] .. ':' .. weight)
  redis.call('PEXPIRE', grants, window)
  redis.call('INCRBY', total, weight)
  redis.call('PEXPIRE', total, window)
  if urgent then redis.call('DEL', KEYS[4 + 3 * i]) end
end
return {0, participants, now}
""".replace("PARTICIPANT_TTL", str(PARTICIPANT_TTL_MS))


def account_namespace(connector: str, api_key: str) -> str:
    """``ck:rl:<connector>:<first 16 hex digits of SHA-256(api key)>``."""
    return f"ck:rl:{connector}:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"


class SharedBudgetThrottler(AsyncThrottler):
    """An :class:`AsyncThrottler` whose grants also come from a budget shared through Redis."""

    def __init__(
        self,
        rate_limits: Iterable[RateLimit],
        store_url: str,
        namespace: str,
        limits_share_percentage: float | Decimal = 100,
        **kwargs: Any,
    ) -> None:
        limits = list(rate_limits)
        super().__init__(limits, limits_share_percentage, **kwargs)
        self._limits = limits
        self._kwargs = kwargs
        self._url = connection.validate_url(store_url)
        self._client = connection.client_for(store_url)
        self._script = self._client.register_script(ACQUIRE_SCRIPT)
        self._participant = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._members = (f"{self._participant}-{n}" for n in range(1 << 62))
        self._namespace = namespace
        self._participants_key = f"{namespace}:participants"
        self.participants_seen = 0
        self.fallback: AsyncThrottler | None = None
        self._retry_at = 0.0
        self.shared_grants: list[int] = []
        """Server times (ms) of this throttler's shared grants, newest last (bounded; diagnostics)."""
        self.shared_denials: list[int] = []
        """Server times (ms) at which the shared budget made a request of this throttler wait."""

    def __repr__(self) -> str:
        return f"SharedBudgetThrottler({connection.mask_url(self._url)})"

    def _script_layout(self, limit_id: str) -> tuple[list[str], list[int]]:
        """The pools' keys and (capacity, window, weight) of a request, as the pools stand now (an
        advertised limit may have lowered a capacity)."""
        pool_keys: list[str] = []
        args: list[int] = []
        for pool, weight in self._lookup(limit_id):
            base = f"{self._namespace}:{pool.limit_id}"
            pool_keys += [f"{base}:grants", f"{base}:used", f"{base}:urgent"]
            args += [pool.capacity, max(1, int(pool.interval * 1000)), weight]
        return pool_keys, args

    def try_acquire(self, limit_id: str, priority: RequestPriority | None = None) -> bool:
        """Never grants without waiting: the shared budget can only be asked asynchronously."""
        self._lookup(limit_id)
        return False

    async def acquire(self, limit_id: str, priority: RequestPriority | None = None) -> None:
        """The local windows first (this process's priorities and order), then the shared budget,
        where a waiting HIGH request holds NORMAL ones of every process off its pools."""
        await super().acquire(limit_id, priority)
        urgent = (current_request_priority() if priority is None else priority) is RequestPriority.HIGH
        if self.fallback is not None:
            if self.clock.time() < self._retry_at:
                await self.fallback.acquire(limit_id, priority)
                return
            self._retry_at = self.clock.time() + STORE_RETRY_S
        await self._acquire_shared(limit_id, urgent, priority)

    async def _acquire_shared(self, limit_id: str, urgent: bool, priority: RequestPriority | None) -> None:
        while True:
            pool_keys, args = self._script_layout(limit_id)
            keys = [self._participants_key, *pool_keys]
            head = [next(self._members), self._participant, 1 if urgent else 0]
            try:
                answer = await self._script(keys=keys, args=[*head, *args])
            except (RedisError, OSError) as exc:
                await self._fall_back(limit_id, priority, exc)
                return
            wait_ms, participants, now_ms = (int(x) for x in cast("list[int]", answer))
            self.participants_seen = participants
            if self.fallback is not None:
                _LOG.warning("rate-limit store at %s reachable again: the shared budget is back",
                             connection.mask_url(self._url))
                self.fallback = None
            if wait_ms <= 0:
                _record(self.shared_grants, now_ms)
                return
            _record(self.shared_denials, now_ms)
            await self.clock.sleep(wait_ms / 1000)

    async def _fall_back(self, limit_id: str, priority: RequestPriority | None, exc: BaseException) -> None:
        if self.fallback is None:
            peers = max(self.participants_seen, FALLBACK_MIN_PARTICIPANTS)
            share = self._share / peers
            _LOG.warning("rate-limit store at %s unreachable (%s): using a local share of %s %% "
                         "(1/%d of %s %%) until it is back", connection.mask_url(self._url),
                         connection.describe(exc), share, peers, self._share)
            self.fallback = AsyncThrottler(self._limits, share, clock=self.clock, **{
                k: v for k, v in self._kwargs.items() if k != "clock"
            })
        self._retry_at = self.clock.time() + STORE_RETRY_S
        await self.fallback.acquire(limit_id, priority)

    async def close(self) -> None:
        await self._client.aclose()
        if self.fallback is not None:
            await self.fallback.close()


def _record(times: list[int], now_ms: int) -> None:
    times.append(now_ms)
    if len(times) > 100_000:
        del times[:50_000]
