"""Market events that connectors publish to listeners, and the small pub/sub that carries them.

A connector (through its :class:`~connectorkit.connector.client_order_tracker.ClientOrderTracker`,
its balance and position updaters) calls ``trigger_event(MarketEvent.X, XEvent(...))``; strategies,
the journal and the CLI subscribe with :meth:`EventPublisher.add_listener`.

Every payload is a frozen dataclass: an event is a fact that happened, listeners must not be able
to change what the next listener sees.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

from connectorkit.core.enums import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from connectorkit.core.trade_fee import TradeFeeBase

logger = logging.getLogger(__name__)


class MarketEvent(Enum):
    """What happened. Values are only identifiers for this process; they are never persisted."""

    ReceivedAsset = 1
    BuyOrderCompleted = 2
    SellOrderCompleted = 3
    OrderCancelled = 4
    OrderFilled = 5
    OrderExpired = 6
    OrderFailure = 7
    BuyOrderCreated = 8
    SellOrderCreated = 9
    FundingPaymentCompleted = 10
    FundingInfo = 11
    PositionModeChangeSucceeded = 12
    PositionModeChangeFailed = 13
    BalanceUpdate = 14
    PositionUpdate = 15


# ---------------------------------------------------------------------------------------------
# Order lifecycle events. ``timestamp`` is in seconds (float) on the connector's clock, except for
# OrderFilledEvent whose timestamp is the exchange's fill time.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderCreatedEvent:
    """The exchange accepted an order. Use the Buy/Sell subclasses; ``trade_type`` tells which."""

    trade_type: ClassVar[TradeType]

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str
    order_type: OrderType
    amount: Decimal
    price: Decimal | None
    creation_timestamp: float
    leverage: int = 1
    position: PositionAction = PositionAction.NIL


@dataclass(frozen=True, slots=True)
class BuyOrderCreatedEvent(OrderCreatedEvent):
    trade_type: ClassVar[TradeType] = TradeType.BUY


@dataclass(frozen=True, slots=True)
class SellOrderCreatedEvent(OrderCreatedEvent):
    trade_type: ClassVar[TradeType] = TradeType.SELL


@dataclass(frozen=True, slots=True)
class OrderFilledEvent:
    """One trade (fill) of an order; emitted exactly once per exchange trade id."""

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    price: Decimal
    amount: Decimal
    trade_fee: TradeFeeBase
    exchange_trade_id: str
    leverage: int = 1
    position: PositionAction = PositionAction.NIL
    is_taker: bool = True


@dataclass(frozen=True, slots=True)
class OrderCompletedEvent:
    """An order is completely filled. Amounts are the order's cumulative executed amounts."""

    trade_type: ClassVar[TradeType]

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str
    base_asset: str
    quote_asset: str
    base_asset_amount: Decimal
    quote_asset_amount: Decimal
    order_type: OrderType


@dataclass(frozen=True, slots=True)
class BuyOrderCompletedEvent(OrderCompletedEvent):
    trade_type: ClassVar[TradeType] = TradeType.BUY


@dataclass(frozen=True, slots=True)
class SellOrderCompletedEvent(OrderCompletedEvent):
    trade_type: ClassVar[TradeType] = TradeType.SELL


@dataclass(frozen=True, slots=True)
class OrderCancelledEvent:
    """The order was cancelled on the exchange (by us or by the exchange)."""

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str


@dataclass(frozen=True, slots=True)
class OrderExpiredEvent:
    """The exchange expired the order (time in force ran out, e.g. an unfilled IOC/GTX order)."""

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str


@dataclass(frozen=True, slots=True)
class OrderFailureEvent:
    """The order failed: rejected by the exchange, or lost (the exchange repeatedly did not know it)."""

    timestamp: float
    order_id: str
    exchange_order_id: str | None
    trading_pair: str
    order_type: OrderType
    error_type: str
    error_message: str


# ---------------------------------------------------------------------------------------------
# Account and perpetual events.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceivedAssetEvent:
    """An asset arrived in the account from outside trading (a deposit or transfer)."""

    timestamp: float
    asset_name: str
    amount_received: Decimal
    from_address: str = ""
    to_address: str = ""


@dataclass(frozen=True, slots=True)
class FundingPaymentCompletedEvent:
    """A funding payment was settled. ``amount`` is signed: positive means the account received it."""

    timestamp: float
    trading_pair: str
    amount: Decimal
    funding_rate: Decimal


@dataclass(frozen=True, slots=True)
class FundingInfoEvent:
    """New funding information for a perpetual pair (``next_funding_utc_timestamp`` in seconds)."""

    timestamp: float
    trading_pair: str
    index_price: Decimal
    mark_price: Decimal
    next_funding_utc_timestamp: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class PositionModeChangeEvent:
    """Payload of both PositionModeChangeSucceeded and PositionModeChangeFailed."""

    timestamp: float
    trading_pair: str
    position_mode: PositionMode
    message: str = ""


@dataclass(frozen=True, slots=True)
class BalanceUpdateEvent:
    """The total and available balance of one asset changed."""

    timestamp: float
    asset_name: str
    total_balance: Decimal
    available_balance: Decimal


@dataclass(frozen=True, slots=True)
class PositionUpdateEvent:
    """A perpetual position changed. ``amount`` is signed (negative for short exposure)."""

    timestamp: float
    trading_pair: str
    position_side: PositionSide
    unrealized_pnl: Decimal
    entry_price: Decimal
    amount: Decimal
    leverage: Decimal


# ---------------------------------------------------------------------------------------------
# Pub/sub.
# ---------------------------------------------------------------------------------------------

Listener = Callable[[Any], object]
"""A listener receives the event payload; its return value is ignored."""

_ListenerRef = Callable[[], Listener | None]


def _make_ref(callback: Listener) -> _ListenerRef:
    """Hold bound methods weakly, everything else strongly.

    A bound method is the usual listener (``publisher.add_listener(ev, self.on_fill)``): holding it
    weakly means a strategy that goes away is dropped instead of being kept alive by the connector.
    A plain function, lambda or callable object has no owner that could keep it alive, so a weak
    reference would die at once; those are held until :meth:`EventPublisher.remove_listener`.
    """
    if inspect.ismethod(callback):
        return weakref.WeakMethod(callback)

    def strong() -> Listener:
        return callback

    return strong


class EventPublisher:
    """Routes ``trigger_event(event, payload)`` to the callbacks registered for ``event``.

    Listeners run synchronously in registration order. A listener that raises is logged (with its
    traceback) and counted in :attr:`listener_error_count`; the remaining listeners still run and
    the caller (the order tracker, say) never sees the exception. Adding the same callback twice
    for one event registers it once. Listeners may add or remove listeners while being called; the
    change applies from the next event.
    """

    def __init__(self) -> None:
        self._listeners: dict[MarketEvent, list[_ListenerRef]] = {}
        self.listener_error_count = 0

    def add_listener(self, event: MarketEvent, callback: Listener) -> None:
        if not callable(callback):
            raise TypeError(f"listener for {event.name} must be callable, got {type(callback).__name__}")
        if callback in self.get_listeners(event):
            return
        self._listeners.setdefault(event, []).append(_make_ref(callback))

    def remove_listener(self, event: MarketEvent, callback: Listener) -> bool:
        """Unregister ``callback``; returns False if it was not registered for ``event``."""
        refs = self._listeners.get(event, [])
        for index, ref in enumerate(refs):
            if ref() == callback:
                del refs[index]
                return True
        return False

    def get_listeners(self, event: MarketEvent) -> list[Listener]:
        """The live listeners of ``event``; listeners whose owner was collected are dropped here."""
        refs = self._listeners.get(event)
        if not refs:
            return []
        live: list[Listener] = []
        alive_refs: list[_ListenerRef] = []
        for ref in refs:
            callback = ref()
            if callback is not None:
                live.append(callback)
                alive_refs.append(ref)
        if len(alive_refs) != len(refs):
            refs[:] = alive_refs
        return live

    def trigger_event(self, event: MarketEvent, payload: object) -> None:
        for callback in self.get_listeners(event):
            try:
                callback(payload)
            except Exception:
                self.listener_error_count += 1
                # The listener's qualified name, not its repr: a bound method's repr embeds its
                # owner's repr, which may carry credentials (a connector, an auth object).
                name = getattr(callback, "__qualname__", type(callback).__qualname__)
                logger.exception("listener %s for %s failed", name, event.name)
