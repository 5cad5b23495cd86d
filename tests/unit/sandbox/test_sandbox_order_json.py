"""The JSON form of an engine order that both sandbox products store in the state file."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from connectorkit.sandbox.engine import Order, OrderStatus, Side, TimeInForce
from connectorkit.sandbox.persistence import order_from_json, order_to_json


def _order() -> Order:
    return Order(
        order_id=7,
        symbol="BTCUSDT",
        account_id=2,
        client_order_id="ck-1",
        side=Side.SELL,
        type="LIMIT",
        time_in_force=TimeInForce.GTC,
        price=Decimal("30000.10"),
        orig_qty=Decimal("0.00300"),
        time=1_700_000_000_000,
        orig_quote_qty=Decimal("90.0003"),
        executed_qty=Decimal("0.001"),
        cum_quote_qty=Decimal("30.0001"),
        status=OrderStatus.PARTIALLY_FILLED,
        update_time=1_700_000_000_500,
        working_time=1_700_000_000_001,
        extra={"reduceOnly": True},
    )


def test_round_trip_through_json_text_keeps_every_field_exactly() -> None:
    original = _order()
    restored = order_from_json(json.loads(json.dumps(order_to_json(original))), {"reduceOnly": True})
    assert restored is not original
    assert dataclasses.asdict(restored) == dataclasses.asdict(original)  # Order compares by identity
    assert str(restored.price) == "30000.10"  # the exact decimal text, trailing zero included


def test_extra_is_not_stored_and_defaults_to_empty() -> None:
    data = order_to_json(_order())
    assert "extra" not in data
    assert order_from_json(data).extra == {}


def test_market_order_without_price_or_tif() -> None:
    o = _order()
    o.price, o.time_in_force, o.orig_quote_qty = None, None, None
    restored = order_from_json(order_to_json(o))
    assert (restored.price, restored.time_in_force, restored.orig_quote_qty) == (None, None, None)


def test_rows_written_before_working_time_was_stored_take_engine_defaults() -> None:
    data = order_to_json(_order())
    del data["working_time"], data["orig_quote_qty"]
    restored = order_from_json(data)
    assert restored.working_time == -1
    assert restored.orig_quote_qty is None
