"""Swappable transports for a connector's market data: record it, or replay it from a capture.

Both work through the template's documented extension point, ``_create_web_assistants_factory``:
:func:`build_connector` subclasses the registered connector class and hands it a different
:class:`WebAssistantsFactory`. Everything above the web layer (the connector's data source, its
parsing, the order book tracker) is the connector's own, unchanged code.

- :class:`RecordingWebAssistantsFactory`: the real network, plus every 2xx REST answer and every
  WebSocket connection and frame written to a :class:`~connectorkit.cli.capture.CaptureWriter`.
- :class:`ReplayWebAssistantsFactory`: no network at all; :class:`ReplayTransport` answers depth
  snapshot requests with recorded snapshots and feeds recorded frames to the connections whose
  streams they belong to, in recorded order, when the replay driver says so. A request waits
  for the recording's next snapshot of its symbol; a snapshot the recording reaches before the
  tracker asked (the recorder's tracker asked earlier than this one) answers the next request.
  A recorded trade frame of a stream no connection subscribed to may be delivered on the
  symbol's other Binance trade stream (:func:`trade_stream_substitutes`), and is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msgspec

from connectorkit.cli.capture import CaptureWriter, Connect, Http, Recv
from connectorkit.connector.capture_reader import CaptureRecord
from connectorkit.connector.exchange_py_base import ExchangePyBase
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
    """A real WebSocket connection that also writes its URL and every frame it receives."""

    def __init__(self, session: aiohttp.ClientSession, throttler: AsyncThrottler, writer: CaptureWriter,
                 conn: str) -> None:
        super().__init__(session, throttler)
        self._writer = writer
        self._conn = conn

    async def connect(self, url: str, **kwargs: Any) -> None:
        await super().connect(url, **kwargs)
        self._writer.write(Connect(self._conn, time.time(), url))

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
class _StreamName(msgspec.Struct):
    stream: str | None = None


_stream_decoder = msgspec.json.Decoder(_StreamName)
_NO_SESSION = cast(aiohttp.ClientSession, None)
"""The replay assistants override every method that would touch a session; none is ever opened."""


def stream_of(frame: str) -> str | None:
    """The stream name of a combined-stream frame (None for raw frames and answers)."""
    try:
        return _stream_decoder.decode(frame).stream
    except msgspec.DecodeError:
        return None


def _kind(stream: str | None) -> str:
    """``btcusdt@depth@100ms`` -> ``depth@100ms`` (the stream without its symbol)."""
    return stream.split("@", 1)[1] if stream and "@" in stream else str(stream)


def streams_of_url(url: str) -> set[str]:
    """Streams a Binance-style stream URL subscribes to (``/stream?streams=a/b`` or ``/ws/a/b``)."""
    parts = urlsplit(url)
    combined = parse_qs(parts.query).get("streams")
    if combined:
        return set(combined[0].split("/"))
    path = parts.path
    return set(path.split("/ws/", 1)[1].split("/")) if "/ws/" in path else set()


class ReplayWSAssistant(WSAssistant):
    """A connection fed by :class:`ReplayTransport` instead of a socket."""

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
        self.streams = streams_of_url(url)
        self._open = True
        self._transport.connections.append(self)

    async def send(self, request: WSJSONRequest) -> None:
        """Live (un)subscriptions have nothing to act on in a recording; they are ignored."""

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


TRADE_STREAM_KINDS = ("trade", "aggTrade")
"""Binance's two public trade streams: ``trade`` (each trade) and ``aggTrade`` (trades of one taker
order at one price, aggregated). Both carry price, quantity, time and the maker side, and the
market wire decodes both into the same TRADE message."""


def trade_stream_substitutes(recorded_streams: Iterable[str]) -> dict[str, str]:
    """Recorded trade stream -> the other trade stream of the same symbol, when the recording has
    only one of the two for that symbol (so a connector subscribed to the other one still sees the
    trades, and never sees a trade twice)."""
    recorded = set(recorded_streams)
    substitutes: dict[str, str] = {}
    for stream in recorded:
        symbol, _, kind = stream.partition("@")
        if kind in TRADE_STREAM_KINDS:
            other = f"{symbol}@{TRADE_STREAM_KINDS[1 - TRADE_STREAM_KINDS.index(kind)]}"
            if other not in recorded:
                substitutes[stream] = other
    return substitutes


class ReplayTransport:
    """Holds the replay's connections and pending snapshot requests (see module docs).

    ``stream_substitutes`` (recorded stream -> stream to deliver it on) is used only for a frame
    no connection subscribed to; see :func:`trade_stream_substitutes`.
    """

    def __init__(self, stream_substitutes: Mapping[str, str] | None = None) -> None:
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

    async def answer(self, request: RESTRequest) -> RESTResponse:
        parts = urlsplit(request.url)
        endpoint = parts.path.rstrip("/").rsplit("/", 1)[-1]
        symbol = (request.params or {}).get("symbol")
        if endpoint != "depth" or not isinstance(symbol, str):
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
        symbol = record.query_param("symbol") or ""
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

    def deliver(self, frame: str) -> int:
        """Put a frame in the inbox of every connection subscribed to its stream; how many."""
        stream = stream_of(frame)
        targets = [c for c in self.connections if stream is None or stream in c.streams]
        kind = _kind(stream)
        if not targets and stream in self._substitutes:
            substitute = self._substitutes[stream]
            targets = [c for c in self.connections if substitute in c.streams]
            if targets:
                self.substituted[(kind, _kind(substitute))] += 1
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
