"""BookSynchronizer: the tracker's per-pair rules, one by one, without an event loop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectorkit.connector.order_book_sync import (
    LATENCY_SAMPLE_EVERY,
    MAX_UPDATE_ID_ADVANCE,
    BookSynchronizer,
)
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

PAIR = "BTC-USDT"
Rows = list[tuple[str, str]]


def snap(uid: int, bids: Rows | None = None, asks: Rows | None = None) -> OrderBookMessage:
    return OrderBookMessage(
        OrderBookMessageType.SNAPSHOT, None, 0.0, PAIR, uid,
        bids=[("100", "1"), ("99", "1")] if bids is None else bids,
        asks=[("101", "1"), ("102", "1")] if asks is None else asks,
    )


def diff(
    first: int, last: int, bids: Rows | None = None, asks: Rows | None = None, pu: int | None = None,
    checksum: int | None = None,
) -> OrderBookMessage:
    return OrderBookMessage(
        OrderBookMessageType.DIFF, None, 0.0, PAIR, last, first, pu, bids or [], asks or [], checksum=checksum
    )


def book_levels(sync: BookSynchronizer) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    bids, asks = sync.order_book.snapshot()
    return [(str(r.price), str(r.amount)) for r in bids], [(str(r.price), str(r.amount)) for r in asks]


def test_diffs_before_the_snapshot_are_buffered_then_bridged_and_stale_ones_dropped() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert not sync.ready and sync.awaiting_snapshot
    assert not sync.on_diff(diff(5, 8, bids=[("98", "1")]))  # stale: u=8 <= 10
    assert not sync.on_diff(diff(9, 10, bids=[("97", "1")]))  # stale: u == lastUpdateId
    assert not sync.on_diff(diff(11, 12, bids=[("100", "5")]))  # bridges: 11 <= 11 <= 12
    assert not sync.on_diff(diff(13, 13, asks=[("101", "0")]))
    assert sync.buffered == 4 and not sync.ready
    assert not sync.on_snapshot(snap(10))
    assert sync.ready and sync.buffered == 0
    assert book_levels(sync) == ([("100", "5"), ("99", "1")], [("102", "1")])
    m = sync.metrics
    assert (m.stale_dropped, m.diffs_applied, m.gaps, m.resyncs, m.snapshots_applied) == (2, 2, 0, 0, 1)
    assert sync.order_book.last_diff_uid == 13


def test_bridging_diff_may_start_before_the_snapshot() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert not sync.on_diff(diff(8, 15, bids=[("100", "2")]))  # 8 <= 11 <= 15
    assert sync.ready and sync.order_book.best_bid == Decimal(100)
    assert not sync.on_diff(diff(16, 16))


def test_first_diff_that_does_not_bridge_triggers_a_resync() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert sync.on_diff(diff(13, 14, bids=[("100", "9")]))  # 11 missing
    assert not sync.ready and sync.awaiting_snapshot
    assert sync.metrics.bridge_failures == 1 and sync.metrics.resyncs == 1
    assert not sync.on_diff(diff(15, 15, asks=[("101", "3")]))  # buffered meanwhile
    assert sync.buffered == 2
    assert not sync.on_snapshot(snap(14))  # newer snapshot: 13..14 stale, 15 bridges
    assert sync.ready and book_levels(sync) == ([("100", "1"), ("99", "1")], [("101", "3"), ("102", "1")])


def test_gap_marks_not_ready_and_a_new_snapshot_restores_the_correct_book() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    sync.on_diff(diff(11, 11, bids=[("100", "2")]))
    assert sync.on_diff(diff(13, 13, bids=[("100", "3")]))  # 12 lost
    assert not sync.ready and sync.metrics.gaps == 1
    assert not sync.on_diff(diff(14, 14, asks=[("103", "1")]))  # a second call does not ask again
    truth_at_13 = snap(13, bids=[("100", "3"), ("99", "4")], asks=[("101", "1"), ("102", "1")])
    assert not sync.on_snapshot(truth_at_13)
    assert sync.ready
    assert book_levels(sync) == ([("100", "3"), ("99", "4")], [("101", "1"), ("102", "1"), ("103", "1")])
    assert sync.metrics.resyncs == 1


def test_old_or_duplicated_diff_after_sync_is_dropped_not_a_gap() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    sync.on_diff(diff(11, 12, bids=[("100", "2")]))
    assert not sync.on_diff(diff(11, 12, bids=[("100", "7")]))  # a duplicate
    assert sync.ready and sync.order_book.snapshot()[0][0].amount == Decimal(2)
    assert sync.metrics.stale_dropped == 1 and sync.metrics.gaps == 0


def test_chained_rule_binance_futures() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CHAINED)
    sync.on_diff(diff(1, 9, pu=0, bids=[("98", "1")]))  # stale: u < 10
    sync.on_diff(diff(8, 10, pu=9, bids=[("100", "4")]))  # u == lastUpdateId: kept, bridges 8 <= 10 <= 10
    sync.on_diff(diff(11, 17, pu=10, asks=[("101", "0")]))
    sync.on_snapshot(snap(10))
    assert sync.ready and sync.metrics.stale_dropped == 1 and sync.metrics.diffs_applied == 2
    assert book_levels(sync) == ([("100", "4"), ("99", "1")], [("102", "1")])
    assert not sync.on_diff(diff(20, 25, pu=17))  # U jumps, but pu chains: fine on futures
    assert sync.on_diff(diff(30, 31, pu=26))  # pu != 25
    assert sync.metrics.gaps == 1 and not sync.ready


def test_chained_rule_stale_drop_keeps_u_equal_to_snapshot_id() -> None:
    rule = ContinuityRule.CHAINED
    assert not rule.is_stale(diff(5, 10, pu=4), 10) and rule.is_stale(diff(5, 9, pu=4), 10)
    assert ContinuityRule.CONSECUTIVE.is_stale(diff(5, 10), 10)
    assert rule.bridges(diff(5, 10, pu=4), 10) and not rule.bridges(diff(11, 12, pu=9), 10)
    assert ContinuityRule.CONSECUTIVE.bridges(diff(11, 12), 10)
    assert not ContinuityRule.CONSECUTIVE.bridges(diff(12, 12), 10)
    assert not ContinuityRule.CONSECUTIVE.bridges(diff(11, 12).__class__(
        OrderBookMessageType.DIFF, None, 0.0, PAIR, 12), 10)  # no U: cannot bridge


def test_chained_first_diff_whose_pu_is_the_snapshot_id_bridges() -> None:
    # Regression: snapshot 12, first diff U=13 u=14 pu=12 continues the snapshot exactly (the
    # futures stream's ids are not consecutive, so U <= 12 <= u cannot hold) and must apply.
    rule = ContinuityRule.CHAINED
    assert rule.bridges(diff(13, 14, pu=12), 12) and not rule.bridges(diff(13, 14, pu=11), 12)
    sync = BookSynchronizer(PAIR, rule)
    sync.on_diff(diff(13, 14, pu=12, bids=[("100", "6")]))
    assert not sync.on_snapshot(snap(12))
    assert sync.ready and sync.metrics.bridge_failures == 0 and sync.metrics.resyncs == 0
    assert sync.metrics.diffs_applied == 1 and sync.order_book.snapshot()[0][0].amount == Decimal(6)
    # CONSECUTIVE analogue: U == lastUpdateId + 1 is inside U <= lastUpdateId + 1 <= u.
    assert ContinuityRule.CONSECUTIVE.bridges(diff(13, 14), 12)


def test_no_sequence_venue_uses_local_ids_and_never_gaps() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.NONE)
    sync.on_diff(diff(0, 3, bids=[("98", "1")]))  # received before the snapshot's local id 4
    sync.on_snapshot(snap(4))
    sync.on_diff(diff(0, 5, bids=[("100", "2")]))
    sync.on_diff(diff(0, 9, asks=[("101", "5")]))
    assert sync.ready and sync.metrics.stale_dropped == 1 and sync.metrics.gaps == 0
    assert book_levels(sync) == ([("100", "2"), ("99", "1")], [("101", "5"), ("102", "1")])


def test_crossing_resyncs_a_sequenced_venue_but_not_an_unsequenced_one() -> None:
    strict = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    strict.on_snapshot(snap(10))
    assert strict.on_diff(diff(11, 11, bids=[("101.5", "1")]))
    assert not strict.ready and strict.metrics.crossed_levels_removed == 1
    loose = BookSynchronizer(PAIR, ContinuityRule.NONE)
    loose.on_snapshot(snap(10))
    assert not loose.on_diff(diff(0, 11, bids=[("101.5", "1")]))
    assert loose.ready and loose.order_book.best_ask == Decimal(102)
    assert loose.metrics.crossed_levels_removed == 1


def test_checksum_failure_triggers_a_resync() -> None:
    seen: list[int] = []

    def verify(book: OrderBook, message: OrderBookMessage) -> bool:
        seen.append(message.update_id)
        return message.checksum == book.bid_depth  # a toy checksum: the number of bid levels

    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE, verify_checksum=verify)
    sync.on_snapshot(snap(10))  # the venue's book also had a bid at 95 that this copy lacks
    assert sync.on_diff(diff(11, 11, bids=[("98", "1")], checksum=4))
    assert seen == [11] and sync.metrics.checksum_failures == 1 and not sync.ready
    assert sync.buffered == 1  # the diff itself is kept: the next snapshot may predate it
    truth = snap(11, bids=[("100", "1"), ("99", "1"), ("98", "1"), ("95", "1")])
    assert not sync.on_snapshot(truth)
    assert sync.ready and sync.order_book.bid_depth == 4 and sync.metrics.stale_dropped == 1
    assert not sync.on_diff(diff(12, 12, bids=[("97", "1")], checksum=5))
    assert seen == [11, 12] and sync.ready and sync.metrics.resyncs == 1


def test_malformed_diff_is_counted_and_resyncs() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert sync.on_diff(diff(11, 11, bids=[("not a price", "1")]))
    assert sync.metrics.malformed == 1 and not sync.ready and sync.buffered == 0


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-5", "-0.001", "abc", ""])
def test_a_diff_with_a_bad_amount_is_malformed_never_applied_and_logged_once(
    amount: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17.3: counted, logged once, never applied; the book resyncs and the skipped diff's
    ids are then a gap for the buffered diffs that follow, bridged by the next snapshot."""
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    before = book_levels(sync)
    with caplog.at_level("WARNING", logger="connectorkit.connector.order_book_sync"):
        assert sync.on_diff(diff(11, 11, bids=[("98", "4"), ("100", amount)], asks=[("101", "3")]))
    assert [r.levelname for r in caplog.records] == ["WARNING"] and amount.join("''") in caplog.text
    assert sync.metrics.malformed == 1 and sync.metrics.resyncs == 1 and not sync.ready
    assert book_levels(sync) == before and sync.buffered == 0
    assert not sync.on_diff(diff(12, 12, bids=[("100", "6")]))  # buffered for the next snapshot
    assert not sync.on_snapshot(snap(11))
    assert sync.ready and book_levels(sync)[0] == [("100", "6"), ("99", "1")]


ABSURD = 2**70


@pytest.mark.parametrize(
    ("first", "last"),
    [(11, ABSURD), (11, 11 + MAX_UPDATE_ID_ADVANCE), (12, 11)],
    ids=["u=2**70", "one id beyond the bound", "u<U"],
)
def test_a_live_diff_with_implausible_ids_is_malformed_and_resyncs(first: int, last: int) -> None:
    """Issue 17.4: such a diff used to be applied, then every later diff was dropped as stale
    while the book said it was ready."""
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert not sync.on_diff(diff(10, 10))  # stale
    if first == 12:
        assert not sync.on_diff(diff(11, 11))
    before = book_levels(sync)
    assert sync.on_diff(diff(first, last, bids=[("100", "9")]))
    m = sync.metrics
    assert (m.malformed, m.resyncs) == (1, 1) and not sync.ready and sync.buffered == 0
    assert book_levels(sync) == before
    assert not sync.on_diff(diff(first, first, bids=[("100", "7")]))  # buffered, then bridges
    assert not sync.on_snapshot(snap(first - 1))
    assert sync.ready and book_levels(sync)[0][0] == ("100", "7") and sync.metrics.gaps == 0


def test_the_largest_plausible_advance_is_applied() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert not sync.on_diff(diff(11, 10 + MAX_UPDATE_ID_ADVANCE, bids=[("100", "9")]))
    assert sync.ready and sync.metrics.malformed == 0 and book_levels(sync)[0][0] == ("100", "9")


def test_a_buffered_diff_beyond_any_plausible_bridge_is_malformed() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert not sync.on_diff(diff(9, ABSURD, bids=[("100", "9")]))  # 9 <= 11 <= u: "bridges"
    assert sync.on_snapshot(snap(10))
    assert sync.metrics.malformed == 1 and not sync.ready and sync.order_book.best_bid == Decimal(100)


def test_a_gap_with_u_below_U_is_malformed_not_kept() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    assert sync.on_diff(diff(20, 15))
    assert sync.metrics.malformed == 1 and sync.metrics.gaps == 0 and sync.buffered == 0


@pytest.mark.parametrize(("first", "last"), [(13, ABSURD), (14, 13)], ids=["u=2**70", "u<U"])
def test_a_chained_diff_with_implausible_ids_is_malformed(first: int, last: int) -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CHAINED)
    sync.on_snapshot(snap(10))
    assert not sync.on_diff(diff(9, 12, pu=8))  # bridges
    assert sync.on_diff(diff(first, last, bids=[("100", "9")], pu=12))
    assert sync.metrics.malformed == 1 and not sync.ready and sync.order_book.best_bid == Decimal(100)


@pytest.mark.parametrize("uid", [-1, 2**63])
def test_a_snapshot_id_outside_64_bits_is_malformed(uid: int) -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert sync.on_snapshot(snap(uid))
    assert sync.metrics.malformed == 1 and not sync.ready


def test_malformed_snapshot_is_skipped() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert sync.on_snapshot(snap(10, bids=[("x", "1")]))
    assert sync.metrics.malformed == 1 and not sync.ready


def test_refresh_keeps_the_book_live_and_replays_onto_the_fresh_snapshot() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert not sync.begin_refresh()  # not live yet
    sync.on_snapshot(snap(10))
    sync.on_diff(diff(11, 11, bids=[("100", "2")]))
    assert sync.begin_refresh() and sync.refreshing
    sync.on_diff(diff(12, 12, asks=[("101", "4")]))
    sync.on_diff(diff(13, 13, bids=[("99", "0")]))
    assert sync.ready and sync.buffered == 2 and sync.order_book.best_ask == Decimal(101)
    # The refresh snapshot was taken at 12 and shows a level the diffs never mentioned.
    fresh = snap(12, bids=[("100", "2"), ("99", "1"), ("90", "1")], asks=[("101", "4"), ("102", "1")])
    assert not sync.on_snapshot(fresh)
    assert not sync.refreshing and sync.ready and sync.buffered == 0
    assert book_levels(sync) == ([("100", "2"), ("90", "1")], [("101", "4"), ("102", "1")])
    assert sync.metrics.snapshots_applied == 2 and sync.metrics.stale_dropped == 1


def test_malformed_refresh_snapshot_leaves_the_live_book_running() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    sync.on_snapshot(snap(10))
    sync.on_diff(diff(11, 11, bids=[("100", "2")]))
    sync.begin_refresh()
    sync.on_diff(diff(12, 12, bids=[("100", "3")]))
    assert not sync.on_snapshot(snap(12, bids=[("bad", "1")]))
    assert sync.ready and not sync.refreshing and sync.buffered == 0 and sync.metrics.malformed == 1
    assert not sync.on_diff(diff(13, 13, bids=[("100", "4")]))
    assert sync.order_book.snapshot()[0][0].amount == Decimal(4) and sync.buffered == 0


def test_buffer_is_bounded_and_overflow_counted() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE, max_buffer=3)
    for uid in range(1, 6):
        sync.on_diff(diff(uid, uid))
    assert sync.buffered == 3 and sync.metrics.buffer_overflows == 2


def test_metrics_snapshot() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert sync.metrics_snapshot().last_update_time is None
    sync.on_diff(diff(11, 11))
    assert sync.metrics_snapshot().queue_depth == 1
    sync.on_snapshot(snap(10))
    m = sync.metrics_snapshot()
    assert m.queue_depth == 0 and m.last_update_time is not None and m.diffs_applied == 1
    for uid in range(12, 12 + 2 * LATENCY_SAMPLE_EVERY):
        sync.on_diff(diff(uid, uid, bids=[("98", str(uid))]))
    m = sync.metrics_snapshot()
    assert m.diffs_applied == 1 + 2 * LATENCY_SAMPLE_EVERY and m.latency_samples == 2
    assert m.max_latency >= m.last_latency >= 0 and m.total_latency >= m.max_latency
    assert m.mean_latency == m.total_latency / 2


def test_request_resync() -> None:
    sync = BookSynchronizer(PAIR, ContinuityRule.CONSECUTIVE)
    assert not sync.request_resync("already waiting")
    sync.on_snapshot(snap(10))
    assert sync.request_resync("reconnected") and not sync.ready and sync.metrics.resyncs == 1


@pytest.mark.parametrize("rule", list(ContinuityRule))
def test_resync_while_replaying_the_buffer_keeps_later_diffs(rule: ContinuityRule) -> None:
    sync = BookSynchronizer(PAIR, rule)
    pu = rule is ContinuityRule.CHAINED
    sync.on_diff(diff(11, 11, pu=10 if pu else None, bids=[("100", "2")]))
    sync.on_diff(diff(13, 13, pu=12 if pu else None, bids=[("100", "3")]))  # 12 missing
    sync.on_diff(diff(14, 14, pu=13 if pu else None, bids=[("100", "4")]))
    needs_more = sync.on_snapshot(snap(11 if pu else 10))  # futures: U <= lastUpdateId <= u
    if rule is ContinuityRule.NONE:
        assert not needs_more and sync.order_book.snapshot()[0][0].amount == Decimal(4)
    else:
        assert needs_more and sync.buffered == 2 and sync.metrics.gaps == 1
        assert not sync.on_snapshot(snap(13))
        assert sync.ready and sync.order_book.snapshot()[0][0].amount == Decimal(4)
