"""Fee schemas, concrete fees, conversions and fee impact (issue 2, "Fees")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import PositionAction, TradeType
from connectorkit.core.trade_fee import (
    AddedToCostTradeFee,
    DeductedFromReturnsTradeFee,
    FeeConversionError,
    FixedRateSource,
    TokenAmount,
    TradeFeeBase,
    TradeFeeSchema,
    build_perpetual_trade_fee,
    build_trade_fee,
)

D = Decimal


@dataclass
class Candidate:
    """The fields a fee reads from an order (OrderCandidate provides them in production)."""

    trading_pair: str
    order_side: TradeType
    amount: Decimal
    price: Decimal
    order_collateral: TokenAmount | None
    potential_returns: TokenAmount | None


class PriceBook:
    """Answers get_price from a fixed table and records what was asked."""

    def __init__(self, prices: dict[str, Decimal]) -> None:
        self.prices = prices
        self.calls: list[tuple[str, bool]] = []

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        self.calls.append((trading_pair, is_buy))
        return self.prices.get(trading_pair, D("NaN"))


def spot_buy(amount: str = "10", price: str = "9") -> Candidate:
    a, p = D(amount), D(price)
    return Candidate("COINX-USDT", TradeType.BUY, a, p, TokenAmount("USDT", a * p), TokenAmount("COINX", a))


def spot_sell(amount: str = "10", price: str = "9") -> Candidate:
    a, p = D(amount), D(price)
    return Candidate("COINX-USDT", TradeType.SELL, a, p, TokenAmount("COINX", a), TokenAmount("USDT", a * p))


# -- TokenAmount ---------------------------------------------------------------------------


def test_token_amount_unpacks_and_coerces() -> None:
    token, amount = TokenAmount("BNB", "0.5")
    assert (token, amount) == ("BNB", D("0.5"))
    assert isinstance(amount, Decimal)
    assert TokenAmount("BNB", 2).amount == D(2)


def test_token_amount_json_round_trip_is_exact() -> None:
    original = TokenAmount("BTC", D("1.2300"))
    data = original.to_json()
    assert data == {"token": "BTC", "amount": "1.2300"}
    back = TokenAmount.from_json(data)
    assert back == original
    assert str(back.amount) == "1.2300"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"token": "BTC", "amount": 1.5}, "amount"),
        ({"token": "BTC", "amount": "abc"}, "amount"),
        ({"token": "BTC", "amount": "-1"}, "amount"),
        ({"token": "BTC", "amount": "NaN"}, "amount"),
        ({"token": "", "amount": "1"}, "token"),
        ({"amount": "1"}, "token"),
        (["BTC", "1"], "token_amount"),
    ],
)
def test_token_amount_from_malformed_json_names_field(data: object, field: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        TokenAmount.from_json(data)
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize("amount", [D("-0.1"), D("NaN"), D("Infinity"), float("nan"), True, "x", None])
def test_token_amount_rejects_bad_amounts(amount: object) -> None:
    with pytest.raises(InvalidFieldError, match="amount"):
        TokenAmount("BTC", amount)  # type: ignore[arg-type]


# -- TradeFeeSchema ------------------------------------------------------------------------


def test_schema_coerces_numbers_and_fixed_fees() -> None:
    schema = TradeFeeSchema(
        maker_percent_fee_decimal="0.001",
        taker_percent_fee_decimal=0.002,
        maker_fixed_fees=[("BNB", "0.1")],
        taker_fixed_fees=[TokenAmount("BNB", 1), {"token": "ETH", "amount": "2"}],  # type: ignore[list-item]
    )
    assert schema.maker_percent_fee_decimal == D("0.001")
    assert schema.taker_percent_fee_decimal == D("0.002")
    assert isinstance(schema.taker_percent_fee_decimal, Decimal)
    assert schema.maker_fixed_fees == (TokenAmount("BNB", D("0.1")),)
    assert schema.taker_fixed_fees == (TokenAmount("BNB", 1), TokenAmount("ETH", 2))
    assert schema.percent_fee_token is None
    assert schema.buy_percent_fee_deducted_from_returns is False


def test_schema_defaults_and_seed_example() -> None:
    assert TradeFeeSchema() == TradeFeeSchema(None, 0, 0, False, [], [])
    seed = TradeFeeSchema(maker_percent_fee_decimal=D("1.0"), taker_percent_fee_decimal=D("2.3"))
    assert seed.taker_percent_fee_decimal == D("2.3")


def test_schema_with_fee_token_cannot_deduct_buy_fee_from_returns() -> None:
    with pytest.raises(ValueError, match="buy_percent_fee_deducted_from_returns"):
        TradeFeeSchema(percent_fee_token="BNB", buy_percent_fee_deducted_from_returns=True)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"maker_percent_fee_decimal": D("-0.001")}, "maker_percent_fee_decimal"),
        ({"taker_percent_fee_decimal": D("NaN")}, "taker_percent_fee_decimal"),
        ({"maker_fixed_fees": [("BNB", "-1")]}, "maker_fixed_fees[0].amount"),
        ({"taker_fixed_fees": ["BNB"]}, "taker_fixed_fees[0]"),
        ({"buy_percent_fee_deducted_from_returns": "yes"}, "buy_percent_fee_deducted_from_returns"),
        ({"percent_fee_token": 5}, "percent_fee_token"),
    ],
)
def test_schema_bad_input_names_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        TradeFeeSchema(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


# -- TradeFeeBase basics and JSON ---------------------------------------------------------


def test_fee_asset_rule() -> None:
    flat = [TokenAmount("ETH", 1), TokenAmount("BNB", 2)]
    assert AddedToCostTradeFee(D("0.01"), "BNB", flat).fee_asset == "BNB"
    assert AddedToCostTradeFee(D("0.01"), None, flat).fee_asset == "ETH"
    assert DeductedFromReturnsTradeFee(D("0.01")).fee_asset is None


def test_base_class_is_abstract() -> None:
    with pytest.raises(TypeError):
        TradeFeeBase()  # type: ignore[abstract]


def test_to_json_shape() -> None:
    fee = AddedToCostTradeFee(D("0.001"), "BNB", [TokenAmount("BNB", D("0.01"))])
    assert fee.to_json() == {
        "fee_type": "AddedToCost",
        "percent": "0.001",
        "percent_token": "BNB",
        "flat_fees": [{"token": "BNB", "amount": "0.01"}],
    }
    assert DeductedFromReturnsTradeFee().to_json() == {
        "fee_type": "DeductedFromReturns",
        "percent": "0",
        "percent_token": None,
        "flat_fees": [],
    }


@pytest.mark.parametrize(
    "fee",
    [
        AddedToCostTradeFee(D("0.00075"), "BNB", [TokenAmount("BNB", D("0.1000"))]),
        DeductedFromReturnsTradeFee(D("0.001")),
        DeductedFromReturnsTradeFee(D("0"), None, [TokenAmount("USDT", D("1E-8"))]),
    ],
)
def test_from_json_picks_class_and_round_trips(fee: TradeFeeBase) -> None:
    back = TradeFeeBase.from_json(fee.to_json())
    assert type(back) is type(fee)
    assert back == fee
    assert back.to_json() == fee.to_json()


def test_fee_classes_are_not_equal_to_each_other() -> None:
    assert AddedToCostTradeFee(D("0.01")) != DeductedFromReturnsTradeFee(D("0.01"))
    assert AddedToCostTradeFee(D("0.01")) == AddedToCostTradeFee("0.01")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("not a dict", "fee"),
        ({"fee_type": "Bogus", "percent": "0"}, "fee_type"),
        ({"percent": "0"}, "fee_type"),
        ({"fee_type": "AddedToCost"}, "percent"),
        ({"fee_type": "AddedToCost", "percent": 0.1}, "percent"),
        ({"fee_type": "AddedToCost", "percent": "-0.1"}, "percent"),
        ({"fee_type": "AddedToCost", "percent": "0", "percent_token": 3}, "percent_token"),
        ({"fee_type": "AddedToCost", "percent": "0", "flat_fees": {}}, "flat_fees"),
        (
            {"fee_type": "AddedToCost", "percent": "0", "flat_fees": [{"token": "B", "amount": "x"}]},
            "flat_fees[0].amount",
        ),
        ({"fee_type": "AddedToCost", "percent": "0", "flat_fees": [{"amount": "1"}]}, "flat_fees[0].token"),
    ],
)
def test_from_malformed_json_names_field(data: object, field: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        TradeFeeBase.from_json(data)
    assert info.value.field == field


# -- class selection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "deducted", "trade_type", "expected"),
    [
        (None, False, TradeType.BUY, AddedToCostTradeFee),
        (None, True, TradeType.BUY, DeductedFromReturnsTradeFee),
        ("BNB", False, TradeType.BUY, AddedToCostTradeFee),
        (None, False, TradeType.SELL, DeductedFromReturnsTradeFee),
        (None, True, TradeType.SELL, DeductedFromReturnsTradeFee),
        ("BNB", False, TradeType.SELL, DeductedFromReturnsTradeFee),
    ],
)
def test_new_spot_fee_class(
    token: str | None, deducted: bool, trade_type: TradeType, expected: type[TradeFeeBase]
) -> None:
    schema = TradeFeeSchema(percent_fee_token=token, buy_percent_fee_deducted_from_returns=deducted)
    fee = TradeFeeBase.new_spot_fee(schema, trade_type, D("0.01"), "BNB", [TokenAmount("BNB", 1)])
    assert type(fee) is expected
    assert (fee.percent, fee.percent_token, fee.flat_fees) == (D("0.01"), "BNB", (TokenAmount("BNB", 1),))


@pytest.mark.parametrize(
    ("token", "deducted", "action", "expected"),
    [
        (None, False, PositionAction.OPEN, AddedToCostTradeFee),
        (None, True, PositionAction.OPEN, AddedToCostTradeFee),
        (None, False, PositionAction.CLOSE, DeductedFromReturnsTradeFee),
        (None, True, PositionAction.NIL, DeductedFromReturnsTradeFee),
        ("BNB", False, PositionAction.CLOSE, AddedToCostTradeFee),
    ],
)
def test_new_perpetual_fee_class(
    token: str | None, deducted: bool, action: PositionAction, expected: type[TradeFeeBase]
) -> None:
    schema = TradeFeeSchema(percent_fee_token=token, buy_percent_fee_deducted_from_returns=deducted)
    assert type(TradeFeeBase.new_perpetual_fee(schema, action, D("0.01"))) is expected


def test_unknown_trade_type_or_position_action_is_rejected() -> None:
    with pytest.raises(InvalidFieldError, match="trade_type"):
        TradeFeeBase.new_spot_fee(TradeFeeSchema(), "BUY")  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError, match="position_action"):
        TradeFeeBase.new_perpetual_fee(TradeFeeSchema(), TradeType.BUY)  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError, match="trade_type"):
        build_trade_fee(TradeFeeSchema(), True, 1)  # type: ignore[arg-type]


# -- build_trade_fee -----------------------------------------------------------------------


def test_build_trade_fee_maker_and_taker_copy_schema_fees() -> None:
    schema = TradeFeeSchema(
        percent_fee_token="BNB",
        maker_percent_fee_decimal=D("0.001"),
        taker_percent_fee_decimal=D("0.002"),
        maker_fixed_fees=[TokenAmount("BNB", 1)],
        taker_fixed_fees=[TokenAmount("BNB", 2)],
    )
    before = TradeFeeSchema(**{f: getattr(schema, f) for f in schema.__dataclass_fields__})
    maker = build_trade_fee(schema, True, TradeType.SELL, extra_flat_fees=[TokenAmount("ETH", 3)])
    taker = build_trade_fee(schema, False, TradeType.BUY)
    assert isinstance(maker, DeductedFromReturnsTradeFee)
    assert isinstance(taker, AddedToCostTradeFee)
    assert (maker.percent, maker.percent_token) == (D("0.001"), "BNB")
    assert maker.flat_fees == (TokenAmount("BNB", 1), TokenAmount("ETH", 3))
    assert (taker.percent, taker.flat_fees) == (D("0.002"), (TokenAmount("BNB", 2),))
    assert schema == before
    assert schema.maker_fixed_fees == (TokenAmount("BNB", 1),)


def test_build_perpetual_trade_fee() -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.0002"), taker_percent_fee_decimal=D("0.0004"))
    open_fee = build_perpetual_trade_fee(schema, False, PositionAction.OPEN)
    close_fee = build_perpetual_trade_fee(schema, True, PositionAction.CLOSE, [("USDT", "0.5")])
    assert isinstance(open_fee, AddedToCostTradeFee) and open_fee.percent == D("0.0004")
    assert isinstance(close_fee, DeductedFromReturnsTradeFee) and close_fee.percent == D("0.0002")
    assert close_fee.flat_fees == (TokenAmount("USDT", D("0.5")),)
    with pytest.raises(InvalidFieldError, match="is_maker"):
        build_perpetual_trade_fee(schema, 1, PositionAction.OPEN)  # type: ignore[arg-type]


# -- fee_amount_in_token -------------------------------------------------------------------


def test_percent_part_in_quote_base_and_third_token() -> None:
    fee = AddedToCostTradeFee(D("0.01"))
    # 10 COINX at 9 USDT: 0.9 USDT, which is 0.1 COINX at the trade price, 0.0018 BNB at 500 USDT/BNB
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "USDT") == D("0.9")
    assert fee.fee_amount_in_quote("COINX-USDT", D(9), D(10)) == D("0.9")
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "COINX") == D("0.1")
    rates = FixedRateSource({"BNB-USDT": D(500)})
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB", rates) == D("0.0018")


def test_flat_fees_converted_to_any_target() -> None:
    fee = DeductedFromReturnsTradeFee(
        D("0"),
        None,
        [TokenAmount("COINX", D("0.5")), TokenAmount("USDT", D(1)), TokenAmount("BNB", D("0.01"))],
    )
    rates = FixedRateSource({"BNB-USDT": D(500)})
    # in USDT: 0.5 COINX * 9 + 1 + 0.01 BNB * 500
    assert fee.fee_amount_in_quote("COINX-USDT", D(9), D(10), rates) == D("10.5")
    # in BNB: 4.5 USDT / 500 + 1 / 500 + 0.01
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB", rates) == D("0.021")
    # in COINX: 0.5 + 1 / 9 + 5 / 9 (BNB reaches COINX through USDT)
    in_base = fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "COINX", rates)
    assert abs(in_base - (D("0.5") + D(6) / D(9))) < D("1e-25")


def test_third_token_uses_direct_rate_when_available() -> None:
    fee = AddedToCostTradeFee(D("0"), None, [TokenAmount("BNB", D(2))])
    rates = FixedRateSource({"BNB-ETH": D("0.1"), "BNB-USDT": D(500)})
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(1), "ETH", rates) == D("0.2")
    # inverted pair answered by the rate source
    inverted = FixedRateSource({"ETH-BNB": D(10)})
    assert fee.fee_amount_in_token("COINX-USDT", D(9), D(1), "ETH", inverted) == D("0.2")


def test_rate_source_that_knows_pairs_one_way_serves_both_directions() -> None:
    """Any object with get_rate serves: one that only prices BNB in USDT still converts to BNB."""

    class OneWay:
        def get_rate(self, trading_pair: str) -> Decimal | None:
            return D(500) if trading_pair == "BNB-USDT" else None

    percent_fee = AddedToCostTradeFee(D("0.01"))
    # 0.9 USDT of percent fee, in BNB: needs USDT-BNB, which only the inverse answers
    assert percent_fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB", OneWay()) == D("0.0018")
    # 0.5 COINX flat fee in BNB: COINX -> USDT at the trade price, then the inverse of BNB-USDT
    flat_fee = AddedToCostTradeFee(D(0), None, [TokenAmount("COINX", D("0.5"))])
    assert flat_fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB", OneWay()) == D("0.009")
    bnb_fee = AddedToCostTradeFee(D(0), None, [TokenAmount("BNB", D("0.01"))])
    assert bnb_fee.fee_amount_in_quote("COINX-USDT", D(9), D(10), OneWay()) == D(5)


def test_missing_rate_raises_naming_the_pair() -> None:
    fee = AddedToCostTradeFee(D("0.001"), "BNB", [TokenAmount("BNB", D("0.01"))])
    with pytest.raises(FeeConversionError) as info:
        fee.fee_amount_in_quote("COINX-USDT", D(9), D(10))
    assert info.value.trading_pair == "BNB-USDT"
    assert "BNB-USDT" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(FeeConversionError, match="BNB-USDT"):
        fee.fee_amount_in_quote("COINX-USDT", D(9), D(10), FixedRateSource({"ETH-USDT": 3000}))


def test_percent_in_third_token_without_rate_raises() -> None:
    fee = AddedToCostTradeFee(D("0.01"))
    with pytest.raises(FeeConversionError, match="USDT-BNB"):
        fee.fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB")


def test_zero_fee_needs_no_rate() -> None:
    assert AddedToCostTradeFee().fee_amount_in_token("COINX-USDT", D(9), D(10), "BNB") == D(0)


def test_invalid_rate_from_source_is_a_conversion_error() -> None:
    class Broken:
        def get_rate(self, trading_pair: str) -> Decimal | None:
            return D("NaN")

    fee = AddedToCostTradeFee(D("0"), None, [TokenAmount("BNB", 1)])
    with pytest.raises(FeeConversionError, match="BNB-USDT"):
        fee.fee_amount_in_quote("COINX-USDT", D(9), D(1), Broken())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"price": D("-1")}, "price"),
        ({"price": D("NaN")}, "price"),
        ({"order_amount": D("-1")}, "order_amount"),
        ({"order_amount": D("sNaN")}, "order_amount"),
        ({"trading_pair": "COINXUSDT"}, "trading_pair"),
    ],
)
def test_fee_amount_bad_input_names_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"trading_pair": "COINX-USDT", "price": D(9), "order_amount": D(1)}
    args.update(kwargs)
    with pytest.raises(InvalidFieldError) as info:
        AddedToCostTradeFee(D("0.01")).fee_amount_in_quote(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_fixed_rate_source() -> None:
    rates = FixedRateSource({"BNB-USDT": "500"})
    assert rates.get_rate("BNB-USDT") == D(500)
    assert rates.get_rate("USDT-BNB") == D("0.002")
    assert rates.get_rate("BNB-BNB") == D(1)
    assert rates.get_rate("ETH-USDT") is None
    assert "BNB-USDT" in repr(rates)
    with pytest.raises(InvalidFieldError, match="BNB-USDT"):
        FixedRateSource({"BNB-USDT": 0})
    with pytest.raises(InvalidFieldError, match="rates key"):
        FixedRateSource({"BNBUSDT": 1})


# -- fee impact ----------------------------------------------------------------------------


def test_seed_example_added_to_cost() -> None:
    """Buy 10 COINX at 9 USDT, 1%, AddedToCost: pay 90.9 USDT, receive 10 COINX."""
    order = spot_buy()
    fee = AddedToCostTradeFee(D("0.01"))
    cost = fee.get_fee_impact_on_order_cost(order, PriceBook({}))
    assert cost == TokenAmount("USDT", D("0.9"))
    assert order.order_collateral is not None and order.potential_returns is not None
    assert order.order_collateral.amount + cost.amount == D("90.9")
    assert fee.get_fee_impact_on_order_returns(order, PriceBook({})) is None
    assert order.potential_returns.amount == D(10)


def test_seed_example_deducted_from_returns() -> None:
    """Same buy with DeductedFromReturns: pay 90 USDT, receive 9.9 COINX."""
    order = spot_buy()
    fee = DeductedFromReturnsTradeFee(D("0.01"))
    assert fee.get_fee_impact_on_order_cost(order, PriceBook({})) is None
    impact = fee.get_fee_impact_on_order_returns(order, PriceBook({}))
    assert impact == D("0.1")
    assert order.order_collateral is not None and order.potential_returns is not None
    assert order.order_collateral.amount == D(90)
    assert order.potential_returns.amount - impact == D("9.9")


def test_cost_impact_zero_percent_is_none() -> None:
    assert AddedToCostTradeFee(D(0), "BNB").get_fee_impact_on_order_cost(spot_buy(), PriceBook({})) is None


def test_cost_impact_in_fee_token_uses_size_and_exchange_price() -> None:
    fee = AddedToCostTradeFee(D("0.001"), "BNB")
    book = PriceBook({"USDT-BNB": D("0.002"), "COINX-BNB": D("0.018")})
    # BUY: size is 90 USDT, priced in BNB with the buy price of USDT-BNB
    assert fee.get_fee_impact_on_order_cost(spot_buy(), book) == TokenAmount("BNB", D("0.00018"))
    # SELL: size is 10 COINX, priced with COINX-BNB
    assert fee.get_fee_impact_on_order_cost(spot_sell(), book) == TokenAmount("BNB", D("0.00018"))
    assert book.calls == [("USDT-BNB", True), ("COINX-BNB", True)]


def test_cost_impact_fee_token_equal_to_size_token_needs_no_price() -> None:
    # SELL locks COINX: a COINX fee is collateral * percent
    fee = AddedToCostTradeFee(D("0.01"), "COINX")
    book = PriceBook({})
    assert fee.get_fee_impact_on_order_cost(spot_sell(), book) == TokenAmount("COINX", D("0.1"))
    order = spot_buy()
    order.order_collateral = None  # e.g. a position close: no collateral; the BUY size token is USDT
    usdt_fee = AddedToCostTradeFee(D("0.01"), "USDT")
    assert usdt_fee.get_fee_impact_on_order_cost(order, book) == TokenAmount("USDT", D("0.9"))
    assert book.calls == []


def test_cost_impact_without_price_raises_conversion_error() -> None:
    fee = AddedToCostTradeFee(D("0.001"), "BNB")
    with pytest.raises(FeeConversionError, match="USDT-BNB"):
        fee.get_fee_impact_on_order_cost(spot_buy(), PriceBook({}))


def test_cost_impact_needs_a_fee_token() -> None:
    order = spot_buy()
    order.order_collateral = None
    with pytest.raises(InvalidFieldError, match="order_collateral"):
        AddedToCostTradeFee(D("0.01")).get_fee_impact_on_order_cost(order, PriceBook({}))


def test_returns_impact_sell_and_missing_returns() -> None:
    fee = DeductedFromReturnsTradeFee(D("0.01"))
    assert fee.get_fee_impact_on_order_returns(spot_sell(), PriceBook({})) == D("0.9")
    order = spot_sell()
    order.potential_returns = None
    assert fee.get_fee_impact_on_order_returns(order, PriceBook({})) is None


# -- properties ----------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.00000001"), max_value=D("1000000"), places=8)
percents = st.decimals(min_value=D(0), max_value=D("0.1"), places=6)


@given(amount=amounts, price=amounts, percent=percents)
def test_added_to_cost_buy_never_costs_less_than_notional(
    amount: Decimal, price: Decimal, percent: Decimal
) -> None:
    order = spot_buy(str(amount), str(price))
    impact = AddedToCostTradeFee(percent).get_fee_impact_on_order_cost(order, PriceBook({}))
    assert order.order_collateral is not None
    cost = order.order_collateral.amount + (impact.amount if impact is not None else D(0))
    assert cost >= amount * price
    assert (impact is None) == (percent == 0)


@given(amount=amounts, price=amounts, percent=percents, flat=amounts)
def test_fee_value_is_consistent_across_base_and_quote(
    amount: Decimal, price: Decimal, percent: Decimal, flat: Decimal
) -> None:
    fee = AddedToCostTradeFee(percent, None, [TokenAmount("COINX", flat)])
    in_quote = fee.fee_amount_in_quote("COINX-USDT", price, amount)
    in_base = fee.fee_amount_in_token("COINX-USDT", price, amount, "COINX")
    assert in_quote >= 0 and in_base >= 0
    assert abs(in_base * price - in_quote) <= in_quote * D("1e-20")


@given(percent=percents, flat=st.lists(st.tuples(st.sampled_from(["BNB", "ETH"]), amounts), max_size=3))
def test_json_round_trip_property(percent: Decimal, flat: list[tuple[str, Decimal]]) -> None:
    for fee in (AddedToCostTradeFee(percent, "BNB", flat), DeductedFromReturnsTradeFee(percent, None, flat)):
        assert TradeFeeBase.from_json(fee.to_json()) == fee
