"""Order candidates: the full balance impact of an order before it is placed.

A candidate knows what an order would lock (its collateral, the percent fee paid on top of it and
any fixed fees) and what it would return, and can shrink itself to fit the balances available.
Use :class:`~connectorkit.core.budget_checker.BudgetChecker` to size orders: it works on copies
and keeps track of what earlier orders in the same round have already locked.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import TYPE_CHECKING, Self

from connectorkit.core.decimal_utils import InvalidFieldError, require_bool, split_trading_pair, to_decimal
from connectorkit.core.enums import OrderType, PositionAction, TradeType
from connectorkit.core.trade_fee import (
    FeeImpactCandidate,
    TokenAmount,
    TradeFeeBase,
    build_perpetual_trade_fee,
    build_trade_fee,
)

if TYPE_CHECKING:
    from connectorkit.core.budget_checker import BudgetExchange

__all__ = ["OrderCandidate", "PerpetualOrderCandidate"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _FeeView:
    """What a fee is shown of an order when that differs from the candidate itself (perpetuals)."""

    trading_pair: str
    order_side: TradeType
    amount: Decimal
    price: Decimal
    order_collateral: TokenAmount | None
    potential_returns: TokenAmount | None


@dataclass
class OrderCandidate:
    """A spot order being sized: BUY locks quote ``amount * price``, SELL locks base ``amount``.

    The computed fields are empty until :meth:`populate_collateral_entries` runs:

    * ``order_collateral``: what the order itself spends;
    * ``percent_fee_collateral``: the percent fee paid on top (AddedToCost fees only);
    * ``percent_fee_value``: the percent fee whichever way it is paid (on top or out of returns);
    * ``fixed_fee_collaterals``: the flat fees;
    * ``potential_returns``: what the order yields, net of a DeductedFromReturns fee;
    * ``resized``: set once the order has been scaled down.
    """

    trading_pair: str
    is_maker: bool
    order_type: OrderType
    order_side: TradeType
    amount: Decimal
    price: Decimal
    from_total_balances: bool = False
    order_collateral: TokenAmount | None = field(default=None, init=False)
    percent_fee_collateral: TokenAmount | None = field(default=None, init=False)
    percent_fee_value: TokenAmount | None = field(default=None, init=False)
    fixed_fee_collaterals: list[TokenAmount] = field(default_factory=list, init=False)
    potential_returns: TokenAmount | None = field(default=None, init=False)
    resized: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        split_trading_pair(self.trading_pair)
        require_bool(self.is_maker, "is_maker")
        require_bool(self.from_total_balances, "from_total_balances")
        if not isinstance(self.order_type, OrderType):
            raise InvalidFieldError("order_type", f"unknown order type {self.order_type!r}")
        if not isinstance(self.order_side, TradeType):
            raise InvalidFieldError("order_side", f"unknown trade type {self.order_side!r}")
        self.amount = to_decimal(self.amount, "amount")
        self.price = to_decimal(self.price, "price")

    # -- views -------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return split_trading_pair(self.trading_pair)[0]

    @property
    def quote(self) -> str:
        return split_trading_pair(self.trading_pair)[1]

    @property
    def is_zero_order(self) -> bool:
        return self.amount == 0

    @property
    def collateral_dict(self) -> dict[str, Decimal]:
        """Everything the order locks, summed per token."""
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        if self.order_collateral is not None:
            totals[self.order_collateral.token] += self.order_collateral.amount
        if self.percent_fee_collateral is not None:
            totals[self.percent_fee_collateral.token] += self.percent_fee_collateral.amount
        for fee in self.fixed_fee_collaterals:
            totals[fee.token] += fee.amount
        return dict(totals)

    def copy(self) -> Self:
        """An independent copy (entries included) that can be populated or scaled separately."""
        clone = copy.copy(self)
        clone.fixed_fee_collaterals = list(self.fixed_fee_collaterals)
        return clone

    # -- populating --------------------------------------------------------------------------

    def populate_collateral_entries(self, exchange: BudgetExchange) -> None:
        """Compute every entry for the current amount and price from the exchange's fee schema.

        A zero order locks and returns nothing. ``resized`` is left as it is.
        """
        if self.is_zero_order:
            self._clear_entries()
            return
        if self.price == 0:
            raise InvalidFieldError("price", "must be positive to value a non-zero order")
        fee = self._build_fee(exchange)
        self.order_collateral = self._compute_order_collateral(exchange)
        gross_returns = self._compute_gross_returns(exchange)
        self.potential_returns = gross_returns
        view = self._fee_view(exchange)
        cost_impact = fee.get_fee_impact_on_order_cost(view, exchange)
        returns_impact = fee.get_fee_impact_on_order_returns(view, exchange)
        self.percent_fee_collateral = cost_impact if self._locks_percent_fee else None
        self.fixed_fee_collaterals = list(fee.flat_fees)
        if gross_returns is not None and returns_impact is not None and returns_impact != 0:
            self.potential_returns = TokenAmount(gross_returns.token, gross_returns.amount - returns_impact)
            self.percent_fee_value = TokenAmount(gross_returns.token, returns_impact)
        else:
            self.percent_fee_value = cost_impact

    def _build_fee(self, exchange: BudgetExchange) -> TradeFeeBase:
        schema = exchange.trade_fee_schema_for(self.trading_pair)
        return build_trade_fee(schema, self.is_maker, self.order_side)

    def _compute_order_collateral(self, exchange: BudgetExchange) -> TokenAmount | None:
        if self.order_side is TradeType.BUY:
            return TokenAmount(self.quote, self.amount * self.price)
        return TokenAmount(self.base, self.amount)

    def _compute_gross_returns(self, exchange: BudgetExchange) -> TokenAmount | None:
        if self.order_side is TradeType.BUY:
            return TokenAmount(self.base, self.amount)
        return TokenAmount(self.quote, self.amount * self.price)

    def _fee_view(self, exchange: BudgetExchange) -> FeeImpactCandidate:
        return self

    @property
    def _locks_percent_fee(self) -> bool:
        return True

    # -- sizing ------------------------------------------------------------------------------

    def adjust_from_balances(self, available: Mapping[str, Decimal]) -> None:
        """Scale the order down, once, to the largest amount whose locks fit in ``available``.

        Fixed fees come first: they do not shrink with the order, so a token whose balance cannot
        pay its fixed fees zeroes the order, and what they take is set aside before anything else.
        The proportional part (order collateral plus an on-top percent fee, per token, both
        linear in the amount) must then fit in what is left of each token; the order is scaled by
        the smallest ``room / need`` ratio over the tokens, in one step. A token missing from
        ``available`` (or with a negative value) has nothing. Scaling rounds toward zero so the
        result never exceeds what is available.

        One exact ratio matters: scaling in several steps with rounding in between (order first,
        then fee, then fixed fees) can end a hair below the largest affordable amount, which a
        size step then floors to one step less, or to zero.
        """
        if self.is_zero_order:
            return
        fixed = self._fixed_fee_totals()
        if any(_available(available, token) < amount for token, amount in fixed.items()):
            self.set_to_zero()
            return
        ratio: tuple[Decimal, Decimal] | None = None  # (room, need) of the tightest token
        for token, need in self._proportional_totals().items():
            room = _available(available, token) - fixed.get(token, _ZERO)
            if need <= room:
                continue
            if ratio is None or room * ratio[1] < ratio[0] * need:
                ratio = (room, need)
        if ratio is not None:
            self._scale(*ratio)

    def _fixed_fee_totals(self) -> dict[str, Decimal]:
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for fee in self.fixed_fee_collaterals:
            totals[fee.token] += fee.amount
        return dict(totals)

    def _proportional_totals(self) -> dict[str, Decimal]:
        """What the order locks in proportion to its amount, per token."""
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for entry in (self.order_collateral, self.percent_fee_collateral):
            if entry is not None:
                totals[entry.token] += entry.amount
        return dict(totals)

    def set_to_zero(self) -> None:
        """Make this an order of nothing: amount 0, no entries, marked resized."""
        self.amount = _ZERO
        self._clear_entries()
        self.resized = True

    def _clear_entries(self) -> None:
        self.order_collateral = None
        self.percent_fee_collateral = None
        self.percent_fee_value = None
        self.fixed_fee_collaterals = []
        self.potential_returns = None

    def _scale(self, numerator: Decimal, denominator: Decimal) -> None:
        """Multiply the order by ``numerator / denominator`` (< 1; a numerator <= 0 zeroes it),
        rounding toward zero.

        Amount, collaterals, the percent-fee value and returns scale; fixed fees do not. Run in
        a floor-rounding context, so a part scaled to fit ``numerator`` never exceeds it.
        """
        with localcontext() as ctx:
            ctx.rounding = ROUND_FLOOR
            amount = self.amount * numerator / denominator
            if amount == 0:
                self.set_to_zero()
                return
            self.amount = amount
            self.order_collateral = _scaled(self.order_collateral, numerator, denominator)
            self.percent_fee_collateral = _scaled(self.percent_fee_collateral, numerator, denominator)
            self.percent_fee_value = _scaled(self.percent_fee_value, numerator, denominator)
            self.potential_returns = _scaled(self.potential_returns, numerator, denominator)
        self.resized = True


def _available(available: Mapping[str, Decimal], token: str) -> Decimal:
    return max(available.get(token, _ZERO), _ZERO)


def _scaled(entry: TokenAmount | None, numerator: Decimal, denominator: Decimal) -> TokenAmount | None:
    """``entry * numerator / denominator``; multiplying first keeps exact ratios exact."""
    return None if entry is None else TokenAmount(entry.token, entry.amount * numerator / denominator)


@dataclass
class PerpetualOrderCandidate(OrderCandidate):
    """An order on a perpetual market.

    Opening (``position_close=False``) locks margin: the order's notional ``amount * price``,
    expressed in the exchange's collateral token for that side, divided by ``leverage``. A
    percent fee in the collateral token is charged on the full notional, not on the margin.
    An opening order has no returns (the position is the return).

    Closing locks nothing (the position is the collateral) and returns the margin it releases,
    net of a DeductedFromReturns fee charged on the full notional.
    """

    leverage: Decimal = Decimal(1)
    position_close: bool = False

    def __post_init__(self) -> None:
        OrderCandidate.__post_init__(self)
        require_bool(self.position_close, "position_close")
        self.leverage = to_decimal(self.leverage, "leverage")
        if self.leverage == 0:
            raise InvalidFieldError("leverage", "must be positive, got 0")

    @property
    def position_action(self) -> PositionAction:
        return PositionAction.CLOSE if self.position_close else PositionAction.OPEN

    def _build_fee(self, exchange: BudgetExchange) -> TradeFeeBase:
        return build_perpetual_trade_fee(
            exchange.trade_fee_schema_for(self.trading_pair), self.is_maker, self.position_action
        )

    def _collateral_token(self, exchange: BudgetExchange) -> str:
        """The margin token of the side that opens the position (the opposite side when closing)."""
        from connectorkit.core.budget_checker import PerpetualBudgetExchange

        if not isinstance(exchange, PerpetualBudgetExchange):
            raise TypeError(
                "a perpetual candidate needs an exchange with get_buy_collateral_token and "
                "get_sell_collateral_token"
            )
        opening_side = self.order_side.opposite if self.position_close else self.order_side
        if opening_side is TradeType.BUY:
            return exchange.get_buy_collateral_token(self.trading_pair)
        return exchange.get_sell_collateral_token(self.trading_pair)

    def _notional(self, exchange: BudgetExchange) -> TokenAmount:
        """``amount * price`` in the collateral token (via the exchange's price for other tokens)."""
        token = self._collateral_token(exchange)
        quote_value = self.amount * self.price
        if token == self.quote:
            return TokenAmount(token, quote_value)
        if token == self.base:
            return TokenAmount(token, self.amount)
        pair = f"{self.quote}-{token}"
        rate = to_decimal(exchange.get_price(pair, True), f"price of {pair}")
        if rate == 0:
            raise InvalidFieldError(f"price of {pair}", "must be positive to value the margin")
        return TokenAmount(token, quote_value * rate)

    def _compute_order_collateral(self, exchange: BudgetExchange) -> TokenAmount | None:
        if self.position_close:
            return None
        notional = self._notional(exchange)
        return TokenAmount(notional.token, notional.amount / self.leverage)

    def _compute_gross_returns(self, exchange: BudgetExchange) -> TokenAmount | None:
        if not self.position_close:
            return None
        notional = self._notional(exchange)
        return TokenAmount(notional.token, notional.amount / self.leverage)

    def _fee_view(self, exchange: BudgetExchange) -> FeeImpactCandidate:
        notional = self._notional(exchange)
        return _FeeView(
            trading_pair=self.trading_pair,
            order_side=self.order_side,
            amount=self.amount,
            price=self.price,
            order_collateral=None if self.position_close else notional,
            potential_returns=notional if self.position_close else None,
        )

    @property
    def _locks_percent_fee(self) -> bool:
        return not self.position_close
