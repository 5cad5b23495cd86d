"""Binance USDⓈ-M order book data source: depth snapshots + chained diffs, trades, funding info.

Book procedure (docs: "Websocket Market Streams > How to manage a local order book correctly"):
subscribe to ``<symbol>@depth@100ms``, fetch ``GET /fapi/v1/depth``, drop diffs with
``u < lastUpdateId``, the first applied diff must have ``U <= lastUpdateId <= u`` and each next
one ``pu == previous u`` (:attr:`ContinuityRule.CHAINED`, enforced by the tracker).

Streams are routed by path on fstream.binance.com: the depth stream on a ``/public`` connection,
``@aggTrade`` and ``@markPrice@1s`` on a ``/market`` connection (with ``routed_paths=False``, one
unrouted connection carries all of them, for servers with the legacy layout). Funding info comes
from ``GET /fapi/v1/premiumIndex`` at start (:meth:`get_funding_info`) and from the mark price
stream afterwards (``FundingInfoUpdate`` s on :attr:`funding_info_queue`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import ClassVar, NoReturn

from connectorkit.connector.order_book_tracker_data_source import ContinuityRule
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.exchanges.binance.binance_api_order_book_data_source import (
    BinanceOrderBookDataSourceBase,
    StreamGroup,
    SymbolResolver,
)
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS
from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils as web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as wire
from connectorkit.net.web_assistants_factory import WebAssistantsFactory


class BinancePerpetualAPIOrderBookDataSource(BinanceOrderBookDataSourceBase):
    continuity = ContinuityRule.CHAINED
    DEPTH_PATH: ClassVar[str] = CONSTANTS.DEPTH_PATH
    TICKER_PRICE_PATH: ClassVar[str] = CONSTANTS.TICKER_PRICE_PATH

    def __init__(
        self,
        trading_pairs: Iterable[str],
        web_assistants_factory: WebAssistantsFactory,
        *,
        symbol_resolver: SymbolResolver,
        rest_url: str = CONSTANTS.DEFAULT_REST_URL,
        ws_url: str = CONSTANTS.DEFAULT_WS_URL,
        routed_paths: bool = True,
        snapshot_limit: int = CONSTANTS.DEFAULT_SNAPSHOT_LIMIT,
        message_timeout: float | None = None,
    ) -> None:
        if snapshot_limit not in CONSTANTS.DEPTH_LIMITS:
            raise ValueError(f"futures depth limit must be one of {CONSTANTS.DEPTH_LIMITS}")
        super().__init__(
            trading_pairs, web_assistants_factory, symbol_resolver=symbol_resolver, rest_url=rest_url,
            ws_url=ws_url, snapshot_limit=snapshot_limit, message_timeout=message_timeout,
        )
        self._routed = routed_paths

    def _stream_groups(self) -> list[StreamGroup]:
        depth = (CONSTANTS.DIFF_DEPTH_STREAM,)
        market = (CONSTANTS.TRADE_STREAM, CONSTANTS.MARK_PRICE_STREAM)
        if not self._routed:
            return [
                StreamGroup(
                    "all",
                    lambda streams: web_utils.public_stream_url(streams, self._ws_url, routed=False),
                    depth + market,
                    carries_book=True,
                )
            ]
        return [
            StreamGroup("public", lambda streams: web_utils.public_stream_url(streams, self._ws_url), depth,
                        carries_book=True),
            StreamGroup("market", lambda streams: web_utils.market_stream_url(streams, self._ws_url), market),
        ]

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Funding info from ``GET /fapi/v1/premiumIndex?symbol=`` (docs: "Mark Price")."""
        symbol = await self._symbol(trading_pair)
        rest = await self._factory.get_rest_assistant()
        answer = await rest.execute_request(
            web_utils.rest_url(CONSTANTS.PREMIUM_INDEX_PATH, self._rest_url),
            params={"symbol": symbol},
            throttler_limit_id=CONSTANTS.PREMIUM_INDEX_PATH,
            response_type=wire.PremiumIndex,
        )
        return wire.funding_info_from_premium_index(answer, trading_pair)

    async def listen_for_funding_info(self, output: asyncio.Queue[FundingInfoUpdate]) -> NoReturn:
        """Forward the mark-price stream's funding updates to ``output`` until cancelled."""
        while True:
            output.put_nowait(await self.funding_info_queue.get())
