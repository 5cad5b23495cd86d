"""The order book data source: one per connector, feeding an :class:`OrderBookTracker`.

A data source fetches REST snapshots, runs the WebSocket subscription loop, parses frames with
its exchange's pure wire functions and routes the resulting messages into per-channel queues
(diffs, trades, snapshots pushed by the venue, funding updates). It also declares its venue's
book procedure (:class:`~connectorkit.connector.book_sync_rule.BookSyncRule`: sequence, snapshot
source, checksum, depth), which the tracker enforces.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from decimal import Decimal

# ContinuityRule is re-exported: every data source declares its rule next to this base class.
from connectorkit.connector.book_sync_rule import BookSyncRule
from connectorkit.connector.book_sync_rule import ContinuityRule as ContinuityRule
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

_LOG = logging.getLogger(__name__)


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
    """The venue's sequencing rule: shorthand for a ``sync_rule`` with a REST snapshot, no
    checksum and no depth limit (class attribute of each exchange's data source)."""
    sync_rule: BookSyncRule | None = None
    """The venue's whole book procedure (see :mod:`connectorkit.connector.book_sync_rule`);
    None means ``BookSyncRule(continuity)``."""

    @property
    def book_sync_rule(self) -> BookSyncRule:
        return self.sync_rule if self.sync_rule is not None else BookSyncRule(self.continuity)

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
        checksum = self.book_sync_rule.checksum
        self._checksum_verifier = None if checksum is None else checksum.verifier()

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

    def exchange_update_id(self, trading_pair: str, update_id: int) -> int | None:
        """The exchange's update id of a book whose tracker update id is ``update_id``: the same
        number for sources fed by the exchange; a source with positions of its own (the
        market-data bus) maps them back (None when it no longer knows)."""
        return update_id

    def verify_checksum(self, order_book: OrderBook, message: OrderBookMessage) -> bool:
        """Check the book against the checksum the venue sent with ``message``.

        The default follows the rule's :class:`~connectorkit.connector.book_sync_rule.ChecksumKind`
        (always true without one): the book's top levels as the exchange wrote them
        (:meth:`OrderBook.raw_levels`) hashed the venue's way and compared with
        ``message.checksum``. A venue with another layout overrides this.
        """
        verify = self._checksum_verifier
        return True if verify is None else verify(order_book, message)

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
