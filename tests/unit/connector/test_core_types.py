from decimal import Decimal

import pytest

from connectorkit.core.cancellation_result import CancellationResult
from connectorkit.core.enums import PositionSide
from connectorkit.core.position import Position
from connectorkit.core.trading_rule import TradingRule


def test_trading_rule_defaults_and_collateral() -> None:
    rule = TradingRule("BTC-USDT", min_order_size=Decimal("0.001"), min_price_increment=Decimal("0.01"))
    assert rule.base_asset == "BTC" and rule.quote_asset == "USDT"
    assert rule.buy_collateral_token == "USDT"
    assert rule.sell_collateral_token == "BTC"
    perp = TradingRule("BTC-USDT", buy_order_collateral_token="USDT", sell_order_collateral_token="USDT")
    assert perp.sell_collateral_token == "USDT"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("min_order_size", 0.1, TypeError),
        ("min_order_size", Decimal(-1), ValueError),
        ("min_price_increment", Decimal(0), ValueError),
        ("min_notional_size", Decimal("NaN"), ValueError),
        ("max_order_size", Decimal("0.0001"), ValueError),
    ],
)
def test_trading_rule_rejects_bad_values(field: str, value: object, error: type[Exception]) -> None:
    kwargs = {"min_order_size": Decimal("0.001")} if field == "max_order_size" else {}
    with pytest.raises(error):
        TradingRule("BTC-USDT", **{**kwargs, field: value})  # type: ignore[arg-type]


def test_position_update_keeps_unset_fields() -> None:
    pos = Position("ETH-USDT", PositionSide.BOTH, Decimal(1), Decimal(2000), Decimal("0.5"), Decimal(10))
    pos.update_position(amount=Decimal("-0.2"), unrealized_pnl=Decimal("3"))
    assert pos.amount == Decimal("-0.2")
    assert pos.unrealized_pnl == Decimal(3)
    assert pos.entry_price == Decimal(2000)
    assert pos.leverage == Decimal(10)
    with pytest.raises(TypeError):
        Position("ETH-USDT", PositionSide.BOTH, 1, Decimal(2000), Decimal(1), Decimal(1))  # type: ignore[arg-type]


def test_cancellation_result_is_value_object() -> None:
    assert CancellationResult("a", True) == CancellationResult("a", True)
    assert CancellationResult("a", True) != CancellationResult("a", False)
