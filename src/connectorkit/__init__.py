"""connectorkit: a framework for crypto-exchange connectors.

The public API is re-exported here flat; import from ``connectorkit`` rather than submodules.

Names are resolved lazily (PEP 562): ``import connectorkit`` or importing one submodule such as
``connectorkit.core.order_book`` loads nothing else; ``connectorkit.Sandbox`` loads the sandbox
(and ``aiohttp.web``) only when it is first asked for, ``connectorkit.OrderJournal`` loads sqlite3
only then. Type checkers see ordinary imports through the ``TYPE_CHECKING`` block.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectorkit.connector.book_sync_rule import BookSyncRule, ChecksumKind, SnapshotSource
    from connectorkit.connector.client_order_tracker import ClientOrderTracker
    from connectorkit.connector.connector_base import ConnectorBase
    from connectorkit.connector.exchange_base import ExchangeBase, UnknownTradingPairError
    from connectorkit.connector.exchange_py_base import ExchangePyBase
    from connectorkit.connector.order_book_tracker import OrderBookTracker
    from connectorkit.connector.order_book_tracker_data_source import (
        ContinuityRule,
        OrderBookTrackerDataSource,
    )
    from connectorkit.connector.order_options import OrderOptions, UnsupportedOrderOptionError
    from connectorkit.connector.perpetual_derivative_py_base import FundingPayment, PerpetualDerivativePyBase
    from connectorkit.connector.perpetual_trading import PerpetualTrading
    from connectorkit.connector.settings import (
        ConnectorSettings,
        UnknownConnectorError,
        create_connector,
        register_connector,
        registered_connectors,
        unregister_connector,
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
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
        BinancePerpetualDerivative,
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
    from connectorkit.sandbox.venues.binance.futures import FuturesMarket
    from connectorkit.storage import (
        JournalClosedError,
        JournalCorruptedError,
        JournalEntry,
        JournalError,
        JournalVersionError,
        OrderJournal,
    )

__version__ = "0.1.0"

#: Public name -> (module, attribute) it is loaded from on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "BookSyncRule": ("connectorkit.connector.book_sync_rule", "BookSyncRule"),
    "ChecksumKind": ("connectorkit.connector.book_sync_rule", "ChecksumKind"),
    "SnapshotSource": ("connectorkit.connector.book_sync_rule", "SnapshotSource"),
    "ClientOrderTracker": ("connectorkit.connector.client_order_tracker", "ClientOrderTracker"),
    "ConnectorBase": ("connectorkit.connector.connector_base", "ConnectorBase"),
    "ExchangeBase": ("connectorkit.connector.exchange_base", "ExchangeBase"),
    "UnknownTradingPairError": ("connectorkit.connector.exchange_base", "UnknownTradingPairError"),
    "ExchangePyBase": ("connectorkit.connector.exchange_py_base", "ExchangePyBase"),
    "OrderBookTracker": ("connectorkit.connector.order_book_tracker", "OrderBookTracker"),
    "ContinuityRule": ("connectorkit.connector.order_book_tracker_data_source", "ContinuityRule"),
    "OrderBookTrackerDataSource": (
        "connectorkit.connector.order_book_tracker_data_source",
        "OrderBookTrackerDataSource",
    ),
    "OrderOptions": ("connectorkit.connector.order_options", "OrderOptions"),
    "UnsupportedOrderOptionError": ("connectorkit.connector.order_options", "UnsupportedOrderOptionError"),
    "FundingPayment": ("connectorkit.connector.perpetual_derivative_py_base", "FundingPayment"),
    "PerpetualDerivativePyBase": (
        "connectorkit.connector.perpetual_derivative_py_base",
        "PerpetualDerivativePyBase",
    ),
    "PerpetualTrading": ("connectorkit.connector.perpetual_trading", "PerpetualTrading"),
    "ConnectorSettings": ("connectorkit.connector.settings", "ConnectorSettings"),
    "UnknownConnectorError": ("connectorkit.connector.settings", "UnknownConnectorError"),
    "create_connector": ("connectorkit.connector.settings", "create_connector"),
    "register_connector": ("connectorkit.connector.settings", "register_connector"),
    "registered_connectors": ("connectorkit.connector.settings", "registered_connectors"),
    "unregister_connector": ("connectorkit.connector.settings", "unregister_connector"),
    "UserStreamTracker": ("connectorkit.connector.user_stream_tracker", "UserStreamTracker"),
    "UserStreamTrackerDataSource": (
        "connectorkit.connector.user_stream_tracker_data_source",
        "UserStreamTrackerDataSource",
    ),
    "BudgetChecker": ("connectorkit.core.budget_checker", "BudgetChecker"),
    "BudgetExchange": ("connectorkit.core.budget_checker", "BudgetExchange"),
    "PerpetualBudgetChecker": ("connectorkit.core.budget_checker", "PerpetualBudgetChecker"),
    "PerpetualBudgetExchange": ("connectorkit.core.budget_checker", "PerpetualBudgetExchange"),
    "CancellationResult": ("connectorkit.core.cancellation_result", "CancellationResult"),
    "InvalidFieldError": ("connectorkit.core.decimal_utils", "InvalidFieldError"),
    "OrderState": ("connectorkit.core.enums", "OrderState"),
    "OrderType": ("connectorkit.core.enums", "OrderType"),
    "PositionAction": ("connectorkit.core.enums", "PositionAction"),
    "PositionMode": ("connectorkit.core.enums", "PositionMode"),
    "PositionSide": ("connectorkit.core.enums", "PositionSide"),
    "PriceType": ("connectorkit.core.enums", "PriceType"),
    "TimeInForce": ("connectorkit.core.enums", "TimeInForce"),
    "TradeType": ("connectorkit.core.enums", "TradeType"),
    "BalanceUpdateEvent": ("connectorkit.core.events", "BalanceUpdateEvent"),
    "BuyOrderCompletedEvent": ("connectorkit.core.events", "BuyOrderCompletedEvent"),
    "BuyOrderCreatedEvent": ("connectorkit.core.events", "BuyOrderCreatedEvent"),
    "EventPublisher": ("connectorkit.core.events", "EventPublisher"),
    "FundingInfoEvent": ("connectorkit.core.events", "FundingInfoEvent"),
    "FundingPaymentCompletedEvent": ("connectorkit.core.events", "FundingPaymentCompletedEvent"),
    "MarketEvent": ("connectorkit.core.events", "MarketEvent"),
    "OrderCancelledEvent": ("connectorkit.core.events", "OrderCancelledEvent"),
    "OrderCompletedEvent": ("connectorkit.core.events", "OrderCompletedEvent"),
    "OrderCreatedEvent": ("connectorkit.core.events", "OrderCreatedEvent"),
    "OrderExpiredEvent": ("connectorkit.core.events", "OrderExpiredEvent"),
    "OrderFailureEvent": ("connectorkit.core.events", "OrderFailureEvent"),
    "OrderFilledEvent": ("connectorkit.core.events", "OrderFilledEvent"),
    "PositionModeChangeEvent": ("connectorkit.core.events", "PositionModeChangeEvent"),
    "PositionUpdateEvent": ("connectorkit.core.events", "PositionUpdateEvent"),
    "ReceivedAssetEvent": ("connectorkit.core.events", "ReceivedAssetEvent"),
    "SellOrderCompletedEvent": ("connectorkit.core.events", "SellOrderCompletedEvent"),
    "SellOrderCreatedEvent": ("connectorkit.core.events", "SellOrderCreatedEvent"),
    "FundingInfo": ("connectorkit.core.funding_info", "FundingInfo"),
    "FundingInfoUpdate": ("connectorkit.core.funding_info", "FundingInfoUpdate"),
    "ExchangeOrderIdUnavailableError": (
        "connectorkit.core.in_flight_order",
        "ExchangeOrderIdUnavailableError",
    ),
    "InFlightOrder": ("connectorkit.core.in_flight_order", "InFlightOrder"),
    "OrderUpdate": ("connectorkit.core.in_flight_order", "OrderUpdate"),
    "TradeUpdate": ("connectorkit.core.in_flight_order", "TradeUpdate"),
    "OrderBook": ("connectorkit.core.order_book", "OrderBook"),
    "OrderBookDataError": ("connectorkit.core.order_book", "OrderBookDataError"),
    "OrderBookQueryResult": ("connectorkit.core.order_book", "OrderBookQueryResult"),
    "OrderBookRow": ("connectorkit.core.order_book", "OrderBookRow"),
    "OrderBookMessage": ("connectorkit.core.order_book_message", "OrderBookMessage"),
    "OrderBookMessageType": ("connectorkit.core.order_book_message", "OrderBookMessageType"),
    "OrderCandidate": ("connectorkit.core.order_candidate", "OrderCandidate"),
    "PerpetualOrderCandidate": ("connectorkit.core.order_candidate", "PerpetualOrderCandidate"),
    "Position": ("connectorkit.core.position", "Position"),
    "FeeConversionError": ("connectorkit.core.rate_source", "FeeConversionError"),
    "FixedRateSource": ("connectorkit.core.rate_source", "FixedRateSource"),
    "RateSource": ("connectorkit.core.rate_source", "RateSource"),
    "AddedToCostTradeFee": ("connectorkit.core.trade_fee", "AddedToCostTradeFee"),
    "DeductedFromReturnsTradeFee": ("connectorkit.core.trade_fee", "DeductedFromReturnsTradeFee"),
    "TokenAmount": ("connectorkit.core.trade_fee", "TokenAmount"),
    "TradeFeeBase": ("connectorkit.core.trade_fee", "TradeFeeBase"),
    "TradeFeeSchema": ("connectorkit.core.trade_fee", "TradeFeeSchema"),
    "build_perpetual_trade_fee": ("connectorkit.core.trade_fee", "build_perpetual_trade_fee"),
    "build_trade_fee": ("connectorkit.core.trade_fee", "build_trade_fee"),
    "TradingRule": ("connectorkit.core.trading_rule", "TradingRule"),
    "BinanceExchange": ("connectorkit.exchanges.binance.binance_exchange", "BinanceExchange"),
    "BinancePerpetualDerivative": (
        "connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative",
        "BinancePerpetualDerivative",
    ),
    "AuthBase": ("connectorkit.net.auth", "AuthBase"),
    "ExchangeConnectionError": ("connectorkit.net.errors", "ExchangeConnectionError"),
    "ExchangeRequestError": ("connectorkit.net.errors", "ExchangeRequestError"),
    "RateLimitConfigError": ("connectorkit.net.errors", "RateLimitConfigError"),
    "RateLimitedError": ("connectorkit.net.errors", "RateLimitedError"),
    "RequestTimeoutError": ("connectorkit.net.errors", "RequestTimeoutError"),
    "ResponseDecodeError": ("connectorkit.net.errors", "ResponseDecodeError"),
    "UnknownRateLimitIdError": ("connectorkit.net.errors", "UnknownRateLimitIdError"),
    "WebError": ("connectorkit.net.errors", "WebError"),
    "WSClosedError": ("connectorkit.net.errors", "WSClosedError"),
    "WSConnectError": ("connectorkit.net.errors", "WSConnectError"),
    "WSError": ("connectorkit.net.errors", "WSError"),
    "WSTimeoutError": ("connectorkit.net.errors", "WSTimeoutError"),
    "RESTAssistant": ("connectorkit.net.rest_assistant", "RESTAssistant"),
    "RESTPostProcessorBase": ("connectorkit.net.rest_assistant", "RESTPostProcessorBase"),
    "RESTPreProcessorBase": ("connectorkit.net.rest_assistant", "RESTPreProcessorBase"),
    "RESTMethod": ("connectorkit.net.rest_request", "RESTMethod"),
    "RESTRequest": ("connectorkit.net.rest_request", "RESTRequest"),
    "RESTResponse": ("connectorkit.net.rest_request", "RESTResponse"),
    "AsyncThrottler": ("connectorkit.net.throttler", "AsyncThrottler"),
    "LinkedLimitWeightPair": ("connectorkit.net.throttler", "LinkedLimitWeightPair"),
    "RateLimit": ("connectorkit.net.throttler", "RateLimit"),
    "RequestPriority": ("connectorkit.net.throttler", "RequestPriority"),
    "request_priority": ("connectorkit.net.throttler", "request_priority"),
    "TimeSynchronizer": ("connectorkit.net.time_synchronizer", "TimeSynchronizer"),
    "call_with_time_resync": ("connectorkit.net.time_synchronizer", "call_with_time_resync"),
    "WebAssistantsFactory": ("connectorkit.net.web_assistants_factory", "WebAssistantsFactory"),
    "WSAssistant": ("connectorkit.net.ws_assistant", "WSAssistant"),
    "run_with_reconnect": ("connectorkit.net.ws_assistant", "run_with_reconnect"),
    "WSJSONRequest": ("connectorkit.net.ws_request", "WSJSONRequest"),
    "FaultRecord": ("connectorkit.sandbox", "FaultRecord"),
    "Sandbox": ("connectorkit.sandbox", "Sandbox"),
    "SandboxConfig": ("connectorkit.sandbox", "SandboxConfig"),
    "SandboxMarket": ("connectorkit.sandbox", "Market"),
    "FuturesMarket": ("connectorkit.sandbox.venues.binance.futures", "FuturesMarket"),
    "JournalClosedError": ("connectorkit.storage", "JournalClosedError"),
    "JournalCorruptedError": ("connectorkit.storage", "JournalCorruptedError"),
    "JournalEntry": ("connectorkit.storage", "JournalEntry"),
    "JournalError": ("connectorkit.storage", "JournalError"),
    "JournalVersionError": ("connectorkit.storage", "JournalVersionError"),
    "OrderJournal": ("connectorkit.storage", "OrderJournal"),
}

__all__ = [
    "AddedToCostTradeFee",
    "AsyncThrottler",
    "AuthBase",
    "BalanceUpdateEvent",
    "BinanceExchange",
    "BinancePerpetualDerivative",
    "BookSyncRule",
    "BudgetChecker",
    "BudgetExchange",
    "BuyOrderCompletedEvent",
    "BuyOrderCreatedEvent",
    "CancellationResult",
    "ChecksumKind",
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
    "SnapshotSource",
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
    "unregister_connector",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'connectorkit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
