"""Delivery of user-data events to an account's listen-key streams and WS-API subscriptions.

The duplicate/reorder faults are applied here, so every product gets them for free.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.venues.binance.listenkeys import ListenKey, ListenKeyRegistry
from connectorkit.sandbox.venues.binance.streams import StreamHub

Event = dict[str, Any]
Sink = Callable[[Event], None]


class UserEventBus:
    def __init__(
        self,
        faults: FaultInjector,
        hub: StreamHub,
        listen_keys: ListenKeyRegistry,
        clock: SandboxClock,
        *,
        expired_time_as_string: bool = False,
    ) -> None:
        """``expired_time_as_string``: spot documents ``listenKeyExpired.E`` as a string, futures as a int."""
        self._faults = faults
        self._hub = hub
        self._keys = listen_keys
        self._clock = clock
        self._expired_str = expired_time_as_string
        self._sinks: dict[int, tuple[int, Sink]] = {}
        self._tokens = itertools.count(1)
        self._held: dict[int, Event] = {}
        #: The most recent deliveries (account id, event), for assertions.
        self.delivered: deque[tuple[int, Event]] = deque(maxlen=10_000)
        listen_keys.on_expired.append(self._on_key_expired)

    def add_sink(self, account_id: int, sink: Sink) -> int:
        token = next(self._tokens)
        self._sinks[token] = (account_id, sink)
        return token

    def remove_sink(self, token: int) -> None:
        self._sinks.pop(token, None)

    def push(self, account_id: int, event: Event) -> None:
        fault = self._faults.take_user_event_fault()
        if fault == "reorder":
            held = self._held.pop(account_id, None)
            if held is not None:
                self._deliver(account_id, held)
            self._held[account_id] = event
            return
        self._deliver(account_id, event)
        if fault == "duplicate":
            self._deliver(account_id, event)
        held = self._held.pop(account_id, None)
        if held is not None:
            self._deliver(account_id, held)

    def _deliver(self, account_id: int, event: Event) -> None:
        self.delivered.append((account_id, event))
        for key in self._keys.keys_for(account_id):
            self._hub.publish(key, event)
        for acct, sink in list(self._sinks.values()):
            if acct == account_id:
                sink(event)

    def _on_key_expired(self, lk: ListenKey, now_ms: int) -> None:
        # Spot docs "User Data Streams" / USD-M docs "Event: User Data Stream Expired".
        event_time: int | str = str(now_ms) if self._expired_str else now_ms
        self._hub.publish(lk.key, {"e": "listenKeyExpired", "E": event_time, "listenKey": lk.key})
