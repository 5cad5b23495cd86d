"""Budget checking: size order candidates to the balances an account actually has.

A checker answers "can I afford this order, fees included, given the orders I am about to place
before it?". It never changes the caller's candidate: every method works on a copy and returns
it. Collateral locked by :meth:`BudgetChecker.adjust_candidate_and_lock_available_collateral`
is subtracted from what later candidates see, until :meth:`BudgetChecker.reset_locked_collateral`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, runtime_checkable

from connectorkit.core.decimal_utils import to_decimal
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.trade_fee import TradeFeeSchema

__all__ = ["BudgetChecker", "BudgetExchange", "PerpetualBudgetChecker", "PerpetualBudgetExchange"]

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)
_NUDGE = Decimal("1e-20")
"""Relative nudge applied before flooring a scaled amount to the size step (see ``_quantize``)."""


@runtime_checkable
class BudgetExchange(Protocol):
    """What a budget checker needs from a (spot) exchange connector.

    * ``name``: the connector's name (used in log lines);
    * ``trade_fee_schema_for(trading_pair)``: the fees the account pays on that pair;
    * ``get_available_balance(token)``: free balance, not held by open orders;
    * ``get_balance(token)``: total balance (used for candidates with ``from_total_balances``);
    * ``get_price(trading_pair, is_buy)``: the price to buy (``is_buy=True``) or sell one unit of
      the pair's base, used to value a fee paid in a token that is not the order's;
    * ``quantize_order_amount(trading_pair, amount)``: ``amount`` rounded *down* to the
      exchange's order-size step.
    """

    @property
    def name(self) -> str: ...

    def trade_fee_schema_for(self, trading_pair: str) -> TradeFeeSchema: ...

    def get_available_balance(self, token: str) -> Decimal: ...

    def get_balance(self, token: str) -> Decimal: ...

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal: ...

    def quantize_order_amount(self, trading_pair: str, amount: Decimal) -> Decimal: ...


@runtime_checkable
class PerpetualBudgetExchange(BudgetExchange, Protocol):
    """A perpetual exchange also names the margin token that buys and sells lock on a pair."""

    def get_buy_collateral_token(self, trading_pair: str) -> str: ...

    def get_sell_collateral_token(self, trading_pair: str) -> str: ...


class BudgetChecker:
    """Sizes spot order candidates against the exchange's balances and this checker's locks."""

    def __init__(self, exchange: BudgetExchange) -> None:
        self._exchange = exchange
        self._locked: defaultdict[str, Decimal] = defaultdict(Decimal)

    @property
    def locked_collateral(self) -> dict[str, Decimal]:
        """A copy of the collateral locked so far, per token."""
        return {token: amount for token, amount in self._locked.items() if amount}

    def reset_locked_collateral(self) -> None:
        self._locked.clear()

    def populate_collateral_entries(self, candidate: OrderCandidate) -> OrderCandidate:
        """A copy of ``candidate`` with its collateral, fee and returns entries computed."""
        self._check_candidate(candidate)
        result = candidate.copy()
        result.populate_collateral_entries(self._exchange)
        return result

    def adjust_candidate(self, candidate: OrderCandidate, all_or_none: bool = True) -> OrderCandidate:
        """A copy of ``candidate`` that fits the available balance, fees included.

        If it had to be scaled down, ``all_or_none`` makes it a zero order; otherwise its amount
        is floored to the exchange's size step and its entries recomputed at that amount (and if
        those still do not fit, it becomes a zero order). ``resized`` on the result describes this
        adjustment only.
        """
        result = self.populate_collateral_entries(candidate)
        result.resized = False
        available = self._available_balances(result)
        result.adjust_from_balances(available)
        if result.resized:
            logger.debug(
                "%s: %s %s %s resized to %s (all_or_none=%s)",
                self._exchange.name,
                result.order_side.name,
                candidate.amount,
                result.trading_pair,
                result.amount,
                all_or_none,
            )
            if all_or_none:
                result.set_to_zero()
            else:
                result = self._quantize(result, available, candidate.amount)
        return result

    def adjust_candidate_and_lock_available_collateral(
        self, candidate: OrderCandidate, all_or_none: bool = True
    ) -> OrderCandidate:
        """:meth:`adjust_candidate`, then lock what the adjusted candidate needs."""
        result = self.adjust_candidate(candidate, all_or_none)
        self._lock(result)
        return result

    def adjust_candidates(
        self, candidates: Iterable[OrderCandidate], all_or_none: bool = True
    ) -> list[OrderCandidate]:
        """Adjust candidates in order, each seeing the balance the earlier ones left.

        Locks are reset before and after, so the call has no lasting effect on this checker.
        """
        self.reset_locked_collateral()
        try:
            return [self.adjust_candidate_and_lock_available_collateral(c, all_or_none) for c in candidates]
        finally:
            self.reset_locked_collateral()

    # -- internals ---------------------------------------------------------------------------

    def _check_candidate(self, candidate: OrderCandidate) -> None:
        if not isinstance(candidate, OrderCandidate):
            raise TypeError(f"expected an OrderCandidate, got {type(candidate).__name__}")

    def _lock(self, candidate: OrderCandidate) -> None:
        for token, amount in candidate.collateral_dict.items():
            self._locked[token] += amount

    def _available_balances(self, candidate: OrderCandidate) -> dict[str, Decimal]:
        """Per token the candidate needs: the exchange's (available or total) balance minus locks."""
        exchange = self._exchange
        read = exchange.get_balance if candidate.from_total_balances else exchange.get_available_balance
        return {
            token: to_decimal(read(token), f"balance of {token}", allow_negative=True) - self._locked[token]
            for token in candidate.collateral_dict
        }

    def _quantize(
        self, candidate: OrderCandidate, available: dict[str, Decimal], requested: Decimal
    ) -> OrderCandidate:
        """The scaled candidate floored to the size step with its entries recomputed at that amount,
        or a zero order if those do not fit.

        The scaled amount may sit a few units of the last digit below a step boundary that is in
        fact affordable (a perpetual margin ``notional / leverage`` is rounded before scaling), so
        the step reached by nudging it up by :data:`_NUDGE` (never past ``requested``) is tried
        first; the entries recomputed at the amount tried decide, so nothing unaffordable is kept.
        """
        tried: set[Decimal] = set()
        for amount in (min(requested, candidate.amount * (1 + _NUDGE)), candidate.amount):
            quantized = self._quantized(candidate, amount)
            if quantized == 0:
                break
            if quantized in tried:
                continue
            tried.add(quantized)
            trial = candidate.copy()
            trial.amount = quantized
            trial.populate_collateral_entries(self._exchange)
            if all(locked <= available.get(token, _ZERO) for token, locked in trial.collateral_dict.items()):
                return trial
        candidate.set_to_zero()
        return candidate

    def _quantized(self, candidate: OrderCandidate, amount: Decimal) -> Decimal:
        quantized = to_decimal(
            self._exchange.quantize_order_amount(candidate.trading_pair, amount), "quantized amount"
        )
        if quantized > amount:
            raise ValueError(
                f"{self._exchange.name}: quantize_order_amount rounded {amount} up to {quantized}; "
                "it must round down"
            )
        return quantized


class PerpetualBudgetChecker(BudgetChecker):
    """A budget checker for perpetual candidates; closing candidates lock nothing."""

    def __init__(self, exchange: PerpetualBudgetExchange) -> None:
        super().__init__(exchange)

    def _check_candidate(self, candidate: OrderCandidate) -> None:
        if not isinstance(candidate, PerpetualOrderCandidate):
            raise TypeError(f"expected a PerpetualOrderCandidate, got {type(candidate).__name__}")

    def _lock(self, candidate: OrderCandidate) -> None:
        if isinstance(candidate, PerpetualOrderCandidate) and candidate.position_close:
            return
        super()._lock(candidate)
