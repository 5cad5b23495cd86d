"""Real Binance traffic (``tests/data/captures``) replayed through the wire parsers and tracker logic.

Spot (Binance US, consecutive ``U == last + 1`` rule) and COIN-M futures (chained ``pu`` rule):
after every message the book must equal an independent reference built from the same frames,
no gap may be reported (the recordings have none), and where a bookTicker frame carries the same
update id as the book, it must show the same top of book.
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make tests/support importable

from connectorkit.connector.capture_reader import CaptureFormatError, parse_capture_line, read_capture
from connectorkit.connector.order_book_sync import BookSynchronizer
from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.binance import binance_market_wire as wire
from support.capture_replay import CAPTURES, CaptureReplayDataSource, ReferenceBook, load_capture

CASES = [
    pytest.param("binance_us_spot.jsonl", ContinuityRule.CONSECUTIVE, id="spot-consecutive"),
    pytest.param("binance_coinm_futures.jsonl", ContinuityRule.CHAINED, id="coinm-futures-chained"),
]

Top = tuple[Decimal | None, Decimal | None, int, int]


def top_of(book: OrderBook) -> Top:
    bid, ask = book.best_bid, book.best_ask
    return (None if bid.is_nan() else bid, None if ask.is_nan() else ask, book.bid_depth, book.ask_depth)


def ref_top(ref: ReferenceBook) -> Top:
    bid, ask = ref.top()
    return bid, ask, len(ref.bids), len(ref.asks)


Replayed = tuple[dict[tuple[str, int], Top], dict[str, int], dict[str, int]]


def replay_synchronously(name: str, rule: ContinuityRule) -> Replayed:
    """Drive BookSynchronizer with every record, checking after each.

    Returns the reference top of book per (pair, update id), counters, and per pair the number
    of diffs the reference applied.
    """
    capture = load_capture(name)
    syncs = {pair: BookSynchronizer(pair, rule) for pair in capture.pairs}
    refs = {pair: ReferenceBook(rule) for pair in capture.pairs}
    expected: dict[tuple[str, int], Top] = {}
    counts = {"diffs": 0, "checked": 0, "tickers_matched": 0, "trades": 0}
    # bookTicker frames are real time while depth is batched every 100 ms, so a ticker often
    # arrives before the diff that ends on its update id: keep them until that diff is applied.
    tickers: dict[tuple[str, int], wire.BookTicker] = {}

    def check_ticker(book: OrderBook, ticker: wire.BookTicker) -> None:
        assert (book.best_bid, book.best_ask) == (ticker.bid_price, ticker.ask_price), ticker
        assert next(book.bid_entries()).amount == ticker.bid_amount
        assert next(book.ask_entries()).amount == ticker.ask_amount
        counts["tickers_matched"] += 1

    for record in capture.records:
        if record.kind == "http" and record.path.endswith("/depth"):
            assert record.data is not None
            pair = capture.symbol_map[record.query_param("symbol") or ""]
            assert not syncs[pair].on_snapshot(wire.decode_depth_snapshot(record.data, pair))
            body = json.loads(record.data)
            refs[pair].snapshot(body)
            expected[(pair, syncs[pair].order_book.last_diff_uid)] = ref_top(refs[pair])
            assert syncs[pair].order_book.raw_levels(True) == refs[pair].raw_levels()[0]
            continue
        if record.kind != "recv" or record.data is None:
            continue
        item = wire.parse_stream_frame(record.data, capture.symbol_map)
        payload = json.loads(record.data)["data"]
        if isinstance(item, OrderBookMessage) and item.type is OrderBookMessageType.DIFF:
            counts["diffs"] += 1
            sync, ref = syncs[item.trading_pair], refs[item.trading_pair]
            assert not sync.on_diff(item), f"false resync at {item.trading_pair} u={item.update_id}"
            if ref.diff(payload):
                expected[(item.trading_pair, item.update_id)] = ref_top(ref)
            assert sync.ready == ref.synced
            if sync.ready:
                bids, asks = ref.raw_levels()
                assert sync.order_book.raw_levels(True) == bids, f"bids diverged at u={item.update_id}"
                assert sync.order_book.raw_levels(False) == asks, f"asks diverged at u={item.update_id}"
                assert top_of(sync.order_book) == ref_top(ref)
                counts["checked"] += 1
                ticker = tickers.pop((item.trading_pair, item.update_id), None)
                if ticker is not None:
                    check_ticker(sync.order_book, ticker)
        elif isinstance(item, OrderBookMessage) and item.type is OrderBookMessageType.TRADE:
            book = syncs[item.trading_pair].order_book
            book.apply_trade(item)
            assert book.last_trade_price == Decimal(payload["p"])
            counts["trades"] += 1
        elif isinstance(item, wire.BookTicker):
            book = syncs[item.trading_pair].order_book
            if syncs[item.trading_pair].ready and book.last_diff_uid == item.update_id:
                check_ticker(book, item)
            elif not syncs[item.trading_pair].ready or item.update_id > book.last_diff_uid:
                tickers[(item.trading_pair, item.update_id)] = item
        else:
            assert item is None and "kline" in json.loads(record.data)["stream"]
    for pair, sync in syncs.items():
        m = sync.metrics
        assert sync.ready and m.gaps == 0 and m.resyncs == 0 and m.bridge_failures == 0, pair
        assert m.diffs_applied == refs[pair].applied and refs[pair].gaps == 0
        assert m.crossed_levels_removed == 0
        bids, asks = sync.order_book.snapshot()  # the exact Decimal surface, in full, at the end
        assert [r.price for r in bids] == list(reversed(refs[pair].bids.keys()))
        assert [r.amount for r in asks] == [Decimal(q) for _, q in refs[pair].asks.values()]
    return expected, counts, {pair: ref.applied for pair, ref in refs.items()}


@pytest.mark.parametrize(("name", "rule"), CASES)
def test_capture_replays_exactly_through_wire_and_synchroniser(name: str, rule: ContinuityRule) -> None:
    _, counts, _ = replay_synchronously(name, rule)
    assert counts["diffs"] > 300 and counts["checked"] > counts["diffs"] // 2
    assert counts["trades"] > 5
    assert counts["tickers_matched"] > 10  # the top of book agrees with the venue's own ticker


@pytest.mark.parametrize(("name", "rule"), CASES)
async def test_capture_replays_through_the_tracker(name: str, rule: ContinuityRule) -> None:
    """The full async tracker: buffering while each snapshot is 'in flight', then live."""
    expected, counts, applied = replay_synchronously(name, rule)
    capture = load_capture(name)
    source = CaptureReplayDataSource(capture, rule)
    seen: list[tuple[str, int]] = []

    def check(pair: str, book: OrderBook) -> None:
        key = (pair, book.last_diff_uid)
        assert top_of(book) == expected[key], key
        seen.append(key)

    trades: list[OrderBookMessage] = []
    tracker = OrderBookTracker(source, capture.pairs, on_book_update=check, on_trade=trades.append)
    await tracker.start()
    try:
        await asyncio.wait_for(source.finished.wait(), 30)
        await asyncio.wait_for(tracker.wait_ready(), 5)
        await asyncio.wait_for(source.diff_queue.join(), 5)  # every routed message processed
        await asyncio.wait_for(source.trade_queue.join(), 5)
    finally:
        await tracker.stop()
    assert len(trades) == counts["trades"] and source.malformed_frames == 0
    for pair in capture.pairs:
        m = tracker.metrics(pair)
        assert m.gaps == 0 and m.resyncs == 0 and m.bridge_failures == 0 and m.malformed == 0, pair
        assert source.snapshot_requests[pair] == 1  # no resync means one snapshot per pair
        assert m.diffs_applied == applied[pair]
    assert len(seen) >= counts["checked"]


def test_capture_records_are_time_ordered_with_snapshots_among_the_frames() -> None:
    records = read_capture(CAPTURES / "binance_us_spot.jsonl")
    assert records[0].kind == "header" and records[0].exchange == "BINANCE_US"
    times = [r.ts for r in records[1:]]
    assert times == sorted(times)
    kinds = [r.kind for r in records[1:]]
    first_depth = next(i for i, r in enumerate(records) if r.kind == "http" and r.path.endswith("/depth"))
    assert "recv" in kinds[: first_depth - 1]  # a frame arrived before the first snapshot answer
    connect = next(r for r in records if r.kind == "connect")
    assert connect.url is not None and connect.url.startswith("wss://stream.binance.us")


@pytest.mark.parametrize("line", ["{", '{"t":"recv","ts":1}', '{"t":"bogus","ts":1}', '{"t":"http"}'])
def test_bad_capture_lines_raise_a_typed_error(line: str) -> None:
    with pytest.raises(CaptureFormatError):
        parse_capture_line(line, 7)
