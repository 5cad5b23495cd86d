"""QueuedSocket: the writer a sandbox WebSocket endpoint owns, against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from connectorkit.sandbox.wsconn import QueuedSocket, abort_all


class _Server:
    def __init__(self) -> None:
        self.conns: list[QueuedSocket] = []
        self.sent = 0
        self.opened = asyncio.Event()
        self.url = ""

    def _on_sent(self) -> None:
        self.sent += 1

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = QueuedSocket(ws, False, request.transport)
        conn.start_writer(f"test-writer-{conn.conn_id}", self._on_sent)
        self.conns.append(conn)
        self.opened.set()
        async for _ in ws:
            pass
        await conn.stop()
        return ws


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    srv = _Server()
    app = web.Application()
    app.router.add_get("/ws", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    srv.url = f"http://127.0.0.1:{port}/ws"
    yield srv
    await runner.cleanup()


async def test_frames_are_sent_in_order_and_counted(server: _Server) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.url) as ws:
        await server.opened.wait()
        conn = server.conns[0]
        for frame in ("a", "b", "c"):
            conn.queue.put_nowait(frame)
        assert [await ws.receive_str(timeout=5) for _ in range(3)] == ["a", "b", "c"]
        assert server.sent == 3


async def test_stop_ends_the_writer_and_closes_the_socket(server: _Server) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.url) as ws:
        await server.opened.wait()
        conn = server.conns[0]
        await conn.stop()
        assert conn.writer is not None and conn.writer.done()
        assert conn.dead  # nothing reads the queue any more
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_abort_all_cuts_sockets_without_a_close_frame(server: _Server) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.url) as ws:
        await server.opened.wait()
        assert abort_all(server.conns) == 1
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert ws.close_code != 1000
