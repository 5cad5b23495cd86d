"""Binance Spot order book data source: REST depth snapshots + diff depth and trade streams.

Procedure (docs: "WebSocket Streams > How to manage a local order book correctly"): open the
combined stream ``<ws_url>/stream?streams=<symbol>@depth@100ms/<symbol>@trade/...`` first, then
fetch ``GET /api/v3/depth`` (the tracker buffers the diffs meanwhile); diffs with
``u <= lastUpdateId`` are dropped, the first applied diff must satisfy
``U <= lastUpdateId + 1 <= u`` and each following one ``U == previous u + 1``
(:attr:`ContinuityRule.CONSECUTIVE`, enforced by the tracker, which resyncs on any break).

Frames are decoded once by ``binance_market_wire`` and routed to the tracker's queues. A frame
that cannot be parsed is logged, counted (:attr:`malformed_frames`) and skipped. Pairs can be
added or removed on a live connection with ``SUBSCRIBE``/``UNSUBSCRIBE`` (docs: "Live
Subscribing/Unsubscribing to streams"). The connection is re-established with backoff after any
loss; the first diff after a reconnection does not continue the sequence, so the tracker resyncs
from a fresh snapshot.

:class:`BinanceOrderBookDataSourceBase` holds everything the spot and USD-M sources share; the
futures source only changes endpoints, stream groups, the continuity rule and adds funding info.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
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
    """One WebSocket connection: its URL builder and the streams each pair needs on it."""

    name: str
    url: Callable[[Sequence[str]], str]
    stream_templates: tuple[str, ...]

    def streams(self, symbols: Iterable[str]) -> list[str]:
        return [t.format(symbol=s.lower()) for s in symbols for t in self.stream_templates]


class _TickerPrice(msgspec.Struct, frozen=True):
    symbol: str
    price: Decimal


class BinanceOrderBookDataSourceBase(OrderBookTrackerDataSource):
    """Shared Binance logic; subclasses define endpoints and stream groups."""

    DEPTH_PATH: ClassVar[str] = CONSTANTS.DEPTH_PATH
    TICKER_PRICE_PATH: ClassVar[str] = CONSTANTS.TICKER_PRICE_PATH
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
        self._live: dict[str, WSAssistant] = {}
        self._pairs_added = asyncio.Event()
        self._request_ids = itertools.count(1)
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
    async def listen_for_subscriptions(self) -> None:
        groups = self._stream_groups()
        tasks = [
            asyncio.create_task(
                run_with_reconnect(
                    functools.partial(self._connect_and_consume, group),
                    name=f"{type(self).__name__} {group.name} streams",
                    min_delay=self.RECONNECT_MIN_DELAY,
                    max_delay=self.RECONNECT_MAX_DELAY,
                    logger=logger,
                ),
                name=f"{type(self).__name__}:{group.name}",
            )
            for group in groups
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _connect_and_consume(self, group: StreamGroup) -> None:
        symbols = await self._resolved_symbols()
        while not symbols:  # nothing to stream until a (listed) pair is added
            self._pairs_added.clear()
            await self._pairs_added.wait()
            symbols = await self._resolved_symbols()
        ws = await self._factory.get_ws_assistant()
        await ws.connect(
            group.url(group.streams(symbols)),
            heartbeat=CONSTANTS.WS_HEARTBEAT_S,
            message_timeout=self._message_timeout,
        )
        self._live[group.name] = ws
        self.connection_count += 1
        try:
            async for raw in ws.iter_messages():
                self._on_frame(raw)
        finally:
            self._live.pop(group.name, None)
            await ws.disconnect()

    async def _resolved_symbols(self) -> list[str]:
        """Symbols of the tracked pairs; a pair the exchange does not list is skipped (logged)."""
        symbols = []
        for pair in list(self.trading_pairs):
            try:
                symbols.append(await self._symbol(pair))
            except LookupError as exc:
                logger.warning("%s: %s is not streamed: %s", type(self).__name__, pair, exc)
        return symbols

    def _on_frame(self, raw: str | bytes) -> None:
        try:
            item = market_wire.parse_stream_frame(raw, self._pair_by_symbol)
        except market_wire.BinanceWireError as exc:
            self.malformed_frames += 1
            logger.warning("%s: malformed frame skipped (%s)", type(self).__name__, exc)
            return
        if item is None or isinstance(item, market_wire.BookTicker):
            return
        self.route(item)

    async def _send_subscription(self, method: str, trading_pair: str) -> None:
        """``SUBSCRIBE``/``UNSUBSCRIBE`` the pair's streams on every live connection. A connection
        that is down picks the change up when it reconnects (its URL lists the current pairs)."""
        symbol = await self._symbol(trading_pair)
        for group in self._stream_groups():
            ws = self._live.get(group.name)
            if ws is None:
                continue
            payload = {"method": method, "params": group.streams([symbol]), "id": next(self._request_ids)}
            try:
                await ws.send_json(payload)
            except WebError as exc:
                logger.info("%s: %s %s deferred to the reconnection (%s)", group.name, method, symbol, exc)

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        try:
            await self._symbol(trading_pair)
        except (LookupError, WebError) as exc:
            logger.warning("cannot subscribe to %s: %s", trading_pair, exc)
            return False
        if trading_pair not in self.trading_pairs:
            self.trading_pairs.append(trading_pair)
        await self._send_subscription("SUBSCRIBE", trading_pair)
        self._pairs_added.set()
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        if trading_pair in self.trading_pairs:
            self.trading_pairs.remove(trading_pair)
        await self._send_subscription("UNSUBSCRIBE", trading_pair)
        return True


class BinanceAPIOrderBookDataSource(BinanceOrderBookDataSourceBase):
    """Binance Spot: one combined-stream connection carrying diff depth and trades."""

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
            )
        ]
