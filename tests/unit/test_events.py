"""Events: payload dataclasses and the EventPublisher pub/sub."""

from __future__ import annotations

import dataclasses
import gc
import logging
from decimal import Decimal

import pytest

from connectorkit.core.enums import OrderType, PositionMode, TradeType
from connectorkit.core.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventPublisher,
    FundingPaymentCompletedEvent,
    MarketEvent,
    OrderCancelledEvent,
    PositionModeChangeEvent,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)


def _cancelled(order_id: str = "c1") -> OrderCancelledEvent:
    return OrderCancelledEvent(
        timestamp=1.0, order_id=order_id, exchange_order_id="9", trading_pair="BTC-USDT"
    )


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_event(self, payload: object) -> None:
        self.seen.append(payload)


def test_market_event_has_every_required_member() -> None:
    names = {
        "ReceivedAsset", "BuyOrderCompleted", "SellOrderCompleted", "OrderCancelled", "OrderFilled",
        "OrderExpired", "OrderFailure", "BuyOrderCreated", "SellOrderCreated", "FundingPaymentCompleted",
        "FundingInfo", "PositionModeChangeSucceeded", "PositionModeChangeFailed", "BalanceUpdate",
        "PositionUpdate",
    }
    assert {e.name for e in MarketEvent} == names
    assert len({e.value for e in MarketEvent}) == len(names)


def test_event_payloads_are_frozen_and_carry_their_side() -> None:
    created = BuyOrderCreatedEvent(
        timestamp=1.0, order_id="c1", exchange_order_id=None, trading_pair="BTC-USDT",
        order_type=OrderType.LIMIT, amount=Decimal("1"), price=Decimal("100"), creation_timestamp=0.5,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.amount = Decimal("2")  # type: ignore[misc]
    assert created.trade_type is TradeType.BUY
    assert SellOrderCreatedEvent.trade_type is TradeType.SELL
    assert BuyOrderCompletedEvent.trade_type is TradeType.BUY
    assert SellOrderCompletedEvent.trade_type is TradeType.SELL
    funding = FundingPaymentCompletedEvent(2.0, "BTC-USDT", Decimal("-0.5"), Decimal("0.0001"))
    assert (funding.amount, funding.funding_rate) == (Decimal("-0.5"), Decimal("0.0001"))
    mode = PositionModeChangeEvent(3.0, "BTC-USDT", PositionMode.HEDGE)
    assert mode.message == ""


def test_listener_receives_payload_only_for_its_event() -> None:
    publisher = EventPublisher()
    recorder = _Recorder()
    publisher.add_listener(MarketEvent.OrderCancelled, recorder.on_event)
    event = _cancelled()
    publisher.trigger_event(MarketEvent.OrderCancelled, event)
    publisher.trigger_event(MarketEvent.OrderFilled, "not for you")
    assert recorder.seen == [event]


def test_listeners_run_in_registration_order_and_duplicates_register_once() -> None:
    publisher = EventPublisher()
    calls: list[str] = []

    def first(_: object) -> None:
        calls.append("first")

    def second(_: object) -> None:
        calls.append("second")

    publisher.add_listener(MarketEvent.OrderCancelled, first)
    publisher.add_listener(MarketEvent.OrderCancelled, second)
    publisher.add_listener(MarketEvent.OrderCancelled, first)
    publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())
    assert calls == ["first", "second"]


def test_remove_listener() -> None:
    publisher = EventPublisher()
    recorder = _Recorder()
    publisher.add_listener(MarketEvent.OrderCancelled, recorder.on_event)
    assert publisher.remove_listener(MarketEvent.OrderCancelled, recorder.on_event) is True
    assert publisher.remove_listener(MarketEvent.OrderCancelled, recorder.on_event) is False
    publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())
    assert recorder.seen == []


def test_bound_method_listener_is_dropped_when_its_owner_is_collected() -> None:
    publisher = EventPublisher()
    recorder = _Recorder()
    publisher.add_listener(MarketEvent.OrderCancelled, recorder.on_event)
    assert len(publisher.get_listeners(MarketEvent.OrderCancelled)) == 1
    del recorder
    gc.collect()
    assert publisher.get_listeners(MarketEvent.OrderCancelled) == []
    publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())  # nothing to call, no error


def test_lambda_listener_is_held_until_removed() -> None:
    publisher = EventPublisher()
    seen: list[object] = []
    publisher.add_listener(MarketEvent.OrderCancelled, lambda payload: seen.append(payload))
    gc.collect()
    event = _cancelled()
    publisher.trigger_event(MarketEvent.OrderCancelled, event)
    assert seen == [event]


def test_failing_listener_is_logged_counted_and_others_run(caplog: pytest.LogCaptureFixture) -> None:
    publisher = EventPublisher()
    recorder = _Recorder()

    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    publisher.add_listener(MarketEvent.OrderCancelled, broken)
    publisher.add_listener(MarketEvent.OrderCancelled, recorder.on_event)
    event = _cancelled()
    with caplog.at_level(logging.ERROR, logger="connectorkit.core.events"):
        publisher.trigger_event(MarketEvent.OrderCancelled, event)
    assert recorder.seen == [event]
    assert publisher.listener_error_count == 1
    assert any(r.exc_info is not None and str(r.exc_info[1]) == "listener bug" for r in caplog.records)


def test_failing_listener_log_names_it_without_its_owners_repr(caplog: pytest.LogCaptureFixture) -> None:
    class Owner:
        def __repr__(self) -> str:
            return "Owner(api_secret='s3cr3t')"

        def on_event(self, payload: object) -> None:
            raise RuntimeError("boom")

    owner = Owner()
    publisher = EventPublisher()
    publisher.add_listener(MarketEvent.OrderCancelled, owner.on_event)
    with caplog.at_level(logging.ERROR, logger="connectorkit.core.events"):
        publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())
    assert "Owner.on_event" in caplog.text
    assert "s3cr3t" not in caplog.text


def test_listener_may_unsubscribe_itself_while_called() -> None:
    publisher = EventPublisher()
    calls: list[str] = []

    def once(_: object) -> None:
        calls.append("once")
        publisher.remove_listener(MarketEvent.OrderCancelled, once)

    def always(_: object) -> None:
        calls.append("always")

    publisher.add_listener(MarketEvent.OrderCancelled, once)
    publisher.add_listener(MarketEvent.OrderCancelled, always)
    publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())
    publisher.trigger_event(MarketEvent.OrderCancelled, _cancelled())
    assert calls == ["once", "always", "always"]


def test_non_callable_listener_is_rejected() -> None:
    with pytest.raises(TypeError, match="callable"):
        EventPublisher().add_listener(MarketEvent.OrderCancelled, 42)  # type: ignore[arg-type]
