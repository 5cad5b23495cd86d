"""The fake exchange's order book data source (REST depth snapshot, WS depth diffs, mark prices)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import run_with_reconnect

if TYPE_CHECKING:
    from support.fake_exchange import FakeExchange


class FakeOrderBookDataSource(OrderBookTrackerDataSource):
    """Each fake diff carries one update id ``u``; the first after a snapshot is ``lastUpdateId + 1``."""

    continuity = ContinuityRule.CONSECUTIVE

    def __init__(self, connector: FakeExchange, factory: WebAssistantsFactory) -> None:
        super().__init__(connector.trading_pairs)
        self._connector = connector
        self._factory = factory

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair)
        depth = await self._connector._api_get(
            self._connector.rest_url("/api/depth"), params={"symbol": symbol}
        )
        return OrderBookMessage(
            OrderBookMessageType.SNAPSHOT, None, 0.0, trading_pair=trading_pair,
            update_id=depth["lastUpdateId"], bids=depth["bids"], asks=depth["asks"],
        )

    async def listen_for_subscriptions(self) -> None:
        await run_with_reconnect(self._connect_and_consume, name="fake market stream", min_delay=0.01,
                                 max_delay=0.05)

    async def _connect_and_consume(self) -> None:
        ws = await self._factory.get_ws_assistant()
        await ws.connect(f"{self._connector.ws_base_url}/ws/market")
        self.report_book_stream(self.trading_pairs, live=True)  # the server streams every symbol
        try:
            async for raw in ws.iter_messages():
                frame: dict[str, Any] = msgspec.json.decode(raw)
                pair = await self._connector.trading_pair_associated_to_exchange_symbol(frame["s"])
                if frame["e"] == "depth":
                    self.route(OrderBookMessage(
                        OrderBookMessageType.DIFF, None, 0.0, trading_pair=pair, update_id=frame["u"],
                        first_update_id=frame["u"], bids=frame["b"], asks=frame["a"],
                    ))
                elif frame["e"] == "markPriceUpdate":
                    update = FundingInfoUpdate(pair, mark_price=Decimal(frame["p"]), rate=Decimal(frame["r"]))
                    self.route(update)
        finally:
            self.report_book_stream(self.trading_pairs, live=False)
            await ws.disconnect()

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        return True  # the fake server streams every symbol

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        return True

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        result = {}
        for pair in trading_pairs:
            snapshot = await self.fetch_snapshot(pair)
            result[pair] = Decimal(snapshot.bids[0][0])
        return result

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        symbol = await self._connector.exchange_symbol_associated_to_pair(trading_pair)
        data = await self._connector._api_get(self._connector.rest_url("/api/premiumIndex"),
                                              params={"symbol": symbol})
        return FundingInfo(
            trading_pair, Decimal(data["indexPrice"]), Decimal(data["markPrice"]),
            data["nextFundingTime"] // 1000, Decimal(data["lastFundingRate"]),
        )
