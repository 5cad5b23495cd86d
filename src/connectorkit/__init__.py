"""connectorkit: a framework for crypto-exchange connectors.

The public API is re-exported here flat; import from ``connectorkit`` rather than submodules.
"""

from connectorkit.core.enums import (
    OrderState,
    OrderType,
    PositionAction,
    PositionMode,
    PositionSide,
    PriceType,
    TradeType,
)

__version__ = "0.1.0"

__all__ = [
    "OrderState",
    "OrderType",
    "PositionAction",
    "PositionMode",
    "PositionSide",
    "PriceType",
    "TradeType",
]
