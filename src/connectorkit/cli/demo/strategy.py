"""The demo's scripted strategy, written against the public connector API only.

Steps (each logged to the journal). ``interrupt`` (Ctrl-C) skips the steps not yet started;
``deadline`` (the demo's duration) only ends the open-ended parts: the wait for a funding payment
and the requoting, so even a short run goes through every step once.

1. spot: a post-only (LIMIT_MAKER) bid and ask around the mid, sized by the connector's
   :class:`~connectorkit.core.budget_checker.BudgetChecker` (fees included);
2. spot: take liquidity once (a small MARKET buy);
3. spot: cancel the bid and the ask (or see that the market filled them meanwhile);
4. perpetual: set the leverage, open a long with a MARKET order, hold it until a funding payment
   arrives (the demo's funding interval is seconds) or the deadline, then close it;
5. perpetual: change the leverage again;
6. until the deadline: keep requoting a post-only bid and ask on both markets every few seconds.

When the demo stops, :meth:`ScriptedStrategy.close_position` closes whatever position the
requoted orders' fills left, so the run ends flat on the perpetual. The simulated book is thin: a
closing MARKET order can run out of levels and expire with part of the position still open, so
closing goes on with a new reduce-only order for what is left, priced by the book of the moment,
until flat, or fails with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from connectorkit.core.enums import OrderType, PositionAction, TradeType
from connectorkit.core.events import (
    FundingPaymentCompletedEvent,
    MarketEvent,
    OrderExpiredEvent,
    OrderFailureEvent,
)
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate

logger = logging.getLogger(__name__)

Note = Callable[[str], None]


class StepTimeout(RuntimeError):
    """A step did not complete in time (reported in the summary, the demo goes on)."""


@dataclass(frozen=True, slots=True)
class StrategyParams:
    pair: str = "BTC-USDT"
    spot_amount: Decimal = Decimal("0.002")
    take_amount: Decimal = Decimal("0.001")
    perp_amount: Decimal = Decimal("0.01")
    spread: Decimal = Decimal("0.001")
    """Distance of the post-only quotes from the mid (fraction of the mid)."""
    leverage: int = 5
    second_leverage: int = 3
    funding_wait: float = 8.0
    """Longest hold of the perpetual position while waiting for a funding payment (seconds)."""
    requote_every: float = 2.0
    step_timeout: float = 10.0
    close_attempts: int = 20
    """Most reduce-only orders :meth:`ScriptedStrategy.close_position` places before giving up."""
    close_timeout: float = 30.0
    """Longest time closing may take, all attempts together (seconds)."""
    position_settle: float = 2.0
    """Longest wait for the position to show a closing order's fills (the user stream reports the
    order and the position in separate events)."""


@dataclass
class StrategyReport:
    completed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def quote_prices(mid: Decimal, spread: Decimal, tick: Decimal) -> tuple[Decimal, Decimal]:
    """Bid floored and ask ceiled to the tick, ``spread`` away from ``mid`` on each side."""
    bid = (mid * (1 - spread) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    ask = (mid * (1 + spread) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    return bid, ask


class ScriptedStrategy:
    def __init__(self, spot: Any, perp: Any, note: Note, params: StrategyParams | None = None) -> None:
        self.spot = spot
        self.perp = perp
        self.note = note
        self.params = params or StrategyParams()
        self.report = StrategyReport()
        self.funding_payments = 0
        self._quotes: list[tuple[Any, str]] = []
        self._failures: dict[str, str] = {}
        self._expired: set[str] = set()
        perp.add_listener(MarketEvent.FundingPaymentCompleted, self._on_funding_payment)
        perp.add_listener(MarketEvent.OrderFailure, self._on_order_failure)
        perp.add_listener(MarketEvent.OrderExpired, self._on_order_expired)

    def _on_funding_payment(self, event: FundingPaymentCompletedEvent) -> None:
        self.funding_payments += 1

    def _on_order_failure(self, event: OrderFailureEvent) -> None:
        self._failures[event.order_id] = event.error_message

    def _on_order_expired(self, event: OrderExpiredEvent) -> None:
        self._expired.add(event.order_id)

    # ------------------------------------------------------------------ the script
    async def run(self, interrupt: asyncio.Event, deadline: asyncio.Event) -> StrategyReport:
        steps = (
            ("post-only bid and ask (budget-checked)", self._post_only_quotes),
            ("take liquidity once", self._take_once),
            ("cancel the quotes", self._cancel_quotes),
            ("open, hold and close a perpetual position", self._perpetual_round_trip),
            ("change leverage", self._change_leverage),
        )
        self._deadline = deadline
        for name, step in steps:
            if interrupt.is_set():
                return self.report
            self.note(f"step: {name}")
            try:
                await step(interrupt)
            except (StepTimeout, ValueError) as exc:
                self.report.problems.append(f"{name}: {exc}")
                self.note(f"step failed: {name}: {exc}")
                continue
            self.report.completed.append(name)
        await self._requote_until(interrupt)
        return self.report

    def _over(self, interrupt: asyncio.Event) -> Callable[[], bool]:
        return lambda: interrupt.is_set() or self._deadline.is_set()

    # ------------------------------------------------------------------ steps
    async def _post_only_quotes(self, interrupt: asyncio.Event) -> None:
        p = self.params
        await self._wait(lambda: self.spot.get_mid_price(p.pair).is_finite(), "a spot mid price")
        self._quotes = [(self.spot, oid) for oid in self._place_post_only(self.spot, p.spot_amount)]
        await self._wait(
            lambda: all(self._settled_or_open(c, o) for c, o in self._quotes), "quotes open"
        )

    async def _take_once(self, interrupt: asyncio.Event) -> None:
        p = self.params
        candidate = self.spot.budget_checker.adjust_candidate(OrderCandidate(
            p.pair, False, OrderType.MARKET, TradeType.BUY, p.take_amount, self.spot.get_price(p.pair, True)
        ))
        if candidate.amount <= 0:
            raise ValueError("the budget checker refused the market buy (balance too low)")
        order_id = self.spot.buy(p.pair, candidate.amount, OrderType.MARKET)
        await self._wait(lambda: self._is_done(self.spot, order_id), "the market buy to fill")

    async def _cancel_quotes(self, interrupt: asyncio.Event) -> None:
        await self._cancel(self._quotes)
        self._quotes = []

    async def _perpetual_round_trip(self, interrupt: asyncio.Event) -> None:
        p = self.params
        if not await self.perp.set_leverage_async(p.pair, p.leverage):
            raise ValueError(f"the exchange refused leverage {p.leverage}")
        self.note(f"perp leverage of {p.pair} set to {p.leverage}")
        candidate = self.perp.budget_checker.adjust_candidate(PerpetualOrderCandidate(
            p.pair, False, OrderType.MARKET, TradeType.BUY, p.perp_amount, self.perp.get_price(p.pair, True),
            leverage=Decimal(p.leverage),
        ))
        if candidate.amount <= 0:
            raise ValueError("the budget checker refused the perpetual position (margin too low)")
        opened = self.perp.buy(
            p.pair, candidate.amount, OrderType.MARKET, position_action=PositionAction.OPEN
        )
        await self._wait(lambda: self._is_done(self.perp, opened), "the opening order to fill")
        await self._wait(lambda: self.perp.get_position(p.pair) is not None, "the position to show")
        amount = self.perp.get_position(p.pair).amount
        self.note(f"perp holding {amount} {p.pair}; waiting for a funding payment")
        payments = self.funding_payments
        over = self._over(interrupt)
        await self._sleep_until(lambda: self.funding_payments > payments or over(), p.funding_wait)
        await self.close_position()

    async def close_position(self) -> None:
        """Close the perpetual position, if any, with reduce-only (CLOSE) MARKET orders until flat.

        Each order is for what is still open and takes the book as it is then; when one ends with
        part of the position left (the book ran out and the exchange expired the rest, or it was
        rejected), the next waits for the opposite side of the book to have a level again.
        StepTimeout, naming the last order's outcome, after ``close_attempts`` orders or
        ``close_timeout`` seconds. Also run when the demo stops: fills of the requoted post-only
        orders may have left a position.
        """
        p = self.params
        loop = asyncio.get_running_loop()
        give_up = loop.time() + p.close_timeout
        attempts = 0
        outcome = "no closing order placed"
        while (amount := self._position_amount()) != 0:
            if attempts >= p.close_attempts or loop.time() > give_up:
                raise StepTimeout(f"the {amount} {p.pair} position is still open after {attempts} "
                                  f"closing orders (last: {outcome})")
            if not await self._wait_for_liquidity(amount < 0, give_up):
                side = "asks" if amount < 0 else "bids"
                raise StepTimeout(f"the {amount} {p.pair} position is still open: no {side} in the book "
                                  f"to close it against (after {attempts} closing orders, last: {outcome})")
            attempts += 1
            self.note(f"perp closing the {amount} {p.pair} position"
                      + (f" (attempt {attempts}; last: {outcome})" if attempts > 1 else ""))
            outcome = await self._close_once(amount)

    async def _close_once(self, amount: Decimal) -> str:
        """One reduce-only MARKET order against the ``amount`` position; how it ended.

        Returns once the position shows the order's fills and the book has moved on from the
        state the order was placed in (the sweep's depth update), so that the next attempt does
        not take a level the order already consumed for liquidity."""
        p = self.params
        book = self.perp.get_order_book(p.pair)
        placed_at = book.last_diff_uid
        place = self.perp.buy if amount < 0 else self.perp.sell
        order_id = place(p.pair, abs(amount), OrderType.MARKET, position_action=PositionAction.CLOSE)
        await self._wait(lambda: self._is_done(self.perp, order_id), "the closing order to end")
        order = self.perp.order_tracker.fetch_order(client_order_id=order_id)
        left = abs(amount) - order.executed_amount_base
        await self._sleep_until(
            lambda: abs(self._position_amount()) <= left and book.last_diff_uid > placed_at,
            p.position_settle,
        )
        return self._outcome(order_id, order, abs(amount))

    def _position_amount(self) -> Decimal:
        position = self.perp.get_position(self.params.pair)
        return Decimal(0) if position is None else position.amount

    def _outcome(self, order_id: str, order: Any, amount: Decimal) -> str:
        """How a closing order ended, for the next attempt's line and the final failure."""
        failure = self._failures.get(order_id)
        if failure is not None:
            return f"rejected: {failure}"
        state = "expired" if order_id in self._expired else order.current_state.name.lower()
        return f"{state}, {order.executed_amount_base.normalize():f} of {amount.normalize():f} filled"

    async def _wait_for_liquidity(self, closing_buy: bool, give_up: float) -> bool:
        """Whether the side a closing order takes from has a level before ``give_up``."""
        book = self.perp.get_order_book(self.params.pair)
        loop = asyncio.get_running_loop()
        while not (book.best_ask if closing_buy else book.best_bid).is_finite():
            if loop.time() > give_up:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _change_leverage(self, interrupt: asyncio.Event) -> None:
        p = self.params
        if not await self.perp.set_leverage_async(p.pair, p.second_leverage):
            raise ValueError(f"the exchange refused leverage {p.second_leverage}")
        self.note(f"perp leverage of {p.pair} changed to {self.perp.get_leverage(p.pair)}")

    async def _requote_until(self, interrupt: asyncio.Event) -> None:
        """Keep a fresh post-only bid and ask on both markets until the deadline or Ctrl-C."""
        p = self.params
        over = self._over(interrupt)
        while not over():
            quotes = [(self.spot, oid) for oid in self._place_post_only(self.spot, p.spot_amount)]
            quotes += [(self.perp, oid) for oid in self._place_post_only(self.perp, p.perp_amount)]
            self._quotes = quotes
            await self._sleep_until(over, p.requote_every)
            try:
                await self._cancel(quotes)
            except StepTimeout as exc:
                self.report.problems.append(f"requote: {exc}")
            self._quotes = []

    # ------------------------------------------------------------------ helpers
    def _place_post_only(self, connector: Any, amount: Decimal) -> list[str]:
        """Place a LIMIT_MAKER bid and ask that the budget checker accepts; returns their ids."""
        p = self.params
        mid = connector.get_mid_price(p.pair)
        rule = connector.trading_rules.get(p.pair)
        if not mid.is_finite() or rule is None:
            return []
        bid, ask = quote_prices(mid, p.spread, rule.min_price_increment)
        is_perp = connector is self.perp
        candidates: list[OrderCandidate] = []
        for side, price in ((TradeType.BUY, bid), (TradeType.SELL, ask)):
            if is_perp:
                candidates.append(PerpetualOrderCandidate(
                    p.pair, True, OrderType.LIMIT_MAKER, side, amount, price,
                    leverage=Decimal(connector.get_leverage(p.pair)),
                ))
            else:
                candidates.append(OrderCandidate(p.pair, True, OrderType.LIMIT_MAKER, side, amount, price))
        accepted = connector.budget_checker.adjust_candidates(candidates, all_or_none=True)
        ids = []
        for candidate in accepted:
            if candidate.amount <= 0:
                self.note(f"budget checker refused {candidate.order_side.name} {amount} @ {candidate.price}")
                continue
            extra = {"position_action": PositionAction.OPEN} if is_perp else {}
            place = connector.buy if candidate.order_side is TradeType.BUY else connector.sell
            ids.append(place(p.pair, candidate.amount, OrderType.LIMIT_MAKER, candidate.price, **extra))
        return ids

    async def _cancel(self, quotes: list[tuple[Any, str]]) -> None:
        for connector, order_id in quotes:
            order = connector.order_tracker.fetch_order(client_order_id=order_id)
            if order is not None and not order.is_done:
                connector.cancel(self.params.pair, order_id)
        await self._wait(lambda: all(self._is_done(c, o) for c, o in quotes), "the cancellations")

    @staticmethod
    def _is_done(connector: Any, order_id: str) -> bool:
        """False until the order is tracked (placement runs in the background) and final."""
        order = connector.order_tracker.fetch_order(client_order_id=order_id)
        return order is not None and order.is_done

    @staticmethod
    def _settled_or_open(connector: Any, order_id: str) -> bool:
        order = connector.order_tracker.fetch_order(client_order_id=order_id)
        return order is not None and (order.is_done or not order.is_pending_create)

    async def _wait(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait for ``predicate`` (an order to fill, a position to show); StepTimeout after
        ``step_timeout``. Not cut short by Ctrl-C: a step that started finishes, so an opened
        position is always closed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.params.step_timeout
        while not predicate():
            if loop.time() > deadline:
                raise StepTimeout(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    @staticmethod
    async def _sleep_until(predicate: Callable[[], bool], seconds: float) -> None:
        """Up to ``seconds``, until ``predicate`` (connector state has no event to wait on: poll)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline and not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
