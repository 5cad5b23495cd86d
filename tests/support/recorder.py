"""Test helpers: record a connector's events and wait for conditions without wall-clock asserts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from connectorkit.connector.connector_base import ConnectorBase
from connectorkit.core.events import MarketEvent
from support.waiting import wait_until


class Recorder:
    """Collects every event the connector emits, in order."""

    def __init__(self, connector: ConnectorBase) -> None:
        self.events: list[tuple[MarketEvent, Any]] = []
        self._changed = asyncio.Event()
        self._listeners = []
        for tag in MarketEvent:
            listener = self._make_listener(tag)
            self._listeners.append(listener)
            connector.add_listener(tag, listener)

    def _make_listener(self, tag: MarketEvent) -> Callable[[Any], None]:
        def listener(payload: Any) -> None:
            self.events.append((tag, payload))
            self._changed.set()

        return listener

    def of(self, tag: MarketEvent, order_id: str | None = None) -> list[Any]:
        return [p for t, p in self.events if t is tag and (order_id is None or p.order_id == order_id)]

    def tags(self, order_id: str) -> list[MarketEvent]:
        return [t for t, p in self.events if getattr(p, "order_id", None) == order_id]

    async def wait_for(self, tag: MarketEvent, order_id: str | None = None, count: int = 1) -> list[Any]:
        async with asyncio.timeout(5):
            while len(self.of(tag, order_id)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.of(tag, order_id)


async def until(predicate: Callable[[], bool], what: str) -> None:
    await wait_until(predicate, 5, what)
