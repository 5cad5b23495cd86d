"""Order candidates: collateral, fees, returns and scaling to balances (issue 2, "Budget checking")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import OrderType, TradeType
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.trade_fee import FeeConversionError, TokenAmount, TradeFeeSchema

D = Decimal
PAIR = "COINALPHA-HBOT"
BASE, QUOTE = "COINALPHA", "HBOT"
SCHEMA = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), taker_percent_fee_decimal=D("0.02"))
DEDUCTED_SCHEMA = TradeFeeSchema(
    maker_percent_fee_decimal=D("0.01"),
    taker_percent_fee_decimal=D("0.01"),
    buy_percent_fee_deducted_from_returns=True,
)


class Exchange:
    """A spot exchange as far as candidates need one: a fee schema and prices."""

    name = "fake"

    def __init__(self, schema: TradeFeeSchema, prices: dict[str, Decimal] | None = None) -> None:
        self.trade_fee_schema = schema
        self.prices = prices or {}

    def trade_fee_schema_for(self, trading_pair: str) -> TradeFeeSchema:
        return self.trade_fee_schema

    def get_available_balance(self, token: str) -> Decimal:
        return D(0)

    def get_balance(self, token: str) -> Decimal:
        return D(0)

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        return self.prices.get(trading_pair, D("NaN"))

    def quantize_order_amount(self, trading_pair: str, amount: Decimal) -> Decimal:
        return amount


class PerpExchange(Exchange):
    def __init__(
        self,
        schema: TradeFeeSchema,
        prices: dict[str, Decimal] | None = None,
        buy_token: str = QUOTE,
        sell_token: str = QUOTE,
    ) -> None:
        super().__init__(schema, prices)
        self.buy_token = buy_token
        self.sell_token = sell_token

    def get_buy_collateral_token(self, trading_pair: str) -> str:
        return self.buy_token

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return self.sell_token


def candidate(
    side: TradeType = TradeType.BUY, amount: str = "10", price: str = "2", maker: bool = True
) -> OrderCandidate:
    return OrderCandidate(PAIR, maker, OrderType.LIMIT, side, D(amount), D(price))


def populated(
    schema: TradeFeeSchema, order: OrderCandidate, prices: dict[str, Decimal] | None = None
) -> OrderCandidate:
    order.populate_collateral_entries(Exchange(schema, prices))
    return order


# -- the examples -------------------------------------------------------------------


def test_maker_buy_added_to_cost() -> None:
    order = populated(SCHEMA, candidate())
    assert order.order_collateral == TokenAmount(QUOTE, 20)
    assert order.percent_fee_collateral == TokenAmount(QUOTE, D("0.2"))
    assert order.percent_fee_value == TokenAmount(QUOTE, D("0.2"))
    assert order.fixed_fee_collaterals == []
    assert order.potential_returns == TokenAmount(BASE, 10)
    assert order.collateral_dict == {QUOTE: D("20.2")}
    assert order.resized is False


def test_taker_buy_uses_taker_percent() -> None:
    order = populated(SCHEMA, candidate(maker=False))
    assert order.percent_fee_collateral == TokenAmount(QUOTE, D("0.4"))


def test_maker_buy_deducted_from_returns() -> None:
    order = populated(DEDUCTED_SCHEMA, candidate())
    assert order.order_collateral == TokenAmount(QUOTE, 20)
    assert order.percent_fee_collateral is None
    assert order.percent_fee_value == TokenAmount(BASE, D("0.1"))
    assert order.potential_returns == TokenAmount(BASE, D("9.9"))
    assert order.collateral_dict == {QUOTE: D(20)}


def test_maker_sell() -> None:
    order = populated(SCHEMA, candidate(TradeType.SELL))
    assert order.order_collateral == TokenAmount(BASE, 10)
    assert order.percent_fee_collateral is None
    assert order.percent_fee_value == TokenAmount(QUOTE, D("0.2"))
    assert order.potential_returns == TokenAmount(QUOTE, D("19.8"))


def test_seed_example_through_candidates() -> None:
    """Buy 10 COINX at 9 USDT with 1%: AddedToCost pays 90.9 / gets 10; deducted pays 90 / gets 9.9."""
    added = OrderCandidate("COINX-USDT", True, OrderType.LIMIT, TradeType.BUY, D(10), D(9))
    added.populate_collateral_entries(Exchange(TradeFeeSchema(maker_percent_fee_decimal=D("0.01"))))
    assert added.collateral_dict == {"USDT": D("90.9")}
    assert added.potential_returns == TokenAmount("COINX", 10)
    deducted = OrderCandidate("COINX-USDT", True, OrderType.LIMIT, TradeType.BUY, D(10), D(9))
    deducted.populate_collateral_entries(Exchange(DEDUCTED_SCHEMA))
    assert deducted.collateral_dict == {"USDT": D(90)}
    assert deducted.potential_returns == TokenAmount("COINX", D("9.9"))


def test_fee_token_and_fixed_fees() -> None:
    schema = TradeFeeSchema(
        percent_fee_token="BNB",
        maker_percent_fee_decimal=D("0.001"),
        maker_fixed_fees=[TokenAmount("BNB", D("0.5")), TokenAmount(QUOTE, D(1))],
    )
    order = populated(schema, candidate(), {"HBOT-BNB": D("0.1")})
    # 20 HBOT notional * 0.1 BNB/HBOT * 0.1%
    assert order.percent_fee_collateral == TokenAmount("BNB", D("0.002"))
    assert order.fixed_fee_collaterals == [TokenAmount("BNB", D("0.5")), TokenAmount(QUOTE, D(1))]
    assert order.collateral_dict == {QUOTE: D(21), "BNB": D("0.502")}
    assert order.potential_returns == TokenAmount(BASE, 10)


def test_fee_token_without_price_raises() -> None:
    schema = TradeFeeSchema(percent_fee_token="BNB", maker_percent_fee_decimal=D("0.001"))
    with pytest.raises(FeeConversionError, match="HBOT-BNB"):
        populated(schema, candidate())


def test_zero_amount_populates_nothing() -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), maker_fixed_fees=[("HBOT", 1)])
    order = populated(schema, candidate(amount="0"))
    assert order.is_zero_order
    assert order.collateral_dict == {}
    assert order.potential_returns is None


def test_copy_is_independent() -> None:
    order = populated(TradeFeeSchema(maker_fixed_fees=[("HBOT", 1)]), candidate())
    clone = order.copy()
    assert clone == order and clone is not order
    clone.set_to_zero()
    assert order.amount == D(10)
    assert order.fixed_fee_collaterals == [TokenAmount(QUOTE, 1)]


# -- adjust_from_balances ------------------------------------------------------------------


def test_no_adjustment_when_everything_fits() -> None:
    order = populated(SCHEMA, candidate())
    order.adjust_from_balances({QUOTE: D("20.2")})
    assert order.resized is False
    assert order.amount == D(10)


def test_scales_to_the_order_collateral() -> None:
    order = populated(DEDUCTED_SCHEMA, candidate())
    order.adjust_from_balances({QUOTE: D(10)})
    assert order.resized is True
    assert order.amount == D(5)
    assert order.order_collateral == TokenAmount(QUOTE, 10)
    assert order.percent_fee_value == TokenAmount(BASE, D("0.05"))
    assert order.potential_returns == TokenAmount(BASE, D("4.95"))


def test_makes_room_for_the_percent_fee_in_the_same_token() -> None:
    order = populated(SCHEMA, candidate())
    order.adjust_from_balances({QUOTE: D(10)})
    assert order.resized is True
    total = order.collateral_dict[QUOTE]
    assert total <= D(10)
    assert D(10) - total < D("1e-20")
    assert abs(order.amount - D(10) * D(10) / D("20.2")) < D("1e-20")
    assert order.potential_returns is not None and order.potential_returns.amount == order.amount


def test_percent_fee_in_another_token_limits_the_order() -> None:
    schema = TradeFeeSchema(percent_fee_token="BNB", maker_percent_fee_decimal=D("0.01"))
    order = populated(schema, candidate(), {"HBOT-BNB": D(1)})
    order.adjust_from_balances({QUOTE: D(100), "BNB": D("0.05")})
    assert order.amount == D("2.5")
    assert order.percent_fee_collateral == TokenAmount("BNB", D("0.05"))
    assert order.order_collateral == TokenAmount(QUOTE, 5)


def test_unpayable_fixed_fee_zeroes_the_order() -> None:
    schema = TradeFeeSchema(maker_fixed_fees=[("BNB", D(1))])
    order = populated(schema, candidate())
    order.adjust_from_balances({QUOTE: D(100), "BNB": D("0.5")})
    assert order.is_zero_order and order.resized
    assert order.order_collateral is None
    assert order.percent_fee_collateral is None
    assert order.percent_fee_value is None
    assert order.potential_returns is None
    assert order.fixed_fee_collaterals == []


def test_fixed_fee_is_set_aside_before_the_proportional_part() -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), maker_fixed_fees=[(QUOTE, D(1))])
    order = populated(schema, candidate())
    order.adjust_from_balances({QUOTE: D("20.2")})
    assert order.resized
    assert order.fixed_fee_collaterals == [TokenAmount(QUOTE, 1)]  # fixed fees never scale
    assert order.collateral_dict[QUOTE] <= D("20.2")
    assert abs(order.amount - D(10) * D("19.2") / D("20.2")) < D("1e-20")


def test_fixed_fees_of_one_token_are_summed() -> None:
    schema = TradeFeeSchema(maker_fixed_fees=[(QUOTE, D(1)), (QUOTE, D(1))])
    order = populated(schema, candidate())
    order.adjust_from_balances({QUOTE: D(12)})
    assert order.amount == D(5)
    assert order.collateral_dict == {QUOTE: D(12)}


def test_fixed_fee_in_other_token_that_fits_changes_nothing() -> None:
    order = populated(TradeFeeSchema(maker_fixed_fees=[("BNB", D(1))]), candidate())
    order.adjust_from_balances({QUOTE: D(20), "BNB": D(1)})
    assert not order.resized and order.amount == D(10)


def test_missing_or_negative_balance_counts_as_zero() -> None:
    order = populated(SCHEMA, candidate())
    order.adjust_from_balances({})
    assert order.is_zero_order and order.order_collateral is None
    order = populated(SCHEMA, candidate())
    order.adjust_from_balances({QUOTE: D(-5)})
    assert order.is_zero_order


def test_set_to_zero() -> None:
    order = populated(TradeFeeSchema(maker_fixed_fees=[("BNB", 1)]), candidate())
    order.set_to_zero()
    assert order.amount == 0 and order.resized
    assert order.collateral_dict == {}
    assert (order.order_collateral, order.percent_fee_value, order.potential_returns) == (None, None, None)


# -- perpetual -------------------------------------------------------------------------------


def perp(side: TradeType = TradeType.BUY, leverage: int = 10, close: bool = False) -> PerpetualOrderCandidate:
    return PerpetualOrderCandidate(
        PAIR, True, OrderType.LIMIT, side, D(10), D(2), leverage=D(leverage), position_close=close
    )


def test_perpetual_open_locks_margin_and_fee_on_full_notional() -> None:
    order = perp()
    order.populate_collateral_entries(PerpExchange(SCHEMA))
    assert order.order_collateral == TokenAmount(QUOTE, 2)
    assert order.percent_fee_collateral == TokenAmount(QUOTE, D("0.2"))
    assert order.percent_fee_value == TokenAmount(QUOTE, D("0.2"))
    assert order.potential_returns is None
    assert order.collateral_dict == {QUOTE: D("2.2")}


def test_perpetual_open_sell_uses_sell_collateral_token() -> None:
    order = perp(TradeType.SELL, leverage=4)
    order.populate_collateral_entries(PerpExchange(SCHEMA, {"HBOT-USDC": D("1.5")}, sell_token="USDC"))
    # notional 20 HBOT = 30 USDC, margin 7.5 USDC, fee 1% of 30
    assert order.order_collateral == TokenAmount("USDC", D("7.5"))
    assert order.percent_fee_collateral == TokenAmount("USDC", D("0.3"))


def test_perpetual_open_fee_in_other_token_is_on_full_size() -> None:
    schema = TradeFeeSchema(percent_fee_token="BNB", maker_percent_fee_decimal=D("0.01"))
    order = perp()
    order.populate_collateral_entries(PerpExchange(schema, {"HBOT-BNB": D("0.5")}))
    assert order.percent_fee_collateral == TokenAmount("BNB", D("0.1"))


def test_perpetual_close_locks_nothing_and_returns_margin_less_fee() -> None:
    order = perp(TradeType.SELL, close=True)
    order.populate_collateral_entries(PerpExchange(SCHEMA, buy_token=QUOTE, sell_token="OTHER"))
    assert order.order_collateral is None
    assert order.percent_fee_collateral is None
    # closing a long opened with HBOT margin: 2 HBOT released, minus 1% of the 20 HBOT notional
    assert order.potential_returns == TokenAmount(QUOTE, D("1.8"))
    assert order.percent_fee_value == TokenAmount(QUOTE, D("0.2"))
    assert order.collateral_dict == {}


def test_perpetual_margin_in_third_token_needs_a_positive_price() -> None:
    order = perp()
    with pytest.raises(InvalidFieldError, match="HBOT-USDC"):
        order.populate_collateral_entries(PerpExchange(SCHEMA, {"HBOT-USDC": D(0)}, buy_token="USDC"))
    with pytest.raises(InvalidFieldError, match="HBOT-USDC"):
        order.populate_collateral_entries(PerpExchange(SCHEMA, {}, buy_token="USDC"))


def test_perpetual_candidate_needs_perpetual_exchange() -> None:
    with pytest.raises(TypeError, match="collateral_token"):
        perp().populate_collateral_entries(Exchange(SCHEMA))


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": D("-1")}, "amount"),
        ({"amount": D("NaN")}, "amount"),
        ({"price": D("-0.5")}, "price"),
        ({"price": D("NaN")}, "price"),
        ({"price": float("inf")}, "price"),
        ({"order_side": "BUY"}, "order_side"),
        ({"order_side": 1}, "order_side"),
        ({"order_type": "LIMIT"}, "order_type"),
        ({"is_maker": "yes"}, "is_maker"),
        ({"trading_pair": "COINALPHAHBOT"}, "trading_pair"),
        ({"from_total_balances": 1}, "from_total_balances"),
    ],
)
def test_bad_candidate_input_names_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "trading_pair": PAIR,
        "is_maker": True,
        "order_type": OrderType.LIMIT,
        "order_side": TradeType.BUY,
        "amount": D(1),
        "price": D(1),
    }
    args.update(kwargs)
    with pytest.raises(InvalidFieldError) as info:
        OrderCandidate(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_zero_price_cannot_be_valued() -> None:
    with pytest.raises(InvalidFieldError, match="price"):
        populated(SCHEMA, candidate(price="0"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"leverage": D(0)}, "leverage"),
        ({"leverage": D(-2)}, "leverage"),
        ({"position_close": "no"}, "position_close"),
    ],
)
def test_bad_perpetual_input_names_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        PerpetualOrderCandidate(PAIR, True, OrderType.LIMIT, TradeType.BUY, D(1), D(1), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


# -- properties ------------------------------------------------------------------------------

positive = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4)
balances = st.decimals(min_value=D(0), max_value=D("100000"), places=6)
percents = st.decimals(min_value=D(0), max_value=D("0.05"), places=5)
fixed = st.lists(st.tuples(st.sampled_from([BASE, QUOTE, "BNB"]), balances), max_size=3)


@given(
    side=st.sampled_from(list(TradeType)),
    amount=positive,
    price=positive,
    percent=percents,
    fee_token=st.sampled_from([None, "BNB"]),
    deducted=st.booleans(),
    fixed_fees=fixed,
    available=st.fixed_dictionaries({BASE: balances, QUOTE: balances, "BNB": balances}),
)
def test_scaling_never_exceeds_available(
    side: TradeType,
    amount: Decimal,
    price: Decimal,
    percent: Decimal,
    fee_token: str | None,
    deducted: bool,
    fixed_fees: list[tuple[str, Decimal]],
    available: dict[str, Decimal],
) -> None:
    schema = TradeFeeSchema(
        percent_fee_token=fee_token,
        maker_percent_fee_decimal=percent,
        buy_percent_fee_deducted_from_returns=deducted and fee_token is None,
        maker_fixed_fees=fixed_fees,
    )
    order = OrderCandidate(PAIR, True, OrderType.LIMIT, side, amount, price)
    order.populate_collateral_entries(Exchange(schema, {"HBOT-BNB": D("0.01"), "COINALPHA-BNB": D("0.02")}))
    order.adjust_from_balances(available)
    for token, locked in order.collateral_dict.items():
        assert locked <= available[token], (token, locked, available[token])
    assert order.amount <= amount
    assert order.resized or order.amount == amount
    if order.is_zero_order:
        assert order.collateral_dict == {} and order.potential_returns is None


@given(amount=positive, price=positive, percent=percents, maker=st.booleans())
def test_added_to_cost_buy_never_costs_less_than_notional(
    amount: Decimal, price: Decimal, percent: Decimal, maker: bool
) -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=percent, taker_percent_fee_decimal=percent)
    order = OrderCandidate(PAIR, maker, OrderType.LIMIT, TradeType.BUY, amount, price)
    order.populate_collateral_entries(Exchange(schema))
    assert order.collateral_dict[QUOTE] >= amount * price
    assert order.potential_returns == TokenAmount(BASE, amount)
