"""A minimal connector for journal unit tests: a real ClientOrderTracker and EventPublisher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from connectorkit.connector.client_order_tracker import ClientOrderTracker
from connectorkit.core.enums import OrderState, OrderType, TradeType
from connectorkit.core.events import EventPublisher, Listener, MarketEvent
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate, TradeUpdate
from connectorkit.core.trade_fee import AddedToCostTradeFee, TokenAmount

PAIR = "BTC-USDT"


class TrackerConnector:
    """What the journal sees of a connector; the order logic is the real tracker's."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._publisher = EventPublisher()
        self.order_tracker = ClientOrderTracker(self, clock=lambda: self.now, fill_grace_period=0.05)
        self.pre_send_hooks: list[Callable[[InFlightOrder], Awaitable[None]]] = []

    def add_listener(self, event: MarketEvent, listener: Listener) -> None:
        self._publisher.add_listener(event, listener)

    def remove_listener(self, event: MarketEvent, listener: Listener) -> bool:
        return self._publisher.remove_listener(event, listener)

    def trigger_event(self, event: MarketEvent, payload: Any) -> None:
        self._publisher.trigger_event(event, payload)

    def add_pre_send_hook(self, hook: Callable[[InFlightOrder], Awaitable[None]]) -> None:
        self.pre_send_hooks.append(hook)

    def remove_pre_send_hook(self, hook: Callable[[InFlightOrder], Awaitable[None]]) -> bool:
        if hook not in self.pre_send_hooks:
            return False
        self.pre_send_hooks.remove(hook)
        return True

    @property
    def in_flight_orders(self) -> dict[str, InFlightOrder]:
        return self.order_tracker.active_orders

    # -- driving the order ----------------------------------------------------------------------
    def place(self, cid: str, amount: str = "1", trade_type: TradeType = TradeType.BUY) -> InFlightOrder:
        order = InFlightOrder(cid, PAIR, OrderType.LIMIT, trade_type, Decimal(amount), self.now,
                              price=Decimal("100"))
        self.order_tracker.start_tracking_order(order)
        return order

    def status(self, cid: str, state: OrderState, eid: str = "E1") -> None:
        self.order_tracker.process_order_update(
            OrderUpdate(PAIR, self.now, state, client_order_id=cid, exchange_order_id=eid))

    def fill(self, cid: str, trade_id: str, amount: str, eid: str = "E1") -> None:
        self.order_tracker.process_trade_update(trade(cid, trade_id, amount, eid))


def trade(cid: str, trade_id: str, amount: str, eid: str = "E1") -> TradeUpdate:
    return TradeUpdate(trade_id, cid, eid, PAIR, 1001.0, Decimal("100"), Decimal(amount),
                       Decimal(amount) * 100, AddedToCostTradeFee(flat_fees=[TokenAmount("USDT", "0.01")]))
