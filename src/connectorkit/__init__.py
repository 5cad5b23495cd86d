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
from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import (
    ExchangeConnectionError,
    ExchangeRequestError,
    RateLimitConfigError,
    RateLimitedError,
    RequestTimeoutError,
    ResponseDecodeError,
    UnknownRateLimitIdError,
    WebError,
    WSClosedError,
    WSConnectError,
    WSError,
    WSTimeoutError,
)
from connectorkit.net.rest_assistant import RESTAssistant, RESTPostProcessorBase, RESTPreProcessorBase
from connectorkit.net.rest_request import RESTMethod, RESTRequest, RESTResponse
from connectorkit.net.throttler import AsyncThrottler, LinkedLimitWeightPair, RateLimit
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant, run_with_reconnect
from connectorkit.net.ws_request import WSJSONRequest
from connectorkit.sandbox import FaultRecord, Sandbox, SandboxConfig
from connectorkit.sandbox import Market as SandboxMarket

__version__ = "0.1.0"

__all__ = [
    "AddedToCostTradeFee",
    "AsyncThrottler",
    "AuthBase",
    "BalanceUpdateEvent",
    "BudgetChecker",
    "BudgetExchange",
    "BuyOrderCompletedEvent",
    "BuyOrderCreatedEvent",
    "ClientOrderTracker",
    "DeductedFromReturnsTradeFee",
    "EventPublisher",
    "ExchangeConnectionError",
    "ExchangeOrderIdUnavailableError",
    "ExchangeRequestError",
    "FaultRecord",
    "FeeConversionError",
    "FixedRateSource",
    "FundingInfoEvent",
    "FundingPaymentCompletedEvent",
    "InFlightOrder",
    "InvalidFieldError",
    "LinkedLimitWeightPair",
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
    "RESTAssistant",
    "RESTMethod",
    "RESTPostProcessorBase",
    "RESTPreProcessorBase",
    "RESTRequest",
    "RESTResponse",
    "RateLimit",
    "RateLimitConfigError",
    "RateLimitedError",
    "RateSource",
    "ReceivedAssetEvent",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "Sandbox",
    "SandboxConfig",
    "SandboxMarket",
    "SellOrderCompletedEvent",
    "SellOrderCreatedEvent",
    "TimeSynchronizer",
    "TokenAmount",
    "TradeFeeBase",
    "TradeFeeSchema",
    "TradeType",
    "TradeUpdate",
    "UnknownRateLimitIdError",
    "WSAssistant",
    "WSClosedError",
    "WSConnectError",
    "WSError",
    "WSJSONRequest",
    "WSTimeoutError",
    "WebAssistantsFactory",
    "WebError",
    "build_perpetual_trade_fee",
    "build_trade_fee",
    "call_with_time_resync",
    "run_with_reconnect",
]
