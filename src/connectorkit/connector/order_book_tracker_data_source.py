"""The order book data source: one per connector, feeding an :class:`OrderBookTracker`.

A data source fetches REST snapshots, runs the WebSocket subscription loop, parses frames with
its exchange's pure wire functions and routes the resulting messages into per-channel queues
(diffs, trades, snapshots pushed by the venue, funding updates). It also declares how its venue
sequences book updates (:class:`ContinuityRule`), which the tracker enforces.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum

from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

_LOG = logging.getLogger(__name__)


class ContinuityRule(Enum):
    """How a venue sequences its book diffs, and how the first diff must bridge a snapshot.

    ``sid`` is the snapshot's update id, ``last`` the update id of the last applied diff; a diff
    carries ``first_update_id`` (U), ``update_id`` (u) and, on futures, ``previous_update_id`` (pu).

    - ``NONE``: the venue has no sequence; data sources assign local monotonic ids on receipt
      (snapshot and diffs from one counter). Stale: ``u <= sid``. Any newer diff continues.
      The periodic snapshot refresh is the safety net.
    - ``CONSECUTIVE`` (Binance spot, "How to manage a local order book correctly"): drop diffs
      with ``u <= sid``; the first applied diff must have ``U <= sid + 1 <= u``; then each diff
      must have ``U == last + 1``.
    - ``CHAINED`` (Binance USD-M and COIN-M futures, same doc section for futures): drop diffs
      with ``u < sid``; the first applied diff must have ``U <= sid <= u`` or ``pu == sid`` (it
      starts right after the snapshot: e.g. snapshot 12, first diff ``U=13 u=14 pu=12``); then
      each diff must have ``pu == last``. (The ``CONSECUTIVE`` analogue, ``U == sid + 1``, is
      already inside ``U <= sid + 1 <= u``.)
    """

    NONE = "none"
    CONSECUTIVE = "consecutive"
    CHAINED = "chained"

    def is_stale(self, message: OrderBookMessage, snapshot_uid: int) -> bool:
        """True if the diff is already contained in the snapshot (drop it)."""
        if self is ContinuityRule.CHAINED:
            return message.update_id < snapshot_uid
        return message.update_id <= snapshot_uid

    def bridges(self, message: OrderBookMessage, snapshot_uid: int) -> bool:
        """True if this non-stale diff may be the first one applied on top of the snapshot."""
        first = message.first_update_id
        if self is ContinuityRule.NONE:
            return True
        if self is ContinuityRule.CHAINED and message.previous_update_id == snapshot_uid:
            return True  # chained exactly onto the snapshot
        if first is None:
            return False
        if self is ContinuityRule.CONSECUTIVE:
            return first <= snapshot_uid + 1 <= message.update_id
        return first <= snapshot_uid <= message.update_id

    def continues(self, message: OrderBookMessage, last_uid: int) -> bool:
        """True if the diff directly follows the last applied one."""
        if self is ContinuityRule.CONSECUTIVE:
            return message.first_update_id == last_uid + 1
        if self is ContinuityRule.CHAINED:
            return message.previous_update_id == last_uid
        return message.update_id > last_uid


BookStreamListener = Callable[[str, bool], None]
"""Called with ``(trading_pair, live)`` when the stream that updates a pair's book goes up or down."""


class OrderBookTrackerDataSource(ABC):
    """Abstract data source. Subclasses implement the exchange specifics.

    Contract with the tracker:

    - :meth:`fetch_snapshot` returns a SNAPSHOT message from REST (may take seconds; the tracker
      keeps buffering diffs meanwhile);
    - :meth:`listen_for_subscriptions` runs until cancelled: it connects, subscribes to the pairs
      in :attr:`trading_pairs`, reconnects on failure, parses each frame and calls
      :meth:`route` with the result. Malformed frames are logged, counted in
      :attr:`malformed_frames` and skipped, never raised;
    - :meth:`subscribe_to_trading_pair` / :meth:`unsubscribe_from_trading_pair` change the
      subscription of a running connection;
    - :meth:`report_book_stream` tells the tracker, per pair, whether the stream that updates its
      book is connected and subscribed. A book is ready only while it is: a REST snapshot with no
      live stream behind it is a frozen picture, not a book. Call it with ``live=True`` once the
      venue has accepted the subscription (the connection is open with the stream in its URL, or
      the ``SUBSCRIBE`` was acknowledged) and with ``live=False`` as soon as that connection is
      lost or the pair unsubscribed.
    """

    continuity: ContinuityRule = ContinuityRule.NONE
    """The venue's sequencing rule (class attribute of each exchange's data source)."""

    def __init__(self, trading_pairs: Iterable[str]) -> None:
        self.trading_pairs: list[str] = list(trading_pairs)
        self.diff_queue: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self.trade_queue: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self.snapshot_queue: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self.funding_info_queue: asyncio.Queue[FundingInfoUpdate] = asyncio.Queue()
        self.malformed_frames = 0
        self._local_ids = itertools.count(1)
        self._live_book_streams: set[str] = set()
        self._book_stream_listeners: list[BookStreamListener] = []

    def next_update_id(self) -> int:
        """A local monotonic update id, for venues without sequence numbers (``ContinuityRule.NONE``).

        Stamp every snapshot and diff with it as it is received: a diff received before the
        snapshot's answer then counts as stale, and every later one as newer.
        """
        return next(self._local_ids)

    # ---- book stream state ------------------------------------------------------------------------
    def book_stream_live(self, trading_pair: str) -> bool:
        """True while the stream that updates ``trading_pair``'s book is connected and subscribed."""
        return trading_pair in self._live_book_streams

    def add_book_stream_listener(self, listener: BookStreamListener) -> None:
        self._book_stream_listeners.append(listener)

    def report_book_stream(self, trading_pairs: Iterable[str], live: bool) -> None:
        """Record that the book stream of ``trading_pairs`` went up (``live``) or down; listeners
        hear of each pair whose state changed (a repeated report is not a change)."""
        for pair in list(trading_pairs):
            if (pair in self._live_book_streams) == live:
                continue
            if live:
                self._live_book_streams.add(pair)
            else:
                self._live_book_streams.discard(pair)
            for listener in list(self._book_stream_listeners):
                try:
                    listener(pair, live)
                except Exception:  # a listener's bug must not break the stream loop reporting it
                    _LOG.exception("%s: book stream listener failed", pair)

    def route(self, item: OrderBookMessage | FundingInfoUpdate) -> None:
        """Put a parsed item on its channel queue (called by the subscription loop)."""
        if isinstance(item, FundingInfoUpdate):
            self.funding_info_queue.put_nowait(item)
        elif item.type is OrderBookMessageType.DIFF:
            self.diff_queue.put_nowait(item)
        elif item.type is OrderBookMessageType.TRADE:
            self.trade_queue.put_nowait(item)
        else:
            self.snapshot_queue.put_nowait(item)

    def verify_checksum(self, order_book: OrderBook, message: OrderBookMessage) -> bool:
        """Check the book against the checksum the venue sent with ``message``.

        Venues without a checksum keep this default (always true). Venues with one (Kraken,
        OKX style) render the book's top levels from :meth:`OrderBook.raw_levels` (the strings
        the exchange sent) and compare with ``message.checksum``.
        """
        return True

    @abstractmethod
    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """Fetch a full book by REST and return it as a SNAPSHOT message."""

    @abstractmethod
    async def listen_for_subscriptions(self) -> None:
        """WebSocket loop: connect, subscribe, parse, :meth:`route`; reconnect on failure."""

    @abstractmethod
    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        """Subscribe a running connection to one more pair; True on success."""

    @abstractmethod
    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        """Unsubscribe a running connection from a pair; True on success."""

    @abstractmethod
    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        """Last traded price per pair, from REST."""

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Current funding info (perpetual data sources override this)."""
        raise NotImplementedError(f"{type(self).__name__} has no funding info: not a perpetual market")
