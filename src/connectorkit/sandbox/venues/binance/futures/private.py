"""The routed ``/private`` user-data endpoint of fstream (USDⓈ-M docs, WebSocket Market Streams,
"Important WebSocket Change Notice — Base URL Split & Migration"):

* ``/private/ws?listenKey=<key>&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE`` (ws mode, raw events);
* ``/private/stream?listenKey=<k1>&events=...&listenKey=<k2>&events=...`` (stream mode, events wrapped
  as ``{"stream": <listenKey>, "data": ...}``);
* ``/private/ws/<listenKey>`` (all events of that key, as the other derivatives products document it).

``events`` is an allow-list per listen key; without it every event type is delivered. A key that expires
gets its ``listenKeyExpired`` event and nothing more. Events reach this module through the shared
:class:`~connectorkit.sandbox.venues.binance.userstream.UserEventBus` (so the duplicate/reorder
faults apply), and the drop-websockets fault closes these sockets too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.venues.binance.listenkeys import ListenKey, ListenKeyRegistry
from connectorkit.sandbox.venues.binance.userstream import UserEventBus
from connectorkit.sandbox.wsconn import QueuedSocket, SocketSet

log = logging.getLogger(__name__)

Event = dict[str, Any]
#: Frames a connection may have waiting for its socket. A client that stops reading is cut off when
#: this fills (like an exchange dropping a slow consumer) instead of the sandbox queueing forever.
MAX_QUEUED_FRAMES = 10_000


class _Conn(QueuedSocket):
    def __init__(
        self, ws: web.WebSocketResponse, combined: bool, transport: asyncio.BaseTransport | None
    ) -> None:
        super().__init__(ws, combined, transport)
        self.filters: dict[str, frozenset[str] | None] = {}  # listen key -> allowed event types
        self.sinks: list[int] = []


def parse_subscriptions(query: list[tuple[str, str]]) -> dict[str, frozenset[str] | None]:
    """Pair each ``listenKey`` with the ``events`` parameter that follows it (None = all events)."""
    subs: dict[str, frozenset[str] | None] = {}
    current: str | None = None
    for name, value in query:
        if name == "listenKey" and value:
            current = value
            subs[current] = None
        elif name == "events" and current is not None:
            subs[current] = frozenset(e for e in value.split("/") if e)
    return subs


class PrivateStreams(SocketSet[_Conn]):
    def __init__(
        self,
        faults: FaultInjector,
        bus: UserEventBus,
        listen_keys: ListenKeyRegistry,
        heartbeat: float = 20.0,
        max_queued: int = MAX_QUEUED_FRAMES,
    ) -> None:
        self.max_queued = max_queued
        self.slow_consumers_dropped = 0
        self._faults = faults
        self._bus = bus
        self._keys = listen_keys
        listen_keys.on_expired.append(self._on_expired)
        super().__init__(faults, heartbeat)

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/private/ws", self._handle_ws)
        app.router.add_get("/private/ws/{key}", self._handle_ws)
        app.router.add_get("/private/stream", self._handle_stream)

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        subs = parse_subscriptions(list(request.rel_url.query.items()))
        key = request.match_info.get("key")
        if key:
            subs[key] = None
        return await self._serve(request, subs, combined=False)

    async def _handle_stream(self, request: web.Request) -> web.StreamResponse:
        subs = parse_subscriptions(list(request.rel_url.query.items()))
        return await self._serve(request, subs, combined=True)

    async def _serve(
        self, request: web.Request, subs: dict[str, frozenset[str] | None], *, combined: bool
    ) -> web.StreamResponse:
        conn = await self._accept(
            request, lambda ws, transport: _Conn(ws, combined, transport),
            "sandbox-futures-private-writer", self._faults.on_ws_message_sent,
        )
        ws = conn.ws
        for key, events in subs.items():
            lk = self._keys.get(key)
            if lk is None:
                log.info("private stream: unknown listen key ignored")
                continue
            conn.filters[key] = events
            conn.sinks.append(self._bus.add_sink(lk.account_id, self._sink(conn, key)))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.ERROR:
                    break
        finally:
            await self._close(conn)
        return ws

    def _sink(self, conn: _Conn, key: str) -> Any:
        def deliver(event: Event) -> None:
            if key not in conn.filters or self._keys.get(key) is None:
                return
            self._send(conn, key, event)

        return deliver

    def _send(self, conn: _Conn, key: str, event: Event) -> None:
        if conn.dead or self._faults.is_paused(key):
            return  # the pause-stream fault names the listen key, as on the legacy /ws/<listenKey>
        allowed = conn.filters.get(key)
        if allowed is not None and event.get("e") not in allowed:
            return
        if conn.queue.qsize() >= self.max_queued:
            conn.dead = True
            self.slow_consumers_dropped += 1
            log.warning("private stream %s: client fell %d frames behind; dropping it", conn.conn_id,
                        self.max_queued)
            conn.abort()
            return
        payload = {"stream": key, "data": event} if conn.combined else event
        conn.queue.put_nowait(msgspec.json.encode(payload).decode())

    def _on_expired(self, lk: ListenKey, now_ms: int) -> None:
        # "Event: User Data Stream Expired", then nothing more for that key.
        event = {"e": "listenKeyExpired", "E": now_ms, "listenKey": lk.key}
        for conn in list(self._conns.values()):
            if lk.key in conn.filters:
                self._send(conn, lk.key, event)
                del conn.filters[lk.key]

    def _release(self, conn: _Conn) -> None:
        for token in conn.sinks:
            self._bus.remove_sink(token)
