"""Swappable transports for a connector's market data: record it, or replay it from a capture.

Both work through the template's documented extension point, ``_create_web_assistants_factory``:
:func:`build_connector` subclasses the registered connector class and hands it a different
:class:`WebAssistantsFactory`. Everything above the web layer (the connector's data source, its
parsing, the order book tracker) is the connector's own, unchanged code.

- :class:`RecordingWebAssistantsFactory`: the real network, plus every 2xx REST answer, every
  WebSocket connection, every frame received and every frame the client sent written to a
  :class:`~connectorkit.cli.capture.CaptureWriter`.
- :class:`ReplayWebAssistantsFactory`: no network at all; :class:`ReplayTransport` answers book
  snapshot requests with recorded snapshots and feeds recorded frames to the connections
  subscribed to them, in recorded order, when the replay driver says so. A request waits for the
  recording's next snapshot of its symbol; a snapshot the recording reaches before the tracker
  asked (the recorder's tracker asked earlier than this one) answers the next request.

Neither knows any venue: which requests are snapshots, which subscriptions a connection URL or a
client frame makes, and which subscription a frame belongs to come from the connector's
:class:`~connectorkit.connector.replay_adapter.ReplayAdapter`. A recorded frame of a stream no
connection subscribed to may be delivered on a stream the adapter names as its equivalent
(:meth:`~connectorkit.connector.replay_adapter.ReplayAdapter.stream_substitutes`), and is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import msgspec

from connectorkit.cli.capture import CaptureWriter, Connect, Http, Recv, Send
from connectorkit.connector.capture_reader import CaptureRecord
from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.replay_adapter import ReplayAdapter
from connectorkit.connector.settings import build_settings, get_registration
from connectorkit.net.errors import ExchangeConnectionError
from connectorkit.net.rest_assistant import RESTAssistant, RESTPostProcessorBase
from connectorkit.net.rest_request import RESTRequest, RESTResponse
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant
from connectorkit.net.ws_request import WSJSONRequest

FactoryMaker = Callable[[ExchangePyBase], WebAssistantsFactory]


def build_connector(
    name: str,
    trading_pairs: Iterable[str],
    make_factory: FactoryMaker,
    *,
    symbol_map: Mapping[str, str] | None = None,
    **overrides: Any,
) -> ExchangePyBase:
    """The connector registered as ``name`` (public data only) on the web factory ``make_factory``
    builds. ``symbol_map`` (exchange symbol -> trading pair) is installed up front, so the
    connector needs no exchange-info request to resolve its pairs."""
    registration = get_registration(name)
    settings = build_settings(name, trading_pairs, trading_required=False, **overrides)
    if settings.trade_fee_schema is None:
        settings = settings.model_copy(update={"trade_fee_schema": registration.default_fees})
    base = type(registration.factory(settings))
    if not issubclass(base, ExchangePyBase):
        raise TypeError(f"connector {name!r} is not built on ExchangePyBase")

    class Connector(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if symbol_map:
                self._set_trading_pair_symbol_map(symbol_map)

        def _create_web_assistants_factory(self) -> WebAssistantsFactory:
            return make_factory(self)

    Connector.__name__ = Connector.__qualname__ = f"Transported{base.__name__}"
    return cast(ExchangePyBase, Connector(settings))


# ------------------------------------------------------------------------------------------ recording
class _RecordAnswers(RESTPostProcessorBase):
    def __init__(self, writer: CaptureWriter) -> None:
        self._writer = writer

    async def post_process(self, response: RESTResponse) -> RESTResponse:
        if 200 <= response.status < 300:
            self._writer.write(Http("rest", time.time(), response.url, response.text()))
        return response


class RecordingWSAssistant(WSAssistant):
    """A real WebSocket connection that also writes its URL, every frame it receives and every
    frame the client sends (its subscriptions, for a venue that subscribes by message). The
    recording factory has no auth, so no sent frame is ever signed: no key reaches the file."""

    def __init__(self, session: aiohttp.ClientSession, throttler: AsyncThrottler, writer: CaptureWriter,
                 conn: str) -> None:
        super().__init__(session, throttler)
        self._writer = writer
        self._conn = conn

    async def connect(self, url: str, **kwargs: Any) -> None:
        await super().connect(url, **kwargs)
        self._writer.write(Connect(self._conn, time.time(), url))

    async def _send_str(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        await super()._send_str(ws, text)
        self._writer.write(Send(self._conn, time.time(), text))

    async def receive(self) -> str | bytes | None:
        message = await super().receive()
        if message is not None:
            text = message if isinstance(message, str) else message.decode("utf-8", errors="replace")
            self._writer.write(Recv(self._conn, time.time(), text))
        return message


class RecordingWebAssistantsFactory(WebAssistantsFactory):
    """The connector's usual (unauthenticated) web layer, recording what it receives."""

    def __init__(self, throttler: AsyncThrottler, writer: CaptureWriter, *, request_timeout: float) -> None:
        super().__init__(throttler, None, rest_post_processors=[_RecordAnswers(writer)],
                         request_timeout=request_timeout)
        self._writer = writer
        self._connections = 0

    async def get_ws_assistant(self) -> WSAssistant:
        self._connections += 1
        return RecordingWSAssistant(self._ensure_session(), self.throttler, self._writer,
                                    f"ws.{self._connections}")


# ------------------------------------------------------------------------------------------ replay
_NO_SESSION = cast(aiohttp.ClientSession, None)
"""The replay assistants override every method that would touch a session; none is ever opened."""


def request_params(url: str, params: Mapping[str, Any] | None = None) -> dict[str, object]:
    """A request's parameters: its URL's query merged with ``params`` (which win)."""
    merged: dict[str, object] = dict(parse_qsl(urlsplit(url).query))
    merged.update(params or {})
    return merged


def recorded_snapshot_symbol(adapter: ReplayAdapter, record: CaptureRecord) -> str | None:
    """The symbol of a recorded REST answer that is a book snapshot (None: any other record)."""
    if record.kind != "http" or record.url is None:
        return None
    return adapter.snapshot_symbol(record.url, request_params(record.url))


class ReplayWSAssistant(WSAssistant):
    """A connection fed by :class:`ReplayTransport` instead of a socket. Its subscriptions are
    those of its URL plus those its sent frames add (minus those they remove), as the adapter
    reads them; a sent frame the venue answers gets the adapter's answer in the inbox."""

    def __init__(self, transport: ReplayTransport, throttler: AsyncThrottler) -> None:
        super().__init__(_NO_SESSION, throttler)
        self._transport = transport
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.streams: set[str] = set()
        self.url = ""
        self._open = False

    @property
    def connected(self) -> bool:
        return self._open

    async def connect(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.streams = self._transport.adapter.subscriptions_of_url(url)
        self._open = True
        self._transport.connections.append(self)

    async def send(self, request: WSJSONRequest) -> None:
        frame = msgspec.json.encode(request.payload).decode()
        adapter = self._transport.adapter
        change = adapter.subscription_change(frame)
        if change is not None:
            self.streams = (self.streams | change.added) - change.removed
        answer = adapter.acknowledgement(frame)
        if answer is not None and self._open:
            self.inbox.put_nowait(answer)

    async def ping(self, payload: bytes = b"") -> None:
        """Nothing to ping."""

    async def receive(self) -> str | bytes | None:
        if not self._open:
            return None
        return await self.inbox.get()

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        if self._open:
            self._open = False
            self.inbox.put_nowait(None)
            if self in self._transport.connections:
                self._transport.connections.remove(self)


class ReplayRESTAssistant(RESTAssistant):
    def __init__(self, transport: ReplayTransport, throttler: AsyncThrottler) -> None:
        super().__init__(_NO_SESSION, throttler)
        self._transport = transport

    async def call(self, request: RESTRequest, *, request_timeout: float | None = None) -> RESTResponse:
        return await self._transport.answer(request)


class ReplayTransport:
    """Holds the replay's connections and pending snapshot requests (see module docs).

    ``stream_substitutes`` (recorded stream -> stream to deliver it on) is used only for a frame
    no connection subscribed to (see :meth:`ReplayAdapter.stream_substitutes`).
    """

    def __init__(self, adapter: ReplayAdapter, stream_substitutes: Mapping[str, str] | None = None) -> None:
        self.adapter = adapter
        self.connections: list[ReplayWSAssistant] = []
        self._substitutes = dict(stream_substitutes or {})
        self.substituted: dict[tuple[str, str], int] = defaultdict(int)
        """Frames delivered on another stream than the recorded one, by (recorded kind, delivered kind)."""
        self._waiters: dict[str, list[asyncio.Future[CaptureRecord]]] = defaultdict(list)
        self._kept: dict[str, CaptureRecord] = {}
        self.unused_snapshots = 0
        """Recorded snapshots superseded by a newer one before any request took them."""
        self.undelivered: dict[str, int] = defaultdict(int)
        """Frames of streams no connection subscribed to, by stream kind (``aggTrade``, ``kline_1m``...)."""
        self.delivered = 0
        self._answering = 0

    def snapshot_symbol(self, record: CaptureRecord) -> str | None:
        """The symbol of a recorded REST answer that is a book snapshot (None: any other record)."""
        return recorded_snapshot_symbol(self.adapter, record)

    async def answer(self, request: RESTRequest) -> RESTResponse:
        symbol = self.adapter.snapshot_symbol(request.url, request_params(request.url, request.params))
        if symbol is None:
            raise ExchangeConnectionError(request.method.value, request.url, "not part of the recording")
        record = self._kept.pop(symbol, None)
        if record is None:
            future: asyncio.Future[CaptureRecord] = asyncio.get_running_loop().create_future()
            self._waiters[symbol].append(future)
            record = await future  # until the timeline reaches this symbol's next snapshot
            self._answering -= 1
        body = (record.data or "").encode()
        return RESTResponse(status=200, headers={}, body=body, method="GET", url=record.url or "")

    def waiting_for_snapshot(self) -> set[str]:
        return {symbol for symbol, waiters in self._waiters.items() if any(not w.done() for w in waiters)}

    def release_snapshot(self, record: CaptureRecord) -> bool:
        """Answer the oldest pending request for the record's symbol; if nobody asked yet, keep
        the snapshot for the next request (False)."""
        symbol = self.snapshot_symbol(record) or ""
        waiters = self._waiters.get(symbol, [])
        while waiters:
            future = waiters.pop(0)
            if not future.done():
                self._answering += 1
                future.set_result(record)
                return True
        if symbol in self._kept:
            self.unused_snapshots += 1
        self._kept[symbol] = record
        return False

    def holds_snapshot(self, symbol: str) -> bool:
        """A released snapshot of ``symbol`` waits for the tracker's next request."""
        return symbol in self._kept

    @property
    def kept_snapshots(self) -> int:
        """Snapshots released that no request has taken (yet)."""
        return len(self._kept)

    def deliver(self, frame: str, stream: str | None = None) -> int:
        """Put a frame in the inbox of every connection subscribed to its stream (``stream``, or
        as the adapter reads it; a frame of no stream goes to every connection); how many."""
        if stream is None:
            stream = self.adapter.describe_frame(frame).stream
        targets = [c for c in self.connections if stream is None or stream in c.streams]
        kind = "" if stream is None else self.adapter.stream_kind(stream)
        if not targets and stream in self._substitutes:
            substitute = self._substitutes[stream]
            targets = [c for c in self.connections if substitute in c.streams]
            if targets:
                self.substituted[(kind, self.adapter.stream_kind(substitute))] += 1
        for connection in targets:
            connection.inbox.put_nowait(frame)
        if targets:
            self.delivered += 1
        else:
            self.undelivered[kind] += 1
        return len(targets)

    @property
    def idle(self) -> bool:
        """No frame waiting in an inbox and no released snapshot still on its way to the tracker."""
        return self._answering == 0 and all(c.inbox.empty() for c in self.connections)


class ReplayWebAssistantsFactory(WebAssistantsFactory):
    def __init__(self, throttler: AsyncThrottler, transport: ReplayTransport) -> None:
        super().__init__(throttler)
        self._transport = transport

    async def get_rest_assistant(self) -> RESTAssistant:
        return ReplayRESTAssistant(self._transport, self.throttler)

    async def get_ws_assistant(self) -> WSAssistant:
        return ReplayWSAssistant(self._transport, self.throttler)

    async def close(self) -> None:
        """Nothing was opened."""
