"""UserStreamTrackerDataSource: the account's private event stream, as raw events in a queue.

The template runs one authenticated WebSocket connection at a time, forever, reconnecting with
exponential backoff and jitter (:func:`connectorkit.net.ws_assistant.run_with_reconnect`). A
connector subclasses it and writes:

=====================================  ==================================================================
``_connected_websocket_assistant()``   **required** -- open and authenticate a connection (e.g. create
                                       a Binance listen key and connect to ``/ws/<listenKey>``, or
                                       connect and send a signed login message).
``_subscribe_channels(ws)``            optional -- subscribe after connecting (default: nothing).
``_keep_alive()``                      optional -- runs while connected, e.g. refresh the listen key
                                       every 30 min; raising ends the connection (default: nothing).
``_decode_event(raw)``                 optional -- decode one message; return ``None`` to drop control
                                       messages (default: JSON decode, once).
``_on_user_stream_interruption(ws)``   optional -- clean up after a connection ends (default:
                                       disconnect).
=====================================  ==================================================================

Listeners registered with :meth:`add_connection_listener` are told after every successful
(re)connection, so the connector can reconcile from REST whatever happened while disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, NoReturn

import msgspec

from connectorkit.net.ws_assistant import WSAssistant, run_with_reconnect

logger = logging.getLogger(__name__)

ConnectionListener = Callable[[int], None]
"""Called with the connection number (1 for the first connection, 2+ for reconnections)."""


class UserStreamTrackerDataSource(ABC):
    """Authenticates, keeps the session alive and queues raw user events (see module docs)."""

    RECONNECT_MIN_DELAY: float = 1.0
    RECONNECT_MAX_DELAY: float = 30.0

    def __init__(self, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self._last_recv_time = 0.0
        self._connection_count = 0
        self._connected = False
        self._connection_listeners: list[ConnectionListener] = []
        self.malformed_message_count = 0

    # ---- state ------------------------------------------------------------------------------------
    @property
    def last_recv_time(self) -> float:
        """Wall-clock seconds of the last message received (0.0 before the first)."""
        return self._last_recv_time

    @property
    def connection_count(self) -> int:
        """How many times a connection was established and subscribed."""
        return self._connection_count

    @property
    def connected(self) -> bool:
        """True while a subscribed connection is open."""
        return self._connected

    def add_connection_listener(self, listener: ConnectionListener) -> None:
        self._connection_listeners.append(listener)

    # ---- the template -----------------------------------------------------------------------------
    async def listen_for_user_stream(self, output: asyncio.Queue[Any]) -> NoReturn:
        """Run until cancelled: connect, subscribe, queue every user event; reconnect on any loss."""
        await run_with_reconnect(
            lambda: self._connect_and_consume(output),
            name=f"{type(self).__name__} user stream",
            min_delay=self.RECONNECT_MIN_DELAY,
            max_delay=self.RECONNECT_MAX_DELAY,
            logger=logger,
        )

    async def _connect_and_consume(self, output: asyncio.Queue[Any]) -> None:
        ws = await self._connected_websocket_assistant()
        try:
            await self._subscribe_channels(ws)
            self._connected = True
            self._connection_count += 1
            self._notify_connected(self._connection_count)
            await self._run_until_disconnected(ws, output)
        finally:
            self._connected = False
            await self._on_user_stream_interruption(ws)

    async def _run_until_disconnected(self, ws: WSAssistant, output: asyncio.Queue[Any]) -> None:
        consume = asyncio.create_task(
            self._process_websocket_messages(ws, output), name=f"{type(self).__name__}:consume"
        )
        keep_alive = asyncio.create_task(self._keep_alive(), name=f"{type(self).__name__}:keep-alive")
        try:
            pending: set[asyncio.Task[None]] = {consume, keep_alive}
            while consume in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # re-raise what ended the connection
        finally:
            for task in (consume, keep_alive):
                task.cancel()
            await asyncio.gather(consume, keep_alive, return_exceptions=True)

    async def _process_websocket_messages(self, ws: WSAssistant, output: asyncio.Queue[Any]) -> None:
        async for raw in ws.iter_messages():
            self._last_recv_time = self._wall_clock()
            try:
                event = self._decode_event(raw)
            except (msgspec.DecodeError, ValueError, TypeError) as exc:
                self.malformed_message_count += 1
                logger.warning("malformed user stream message skipped (%s)", exc)
                continue
            if event is not None:
                output.put_nowait(event)

    def _notify_connected(self, number: int) -> None:
        for listener in self._connection_listeners:
            try:
                listener(number)
            except Exception:
                logger.exception("user stream connection listener failed")

    # ---- what a connector writes ------------------------------------------------------------------
    @abstractmethod
    async def _connected_websocket_assistant(self) -> WSAssistant:
        """Open an authenticated connection to the user stream."""

    async def _subscribe_channels(self, ws: WSAssistant) -> None:  # noqa: B027 - optional hook
        """Subscribe to the private channels after connecting (nothing by default)."""

    async def _keep_alive(self) -> None:  # noqa: B027 - optional hook
        """Keep the session alive while connected (nothing by default); raise to reconnect."""

    def _decode_event(self, raw: str | bytes) -> Any:
        """Decode one message (JSON by default); return ``None`` to drop it."""
        return msgspec.json.decode(raw)

    async def _on_user_stream_interruption(self, ws: WSAssistant) -> None:
        """Clean up after a connection ended, for whatever reason."""
        await ws.disconnect()
