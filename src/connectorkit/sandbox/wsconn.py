"""One server-side WebSocket of the sandbox and the owned writer task that drains its frame queue.

A skin's stream endpoints (on Binance: the market/user ``StreamHub`` and the futures ``/private``
routes) queue encoded frames here instead of writing to the socket themselves,
so a slow client never blocks the code that publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from aiohttp import web

from connectorkit.sandbox.faults import FaultInjector

log = logging.getLogger(__name__)

_conn_ids = itertools.count(1)


class QueuedSocket:
    """A connection: its socket, frame queue and writer. ``combined`` is the frame shape it wants
    (``{"stream": ..., "data": ...}`` wrappers or raw payloads)."""

    def __init__(
        self, ws: web.WebSocketResponse, combined: bool, transport: asyncio.BaseTransport | None
    ) -> None:
        self.conn_id = next(_conn_ids)
        self.ws = ws
        self.combined = combined
        self.transport = transport
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.writer: asyncio.Task[None] | None = None
        self.dead = False  # the writer stopped: nothing reads the queue any more

    def start_writer(self, name: str, on_sent: Callable[[], None]) -> None:
        """Start the task that sends queued frames in order; ``on_sent`` runs after each frame."""
        self.writer = asyncio.create_task(self._write(on_sent), name=name)

    async def _write(self, on_sent: Callable[[], None]) -> None:
        try:
            while True:
                frame = await self.queue.get()
                if frame is None or self.ws.closed:
                    return
                await self.ws.send_str(frame)
                on_sent()
        except (ConnectionResetError, RuntimeError):
            return  # the client went away while we were writing
        except Exception:
            log.exception("websocket writer %s died", self.conn_id)
            raise
        finally:
            self.dead = True
            while not self.queue.empty():
                self.queue.get_nowait()

    def abort(self) -> None:
        """Cut the socket without a close frame (what a client sees when the network drops)."""
        if isinstance(self.transport, asyncio.Transport):
            self.transport.abort()

    async def stop(self) -> None:
        """Cancel the writer and close the socket (with a close frame if it is still open)."""
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        if not self.ws.closed:
            await self.ws.close()


def abort_all(conns: Iterable[QueuedSocket]) -> int:
    """The drop-websockets fault over ``conns``; returns how many were cut."""
    cut = list(conns)
    for conn in cut:
        conn.abort()
    return len(cut)


ConnT = TypeVar("ConnT", bound=QueuedSocket)


class SocketSet(Generic[ConnT]):
    """The open connections of one WebSocket endpoint; the drop-websockets fault cuts them all.

    A subclass accepts with :meth:`_accept` and frees what it attached to a connection (stream
    subscriptions, event sinks) in :meth:`_release`.
    """

    def __init__(self, faults: FaultInjector, heartbeat: float | None) -> None:
        self._heartbeat = heartbeat
        self._conns: dict[int, ConnT] = {}
        faults.register_ws_dropper(self.drop_all)

    async def _accept(
        self,
        request: web.Request,
        make: Callable[[web.WebSocketResponse, asyncio.BaseTransport | None], ConnT],
        writer_prefix: str,
        on_sent: Callable[[], None],
    ) -> ConnT:
        """Upgrade ``request``, register the connection ``make`` builds and start its writer task
        (named ``<writer_prefix>-<conn_id>``)."""
        ws = web.WebSocketResponse(heartbeat=self._heartbeat)
        await ws.prepare(request)
        conn = make(ws, request.transport)
        self._conns[conn.conn_id] = conn
        conn.start_writer(f"{writer_prefix}-{conn.conn_id}", on_sent)
        return conn

    def _release(self, conn: ConnT) -> None:
        """Detach ``conn`` from what feeds it (called once, before its socket is closed)."""

    async def _close(self, conn: ConnT) -> None:
        if self._conns.pop(conn.conn_id, None) is None:
            return
        self._release(conn)
        await conn.stop()

    def drop_all(self) -> int:
        """Abort every connection (the drop fault): clients see the socket die without a close frame."""
        return abort_all(self._conns.values())

    async def close(self) -> None:
        for conn in list(self._conns.values()):
            await self._close(conn)
