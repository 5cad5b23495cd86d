"""Property tests over random order flows on the spot exchange (engine + ledger)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.engine import ZERO, Order, OrderStatus, Side, SymbolBook, TimeInForce
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange

MARKET = Market(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size=D("1"),
    step_size=D("0.01"),
    min_qty=D("0.01"),
    min_price=D("1"),
    min_notional=D("1"),
)
START = {"BTC": D("50"), "USDT": D("5000000")}

order_st = st.fixed_dictionaries(
    {
        "account": st.integers(0, 3),
        "side": st.sampled_from(["BUY", "SELL"]),
        "kind": st.sampled_from(["GTC", "IOC", "FOK", "MAKER", "MARKET", "MARKET_QUOTE", "CANCEL"]),
        "price": st.integers(95, 105),
        "qty": st.integers(1, 400).map(lambda n: D(n) / 100),
        "maker_bps": st.sampled_from([0, 2, 10]),
    }
)


def run_flow(ops: list[dict]) -> SpotExchange:
    reg = AccountRegistry()
    ex = SpotExchange([MARKET], SandboxClock(), reg)
    accounts = []
    for i in range(4):
        acct = reg.create(maker_commission=D(i) / 1000, taker_commission=D(i + 1) / 1000)
        for asset, amount in START.items():
            ex.deposit(acct.account_id, asset, amount)
        accounts.append(acct)
    book = ex.engine.book("BTCUSDT")
    refusals: list[int] = []
    for op in ops:
        acct = accounts[op["account"]]
        kind = op["kind"]
        try:
            if kind == "CANCEL":
                mine = book.open_orders(acct.account_id)
                if mine:
                    ex.cancel_order(acct, "BTCUSDT", mine[0].order_id, None)
            elif kind in ("MARKET", "MARKET_QUOTE"):
                ex.new_order(
                    acct,
                    symbol="BTCUSDT",
                    side=op["side"],
                    order_type="MARKET",
                    quantity=op["qty"] if kind == "MARKET" else None,
                    quote_order_qty=op["qty"] * 100 if kind == "MARKET_QUOTE" else None,
                )
            else:
                ex.new_order(
                    acct,
                    symbol="BTCUSDT",
                    side=op["side"],
                    order_type="LIMIT_MAKER" if kind == "MAKER" else "LIMIT",
                    time_in_force=None if kind == "MAKER" else kind,
                    quantity=op["qty"],
                    price=D(op["price"]),
                )
        except ApiError as err:
            refusals.append(err.code)
        check_invariants(ex, len(accounts))
    # Only balance (-2010: insufficient / would take) and filter (-1013) refusals are expected.
    assert set(refusals) <= {-2010, -1013}, refusals
    return ex


def check_invariants(ex: SpotExchange, n_accounts: int) -> None:
    book = ex.engine.book("BTCUSDT")
    book.assert_consistent()
    for asset, amount in START.items():
        assert ex.ledger.total(asset) == amount * n_accounts, asset
    for balances in ex.ledger.balances.values():
        for bal in balances.values():
            assert bal.free >= ZERO and bal.locked >= ZERO
    for order in ex.orders.values():
        assert ZERO <= order.executed_qty <= order.orig_qty
    # What is locked is exactly what the open orders still need.
    for acct_id, balances in ex.ledger.balances.items():
        need_base = sum((o.remaining for o in book.open_orders(acct_id) if o.side.value == "SELL"), ZERO)
        need_quote = sum(
            (o.remaining * o.price for o in book.open_orders(acct_id) if o.side.value == "BUY" and o.price),
            ZERO,
        )
        assert balances["BTC"].locked == need_base
        assert balances["USDT"].locked == need_quote


@settings(max_examples=150, deadline=None)
@given(st.lists(order_st, min_size=1, max_size=60))
def test_random_flows_keep_invariants(ops: list[dict]) -> None:
    ex = run_flow(ops)
    # Every fill was recorded once per side, and maker/taker quantities agree.
    trades = [t for ts in ex.trades.values() for t in ts]
    by_id: dict[int, list] = {}
    for t in trades:
        by_id.setdefault(t.trade_id, []).append(t)
    for legs in by_id.values():
        assert len(legs) == 2
        assert {leg.is_maker for leg in legs} == {True, False}
        assert {leg.is_buyer for leg in legs} == {True, False}
        assert legs[0].qty == legs[1].qty and legs[0].price == legs[1].price


maker_st = st.tuples(
    st.integers(95, 100),  # ask price
    st.integers(1, 5).map(D),  # qty
    st.one_of(st.none(), st.integers(0, 5).map(D)),  # cap (None: uncapped)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(maker_st, min_size=1, max_size=12), st.integers(1, 30).map(D), st.integers(95, 101))
def test_capped_sweep_matches_its_preview_and_keeps_the_book_consistent(
    makers: list[tuple[int, D, D | None]], want: D, limit_price: int
) -> None:
    book = SymbolBook("BTCUSDT", D(1))
    caps: dict[int, D | None] = {}
    resting: list[Order] = []
    for n, (price, qty, cap) in enumerate(makers, start=1):
        order = Order(n, "BTCUSDT", 2, f"m{n}", Side.SELL, "LIMIT", TimeInForce.GTC, D(price), qty, 0)
        book.submit(order, 0)
        caps[n] = cap
        resting.append(order)

    def limit(taker: Order, maker: Order, earlier: object) -> D | None:
        return caps[maker.order_id]

    taker = Order(99, "BTCUSDT", 1, "t", Side.BUY, "LIMIT", TimeInForce.IOC, D(limit_price), want, 1)
    previewed = book.preview(taker, limit)
    sweep = book.sweep(taker, 1, limit)
    assert previewed == (taker.executed_qty, taker.cum_quote_qty)
    assert sum((f.qty for f in sweep.fills), ZERO) == taker.executed_qty <= want
    book.assert_consistent()
    knocked = {o.order_id for _, o in sweep.knocked_out}
    for order in resting:
        cap = caps[order.order_id]
        if order.order_id in knocked:
            assert cap is not None and cap < order.orig_qty and order.executed_qty <= cap
            assert order.status is OrderStatus.EXPIRED and book.get(order.order_id) is None
        else:
            assert order.status is not OrderStatus.EXPIRED
            assert (book.get(order.order_id) is None) == (order.status is OrderStatus.FILLED)
