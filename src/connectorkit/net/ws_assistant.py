"""One WebSocket connection, and the reconnect loop that data sources run around it.

:class:`WSAssistant` yields each message's raw ``str`` (text frame) or ``bytes`` (binary frame)
and leaves decoding to the caller, so a message is decoded exactly once, into the caller's typed
schema. Pings from the server are answered automatically with a pong carrying the ping's payload,
as exchanges require (Binance spot streams ping every 20 s and drop a connection that has not
answered within a minute: "General WSS information",
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams). An optional
heartbeat pings the server and treats a missing pong as a dead connection. Everything that ends a
connection, except our own :meth:`WSAssistant.disconnect`, surfaces as a typed error:

- :class:`WSClosedError` -- the server closed (with its close code) or the network dropped (1006);
- :class:`WSTimeoutError` -- no message within ``message_timeout``, or no pong for the heartbeat;
- :class:`WSConnectError` -- the handshake failed.

:func:`run_with_reconnect` runs a ``connect_and_consume`` coroutine forever, reconnecting after
every loss with exponential backoff and jitter (exchanges also end every connection on their own,
e.g. Binance after 24 hours).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgspec

from connectorkit.net.auth import AuthBase
from connectorkit.net.clock import Clock, LoopClock
from connectorkit.net.errors import WebError, WSClosedError, WSConnectError, WSError, WSTimeoutError
from connectorkit.net.redaction import redact, url_without_secrets
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.ws_request import WSJSONRequest

_logger = logging.getLogger(__name__)

#: RFC 6455 section 7.4.1: the connection was closed without a close frame.
ABNORMAL_CLOSURE = 1006


class WSAssistant:
    """A WebSocket client connection on the connector's shared session (see module docs).

    :param wall_clock: source of :attr:`last_recv_time` (UNIX seconds by default).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        throttler: AsyncThrottler,
        auth: AuthBase | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._throttler = throttler
        self._auth = auth
        self._wall_clock = wall_clock
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._url = ""
        self._message_timeout: float | None = None
        self._closing = False
        self._last_recv_time = 0.0

    @property
    def last_recv_time(self) -> float:
        """When the last message was received (``wall_clock`` seconds); 0.0 before the first one."""
        return self._last_recv_time

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code if self._ws is not None else None

    async def connect(
        self,
        url: str,
        *,
        heartbeat: float | None = None,
        message_timeout: float | None = None,
        connect_timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        display_url: str | None = None,
        max_msg_size: int = 16 * 1024 * 1024,
        close_timeout: float = 2.0,
    ) -> None:
        """Open the connection.

        :param heartbeat: ping the server every ``heartbeat`` seconds; no pong within half of it
            ends the connection with :class:`WSTimeoutError`.
        :param message_timeout: longest silence tolerated by :meth:`receive`.
        :param close_timeout: how long :meth:`disconnect` waits for the server's close frame before
            dropping the socket (aiohttp's own default, 10 s, would stall a stop on a dead network).
        :param display_url: how the URL appears in errors and logs; by default the URL without its
            query string. Pass one when the path itself is secret (e.g. a listen key).
        """
        if self.connected:
            raise WSError("already connected; disconnect first")
        self._url = display_url if display_url is not None else _without_query(url)
        self._message_timeout = message_timeout
        self._closing = False
        try:
            async with asyncio.timeout(connect_timeout):
                self._ws = await self._session.ws_connect(
                    url, heartbeat=heartbeat, autoping=True, headers=headers, max_msg_size=max_msg_size,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=close_timeout),
                )
        except TimeoutError:
            raise WSConnectError(self._url, f"no handshake within {connect_timeout:g}s") from None
        except aiohttp.WSServerHandshakeError as exc:
            raise WSConnectError(self._url, self._redact(exc.message), exc.status) from None
        except aiohttp.ClientError as exc:
            raise WSConnectError(self._url, self._redact(f"{type(exc).__name__}: {exc}")) from None
        _logger.debug("WebSocket connected to %s", self._url)

    async def send(self, request: WSJSONRequest) -> None:
        """Throttle (if a limit id is given), authenticate (if required) and send one JSON message.

        The auth signs *after* the throttler wait, as REST does, so a signed timestamp is fresh.
        """
        ws = self._require_ws()
        if request.is_auth_required and self._auth is None:
            raise WSError("the message needs auth but the assistant has none")
        if request.throttler_limit_id is not None:
            async with self._throttler.execute_task(request.throttler_limit_id):
                await self._sign_and_send(ws, request)
        else:
            await self._sign_and_send(ws, request)

    async def _sign_and_send(self, ws: aiohttp.ClientWebSocketResponse, request: WSJSONRequest) -> None:
        if request.is_auth_required and self._auth is not None:
            request = await self._auth.ws_authenticate(request)
        await self._send_str(ws, msgspec.json.encode(request.payload).decode())

    async def send_json(
        self, payload: Any, *, is_auth_required: bool = False, throttler_limit_id: str | None = None
    ) -> None:
        """Shortcut for ``send(WSJSONRequest(payload, is_auth_required, throttler_limit_id))``."""
        await self.send(WSJSONRequest(payload, is_auth_required, throttler_limit_id))

    async def ping(self, payload: bytes = b"") -> None:
        """Send a ping frame (the server's pong is consumed by the connection)."""
        ws = self._require_ws()
        try:
            await ws.ping(payload)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise WSClosedError(ws.close_code or ABNORMAL_CLOSURE, self._redact(str(exc))) from None

    async def receive(self) -> str | bytes | None:
        """The next message; ``None`` once we disconnected ourselves. Raises on any other end.

        Pings and pongs are handled inside aiohttp (autoping) and never returned.
        """
        ws = self._require_ws()
        try:
            message = await ws.receive(timeout=self._message_timeout)
        except TimeoutError:
            # aiohttp leaves the socket open after a receive timeout; a silent connection is dead, so
            # close it (at once: aiohttp marked it 1006, so it does not wait for the server's reply).
            await ws.close()
            silence = f"nothing received from {self._url} within {self._message_timeout:g}s"
            raise WSTimeoutError(silence) from None
        if message.type is aiohttp.WSMsgType.TEXT or message.type is aiohttp.WSMsgType.BINARY:
            self._last_recv_time = self._wall_clock()
            data: str | bytes = message.data
            return data
        if self._closing:
            return None
        raise self._closed_error(ws, message)

    async def iter_messages(self) -> AsyncIterator[str | bytes]:
        """Yield raw messages until we disconnect; raise a typed error on any other end."""
        while (message := await self.receive()) is not None:
            yield message

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        """Close our side (idempotent); a pending :meth:`receive` then returns ``None``."""
        ws = self._ws
        if ws is None:
            return
        self._closing = True
        await ws.close(code=code, message=reason.encode())

    def _require_ws(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is None or (self._ws.closed and not self._closing):
            code = self._ws.close_code if self._ws is not None else None
            raise WSClosedError(code, "not connected")
        return self._ws

    async def _send_str(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        try:
            await ws.send_str(text)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise WSClosedError(ws.close_code or ABNORMAL_CLOSURE, self._redact(str(exc))) from None

    def _closed_error(self, ws: aiohttp.ClientWebSocketResponse, message: aiohttp.WSMessage) -> WSError:
        error = ws.exception()
        if isinstance(error, TimeoutError):  # aiohttp's heartbeat: ServerTimeoutError
            return WSTimeoutError(f"{self._url}: no pong for the heartbeat ping")
        if message.type is aiohttp.WSMsgType.CLOSE:
            return WSClosedError(int(message.data), self._redact(str(message.extra or "")))
        if message.type is aiohttp.WSMsgType.ERROR:
            return WSClosedError(ws.close_code or ABNORMAL_CLOSURE, self._redact(str(message.data)))
        reason = self._redact(f"{type(error).__name__}: {error}") if error is not None else ""
        return WSClosedError(ws.close_code or ABNORMAL_CLOSURE, reason)

    def _redact(self, text: str) -> str:
        return redact(text, self._auth.secret_values()) if self._auth is not None else text


def _without_query(url: str) -> str:
    parts = urlsplit(url_without_secrets(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def reconnect_delay(attempt: int, *, min_delay: float, max_delay: float, rand: float) -> float:
    """Delay before reconnect number ``attempt`` (1-based): exponential with "equal jitter".

    The base is ``min(max_delay, min_delay * 2 ** (attempt - 1))``; the delay is uniform in
    ``[base / 2, base]`` (``rand`` in [0, 1)), so clients that dropped together spread out but none
    reconnects sooner than half the base.
    """
    base = min(max_delay, min_delay * 2.0 ** min(max(attempt - 1, 0), 60))
    return base * (0.5 + 0.5 * rand)


async def run_with_reconnect(
    connect_and_consume: Callable[[], Awaitable[None]],
    *,
    name: str,
    min_delay: float = 1.0,
    max_delay: float = 30.0,
    healthy_after: float | None = None,
    logger: logging.Logger | None = None,
    clock: Clock | None = None,
    rand: Callable[[], float] = random.random,
) -> NoReturn:
    """Run ``connect_and_consume`` forever; after it ends or fails, wait and run it again.

    ``connect_and_consume`` connects, (re)subscribes, reconciles what may have been missed (e.g.
    a fresh snapshot or a REST refresh) and consumes messages until the connection ends. The n-th
    consecutive failure waits :func:`reconnect_delay` (n); a run that lasted ``healthy_after``
    seconds (default ``max_delay``) resets the count. Web-layer and network errors are logged as
    warnings, anything else (a bug in the consumer) with its traceback. Only cancellation stops it.
    """
    log = logger or _logger
    clock = clock or LoopClock()
    healthy = max_delay if healthy_after is None else healthy_after
    failures = 0
    while True:
        started = clock.time()
        try:
            await connect_and_consume()
            outcome = "connection ended"
        except (WebError, OSError, TimeoutError, aiohttp.ClientError) as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.exception("%s: unexpected error in the connection loop", name)
            outcome = f"unexpected {type(exc).__name__}"
        failures = 1 if clock.time() - started >= healthy else failures + 1
        delay = reconnect_delay(failures, min_delay=min_delay, max_delay=max_delay, rand=rand())
        log.warning("%s: %s; reconnecting in %.2fs (attempt %d)", name, outcome, delay, failures)
        await clock.sleep(delay)
