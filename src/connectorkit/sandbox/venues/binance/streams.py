"""WebSocket market/user streams: Binance's raw (``/ws/<stream>``) and combined (``/stream?streams=``)
endpoints with live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY
(Spot docs "WebSocket Streams" → "Live Subscribing/Unsubscribing to streams"; same on USD-M Futures).

``hub.publish(stream, payload)`` encodes the payload once per frame shape and queues it to every
connection subscribed to ``stream``. Each connection has one owned writer task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.responses import error_response
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.wsconn import QueuedSocket, SocketSet


class _Conn(QueuedSocket):
    def __init__(self, ws: web.WebSocketResponse, combined: bool, transport: asyncio.BaseTransport | None):
        super().__init__(ws, combined, transport)
        self.streams: list[str] = []


class StreamHub(SocketSet[_Conn]):
    """Stream endpoints of one product. ``on_subscribe(stream)`` lets the product start producing."""

    def __init__(
        self,
        faults: FaultInjector,
        *,
        name: str,
        on_subscribe: Callable[[str], None] | None = None,
        heartbeat: float | None = 20.0,
        serves: Callable[[str], bool] | None = None,
    ) -> None:
        """``serves(stream)``: is this a stream the product produces (None = every name is)."""
        self.name = name
        self.serves = serves
        self.faults = faults
        self._on_subscribe = on_subscribe
        self._by_stream: dict[str, set[int]] = {}
        self.messages_sent = 0
        super().__init__(faults, heartbeat)

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._handle_raw)
        app.router.add_get("/ws/{streams:.+}", self._handle_raw)
        app.router.add_get("/stream", self._handle_combined)

    def mount_raw_alias(self, app: web.Application, prefix: str) -> None:
        """Serve the raw endpoints (``/ws``, ``/ws/<streams>``) under ``prefix`` too."""
        app.router.add_get(prefix, self._handle_raw)
        app.router.add_get(prefix + "/{streams:.+}", self._handle_raw)

    # ---- publishing ------------------------------------------------------------------------------
    def has_subscribers(self, stream: str) -> bool:
        return bool(self._by_stream.get(stream))

    def publish(self, stream: str, payload: dict[str, Any] | list[Any]) -> None:
        ids = self._by_stream.get(stream)
        if not ids:
            return
        if self.faults.is_paused(stream):
            return
        raw: str | None = None
        combined: str | None = None
        for conn_id in list(ids):
            conn = self._conns.get(conn_id)
            if conn is None or conn.dead:
                continue
            if conn.combined:
                if combined is None:
                    combined = msgspec.json.encode({"stream": stream, "data": payload}).decode()
                conn.queue.put_nowait(combined)
            else:
                if raw is None:
                    raw = msgspec.json.encode(payload).decode()
                conn.queue.put_nowait(raw)

    # ---- connections -----------------------------------------------------------------------------
    async def _handle_raw(self, request: web.Request) -> web.StreamResponse:
        streams = request.match_info.get("streams", "")
        return await self._serve(request, [s for s in streams.split("/") if s], combined=False)

    async def _handle_combined(self, request: web.Request) -> web.StreamResponse:
        streams = request.query.get("streams", "")
        return await self._serve(request, [s for s in streams.split("/") if s], combined=True)

    def _subscribe(self, conn: _Conn, stream: str) -> None:
        if stream in conn.streams:
            return
        conn.streams.append(stream)
        self._by_stream.setdefault(stream, set()).add(conn.conn_id)
        if self._on_subscribe is not None:
            self._on_subscribe(stream)

    def _unsubscribe(self, conn: _Conn, stream: str) -> None:
        if stream in conn.streams:
            conn.streams.remove(stream)
        ids = self._by_stream.get(stream)
        if ids is not None:
            ids.discard(conn.conn_id)
            if not ids:
                del self._by_stream[stream]

    async def _serve(self, request: web.Request, streams: list[str], *, combined: bool) -> web.StreamResponse:
        unserved = self._unserved(streams)
        if unserved:
            # Refused before the upgrade: a socket that opens and then stays silent would look healthy.
            return error_response(ApiError(2, f"Invalid request: invalid stream {unserved[0]}"))
        conn = await self._accept(
            request,
            lambda ws, transport: _Conn(ws, combined, transport),
            f"sandbox-{self.name}-ws-writer",
            self._sent,
        )
        ws = conn.ws
        for stream in streams:
            self._subscribe(conn, stream)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    reply = self._control(conn, msg.data)
                    if reply is not None:
                        conn.queue.put_nowait(msgspec.json.encode(reply).decode())
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            await self._close(conn)
        return ws

    def _unserved(self, streams: list[str]) -> list[str]:
        if self.serves is None:
            return []
        return [s for s in streams if not self.serves(s)]

    def _sent(self) -> None:
        self.messages_sent += 1
        self.faults.on_ws_message_sent()

    def _release(self, conn: _Conn) -> None:
        for stream in list(conn.streams):
            self._unsubscribe(conn, stream)

    # ---- control messages ------------------------------------------------------------------------
    def _control(self, conn: _Conn, text: str) -> dict[str, Any] | None:
        try:
            msg = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}
        if not isinstance(msg, dict):
            return {"code": 3, "msg": "Invalid request: request ID must be an unsigned integer"}
        req_id = msg.get("id")
        if "id" not in msg or not _valid_id(req_id):
            return {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}
        method = msg.get("method")
        params = msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return {"code": 2, "msg": "Invalid request: invalid stream", "id": req_id}
            if method == "SUBSCRIBE" and self._unserved(params):
                return {"code": 2, "msg": "Invalid request: invalid stream", "id": req_id}
            for stream in params:
                (self._subscribe if method == "SUBSCRIBE" else self._unsubscribe)(conn, stream)
            return {"result": None, "id": req_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(conn.streams), "id": req_id}
        if method == "SET_PROPERTY":
            if isinstance(params, list) and len(params) == 2 and params[0] == "combined":
                if not isinstance(params[1], bool):
                    return {"code": 1, "msg": "Invalid value type: expected Boolean", "id": req_id}
                conn.combined = params[1]
                return {"result": None, "id": req_id}
            return {"code": 0, "msg": "Unknown property", "id": req_id}
        if method == "GET_PROPERTY":
            if isinstance(params, list) and params == ["combined"]:
                return {"result": conn.combined, "id": req_id}
            return {"code": 0, "msg": "Unknown property", "id": req_id}
        if not isinstance(method, str):
            column = len(text)
            return {"code": 2, "msg": f"Invalid request: missing field `method` at line 1 column {column}"}
        quoted = msgspec.json.encode(method).decode()
        column = text.find(quoted) + len(quoted) if quoted in text else len(text)
        return {
            "code": 2,
            "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
            f"`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column {column}",
        }


def _valid_id(req_id: Any) -> bool:
    """Accepted request ids (Spot docs "Live Subscribing/Unsubscribing to streams"): a 64-bit signed
    integer, an alphanumeric string of at most 36 characters, or null."""
    if req_id is None:
        return True
    if isinstance(req_id, bool):
        return False
    if isinstance(req_id, int):
        return -(2**63) <= req_id < 2**63
    return isinstance(req_id, str) and len(req_id) <= 36 and req_id.replace("-", "").isalnum()
