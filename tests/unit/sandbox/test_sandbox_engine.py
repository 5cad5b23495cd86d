"""Matching engine: price-time priority, time in force, post-only, market by qty/quote, cancel."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectorkit.sandbox.engine import (
    MatchingEngine,
    Order,
    OrderStatus,
    Side,
    SymbolBook,
    TimeInForce,
    UnknownOrder,
    WouldTake,
)


@pytest.fixture
def engine() -> MatchingEngine:
    eng = MatchingEngine()
    eng.add_symbol("BTCUSDT", D("0.001"))
    return eng


def make(
    eng: MatchingEngine,
    side: Side,
    qty: str,
    price: str | None = None,
    *,
    account: int = 1,
    type_: str = "LIMIT",
    tif: TimeInForce | None = TimeInForce.GTC,
    quote: str | None = None,
) -> Order:
    return Order(
        order_id=eng.next_order_id(),
        symbol="BTCUSDT",
        account_id=account,
        client_order_id=f"c{eng.order_id_seq}",
        side=side,
        type=type_,
        time_in_force=None if type_ == "MARKET" else tif,
        price=D(price) if price is not None else None,
        orig_qty=D(qty),
        orig_quote_qty=D(quote) if quote is not None else None,
        time=0,
    )


def submit(eng: MatchingEngine, order: Order) -> list:
    return eng.book("BTCUSDT").submit(order, 1)


def test_resting_order_is_new_and_on_the_book(engine: MatchingEngine) -> None:
    order = make(engine, Side.BUY, "1", "100")
    assert submit(engine, order) == []
    book = engine.book("BTCUSDT")
    assert order.status is OrderStatus.NEW
    assert book.best_bid() == (D("100"), D("1"))
    assert book.best_ask() is None
    assert order.working_time == 1


def test_price_then_time_priority_and_maker_price(engine: MatchingEngine) -> None:
    first = make(engine, Side.SELL, "1", "101", account=2)
    second = make(engine, Side.SELL, "1", "101", account=3)
    better = make(engine, Side.SELL, "1", "100", account=4)
    for o in (first, second, better):
        submit(engine, o)
    taker = make(engine, Side.BUY, "2.5", "102")
    fills = submit(engine, taker)
    # Best price first, then FIFO at 101; trades at the maker's price, not the taker's 102.
    assert [(f.maker.account_id, f.price, f.qty) for f in fills] == [
        (4, D("100"), D("1")),
        (2, D("101"), D("1")),
        (3, D("101"), D("0.5")),
    ]
    assert taker.status is OrderStatus.FILLED
    assert second.status is OrderStatus.PARTIALLY_FILLED and second.remaining == D("0.5")
    assert [f.trade_id for f in fills] == [1, 2, 3]
    assert all(f.taker is taker for f in fills)
    assert not fills[0].is_buyer_maker


def test_gtc_remainder_rests_partially_filled(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "1", "100", account=2))
    taker = make(engine, Side.BUY, "3", "100")
    submit(engine, taker)
    assert taker.status is OrderStatus.PARTIALLY_FILLED
    assert engine.book("BTCUSDT").best_bid() == (D("100"), D("2"))


def test_ioc_remainder_expires(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "1", "100", account=2))
    ioc = make(engine, Side.BUY, "3", "100", tif=TimeInForce.IOC)
    fills = submit(engine, ioc)
    assert len(fills) == 1
    assert ioc.status is OrderStatus.EXPIRED and ioc.executed_qty == D("1")
    assert engine.book("BTCUSDT").best_bid() is None


def test_fok_all_or_nothing(engine: MatchingEngine) -> None:
    maker = make(engine, Side.SELL, "1", "100", account=2)
    submit(engine, maker)
    fok = make(engine, Side.BUY, "2", "100", tif=TimeInForce.FOK)
    assert submit(engine, fok) == []
    assert fok.status is OrderStatus.EXPIRED and fok.executed_qty == 0
    assert maker.remaining == D("1")  # untouched
    fok2 = make(engine, Side.BUY, "1", "100", tif=TimeInForce.FOK)
    assert len(submit(engine, fok2)) == 1
    assert fok2.status is OrderStatus.FILLED


def test_limit_maker_that_would_take_is_refused_without_change(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "1", "100", account=2))
    book = engine.book("BTCUSDT")
    before = book.update_id
    with pytest.raises(WouldTake):
        submit(engine, make(engine, Side.BUY, "1", "100", type_="LIMIT_MAKER", tif=None))
    assert book.update_id == before and book.best_ask() == (D("100"), D("1"))
    ok = make(engine, Side.BUY, "1", "99", type_="LIMIT_MAKER", tif=None)
    submit(engine, ok)
    assert ok.status is OrderStatus.NEW


def test_gtx_post_only_also_refused(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.BUY, "1", "100", account=2))
    with pytest.raises(WouldTake):
        submit(engine, make(engine, Side.SELL, "1", "99", tif=TimeInForce.GTX))


def test_market_by_quantity_walks_the_book_and_expires_remainder(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.BUY, "1", "100", account=2))
    submit(engine, make(engine, Side.BUY, "1", "99", account=2))
    mkt = make(engine, Side.SELL, "3", type_="MARKET")
    fills = submit(engine, mkt)
    assert [f.price for f in fills] == [D("100"), D("99")]
    assert mkt.status is OrderStatus.EXPIRED and mkt.executed_qty == D("2")
    assert mkt.cum_quote_qty == D("199")


def test_market_by_quote_quantity_rounds_to_step(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "10", "3", account=2))
    mkt = make(engine, Side.BUY, "0", type_="MARKET", quote="10")
    fills = submit(engine, mkt)
    # 10 / 3 = 3.333.. → 3.333 (step 0.001), spending 9.999; the 0.001 left is less than a step.
    assert fills[0].qty == D("3.333")
    assert mkt.cum_quote_qty == D("9.999")
    assert mkt.orig_qty == D("3.333")
    assert mkt.status is OrderStatus.FILLED


def test_market_by_quote_expires_when_book_runs_out(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "1", "3", account=2))
    mkt = make(engine, Side.BUY, "0", type_="MARKET", quote="10")
    submit(engine, mkt)
    assert mkt.executed_qty == D("1") and mkt.status is OrderStatus.EXPIRED


def test_market_on_empty_book_expires(engine: MatchingEngine) -> None:
    mkt = make(engine, Side.BUY, "1", type_="MARKET")
    assert submit(engine, mkt) == []
    assert mkt.status is OrderStatus.EXPIRED


def test_cancel_and_unknown(engine: MatchingEngine) -> None:
    order = make(engine, Side.BUY, "1", "100")
    submit(engine, order)
    book = engine.book("BTCUSDT")
    assert book.cancel(order.order_id, 5) is order
    assert order.status is OrderStatus.CANCELED and order.update_time == 5
    assert book.best_bid() is None
    with pytest.raises(UnknownOrder):
        book.cancel(order.order_id, 6)


def test_depth_changes_and_update_ids(engine: MatchingEngine) -> None:
    book: SymbolBook = engine.book("BTCUSDT")
    submit(engine, make(engine, Side.BUY, "1", "100"))
    submit(engine, make(engine, Side.BUY, "2", "100"))
    submit(engine, make(engine, Side.SELL, "1", "101", account=2))
    changes = book.drain_changes()
    assert changes is not None
    assert (changes.first_update_id, changes.final_update_id) == (1, 3)
    assert changes.bids == [(D("100"), D("3"))] and changes.asks == [(D("101"), D("1"))]
    assert book.drain_changes() is None
    submit(engine, make(engine, Side.BUY, "1", "101"))  # takes the whole ask level
    changes = book.drain_changes()
    assert changes is not None and changes.first_update_id == 4
    assert changes.asks == [(D("101"), D("0"))]
    book.skip_update_ids(5)
    submit(engine, make(engine, Side.BUY, "1", "99"))
    changes = book.drain_changes()
    assert changes is not None and changes.first_update_id == 10 == book.update_id


def test_preview_does_not_mutate(engine: MatchingEngine) -> None:
    submit(engine, make(engine, Side.SELL, "1", "100", account=2))
    submit(engine, make(engine, Side.SELL, "1", "102", account=2))
    probe = make(engine, Side.BUY, "1.5", type_="MARKET")
    assert engine.book("BTCUSDT").preview(probe) == (D("1.5"), D("151"))
    assert engine.book("BTCUSDT").depth(10)[1] == [(D("100"), D("1")), (D("102"), D("1"))]


def test_resting_lists_the_orders_a_taker_would_meet_in_priority_order(engine: MatchingEngine) -> None:
    book = engine.book("BTCUSDT")
    a = make(engine, Side.SELL, "1", "101")
    b = make(engine, Side.SELL, "1", "100")
    c = make(engine, Side.SELL, "1", "100")
    d = make(engine, Side.SELL, "1", "103")
    for o in (a, b, c, d):
        book.submit(o, 1)
    taker = make(engine, Side.BUY, "10", "102")
    assert [o.order_id for o in book.resting(taker)] == [b.order_id, c.order_id, a.order_id]
    assert book.open_orders() == [a, b, c, d]  # read-only


def test_a_maker_capped_below_its_remainder_trades_the_cap_and_is_expired(engine: MatchingEngine) -> None:
    book = engine.book("BTCUSDT")
    first = make(engine, Side.SELL, "1", "100", account=2)
    capped = make(engine, Side.SELL, "3", "101", account=2)
    gone = make(engine, Side.SELL, "2", "102", account=2)
    last = make(engine, Side.SELL, "2", "103", account=3)
    for o in (first, capped, gone, last):
        book.submit(o, 1)
    seen: list[list[tuple[int, D]]] = []

    def limit(taker: Order, maker: Order, earlier: object) -> D | None:
        assert isinstance(earlier, list)
        seen.append([(m.order_id, q) for m, q in earlier])
        return {capped.order_id: D("1.5"), gone.order_id: D(0)}.get(maker.order_id)

    taker = make(engine, Side.BUY, "5", "103", account=1)
    assert book.preview(taker, limit) == (D("4.5"), D("100") + D("151.5") + D("206"))
    sweep = book.sweep(taker, 2, limit)
    assert [(f.maker.order_id, f.qty) for f in sweep.fills] == [
        (first.order_id, D(1)),
        (capped.order_id, D("1.5")),
        (last.order_id, D(2)),
    ]
    # (fills made before the expiry, maker): the capped maker after its own trade, `gone` without one
    assert sweep.knocked_out == [(2, capped), (2, gone)]
    assert (capped.status, capped.executed_qty) == (OrderStatus.EXPIRED, D("1.5"))
    assert gone.status is OrderStatus.EXPIRED
    assert (taker.status, taker.executed_qty) == (OrderStatus.PARTIALLY_FILLED, D("4.5"))
    assert book.open_orders() == [taker]
    book.assert_consistent()
    assert seen[-4:] == [
        [],
        [(first.order_id, D(1))],
        [(first.order_id, D(1)), (capped.order_id, D("1.5"))],
        [(first.order_id, D(1)), (capped.order_id, D("1.5"))],
    ]
