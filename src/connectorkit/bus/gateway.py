"""``MarketDataGateway``: one process keeps a connector's books and publishes them on Redis.

It runs the connector's own order book data source under a :class:`PublishingOrderBookTracker`
(the connector's sequencing, buffering and resync rules, unchanged) and writes per pair (key names
in :mod:`connectorkit.bus.keys`, entry formats in :mod:`connectorkit.bus.wire`):

- the book stream: a :class:`~connectorkit.bus.wire.BookDiff` per applied book message (changed
  levels as the exchange's strings, the book's update id, gateway ``seq`` +1 per entry), trimmed
  with ``MAXLEN ~ maxlen``; a :class:`~connectorkit.bus.wire.BookMark` whenever a snapshot is
  written or the book goes not ready;
- the snapshot hash: the whole book with its ``seq`` and the id of its mark, written atomically
  with the mark at start, after every upstream resync (``reset``), after a reconnection to Redis
  (``reset``) and every ``snapshot_interval`` seconds (a checkpoint, not a reset);
- trades, and for perpetual connectors the whole funding info after each update;
- the heartbeat ``ck:gateway:<connector>`` (pairs, start time, run id) with a TTL of
  ``heartbeat_ttl`` seconds, refreshed three times per TTL.

Redis lost mid-run: the books keep going; the publisher reconnects with backoff, then every book is
republished as a reset snapshot and the heartbeat rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from typing import Any, cast

from connectorkit.bus import connection, keys, wire
from connectorkit.bus.publisher import StreamPublisher
from connectorkit.bus.publishing_tracker import PublishingOrderBookTracker
from connectorkit.connector.background_tasks import BackgroundTasks
from connectorkit.core.funding_info import FundingInfo
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage

_LOG = logging.getLogger(__name__)

_encode = wire.ENCODER.encode
_Levels = Sequence[wire.Level]


class _PairKeys:
    __slots__ = ("book", "funding", "snapshot", "trades")

    def __init__(self, connector: str, pair: str) -> None:
        self.book = keys.book_stream(connector, pair)
        self.snapshot = keys.snapshot_key(connector, pair)
        self.trades = keys.trades_stream(connector, pair)
        self.funding = keys.funding_stream(connector, pair)


class MarketDataGateway:
    """Publishes the market data of ``connector`` (built with ``trading_required=False``) on the bus.

    ``connector`` is only used for its order book data source, its name and pairs; it is not
    started (its own tracker would compete for the data source's queues). ``perpetual`` adds the
    funding stream.
    """

    FUNDING_RETRY_MIN = 0.5
    FUNDING_RETRY_MAX = 30.0

    def __init__(
        self,
        connector: Any,
        bus_url: str,
        *,
        snapshot_interval: float = 5.0,
        maxlen: int = 10_000,
        heartbeat_ttl: float = 5.0,
        perpetual: bool = False,
    ) -> None:
        if snapshot_interval <= 0 or heartbeat_ttl <= 0 or maxlen < 1:
            raise ValueError("snapshot_interval and heartbeat_ttl must be positive and maxlen at least 1")
        self._connector = connector
        self._name: str = connector.name
        self._pairs: list[str] = list(connector.trading_pairs)
        if not self._pairs:
            raise ValueError("the gateway needs at least one trading pair")
        self._url = connection.validate_url(bus_url)
        self._snapshot_interval = snapshot_interval
        self._heartbeat_ttl = heartbeat_ttl
        self._perpetual = perpetual
        self._source = connector.order_book_tracker.data_source
        self._keys = {pair: _PairKeys(self._name, pair) for pair in self._pairs}
        self._seq = dict.fromkeys(self._pairs, 0)
        self.started_at = time.time()
        self.run_id = f"{int(self.started_at * 1000)}-{os.getpid()}"
        self._publisher = StreamPublisher(bus_url, maxlen=maxlen, on_reconnected=self._republish_all)
        self._tracker = PublishingOrderBookTracker(self._source, self._pairs, self)
        self._tasks = BackgroundTasks(f"gateway:{self._name}", _LOG)
        self._funding: dict[str, FundingInfo] = {}
        self.published_diffs = 0
        self.published_trades = 0

    def __repr__(self) -> str:
        return f"MarketDataGateway({self._name!r}, {self._pairs!r}, {connection.mask_url(self._url)})"

    @property
    def tracker(self) -> PublishingOrderBookTracker:
        return self._tracker

    @property
    def publisher(self) -> StreamPublisher:
        return self._publisher

    @property
    def trading_pairs(self) -> list[str]:
        return list(self._pairs)

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (``BusUnavailableError`` naming the masked URL if Redis is down), then publish."""
        await self._publisher.connect()
        self._tasks.spawn(self._publisher.run(), "publisher")
        self._write_heartbeat()
        for pair in self._pairs:  # whatever a previous run left is not this book
            self.on_not_ready(pair, "gateway starting")
        await self._tracker.start()
        self._tasks.spawn(self._heartbeat_loop(), "heartbeat")
        self._tasks.spawn(self._checkpoint_loop(), "checkpoints")
        if self._perpetual:
            self._tasks.spawn(self._funding_loop(), "funding")

    async def stop(self) -> None:
        """Stop tracking, tell consumers (books not ready, heartbeat removed), close everything."""
        await self._tracker.stop()
        for pair in self._pairs:
            self.on_not_ready(pair, "gateway stopped")
        self._publisher.delete(keys.heartbeat_key(self._name))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._publisher.flushed()
        await self._tasks.cancel_all()
        await self._publisher.close()
        await self._connector.stop_network()

    # ---- BookSink: what the tracker applied --------------------------------------------------------
    def on_diff(self, message: OrderBookMessage) -> None:
        pair = message.trading_pair
        seq = self._seq[pair] = self._seq[pair] + 1
        # The wire parsers' levels are (price, amount) string pairs: encoded as they are.
        entry = wire.BookDiff(self.run_id, seq, message.update_id, message.timestamp, time.time(),
                              cast(_Levels, message.bids), cast(_Levels, message.asks))
        self._publisher.add_entry(self._keys[pair].book, _encode(entry))
        self.published_diffs += 1

    def on_snapshot(self, trading_pair: str, book: OrderBook, reason: str) -> None:
        self._publish_snapshot(trading_pair, book, reset=True, reason=reason)

    def on_not_ready(self, trading_pair: str, reason: str) -> None:
        seq = self._seq[trading_pair] = self._seq[trading_pair] + 1
        mark = wire.BookMark(self.run_id, seq, reset=True, ready=False, reason=reason)
        doc = wire.BookSnapshot(self.run_id, seq, 0, False, 0.0, time.time(), (), ())
        pair_keys = self._keys[trading_pair]
        self._publisher.add_snapshot(pair_keys.book, pair_keys.snapshot, _encode(mark), _encode(doc))

    def on_trade(self, message: OrderBookMessage) -> None:
        entry = wire.TradeEntry(self.run_id, message.trade_id, str(message.price), str(message.amount),
                                message.is_buy, message.timestamp, time.time())
        self._publisher.add_entry(self._keys[message.trading_pair].trades, _encode(entry))
        self.published_trades += 1

    def _publish_snapshot(self, pair: str, book: OrderBook, *, reset: bool, reason: str) -> None:
        seq = self._seq[pair] = self._seq[pair] + 1
        now = time.time()
        mark = wire.BookMark(self.run_id, seq, reset=reset, ready=True, reason=reason)
        doc = wire.BookSnapshot(self.run_id, seq, book.last_diff_uid, True, now, now,
                                _levels(book.raw_levels(True)), _levels(book.raw_levels(False)))
        pair_keys = self._keys[pair]
        self._publisher.add_snapshot(pair_keys.book, pair_keys.snapshot, _encode(mark), _encode(doc))

    def _republish_all(self) -> None:
        """After a reconnection (or a dropped backlog): every book anew, and the heartbeat."""
        self._write_heartbeat()
        for pair in self._pairs:
            if self._tracker.is_ready(pair):
                self._publish_snapshot(pair, self._tracker.order_books[pair], reset=True,
                                       reason="republished after a Redis outage")
            else:
                self.on_not_ready(pair, "republished after a Redis outage")

    # ---- loops -----------------------------------------------------------------------------------
    def _write_heartbeat(self) -> None:
        beat = wire.Heartbeat(self._name, self._pairs, self.started_at, self.run_id, os.getpid())
        ttl_ms = max(1, int(self._heartbeat_ttl * 1000))
        self._publisher.set_with_ttl(keys.heartbeat_key(self._name), wire.JSON_ENCODER.encode(beat), ttl_ms)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_ttl / 3)
            self._write_heartbeat()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self._snapshot_interval)
            for pair in self._pairs:
                if self._tracker.is_ready(pair):
                    self._publish_snapshot(pair, self._tracker.order_books[pair], reset=False,
                                           reason="checkpoint")

    async def _funding_loop(self) -> None:
        for pair in self._pairs:
            self._publish_funding(await self._initial_funding_info(pair))
        queue = self._source.funding_info_queue
        while True:
            update = await queue.get()
            info = self._funding.get(update.trading_pair)
            if info is not None:
                self._publish_funding(info.updated(update))

    async def _initial_funding_info(self, pair: str) -> FundingInfo:
        delay = self.FUNDING_RETRY_MIN
        while True:
            try:
                info: FundingInfo = await self._source.get_funding_info(pair)
                return info
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _LOG.warning("%s: cannot fetch funding info (%s); retrying in %.1fs", pair,
                             connection.describe(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.FUNDING_RETRY_MAX)

    def _publish_funding(self, info: FundingInfo) -> None:
        self._funding[info.trading_pair] = info
        entry = wire.FundingEntry(str(info.index_price), str(info.mark_price),
                                  info.next_funding_utc_timestamp, str(info.rate), time.time())
        self._publisher.add_entry(self._keys[info.trading_pair].funding, _encode(entry))


def _levels(rows: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in rows]
