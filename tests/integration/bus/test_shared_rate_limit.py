"""The rate-limit budget shared through Redis: atomic across throttlers, a conservative local share
without Redis, and three trading processes on one key under the sandbox's order limit."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from decimal import Decimal
from typing import Any

import pytest

from connectorkit.bus.rate_limit_store import SharedBudgetThrottler, account_namespace
from connectorkit.net.throttler import LinkedLimitWeightPair, RateLimit, RequestPriority
from connectorkit.sandbox import Sandbox, SandboxConfig
from support.paths import REPO_ROOT
from support.redis_server import RedisServer, free_port

CHILD = str(REPO_ROOT / "tests" / "support" / "rate_limit_child.py")


def _limits() -> list[RateLimit]:
    # ORDER (own pool 100/s) linked with weight 2 to WEIGHT (20/s): usable 19 with the 5 % margin.
    linked = [LinkedLimitWeightPair("WEIGHT", 2)]
    return [RateLimit("WEIGHT", 20, 1.0), RateLimit("ORDER", 100, 1.0, linked_limits=linked)]


def _most_in_any_window(times_ms: list[int], window_ms: int) -> int:
    times = sorted(times_ms)
    return max(sum(1 for u in times if t <= u < t + window_ms) for t in times)


async def test_throttlers_sharing_a_store_never_exceed_a_pool_together(redis_server: RedisServer) -> None:
    namespace = account_namespace("test", "key-1")
    throttlers = [SharedBudgetThrottler(_limits(), redis_server.url, namespace) for _ in range(3)]
    try:
        async def burst(throttler: SharedBudgetThrottler) -> None:
            for _ in range(8):
                await throttler.acquire("ORDER")

        await asyncio.gather(*(burst(t) for t in throttlers))
        grants = [t for throttler in throttlers for t in throttler.shared_grants]  # server clock, ms
        assert len(grants) == 24
        # WEIGHT's usable limit is floor(20 * 0.95) = 19, and each grant takes 2 of it: 9 per second.
        assert _most_in_any_window(grants, 1000) <= 9
        assert all(t.fallback is None and t.participants_seen == 3 for t in throttlers)
    finally:
        await asyncio.gather(*(t.close() for t in throttlers))


async def test_an_unreachable_store_falls_back_to_a_conservative_share_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://:pw-not-logged@127.0.0.1:{free_port()}/0"
    throttler = SharedBudgetThrottler([RateLimit("ORDERS", 10, 60.0)], url, account_namespace("test", "k"))
    caplog.set_level(logging.WARNING)
    try:
        for _ in range(4):  # floor(10 * 50 % * 0.95) = 4 fit in the fallback's window at once
            await asyncio.wait_for(throttler.acquire("ORDERS"), 10)
        assert throttler.fallback is not None
        assert throttler.fallback.usable_limit("ORDERS") == 4 and throttler.usable_limit("ORDERS") == 9
        assert throttler.fallback.used_weight("ORDERS") == 4
        warnings = [r for r in caplog.records if "rate-limit store" in r.getMessage()]
        assert len(warnings) == 1 and "redis://:***@127.0.0.1" in warnings[0].getMessage()
        assert "pw-not-logged" not in caplog.text
    finally:
        await throttler.close()


async def _run_three(
    sb: Sandbox, key: str, secret: str, store_url: str | None, count: int
) -> list[dict[str, Any]]:
    env = {**os.environ, "CK_KEY": key, "CK_SECRET": secret,
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    args = [CHILD, sb.rest_url, sb.ws_url, sb.ws_api_url, str(count), *([store_url] if store_url else [])]
    children = [await asyncio.create_subprocess_exec(sys.executable, *args, stdin=asyncio.subprocess.PIPE,
                                                     stdout=asyncio.subprocess.PIPE, env=env)
                for _ in range(3)]
    try:
        for child in children:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert json.loads(line) == {"event": "ready"}, line
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        results = []
        for child in children:
            assert child.stdout is not None
            results.append(json.loads(await asyncio.wait_for(child.stdout.readline(), 120)))
        return results
    finally:
        for child in children:
            if child.returncode is None:
                await asyncio.wait_for(child.wait(), 30)


@pytest.mark.timeout(240)
async def test_three_processes_on_one_key_stay_under_the_sandbox_order_limit(
    redis_server: RedisServer,
) -> None:
    """The sandbox allows 100 new orders per 10 s per account; each process alone (70 orders) is
    under it, the three together (210) are not, unless they share the budget."""
    async with Sandbox(seed=3, futures_markets=[], config=SandboxConfig(simulator_interval_s=0.2)) as sb:
        rejected = _count_order_rejections(sb)
        key, secret = sb.create_account({"USDT": Decimal(100_000)})
        results = await _run_three(sb, key, secret, redis_server.url, 70)
        assert rejected[0] == 0, results
        assert sum(r["created"] for r in results) == 210 and all(r["failed"] == 0 for r in results)

        key, secret = sb.create_account({"USDT": Decimal(100_000)})
        results = await _run_three(sb, key, secret, None, 70)
        assert rejected[0] > 0  # the sandbox counted the orders over its limit
        assert sum(r["failed"] for r in results) > 0


def _count_order_rejections(sb: Sandbox) -> list[int]:
    """Wrap the sandbox's order counter so that every order it refuses (-1015, 429) is counted."""
    rejected = [0]
    limiter = sb.spot.limiter
    charge = limiter.charge_order

    def counting(account_id: int, now_ms: int) -> dict[str, str]:
        try:
            result: dict[str, str] = charge(account_id, now_ms)
        except Exception:
            rejected[0] += 1
            raise
        return result

    limiter.charge_order = counting  # type: ignore[method-assign]
    return rejected


async def test_a_waiting_order_goes_before_other_processes_background_requests(
    redis_server: RedisServer,
) -> None:
    namespace = account_namespace("test", "key-2")
    limits = [RateLimit("W", 10, 1.0)]  # usable 9 per second, locally and shared
    # Two background pollers ask twice what the shared window holds: it stays full.
    pollers = [SharedBudgetThrottler(limits, redis_server.url, namespace) for _ in range(2)]
    trader = SharedBudgetThrottler(limits, redis_server.url, namespace)
    try:
        async def poll(poller: SharedBudgetThrottler) -> None:
            while True:
                await poller.acquire("W", RequestPriority.NORMAL)

        polling = [asyncio.create_task(poll(poller)) for poller in pollers]
        for _ in range(1000):  # until the shared window has made both pollers wait
            if all(poller.shared_denials for poller in pollers):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the pollers never filled the shared window")
        for _ in range(5):  # an order that finds the window full (not one that slips into a gap)
            denied_before = len(trader.shared_denials)
            await asyncio.wait_for(trader.acquire("W", RequestPriority.HIGH), 10)
            if len(trader.shared_denials) > denied_before:
                asked_at, granted_at = trader.shared_denials[denied_before], trader.shared_grants[-1]
                break
        else:
            raise AssertionError("no order found the shared window full")
        for _ in range(1000):  # polling goes on once the order is through
            if max(poller.shared_grants[-1] for poller in pollers) > granted_at:
                break
            await asyncio.sleep(0.01)
        for task in polling:
            task.cancel()
        await asyncio.gather(*polling, return_exceptions=True)
        # Between the order finding the window full and its grant, no background request passed.
        others = [t for poller in pollers for t in poller.shared_grants]
        assert [t for t in others if asked_at < t < granted_at] == []
        assert max(others) > granted_at
    finally:
        await asyncio.gather(*(throttler.close() for throttler in (*pollers, trader)))
