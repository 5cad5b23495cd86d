"""Per-pair book synchronisation: the tracker's rules as a synchronous state machine.

:class:`BookSynchronizer` owns one :class:`OrderBook` and decides, for every diff and snapshot,
whether to buffer, drop, apply or resync, following the venue's
:class:`~connectorkit.connector.book_sync_rule.BookSyncRule` (its continuity rule, its checksum,
and the depth each side is truncated to after every message). It does
no I/O and never awaits, so the async :class:`OrderBookTracker`, the capture replay and the
benchmark all drive exactly the same logic.

States:

- *awaiting a snapshot* (initially, and after any resync): the book is not ready and every diff
  is buffered (never lost, bounded by ``max_buffer``);
- *live*: diffs are checked and applied; the first one after a snapshot must bridge it, later
  ones must continue the sequence;
- *live + refreshing* (periodic snapshot refresh in flight): diffs are applied and also
  buffered, so the fresh snapshot can be brought forward to the present when it arrives.

A gap, a failed bridge, a failed checksum, a malformed diff (a bad price or amount, ``u < U``, or
an update id beyond any plausible bridge: :data:`MAX_UPDATE_ID_ADVANCE`), or (for venues with a
sequence) a crossed book makes the book not ready and asks for a resync; the event is counted
and logged once. The caller (the tracker) fetches a snapshot and hands it to :meth:`on_snapshot`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, replace

from connectorkit.connector.book_sync_rule import (
    BookSyncRule,
    ChecksumVerifier,
    ContinuityRule,
    SnapshotSource,
)
from connectorkit.core.order_book import OrderBook, OrderBookDataError
from connectorkit.core.order_book_message import OrderBookMessage

_LOG = logging.getLogger(__name__)
_CONSECUTIVE = ContinuityRule.CONSECUTIVE
_CHAINED = ContinuityRule.CHAINED
_INCREMENT = ContinuityRule.INCREMENT
_monotonic = time.monotonic


@dataclass(slots=True)
class PairMetrics:
    """Counters of one pair's book. ``queue_depth`` is the number of diffs held in the buffer."""

    diffs_applied: int = 0
    snapshots_applied: int = 0
    stale_dropped: int = 0
    gaps: int = 0
    bridge_failures: int = 0
    resyncs: int = 0
    checksum_failures: int = 0
    malformed: int = 0
    crossed_levels_removed: int = 0
    buffer_overflows: int = 0
    trades: int = 0
    queue_depth: int = 0
    last_update_time: float | None = None
    """Wall-clock time (s) at which the last applied snapshot/diff was received; None before."""
    latency_samples: int = 0
    """Diffs whose receipt-to-applied latency was measured: every ``LATENCY_SAMPLE_EVERY``-th."""
    last_latency: float = 0.0
    """Seconds from receipt to application, of the last sampled diff."""
    max_latency: float = 0.0
    total_latency: float = 0.0

    @property
    def mean_latency(self) -> float:
        return self.total_latency / self.latency_samples if self.latency_samples else 0.0


MAX_UPDATE_ID_ADVANCE = 10_000_000
"""The most update ids one diff may advance a sequenced book (``u`` minus the id of the last
applied diff, or of the snapshot for the bridging diff): "beyond any plausible bridge".

One Binance diff event carries the book changes of one stream interval (100 ms, 250 ms, at most
1000 ms for ``@depth``, "Diff. Depth Stream"), and the ids count the symbol's book changes. The
public captures in ``tests/data/captures`` advance by at most 12 (Binance US spot, 100 ms) and
6,500 (COIN-M futures, 250 ms) ids per diff: the bound is over 1,500 times the largest seen, ten
million changes of one symbol's book in one stream interval. A diff beyond it carries a corrupt
id: applying it would make every later diff look stale and freeze a "ready" book."""

MAX_UPDATE_ID = 2**63 - 1
"""The largest snapshot id accepted: ids are signed 64-bit integers (Binance's were about 1.7e11
in the 2021 COIN-M capture); a snapshot id outside ``[0, MAX_UPDATE_ID]`` is malformed."""

LATENCY_SAMPLE_EVERY = 8
"""Latency is measured on one applied diff in 8: reading the clock on every diff would cost
about a twentieth of the whole bytes-to-book path (benchmarks/order_book.py)."""
_SAMPLE_MASK = LATENCY_SAMPLE_EVERY - 1


class BookSynchronizer:
    """Applies one pair's snapshots and diffs under a :class:`ContinuityRule` (see module doc)."""

    __slots__ = (
        "_awaiting",
        "_bridge_pending",
        "_buffer",
        "_depth",
        "_last_received",
        "_last_uid",
        "_live",
        "_metrics",
        "_refreshing",
        "_rule",
        "_snapshot_uid",
        "_stream_snapshots",
        "_verify",
        "order_book",
        "ready",
        "trading_pair",
    )

    def __init__(
        self,
        trading_pair: str,
        rule: BookSyncRule | ContinuityRule,
        *,
        verify_checksum: ChecksumVerifier | None = None,
        max_buffer: int = 100_000,
        order_book: OrderBook | None = None,
    ) -> None:
        """``rule``: the venue's procedure (a bare ContinuityRule means REST snapshots, no
        checksum, no depth limit). ``verify_checksum`` replaces the rule's checksum kind (a data
        source's own ``verify_checksum``); with neither, checksums are not checked."""
        if isinstance(rule, ContinuityRule):
            rule = BookSyncRule(rule)
        self.trading_pair = trading_pair
        self.order_book = OrderBook() if order_book is None else order_book
        self.ready = False
        self._rule = rule.continuity
        self._depth = rule.depth
        # A snapshot pushed on the stream supersedes every diff received before it (the venue
        # sends its diffs after it, in order); only a REST snapshot needs the buffer bridged.
        self._stream_snapshots = rule.snapshot_source is SnapshotSource.STREAM
        if verify_checksum is None and rule.checksum is not None:
            verify_checksum = rule.checksum.verifier()
        self._verify = verify_checksum
        self._buffer: deque[OrderBookMessage] = deque(maxlen=max_buffer)
        self._awaiting = True
        self._refreshing = False
        self._bridge_pending = True
        self._live = False  # live, not refreshing, bridged: the only state on_diff's fast path serves
        self._snapshot_uid = 0
        self._last_uid = 0
        self._last_received: float | None = None  # monotonic receipt time of the last applied update
        self._metrics = PairMetrics()

    # ------------------------------------------------------------------ state
    @property
    def awaiting_snapshot(self) -> bool:
        """True while the book needs a snapshot (initially and after a resync)."""
        return self._awaiting

    @property
    def refreshing(self) -> bool:
        return self._refreshing

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def metrics(self) -> PairMetrics:
        """The live counters (mutable; :meth:`metrics_snapshot` gives a consistent copy)."""
        return self._metrics

    def metrics_snapshot(self) -> PairMetrics:
        """A copy of the counters with ``queue_depth`` and ``last_update_time`` filled in."""
        last = self._last_received
        wall = None if last is None else time.time() - (time.monotonic() - last)
        return replace(self._metrics, queue_depth=len(self._buffer), last_update_time=wall)

    # ------------------------------------------------------------------ input
    def begin_refresh(self) -> bool:
        """Start buffering for a periodic refresh; False if the book is not live."""
        if self._awaiting:
            return False
        self._refreshing = True
        self._live = False
        self._buffer.clear()
        return True

    def on_diff(self, message: OrderBookMessage) -> bool:
        """Handle one diff; True if this call started a resync (a snapshot is needed)."""
        if not self._live:
            if self._awaiting:
                self._hold(message)
                return False
            if self._refreshing:
                self._hold(message)
            if self._bridge_pending:
                return self._apply(message)
        # The hot path: the continuity rule and the id plausibility check inlined (see
        # ContinuityRule.continues and _implausible).
        rule = self._rule
        if rule is _CONSECUTIVE:
            first = message.first_update_id
            if first != self._last_uid + 1 or not 0 <= message.update_id - first < MAX_UPDATE_ID_ADVANCE:
                return self._apply(message)
        elif rule is _CHAINED:
            last = self._last_uid
            first = message.first_update_id
            if (
                message.previous_update_id != last
                or message.update_id - last > MAX_UPDATE_ID_ADVANCE
                or (first is not None and first > message.update_id)
            ):
                return self._apply(message)
        elif rule is _INCREMENT:
            if message.update_id != self._last_uid + 1:
                return self._apply(message)
        elif message.update_id <= self._last_uid:
            return self._apply(message)
        # In sequence: _commit's common case, inlined (this runs once per frame).
        try:
            crossed = self.order_book.apply_diffs(message.bids, message.asks, message.update_id)
        except OrderBookDataError as exc:
            self._metrics.malformed += 1
            return self._resync(None, f"malformed diff u={message.update_id} ({exc})")
        self._last_uid = message.update_id
        if self._depth is not None:
            self.order_book.truncate(self._depth)
        if crossed or message.checksum is not None:
            return self._after_apply(message, crossed)
        metrics = self._metrics  # _account, inlined
        applied = metrics.diffs_applied = metrics.diffs_applied + 1
        self._last_received = message.received_at
        if not applied & _SAMPLE_MASK:
            self._sample_latency(message)
        return False

    def on_snapshot(self, message: OrderBookMessage) -> bool:
        """Install a snapshot and replay the buffered diffs; True if a resync is still needed."""
        try:
            if not 0 <= message.update_id <= MAX_UPDATE_ID:
                raise OrderBookDataError(f"update id {message.update_id} out of range")
            self.order_book.apply_snapshot(message.bids, message.asks, message.update_id)
            if self._depth is not None:
                self.order_book.truncate(self._depth)
        except OrderBookDataError as exc:
            self._metrics.malformed += 1
            _LOG.warning("%s: malformed snapshot skipped: %s", self.trading_pair, exc)
            if self._refreshing:  # the live book stays as it was; the next refresh tries again
                self._refreshing = False
                self._live = not self._bridge_pending
                self._buffer.clear()
            return self._awaiting
        verify = self._verify
        if message.checksum is not None and verify is not None and not verify(self.order_book, message):
            self._metrics.checksum_failures += 1
            return self._resync(None, f"checksum mismatch on snapshot u={message.update_id}")
        self._metrics.snapshots_applied += 1
        self._last_received = message.received_at
        self._snapshot_uid = self._last_uid = message.update_id
        self._bridge_pending = True
        self._awaiting = False
        self._refreshing = False
        self._live = False
        self.ready = True
        pending = list(self._buffer)
        self._buffer.clear()
        if self._stream_snapshots:
            self._metrics.stale_dropped += len(pending)
            pending = []
        for index, diff in enumerate(pending):
            if self._apply(diff):
                # _apply started a resync and buffered ``diff``; keep everything after it too.
                self._buffer.extend(pending[index + 1 :])
                return True
        return False

    def note_trade(self) -> None:
        self._metrics.trades += 1

    def request_resync(self, reason: str) -> bool:
        """Force a resync (e.g. after a reconnect); False if one is already pending."""
        if self._awaiting:
            return False
        return self._resync(None, reason)

    # ------------------------------------------------------------------ rules
    def _hold(self, message: OrderBookMessage) -> None:
        buffer = self._buffer
        if len(buffer) == buffer.maxlen:
            self._metrics.buffer_overflows += 1
        buffer.append(message)

    def _implausible(self, message: OrderBookMessage, base: int | None) -> str | None:
        """Why a diff that would be applied on top of update id ``base`` is malformed, or None.

        For sequenced venues: ``u < U``, or ``u`` more than :data:`MAX_UPDATE_ID_ADVANCE` ids
        beyond ``base`` (the last applied id, the snapshot's for the bridging diff; None for a
        diff that is not applied now).
        """
        if self._rule is ContinuityRule.NONE:
            return None  # local ids from the data source's own counter
        first = message.first_update_id
        if first is not None and first > message.update_id:
            return f"U={first} > u={message.update_id}"
        if base is not None and message.update_id - base > MAX_UPDATE_ID_ADVANCE:
            return f"u={message.update_id} is beyond any plausible bridge from {base}"
        return None

    def _apply(self, message: OrderBookMessage) -> bool:
        rule = self._rule
        metrics = self._metrics
        if self._bridge_pending:
            if rule.is_stale(message, self._snapshot_uid):
                metrics.stale_dropped += 1
                return False
            reason = self._implausible(message, self._snapshot_uid)
            if reason is not None:
                return self._malformed(message, reason)
            if not rule.bridges(message, self._snapshot_uid):
                metrics.bridge_failures += 1
                return self._resync(
                    message,
                    f"first diff U={message.first_update_id} u={message.update_id} does not bridge "
                    f"snapshot {self._snapshot_uid}",
                )
            self._bridge_pending = False
            self._live = not self._refreshing
        elif not rule.continues(message, self._last_uid):
            if message.update_id <= self._last_uid:
                metrics.stale_dropped += 1  # an old or duplicated diff: already applied
                return False
            # A gap is kept for the next snapshot; its advance is checked against that one.
            reason = self._implausible(message, None)
            if reason is not None:
                return self._malformed(message, reason)
            metrics.gaps += 1
            return self._resync(
                message,
                f"sequence gap after {self._last_uid}: U={message.first_update_id} "
                f"pu={message.previous_update_id} u={message.update_id}",
            )
        else:
            reason = self._implausible(message, self._last_uid)
            if reason is not None:
                return self._malformed(message, reason)
        return self._commit(message)

    def _malformed(self, message: OrderBookMessage, reason: str) -> bool:
        """Count a diff with implausible ids and resync without it (it would fail again)."""
        self._metrics.malformed += 1
        ids = f"U={message.first_update_id} u={message.update_id}"
        return self._resync(None, f"malformed diff {ids} ({reason})")

    def _commit(self, message: OrderBookMessage) -> bool:
        """Apply a diff that passed the sequence checks; True if a resync was started."""
        try:
            crossed = self.order_book.apply_diffs(message.bids, message.asks, message.update_id)
        except OrderBookDataError as exc:
            self._metrics.malformed += 1
            return self._resync(None, f"malformed diff u={message.update_id} ({exc})")
        self._last_uid = message.update_id
        if self._depth is not None:
            self.order_book.truncate(self._depth)
        return self._after_apply(message, crossed)

    def _after_apply(self, message: OrderBookMessage, crossed: int) -> bool:
        """Crossing and checksum checks of an applied diff; True if a resync was started."""
        metrics = self._metrics
        if crossed:
            metrics.crossed_levels_removed += crossed
            if self._rule is not ContinuityRule.NONE:
                return self._resync(message, f"book crossed after diff u={message.update_id}")
        verify = self._verify
        if message.checksum is not None and verify is not None and not verify(self.order_book, message):
            metrics.checksum_failures += 1
            return self._resync(message, f"checksum mismatch after diff u={message.update_id}")
        self._account(message)
        return False

    def _account(self, message: OrderBookMessage) -> None:
        metrics = self._metrics
        applied = metrics.diffs_applied = metrics.diffs_applied + 1
        self._last_received = message.received_at
        if not applied & _SAMPLE_MASK:
            self._sample_latency(message)

    def _sample_latency(self, message: OrderBookMessage) -> None:
        latency = _monotonic() - message.received_at
        metrics = self._metrics
        metrics.latency_samples += 1
        metrics.last_latency = latency
        metrics.total_latency += latency
        if latency > metrics.max_latency:
            metrics.max_latency = latency

    def _resync(self, keep: OrderBookMessage | None, reason: str) -> bool:
        """Mark the book not ready and buffer from ``keep`` on; True (a snapshot is needed).

        ``keep`` is the diff that revealed the problem: its data is sound (the book was not), and
        the next snapshot may predate it. A malformed diff is not kept (it would fail again).
        """
        self._metrics.resyncs += 1
        _LOG.warning("%s: %s; book not ready, resyncing from a new snapshot", self.trading_pair, reason)
        self.ready = False
        self._awaiting = True
        self._refreshing = False
        self._live = False
        self._buffer.clear()
        if keep is not None and not self._stream_snapshots:
            self._buffer.append(keep)
        return True
