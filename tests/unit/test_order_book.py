"""OrderBook: updates, crossing, exact queries, empty sides, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectorkit.core.order_book import (
    OrderBook,
    OrderBookDataError,
    OrderBookQueryResult,
    OrderBookRow,
    exact_decimal,
)
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

D = Decimal


def book_with(bids: list[tuple[str, str]], asks: list[tuple[str, str]], uid: int = 10) -> OrderBook:
    book = OrderBook()
    book.apply_snapshot(bids, asks, uid)
    return book


def levels(book: OrderBook) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    bids, asks = book.snapshot()
    return [(str(r.price), str(r.amount)) for r in bids], [(str(r.price), str(r.amount)) for r in asks]


@pytest.fixture
def book() -> OrderBook:
    return book_with(
        [("0.35130000", "2.00000000"), ("0.35120000", "3.00000000"), ("0.35100000", "5.00000000")],
        [("0.35140000", "1.00000000"), ("0.35150000", "4.00000000"), ("0.35200000", "10.00000000")],
    )


def test_exact_decimal_strips_insignificant_zeros_only() -> None:
    assert str(exact_decimal("0.35130000")) == "0.3513"
    assert str(exact_decimal("100.000")) == "100"
    assert str(exact_decimal("100")) == "100"
    assert str(exact_decimal("0.00000000")) == "0"
    assert exact_decimal("1E-5") == D("0.00001")


def test_prices_come_back_exact(book: OrderBook) -> None:
    assert str(book.best_bid) == "0.3513" and book.best_bid == D("0.3513")
    assert str(book.best_ask) == "0.3514"
    assert book.mid_price == D("0.35135")
    assert book.get_price(True) == D("0.3514") and book.get_price(False) == D("0.3513")
    assert book.snapshot_uid == 10 and book.last_diff_uid == 10
    assert next(book.bid_entries()) == OrderBookRow(D("0.3513"), D("2"))
    assert [r.price for r in book.ask_entries()] == [D("0.3514"), D("0.3515"), D("0.352")]


def test_diffs_set_delete_and_ignore_missing_deletes(book: OrderBook) -> None:
    book.apply_diffs([("0.35130000", "7.50000000"), ("0.35000000", "0.00000000")], [("0.3514", "0")], 11)
    assert levels(book) == (
        [("0.3513", "7.5"), ("0.3512", "3"), ("0.351", "5")],
        [("0.3515", "4"), ("0.352", "10")],
    )
    assert book.last_diff_uid == 11 and book.snapshot_uid == 10
    assert book.apply_diffs([("0.3514", "1")], [], 12) == 0  # a new best bid, still below the ask
    assert book.best_bid == D("0.3514") and book.best_ask == D("0.3515") and book.crossed_count == 0


def test_another_spelling_of_a_price_is_the_same_level(book: OrderBook) -> None:
    book.apply_diffs([("0.3513", "9")], [], 11)
    assert levels(book)[0][0] == ("0.3513", "9") and book.bid_depth == 3
    book.apply_diffs([("0.351300", "0")], [], 12)
    assert book.bid_depth == 2 and book.best_bid == D("0.3512")
    assert book.raw_levels(True) == [("0.35120000", "3.00000000"), ("0.35100000", "5.00000000")]


def test_raw_levels_keep_the_exchange_strings(book: OrderBook) -> None:
    assert book.raw_levels(False, depth=2) == [("0.35140000", "1.00000000"), ("0.35150000", "4.00000000")]


def test_best_bid_cache_follows_removal_of_the_top(book: OrderBook) -> None:
    assert book.best_bid == D("0.3513")
    book.apply_diffs([("0.3513", "0"), ("0.3512", "0")], [], 11)
    assert book.best_bid == D("0.351")
    book.apply_diffs([("0.3513", "1")], [], 12)  # the same key comes back
    assert book.best_bid == D("0.3513")


def test_cached_top_goes_stale_only_when_the_best_level_changes(book: OrderBook) -> None:
    assert book.best_ask == D("0.3514")
    book.apply_diffs([], [("0.3514", "7"), ("0.3515", "0")], 11)  # amount of the best, a deeper level
    assert book.best_ask == D("0.3514") and book.ask_depth == 2
    book.apply_diffs([], [("0.35139", "1")], 12)  # a new best level
    assert book.best_ask == D("0.35139")
    book.apply_diffs([], [("0.35139000", "0"), ("0.3514", "0"), ("0.352", "0")], 13)  # all gone
    assert book.best_ask.is_nan()
    book.apply_diffs([], [("0.36", "1")], 14)  # an empty side's first level
    assert book.best_ask == D("0.36")
    book.apply_snapshot([("0.3", "1")], [("0.4", "1")], 20)
    assert book.best_bid == D("0.3") and book.best_ask == D("0.4")

def test_crossing_ask_update_removes_crossed_bids(book: OrderBook) -> None:
    removed = book.apply_diffs([], [("0.35115000", "1")], 11)
    assert removed == 2  # bids 0.3513 and 0.3512 are at or above the new best ask
    assert book.best_bid == D("0.351") and book.best_ask == D("0.35115")
    assert book.crossed_count == 2


def test_crossing_bid_update_removes_crossed_asks(book: OrderBook) -> None:
    removed = book.apply_diffs([("0.3515", "2")], [], 11)
    assert removed == 2 and book.best_ask == D("0.352") and book.best_bid == D("0.3515")


def test_update_touching_both_sides_keeps_its_own_levels(book: OrderBook) -> None:
    removed = book.apply_diffs([("0.3514", "1")], [("0.3516", "3")], 11)
    assert removed == 1  # the old ask 0.3514 crossed the new bid
    assert book.best_bid == D("0.3514") and book.best_ask == D("0.3515")


def test_queries(book: OrderBook) -> None:
    nan = D("NaN")
    r = book.get_price_for_volume(True, D("3"))
    assert (r.result_price, r.result_volume) == (D("0.3515"), D("5"))
    r = book.get_vwap_for_volume(True, D("3"))
    assert r.result_price == (D("0.3514") * 1 + D("0.3515") * 2) / 3 and r.result_volume == D("3")
    r = book.get_vwap_for_volume(False, D("4"))
    assert r.result_price == (D("0.3513") * 2 + D("0.3512") * 2) / 4
    r = book.get_volume_for_price(True, D("0.3515"))
    assert r == OrderBookQueryResult(D("0.3515"), r.query_volume, D("0.3515"), D("5"))
    assert r.query_volume.is_nan()
    r = book.get_volume_for_price(False, D("0.3512"))
    assert (r.result_price, r.result_volume) == (D("0.3512"), D("5"))
    r = book.get_quote_volume_for_price(True, D("0.3515"))
    assert r.result_volume == D("0.3514") + D("0.3515") * 4
    r = book.get_price_for_quote_volume(False, D("0.8"))
    assert (r.result_price, r.result_volume) == (D("0.3512"), D("0.3513") * 2 + D("0.3512") * 3)
    r = book.get_volume_for_price(True, D("0.3"))  # nothing that cheap
    assert r.result_price.is_nan() and r.result_volume == 0
    assert r.query_price == D("0.3") and nan.is_nan()


def test_not_enough_depth_is_nan_with_the_available_volume(book: OrderBook) -> None:
    r = book.get_price_for_volume(True, D("100"))
    assert r.result_price.is_nan() and r.result_volume == D("15")
    r = book.get_vwap_for_volume(False, D("100"))
    assert r.result_price.is_nan() and r.result_volume == D("10")
    r = book.get_price_for_quote_volume(True, D("1000"))
    assert r.result_price.is_nan() and r.result_volume == D("0.3514") + D("0.3515") * 4 + D("0.352") * 10


def test_zero_volume_gives_the_best_price(book: OrderBook) -> None:
    assert book.get_vwap_for_volume(True, D("0")).result_price == D("0.3514")
    assert book.get_price_for_volume(False, D("0")).result_price == D("0.3513")
    assert book.get_price_for_quote_volume(True, D("0")).result_volume == 0


def test_empty_book_never_raises() -> None:
    book = OrderBook()
    assert book.best_bid.is_nan() and book.best_ask.is_nan() and book.mid_price.is_nan()
    assert book.last_trade_price.is_nan()
    for is_buy in (True, False):
        assert book.get_price(is_buy).is_nan()
        assert book.get_price_for_volume(is_buy, D("1")).result_price.is_nan()
        assert book.get_vwap_for_volume(is_buy, D("1")).result_volume == 0
        assert book.get_volume_for_price(is_buy, D("1")).result_volume == 0
        assert book.get_quote_volume_for_price(is_buy, D("1")).result_price.is_nan()
        assert book.get_price_for_quote_volume(is_buy, D("1")).result_price.is_nan()
    assert book.snapshot() == ([], [])
    book.apply_diffs([("1", "0")], [("2", "0")], 1)  # deleting from an empty book is fine
    assert book.bid_depth == 0


def test_one_sided_book(book: OrderBook) -> None:
    book.apply_diffs([], [("0.3514", "0"), ("0.3515", "0"), ("0.352", "0")], 11)
    assert book.best_ask.is_nan() and book.mid_price.is_nan() and book.best_bid == D("0.3513")


def test_decimal_and_float_rows() -> None:
    book = book_with([(D("100.50"), D("1.5"))], [(101.25, 2.0)])
    assert book.best_bid == D("100.5") and book.best_ask == D("101.25")
    book.apply_diffs([(D("100.5"), D("0"))], [(0.00001 + 101.0, 1e-05)], 11)
    assert book.bid_depth == 0
    assert [r.amount for r in book.ask_entries()] == [D("0.00001"), D("2")]


@pytest.mark.parametrize(
    "row",
    [("abc", "1"), ("-1", "1"), ("0", "1"), ("nan", "1"), ("inf", "1"), ("1", ""), ("1",), 5, None],
)
def test_bad_levels_raise_a_typed_error(book: OrderBook, row: object) -> None:
    with pytest.raises(OrderBookDataError):
        book.apply_diffs([row], [], 11)  # type: ignore[list-item]


def test_bad_snapshot_leaves_the_book_unchanged(book: OrderBook) -> None:
    before = levels(book)
    with pytest.raises(OrderBookDataError):
        book.apply_snapshot([("1", "1"), ("x", "1")], [], 99)
    assert levels(book) == before and book.snapshot_uid == 10


def test_snapshot_replaces_everything(book: OrderBook) -> None:
    book.apply_snapshot([("1.0", "1"), ("2.0", "0")], [("3", "4")], 50)
    assert levels(book) == ([("1", "1")], [("3", "4")])
    assert book.snapshot_uid == 50 and book.last_diff_uid == 50


def test_snapshot_depth_limit(book: OrderBook) -> None:
    bids, asks = book.snapshot(depth=1)
    assert bids == [OrderBookRow(D("0.3513"), D("2"))] and asks == [OrderBookRow(D("0.3514"), D("1"))]


def test_last_trade_price() -> None:
    book = OrderBook()
    trade = OrderBookMessage(
        OrderBookMessageType.TRADE,
        {"trading_pair": "A-B", "trade_id": 7, "price": "101.50", "amount": "2", "is_buy": True},
        1.0,
    )
    book.apply_trade(trade)
    assert book.last_trade_price == D("101.5")


def test_message_from_content_mapping() -> None:
    message = OrderBookMessage(
        OrderBookMessageType.DIFF,
        {"trading_pair": "A-B", "update_id": 5, "first_update_id": 3, "bids": [("1", "2")]},
        1700000000.0,
    )
    assert (message.trading_pair, message.update_id, message.first_update_id) == ("A-B", 5, 3)
    assert message.previous_update_id is None and list(message.asks) == []
    with pytest.raises(ValueError, match="trading_pair"):
        OrderBookMessage(OrderBookMessageType.DIFF, None, 0.0)


def test_many_removals_away_from_the_top_keep_the_book_consistent() -> None:
    """Lazy heap deletion: removed levels below the top pile up, then get compacted."""
    book = book_with([(f"{100 - i}.00", "1") for i in range(50)], [(f"{101 + i}.00", "1") for i in range(50)])
    for round_ in range(20):
        uid = 11 + round_
        book.apply_diffs([(f"{100 - i}.00", "0") for i in range(10, 50)], [], uid)
        book.apply_diffs([(f"{100 - i}.00", str(round_ + 1)) for i in range(10, 50)], [], uid)
    assert book.bid_depth == 50 and book.best_bid == D("100")
    assert [r.price for r in book.bid_entries()] == [D(100 - i) for i in range(50)]
    assert len(book._bids.heap) <= 2 * 50 + 64


BAD_NUMBERS = ["NaN", "sNaN", "Infinity", "-5", "-0.001", "-0", "abc", "", "1.2.3", "."]


@pytest.mark.parametrize("bad", BAD_NUMBERS)
@pytest.mark.parametrize("where", ["bid amount", "ask amount", "bid price", "ask price"])
def test_an_update_with_any_bad_number_is_rejected_whole(book: OrderBook, bad: str, where: str) -> None:
    """Issue 17.3: the bad level never reaches the book, nor do the good levels of its update."""
    before = levels(book)
    bid = [(bad, "1") if where == "bid price" else ("0.35130000", bad if where == "bid amount" else "7")]
    ask = [(bad, "1") if where == "ask price" else ("0.35140000", bad if where == "ask amount" else "8")]
    good_bid = [("0.35110000", "9")]  # a valid new level ahead of the bad one in the same update
    with pytest.raises(OrderBookDataError):
        book.apply_diffs(good_bid + bid, ask, 11)
    assert levels(book) == before and book.last_diff_uid == 10
    assert book.get_vwap_for_volume(True, D(1)).result_price == D("0.3514")


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_a_snapshot_with_a_bad_amount_is_rejected(book: OrderBook, bad: str) -> None:
    before = levels(book)
    with pytest.raises(OrderBookDataError):
        book.apply_snapshot([("1", "1"), ("0.5", bad)], [("2", "1")], 99)
    assert levels(book) == before and book.snapshot_uid == 10


QUERIES = [
    ("get_price_for_volume", "volume"),
    ("get_vwap_for_volume", "volume"),
    ("get_volume_for_price", "price"),
    ("get_quote_volume_for_price", "price"),
    ("get_price_for_quote_volume", "quote_volume"),
]


@pytest.mark.parametrize(("query", "argument"), QUERIES)
@pytest.mark.parametrize("is_buy", [True, False])
def test_queries_take_int_and_str_exactly(book: OrderBook, query: str, argument: str, is_buy: bool) -> None:
    """Issue 17.6: an int or str gives the same answer as the equal Decimal."""
    ask = getattr(book, query)
    assert ask(is_buy, 3) == ask(is_buy, D(3)) and ask(is_buy, "0.3514") == ask(is_buy, D("0.3514"))
    assert ask(is_buy, " 2.5 ") == ask(is_buy, D("2.5"))


@pytest.mark.parametrize(("query", "argument"), QUERIES)
@pytest.mark.parametrize("bad", [1.5, True, None, [1]])
def test_queries_reject_a_float_or_non_number_naming_the_argument(
    book: OrderBook, query: str, argument: str, bad: object
) -> None:
    expected = rf"^{argument} must be a Decimal, int or str, not {type(bad).__name__}"
    with pytest.raises(TypeError, match=expected):
        getattr(book, query)(True, bad)


@pytest.mark.parametrize(("query", "argument"), QUERIES)
@pytest.mark.parametrize("bad", ["abc", "", "NaN", D("NaN"), D("sNaN")])
def test_queries_reject_a_value_that_is_not_a_number_naming_the_argument(
    book: OrderBook, query: str, argument: str, bad: object
) -> None:
    with pytest.raises(ValueError, match=rf"^{argument} "):
        getattr(book, query)(True, bad)


def test_walks_past_the_first_block_of_levels_are_exact() -> None:
    """Issue 15: the walk sums the top levels in blocks; a query deeper than the first block
    extends it (and a diff after it starts again)."""
    asks = [(f"{100 + i}.00", f"{i + 1}.000") for i in range(100)]
    book = book_with([("99.00", "1.000")], asks)
    volume = D(sum(range(1, 71)))  # exactly the first 70 levels
    r = book.get_price_for_volume(True, volume)
    assert (r.result_price, r.result_volume) == (D(169), volume)
    cost = sum(D(100 + i) * (i + 1) for i in range(70))
    assert book.get_vwap_for_volume(True, volume).result_price == cost / volume
    assert book.get_quote_volume_for_price(True, "169").result_volume == cost
    book.apply_diffs([], [("100.00", "0")], 11)  # the walk lists are stale now
    assert book.get_volume_for_price(True, 169).result_volume == volume - 1


def test_finer_decimals_than_the_snapshot_grow_the_scales_exactly() -> None:
    """Issue 15: the scales come from the snapshot; a finer price or amount rescales the book
    (nothing is rounded) and every level keeps the exchange's strings."""
    book = book_with([("10.5", "2.5")], [("11.0", "1.0")])
    book.apply_diffs([("10.55", "0.125")], [("11.0", "1.0000001")], 11)
    assert book.raw_levels(True) == [("10.55", "0.125"), ("10.5", "2.5")]
    assert book.raw_levels(False) == [("11.0", "1.0000001")]
    assert book.best_bid == D("10.55")
    assert book.get_volume_for_price(False, "10.5").result_volume == D("2.625")
    assert book.get_vwap_for_volume(True, D("1.00000005")).result_price == D(11)  # finer than the lots
    r = book.get_vwap_for_volume(True, D("1.00000015"))
    assert r.result_price.is_nan() and r.result_volume == D("1.0000001")
    r = book.get_vwap_for_volume(False, D("0.12500001"))
    assert r.result_price == (D("10.55") * D("0.125") + D("10.5") * D("0.00000001")) / D("0.12500001")
