"""A venue's book-synchronisation rule, as data: sequence, snapshot source, checksum, depth.

Every venue's local-book procedure is a combination of four independent facts, so a data source
declares them (``OrderBookTrackerDataSource.sync_rule``) instead of coding a procedure:

- **continuity** (:class:`ContinuityRule`): how consecutive diffs are numbered and how the first
  one bridges a snapshot (Binance spot ``U == last u + 1``, Binance futures and OKX ``pu ==
  last u``, Bybit ``u == last u + 1``, or no sequence at all);
- **snapshot source** (:class:`SnapshotSource`): a REST request the tracker makes (Binance), or
  a snapshot the venue pushes on the stream after a subscription (OKX ``action: snapshot``,
  Bybit ``type: snapshot``), where a resync means subscribing again;
- **checksum** (:class:`ChecksumKind`): a CRC32 the venue sends with its pushes, recomputed
  from the exchange's strings after each applied message (:mod:`connectorkit.core.book_checksum`);
- **depth**: a depth-limited feed sends no delete for a level pushed out of its top N, so each
  side is truncated to N after every message.

Whatever the venue, a failed rule resyncs the same way: book not ready, counted, logged once,
then a fresh snapshot from the rule's source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from connectorkit.core.book_checksum import (
    KRAKEN_CHECKSUM_DEPTH,
    OKX_CHECKSUM_DEPTH,
    asks_then_bids_crc32,
    interleaved_crc32,
)
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage

ChecksumVerifier = Callable[[OrderBook, OrderBookMessage], bool]


class ContinuityRule(Enum):
    """How a venue sequences its book diffs, and how the first diff must bridge a snapshot.

    ``sid`` is the snapshot's update id, ``last`` the update id of the last applied diff; a diff
    carries ``first_update_id`` (U), ``update_id`` (u) and, on futures, ``previous_update_id`` (pu).

    - ``NONE``: the venue has no sequence; data sources assign local monotonic ids on receipt
      (snapshot and diffs from one counter). Stale: ``u <= sid``. Any newer diff continues.
      The periodic snapshot refresh (or a checksum) is the safety net.
    - ``CONSECUTIVE`` (Binance spot, "How to manage a local order book correctly"): drop diffs
      with ``u <= sid``; the first applied diff must have ``U <= sid + 1 <= u``; then each diff
      must have ``U == last + 1``.
    - ``CHAINED`` (Binance USD-M and COIN-M futures, same doc section for futures; OKX
      ``prevSeqId``/``seqId``): drop diffs with ``u < sid``; the first applied diff must have
      ``U <= sid <= u`` or ``pu == sid`` (it starts right after the snapshot: e.g. snapshot 12,
      first diff ``U=13 u=14 pu=12``); then each diff must have ``pu == last``. (The
      ``CONSECUTIVE`` analogue, ``U == sid + 1``, is already inside ``U <= sid + 1 <= u``.) OKX
      pushes an unchanged book as ``prevSeqId == seqId == last``, which continues the chain.
    - ``INCREMENT`` (Bybit v5 "Orderbook": ``u`` grows by exactly one per message): drop diffs
      with ``u <= sid``; the first must have ``u == sid + 1``, each later one ``u == last + 1``.
      Bybit's ``u == 1`` (the service restarted) is a snapshot, which the parser reports as one.
    """

    NONE = "none"
    CONSECUTIVE = "consecutive"
    CHAINED = "chained"
    INCREMENT = "increment"

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
        if self is ContinuityRule.INCREMENT:
            return message.update_id == snapshot_uid + 1
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
        if self is ContinuityRule.INCREMENT:
            return message.update_id == last_uid + 1
        return message.update_id > last_uid


class SnapshotSource(Enum):
    """Where a book's snapshot comes from, and so how a resync gets a fresh one."""

    REST = "rest"
    """The tracker fetches it (``fetch_snapshot``) and bridges the buffered diffs onto it."""
    STREAM = "stream"
    """The venue pushes it after a subscription; a resync subscribes the pair again."""


class ChecksumKind(Enum):
    """The CRC32 layouts venues publish (see :mod:`connectorkit.core.book_checksum`)."""

    INTERLEAVED_SIGNED = "interleaved-signed"
    """OKX: top 25 levels, ``bid:size:ask:size`` interleaved, signed 32-bit."""
    ASKS_THEN_BIDS_UNSIGNED = "asks-then-bids-unsigned"
    """Kraken: top 10 asks then top 10 bids, digits only, unsigned 32-bit."""

    def verifier(self) -> ChecksumVerifier:
        """``verify(book, message)``: does the applied book match ``message.checksum``?"""
        if self is ChecksumKind.INTERLEAVED_SIGNED:
            crc, depth = interleaved_crc32, OKX_CHECKSUM_DEPTH
        else:
            crc, depth = asks_then_bids_crc32, KRAKEN_CHECKSUM_DEPTH

        def verify(book: OrderBook, message: OrderBookMessage) -> bool:
            return crc(book.raw_levels(True, depth), book.raw_levels(False, depth)) == message.checksum

        return verify


@dataclass(frozen=True, slots=True)
class BookSyncRule:
    """One venue's local-book procedure (see the module docstring)."""

    continuity: ContinuityRule
    snapshot_source: SnapshotSource = SnapshotSource.REST
    checksum: ChecksumKind | None = None
    depth: int | None = None
    """Each side is truncated to this many levels after every message (depth-limited feeds)."""

    def __post_init__(self) -> None:
        if self.depth is not None and self.depth < 1:
            raise ValueError(f"a book depth must be at least 1, not {self.depth}")
