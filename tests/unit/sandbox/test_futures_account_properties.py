"""Property tests of the futures account model: conservation and position bookkeeping."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from connectorkit.core.enums import PositionSide, TradeType
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.futures.account import (
    INCOME_COMMISSION,
    INCOME_FUNDING_FEE,
    INCOME_REALIZED_PNL,
    FuturesAccount,
    FuturesContract,
    new_account,
)

CONTRACTS = {"BTCUSDT": FuturesContract("BTCUSDT", "BTC")}
INITIAL = D(1_000_000)

qty = st.integers(min_value=1, max_value=5000).map(lambda n: D(n) / 1000)
price = st.integers(min_value=1_000, max_value=200_000).map(lambda n: D(n) / 10)
rate = st.integers(min_value=-750, max_value=750).map(lambda n: D(n) / 100_000)
trade = st.tuples(st.booleans(), qty, price, st.booleans())
event = st.one_of(
    st.tuples(st.just("trade"), trade),
    st.tuples(st.just("funding"), st.tuples(price, rate)),
)


def _total(acct: FuturesAccount, kind: str) -> D:
    return sum((r.income for r in acct.income if r.income_type == kind), D(0))


@settings(max_examples=150, deadline=None)
@given(st.lists(event, max_size=40))
def test_two_counterparties_conserve_wallet_fees_and_funding(events: list) -> None:  # type: ignore[type-arg]
    a = new_account(CONTRACTS, {"USDT": INITIAL}, 0)
    b = new_account(CONTRACTS, {"USDT": INITIAL}, 0)
    signed_fills = D(0)
    last_price = D(100)
    for n, (kind, payload) in enumerate(events, start=1):
        if kind == "trade":
            a_buys, q, p, a_is_maker = payload
            side_a = TradeType.BUY if a_buys else TradeType.SELL
            both = PositionSide.BOTH
            a.apply_fill("BTCUSDT", side_a, both, q, p, is_maker=a_is_maker, trade_id=n, time_ms=n)
            b_maker = not a_is_maker
            b.apply_fill("BTCUSDT", side_a.opposite, both, q, p, is_maker=b_maker, trade_id=n, time_ms=n)
            signed_fills += q if a_buys else -q
            last_price = p
        else:
            mark, r = payload
            fa = a.apply_funding("BTCUSDT", mark, r, n)
            fb = b.apply_funding("BTCUSDT", mark, r, n)
            # funding is exactly zero-sum between the two sides of the same open interest
            assert sum((x.income for x in fa + fb), D(0)) == 0

    for acct in (a, b):
        # every wallet change is an income record: wallet == deposits + income, exactly
        assert acct.balance("USDT") == sum((r.income for r in acct.income), D(0))
        assert acct.balance("USDT") == (
            INITIAL
            + _total(acct, INCOME_REALIZED_PNL)
            + _total(acct, INCOME_COMMISSION)
            + _total(acct, INCOME_FUNDING_FEE)
        )
    # position size equals the signed sum of fills; the counterparty mirrors it
    assert a.position("BTCUSDT", PositionSide.BOTH).amount == signed_fills
    assert b.position("BTCUSDT", PositionSide.BOTH).amount == -signed_fills
    # PnL is zero-sum: equity of both plus all fees paid equals the deposits (up to the
    # rounding of the average entry price, 28 significant digits)
    marks = {"BTCUSDT": last_price}
    fees = -(_total(a, INCOME_COMMISSION) + _total(b, INCOME_COMMISSION))
    equity = a.margin_balance("USDT", marks) + b.margin_balance("USDT", marks)
    assert abs(equity + fees - 2 * INITIAL) < D("1e-12")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["LONG", "SHORT"]), st.booleans(), qty, price), max_size=40))
def test_hedge_mode_sides_never_cross_zero_when_orders_pass_the_checks(
    orders: list[tuple[str, bool, D, D]],
) -> None:
    acct = new_account(CONTRACTS, {"USDT": D(10**9)}, 0)
    acct.set_dual_side_position(True)
    marks = {"BTCUSDT": D(100)}
    for n, (ps_name, buy, q, p) in enumerate(orders, start=1):
        ps = acct.resolve_position_side(ps_name)
        side = TradeType.BUY if buy else TradeType.SELL
        closing = (ps is PositionSide.LONG) != buy
        if closing and q > acct.closable("BTCUSDT", side, ps):
            continue  # the real check would reject it with -2022
        acct.check_new_order("BTCUSDT", side, ps, q, p, False, marks)
        acct.apply_fill("BTCUSDT", side, ps, q, p, is_maker=False, trade_id=n, time_ms=n)
        assert acct.position("BTCUSDT", PositionSide.LONG).amount >= 0
        assert acct.position("BTCUSDT", PositionSide.SHORT).amount <= 0
        assert acct.position("BTCUSDT", PositionSide.BOTH).amount == 0


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=125),
    st.lists(st.tuples(st.booleans(), qty, price, st.booleans()), max_size=30),
)
def test_accepted_orders_never_overdraw_available_balance(
    leverage: int, orders: list[tuple[bool, D, D, bool]]
) -> None:
    acct = new_account(CONTRACTS, {"USDT": D(1000)}, 0)
    marks = {"BTCUSDT": D(100)}
    acct.set_leverage("BTCUSDT", leverage, marks)
    acct.apply_fill(
        "BTCUSDT", TradeType.BUY, PositionSide.BOTH, D(1), D(100), is_maker=True, trade_id=0, time_ms=0
    )
    refusals: set[int] = set()
    reduce_only_claims = {TradeType.BUY: D(0), TradeType.SELL: D(0)}
    for n, (buy, q, p, reduce_only) in enumerate(orders, start=1):
        side = TradeType.BUY if buy else TradeType.SELL
        try:
            acct.check_new_order("BTCUSDT", side, PositionSide.BOTH, q, p, reduce_only, marks)
        except ApiError as err:
            refusals.add(err.code)
            continue
        acct.reserve_order(n, "BTCUSDT", side, PositionSide.BOTH, p, q, reduce_only)
        if reduce_only:
            reduce_only_claims[side] += q
        assert acct.available_balance("USDT", marks) >= 0
    assert refusals <= {-2019, -2022}
    # reduce-only orders can only ever claim the long position they reduce
    assert reduce_only_claims[TradeType.SELL] <= 1
    assert reduce_only_claims[TradeType.BUY] == 0
