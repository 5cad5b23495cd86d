"""WSAssistant and run_with_reconnect against an in-process aiohttp WebSocket server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import WSClosedError, WSConnectError, WSError, WSTimeoutError
from connectorkit.net.rest_request import RESTRequest
from connectorkit.net.throttler import AsyncThrottler, RateLimit
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant, reconnect_delay, run_with_reconnect
from connectorkit.net.ws_request import WSJSONRequest
from support.clocks import SkipClock
from support.local_server import local_server

LISTEN_KEY = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
API_KEY = "wsApiKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"

PINGS = web.AppKey("pings", list[bytes])
PONGS = web.AppKey("pongs", list[bytes])
CONNECTIONS = web.AppKey("connections", list[str])


def build_app() -> web.Application:
    app = web.Application()
    app[PINGS] = []
    app[PONGS] = []
    app[CONNECTIONS] = []

    async def echo(request: web.Request) -> web.WebSocketResponse:
        """Echoes text; JSON-string commands: "binary", "ping", "drop", "close:<code>:<reason>"."""
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is WSMsgType.PING:
                app[PINGS].append(msg.data)
                await ws.pong(msg.data)
                continue
            if msg.type is WSMsgType.PONG:
                app[PONGS].append(msg.data)
                await ws.send_str("got pong")
                continue
            command = msgspec.json.decode(msg.data) if msg.type is WSMsgType.TEXT else None
            if command == "binary":
                await ws.send_bytes(b"\x1f\x8b raw")
            elif command == "ping":
                await ws.ping(b"server-ping")
            elif isinstance(command, str) and command.startswith("close:"):
                _, code, reason = command.split(":", 2)
                await ws.close(code=int(code), message=reason.encode())
            elif command == "drop":
                assert request.transport is not None
                request.transport.abort()
            elif command == "eof":  # an orderly TCP close, but no WebSocket close frame
                assert request.transport is not None
                request.transport.close()
            else:
                await ws.send_str(msg.data)
        return ws

    async def silent(request: web.Request) -> web.WebSocketResponse:
        """Never sends and never answers pings."""
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    async def deaf(request: web.Request) -> web.WebSocketResponse:
        """Reads nothing for 2 s, so our close frame gets no answer meanwhile (a dead peer)."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await asyncio.sleep(2.0)
        return ws

    async def user_stream(request: web.Request) -> web.WebSocketResponse:
        """Sends one event then closes (1001 going away), like a server restart."""
        app[CONNECTIONS].append(request.match_info["key"])
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(f'{{"e":"event","n":{len(app[CONNECTIONS])}}}')
        await ws.close(code=1001, message=b"going away")
        return ws

    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403, text="forbidden")

    app.router.add_get("/ws", echo)
    app.router.add_get("/silent", silent)
    app.router.add_get("/deaf", deaf)
    app.router.add_get("/ws/{key}", user_stream)
    app.router.add_get("/forbidden/{key}", forbidden)
    return app


class WsAuth(AuthBase):
    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        return request

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        return dataclasses.replace(request, payload={**request.payload, "apiKey": self._api_key})

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key,)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async with local_server(build_app()) as srv:
        yield srv


@pytest.fixture
async def factory() -> AsyncIterator[WebAssistantsFactory]:
    factory = WebAssistantsFactory(AsyncThrottler([RateLimit("WS_MESSAGES", 5, 1.0)]), WsAuth(API_KEY))
    yield factory
    await factory.close()


def ws_url(server: TestServer, path: str) -> str:
    return str(server.make_url(path).with_scheme("ws"))


async def test_send_and_iterate_raw_messages(server: TestServer, factory: WebAssistantsFactory) -> None:
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/ws"))
    assert ws.connected and ws.last_recv_time == 0.0
    payload = {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}
    await ws.send_json(payload, throttler_limit_id="WS_MESSAGES")
    await ws.send(WSJSONRequest({"method": "LIST_SUBSCRIPTIONS", "id": 2}, is_auth_required=True))
    await ws.send_json("binary")
    received: list[str | bytes] = []
    async for message in ws.iter_messages():
        received.append(message)
        if len(received) == 3:
            await ws.disconnect()
    # Text frames come back as the raw str (undecoded), binary frames as bytes.
    assert received[0] == msgspec.json.encode(payload).decode()
    assert msgspec.json.decode(received[1]) == {"method": "LIST_SUBSCRIPTIONS", "id": 2, "apiKey": API_KEY}
    assert received[2] == b"\x1f\x8b raw"
    assert factory.throttler.used_weight("WS_MESSAGES") == 1
    assert ws.last_recv_time > 0 and not ws.connected


async def test_last_recv_time_uses_the_injected_clock(server: TestServer) -> None:
    now = [100.0]
    async with aiohttp.ClientSession() as session:
        ws = WSAssistant(session, AsyncThrottler([]), wall_clock=lambda: now[0])
        await ws.connect(ws_url(server, "/ws"))
        await ws.send_json("a")
        assert await ws.receive() == '"a"'
        assert ws.last_recv_time == 100.0
        now[0] = 160.5
        await ws.send_json("b")
        await ws.receive()
        assert ws.last_recv_time == 160.5
        await ws.disconnect()
        assert await ws.receive() is None


async def test_server_ping_is_answered_and_client_ping_is_sent(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/ws"))
    await ws.send_json("ping")  # the server pings us; our automatic pong makes it answer "got pong"
    assert await ws.receive() == "got pong"
    assert server.app[PONGS] == [b"server-ping"]
    await ws.ping(b"client-ping")
    await ws.send_json("after")
    assert await ws.receive() == '"after"'  # the server's pong was consumed, not yielded
    assert server.app[PINGS] == [b"client-ping"]
    await ws.disconnect()


@pytest.mark.parametrize(("code", "reason"), [(4001, "session expired"), (1000, ""), (1008, "policy")])
async def test_server_close_codes_become_typed_errors(
    server: TestServer, factory: WebAssistantsFactory, code: int, reason: str
) -> None:
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/ws"))
    await ws.send_json(f"close:{code}:{reason}")
    with pytest.raises(WSClosedError) as info:
        async for _ in ws.iter_messages():
            pass
    assert (info.value.code, info.value.reason) == (code, reason)
    assert ws.close_code == code and not ws.connected
    with pytest.raises(WSClosedError):  # sending on a closed connection is typed too
        await ws.send_json("late")


@pytest.mark.parametrize("how", ["drop", "eof"])
async def test_connection_lost_without_a_close_frame_is_abnormal_closure(
    server: TestServer, factory: WebAssistantsFactory, how: str
) -> None:
    # RFC 6455 section 7.1.5: no Close frame received -> the close code is 1006. "drop" aborts the
    # server's transport, "eof" closes the TCP stream cleanly; neither sends a Close frame.
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/ws"))
    await ws.send_json(how)
    with pytest.raises(WSClosedError) as info:
        await ws.receive()
    assert info.value.code == 1006
    assert ws.close_code == 1006 and not ws.connected


async def test_disconnect_from_a_dead_peer_is_bounded_by_the_close_timeout(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    # Without a bound, aiohttp waits 10 s for the peer's close frame, so stopping a connector on a
    # dead network would hang that long. The 1 s guard is a liveness check: the bound here is 0.05 s.
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/deaf"), close_timeout=0.05)
    async with asyncio.timeout(1.0):
        await ws.disconnect()
    assert not ws.connected and ws.close_code == 1006


async def test_message_timeout(server: TestServer, factory: WebAssistantsFactory) -> None:
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/silent"), message_timeout=0.05)
    with pytest.raises(WSTimeoutError, match=r"within 0\.05s"):
        await ws.receive()
    await ws.disconnect()


async def test_message_timeout_ends_the_connection(server: TestServer, factory: WebAssistantsFactory) -> None:
    """A silent connection is dead: the timeout closes the socket instead of leaving it to fill up."""
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/silent"), message_timeout=0.05)
    with pytest.raises(WSTimeoutError):
        await ws.receive()
    assert not ws.connected
    with pytest.raises(WSClosedError) as info:
        await ws.receive()
    assert info.value.code == 1006
    await ws.connect(ws_url(server, "/ws"))  # the assistant can be connected again at once
    await ws.send_json("again")
    assert await ws.receive() == '"again"'
    await ws.disconnect()


async def test_heartbeat_without_pong_is_a_timeout(server: TestServer, factory: WebAssistantsFactory) -> None:
    ws = await factory.get_ws_assistant()
    await ws.connect(ws_url(server, "/silent"), heartbeat=0.1)
    with pytest.raises(WSTimeoutError, match="pong"):
        await ws.receive()
    assert not ws.connected


async def test_connect_errors_are_typed_and_hide_the_secret_path(
    server: TestServer, factory: WebAssistantsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ws = await factory.get_ws_assistant()
    with pytest.raises(WSConnectError) as info:
        await ws.connect(ws_url(server, f"/forbidden/{LISTEN_KEY}"), display_url="ws://exchange/ws/<listenKey>")
    assert info.value.status == 403
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WSConnectError) as refused:
        await ws.connect(f"ws://127.0.0.1:{port}/ws?listenKey={LISTEN_KEY}")
    assert refused.value.status is None
    for text in (str(info.value), repr(info.value), str(refused.value), caplog.text):
        assert LISTEN_KEY not in text
    assert str(info.value).startswith("cannot connect to ws://exchange/ws/<listenKey> (HTTP 403)")


async def test_double_connect_and_unauthenticated_send_are_refused(
    server: TestServer
) -> None:
    async with aiohttp.ClientSession() as session:
        ws = WSAssistant(session, AsyncThrottler([]))
        with pytest.raises(WSClosedError, match="not connected"):
            await ws.send_json("x")
        await ws.connect(ws_url(server, "/ws"))
        with pytest.raises(WSError, match="already connected"):
            await ws.connect(ws_url(server, "/ws"))
        with pytest.raises(WSError, match="needs auth"):
            await ws.send_json({"a": 1}, is_auth_required=True)
        await ws.disconnect()


# ------------------------------------------------------------------------------------ reconnect
def test_reconnect_delay_is_exponential_capped_and_jittered() -> None:
    delays = [reconnect_delay(n, min_delay=1.0, max_delay=10.0, rand=0.0) for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert reconnect_delay(3, min_delay=1.0, max_delay=10.0, rand=0.999999) == pytest.approx(4.0)
    assert reconnect_delay(10_000, min_delay=1.0, max_delay=30.0, rand=0.5) == 22.5


async def test_run_with_reconnect_reconnects_with_backoff(
    server: TestServer, factory: WebAssistantsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SkipClock()
    events: list[Any] = []
    done = asyncio.Event()

    async def connect_and_consume() -> None:
        ws = await factory.get_ws_assistant()
        await ws.connect(ws_url(server, f"/ws/{LISTEN_KEY}"), display_url="ws://exchange/ws/<listenKey>")
        run = len(events) + 1
        if run == 3:
            clock.now += 60.0  # this connection was healthy for a minute: the backoff starts over
        if run == 5:
            done.set()
            raise KeyError("bug in the consumer")
        async for raw in ws.iter_messages():
            events.append(msgspec.json.decode(raw))

    caplog.set_level(logging.INFO)
    task = asyncio.create_task(
        run_with_reconnect(connect_and_consume, name="user stream", min_delay=0.1, max_delay=1.0,
                           healthy_after=30.0, clock=clock, rand=lambda: 0.5),
        name="reconnect-test",
    )
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e["n"] for e in events] == [1, 2, 3, 4]
    assert server.app[CONNECTIONS] == [LISTEN_KEY] * 5
    # base 0.1, 0.2, then reset by the healthy third run, 0.2, then the bug: base 0.4; jitter 0.75
    assert clock.sleeps == pytest.approx([0.075, 0.15, 0.075, 0.15, 0.3])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0] == "user stream: WSClosedError: WebSocket closed with code 1001: going away; " \
        "reconnecting in 0.08s (attempt 1)"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert LISTEN_KEY not in caplog.text


async def test_cancelling_the_reconnect_loop_mid_receive_propagates_and_leaks_no_task(
    server: TestServer, factory: WebAssistantsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    receiving = asyncio.Event()
    cleaned_up: list[bool] = []

    async def connect_and_consume() -> None:
        ws = await factory.get_ws_assistant()
        await ws.connect(ws_url(server, "/silent"), heartbeat=30.0)
        try:
            receiving.set()
            async for _ in ws.iter_messages():
                pass
        finally:
            await ws.disconnect()
            cleaned_up.append(not ws.connected)

    before = asyncio.all_tasks()
    task = asyncio.create_task(run_with_reconnect(connect_and_consume, name="feed", clock=SkipClock()),
                               name="feed-loop")
    await asyncio.wait_for(receiving.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and cleaned_up == [True]
    # The test server's own handler tasks wind down on their side; no client-side task may remain.
    leaked = [t for t in asyncio.all_tasks() - before if "RequestHandler" not in repr(t.get_coro())]
    assert leaked == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a stop is not a failure


async def test_a_throttled_message_is_signed_after_its_wait(server: TestServer) -> None:
    """A signed WS message carries a timestamp (e.g. Binance WS API, checked against recvWindow): it
    must be signed when it may be sent, not before a throttler wait that can last seconds."""
    clock = SkipClock()

    class StampAuth(WsAuth):
        async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
            return dataclasses.replace(request, payload={**request.payload, "timestamp": clock.now})

    throttler = AsyncThrottler([RateLimit("ORDERS", 1, 10.0)], safety_margin_pct=0, clock=clock)
    async with aiohttp.ClientSession() as session:
        ws = WSAssistant(session, throttler, StampAuth(API_KEY))
        await ws.connect(ws_url(server, "/ws"))
        for n in range(2):
            await ws.send_json({"n": n}, is_auth_required=True, throttler_limit_id="ORDERS")
        echoed = [msgspec.json.decode(await ws.receive()) for _ in range(2)]
        await ws.disconnect()
    assert clock.sleeps == [10.0]
    assert [e["timestamp"] for e in echoed] == [0.0, 10.0]
