"""What a product (spot, futures) gets from the sandbox, and what it must provide."""

from __future__ import annotations

import asyncio
import logging
import random
import zlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.ratelimit import RateLimitRule

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SandboxConfig:
    """Durations and intervals; tests shrink them (accelerated clock)."""

    listen_key_validity_ms: int = 3_600_000
    listen_key_sweep_s: float = 1.0
    depth_fast_ms: int = 100
    depth_slow_ms: int = 1000
    ws_heartbeat_s: float = 20.0
    simulator_interval_s: float = 0.2
    rate_limit_ban_after: int = 3
    rate_limit_ban_ms: int = 120_000
    #: Override the spot REQUEST_WEIGHT/ORDERS rules (None = Binance's documented ones).
    spot_rate_limits: tuple[RateLimitRule, ...] | None = None
    #: Override the USD-M futures REQUEST_WEIGHT/ORDERS rules (None = Binance's documented ones).
    futures_rate_limits: tuple[RateLimitRule, ...] | None = None


class SandboxContext:
    """Shared services handed to every product."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        accounts: AccountRegistry,
        faults: FaultInjector,
        config: SandboxConfig,
        seed: int | None,
        simulate: bool = True,
    ) -> None:
        self.clock = clock
        self.accounts = accounts
        self.faults = faults
        self.config = config
        self.seed = seed
        self.simulate = simulate
        self._tasks: set[asyncio.Task[Any]] = set()

    def rng(self, name: str) -> random.Random:
        """A generator per consumer, seeded from the sandbox seed and ``name`` (stable across runs)."""
        if self.seed is None:
            return random.Random()
        return random.Random(self.seed * 1_000_003 + zlib.crc32(name.encode()))

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start an owned background task; it is cancelled by :meth:`cancel_tasks`, and a crash is logged."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox task %s died", task.get_name(), exc_info=task.exception())

    async def cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Repeater:
    """Calls ``step`` every ``interval_s`` seconds until cancelled. A failing step is logged and counted
    and the loop goes on: one bad round must not silence the streams or stop the market for good."""

    def __init__(self, name: str, interval_s: float, step: Callable[[], None]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.step = step
        self.failures = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.step()
            except Exception:
                self.failures += 1
                log.exception("sandbox %s failed (%d so far)", self.name, self.failures)


class Product(Protocol):
    """A product module (``spot``, ``futures``), built by ``create_product(ctx, markets)``."""

    name: str

    def mount(self, rest_app: web.Application, stream_app: web.Application) -> None:
        """Add REST routes to ``rest_app`` and stream endpoints (``/ws``, ``/stream``) to ``stream_app``."""

    async def start(self) -> None:
        """Start background tasks with ``ctx.spawn``."""

    async def stop(self) -> None:
        """Close sockets; tasks are cancelled by the sandbox."""

    def dump_state(self) -> dict[str, Any]:
        """JSON-able state, persisted on clean stop."""
        ...

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`dump_state` returned (before :meth:`start`)."""
