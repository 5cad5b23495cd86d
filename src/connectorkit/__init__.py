"""connectorkit: a framework for crypto-exchange connectors.

The public API is re-exported here flat; import from ``connectorkit`` rather than submodules.
"""

from connectorkit.connector.client_order_tracker import ClientOrderTracker
from connectorkit.connector.connector_base import ConnectorBase
from connectorkit.connector.exchange_base import ExchangeBase, UnknownTradingPairError
from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.connector.order_options import OrderOptions, UnsupportedOrderOptionError
from connectorkit.connector.perpetual_derivative_py_base import FundingPayment, PerpetualDerivativePyBase
from connectorkit.connector.perpetual_trading import PerpetualTrading
from connectorkit.connector.settings import (
    ConnectorSettings,
    UnknownConnectorError,
    create_connector,
    register_connector,
    registered_connectors,
)
from connectorkit.connector.user_stream_tracker import UserStreamTracker
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.core.budget_checker import (
    BudgetChecker,
    BudgetExchange,
    PerpetualBudgetChecker,
    PerpetualBudgetExchange,
)
from connectorkit.core.cancellation_result import CancellationResult
from connectorkit.core.decimal_utils import InvalidFieldError
from connectorkit.core.enums import (
    OrderState,
    OrderType,
    PositionAction,
    PositionMode,
    PositionSide,
    PriceType,
    TimeInForce,
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
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.in_flight_order import (
    ExchangeOrderIdUnavailableError,
    InFlightOrder,
    OrderUpdate,
    TradeUpdate,
)
from connectorkit.core.order_book import OrderBook, OrderBookDataError, OrderBookQueryResult, OrderBookRow
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.position import Position
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
from connectorkit.core.trading_rule import TradingRule
from connectorkit.exchanges.binance.binance_exchange import BinanceExchange
from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import BinancePerpetualDerivative
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
from connectorkit.net.throttler import (
    AsyncThrottler,
    LinkedLimitWeightPair,
    RateLimit,
    RequestPriority,
    request_priority,
)
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant, run_with_reconnect
from connectorkit.net.ws_request import WSJSONRequest
from connectorkit.sandbox import FaultRecord, Sandbox, SandboxConfig
from connectorkit.sandbox import Market as SandboxMarket
from connectorkit.sandbox.futures import FuturesMarket
from connectorkit.storage import (
    JournalClosedError,
    JournalCorruptedError,
    JournalEntry,
    JournalError,
    JournalVersionError,
    OrderJournal,
)

__version__ = "0.1.0"

__all__ = [
    "AddedToCostTradeFee",
    "AsyncThrottler",
    "AuthBase",
    "BalanceUpdateEvent",
    "BinanceExchange",
    "BinancePerpetualDerivative",
    "BudgetChecker",
    "BudgetExchange",
    "BuyOrderCompletedEvent",
    "BuyOrderCreatedEvent",
    "CancellationResult",
    "ClientOrderTracker",
    "ConnectorBase",
    "ConnectorSettings",
    "ContinuityRule",
    "DeductedFromReturnsTradeFee",
    "EventPublisher",
    "ExchangeBase",
    "ExchangeConnectionError",
    "ExchangeOrderIdUnavailableError",
    "ExchangePyBase",
    "ExchangeRequestError",
    "FaultRecord",
    "FeeConversionError",
    "FixedRateSource",
    "FundingInfo",
    "FundingInfoEvent",
    "FundingInfoUpdate",
    "FundingPayment",
    "FundingPaymentCompletedEvent",
    "FuturesMarket",
    "InFlightOrder",
    "InvalidFieldError",
    "JournalClosedError",
    "JournalCorruptedError",
    "JournalEntry",
    "JournalError",
    "JournalVersionError",
    "LinkedLimitWeightPair",
    "MarketEvent",
    "OrderBook",
    "OrderBookDataError",
    "OrderBookMessage",
    "OrderBookMessageType",
    "OrderBookQueryResult",
    "OrderBookRow",
    "OrderBookTracker",
    "OrderBookTrackerDataSource",
    "OrderCancelledEvent",
    "OrderCandidate",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderExpiredEvent",
    "OrderFailureEvent",
    "OrderFilledEvent",
    "OrderJournal",
    "OrderOptions",
    "OrderState",
    "OrderType",
    "OrderUpdate",
    "PerpetualBudgetChecker",
    "PerpetualBudgetExchange",
    "PerpetualDerivativePyBase",
    "PerpetualOrderCandidate",
    "PerpetualTrading",
    "Position",
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
    "RequestPriority",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "Sandbox",
    "SandboxConfig",
    "SandboxMarket",
    "SellOrderCompletedEvent",
    "SellOrderCreatedEvent",
    "TimeInForce",
    "TimeSynchronizer",
    "TokenAmount",
    "TradeFeeBase",
    "TradeFeeSchema",
    "TradeType",
    "TradeUpdate",
    "TradingRule",
    "UnknownConnectorError",
    "UnknownRateLimitIdError",
    "UnknownTradingPairError",
    "UnsupportedOrderOptionError",
    "UserStreamTracker",
    "UserStreamTrackerDataSource",
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
    "create_connector",
    "register_connector",
    "registered_connectors",
    "request_priority",
    "run_with_reconnect",
]
