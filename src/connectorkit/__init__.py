"""connectorkit: a framework for crypto-exchange connectors.

The public API is re-exported here flat; import from ``connectorkit`` rather than submodules.
"""

from connectorkit.connector.client_order_tracker import ClientOrderTracker
from connectorkit.core.budget_checker import (
    BudgetChecker,
    BudgetExchange,
    PerpetualBudgetChecker,
    PerpetualBudgetExchange,
)
from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import (
    OrderState,
    OrderType,
    PositionAction,
    PositionMode,
    PositionSide,
    PriceType,
    TradeType,
)
from connectorkit.core.events import (
    BalanceUpdateEvent,
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventPublisher,
    FundingInfoEvent,
    FundingPaymentCompletedEvent,
    MarketEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailureEvent,
    OrderFilledEvent,
    PositionModeChangeEvent,
    PositionUpdateEvent,
    ReceivedAssetEvent,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connectorkit.core.in_flight_order import (
    ExchangeOrderIdUnavailableError,
    InFlightOrder,
    OrderUpdate,
    TradeUpdate,
)
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.rate_source import FeeConversionError, FixedRateSource, RateSource
from connectorkit.core.trade_fee import (
    AddedToCostTradeFee,
    DeductedFromReturnsTradeFee,
    TokenAmount,
    TradeFeeBase,
    TradeFeeSchema,
    build_perpetual_trade_fee,
    build_trade_fee,
)

__version__ = "0.1.0"

__all__ = [
    "AddedToCostTradeFee",
    "BalanceUpdateEvent",
    "BudgetChecker",
    "BudgetExchange",
    "BuyOrderCompletedEvent",
    "BuyOrderCreatedEvent",
    "ClientOrderTracker",
    "DeductedFromReturnsTradeFee",
    "EventPublisher",
    "ExchangeOrderIdUnavailableError",
    "FeeConversionError",
    "FixedRateSource",
    "FundingInfoEvent",
    "FundingPaymentCompletedEvent",
    "InFlightOrder",
    "InvalidFieldError",
    "MarketEvent",
    "OrderCancelledEvent",
    "OrderCandidate",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderExpiredEvent",
    "OrderFailureEvent",
    "OrderFilledEvent",
    "OrderState",
    "OrderType",
    "OrderUpdate",
    "PerpetualBudgetChecker",
    "PerpetualBudgetExchange",
    "PerpetualOrderCandidate",
    "PositionAction",
    "PositionMode",
    "PositionModeChangeEvent",
    "PositionSide",
    "PositionUpdateEvent",
    "PriceType",
    "RateSource",
    "ReceivedAssetEvent",
    "SellOrderCompletedEvent",
    "SellOrderCreatedEvent",
    "TokenAmount",
    "TradeFeeBase",
    "TradeFeeSchema",
    "TradeType",
    "TradeUpdate",
    "build_perpetual_trade_fee",
    "build_trade_fee",
]
