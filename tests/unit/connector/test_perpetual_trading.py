from decimal import Decimal

import pytest

from connectorkit.connector.perpetual_trading import PerpetualTrading
from connectorkit.core.enums import PositionMode, PositionSide
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.position import Position


def _pos(pair: str, side: PositionSide, amount: str) -> Position:
    return Position(pair, side, Decimal(0), Decimal(100), Decimal(amount), Decimal(5))


def test_oneway_positions_keyed_by_pair_and_zero_amount_removes() -> None:
    perp = PerpetualTrading(["BTC-USDT"])
    perp.set_position(_pos("BTC-USDT", PositionSide.BOTH, "0.5"))
    assert list(perp.account_positions) == ["BTC-USDT"]
    assert perp.get_position("BTC-USDT") is not None
    perp.set_position(_pos("BTC-USDT", PositionSide.BOTH, "0"))
    assert perp.get_position("BTC-USDT") is None
    with pytest.raises(TypeError):
        perp.account_positions["X"] = _pos("X-Y", PositionSide.BOTH, "1")  # type: ignore[index]


def test_hedge_positions_keyed_by_pair_and_side() -> None:
    perp = PerpetualTrading(["BTC-USDT"])
    perp.set_position(_pos("BTC-USDT", PositionSide.BOTH, "1"))
    perp.set_position_mode(PositionMode.HEDGE)
    assert perp.account_positions == {}  # keys of the old mode are dropped
    perp.set_position(_pos("BTC-USDT", PositionSide.LONG, "1"))
    perp.set_position(_pos("BTC-USDT", PositionSide.SHORT, "-2"))
    assert set(perp.account_positions) == {"BTC-USDTLONG", "BTC-USDTSHORT"}
    short = perp.get_position("BTC-USDT", PositionSide.SHORT)
    assert short is not None and short.amount == Decimal(-2)
    with pytest.raises(ValueError, match="HEDGE"):
        perp.get_position("BTC-USDT")
    perp.set_position(_pos("BTC-USDT", PositionSide.SHORT, "0"))  # closed
    assert set(perp.account_positions) == {"BTC-USDTLONG"}


def test_leverage_per_pair() -> None:
    perp = PerpetualTrading(["BTC-USDT", "ETH-USDT"], default_leverage=1)
    perp.set_leverage("BTC-USDT", 20)
    assert perp.get_leverage("BTC-USDT") == 20
    assert perp.get_leverage("ETH-USDT") == 1
    with pytest.raises(ValueError):
        perp.set_leverage("BTC-USDT", 0)


def test_funding_info_initialization_and_updates() -> None:
    perp = PerpetualTrading(["BTC-USDT", "ETH-USDT"])
    assert not perp.apply_funding_info_update(FundingInfoUpdate("BTC-USDT", mark_price=Decimal(1)))
    perp.initialize_funding_info(FundingInfo("BTC-USDT", Decimal(100), Decimal(101), 1000, Decimal("0.0001")))
    assert not perp.is_funding_info_initialized()
    perp.initialize_funding_info(FundingInfo("ETH-USDT", Decimal(10), Decimal(11), 1000, Decimal("0.0002")))
    assert perp.is_funding_info_initialized()
    assert perp.apply_funding_info_update(FundingInfoUpdate("BTC-USDT", mark_price=Decimal("102.5")))
    info = perp.get_funding_info("BTC-USDT")
    assert info.mark_price == Decimal("102.5") and info.index_price == Decimal(100)
    with pytest.raises(KeyError):
        perp.get_funding_info("SOL-USDT")
