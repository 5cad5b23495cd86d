"""Owned, named background tasks.

Every long-running coroutine of a connector or tracker runs through :class:`BackgroundTasks`, so each
one has a name, is cancelled (and awaited) on stop, and the exception that kills it is logged rather
than lost in an un-retrieved task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from connectorkit.net.throttler import normal_priority_context


class BackgroundTasks:
    """A set of tasks owned by one component (``owner`` prefixes every task name)."""

    def __init__(self, owner: str, logger: logging.Logger) -> None:
        self._owner = owner
        self._logger = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        self.crashed_count = 0

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        # Each task starts at NORMAL request priority whoever spawns it; placement and cancellation
        # raise their own requests to HIGH (see connectorkit.net.throttler).
        task = asyncio.create_task(coro, name=f"{self._owner}:{name}", context=normal_priority_context())
        self._tasks.add(task)
        task.add_done_callback(self._on_done)
        return task

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.crashed_count += 1
            self._logger.error("background task %s died", task.get_name(), exc_info=exc)

    @property
    def names(self) -> list[str]:
        """Names of the tasks still running (for diagnostics and tests)."""
        return sorted(task.get_name() for task in self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        """Cancel every task and wait until all of them have finished, including tasks spawned
        while waiting (e.g. an order placed while the connector stops)."""
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
