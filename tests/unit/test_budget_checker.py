"""Budget checkers: sizing candidates against balances and locks (issue 2, "Budget checking")."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectorkit.core.budget_checker import (
    BudgetChecker,
    BudgetExchange,
    PerpetualBudgetChecker,
    PerpetualBudgetExchange,
)
from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import OrderType, TradeType
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.trade_fee import TokenAmount, TradeFeeSchema

D = Decimal
PAIR = "COINALPHA-HBOT"
BASE, QUOTE = "COINALPHA", "HBOT"
SCHEMA = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), taker_percent_fee_decimal=D("0.02"))
STEP = D("0.01")


class FakeExchange:
    """Balances, prices and an order-size step: the whole BudgetExchange protocol."""

    name = "fake_exchange"

    def __init__(
        self,
        available: dict[str, Decimal],
        total: dict[str, Decimal] | None = None,
        schema: TradeFeeSchema = SCHEMA,
        step: Decimal = STEP,
    ) -> None:
        self.available = available
        self.total = total if total is not None else dict(available)
        self.trade_fee_schema = schema
        self.step = step
        self.quantize_calls: list[tuple[str, Decimal]] = []

    def trade_fee_schema_for(self, trading_pair: str) -> TradeFeeSchema:
        return self.trade_fee_schema

    def get_available_balance(self, token: str) -> Decimal:
        return self.available.get(token, D(0))

    def get_balance(self, token: str) -> Decimal:
        return self.total.get(token, D(0))

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        return D("NaN")

    def quantize_order_amount(self, trading_pair: str, amount: Decimal) -> Decimal:
        self.quantize_calls.append((trading_pair, amount))
        return (amount / self.step).to_integral_value(rounding=ROUND_FLOOR) * self.step


class FakePerpExchange(FakeExchange):
    def get_buy_collateral_token(self, trading_pair: str) -> str:
        return QUOTE

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return QUOTE


def buy(amount: str = "10", price: str = "2", total: bool = False) -> OrderCandidate:
    return OrderCandidate(
        PAIR, True, OrderType.LIMIT, TradeType.BUY, D(amount), D(price), from_total_balances=total
    )


def sell(amount: str = "10", price: str = "2") -> OrderCandidate:
    return OrderCandidate(PAIR, True, OrderType.LIMIT, TradeType.SELL, D(amount), D(price))


def test_fakes_satisfy_the_protocols() -> None:
    assert isinstance(FakeExchange({}), BudgetExchange)
    assert not isinstance(FakeExchange({}), PerpetualBudgetExchange)
    assert isinstance(FakePerpExchange({}), PerpetualBudgetExchange)


def test_populate_collateral_entries_returns_populated_copy() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D(100)}))
    original = buy()
    result = checker.populate_collateral_entries(original)
    assert result is not original
    assert original.order_collateral is None
    assert result.order_collateral == TokenAmount(QUOTE, 20)
    assert result.percent_fee_collateral == TokenAmount(QUOTE, D("0.2"))
    assert result.potential_returns == TokenAmount(BASE, 10)


def test_candidate_that_fits_is_unchanged() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D("20.2")}))
    result = checker.adjust_candidate(buy())
    assert result.amount == D(10) and not result.resized
    assert result.collateral_dict == {QUOTE: D("20.2")}


def test_insufficient_balance_all_or_none_gives_zero_order() -> None:
    """The issue's example: HBOT balance 10 cannot pay a 20 HBOT buy, so all_or_none zeroes it."""
    checker = BudgetChecker(FakeExchange({QUOTE: D(10)}))
    original = buy()
    result = checker.adjust_candidate(original, all_or_none=True)
    assert result.is_zero_order and result.resized
    assert result.order_collateral is None
    assert result.percent_fee_collateral is None
    assert result.percent_fee_value is None
    assert result.potential_returns is None
    assert result.fixed_fee_collaterals == []
    assert original.amount == D(10) and original.order_collateral is None


def test_insufficient_balance_partial_is_floored_to_step() -> None:
    exchange = FakeExchange({QUOTE: D(10)})
    result = BudgetChecker(exchange).adjust_candidate(buy(), all_or_none=False)
    # 10 HBOT pays for 10 / 2.02 = 4.9504... COINALPHA; floored to the 0.01 step
    assert result.amount == D("4.95")
    assert result.resized
    assert result.order_collateral == TokenAmount(QUOTE, D("9.90"))
    assert result.percent_fee_collateral == TokenAmount(QUOTE, D("0.0990"))
    assert result.potential_returns == TokenAmount(BASE, D("4.95"))
    assert result.collateral_dict[QUOTE] <= D(10)
    assert exchange.quantize_calls and exchange.quantize_calls[0][0] == PAIR


def test_partial_that_quantizes_to_zero_is_zero_order() -> None:
    result = BudgetChecker(FakeExchange({QUOTE: D("0.015")}, step=D(1))).adjust_candidate(buy(), False)
    assert result.is_zero_order and result.collateral_dict == {}


def test_quantize_rounding_up_is_rejected() -> None:
    class RoundsUp(FakeExchange):
        def quantize_order_amount(self, trading_pair: str, amount: Decimal) -> Decimal:
            return amount + 1

    with pytest.raises(ValueError, match="must round down"):
        BudgetChecker(RoundsUp({QUOTE: D(10)})).adjust_candidate(buy(), all_or_none=False)


def test_recomputed_entries_that_no_longer_fit_give_zero_order() -> None:
    class PriceMoves(FakeExchange):
        """The BNB price doubles between the first population and the recomputation."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self.rates = [D(1), D(2)]

        def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
            assert trading_pair == "HBOT-BNB" and is_buy
            return self.rates.pop(0)

    schema = TradeFeeSchema(percent_fee_token="BNB", maker_percent_fee_decimal=D("0.01"))
    exchange = PriceMoves({QUOTE: D(100), "BNB": D("0.1")}, schema=schema)
    result = BudgetChecker(exchange).adjust_candidate(buy(), all_or_none=False)
    # first pass: a 0.2 BNB fee is halved to fit (amount 5); at the new price it is 0.2 BNB again
    # (the amount nudged up, then the plain one, both floor to 5.00: recomputed once)
    assert [amount.quantize(STEP) for _, amount in exchange.quantize_calls] == [D(5), D(5)]
    assert exchange.rates == []
    assert result.is_zero_order and result.collateral_dict == {}


def test_sell_uses_base_balance() -> None:
    checker = BudgetChecker(FakeExchange({BASE: D(4), QUOTE: D(1000)}))
    result = checker.adjust_candidate(sell(), all_or_none=False)
    assert result.amount == D(4)
    assert result.order_collateral == TokenAmount(BASE, 4)
    assert result.potential_returns == TokenAmount(QUOTE, D("7.92"))


def test_from_total_balances_reads_total_balance() -> None:
    exchange = FakeExchange(available={QUOTE: D(5)}, total={QUOTE: D(50)})
    checker = BudgetChecker(exchange)
    assert checker.adjust_candidate(buy(total=True)).amount == D(10)
    assert checker.adjust_candidate(buy(total=False)).is_zero_order


def test_lock_reduces_what_later_candidates_see() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D(30)}))
    first = checker.adjust_candidate_and_lock_available_collateral(buy())
    assert first.amount == D(10)
    assert checker.locked_collateral == {QUOTE: D("20.2")}
    second = checker.adjust_candidate(buy(), all_or_none=False)
    # 30 - 20.2 = 9.8 HBOT left: 9.8 / 2.02 = 4.851... floored to 4.85
    assert second.amount == D("4.85")
    checker.reset_locked_collateral()
    assert checker.locked_collateral == {}
    assert checker.adjust_candidate(buy()).amount == D(10)


def test_zero_orders_lock_nothing() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D(1)}))
    checker.adjust_candidate_and_lock_available_collateral(buy())
    assert checker.locked_collateral == {}


def test_adjust_candidates_earlier_ones_take_balance_first() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D(30)}))
    small, large = buy(amount="5"), buy(amount="10")
    first, second = checker.adjust_candidates([small, large])
    assert (first.amount, second.amount) == (D(5), D(0))
    first, second = checker.adjust_candidates([large, small])
    assert (first.amount, second.amount) == (D(10), D(0))
    first, second = checker.adjust_candidates([large, small], all_or_none=False)
    assert (first.amount, second.amount) == (D(10), D("4.85"))
    assert checker.locked_collateral == {}


def test_adjust_candidates_resets_locks_first() -> None:
    checker = BudgetChecker(FakeExchange({QUOTE: D(30)}))
    checker.adjust_candidate_and_lock_available_collateral(buy())
    [only] = checker.adjust_candidates([buy()])
    assert only.amount == D(10)
    assert checker.locked_collateral == {}


def test_adjust_candidates_does_not_mutate_inputs() -> None:
    inputs = [buy(), buy()]
    BudgetChecker(FakeExchange({QUOTE: D(25)})).adjust_candidates(inputs)
    assert all(c.amount == D(10) and c.order_collateral is None and not c.resized for c in inputs)


def test_bad_balance_from_exchange_names_field() -> None:
    with pytest.raises(InvalidFieldError, match="balance of HBOT"):
        BudgetChecker(FakeExchange({QUOTE: D("NaN")})).adjust_candidate(buy())


def test_spot_checker_rejects_non_candidates() -> None:
    with pytest.raises(TypeError):
        BudgetChecker(FakeExchange({})).adjust_candidate("order")  # type: ignore[arg-type]


# -- perpetual -------------------------------------------------------------------------------


def perp(close: bool = False, amount: str = "10", leverage: int = 10) -> PerpetualOrderCandidate:
    return PerpetualOrderCandidate(
        PAIR, True, OrderType.LIMIT, TradeType.BUY, D(amount), D(2), leverage=D(leverage),
        position_close=close,
    )


def test_perpetual_open_is_sized_by_margin_and_locked() -> None:
    checker = PerpetualBudgetChecker(FakePerpExchange({QUOTE: D("2.2")}))
    result = checker.adjust_candidate_and_lock_available_collateral(perp())
    assert result.amount == D(10) and not result.resized
    assert checker.locked_collateral == {QUOTE: D("2.2")}
    assert checker.adjust_candidate(perp()).is_zero_order


def test_perpetual_close_is_not_locked() -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), maker_fixed_fees=[(QUOTE, D("0.1"))])
    checker = PerpetualBudgetChecker(FakePerpExchange({QUOTE: D(1)}, schema=schema))
    result = checker.adjust_candidate_and_lock_available_collateral(perp(close=True))
    assert result.amount == D(10)
    assert result.order_collateral is None
    assert checker.locked_collateral == {}


def test_perpetual_checker_adjust_candidates() -> None:
    checker = PerpetualBudgetChecker(FakePerpExchange({QUOTE: D(3)}))
    opened, closed, second_open = checker.adjust_candidates([perp(), perp(close=True), perp()], False)
    assert opened.amount == D(10)
    assert closed.amount == D(10)
    # 3 - 2.2 = 0.8 HBOT left for margin 0.2/unit + fee 0.02/unit -> 3.63 units
    assert second_open.amount == D("3.63")


def test_perpetual_checker_rejects_spot_candidates() -> None:
    with pytest.raises(TypeError, match="PerpetualOrderCandidate"):
        PerpetualBudgetChecker(FakePerpExchange({QUOTE: D(10)})).adjust_candidate(buy())


# -- fixed fees: room for them first, then the proportional part (issue 17, item 8) -----------

FIXED_ONE = TradeFeeSchema(maker_fixed_fees=[(QUOTE, D(1))])


def test_issue_example_fixed_fee_leaves_room_for_the_largest_affordable_order() -> None:
    """11 HBOT, a 1 HBOT fixed fee: buying 10 COINALPHA at 2 is scaled to 5 (10 HBOT + the fee)."""
    result = BudgetChecker(FakeExchange({QUOTE: D(11)}, schema=FIXED_ONE)).adjust_candidate(
        buy(), all_or_none=False
    )
    assert result.amount == D(5) and result.resized
    assert result.collateral_dict == {QUOTE: D(11)}


def test_fixed_fee_scaling_is_one_exact_step_not_floored_twice() -> None:
    """4 HBOT, 1 HBOT fixed fee, 10 @ 3, whole units: 1 unit costs 3 + 1 = 4. Scaling first to the
    balance (4 / 3 = 1.333...) and then again for the fee ended at 0.999..., floored to 0."""
    exchange = FakeExchange({QUOTE: D(4)}, schema=FIXED_ONE, step=D(1))
    result = BudgetChecker(exchange).adjust_candidate(buy("10", "3"), all_or_none=False)
    assert result.amount == D(1)
    assert result.collateral_dict == {QUOTE: D(4)}


def test_fixed_fee_scaling_of_a_perpetual_candidate() -> None:
    exchange = FakePerpExchange({QUOTE: D(4)}, schema=FIXED_ONE, step=D(1))
    candidate = PerpetualOrderCandidate(
        PAIR, True, OrderType.LIMIT, TradeType.SELL, D(10), D(3), leverage=D(1)
    )
    result = PerpetualBudgetChecker(exchange).adjust_candidate(candidate, all_or_none=False)
    assert result.amount == D(1)
    assert result.collateral_dict == {QUOTE: D(4)}


def test_fixed_fee_on_a_sell_is_set_aside_from_the_base_balance() -> None:
    schema = TradeFeeSchema(maker_percent_fee_decimal=D("0.01"), maker_fixed_fees=[(BASE, D("0.5"))])
    exchange = FakeExchange({BASE: D(7)}, schema=schema)
    result = BudgetChecker(exchange).adjust_candidate(sell("10", "3"), all_or_none=False)
    assert result.amount == D("6.5")  # 6.5 sold + 0.5 fee; the percent fee comes out of the HBOT received
    assert result.collateral_dict == {BASE: D(7)}


def test_a_fixed_fee_the_balance_cannot_pay_zeroes_the_order() -> None:
    exchange = FakeExchange({QUOTE: D("0.5")}, schema=FIXED_ONE)
    assert BudgetChecker(exchange).adjust_candidate(buy(), all_or_none=False).is_zero_order


@given(
    side=st.sampled_from(list(TradeType)),
    amount=st.integers(min_value=1, max_value=60),
    price=st.integers(min_value=1, max_value=9),
    percent=st.sampled_from([D(0), D("0.001"), D("0.01"), D("0.1")]),
    deducted=st.booleans(),
    fixed=st.lists(st.tuples(st.sampled_from([BASE, QUOTE]), st.integers(0, 5)), max_size=2),
    base_balance=st.integers(0, 80),
    quote_balance=st.integers(0, 200),
    perpetual=st.booleans(),
    leverage=st.sampled_from([1, 3, 7]),
)
def test_partial_adjustment_finds_the_largest_affordable_amount(
    side: TradeType,
    amount: int,
    price: int,
    percent: Decimal,
    deducted: bool,
    fixed: list[tuple[str, int]],
    base_balance: int,
    quote_balance: int,
    perpetual: bool,
    leverage: int,
) -> None:
    """Against brute force on the size grid (whole units): the result is the largest amount whose
    locks fit, never one step less (or zero) because of intermediate rounding."""
    schema = TradeFeeSchema(
        maker_percent_fee_decimal=percent,
        buy_percent_fee_deducted_from_returns=deducted,
        maker_fixed_fees=[(token, D(fee)) for token, fee in fixed],
    )
    balances = {BASE: D(base_balance), QUOTE: D(quote_balance)}
    exchange: FakeExchange
    checker: BudgetChecker

    def make(units: int) -> OrderCandidate:
        if perpetual:
            return PerpetualOrderCandidate(
                PAIR, True, OrderType.LIMIT, side, D(units), D(price), leverage=D(leverage)
            )
        return OrderCandidate(PAIR, True, OrderType.LIMIT, side, D(units), D(price))

    if perpetual:
        exchange = FakePerpExchange(balances, schema=schema, step=D(1))
        checker = PerpetualBudgetChecker(exchange)
    else:
        exchange = FakeExchange(balances, schema=schema, step=D(1))
        checker = BudgetChecker(exchange)

    def fits(units: int) -> bool:
        candidate = make(units)
        candidate.populate_collateral_entries(exchange)
        return all(locked <= balances.get(token, D(0)) for token, locked in candidate.collateral_dict.items())

    best = next((units for units in range(amount, 0, -1) if fits(units)), 0)
    assert checker.adjust_candidate(make(amount), all_or_none=False).amount == best


# -- properties ------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2)
balances = st.decimals(min_value=D(0), max_value=D("10000"), places=4)
percents = st.decimals(min_value=D(0), max_value=D("0.05"), places=4)


@given(
    orders=st.lists(st.tuples(st.sampled_from(list(TradeType)), amounts, amounts), min_size=1, max_size=6),
    base_balance=balances,
    quote_balance=balances,
    percent=percents,
    deducted=st.booleans(),
    fixed_fee=st.decimals(min_value=D(0), max_value=D(5), places=2),
    all_or_none=st.booleans(),
)
def test_a_round_never_spends_more_than_the_balance(
    orders: list[tuple[TradeType, Decimal, Decimal]],
    base_balance: Decimal,
    quote_balance: Decimal,
    percent: Decimal,
    deducted: bool,
    fixed_fee: Decimal,
    all_or_none: bool,
) -> None:
    schema = TradeFeeSchema(
        maker_percent_fee_decimal=percent,
        buy_percent_fee_deducted_from_returns=deducted,
        maker_fixed_fees=[(QUOTE, fixed_fee)],
    )
    exchange = FakeExchange({BASE: base_balance, QUOTE: quote_balance}, schema=schema)
    candidates = [OrderCandidate(PAIR, True, OrderType.LIMIT, side, a, p) for side, a, p in orders]
    results = BudgetChecker(exchange).adjust_candidates(candidates, all_or_none=all_or_none)
    spent = {BASE: D(0), QUOTE: D(0)}
    for original, result in zip(candidates, results, strict=True):
        for token, amount in result.collateral_dict.items():
            spent[token] += amount
        assert result.amount <= original.amount
        if all_or_none:
            assert result.amount in (D(0), original.amount)
        assert result.amount == exchange.quantize_order_amount(PAIR, result.amount)
    assert spent[BASE] <= base_balance
    assert spent[QUOTE] <= quote_balance
