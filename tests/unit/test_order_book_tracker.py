"""OrderBookTracker with a scripted in-memory data source: every rule, on a real event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

import pytest

from connectorkit.connector.book_sync_rule import BookSyncRule
from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

Rows = list[tuple[str, str]]


def snap(pair: str, uid: int, bids: Rows, asks: Rows) -> OrderBookMessage:
    return OrderBookMessage(OrderBookMessageType.SNAPSHOT, None, 0.0, pair, uid, bids=bids, asks=asks)


def diff(pair: str, first: int, last: int, bids: Rows = (), asks: Rows = (),  # type: ignore[assignment]
         checksum: int | None = None) -> OrderBookMessage:
    return OrderBookMessage(
        OrderBookMessageType.DIFF, None, 0.0, pair, last, first, None, list(bids), list(asks),
        checksum=checksum,
    )


def trade(pair: str, trade_id: int, price: str) -> OrderBookMessage:
    return OrderBookMessage(
        OrderBookMessageType.TRADE, None, 0.0, pair, trade_id, trade_id=trade_id, price=Decimal(price),
        amount=Decimal(1), is_buy=True,
    )


class ScriptedDataSource(OrderBookTrackerDataSource):
    """Snapshots come from ``truth`` (the venue's current book per pair), released by ``gates``."""

    continuity = ContinuityRule.CONSECUTIVE

    def __init__(self, pairs: list[str]) -> None:
        super().__init__(pairs)
        self.truth: dict[str, OrderBookMessage] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.fetches: dict[str, int] = {}
        self.failures_left: dict[str, int] = {}
        self.broken_snapshots: dict[str, int] = {}
        self.subscribed: list[str] = []
        self.unsubscribed: list[str] = []
        self.listen_calls = 0
        self.fail_listen_once = False
        self.checksum_ok: Callable[[OrderBook, OrderBookMessage], bool] | None = None
        self.slow_cancel: set[str] = set()  # pairs whose fetch takes a while to unwind (closing a socket)

    def gate(self, pair: str) -> asyncio.Event:
        return self.gates.setdefault(pair, asyncio.Event())

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        self.fetches[trading_pair] = self.fetches.get(trading_pair, 0) + 1
        try:
            await self.gate(trading_pair).wait()
        except asyncio.CancelledError:
            if trading_pair in self.slow_cancel:
                await asyncio.sleep(0.05)
            raise
        if self.failures_left.get(trading_pair, 0) > 0:
            self.failures_left[trading_pair] -= 1
            raise ConnectionError("REST down")
        if self.broken_snapshots.get(trading_pair, 0) > 0:
            self.broken_snapshots[trading_pair] -= 1
            broken: list[tuple[str, str]] = None  # type: ignore[assignment]
            return OrderBookMessage(OrderBookMessageType.SNAPSHOT, None, 0.0, trading_pair, 1, bids=broken)
        return self.truth[trading_pair]

    async def listen_for_subscriptions(self) -> None:
        self.listen_calls += 1
        if self.fail_listen_once:
            self.fail_listen_once = False
            raise ConnectionError("socket dropped")
        self.report_book_stream(self.trading_pairs, live=True)
        try:
            await asyncio.Event().wait()
        finally:
            self.report_book_stream(self.trading_pairs, live=False)

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        self.subscribed.append(trading_pair)
        self.report_book_stream([trading_pair], live=True)  # as on the venue's acknowledgement
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        self.unsubscribed.append(trading_pair)
        self.report_book_stream([trading_pair], live=False)
        return True

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        return {pair: Decimal(1) for pair in trading_pairs}

    def verify_checksum(self, order_book: OrderBook, message: OrderBookMessage) -> bool:
        return True if self.checksum_ok is None else self.checksum_ok(order_book, message)


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Wait until ``condition()`` holds (it reads state that several tasks change)."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - no single event covers every condition
            await asyncio.sleep(0.002)

    await asyncio.wait_for(poll(), within)


def levels(book: OrderBook) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    bids, asks = book.snapshot()
    return [(str(r.price), str(r.amount)) for r in bids], [(str(r.price), str(r.amount)) for r in asks]


BTC = "BTC-USDT"
ETH = "ETH-USDT"


@pytest.fixture
async def source() -> ScriptedDataSource:
    ds = ScriptedDataSource([BTC])
    ds.truth[BTC] = snap(BTC, 10, [("100", "1"), ("99", "1")], [("101", "1"), ("102", "1")])
    return ds


async def test_diffs_during_a_slow_snapshot_are_buffered_never_lost(source: ScriptedDataSource) -> None:
    updates: list[str] = []
    tracker = OrderBookTracker(source, [BTC], on_book_update=lambda pair, book: updates.append(pair))
    await tracker.start()
    try:
        source.route(diff(BTC, 9, 10, bids=[("98", "5")]))  # stale: already in the snapshot
        source.route(diff(BTC, 11, 11, bids=[("100", "2")]))  # bridges
        source.route(diff(BTC, 12, 13, asks=[("101", "0")]))
        await eventually(lambda: tracker.metrics(BTC).queue_depth == 3 and source.fetches.get(BTC) == 1)
        assert not tracker.ready and not tracker.is_ready(BTC)
        source.gate(BTC).set()
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert levels(tracker.order_books[BTC]) == ([("100", "2"), ("99", "1")], [("102", "1")])
        m = tracker.metrics(BTC)
        assert (m.diffs_applied, m.stale_dropped, m.gaps, m.resyncs, m.queue_depth) == (2, 1, 0, 0, 0)
        assert updates == [BTC]  # one notification: the snapshot with its replayed diffs
        source.route(diff(BTC, 14, 14, bids=[("99.5", "3")]))
        await eventually(lambda: tracker.metrics(BTC).diffs_applied == 3)
        assert tracker.order_books[BTC].best_bid == Decimal(100) and updates == [BTC, BTC]
    finally:
        await tracker.stop()


async def test_gap_marks_not_ready_then_resyncs_to_the_correct_book(
    source: ScriptedDataSource, caplog: pytest.LogCaptureFixture
) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        source.gate(BTC).clear()  # the resync snapshot will take a while
        source.truth[BTC] = snap(BTC, 13, [("100", "7"), ("99", "1")], [("101", "1"), ("102", "1")])
        with caplog.at_level(logging.WARNING):
            source.route(diff(BTC, 11, 11, bids=[("100", "3")]))
            source.route(diff(BTC, 13, 13, bids=[("100", "7")]))  # 12 was lost
            source.route(diff(BTC, 14, 14, asks=[("103", "1")]))
            await eventually(lambda: tracker.metrics(BTC).gaps == 1 and source.fetches[BTC] == 2)
        assert not tracker.ready
        assert sum("sequence gap" in r.getMessage() for r in caplog.records) == 1  # logged once
        source.gate(BTC).set()
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert levels(tracker.order_books[BTC]) == (
            [("100", "7"), ("99", "1")], [("101", "1"), ("102", "1"), ("103", "1")]
        )
        assert tracker.metrics(BTC).resyncs == 1
    finally:
        await tracker.stop()


async def test_checksum_failure_resyncs(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    source.checksum_ok = lambda book, message: message.checksum == book.bid_depth
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        four_bids = [("100", "1"), ("99", "1"), ("98", "1"), ("97", "1")]
        source.truth[BTC] = snap(BTC, 11, four_bids, [("101", "1")])
        source.route(diff(BTC, 11, 11, bids=[("98", "1")], checksum=4))  # the venue has 4 bids, we 3
        await eventually(lambda: tracker.metrics(BTC).checksum_failures == 1)
        await eventually(lambda: tracker.ready and tracker.metrics(BTC).resyncs == 1)
        assert tracker.order_books[BTC].bid_depth == 4 and source.fetches[BTC] == 2
    finally:
        await tracker.stop()


async def test_snapshot_failures_are_retried_and_isolated_per_pair(source: ScriptedDataSource) -> None:
    source.truth[ETH] = snap(ETH, 5, [("10", "1")], [("11", "1")])
    source.gate(BTC).set()
    source.gate(ETH).set()
    source.failures_left[ETH] = 1000  # ETH's REST keeps failing
    tracker = OrderBookTracker(
        source, [BTC, ETH], first_diff_wait=0.0, snapshot_retry_delay=0.001, max_snapshot_retry_delay=0.002
    )
    await tracker.start()
    try:
        await eventually(lambda: tracker.is_ready(BTC) and tracker.snapshot_failures(ETH) >= 3)
        assert not tracker.ready and not tracker.is_ready(ETH)
        source.route(diff(ETH, 6, 6, bids=[("10", "2")]))  # buffered for ETH
        source.route(diff(BTC, 11, 11, bids=[("100", "4")]))
        await eventually(lambda: tracker.metrics(BTC).diffs_applied == 1)
        source.failures_left[ETH] = 0
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert tracker.order_books[ETH].snapshot()[0][0].amount == Decimal(2)
    finally:
        await tracker.stop()


async def test_a_snapshot_that_cannot_be_installed_is_replaced(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    source.broken_snapshots[BTC] = 2
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0, snapshot_retry_delay=0.001)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert source.fetches[BTC] == 3 and tracker.metrics(BTC).malformed == 2
        assert tracker.order_books[BTC].best_bid == Decimal(100)
    finally:
        await tracker.stop()


async def test_malformed_messages_are_counted_and_skipped(source: ScriptedDataSource) -> None:
    source.truth[ETH] = snap(ETH, 5, [("10", "1")], [("11", "1")])
    source.gate(BTC).set()
    source.gate(ETH).set()
    tracker = OrderBookTracker(source, [BTC, ETH], first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        source.truth[BTC] = snap(BTC, 11, [("100", "1")], [("101", "1")])
        source.route(diff(BTC, 11, 11, bids=[("garbage", "1")]))
        source.route(diff(ETH, 6, 6, asks=[("11", "3")]))  # the other pair is unaffected
        source.route(diff("XRP-USDT", 1, 1))  # not tracked
        await eventually(
            lambda: tracker.metrics(ETH).diffs_applied == 1 and tracker.unknown_pair_messages == 1
        )
        await eventually(lambda: tracker.metrics(BTC).malformed == 1 and tracker.ready)
        assert tracker.order_books[ETH].snapshot()[1][0].amount == Decimal(3)
        assert tracker.metrics(BTC).resyncs == 1 and levels(tracker.order_books[BTC]) == (
            [("100", "1")], [("101", "1")]
        )
    finally:
        await tracker.stop()


async def test_trades_update_last_trade_price_and_reach_listeners(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    received: list[int | str | None] = []

    def broken_listener(message: OrderBookMessage) -> None:
        raise RuntimeError("listener bug")

    tracker = OrderBookTracker(
        source, [BTC], first_diff_wait=0.0, on_trade=lambda m: received.append(m.trade_id)
    )
    tracker.add_trade_listener(broken_listener)
    await tracker.start()
    try:
        source.route(trade(BTC, 1, "100.50"))
        source.route(trade(BTC, 2, "100.75"))
        source.route(trade(ETH, 3, "5"))  # untracked pair
        await eventually(lambda: received == [1, 2])
        assert tracker.last_trade_price(BTC) == Decimal("100.75")
        assert tracker.metrics(BTC).trades == 2 and tracker.unknown_pair_messages == 1
        tracker.remove_trade_listener(broken_listener)
    finally:
        await tracker.stop()


async def test_pairs_added_and_removed_while_running(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    books = tracker.order_books  # one read-only live view, not a copy per call
    assert tracker.order_books is books
    with pytest.raises(TypeError):
        books[ETH] = OrderBook()  # type: ignore[index]
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        source.truth[ETH] = snap(ETH, 5, [("10", "1")], [("11", "1")])
        assert await tracker.add_trading_pair(ETH)
        assert ETH in books and books[ETH] is tracker.order_books[ETH]
        assert not await tracker.add_trading_pair(ETH)
        assert source.subscribed == [ETH] and ETH in source.trading_pairs
        assert not tracker.ready
        source.route(diff(ETH, 6, 6, bids=[("10.5", "1")]))  # arrives before the snapshot
        source.gate(ETH).set()
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert tracker.order_books[ETH].best_bid == Decimal("10.5")
        assert await tracker.remove_trading_pair(BTC)
        assert not await tracker.remove_trading_pair(BTC)
        assert source.unsubscribed == [BTC] and BTC not in source.trading_pairs
        assert list(tracker.order_books) == [ETH] and tracker.trading_pairs == [ETH] and list(books) == [ETH]
        source.route(diff(BTC, 11, 11))
        await eventually(lambda: tracker.unknown_pair_messages == 1)
    finally:
        await tracker.stop()


async def test_removing_the_pair_that_is_not_ready_wakes_wait_ready(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC, ETH], first_diff_wait=0.0)  # ETH's snapshot never arrives
    await tracker.start()
    try:
        waiter = asyncio.create_task(tracker.wait_ready(), name="test-wait-ready")
        await eventually(lambda: tracker.is_ready(BTC))
        assert not waiter.done()
        await tracker.remove_trading_pair(ETH)
        await asyncio.wait_for(waiter, 3)
        assert tracker.ready
    finally:
        await tracker.stop()


async def test_periodic_refresh_replaces_the_book_while_it_stays_ready(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0, snapshot_refresh_interval=0.02)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        # The venue's book drifted in a way no diff told us about (a venue without sequence
        # numbers would show exactly this): the refresh must repair it.
        source.truth[BTC] = snap(BTC, 10, [("100", "1"), ("99", "1"), ("50", "9")], [("101", "1")])
        await eventually(lambda: tracker.metrics(BTC).snapshots_applied >= 2)
        assert tracker.ready and source.fetches[BTC] >= 2
        assert levels(tracker.order_books[BTC]) == ([("100", "1"), ("99", "1"), ("50", "9")], [("101", "1")])
        assert tracker.metrics(BTC).resyncs == 0
    finally:
        await tracker.stop()


async def test_subscription_loop_failure_is_logged_restarted_and_books_resynced(
    source: ScriptedDataSource, caplog: pytest.LogCaptureFixture
) -> None:
    source.gate(BTC).set()
    source.fail_listen_once = True
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0, snapshot_retry_delay=0.01)
    with caplog.at_level(logging.WARNING):
        await tracker.start()
        try:
            await eventually(lambda: source.listen_calls == 2)
            await eventually(lambda: tracker.ready and source.fetches[BTC] >= 2)
            assert any("subscription loop failed" in r.getMessage() for r in caplog.records)
        finally:
            await tracker.stop()


async def test_stop_cancels_every_owned_task(source: ScriptedDataSource) -> None:
    # The snapshot gate stays closed: a fetch hangs until stop() cancels it.
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    await tracker.start()
    await tracker.start()  # idempotent
    await eventually(lambda: source.fetches.get(BTC) == 1)
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert {"order-book-tracker:diffs", f"order-book-tracker:snapshot:{BTC}"} <= names
    source.slow_cancel.add(ETH)
    assert await tracker.add_trading_pair(ETH)
    await eventually(lambda: source.fetches.get(ETH) == 1)
    eth_fetch = next(t for t in asyncio.all_tasks() if t.get_name() == f"order-book-tracker:snapshot:{ETH}")
    assert await tracker.remove_trading_pair(ETH)  # cancels ETH's fetch; stop() must still await it
    await tracker.stop()
    assert eth_fetch.done()
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("order-book-tracker")]


async def test_first_snapshot_waits_for_the_stream_to_deliver(source: ScriptedDataSource) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=60.0)
    await tracker.start()
    try:
        for _ in range(20):
            await asyncio.sleep(0)
        assert source.fetches.get(BTC) is None  # the stream is not live yet: no snapshot
        source.route(diff(BTC, 11, 11, bids=[("100", "5")]))
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert source.fetches[BTC] == 1 and tracker.order_books[BTC].best_bid == Decimal(100)
        assert tracker.metrics(BTC).resyncs == 0
    finally:
        await tracker.stop()


async def test_first_snapshot_is_fetched_anyway_when_the_stream_stays_silent(
    source: ScriptedDataSource,
) -> None:
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.02)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert source.fetches[BTC] == 1
    finally:
        await tracker.stop()


def test_refresh_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="snapshot_refresh_interval"):
        OrderBookTracker(ScriptedDataSource([]), [], snapshot_refresh_interval=0)


def test_local_update_ids_are_monotonic() -> None:
    source = ScriptedDataSource([BTC])
    ids = [source.next_update_id() for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5 and ids[0] >= 1


async def test_a_book_is_ready_only_while_its_stream_is_live(source: ScriptedDataSource) -> None:
    """The template's readiness: snapshot applied AND the data source reports the stream live; a
    drop makes it not ready at once (buffering), the return resyncs it from a new snapshot."""
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert tracker.metrics(BTC).snapshots_applied == 1
        source.report_book_stream([BTC], live=False)
        assert not tracker.is_ready(BTC) and not tracker.ready  # at once, not at the next message
        source.route(diff(BTC, 11, 11, bids=[("100", "7")]))  # from before the drop: held, not applied
        await eventually(lambda: tracker.metrics(BTC).diffs_applied == 0 and source.diff_queue.empty())
        assert tracker.order_books[BTC].best_bid == Decimal(100) and not tracker.is_ready(BTC)
        source.truth[BTC] = snap(BTC, 20, [("100", "2")], [("101", "1")])
        source.report_book_stream([BTC], live=True)
        source.route(diff(BTC, 21, 21, bids=[("99", "3")]))
        await asyncio.wait_for(tracker.wait_ready(), 3)
        metrics = tracker.metrics(BTC)
        assert metrics.snapshots_applied == 2 and metrics.resyncs == 1
        assert tracker.order_books[BTC].snapshot()[0][0].amount == Decimal(2)  # the new snapshot's
    finally:
        await tracker.stop()


async def test_the_tracker_applies_the_data_sources_whole_sync_rule() -> None:
    """A data source's ``sync_rule`` (here: a depth-limited feed) is what the tracker enforces,
    not only its continuity shorthand."""

    class DepthLimited(ScriptedDataSource):
        sync_rule = BookSyncRule(ContinuityRule.CONSECUTIVE, depth=2)

    source = DepthLimited([BTC])
    source.truth[BTC] = snap(BTC, 10, [("100", "1"), ("99", "1"), ("98", "1")], [("101", "1")])
    source.gate(BTC).set()
    tracker = OrderBookTracker(source, [BTC], first_diff_wait=0.0)
    await tracker.start()
    try:
        await asyncio.wait_for(tracker.wait_ready(), 3)
        assert levels(tracker.order_books[BTC])[0] == [("100", "1"), ("99", "1")]
        source.route(diff(BTC, 11, 11, bids=[("100.5", "2")]))  # pushes 99 out of the top 2
        await eventually(lambda: tracker.metrics(BTC).diffs_applied == 1)
        assert levels(tracker.order_books[BTC])[0] == [("100.5", "2"), ("100", "1")]
    finally:
        await tracker.stop()
