"""The sandbox's USD-M futures account model: positions, PnL, margin, checks, funding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectorkit.core.enums import PositionSide, TradeType
from connectorkit.sandbox.venues.binance.futures import errors
from connectorkit.sandbox.venues.binance.futures.account import (
    INCOME_COMMISSION,
    INCOME_FUNDING_FEE,
    INCOME_REALIZED_PNL,
    INCOME_TRANSFER,
    FillResult,
    FuturesAccount,
    FuturesContract,
    new_account,
)

BUY, SELL = TradeType.BUY, TradeType.SELL
BOTH, LONG, SHORT = PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT
CONTRACTS = {
    "BTCUSDT": FuturesContract("BTCUSDT", "BTC", max_leverage=125),
    "ETHUSDT": FuturesContract("ETHUSDT", "ETH", max_leverage=100, maint_margin_rate=D("0.005")),
}
T0 = 1_700_000_000_000


def make(balance: str = "10000", **kw: object) -> FuturesAccount:
    return new_account(CONTRACTS, {"USDT": D(balance)}, T0, **kw)  # type: ignore[arg-type]


def fill(
    acct: FuturesAccount,
    side: TradeType,
    qty: str,
    price: str,
    ps: PositionSide = BOTH,
    *,
    maker: bool = False,
    tid: int = 1,
    symbol: str = "BTCUSDT",
) -> FillResult:
    return acct.apply_fill(symbol, side, ps, D(qty), D(price), is_maker=maker, trade_id=tid, time_ms=T0 + tid)


def test_initial_balance_is_a_transfer_income_record() -> None:
    acct = make("1234.5")
    assert acct.balance("USDT") == D("1234.5")
    [rec] = acct.income
    assert (rec.income_type, rec.income, rec.asset, rec.symbol) == (INCOME_TRANSFER, D("1234.5"), "USDT", "")


def test_default_leverage_is_20_and_bounds_are_enforced() -> None:
    acct = make()
    assert acct.leverage_of("BTCUSDT") == 20
    acct.set_leverage("BTCUSDT", 125, {})
    assert acct.leverage_of("BTCUSDT") == 125
    for bad in (0, 126, -3):
        with pytest.raises(errors.ApiError) as exc:
            acct.set_leverage("BTCUSDT", bad, {})
        assert exc.value.code == -4028
        assert exc.value.msg == f"Leverage {bad} is not valid"
    with pytest.raises(errors.ApiError) as exc:
        acct.set_leverage("ETHUSDT", 101, {})
    assert exc.value.code == -4028
    with pytest.raises(errors.ApiError) as exc:
        acct.set_leverage("NOPE", 5, {})
    assert exc.value.code == -1121


def test_lowering_leverage_below_what_margin_allows_is_refused_and_reverted() -> None:
    acct = make("100", maker_fee=D(0), taker_fee=D(0))
    acct.set_leverage("BTCUSDT", 100, {})
    fill(acct, BUY, "0.1", "50000")  # notional 5000 -> IM 50 at 100x
    marks = {"BTCUSDT": D("50000")}
    with pytest.raises(errors.ApiError) as exc:
        acct.set_leverage("BTCUSDT", 10, marks)  # IM 500 > 100 wallet
    assert exc.value.code == -2028
    assert acct.leverage_of("BTCUSDT") == 100
    acct.set_leverage("BTCUSDT", 50, marks)
    assert acct.leverage_of("BTCUSDT") == 50


def test_long_increase_uses_weighted_average_entry_and_close_realizes_pnl() -> None:
    acct = make(maker_fee=D(0), taker_fee=D(0))
    fill(acct, BUY, "1", "100", tid=1)
    fill(acct, BUY, "3", "200", tid=2)
    pos = acct.position("BTCUSDT", BOTH)
    assert pos.amount == D(4)
    assert pos.entry_price == D(175)  # (100 + 600) / 4
    res = fill(acct, SELL, "1", "275", tid=3)
    assert res.realized_pnl == D(100)
    assert pos.amount == D(3) and pos.entry_price == D(175)
    res = fill(acct, SELL, "3", "150", tid=4)
    assert res.realized_pnl == D(-75)
    assert pos.amount == 0 and pos.entry_price == 0
    assert pos.realized_pnl == D(25)
    assert acct.balance("USDT") == D(10025)
    assert [r.income_type for r in acct.income] == [INCOME_TRANSFER, INCOME_REALIZED_PNL, INCOME_REALIZED_PNL]
    assert acct.income[-1].trade_id == "4"


def test_short_pnl_sign_and_one_way_flip_reopens_at_fill_price() -> None:
    acct = make(maker_fee=D(0), taker_fee=D(0))
    fill(acct, SELL, "2", "100", tid=1)
    pos = acct.position("BTCUSDT", BOTH)
    assert pos.amount == D(-2) and pos.entry_price == D(100)
    assert pos.unrealized_pnl(D(90)) == D(20)
    res = fill(acct, BUY, "5", "90", tid=2)  # closes 2 (+20), opens 3 long at 90
    assert res.realized_pnl == D(20)
    assert pos.amount == D(3) and pos.entry_price == D(90)


def test_commission_maker_and_taker_are_charged_and_reported() -> None:
    acct = make()
    taker = fill(acct, BUY, "0.5", "20000", tid=1)
    assert taker.commission == D("5.0000")  # 10000 * 0.0005
    assert taker.commission_asset == "USDT"
    maker = fill(acct, SELL, "0.5", "20000", maker=True, tid=2)
    assert maker.commission == D("2.0000")  # 10000 * 0.0002
    assert acct.balance("USDT") == D(10000) - D(7)
    kinds = [(r.income_type, r.income) for r in acct.income[1:]]
    assert kinds == [(INCOME_COMMISSION, D("-5.0000")), (INCOME_COMMISSION, D("-2.0000"))]


def test_hedge_mode_keeps_long_and_short_apart_and_short_amount_is_negative() -> None:
    acct = make(maker_fee=D(0), taker_fee=D(0))
    acct.set_dual_side_position(True)
    fill(acct, BUY, "1", "100", LONG, tid=1)
    fill(acct, SELL, "2", "110", SHORT, tid=2)
    assert acct.position("BTCUSDT", LONG).amount == D(1)
    assert acct.position("BTCUSDT", SHORT).amount == D(-2)
    res = fill(acct, BUY, "2", "100", SHORT, tid=3)
    assert res.realized_pnl == D(20)
    assert acct.position("BTCUSDT", SHORT).amount == 0
    with pytest.raises(ValueError, match="cannot change sign"):
        fill(acct, SELL, "2", "100", LONG, tid=4)


def test_position_side_must_match_the_mode() -> None:
    acct = make()
    assert acct.resolve_position_side(None) is BOTH
    assert acct.resolve_position_side("BOTH") is BOTH
    for bad in ("LONG", "SHORT"):
        with pytest.raises(errors.ApiError) as exc:
            acct.resolve_position_side(bad)
        assert exc.value.code == -4061
        assert exc.value.msg == "Order's position side does not match user's setting."
    acct.set_dual_side_position(True)
    assert acct.resolve_position_side("SHORT") is SHORT
    for bad in (None, "BOTH"):
        with pytest.raises(errors.ApiError) as exc:
            acct.resolve_position_side(bad)
        assert exc.value.code == -4061
    with pytest.raises(errors.ApiError) as exc:
        acct.resolve_position_side("SIDEWAYS")
    assert exc.value.code == -4060


def test_position_mode_change_is_refused_with_orders_positions_or_no_change() -> None:
    acct = make()
    with pytest.raises(errors.ApiError) as exc:
        acct.set_dual_side_position(False)
    assert exc.value.code == -4059
    acct.reserve_order(7, "BTCUSDT", BUY, BOTH, D(100), D(1), False)
    with pytest.raises(errors.ApiError) as exc:
        acct.set_dual_side_position(True)
    assert exc.value.code == -4067
    acct.release_order(7)
    fill(acct, BUY, "1", "100")
    with pytest.raises(errors.ApiError) as exc:
        acct.set_dual_side_position(True)
    assert exc.value.code == -4068
    fill(acct, SELL, "1", "100", tid=2)
    acct.set_dual_side_position(True)
    assert acct.dual_side_position is True
    assert acct.position_sides() == (LONG, SHORT)


def test_reduce_only_is_rejected_without_a_position_to_reduce() -> None:
    acct = make()
    marks = {"BTCUSDT": D(100)}
    with pytest.raises(errors.ApiError) as exc:
        acct.check_new_order("BTCUSDT", SELL, BOTH, D(1), D(100), True, marks)
    assert (exc.value.code, exc.value.msg) == (-2022, "ReduceOnly Order is rejected.")
    fill(acct, BUY, "2", "100")
    acct.check_new_order("BTCUSDT", SELL, BOTH, D(2), D(100), True, marks)
    # same direction as the position would increase it
    with pytest.raises(errors.ApiError):
        acct.check_new_order("BTCUSDT", BUY, BOTH, D(1), D(100), True, marks)
    # larger than the position
    with pytest.raises(errors.ApiError):
        acct.check_new_order("BTCUSDT", SELL, BOTH, D(3), D(100), True, marks)
    # other resting reduce-only orders already claim part of the position
    acct.reserve_order(1, "BTCUSDT", SELL, BOTH, D(120), D("1.5"), True)
    acct.check_new_order("BTCUSDT", SELL, BOTH, D("0.5"), D(100), True, marks)
    with pytest.raises(errors.ApiError):
        acct.check_new_order("BTCUSDT", SELL, BOTH, D("0.6"), D(100), True, marks)


def test_hedge_closing_orders_cannot_exceed_the_position() -> None:
    acct = make()
    acct.set_dual_side_position(True)
    marks = {"BTCUSDT": D(100)}
    with pytest.raises(errors.ApiError) as exc:
        acct.check_new_order("BTCUSDT", SELL, LONG, D(1), D(100), False, marks)
    assert exc.value.code == -2022
    fill(acct, BUY, "1", "100", LONG)
    acct.check_new_order("BTCUSDT", SELL, LONG, D(1), D(100), False, marks)


def test_initial_margin_is_checked_against_available_balance() -> None:
    acct = make("100", maker_fee=D(0), taker_fee=D(0))
    marks = {"BTCUSDT": D(1000)}
    acct.set_leverage("BTCUSDT", 10, marks)
    acct.check_new_order("BTCUSDT", BUY, BOTH, D(1), D(1000), False, marks)  # IM exactly 100
    with pytest.raises(errors.ApiError) as exc:
        acct.check_new_order("BTCUSDT", BUY, BOTH, D("1.001"), D(1000), False, marks)
    assert (exc.value.code, exc.value.msg) == (-2019, "Margin is insufficient.")
    # a resting order consumes available balance
    acct.reserve_order(1, "BTCUSDT", BUY, BOTH, D(1000), D("0.5"), False)
    assert acct.open_order_initial_margin("USDT") == D(50)
    assert acct.available_balance("USDT", marks) == D(50)
    with pytest.raises(errors.ApiError):
        acct.check_new_order("BTCUSDT", BUY, BOTH, D("0.6"), D(1000), False, marks)
    acct.order_filled(1, D("0.2"))
    assert acct.open_order_initial_margin("USDT") == D(30)
    acct.order_filled(1, D("0.3"))
    assert not acct.has_open_orders()


def test_orders_that_reduce_in_one_way_mode_need_no_margin_for_the_reducing_part() -> None:
    acct = make("100", maker_fee=D(0), taker_fee=D(0))
    marks = {"BTCUSDT": D(1000)}
    acct.set_leverage("BTCUSDT", 10, marks)
    fill(acct, BUY, "0.5", "1000")  # IM 50, available 50
    assert acct.available_balance("USDT", marks) == D(50)
    # selling 1: 0.5 reduces, 0.5 opens short -> needs 50
    acct.check_new_order("BTCUSDT", SELL, BOTH, D(1), D(1000), False, marks)
    with pytest.raises(errors.ApiError):
        acct.check_new_order("BTCUSDT", SELL, BOTH, D("1.01"), D(1000), False, marks)


def test_unrealized_pnl_counts_in_available_balance_and_maintenance_check() -> None:
    acct = make("100", maker_fee=D(0), taker_fee=D(0))
    acct.set_leverage("BTCUSDT", 10, {})
    fill(acct, BUY, "1", "1000")
    up = {"BTCUSDT": D(1100)}
    assert acct.unrealized_pnl("USDT", up) == D(100)
    assert acct.margin_balance("USDT", up) == D(200)
    assert acct.position_initial_margin("USDT", up) == D(110)
    assert acct.available_balance("USDT", up) == D(90)
    assert not acct.below_maintenance("USDT", up)
    crash = {"BTCUSDT": D(904)}  # margin balance 4, maint 904*0.004 = 3.616
    assert not acct.below_maintenance("USDT", crash)
    crash = {"BTCUSDT": D(903)}  # margin balance 3, maint 3.612
    assert acct.below_maintenance("USDT", crash)
    assert acct.maint_margin("USDT", crash) == D("3.612")


def test_an_account_past_maintenance_may_only_reduce() -> None:
    acct = make("100", maker_fee=D(0), taker_fee=D(0))
    acct.set_leverage("BTCUSDT", 10, {})
    fill(acct, BUY, "1", "1000")
    crash = {"BTCUSDT": D(903)}
    assert acct.below_maintenance("USDT", crash)
    with pytest.raises(errors.ApiError) as exc:
        acct.check_new_order("BTCUSDT", BUY, BOTH, D("0.001"), D(903), False, crash)
    assert (exc.value.code, exc.value.msg) == (-2023, "User in liquidation mode now.")
    acct.check_new_order("BTCUSDT", SELL, BOTH, D(1), D(903), True, crash)  # closing is still allowed
    acct.check_new_order("BTCUSDT", SELL, BOTH, D("0.5"), D(903), False, crash)  # so is reducing
    with pytest.raises(errors.ApiError) as exc:  # but not flipping to a new short
        acct.check_new_order("BTCUSDT", SELL, BOTH, D("1.5"), D(903), False, crash)
    assert exc.value.code == -2023


def test_funding_positive_rate_longs_pay_shorts_receive() -> None:
    a, b = make(), make()
    fill(a, BUY, "2", "100")
    fill(b, SELL, "2", "100")
    wa, wb = a.balance("USDT"), b.balance("USDT")
    [pa] = a.apply_funding("BTCUSDT", D(110), D("0.0001"), T0 + 99)
    [pb] = b.apply_funding("BTCUSDT", D(110), D("0.0001"), T0 + 99)
    assert pa.income == D("-0.0220") and pa.income_type == INCOME_FUNDING_FEE
    assert pb.income == D("0.0220")
    assert a.balance("USDT") == wa - D("0.022") and b.balance("USDT") == wb + D("0.022")
    assert a.apply_funding("ETHUSDT", D(110), D("0.0001"), T0) == []  # no ETH position


def test_tran_ids_are_unique_and_increasing_per_account() -> None:
    acct = make()
    fill(acct, BUY, "1", "100", tid=1)
    fill(acct, SELL, "1", "101", tid=2)
    ids = [r.tran_id for r in acct.income]
    assert ids == sorted(set(ids))


def test_fill_quantity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        fill(make(), BUY, "0", "100")
