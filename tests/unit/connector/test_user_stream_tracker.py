import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectorkit.connector.user_stream_tracker import UserStreamTracker
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant


class _Server:
    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self.subscriptions: list[Any] = []
        self.url = ""

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            self.subscriptions.append(json.loads(msg.data))
            self.connected.set()
        return ws


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    srv = _Server()
    app = web.Application()
    app.router.add_get("/ws", srv.handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ws"
    yield srv
    for ws in srv.sockets:
        await ws.close()
    await runner.cleanup()


class _DataSource(UserStreamTrackerDataSource):
    RECONNECT_MIN_DELAY = 0.01
    RECONNECT_MAX_DELAY = 0.02

    def __init__(self, factory: WebAssistantsFactory, url: str) -> None:
        super().__init__()
        self._factory = factory
        self._url = url

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws = await self._factory.get_ws_assistant()
        await ws.connect(self._url)
        return ws

    async def _subscribe_channels(self, ws: WSAssistant) -> None:
        await ws.send_json({"op": "subscribe"})

    def _decode_event(self, raw: str | bytes) -> Any:
        event = super()._decode_event(raw)
        return None if event.get("type") == "pong" else event


async def test_events_queued_malformed_skipped_and_reconnect_notified(
    server: _Server, caplog: pytest.LogCaptureFixture
) -> None:
    factory = WebAssistantsFactory(AsyncThrottler([]))
    source = _DataSource(factory, server.url)
    connections: list[int] = []
    reconnected = asyncio.Event()

    def on_connected(number: int) -> None:
        connections.append(number)
        if number == 2:
            reconnected.set()

    source.add_connection_listener(on_connected)
    tracker = UserStreamTracker(source)
    await tracker.start()
    await tracker.start()  # idempotent
    try:
        async with asyncio.timeout(5):
            await server.connected.wait()
            assert source.connected
            ws = server.sockets[-1]
            await ws.send_str('{"type": "pong"}')
            await ws.send_str("{not json")
            await ws.send_str('{"type": "order", "id": 1}')
            event = await tracker.user_stream.get()
            assert event == {"type": "order", "id": 1}
            assert tracker.last_recv_time > 0
            assert source.malformed_message_count == 1
            assert tracker.user_stream.empty()  # the pong was dropped

            server.connected.clear()
            with caplog.at_level(logging.WARNING):
                await ws.close(code=1011, message=b"restart")
                await reconnected.wait()
            await server.connected.wait()
            assert connections == [1, 2]
            assert server.subscriptions == [{"op": "subscribe"}, {"op": "subscribe"}]
            assert "reconnecting" in caplog.text
            await server.sockets[-1].send_str('{"type": "balance"}')
            assert (await tracker.user_stream.get()) == {"type": "balance"}
    finally:
        await tracker.stop()
        await factory.close()
    assert not tracker.is_running
    assert not source.connected


class _FailingKeepAlive(_DataSource):
    def __init__(self, factory: WebAssistantsFactory, url: str) -> None:
        super().__init__(factory, url)
        self.keep_alive_calls = 0
        self.second_keep_alive = asyncio.Event()

    async def _keep_alive(self) -> None:
        self.keep_alive_calls += 1
        if self.keep_alive_calls == 1:
            raise RuntimeError("listen key expired")
        self.second_keep_alive.set()


async def test_keep_alive_failure_forces_a_reconnect(server: _Server) -> None:
    factory = WebAssistantsFactory(AsyncThrottler([]))
    source = _FailingKeepAlive(factory, server.url)
    second = asyncio.Event()
    source.add_connection_listener(lambda n: second.set() if n == 2 else None)
    tracker = UserStreamTracker(source)
    await tracker.start()
    try:
        async with asyncio.timeout(5):
            await second.wait()
            await source.second_keep_alive.wait()
        assert source.keep_alive_calls == 2
        assert source.connection_count == 2
    finally:
        await tracker.stop()
        await factory.close()
