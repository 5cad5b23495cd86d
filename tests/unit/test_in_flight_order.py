"""InFlightOrder, OrderUpdate and TradeUpdate: merge rules, predicates, fees and persistence."""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal

import pytest

from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import OrderState, OrderType, PositionAction, TradeType
from connectorkit.core.in_flight_order import (
    ExchangeOrderIdUnavailableError,
    InFlightOrder,
    OrderUpdate,
    TradeUpdate,
)
from connectorkit.core.rate_source import FeeConversionError, FixedRateSource
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TokenAmount

PAIR = "COINX-USDT"


def _order(amount: str = "10", state: OrderState = OrderState.PENDING_CREATE) -> InFlightOrder:
    return InFlightOrder(
        client_order_id="c1",
        trading_pair=PAIR,
        order_type=OrderType.LIMIT,
        trade_type=TradeType.BUY,
        amount=Decimal(amount),
        creation_timestamp=100.0,
        price=Decimal("9"),
        initial_state=state,
    )


def _status(
    state: OrderState, exchange_id: str | None = "ex1", ts: float = 101.0, **kw: object
) -> OrderUpdate:
    return OrderUpdate(
        trading_pair=PAIR, update_timestamp=ts, new_state=state, client_order_id="c1",
        exchange_order_id=exchange_id, **kw,  # type: ignore[arg-type]
    )


def _trade(
    trade_id: str, base: str, price: str = "9", exchange_id: str | None = "ex1", client_id: str | None = "c1",
    fee: AddedToCostTradeFee | DeductedFromReturnsTradeFee | None = None,
) -> TradeUpdate:
    return TradeUpdate(
        trade_id=trade_id,
        client_order_id=client_id,
        exchange_order_id=exchange_id,
        trading_pair=PAIR,
        fill_timestamp=102.0,
        fill_price=Decimal(price),
        fill_base_amount=Decimal(base),
        fill_quote_amount=Decimal(price) * Decimal(base),
        fee=fee or AddedToCostTradeFee(flat_fees=[TokenAmount("USDT", "0.01")]),
    )


# -- construction --------------------------------------------------------------------------------


def test_new_order_defaults() -> None:
    order = _order()
    assert order.current_state is OrderState.PENDING_CREATE
    assert order.executed_amount_base == order.executed_amount_quote == Decimal(0)
    assert order.order_fills == {}
    assert order.last_update_timestamp == 100.0
    assert order.average_executed_price is None
    assert (order.leverage, order.position) == (1, PositionAction.NIL)
    assert order.exchange_order_id is None
    assert order.is_pending_create and order.is_open and not order.is_done
    assert (order.base_asset, order.quote_asset) == ("COINX", "USDT")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 10.0}, "amount"),
        ({"amount": Decimal(0)}, "amount"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"price": 9.5}, "price"),
        ({"trading_pair": "COINXUSDT"}, "trading_pair"),
        ({"client_order_id": ""}, "client_order_id"),
        ({"leverage": 0}, "leverage"),
    ],
)
def test_constructor_rejects_bad_input(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "client_order_id": "c1", "trading_pair": PAIR, "order_type": OrderType.LIMIT,
        "trade_type": TradeType.BUY, "amount": Decimal("1"), "creation_timestamp": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(InvalidFieldError) as err:
        InFlightOrder(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_updates_need_an_order_id_and_valid_money() -> None:
    with pytest.raises(InvalidFieldError):
        OrderUpdate(trading_pair=PAIR, update_timestamp=1.0, new_state=OrderState.OPEN)
    with pytest.raises(InvalidFieldError, match="fill_base_amount"):
        _trade("t1", "0")
    with pytest.raises(InvalidFieldError, match="fill_price"):
        TradeUpdate("t1", "c1", None, PAIR, 1.0, 9.0, Decimal(1), Decimal(9), AddedToCostTradeFee())  # type: ignore[arg-type]


def test_order_update_keeps_a_read_only_copy_of_misc_updates() -> None:
    misc: dict[str, object] = {"error_type": "Rejected"}
    update = _status(OrderState.FAILED, misc_updates=misc)
    misc["error_type"] = "changed later"
    assert update.misc_updates == {"error_type": "Rejected"}
    with pytest.raises(TypeError):
        update.misc_updates["error_type"] = "x"  # type: ignore[index]
    with pytest.raises(InvalidFieldError, match="misc_updates"):
        _status(OrderState.FAILED, misc_updates=["error_type"])


# -- order updates ----------------------------------------------------------------------------------


def test_open_update_records_exchange_id_once() -> None:
    order = _order()
    assert order.update_with_order_update(_status(OrderState.OPEN)) is True
    assert order.current_state is OrderState.OPEN
    assert order.exchange_order_id == "ex1"
    assert order.last_update_timestamp == 101.0
    assert order.update_with_order_update(_status(OrderState.OPEN, ts=105.0)) is False
    assert order.last_update_timestamp == 101.0


def test_backward_update_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.PARTIALLY_FILLED))
    with caplog.at_level(logging.DEBUG, logger="connectorkit.core.in_flight_order"):
        assert order.update_with_order_update(_status(OrderState.OPEN)) is False
    assert order.current_state is OrderState.PARTIALLY_FILLED
    assert any("only move forward" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("final", [OrderState.FILLED, OrderState.CANCELED, OrderState.FAILED])
def test_final_state_is_never_left(final: OrderState) -> None:
    order = _order()
    assert order.update_with_order_update(_status(final))
    for state in OrderState:
        assert order.update_with_order_update(_status(state)) is False
        assert order.current_state is final


def test_cancel_cannot_be_pending_before_the_exchange_knows_the_order() -> None:
    order = _order()
    assert order.update_with_order_update(_status(OrderState.PENDING_CANCEL, exchange_id=None)) is False
    assert order.current_state is OrderState.PENDING_CREATE
    order.update_with_order_update(_status(OrderState.OPEN))
    assert order.update_with_order_update(_status(OrderState.PENDING_CANCEL)) is True


def test_backward_update_still_teaches_the_exchange_id() -> None:
    order = _order()
    order.update_with_trade_update(_trade("t1", "1", exchange_id=None))
    assert order.current_state is OrderState.PARTIALLY_FILLED
    assert order.update_with_order_update(_status(OrderState.OPEN, exchange_id="ex7")) is True
    assert order.current_state is OrderState.PARTIALLY_FILLED
    assert order.exchange_order_id == "ex7"


def test_update_matching_by_ids(caplog: pytest.LogCaptureFixture) -> None:
    order = _order()
    by_exchange_id = OrderUpdate(PAIR, 101.0, OrderState.OPEN, exchange_order_id="ex1")
    assert order.update_with_order_update(by_exchange_id) is False  # exchange id not known yet
    order.update_with_order_update(_status(OrderState.OPEN))
    assert order.update_with_order_update(
        OrderUpdate(PAIR, 102.0, OrderState.PARTIALLY_FILLED, exchange_order_id="ex1")
    )
    other = OrderUpdate(PAIR, 103.0, OrderState.FILLED, client_order_id="c2")
    assert order.update_with_order_update(other) is False
    with caplog.at_level(logging.WARNING):
        assert order.update_with_order_update(_status(OrderState.FILLED, exchange_id="ex2")) is False
    assert order.current_state is OrderState.PARTIALLY_FILLED
    assert "ex2" in caplog.text
    wrong_pair = OrderUpdate("BTC-USDT", 104.0, OrderState.FILLED, client_order_id="c1")
    assert order.update_with_order_update(wrong_pair) is False


def test_update_with_other_client_id_applies_by_exchange_id() -> None:
    """The issue's rule: an update applies when its client id *or* its exchange id matches."""
    order = _order()
    foreign = OrderUpdate(PAIR, 102.0, OrderState.CANCELED, client_order_id="x1", exchange_order_id="ex1")
    assert order.update_with_order_update(foreign) is False  # our exchange id is not known yet
    order.update_with_order_update(_status(OrderState.OPEN))
    assert order.update_with_trade_update(_trade("t1", "1", client_id="x1")) is True
    assert order.update_with_order_update(foreign) is True
    assert order.current_state is OrderState.CANCELED
    assert order.executed_amount_base == Decimal(1)
    assert order.update_with_trade_update(_trade("t2", "1", client_id="c2", exchange_id="ex2")) is False


# -- trade updates ---------------------------------------------------------------------------------


def test_same_trade_from_two_paths_counts_once() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.OPEN))
    assert order.update_with_trade_update(_trade("t1", "4")) is True
    assert order.update_with_trade_update(_trade("t1", "4", client_id=None)) is False
    assert order.executed_amount_base == Decimal("4")
    assert order.executed_amount_quote == Decimal("36")
    assert list(order.order_fills) == ["t1"]
    assert order.current_state is OrderState.PARTIALLY_FILLED


def test_fill_before_placement_answer_proves_the_order_exists() -> None:
    order = _order()
    assert order.update_with_trade_update(_trade("t1", "2", exchange_id="ex9"))
    assert order.current_state is OrderState.PARTIALLY_FILLED
    assert order.exchange_order_id == "ex9"
    assert order.update_with_order_update(_status(OrderState.OPEN, exchange_id="ex9")) is False
    assert order.current_state is OrderState.PARTIALLY_FILLED


def test_fills_reaching_the_amount_fill_the_order_and_average_is_weighted() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.OPEN))
    order.update_with_trade_update(_trade("t1", "4", price="9"))
    order.update_with_trade_update(_trade("t2", "6", price="10"))
    assert order.current_state is OrderState.FILLED
    assert order.is_filled and order.is_done and not order.is_open
    assert order.average_executed_price == Decimal("96") / Decimal("10")


def test_fill_completing_a_pending_cancel_order_fills_it() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.OPEN))
    order.update_with_order_update(_status(OrderState.PENDING_CANCEL))
    order.update_with_trade_update(_trade("t1", "3"))
    assert order.current_state is OrderState.PENDING_CANCEL
    order.update_with_trade_update(_trade("t2", "7"))
    assert order.current_state is OrderState.FILLED


def test_late_fill_of_cancelled_order_counts_but_state_stays() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.CANCELED))
    assert order.update_with_trade_update(_trade("t1", "3"))
    assert order.executed_amount_base == Decimal("3")
    assert order.current_state is OrderState.CANCELED and order.is_cancelled


def test_over_fill_is_kept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    order = _order("1")
    with caplog.at_level(logging.WARNING):
        order.update_with_trade_update(_trade("t1", "1.5"))
    assert order.executed_amount_base == Decimal("1.5")
    assert order.is_filled
    assert "over-filled" in caplog.text


def test_trade_for_other_order_or_pair_is_refused() -> None:
    order = _order()
    assert order.update_with_trade_update(_trade("t1", "1", client_id="c2")) is False
    wrong_pair = TradeUpdate(
        "t2", "c1", "ex1", "BTC-USDT", 1.0, Decimal(1), Decimal(1), Decimal(1), AddedToCostTradeFee()
    )
    assert order.update_with_trade_update(wrong_pair) is False
    assert order.executed_amount_base == 0


@pytest.mark.parametrize("state", list(OrderState))
def test_predicates_for_every_state(state: OrderState) -> None:
    order = _order(state=state)
    live = state in (
        OrderState.PENDING_CREATE, OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.PENDING_CANCEL
    )
    assert order.is_open is live
    assert order.is_done is not live
    assert order.is_pending_create is (state is OrderState.PENDING_CREATE)
    assert order.is_filled is (state is OrderState.FILLED)
    assert order.is_cancelled is (state is OrderState.CANCELED)
    assert order.is_failure is (state is OrderState.FAILED)


def test_open_with_full_execution_is_never_reported_open() -> None:
    data = _order().to_json()
    fill = _trade("t1", "10")
    data.update(
        current_state=int(OrderState.OPEN), executed_amount_base="10", executed_amount_quote="90",
        order_fills={"t1": fill.to_json()},
    )
    order = InFlightOrder.from_json(data)
    assert order.current_state is OrderState.OPEN
    assert not order.is_open and order.is_done and order.is_filled


# -- lost orders -------------------------------------------------------------------------------------


def test_lost_order_may_be_corrected_by_the_exchange() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.OPEN))
    assert order.mark_lost(110.0) is True
    assert order.current_state is OrderState.FAILED and order.is_lost and order.is_failure
    assert order.update_with_order_update(_status(OrderState.OPEN)) is False
    assert order.update_with_order_update(_status(OrderState.CANCELED)) is True
    assert order.current_state is OrderState.CANCELED and not order.is_lost
    assert order.update_with_order_update(_status(OrderState.FILLED)) is False


def test_lost_order_filled_by_late_trades() -> None:
    order = _order()
    order.mark_lost(110.0)
    order.update_with_trade_update(_trade("t1", "4"))
    assert order.current_state is OrderState.FAILED
    order.update_with_trade_update(_trade("t2", "6"))
    assert order.current_state is OrderState.FILLED and not order.is_lost


def test_rejected_order_is_not_correctable() -> None:
    order = _order()
    order.update_with_order_update(_status(OrderState.FAILED, exchange_id=None))
    assert order.mark_lost(110.0) is False
    assert order.update_with_order_update(_status(OrderState.FILLED, exchange_id=None)) is False
    assert order.current_state is OrderState.FAILED


# -- fees -----------------------------------------------------------------------------------------------


def test_cumulative_fee_paid_converts_each_fill_at_its_price() -> None:
    order = _order()
    order.update_with_trade_update(_trade("t1", "4", price="9", fee=AddedToCostTradeFee(percent="0.01")))
    order.update_with_trade_update(
        _trade("t2", "6", price="10", fee=DeductedFromReturnsTradeFee(flat_fees=[("COINX", "0.06")]))
    )
    # t1: 4 * 9 * 1% = 0.36 USDT; t2: 0.06 COINX at 10 = 0.6 USDT.
    assert order.cumulative_fee_paid("USDT") == Decimal("0.96")
    assert order.cumulative_fee_paid("COINX") == Decimal("0.04") + Decimal("0.06")


def test_cumulative_fee_in_third_token_needs_a_rate_source() -> None:
    order = _order()
    order.update_with_trade_update(_trade("t1", "1", fee=AddedToCostTradeFee(flat_fees=[("BNB", "0.002")])))
    with pytest.raises(FeeConversionError):
        order.cumulative_fee_paid("USDT")
    assert order.cumulative_fee_paid("USDT", FixedRateSource({"BNB-USDT": "300"})) == Decimal("0.6")
    assert order.cumulative_fee_paid("BNB") == Decimal("0.002")


# -- exchange order id awaitable ----------------------------------------------------------------------


async def test_exchange_order_id_waiters_resolve_when_it_arrives() -> None:
    order = _order()  # built before any waiter exists
    first = asyncio.create_task(order.get_exchange_order_id(), name="waiter-1")
    doomed = asyncio.create_task(order.get_exchange_order_id(), name="waiter-2")
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.sleep(0)
    order.update_with_order_update(_status(OrderState.OPEN, exchange_id="ex42"))
    assert await first == "ex42"
    assert doomed.cancelled()
    assert await order.get_exchange_order_id() == "ex42"


async def test_exchange_order_id_waiter_fails_when_order_ends_without_one() -> None:
    order = _order()
    waiter = asyncio.create_task(order.get_exchange_order_id(), name="waiter")
    await asyncio.sleep(0)
    order.update_with_order_update(_status(OrderState.FAILED, exchange_id=None))
    with pytest.raises(ExchangeOrderIdUnavailableError):
        await waiter
    with pytest.raises(ExchangeOrderIdUnavailableError):
        await order.get_exchange_order_id()


async def test_exchange_order_id_wait_can_be_bounded() -> None:
    order = _order()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await order.get_exchange_order_id()
    order.update_with_trade_update(_trade("t1", "1", exchange_id="ex5"))
    assert await order.get_exchange_order_id() == "ex5"


# -- persistence ---------------------------------------------------------------------------------------


def _mid_fill_order() -> InFlightOrder:
    order = InFlightOrder(
        "c7", PAIR, OrderType.LIMIT_MAKER, TradeType.SELL, Decimal("10.50"), 100.25,
        price=Decimal("9.125"), leverage=5, position=PositionAction.OPEN,
    )
    order.update_with_order_update(
        OrderUpdate(PAIR, 101.0, OrderState.OPEN, client_order_id="c7", exchange_order_id="ex7")
    )
    order.update_with_trade_update(
        TradeUpdate(
            "t1", "c7", "ex7", PAIR, 102.5, Decimal("9.125"), Decimal("2.25"), Decimal("20.53125"),
            DeductedFromReturnsTradeFee(percent="0.001", flat_fees=[("BNB", "0.0001")]), is_taker=False,
        )
    )
    return order


def test_json_round_trip_keeps_every_field() -> None:
    order = _mid_fill_order()
    data = json.loads(json.dumps(order.to_json()))
    assert data["current_state"] == int(OrderState.PARTIALLY_FILLED)
    assert data["amount"] == "10.50"
    restored = InFlightOrder.from_json(data)
    assert restored.to_json() == order.to_json()
    assert restored.order_fills == order.order_fills
    assert restored.amount == Decimal("10.50") and str(restored.amount) == "10.50"
    assert (restored.order_type, restored.trade_type) == (OrderType.LIMIT_MAKER, TradeType.SELL)
    assert (restored.leverage, restored.position) == (5, PositionAction.OPEN)
    assert restored.last_update_timestamp == 102.5
    assert restored.order_fills["t1"].fee == order.order_fills["t1"].fee


def test_lost_flag_round_trips() -> None:
    order = _mid_fill_order()
    order.mark_lost(120.0)
    restored = InFlightOrder.from_json(json.loads(json.dumps(order.to_json())))
    assert restored.is_lost and restored.current_state is OrderState.FAILED


def test_restored_order_continues_with_the_same_dedup() -> None:
    restored = InFlightOrder.from_json(json.loads(json.dumps(_mid_fill_order().to_json())))
    duplicate = restored.order_fills["t1"]
    assert restored.update_with_trade_update(duplicate) is False
    rest = TradeUpdate("t2", "c7", "ex7", PAIR, 103.0, Decimal("9.2"), Decimal("8.25"), Decimal("75.9"),
                       AddedToCostTradeFee())
    assert restored.update_with_trade_update(rest) is True
    assert restored.executed_amount_base == Decimal("10.50")
    assert restored.current_state is OrderState.FILLED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"current_state": 9}, "current_state"),
        ({"current_state": True}, "current_state"),
        ({"amount": 10.5}, "amount"),
        ({"order_type": "STOP"}, "order_type"),
        ({"executed_amount_base": "3"}, "executed_amount_base"),
        ({"order_fills": {}}, "executed_amount_base"),  # executed 2.25 with no fill behind it
        ({"is_lost": "no"}, "is_lost"),
        ({"is_lost": True}, "is_lost"),  # the order is PARTIALLY_FILLED: it cannot be lost
    ],
)
def test_from_json_rejects_malformed_data(change: dict[str, object], field: str) -> None:
    data = dict(_mid_fill_order().to_json())
    data.update(change)
    with pytest.raises(InvalidFieldError) as err:
        InFlightOrder.from_json(data)
    assert err.value.field == field
