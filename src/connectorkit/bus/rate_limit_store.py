"""One rate-limit budget for every process of an account: the throttler's windows kept in Redis.

:class:`SharedBudgetThrottler` is an :class:`~connectorkit.net.throttler.AsyncThrottler` whose
every grant is also taken from sliding windows kept in Redis, one per pool, shared by every
process that uses the same connector and API key. The check and the grant of all of a request's
pools (its own and the linked ones) run as one server-side Lua script, so two processes can never
both take the last unit (no read-then-write race), and the script reads the server's clock, so the
processes' clocks do not matter. The local windows stay in force too (they keep this process's
arrival order and bound it alone).

Each window is a sorted set of grants (score: server time in ms, member: ``<id>:<weight>``) with
the running weight beside it in a counter; expired grants are removed as they age out, so a check
costs O(log n) plus the grants that expire. Keys live under ``ck:rl:<connector>:<key hash>``
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
from connectorkit.net.throttler import AsyncThrottler, RateLimit

_LOG = logging.getLogger(__name__)

FALLBACK_MIN_PARTICIPANTS = 2
"""Without Redis, assume at least this many processes share the account (so at most half)."""
STORE_RETRY_S = 10.0
PARTICIPANT_TTL_MS = 30_000

ACQUIRE_SCRIPT = """
-- KEYS: the participants set, then per pool its grants (zset) and its running weight (string).
-- ARGV: member id, participant id, then per pool: capacity, window ms, weight.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + PARTICIPANT_TTL, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], PARTICIPANT_TTL)
local participants = redis.call('ZCARD', KEYS[1])
local pools = (#KEYS - 1) / 2
local wait = 0
for i = 0, pools - 1 do
  local grants, total = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  local capacity = tonumber(ARGV[3 + 3 * i])
  local window = tonumber(ARGV[4 + 3 * i])
  local weight = tonumber(ARGV[5 + 3 * i])
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
  if excess > 0 then
    local live = redis.call('ZRANGE', grants, 0, -1, 'WITHSCORES')
    local freed = 0
    for j = 1, #live, 2 do
      freed = freed + tonumber(string.match(live[j], ':(%d+)$'))
      if freed >= excess then
        wait = math.max(wait, tonumber(live[j + 1]) + window - now)
        break
      end
    end
  end
end
if wait > 0 then return {wait, participants, now} end
for i = 0, pools - 1 do
  local grants, total = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  local window = tonumber(ARGV[4 + 3 * i])
  local weight = tonumber(ARGV[5 + 3 * i])
  redis.call('ZADD', grants, now, ARGV[1] .. ':' .. weight)
  redis.call('PEXPIRE', grants, window)
  redis.call('INCRBY', total, weight)
  redis.call('PEXPIRE', total, window)
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
        self._share = Decimal(str(limits_share_percentage))
        self._kwargs = kwargs
        self._url = connection.validate_url(store_url)
        self._client = connection.client_for(store_url)
        self._script = self._client.register_script(ACQUIRE_SCRIPT)
        self._participant = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._members = (f"{self._participant}-{n}" for n in range(1 << 62))
        self._keys = {
            limit_id: self._script_layout(namespace, demands) for limit_id, demands in self._demands.items()
        }
        self._participants_key = f"{namespace}:participants"
        self.participants_seen = 0
        self.fallback: AsyncThrottler | None = None
        self._retry_at = 0.0
        self.shared_grants: list[int] = []
        """Server times (ms) of this throttler's shared grants, newest last (bounded; diagnostics)."""

    def __repr__(self) -> str:
        return f"SharedBudgetThrottler({connection.mask_url(self._url)})"

    @staticmethod
    def _script_layout(namespace: str, demands: Any) -> tuple[list[str], list[int]]:
        pool_keys: list[str] = []
        args: list[int] = []
        for pool, weight in demands:
            pool_keys += [f"{namespace}:{pool.limit_id}:grants", f"{namespace}:{pool.limit_id}:used"]
            args += [pool.capacity, max(1, int(pool.interval * 1000)), weight]
        return pool_keys, args

    def try_acquire(self, limit_id: str) -> bool:
        """Never grants without waiting: the shared budget can only be asked asynchronously."""
        self._lookup(limit_id)
        return False

    async def acquire(self, limit_id: str) -> None:
        """The local windows first (this process's order), then the shared budget."""
        await super().acquire(limit_id)
        if self.fallback is not None:
            if self.clock.time() < self._retry_at:
                await self.fallback.acquire(limit_id)
                return
            self._retry_at = self.clock.time() + STORE_RETRY_S
        await self._acquire_shared(limit_id)

    async def _acquire_shared(self, limit_id: str) -> None:
        pool_keys, args = self._keys[limit_id]
        keys = [self._participants_key, *pool_keys]
        while True:
            try:
                answer = await self._script(keys=keys, args=[next(self._members), self._participant, *args])
            except (RedisError, OSError) as exc:
                await self._fall_back(limit_id, exc)
                return
            wait_ms, participants, now_ms = (int(x) for x in cast("list[int]", answer))
            self.participants_seen = participants
            if self.fallback is not None:
                _LOG.warning("rate-limit store at %s reachable again: the shared budget is back",
                             connection.mask_url(self._url))
                self.fallback = None
            if wait_ms <= 0:
                self.shared_grants.append(now_ms)
                if len(self.shared_grants) > 100_000:
                    del self.shared_grants[:50_000]
                return
            await self.clock.sleep(wait_ms / 1000)

    async def _fall_back(self, limit_id: str, exc: BaseException) -> None:
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
        await self.fallback.acquire(limit_id)

    async def close(self) -> None:
        await self._client.aclose()
        if self.fallback is not None:
            await self.fallback.close()
