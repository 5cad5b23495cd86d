"""ClientOrderTracker: event sequences, merging of two update paths, lost orders, persistence."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectorkit.connector.client_order_tracker import ORDER_NOT_FOUND_ERROR_TYPE, ClientOrderTracker
from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import OrderState, OrderType, TradeType
from connectorkit.core.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventPublisher,
    MarketEvent,
    OrderCancelledEvent,
    OrderFailureEvent,
    OrderFilledEvent,
    SellOrderCompletedEvent,
)
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate, TradeUpdate
from connectorkit.core.trade_fee import AddedToCostTradeFee, TokenAmount
from support.waiting import wait_until

PAIR = "COINX-USDT"
E = MarketEvent


class FakeConnector(EventPublisher):
    """The owning connector as the tracker sees it: a real EventPublisher with a settable clock."""

    def __init__(self) -> None:
        super().__init__()
        self.current_timestamp = 1000.0
        self.log: list[tuple[MarketEvent, Any]] = []
        for tag in MarketEvent:
            self.add_listener(tag, functools.partial(self._record, tag))

    def _record(self, tag: MarketEvent, payload: object) -> None:
        self.log.append((tag, payload))

    @property
    def tags(self) -> list[MarketEvent]:
        return [tag for tag, _ in self.log]


def _tracker(connector: FakeConnector, **kwargs: Any) -> ClientOrderTracker:
    kwargs.setdefault("fill_grace_period", 60.0)
    return ClientOrderTracker(connector, **kwargs)


def _order(cid: str = "c1", side: TradeType = TradeType.BUY, amount: str = "10") -> InFlightOrder:
    return InFlightOrder(cid, PAIR, OrderType.LIMIT, side, Decimal(amount), 999.0, price=Decimal("9"))


def _status(
    state: OrderState, cid: str | None = "c1", eid: str | None = "ex1", **misc: object
) -> OrderUpdate:
    return OrderUpdate(
        PAIR, 1001.0, state, client_order_id=cid, exchange_order_id=eid, misc_updates=misc or None
    )


def _trade(trade_id: str, base: str, cid: str | None = "c1", eid: str | None = "ex1") -> TradeUpdate:
    return TradeUpdate(
        trade_id, cid, eid, PAIR, 1002.0, Decimal("9"), Decimal(base), Decimal(base) * 9,
        AddedToCostTradeFee(flat_fees=[TokenAmount("USDT", "0.01")]),
    )


@pytest.fixture
def connector() -> FakeConnector:
    return FakeConnector()


@pytest.fixture
def tracker(connector: FakeConnector) -> ClientOrderTracker:
    tracker = _tracker(connector)
    tracker.start_tracking_order(_order())
    return tracker


# -- basic lifecycle -------------------------------------------------------------------------------------


def test_full_lifecycle_emits_created_fills_completed(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    assert tracker.process_order_update(_status(OrderState.OPEN))
    assert tracker.process_trade_update(_trade("t1", "4"))
    # The trade already moved the order to PARTIALLY_FILLED.
    assert tracker.process_order_update(_status(OrderState.PARTIALLY_FILLED)) is False
    assert tracker.process_trade_update(_trade("t2", "6"))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled, E.OrderFilled, E.BuyOrderCompleted]
    created = connector.log[0][1]
    assert isinstance(created, BuyOrderCreatedEvent)
    assert (created.order_id, created.exchange_order_id, created.amount) == ("c1", "ex1", Decimal(10))
    completed = connector.log[-1][1]
    assert isinstance(completed, BuyOrderCompletedEvent)
    assert (completed.base_asset, completed.quote_asset) == ("COINX", "USDT")
    assert (completed.base_asset_amount, completed.quote_asset_amount) == (Decimal(10), Decimal(90))
    assert tracker.active_orders == {}
    assert "c1" in tracker.recently_finished_orders
    assert tracker.process_order_update(_status(OrderState.FILLED)) is False
    assert len(connector.log) == 4


def test_sell_orders_emit_sell_events(connector: FakeConnector) -> None:
    tracker = _tracker(connector)
    tracker.start_tracking_order(_order(side=TradeType.SELL))
    tracker.process_trade_update(_trade("t1", "10"))
    assert connector.tags == [E.SellOrderCreated, E.OrderFilled, E.SellOrderCompleted]
    assert isinstance(connector.log[-1][1], SellOrderCompletedEvent)


def test_duplicate_fill_via_user_stream_and_rest_counts_once(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    assert tracker.process_trade_update(_trade("t1", "3")) is True
    assert tracker.process_trade_update(_trade("t1", "3", cid=None)) is False  # REST poll, exchange id only
    fills = [p for t, p in connector.log if t is E.OrderFilled]
    assert len(fills) == 1
    fill = fills[0]
    assert isinstance(fill, OrderFilledEvent)
    assert (fill.exchange_trade_id, fill.amount, fill.price) == ("t1", Decimal(3), Decimal(9))
    assert fill.timestamp == 1002.0
    assert fill.trade_fee == AddedToCostTradeFee(flat_fees=[TokenAmount("USDT", "0.01")])
    assert tracker.fetch_order("c1").executed_amount_base == Decimal(3)  # type: ignore[union-attr]


def test_fill_before_placement_answer(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    assert tracker.process_trade_update(_trade("t1", "2", eid="ex9"))
    assert tracker.process_order_update(_status(OrderState.OPEN, eid="ex9")) is False
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled]
    assert tracker.fetch_order(exchange_order_id="ex9") is tracker.fetch_order("c1")
    assert tracker.fetch_order("c1").current_state is OrderState.PARTIALLY_FILLED  # type: ignore[union-attr]


def test_report_with_foreign_client_id_is_routed_by_exchange_id(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    assert tracker.process_order_update(_status(OrderState.CANCELED, cid="cancel-req-1", eid="ex1"))
    assert connector.tags == [E.BuyOrderCreated, E.OrderCancelled]
    assert connector.log[-1][1].order_id == "c1"
    assert tracker.active_orders == {}


def test_backward_and_repeated_states_are_ignored(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.PARTIALLY_FILLED))
    assert tracker.process_order_update(_status(OrderState.OPEN)) is False
    assert tracker.process_order_update(_status(OrderState.PARTIALLY_FILLED)) is False
    assert tracker.process_order_update(_status(OrderState.PENDING_CREATE)) is False
    assert connector.tags == [E.BuyOrderCreated]
    assert tracker.fetch_order("c1").current_state is OrderState.PARTIALLY_FILLED  # type: ignore[union-attr]


def test_partial_fills_then_cancel(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.process_trade_update(_trade("t1", "2"))
    tracker.process_trade_update(_trade("t2", "3"))
    tracker.process_order_update(_status(OrderState.PENDING_CANCEL))
    tracker.process_order_update(_status(OrderState.CANCELED))
    tracker.process_order_update(_status(OrderState.CANCELED))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled, E.OrderFilled, E.OrderCancelled]
    cancelled = connector.log[-1][1]
    assert isinstance(cancelled, OrderCancelledEvent)
    assert (cancelled.order_id, cancelled.exchange_order_id) == ("c1", "ex1")
    assert tracker.active_orders == {}
    order = tracker.fetch_order("c1")
    assert order is not None and order.executed_amount_base == Decimal(5) and order.is_cancelled


def test_late_fill_of_cancelled_order_still_lands(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.process_order_update(_status(OrderState.CANCELED))
    assert tracker.process_trade_update(_trade("t1", "1", cid=None))
    assert connector.tags == [E.BuyOrderCreated, E.OrderCancelled, E.OrderFilled]


def test_order_cancelled_or_expired_from_pending_create_was_never_created(connector: FakeConnector) -> None:
    """Issue 4: "created" is for leaving PENDING_CREATE for a live or filled state only."""
    tracker = _tracker(connector)
    tracker.start_tracking_order(_order())
    tracker.start_tracking_order(_order("c2"))
    tracker.process_order_update(_status(OrderState.CANCELED))
    tracker.process_order_update(_status(OrderState.CANCELED, cid="c2", eid="ex2", expired=True))
    assert connector.tags == [E.OrderCancelled, E.OrderExpired]
    assert tracker.active_orders == {}
    assert tracker.process_trade_update(_trade("t1", "1"))  # a late fill still lands, still no "created"
    assert connector.tags == [E.OrderCancelled, E.OrderExpired, E.OrderFilled]


def test_expired_order_emits_order_expired(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.process_order_update(_status(OrderState.CANCELED, expired=True))
    assert connector.tags == [E.BuyOrderCreated, E.OrderExpired]


def test_rejected_order_emits_only_failure(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    tracker.process_order_update(
        _status(OrderState.FAILED, eid=None, error_type="InsufficientBalance", error_message="-2010")
    )
    assert connector.tags == [E.OrderFailure]
    failure = connector.log[0][1]
    assert isinstance(failure, OrderFailureEvent)
    assert (failure.error_type, failure.error_message, failure.order_type) == (
        "InsufficientBalance", "-2010", OrderType.LIMIT,
    )
    assert tracker.active_orders == {} and tracker.lost_orders == {}


# -- FILLED status before its trades ------------------------------------------------------------------


async def test_filled_status_waits_for_trades(connector: FakeConnector) -> None:
    tracker = _tracker(connector, fill_grace_period=60.0)
    tracker.start_tracking_order(_order())
    tracker.process_order_update(_status(OrderState.FILLED))
    assert connector.tags == [E.BuyOrderCreated]
    assert "c1" in tracker.active_orders and "c1" in tracker.all_fillable_orders
    assert "c1" not in tracker.all_updatable_orders
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "ClientOrderTracker:fill-grace:c1" in names
    tracker.process_trade_update(_trade("t1", "4"))
    tracker.process_trade_update(_trade("t2", "6"))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled, E.OrderFilled, E.BuyOrderCompleted]
    await asyncio.sleep(0)
    assert "ClientOrderTracker:fill-grace:c1" not in {t.get_name() for t in asyncio.all_tasks()}
    assert tracker.active_orders == {}


async def test_filled_status_completes_with_what_arrived_after_grace(
    connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = _tracker(connector, fill_grace_period=0.01)
    tracker.start_tracking_order(_order())
    tracker.process_order_update(_status(OrderState.FILLED))
    tracker.process_trade_update(_trade("t1", "4"))
    with caplog.at_level(logging.WARNING):
        for _ in range(200):
            if E.BuyOrderCompleted in connector.tags:
                break
            await asyncio.sleep(0.01)
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled, E.BuyOrderCompleted]
    assert connector.log[-1][1].base_asset_amount == Decimal(4)
    assert "completing with what arrived" in caplog.text
    # The order completed short: its trades are still worth polling, and a late one lands.
    assert "c1" in tracker.all_fillable_orders and tracker.active_orders == {}
    assert tracker.process_trade_update(_trade("t2", "6"))
    assert connector.tags[-1] is E.OrderFilled
    assert "c1" not in tracker.all_fillable_orders


async def test_stop_cancels_grace_tasks(connector: FakeConnector) -> None:
    tracker = _tracker(connector, fill_grace_period=60.0)
    tracker.start_tracking_order(_order())
    tracker.process_order_update(_status(OrderState.FILLED))
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "ClientOrderTracker:fill-grace:c1")
    await tracker.stop()
    assert task.cancelled()
    assert connector.tags == [E.BuyOrderCreated]
    assert "c1" in tracker.active_orders


async def test_grace_task_that_dies_is_logged(
    connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    broken_clock = False

    def clock() -> float:
        if broken_clock:
            raise RuntimeError("clock failure")
        return 1.0

    tracker = ClientOrderTracker(connector, clock=clock, fill_grace_period=0.0)
    tracker.start_tracking_order(_order())
    tracker.process_order_update(_status(OrderState.FILLED))
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "ClientOrderTracker:fill-grace:c1")
    broken_clock = True
    with caplog.at_level(logging.ERROR, logger="connectorkit.connector.client_order_tracker"):
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    assert any(r.exc_info is not None and "clock failure" in str(r.exc_info[1]) for r in caplog.records)
    assert "fill-grace:c1" in caplog.text


def test_grace_timer_is_armed_once_a_loop_runs(connector: FakeConnector) -> None:
    tracker = _tracker(connector, fill_grace_period=0.0)
    tracker.start_tracking_order(_order())
    tracker.start_tracking_order(_order("c2"))
    tracker.process_order_update(_status(OrderState.FILLED))  # no running loop here

    async def later() -> None:
        tracker.process_order_update(_status(OrderState.OPEN, cid="c2", eid="ex2"))
        for _ in range(100):
            if E.BuyOrderCompleted in connector.tags:
                return
            await asyncio.sleep(0.01)

    asyncio.run(later())
    assert connector.tags == [E.BuyOrderCreated, E.BuyOrderCreated, E.BuyOrderCompleted]
    assert connector.log[-1][1].order_id == "c1"


# -- lost orders ------------------------------------------------------------------------------------------


def test_order_is_lost_after_limit_of_not_found(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    assert tracker.process_order_not_found("c1") is False
    assert tracker.process_order_not_found("c1") is False
    assert tracker.process_order_not_found("c1") is True
    assert connector.tags == [E.BuyOrderCreated, E.OrderFailure]
    failure = connector.log[-1][1]
    assert failure.error_type == ORDER_NOT_FOUND_ERROR_TYPE
    assert set(tracker.lost_orders) == {"c1"} and tracker.active_orders == {}
    assert "c1" in tracker.all_updatable_orders and "c1" in tracker.all_fillable_orders
    assert tracker.tracking_states["c1"]["is_lost"] is True
    assert tracker.process_order_not_found("c1") is False


def test_exchange_answer_resets_not_found_count(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_not_found("c1")
    tracker.process_order_not_found("c1")
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.process_order_not_found("c1")
    assert tracker.process_order_not_found("c1") is False
    assert tracker.lost_orders == {}
    assert tracker.process_order_not_found("c1") is True


def test_unchanged_report_also_resets_not_found_count(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    """Polling that alternates "not found" with the same OPEN status must never make the order lost:
    the OPEN answers prove the exchange knows it, although they change nothing."""
    tracker.process_order_update(_status(OrderState.OPEN))
    for _ in range(5):
        assert tracker.process_order_not_found("c1") is False
        assert tracker.process_order_update(_status(OrderState.OPEN)) is False
    tracker.process_trade_update(_trade("t1", "1"))
    for _ in range(5):
        assert tracker.process_order_not_found("c1") is False
        assert tracker.process_trade_update(_trade("t1", "1", cid=None)) is False  # repeated fill
    assert tracker.lost_orders == {} and "c1" in tracker.active_orders
    assert E.OrderFailure not in connector.tags


def test_custom_lost_order_limit(connector: FakeConnector) -> None:
    tracker = _tracker(connector, lost_order_count_limit=1)
    tracker.start_tracking_order(_order())
    assert tracker.process_order_not_found("c1") is True
    assert tracker.process_order_not_found("unknown") is False


def test_lost_order_then_late_fill_and_final_report(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    for _ in range(3):
        tracker.process_order_not_found("c1")
    assert tracker.process_order_update(_status(OrderState.OPEN)) is False  # still lost
    assert tracker.process_trade_update(_trade("t1", "4"))
    assert "c1" in tracker.lost_orders
    tracker.process_order_update(_status(OrderState.FILLED))
    # The exchange's final report ends "lost"; the order waits (active) for the missing 6.
    assert tracker.lost_orders == {} and "c1" in tracker.active_orders
    assert "c1" in tracker.all_fillable_orders and "c1" not in tracker.all_updatable_orders
    assert tracker.tracking_states["c1"]["is_lost"] is False
    tracker.process_trade_update(_trade("t2", "6", cid=None))
    assert connector.tags == [
        E.BuyOrderCreated, E.OrderFailure, E.OrderFilled, E.OrderFilled, E.BuyOrderCompleted,
    ]
    assert tracker.lost_orders == {} and tracker.active_orders == {}
    order = tracker.fetch_order("c1")
    assert order is not None and order.current_state is OrderState.FILLED and not order.is_lost


def test_lost_order_reported_cancelled_leaves_lost_set(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    for _ in range(3):
        tracker.process_order_not_found("c1")
    tracker.process_order_update(_status(OrderState.CANCELED))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFailure, E.OrderCancelled]
    assert tracker.lost_orders == {}


# -- persistence -------------------------------------------------------------------------------------------


def test_restore_mid_fill_then_continue(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    tracker.start_tracking_order(_order("c2", amount="1"))
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.process_trade_update(_trade("t1", "4"))
    for _ in range(3):
        tracker.process_order_not_found("c2")
    saved = json.loads(json.dumps(tracker.tracking_states))
    assert set(saved) == {"c1", "c2"}

    restarted = FakeConnector()
    fresh = _tracker(restarted)
    assert fresh.restore_tracking_states(saved) == 2
    assert set(fresh.active_orders) == {"c1"} and set(fresh.lost_orders) == {"c2"}
    assert fresh.tracking_states == saved
    assert fresh.process_trade_update(_trade("t1", "4", cid=None)) is False  # seen before the restart
    assert fresh.process_trade_update(_trade("t2", "6", cid=None)) is True
    assert restarted.tags == [E.OrderFilled, E.BuyOrderCompleted]
    assert restarted.log[-1][1].base_asset_amount == Decimal(10)


def test_restore_skips_malformed_and_already_tracked(
    connector: FakeConnector, tracker: ClientOrderTracker, caplog: pytest.LogCaptureFixture
) -> None:
    good = _order("c9").to_json()
    states = {
        "c9": good,
        "bad": {"client_order_id": "bad"},
        "mismatch": _order("c8").to_json(),
        "c1": _order("c1", amount="5").to_json(),
    }
    with caplog.at_level(logging.WARNING):
        assert tracker.restore_tracking_states(states) == 1
    assert tracker.restore_error_count == 2
    assert tracker.fetch_order("c1").amount == Decimal(10)  # type: ignore[union-attr]
    assert "c9" in tracker.active_orders


async def test_restored_filled_order_waits_again_for_its_trades(connector: FakeConnector) -> None:
    tracker = _tracker(connector, fill_grace_period=0.0)
    order = _order()
    order.update_with_order_update(_status(OrderState.FILLED))
    order.update_with_trade_update(_trade("t1", "3"))
    tracker.restore_tracking_states({"c1": order.to_json()})
    assert "c1" in tracker.active_orders
    for _ in range(100):
        if connector.tags:
            break
        await asyncio.sleep(0.01)
    assert connector.tags == [E.BuyOrderCompleted]
    assert connector.log[0][1].base_asset_amount == Decimal(3)


# -- lookups, retention, robustness --------------------------------------------------------------------


def test_lookups_and_unknown_updates(connector: FakeConnector, tracker: ClientOrderTracker) -> None:
    assert tracker.fetch_order() is None
    assert tracker.fetch_order("nope") is None
    tracker.process_order_update(_status(OrderState.OPEN))
    assert tracker.fetch_order(exchange_order_id="ex1") is tracker.fetch_order("c1")
    assert tracker.process_order_update(_status(OrderState.OPEN, cid="zz", eid="zz")) is False
    assert tracker.process_trade_update(_trade("t9", "1", cid=None, eid="zz")) is False
    assert tracker.unknown_update_count == 2
    with pytest.raises(ValueError, match="already tracked"):
        tracker.start_tracking_order(_order())


def test_finished_orders_are_kept_for_a_bounded_time_and_count(connector: FakeConnector) -> None:
    tracker = _tracker(connector, finished_order_retention=30.0, finished_order_max_count=2)
    for i in range(3):
        tracker.start_tracking_order(_order(f"c{i}"))
        tracker.process_order_update(_status(OrderState.CANCELED, cid=f"c{i}", eid=f"ex{i}"))
    assert set(tracker.recently_finished_orders) == {"c1", "c2"}
    assert tracker.fetch_order(exchange_order_id="ex0") is None
    connector.current_timestamp += 31.0
    assert tracker.recently_finished_orders == {}
    assert tracker.fetch_order("c2") is None
    assert tracker.process_trade_update(_trade("late", "1", cid="c2", eid="ex2")) is False


def test_stop_tracking_emits_nothing_and_keeps_late_fills(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    tracker.process_order_update(_status(OrderState.OPEN))
    tracker.stop_tracking_order("c1")
    assert tracker.active_orders == {}
    assert connector.tags == [E.BuyOrderCreated]
    assert tracker.process_trade_update(_trade("t1", "1"))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled]
    assert tracker.process_order_update(_status(OrderState.CANCELED))  # state kept, no event
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled]


def test_failing_listener_never_breaks_the_tracker(
    connector: FakeConnector, tracker: ClientOrderTracker
) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("strategy bug")

    connector.add_listener(E.BuyOrderCreated, broken)
    tracker.process_trade_update(_trade("t1", "10"))
    assert connector.tags == [E.BuyOrderCreated, E.OrderFilled, E.BuyOrderCompleted]
    assert connector.listener_error_count == 1
    assert tracker.active_orders == {}


def test_raising_owner_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def trigger_event(self, event: MarketEvent, payload: object, /) -> None:
            raise RuntimeError("owner bug")

    tracker = ClientOrderTracker(Broken(), clock=lambda: 5.0)
    tracker.start_tracking_order(_order())
    with caplog.at_level(logging.ERROR):
        tracker.process_trade_update(_trade("t1", "10"))
    assert tracker.event_error_count == 3
    assert "c1" in tracker.recently_finished_orders


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lost_order_count_limit": 0}, "lost_order_count_limit"),
        ({"lost_order_count_limit": 2.5}, "lost_order_count_limit"),
        ({"finished_order_max_count": -1}, "finished_order_max_count"),
        ({"fill_grace_period": -1.0}, "fill_grace_period"),
        ({"fill_grace_period": float("nan")}, "fill_grace_period"),
        ({"finished_order_retention": float("inf")}, "finished_order_retention"),
    ],
)
def test_bad_settings_name_the_field(connector: FakeConnector, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        ClientOrderTracker(connector, **kwargs)
    assert info.value.field == field


def test_owner_without_clock_is_rejected() -> None:
    class NoClock:
        def trigger_event(self, event: MarketEvent, payload: object, /) -> None:
            pass

    with pytest.raises(TypeError, match="clock"):
        ClientOrderTracker(NoClock())


# -- property test: random interleavings of one order's reports ---------------------------------------

_RANK = {
    OrderState.PENDING_CREATE: 0, OrderState.OPEN: 1, OrderState.PARTIALLY_FILLED: 2,
    OrderState.PENDING_CANCEL: 3, OrderState.CANCELED: 4, OrderState.FILLED: 4, OrderState.FAILED: 4,
}
_LIFECYCLE = {
    E.BuyOrderCreated, E.BuyOrderCompleted, E.OrderCancelled, E.OrderFailure, E.OrderExpired,
}


@st.composite
def _histories(draw: st.DrawFn) -> tuple[list[Any], list[Any], str | None]:
    """One exchange history of an order of 10 and its reports as a connector would receive them:
    status reports, each trade once or twice (user stream with client id, REST with exchange id
    only), shuffled; with a FILLED ending some trades may be held back until after the grace."""
    sizes = draw(st.lists(st.integers(1, 5), max_size=5))
    fills: list[int] = []
    for size in sizes:
        size = min(size, 10 - sum(fills))
        if size:
            fills.append(size)
    complete = sum(fills) == 10
    ending = "FILLED" if complete else draw(st.sampled_from(["CANCELED", None]))
    messages: list[Any] = [_status(OrderState.OPEN)]
    held_back: list[Any] = []
    done = 0
    for i, size in enumerate(fills):
        done += size
        reports = [_trade(f"t{i}", str(size))]
        if draw(st.booleans()):
            reports.append(_trade(f"t{i}", str(size), cid=None))
        if ending == "FILLED" and draw(st.integers(0, 4)) == 0:
            held_back.extend(reports)
        else:
            messages.extend(reports)
        if done < 10:
            messages.append(_status(OrderState.PARTIALLY_FILLED))
    if ending == "CANCELED" and draw(st.booleans()):
        messages.append(_status(OrderState.PENDING_CANCEL))
    if ending is not None:
        messages.append(_status(OrderState[ending]))
    return draw(st.permutations(messages)), held_back, ending


def _cancelled_before_live(messages: list[Any]) -> bool:
    """Whether CANCELED is the first report that moves the order out of PENDING_CREATE.

    A PENDING_CANCEL status cannot move it (but teaches the exchange id, as every status here
    does); a REST trade that names only the exchange id is dropped until that id is known.
    """
    exchange_id_known = False
    for message in messages:
        if isinstance(message, TradeUpdate):
            if message.client_order_id is not None or exchange_id_known:
                return False
            continue
        exchange_id_known = True
        if message.new_state is not OrderState.PENDING_CANCEL:
            return bool(message.new_state is OrderState.CANCELED)
    return False


@settings(max_examples=300, deadline=None)
@given(_histories())
def test_random_interleavings_keep_the_invariants(history: tuple[list[Any], list[Any], str | None]) -> None:
    messages, held_back, ending = history

    async def run() -> None:
        connector = FakeConnector()
        tracker = ClientOrderTracker(connector, fill_grace_period=0.0)
        tracker.start_tracking_order(_order())
        order = tracker.fetch_order("c1")
        assert order is not None

        def feed(message: Any) -> None:
            if isinstance(message, TradeUpdate):
                tracker.process_trade_update(message)
            else:
                tracker.process_order_update(message)

        ranks: list[int] = []
        for message in messages:
            before = order.current_state
            feed(message)
            assert order.executed_amount_base <= order.amount
            ranks.append(_RANK[order.current_state])
            if before.is_final:
                assert order.current_state is before  # a final state is never left
        assert ranks == sorted(ranks)

        await wait_until(  # let a FILLED-without-all-trades order time out (grace period 0)
            lambda: "c1" not in tracker.active_orders or order.current_state is not OrderState.FILLED,
            5, "a filled order short of trades to complete",
        )
        for message in held_back:
            feed(message)

        tags = connector.tags
        delivered = {m.trade_id for m in messages + held_back if isinstance(m, TradeUpdate)}
        fill_ids = [p.exchange_trade_id for t, p in connector.log if t is E.OrderFilled]
        assert sorted(fill_ids) == sorted(delivered)  # one OrderFilled per trade id
        lifecycle = [t for t in tags if t in _LIFECYCLE]
        assert len(lifecycle) == len(set(lifecycle))  # at most one of each transition
        created = [] if _cancelled_before_live(messages) else [E.BuyOrderCreated]
        assert tags[: len(created)] == created
        if ending == "FILLED":
            assert lifecycle == [E.BuyOrderCreated, E.BuyOrderCompleted]
            assert order.current_state is OrderState.FILLED
            if not held_back:
                assert tags[-1] is E.BuyOrderCompleted  # every fill came before completion
                assert connector.log[-1][1].base_asset_amount == Decimal(10)
        elif ending == "CANCELED":
            assert lifecycle == [*created, E.OrderCancelled]
            assert order.current_state is OrderState.CANCELED
        else:
            assert lifecycle == [E.BuyOrderCreated]
            assert "c1" in tracker.active_orders
        first_copies = [m for m in messages + held_back if isinstance(m, TradeUpdate) and m.client_order_id]
        assert order.executed_amount_base == sum((m.fill_base_amount for m in first_copies), Decimal(0))

        # A final state is stable: replaying every report changes nothing and emits nothing.
        state, count = order.current_state, len(connector.log)
        for message in messages + held_back:
            feed(message)
        if ending is not None:
            assert order.current_state is state
        assert len(connector.log) == count
        await tracker.stop()

    asyncio.run(run())
