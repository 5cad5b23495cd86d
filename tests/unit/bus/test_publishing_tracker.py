"""The gateway's tracker tells its sink when a ready book stops being ready, whatever the cause."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from connectorkit.bus.publishing_tracker import PublishingOrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

PAIR = "BTC-USDT"


class OneBook(OrderBookTrackerDataSource):
    continuity = ContinuityRule.CONSECUTIVE

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, None, 0.0, trading_pair, 10,
                                bids=[("100", "1")], asks=[("101", "1")])

    async def listen_for_subscriptions(self) -> None:
        self.report_book_stream(self.trading_pairs, live=True)
        await asyncio.Event().wait()

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        return True

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        return {}


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_diff(self, message: OrderBookMessage) -> None:
        self.events.append(("diff", message.trading_pair))

    def on_snapshot(self, trading_pair: str, book: OrderBook, reason: str) -> None:
        self.events.append(("snapshot", reason))

    def on_not_ready(self, trading_pair: str, reason: str) -> None:
        self.events.append(("not ready", reason))

    def on_trade(self, message: OrderBookMessage) -> None:
        self.events.append(("trade", message.trading_pair))


async def test_an_upstream_stream_drop_is_published_as_not_ready() -> None:
    source, sink = OneBook([PAIR]), Sink()
    tracker = PublishingOrderBookTracker(source, [PAIR], sink, first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert ("snapshot", "snapshot installed") in sink.events
        source.report_book_stream([PAIR], live=False)  # the gateway's exchange socket dropped
        assert not tracker.is_ready(PAIR)
        assert sink.events[-1] == ("not ready", "upstream book stream down")
        source.report_book_stream([PAIR], live=False)  # a repeated report is not a change
        assert sink.events.count(("not ready", "upstream book stream down")) == 1
    finally:
        await tracker.stop()
