import json

import pytest

import connectorkit
from connectorkit import OrderState, OrderType, TradeType


def test_order_state_integers_are_fixed_because_they_are_persisted() -> None:
    assert {s.name: int(s) for s in OrderState} == {
        "PENDING_CREATE": 0,
        "OPEN": 1,
        "PENDING_CANCEL": 2,
        "CANCELED": 3,
        "PARTIALLY_FILLED": 4,
        "FILLED": 5,
        "FAILED": 6,
    }
    assert OrderState(json.loads(json.dumps(OrderState.PARTIALLY_FILLED))) is OrderState.PARTIALLY_FILLED


def test_final_states() -> None:
    final = {s for s in OrderState if s.is_final}
    assert final == {OrderState.CANCELED, OrderState.FILLED, OrderState.FAILED}


def test_enum_members() -> None:
    assert {m.name for m in OrderType} == {"MARKET", "LIMIT", "LIMIT_MAKER"}
    assert OrderType.LIMIT_MAKER.is_limit_type() and not OrderType.MARKET.is_limit_type()
    assert TradeType.BUY.opposite is TradeType.SELL and TradeType.SELL.opposite is TradeType.BUY
    assert {m.name for m in connectorkit.PositionAction} == {"OPEN", "CLOSE", "NIL"}
    assert {m.name for m in connectorkit.PositionSide} == {"LONG", "SHORT", "BOTH"}
    assert {m.name for m in connectorkit.PositionMode} == {"ONEWAY", "HEDGE"}
    assert {m.name for m in connectorkit.PriceType} == {"MidPrice", "BestBid", "BestAsk", "LastTrade"}


@pytest.mark.parametrize("name", connectorkit.__all__)
def test_public_names_are_importable(name: str) -> None:
    assert getattr(connectorkit, name) is not None
