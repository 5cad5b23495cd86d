"""Binance Spot order book data source: REST depth snapshots + diff depth and trade streams.

Procedure (docs: "WebSocket Streams > How to manage a local order book correctly"): open the
combined stream ``<ws_url>/stream?streams=<symbol>@depth@100ms/<symbol>@trade/...`` first, then
fetch ``GET /api/v3/depth`` (the tracker buffers the diffs meanwhile); diffs with
``u <= lastUpdateId`` are dropped, the first applied diff must satisfy
``U <= lastUpdateId + 1 <= u`` and each following one ``U == previous u + 1``
(:attr:`ContinuityRule.CONSECUTIVE`, enforced by the tracker, which resyncs on any break).

Frames are decoded once by ``binance_market_wire`` and routed to the tracker's queues. A frame
that cannot be parsed is logged, counted (:attr:`malformed_frames`) and skipped. Pairs are spread
over as many connections as needed (a connection carries at most 1024 streams, "General WSS
information"); pairs can be added or removed on a live connection with ``SUBSCRIBE``/
``UNSUBSCRIBE`` ("Live Subscribing/Unsubscribing to streams"). Each connection is re-established
with backoff after any loss; the first diff after a reconnection does not continue the sequence,
so the tracker resyncs that book from a fresh snapshot.

:class:`BinanceOrderBookDataSourceBase` holds everything the spot and USD-M sources share; the
futures source only changes endpoints, stream groups, the continuity rule and adds funding info.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import msgspec

from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.order_book_message import OrderBookMessage
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance import binance_market_wire as market_wire
from connectorkit.exchanges.binance import binance_web_utils as web_utils
from connectorkit.net.errors import WebError
from connectorkit.net.rest_request import RESTMethod, RESTRequest
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant, run_with_reconnect

logger = logging.getLogger(__name__)

SymbolResolver = Callable[[str], Awaitable[str]]
"""``BASE-QUOTE`` trading pair -> exchange symbol (the connector's symbol map)."""


@dataclass(frozen=True, slots=True)
class StreamGroup:
    """One WebSocket connection: its URL builder and the streams each pair needs on it.

    ``carries_book``: the group's connection carries the diff depth stream, so its state is the
    pairs' book stream state (reported to the tracker, which makes a book ready only while live).
    """

    name: str
    url: Callable[[Sequence[str]], str]
    stream_templates: tuple[str, ...]
    carries_book: bool = False

    def streams(self, symbols: Iterable[str]) -> list[str]:
        return [t.format(symbol=s.lower()) for s in symbols for t in self.stream_templates]


@dataclass(slots=True, eq=False)
class _Connection:
    """One WebSocket connection: its group, the pairs it carries, the live socket if any."""

    group: StreamGroup
    pairs: list[str]
    ws: WSAssistant | None = None
    task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class _TickerPrice(msgspec.Struct, frozen=True):
    symbol: str
    price: Decimal


class _Answer(msgspec.Struct, frozen=True):
    """The answer to a live ``SUBSCRIBE`` ("Live Subscribing/Unsubscribing to streams": ``{"result":
    null, "id": 1}`` on success, ``{"code": 2, "msg": "Invalid request: ...", "id": 1}`` otherwise)."""

    id: int | str | None = None
    result: object = None
    code: int | None = None
    msg: str | None = None


_answer_decoder = msgspec.json.Decoder(_Answer)


class BinanceOrderBookDataSourceBase(OrderBookTrackerDataSource):
    """Shared Binance logic; subclasses define endpoints and stream groups."""

    DEPTH_PATH: ClassVar[str] = CONSTANTS.DEPTH_PATH
    TICKER_PRICE_PATH: ClassVar[str] = CONSTANTS.TICKER_PRICE_PATH
    MAX_STREAMS_PER_CONNECTION: ClassVar[int] = CONSTANTS.MAX_STREAMS_PER_CONNECTION
    RECONNECT_MIN_DELAY: ClassVar[float] = 1.0
    RECONNECT_MAX_DELAY: ClassVar[float] = 30.0

    def __init__(
        self,
        trading_pairs: Iterable[str],
        web_assistants_factory: WebAssistantsFactory,
        *,
        symbol_resolver: SymbolResolver,
        rest_url: str,
        ws_url: str,
        snapshot_limit: int,
        message_timeout: float | None = None,
    ) -> None:
        super().__init__(trading_pairs)
        self._factory = web_assistants_factory
        self._resolve_symbol = symbol_resolver
        self._rest_url = rest_url
        self._ws_url = ws_url
        self._snapshot_limit = snapshot_limit
        self._message_timeout = message_timeout
        self._pair_by_symbol: dict[str, str] = {}
        self._connections: list[_Connection] = []
        self._request_ids = itertools.count(1)
        self._pending_subscriptions: dict[int, str] = {}  # SUBSCRIBE request id -> its pair
        self.connection_count = 0

    # ---- what a Binance product defines -----------------------------------------------------------
    def _stream_groups(self) -> list[StreamGroup]:
        raise NotImplementedError

    # ---- REST -------------------------------------------------------------------------------------
    async def _symbol(self, trading_pair: str) -> str:
        symbol = await self._resolve_symbol(trading_pair)
        self._pair_by_symbol[symbol] = trading_pair
        return symbol

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        symbol = await self._symbol(trading_pair)
        rest = await self._factory.get_rest_assistant()
        response = await rest.call(
            RESTRequest(
                RESTMethod.GET,
                web_utils.rest_url(self.DEPTH_PATH, self._rest_url),
                params={"symbol": symbol, "limit": self._snapshot_limit},
                throttler_limit_id=self.DEPTH_PATH,
            )
        )
        return market_wire.decode_depth_snapshot(response.body, trading_pair)

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        rest = await self._factory.get_rest_assistant()
        prices: dict[str, Decimal] = {}
        for pair in trading_pairs:
            answer = await rest.execute_request(
                web_utils.rest_url(self.TICKER_PRICE_PATH, self._rest_url),
                params={"symbol": await self._symbol(pair)},
                throttler_limit_id=self.TICKER_PRICE_PATH,
                response_type=_TickerPrice,
            )
            prices[pair] = answer.price
        return prices

    # ---- streams ----------------------------------------------------------------------------------
    def _capacity(self, group: StreamGroup) -> int:
        """Pairs one connection of ``group`` may carry (Binance: at most 1024 streams each)."""
        return max(1, self.MAX_STREAMS_PER_CONNECTION // len(group.stream_templates))

    async def listen_for_subscriptions(self) -> None:
        """One connection per stream group and per chunk of pairs, each reconnecting on its own."""
        self._connections = []
        try:
            for group in self._stream_groups():
                pairs = list(self.trading_pairs)
                size = self._capacity(group)
                for start in range(0, max(len(pairs), 1), size):
                    self._open(group, pairs[start : start + size])
            await asyncio.Event().wait()  # runs until cancelled; the connections do the work
        finally:
            tasks = [conn.task for conn in self._connections if conn.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._connections = []

    def _open(self, group: StreamGroup, pairs: list[str]) -> _Connection:
        conn = _Connection(group, pairs)
        conn.task = asyncio.create_task(
            run_with_reconnect(
                functools.partial(self._connect_and_consume, conn),
                name=f"{type(self).__name__} {group.name} streams",
                min_delay=self.RECONNECT_MIN_DELAY,
                max_delay=self.RECONNECT_MAX_DELAY,
                logger=logger,
            ),
            name=f"{type(self).__name__}:{group.name}:{len(self._connections)}",
        )
        self._connections.append(conn)
        return conn

    async def _connect_and_consume(self, conn: _Connection) -> None:
        symbols = await self._resolved_symbols(conn.pairs)
        while not symbols:  # nothing to stream until a (listed) pair is added
            conn.changed.clear()
            await conn.changed.wait()
            symbols = await self._resolved_symbols(conn.pairs)
        ws = await self._factory.get_ws_assistant()
        await ws.connect(
            conn.group.url(conn.group.streams(symbols)),
            heartbeat=CONSTANTS.WS_HEARTBEAT_S,
            message_timeout=self._message_timeout,
        )
        conn.ws = ws
        self.connection_count += 1
        in_url = [self._pair_by_symbol[symbol] for symbol in symbols]
        if conn.group.carries_book:  # the handshake succeeded with these streams in the URL
            self.report_book_stream(in_url, live=True)
        try:
            symbol_of = {pair: symbol for symbol, pair in self._pair_by_symbol.items()}
            for pair in [p for p in conn.pairs if p not in in_url and p in symbol_of]:
                await self._send(conn, "SUBSCRIBE", symbol_of[pair], pair)  # added while connecting
            async for raw in ws.iter_messages():
                self._on_frame(raw)
        finally:
            conn.ws = None
            if conn.group.carries_book:
                self.report_book_stream(list(conn.pairs), live=False)
                for request_id, pair in list(self._pending_subscriptions.items()):
                    if pair in conn.pairs:  # never answered now: the next connection's URL has it
                        del self._pending_subscriptions[request_id]
            await ws.disconnect()

    async def _resolved_symbols(self, pairs: Sequence[str]) -> list[str]:
        """Symbols of ``pairs``; a pair the exchange does not list is skipped (logged)."""
        symbols = []
        for pair in list(pairs):
            try:
                symbols.append(await self._symbol(pair))
            except LookupError as exc:
                logger.warning("%s: %s is not streamed: %s", type(self).__name__, pair, exc)
        return symbols

    def _on_frame(self, raw: str | bytes) -> None:
        if self._pending_subscriptions and not _is_stream_payload(raw) and self._on_answer(raw):
            return
        try:
            item = market_wire.parse_stream_frame(raw, self._pair_by_symbol)
        except market_wire.BinanceWireError as exc:
            self.malformed_frames += 1
            logger.warning("%s: malformed frame skipped (%s)", type(self).__name__, exc)
            return
        if item is None or isinstance(item, market_wire.BookTicker):
            return
        self.route(item)

    def _on_answer(self, raw: str | bytes) -> bool:
        """Handle the answer to a pending ``SUBSCRIBE``; False if ``raw`` is not one."""
        try:
            answer = _answer_decoder.decode(raw)
        except msgspec.DecodeError:
            return False
        pair = self._pending_subscriptions.pop(answer.id, None) if isinstance(answer.id, int) else None
        if pair is None:
            return False
        if answer.code is None:
            self.report_book_stream([pair], live=True)
        else:  # stays not ready; the next reconnection subscribes it through its URL
            logger.warning("%s: SUBSCRIBE %s refused: %s %s", type(self).__name__, pair, answer.code,
                           answer.msg)
        return True

    async def _send(self, conn: _Connection, method: str, symbol: str, pair: str) -> None:
        """``SUBSCRIBE``/``UNSUBSCRIBE`` on a live connection; a connection that is down picks the
        change up when it reconnects (its URL lists its current pairs). A book stream's pair is
        live once the venue acknowledges its ``SUBSCRIBE``."""
        if conn.ws is None:
            return
        request_id = next(self._request_ids)
        payload = {"method": method, "params": conn.group.streams([symbol]), "id": request_id}
        if method == "SUBSCRIBE" and conn.group.carries_book:
            self._pending_subscriptions[request_id] = pair
        try:
            await conn.ws.send_json(payload)
        except WebError as exc:
            self._pending_subscriptions.pop(request_id, None)
            logger.info("%s: %s %s deferred to the reconnection (%s)", conn.group.name, method, symbol, exc)

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        try:
            symbol = await self._symbol(trading_pair)
        except (LookupError, WebError) as exc:
            logger.warning("cannot subscribe to %s: %s", trading_pair, exc)
            return False
        if trading_pair not in self.trading_pairs:
            self.trading_pairs.append(trading_pair)
        if not self._connections:
            return True  # not streaming yet: the first connections will include it
        for group in self._stream_groups():
            conns = [c for c in self._connections if c.group.name == group.name]
            if any(trading_pair in c.pairs for c in conns):
                continue
            conn = next((c for c in conns if len(c.pairs) < self._capacity(group)), None)
            if conn is None:
                self._open(group, [trading_pair])
                continue
            conn.pairs.append(trading_pair)
            await self._send(conn, "SUBSCRIBE", symbol, trading_pair)
            conn.changed.set()
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        if trading_pair in self.trading_pairs:
            self.trading_pairs.remove(trading_pair)
        symbol = await self._symbol(trading_pair)
        self.report_book_stream([trading_pair], live=False)
        for conn in self._connections:
            if trading_pair in conn.pairs:
                conn.pairs.remove(trading_pair)
                await self._send(conn, "UNSUBSCRIBE", symbol, trading_pair)
        return True


class BinanceAPIOrderBookDataSource(BinanceOrderBookDataSourceBase):
    """Binance Spot: combined-stream connections carrying diff depth and trades."""

    continuity = ContinuityRule.CONSECUTIVE

    def __init__(
        self,
        trading_pairs: Iterable[str],
        web_assistants_factory: WebAssistantsFactory,
        *,
        symbol_resolver: SymbolResolver,
        rest_url: str = CONSTANTS.DEFAULT_REST_URL,
        ws_url: str = CONSTANTS.DEFAULT_WS_URL,
        snapshot_limit: int = CONSTANTS.DEFAULT_SNAPSHOT_LIMIT,
        message_timeout: float | None = None,
    ) -> None:
        super().__init__(
            trading_pairs, web_assistants_factory, symbol_resolver=symbol_resolver, rest_url=rest_url,
            ws_url=ws_url, snapshot_limit=snapshot_limit, message_timeout=message_timeout,
        )

    def _stream_groups(self) -> list[StreamGroup]:
        return [
            StreamGroup(
                "spot",
                lambda streams: web_utils.combined_stream_url(streams, self._ws_url),
                (CONSTANTS.DIFF_DEPTH_STREAM, CONSTANTS.TRADE_STREAM),
                carries_book=True,
            )
        ]


def _is_stream_payload(raw: str | bytes) -> bool:
    """True for a combined-stream frame (``{"stream": ...``), the common case, checked without
    decoding; anything else may be the answer to a request."""
    head = raw[:10]
    return (b'"stream"' in head) if isinstance(head, bytes) else ('"stream"' in head)
