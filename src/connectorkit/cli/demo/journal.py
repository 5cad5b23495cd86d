"""The demo's event journal: every connector event as a log line, plus the counters the summary needs.

One :class:`EventJournal` listens to every :class:`MarketEvent` of every connector it is attached to
(through the public ``add_listener`` only). Each event becomes one short line (kept in a bounded
history for the live view and handed to an optional sink, e.g. ``print`` when stdout is not a
terminal) and updates the counters: orders created / filled / cancelled / failed, the fills
themselves (for fees and PnL) and the funding payments.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectorkit.core.events import (
    BalanceUpdateEvent,
    FundingInfoEvent,
    FundingPaymentCompletedEvent,
    MarketEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailureEvent,
    OrderFilledEvent,
    PositionModeChangeEvent,
    PositionUpdateEvent,
)

LineSink = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill as the connector reported it."""

    connector: str
    event: OrderFilledEvent


@dataclass(slots=True)
class Counters:
    created: int = 0
    filled_orders: int = 0
    fills: int = 0
    cancelled: int = 0
    expired: int = 0
    failed: int = 0
    funding_payments: list[FundingPaymentCompletedEvent] = field(default_factory=list)


class EventJournal:
    """Collects events of several connectors; ``history`` lines are newest last."""

    def __init__(self, *, history: int = 200, sink: LineSink | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lines: deque[str] = deque(maxlen=history)
        self.counters = Counters()
        self.fills: list[Fill] = []
        self.trades: deque[tuple[str, str, Decimal, Decimal, bool]] = deque(maxlen=20)
        self.last_failure: str | None = None
        """Why the latest order failed (``spot [a1b2c3] exchange code -2010: ...``), for the view."""
        self._sink = sink
        self._clock = clock
        self._start = clock()
        self._listeners: list[Callable[[Any], None]] = []  # the publisher may hold them weakly

    def attach(self, label: str, connector: Any) -> None:
        """Listen to every event of ``connector``; ``label`` prefixes its lines (``spot``, ``perp``)."""
        for kind in MarketEvent:
            listener = self._listener(label, kind)
            self._listeners.append(listener)
            connector.add_listener(kind, listener)

    def note(self, text: str) -> None:
        """A line that is not a connector event (strategy steps, readiness...)."""
        self._emit(text)

    def on_market_trade(self, label: str, pair: str, price: Decimal, amount: Decimal, is_buy: bool) -> None:
        """A public trade seen on a book (for the live view; not logged as a line)."""
        self.trades.append((label, pair, price, amount, is_buy))

    # ------------------------------------------------------------------ internals
    def _listener(self, label: str, kind: MarketEvent) -> Callable[[Any], None]:
        def on_event(event: Any) -> None:
            self._count(label, event)
            text = describe(kind, event)
            if text is not None:
                self._emit(f"{label:<4} {text}")

        return on_event

    def _count(self, label: str, event: Any) -> None:
        counters = self.counters
        if isinstance(event, OrderCreatedEvent):
            counters.created += 1
        elif isinstance(event, OrderFilledEvent):
            counters.fills += 1
            self.fills.append(Fill(label, event))
        elif isinstance(event, OrderCompletedEvent):
            counters.filled_orders += 1
        elif isinstance(event, OrderCancelledEvent):
            counters.cancelled += 1
        elif isinstance(event, OrderExpiredEvent):
            counters.expired += 1
        elif isinstance(event, OrderFailureEvent):
            counters.failed += 1
            self.last_failure = f"{label} [{_short_id(event.order_id)}] {failure_reason(event)}"
        elif isinstance(event, FundingPaymentCompletedEvent):
            counters.funding_payments.append(event)

    def _emit(self, text: str) -> None:
        line = f"{self._clock() - self._start:6.2f}s {text}"
        self.lines.append(line)
        if self._sink is not None:
            self._sink(line)


def _d(value: Decimal | None) -> str:
    """A Decimal without trailing zeros or exponent (``0.00200000`` -> ``0.002``)."""
    return "-" if value is None else f"{value.normalize():f}"


def _short_id(order_id: str) -> str:
    return order_id[-6:]


def failure_reason(event: OrderFailureEvent) -> str:
    """The useful part of a failure's message: for an exchange rejection, its code and text."""
    message = event.error_message
    return message[message.index("exchange code"):] if "exchange code" in message else message


def describe(kind: MarketEvent, event: Any) -> str | None:
    """One human line for an event; None for the chatty ones the log leaves out (funding info ticks)."""
    if isinstance(event, OrderCreatedEvent):
        price = "market" if event.price is None else f"@ {_d(event.price)}"
        return (f"created  {event.trade_type.name.lower():<4} {_d(event.amount)} {event.trading_pair} "
                f"{event.order_type.name} {price} [{_short_id(event.order_id)}]")
    if isinstance(event, OrderFilledEvent):
        role = "taker" if event.is_taker else "maker"
        return (f"filled   {event.trade_type.name.lower():<4} {_d(event.amount)} {event.trading_pair} @ "
                f"{_d(event.price)} ({role}) [{_short_id(event.order_id)}]")
    if isinstance(event, OrderCompletedEvent):
        return f"complete {event.trading_pair} [{_short_id(event.order_id)}]"
    if isinstance(event, OrderCancelledEvent):
        return f"cancelled {event.trading_pair} [{_short_id(event.order_id)}]"
    if isinstance(event, OrderExpiredEvent):
        return f"expired  {event.trading_pair} [{_short_id(event.order_id)}]"
    if isinstance(event, OrderFailureEvent):
        return f"failed   {event.trading_pair} [{_short_id(event.order_id)}]: {failure_reason(event)[:70]}"
    if isinstance(event, BalanceUpdateEvent):
        return f"balance  {event.asset_name} {_d(event.total_balance)} (free {_d(event.available_balance)})"
    if isinstance(event, PositionUpdateEvent):
        return (f"position {event.trading_pair} {event.position_side.name} {_d(event.amount)} @ "
                f"{_d(event.entry_price)} x{_d(event.leverage)}")
    if isinstance(event, FundingPaymentCompletedEvent):
        return f"funding  {event.trading_pair} {_d(event.amount)} (rate {_d(event.funding_rate)})"
    if isinstance(event, PositionModeChangeEvent):
        outcome = "ok" if kind is MarketEvent.PositionModeChangeSucceeded else "failed"
        return f"mode     {event.trading_pair} {event.position_mode.name} {outcome}"
    if isinstance(event, FundingInfoEvent):
        return None
    return f"{kind.name} {event!r}"[:100]
