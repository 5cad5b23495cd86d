"""Book-sync rules as data (issue 11 item 3): WS snapshots, the OKX seqId chain, Bybit's +1 with
the ``u == 1`` restart, both checksum kinds, and truncation to the subscribed depth; on hand-built
frames and on the real OKX and Bybit recordings."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectorkit.connector.book_sync_rule import BookSyncRule, ChecksumKind, ContinuityRule, SnapshotSource
from connectorkit.connector.order_book_sync import BookSynchronizer
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.core.book_checksum import asks_then_bids_crc32, interleaved_crc32
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.bybit.bybit_market_wire import parse_public_frame as parse_bybit
from connectorkit.exchanges.okx.okx_market_wire import parse_public_frame as parse_okx
from support.paths import CAPTURES

SNAP, DIFF = OrderBookMessageType.SNAPSHOT, OrderBookMessageType.DIFF
Levels = list[tuple[str, str]]


def msg(kind: OrderBookMessageType, u: int, bids: Levels, asks: Levels, *, prev: int | None = None,
        checksum: int | None = None) -> OrderBookMessage:
    return OrderBookMessage(kind, None, 0.0, "BTC-USDT", u, None, prev, bids, asks, checksum=checksum)


# ------------------------------------------------------------------ hand-built frames
def test_increment_bridges_the_stream_snapshot_gaps_resync_and_u_1_is_a_restart() -> None:
    sync = BookSynchronizer("BTC-USDT", BookSyncRule(ContinuityRule.INCREMENT, SnapshotSource.STREAM))
    assert not sync.on_snapshot(msg(SNAP, 10, [("99", "1")], [("101", "1")]))
    assert not sync.on_diff(msg(DIFF, 10, [("98", "5")], []))  # already in the snapshot: stale
    assert not sync.on_diff(msg(DIFF, 11, [("99", "2")], []))
    assert not sync.on_diff(msg(DIFF, 12, [], [("101", "0"), ("102", "3")]))
    assert sync.ready and sync.order_book.raw_levels(True) == [("99", "2")]
    assert sync.metrics.stale_dropped == 1 and sync.metrics.diffs_applied == 2
    assert sync.on_diff(msg(DIFF, 14, [("97", "1")], []))  # 13 is missing
    assert not sync.ready and sync.metrics.gaps == 1
    assert not sync.on_diff(msg(DIFF, 15, [("96", "1")], []))  # held until the next snapshot
    # The server restarted: its ids begin again at 1, with a snapshot the parser reports as one.
    assert not sync.on_snapshot(msg(SNAP, 1, [("100", "1")], [("103", "1")]))
    assert not sync.on_diff(msg(DIFF, 2, [("100", "4")], []))
    assert sync.ready and sync.order_book.raw_levels(True) == [("100", "4")]
    assert sync.metrics.stale_dropped == 2  # the held diff of the old stream, superseded


def test_the_okx_seq_chain_takes_unchanged_pushes_and_breaks_on_a_missed_link() -> None:
    sync = BookSynchronizer("BTC-USDT", BookSyncRule(ContinuityRule.CHAINED, SnapshotSource.STREAM))
    assert not sync.on_snapshot(msg(SNAP, 100, [("99", "1")], [("101", "1")], prev=-1))
    assert not sync.on_diff(msg(DIFF, 105, [("99", "3")], [], prev=100))
    assert not sync.on_diff(msg(DIFF, 105, [], [], prev=105))  # "no change": prevSeqId == seqId
    assert not sync.on_diff(msg(DIFF, 109, [], [("101", "2")], prev=105))
    assert sync.ready and sync.metrics.diffs_applied == 3 and sync.metrics.gaps == 0
    assert sync.on_diff(msg(DIFF, 120, [], [], prev=111))
    assert not sync.ready and sync.metrics.gaps == 1


@pytest.mark.parametrize(
    ("kind", "crc"),
    [
        (ChecksumKind.INTERLEAVED_SIGNED, interleaved_crc32),
        (ChecksumKind.ASKS_THEN_BIDS_UNSIGNED, asks_then_bids_crc32),
    ],
)
def test_a_checksum_is_verified_after_every_message_and_a_mismatch_resyncs(
    kind: ChecksumKind, crc: object
) -> None:
    rule = BookSyncRule(ContinuityRule.INCREMENT, SnapshotSource.STREAM, kind)
    sync = BookSynchronizer("BTC-USDT", rule)
    bids, asks = [("99.5", "1.20")], [("100.5", "0.5")]
    good = crc(bids, asks)  # type: ignore[operator]
    assert not sync.on_snapshot(msg(SNAP, 1, bids, asks, checksum=good))
    after = crc([("99.5", "1.20"), ("99.4", "2")], asks)  # type: ignore[operator]
    assert not sync.on_diff(msg(DIFF, 2, [("99.4", "2")], [], checksum=after))
    assert sync.ready and sync.metrics.checksum_failures == 0
    assert sync.on_diff(msg(DIFF, 3, [("99.3", "1")], [], checksum=after))  # the book has moved on
    assert not sync.ready and sync.metrics.checksum_failures == 1
    assert sync.on_snapshot(msg(SNAP, 4, bids, asks, checksum=good + 1))  # a bad snapshot too
    assert not sync.ready and sync.metrics.checksum_failures == 2


def test_a_depth_limited_feed_is_truncated_after_every_message() -> None:
    rule = BookSyncRule(ContinuityRule.INCREMENT, SnapshotSource.STREAM, depth=3)
    sync = BookSynchronizer("BTC-USDT", rule)
    bids = [(str(100 - i), "1") for i in range(5)]
    asks = [(str(101 + i), "1") for i in range(5)]
    sync.on_snapshot(msg(SNAP, 1, bids, asks))
    book = sync.order_book
    assert [p for p, _ in book.raw_levels(True)] == ["100", "99", "98"]
    assert [p for p, _ in book.raw_levels(False)] == ["101", "102", "103"]
    sync.on_diff(msg(DIFF, 2, [("100.5", "2")], []))  # pushes 98 out, with no delete for it
    assert [p for p, _ in book.raw_levels(True)] == ["100.5", "100", "99"]
    sync.on_diff(msg(DIFF, 3, [("100.5", "0")], []))  # 98 does not come back: it was dropped
    assert [p for p, _ in book.raw_levels(True)] == ["100", "99"]
    assert book.get_volume_for_price(True, Decimal(105)).result_volume == Decimal(3)  # walks see it too
    with pytest.raises(ValueError, match="at least 1"):
        BookSyncRule(ContinuityRule.NONE, depth=0)


def test_a_bare_continuity_rule_still_means_rest_snapshots_without_checksum_or_depth() -> None:
    class Legacy(OrderBookTrackerDataSource):
        continuity = ContinuityRule.CONSECUTIVE

    assert Legacy.__dict__["continuity"] is ContinuityRule.CONSECUTIVE
    rule = BookSyncRule(ContinuityRule.CONSECUTIVE)
    assert (rule.snapshot_source, rule.checksum, rule.depth) == (SnapshotSource.REST, None, None)


# ------------------------------------------------------------------ real recordings
def _recv(capture: str) -> list[dict[str, object]]:
    with (CAPTURES / capture).open(encoding="utf-8") as lines:
        return [record for record in map(json.loads, lines) if record["t"] == "recv"]


def test_every_checksum_of_the_real_okx_recording_verifies_through_the_synchroniser() -> None:
    # The 2022 recording predates seqId: the data source stamps local ids, the checksum guards.
    rule = BookSyncRule(
        ContinuityRule.NONE, SnapshotSource.STREAM, ChecksumKind.INTERLEAVED_SIGNED, depth=400
    )
    sync = BookSynchronizer("BTC-USDT", rule)
    local_id = 0
    for record in _recv("okx_spot.jsonl"):
        parsed = parse_okx(str(record["data"]), {"BTC-USDT": "BTC-USDT"})
        if not isinstance(parsed, list):
            continue
        for item in parsed:
            if not isinstance(item, OrderBookMessage) or item.type is OrderBookMessageType.TRADE:
                continue
            local_id += 1
            item.update_id = local_id
            resync = sync.on_snapshot(item) if item.type is SNAP else sync.on_diff(item)
            assert not resync, f"message {local_id}"
    metrics = sync.metrics
    assert (metrics.snapshots_applied, metrics.diffs_applied) == (1, 97)
    assert metrics.checksum_failures == metrics.resyncs == metrics.gaps == 0
    assert sync.ready


def test_the_real_bybit_recording_has_no_false_gap_and_matches_an_independent_book() -> None:
    rule = BookSyncRule(ContinuityRule.INCREMENT, SnapshotSource.STREAM, depth=200)
    symbols = {"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT"}
    syncs = {pair: BookSynchronizer(pair, rule) for pair in symbols.values()}
    reference: dict[str, tuple[dict[Decimal, str], dict[Decimal, str]]] = {}
    applied = 0
    for record in _recv("bybit_spot.jsonl"):
        item = parse_bybit(str(record["data"]), symbols)
        if not isinstance(item, OrderBookMessage) or item.type is OrderBookMessageType.TRADE:
            continue
        sync = syncs[item.trading_pair]
        if item.type is SNAP:
            reference[item.trading_pair] = ({}, {})
            assert not sync.on_snapshot(item)
        else:
            assert not sync.on_diff(item), f"false gap at u={item.update_id}"
            applied += 1
        for side, levels in zip(reference[item.trading_pair], (item.bids, item.asks), strict=True):
            for price, size in levels:
                if Decimal(size) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = size
        bids, asks = reference[item.trading_pair]
        for side, descending in ((bids, True), (asks, False)):  # truncated as the feed is
            for price in sorted(side, reverse=descending)[200:]:
                del side[price]
        book = sync.order_book
        assert [(Decimal(p), s) for p, s in book.raw_levels(True)] == sorted(bids.items(), reverse=True)
        assert [(Decimal(p), s) for p, s in book.raw_levels(False)] == sorted(asks.items())
    assert applied == 548
    assert all(s.ready and s.metrics.gaps == 0 and s.metrics.resyncs == 0 for s in syncs.values())
