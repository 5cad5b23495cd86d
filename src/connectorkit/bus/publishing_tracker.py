"""An :class:`OrderBookTracker` that reports what it does to each book, for the gateway.

The gateway keeps its books with the connector's own data source and the same tracker logic as any
connector (same sequencing rule, buffering, resyncs, checksums), and must publish exactly what the
tracker applied: a diff the tracker dropped as stale must not reach consumers, a resync must reach
them as such. This subclass compares the pair's counters around each tracker step and tells a
:class:`BookSink` which of these happened:

- a diff was applied in sequence -> :meth:`BookSink.on_diff` with the message;
- a snapshot was installed (start, resync, periodic refresh), or an applied diff made the book
  remove crossed levels that the diff itself does not name -> :meth:`BookSink.on_snapshot`;
- the book went not ready (gap, failed bridge, checksum, malformed diff, reconnect) ->
  :meth:`BookSink.on_not_ready`.

Nothing here is venue-specific: any registered connector's data source works.
"""

from __future__ import annotations

from typing import Any, Protocol

from connectorkit.connector.order_book_sync import BookSynchronizer
from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage


class BookSink(Protocol):
    def on_diff(self, message: OrderBookMessage) -> None: ...

    def on_snapshot(self, trading_pair: str, book: OrderBook, reason: str) -> None: ...

    def on_not_ready(self, trading_pair: str, reason: str) -> None: ...

    def on_trade(self, message: OrderBookMessage) -> None: ...


class PublishingOrderBookTracker(OrderBookTracker):
    """Tracks books like :class:`OrderBookTracker` and reports each outcome to ``sink``."""

    def __init__(
        self, data_source: OrderBookTrackerDataSource, trading_pairs: list[str], sink: BookSink, **kwargs: Any
    ) -> None:
        super().__init__(data_source, trading_pairs, on_trade=sink.on_trade, **kwargs)
        self._sink = sink

    def _handle_diff(self, message: OrderBookMessage) -> None:
        sync = self._syncs.get(message.trading_pair)
        if sync is None:
            super()._handle_diff(message)
            return
        metrics = sync.metrics
        applied, resyncs, crossed = metrics.diffs_applied, metrics.resyncs, metrics.crossed_levels_removed
        super()._handle_diff(message)
        if metrics.resyncs != resyncs:
            self._sink.on_not_ready(message.trading_pair, "upstream resync")
        elif metrics.diffs_applied != applied and sync.ready:
            if metrics.crossed_levels_removed != crossed:
                self._sink.on_snapshot(message.trading_pair, sync.order_book, "crossed levels removed")
            else:
                self._sink.on_diff(message)

    def _snapshot_applied(self, pair: str, sync: BookSynchronizer) -> None:
        super()._snapshot_applied(pair, sync)
        if sync.ready:
            self._sink.on_snapshot(pair, sync.order_book, "snapshot installed")
        else:
            self._sink.on_not_ready(pair, "snapshot did not bridge the buffered diffs")

    def _on_book_stream(self, pair: str, live: bool) -> None:
        # The data source has already marked the stream down when this runs, so ask the book.
        sync = self._syncs.get(pair)
        was_synchronised = self._running and sync is not None and sync.ready  # not on stop: the
        super()._on_book_stream(pair, live)  # gateway publishes its own "stopped" marks then
        if not live and was_synchronised:  # the upstream socket dropped: consumers must hold
            self._sink.on_not_ready(pair, "upstream book stream down")

    def request_resync(self, trading_pair: str, reason: str) -> None:
        was_ready = self.is_ready(trading_pair)
        super().request_resync(trading_pair, reason)
        if was_ready and not self.is_ready(trading_pair):
            self._sink.on_not_ready(trading_pair, reason)
