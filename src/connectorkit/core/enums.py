"""Enumerations shared by every layer.

``OrderState`` values are persisted (order journal, ``tracking_states`` JSON), so its integer
values are fixed and must never be renumbered.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class OrderType(Enum):
    MARKET = 1
    LIMIT = 2
    LIMIT_MAKER = 3

    def is_limit_type(self) -> bool:
        """True for orders that rest on the book at a price (LIMIT and LIMIT_MAKER)."""
        return self in (OrderType.LIMIT, OrderType.LIMIT_MAKER)


class TradeType(Enum):
    BUY = 1
    SELL = 2

    @property
    def opposite(self) -> TradeType:
        return TradeType.SELL if self is TradeType.BUY else TradeType.BUY


class TimeInForce(Enum):
    """How long a LIMIT order works: until cancelled (GTC), or only against what it can match at
    once, expiring the rest (IOC) or everything unless it fills completely (FOK)."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class PositionAction(Enum):
    OPEN = "OPEN"
    CLOSE = "CLOSE"
    NIL = "NIL"


class PositionSide(Enum):
    LONG = "LONG"
    SHORT = "SHORT"
    BOTH = "BOTH"


class PositionMode(Enum):
    ONEWAY = "ONEWAY"
    HEDGE = "HEDGE"


class PriceType(Enum):
    MidPrice = 1
    BestBid = 2
    BestAsk = 3
    LastTrade = 4


class OrderState(IntEnum):
    """Lifecycle state of an order. The integer values are persisted: never renumber."""

    PENDING_CREATE = 0
    OPEN = 1
    PENDING_CANCEL = 2
    CANCELED = 3
    PARTIALLY_FILLED = 4
    FILLED = 5
    FAILED = 6

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES


_FINAL_STATES = frozenset({OrderState.CANCELED, OrderState.FILLED, OrderState.FAILED})
