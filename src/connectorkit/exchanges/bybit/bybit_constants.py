"""Bybit API v5 (shared by ``bybit`` spot and ``bybit_perpetual``): hosts, paths, topics, limits,
enums and the ``retCode`` tables.

One API serves every product; the product is chosen by ``category`` (``spot``, ``linear``).
Every block cites the page of the official Bybit v5 documentation
(https://bybit-exchange.github.io/docs/v5/...) it was taken from. Product-specific values live in
``bybit_perpetual_constants`` (linear) and under ``SPOT_*`` names here.
"""

from __future__ import annotations

from typing import Final

from connectorkit.core.enums import OrderState
from connectorkit.net.throttler import LinkedLimitWeightPair, RateLimit

EXCHANGE_NAME: Final = "bybit"
CATEGORY_SPOT: Final = "spot"
CATEGORY_LINEAR: Final = "linear"

# --- Hosts (docs: v5/guide "Authentication > REST API Base Endpoint"; v5/ws/connect) ----------
# Settings take bases; the connector appends the paths below.
MAINNET_REST_URL: Final = "https://api.bybit.com"
TESTNET_REST_URL: Final = "https://api-testnet.bybit.com"
MAINNET_WS_URL: Final = "wss://stream.bybit.com"
TESTNET_WS_URL: Final = "wss://stream-testnet.bybit.com"

# --- REST paths (docs: v5/market/time, v5/market/instrument, v5/market/orderbook,
# v5/market/history-fund-rate, v5/order/create-order, cancel-order, open-order, order-list,
# execution, v5/account/wallet-balance, v5/account/transaction-log, v5/position, leverage,
# position-mode) ------------------------------------------------------------------------------
SERVER_TIME_PATH: Final = "/v5/market/time"
INSTRUMENTS_INFO_PATH: Final = "/v5/market/instruments-info"
ORDERBOOK_PATH: Final = "/v5/market/orderbook"
TICKERS_PATH: Final = "/v5/market/tickers"
FUNDING_HISTORY_PATH: Final = "/v5/market/funding/history"
ORDER_CREATE_PATH: Final = "/v5/order/create"
ORDER_CANCEL_PATH: Final = "/v5/order/cancel"
ORDER_REALTIME_PATH: Final = "/v5/order/realtime"
ORDER_HISTORY_PATH: Final = "/v5/order/history"
EXECUTION_LIST_PATH: Final = "/v5/execution/list"
WALLET_BALANCE_PATH: Final = "/v5/account/wallet-balance"
TRANSACTION_LOG_PATH: Final = "/v5/account/transaction-log"
POSITION_LIST_PATH: Final = "/v5/position/list"
SET_LEVERAGE_PATH: Final = "/v5/position/set-leverage"
SWITCH_MODE_PATH: Final = "/v5/position/switch-mode"
ACCOUNT_TYPE_UNIFIED: Final = "UNIFIED"  # v5/account/wallet-balance: accountType of a UTA

# --- WebSocket (docs: v5/ws/connect) -----------------------------------------------------------
WS_PUBLIC_SPOT_PATH: Final = "/v5/public/spot"
WS_PUBLIC_LINEAR_PATH: Final = "/v5/public/linear"
WS_PRIVATE_PATH: Final = "/v5/private"
WS_TRADE_PATH: Final = "/v5/trade"
# "we recommend that you send the ping heartbeat packet every 20 seconds": {"op": "ping"}.
WS_HEARTBEAT_S: Final = 20.0
# Spot: "up to 10 args for each subscription request"; any public connection: the args array
# of one request stays under 21,000 characters.
SPOT_MAX_ARGS_PER_SUBSCRIBE: Final = 10
MAX_ARGS_CHARS: Final = 21_000
# Private auth: the signed payload is "GET/realtime" + expires (ms, later than now).
WS_AUTH_PAYLOAD_PREFIX: Final = "GET/realtime"
WS_AUTH_EXPIRES_AFTER_MS: Final = 1_000

# Topics (docs: v5/websocket/public/orderbook, trade, ticker; v5/websocket/private/order,
# execution, wallet, position).
ORDERBOOK_TOPIC: Final = "orderbook.{depth}.{symbol}"
TRADE_TOPIC: Final = "publicTrade.{symbol}"
TICKER_TOPIC: Final = "tickers.{symbol}"
PRIVATE_ORDER_TOPIC: Final = "order"
PRIVATE_EXECUTION_TOPIC: Final = "execution"
PRIVATE_WALLET_TOPIC: Final = "wallet"
PRIVATE_POSITION_TOPIC: Final = "position"
# Depths of orderbook.{depth}.{symbol} (docs: v5/websocket/public/orderbook; spot 200 levels push
# every 200 ms, linear every 100 ms). Both feeds are depth-limited: a level that falls out of the
# subscribed depth gets no delete, so the book must be truncated to the depth after each message.
SPOT_ORDERBOOK_DEPTHS: Final = (1, 50, 200, 1000)
DEFAULT_ORDERBOOK_DEPTH: Final = 200

# --- Rate limits (docs: v5/rate-limit) ---------------------------------------------------------
# HTTP IP limit: 600 requests per 5-second window per IP, all endpoints together. Per-UID limits
# are per second and per endpoint (table "UTA2.0 Pro", default tier); the answer headers
# X-Bapi-Limit / X-Bapi-Limit-Status / X-Bapi-Limit-Reset-Timestamp report the live state.
IP_POOL: Final = "BYBIT_IP"
IP_LIMIT: Final = 600
IP_INTERVAL_S: Final = 5.0
LIMIT_HEADER: Final = "X-Bapi-Limit"
LIMIT_STATUS_HEADER: Final = "X-Bapi-Limit-Status"
LIMIT_RESET_HEADER: Final = "X-Bapi-Limit-Reset-Timestamp"


def endpoint_limit(path: str, per_second: int) -> RateLimit:
    """One endpoint's per-UID limit, also drawing one request from the IP pool."""
    return RateLimit(path, per_second, 1.0, 1, [LinkedLimitWeightPair(IP_POOL, 1)])


def public_limit(path: str) -> RateLimit:
    """A market-data endpoint: only the IP limit applies (no per-UID row in v5/rate-limit)."""
    return RateLimit(path, IP_LIMIT, IP_INTERVAL_S, 1, [LinkedLimitWeightPair(IP_POOL, 1)])


#: Limits both categories share: the IP pool, market data, and the queries that are 50/s for
#: spot and linear alike. ``SWITCH_MODE_PATH`` has no row in the table: IP pool only.
COMMON_RATE_LIMITS: Final[tuple[RateLimit, ...]] = (
    RateLimit(IP_POOL, IP_LIMIT, IP_INTERVAL_S),
    *(public_limit(p) for p in (SERVER_TIME_PATH, INSTRUMENTS_INFO_PATH, ORDERBOOK_PATH,
                                TICKERS_PATH, FUNDING_HISTORY_PATH, SWITCH_MODE_PATH)),
    *(endpoint_limit(p, 50) for p in (ORDER_REALTIME_PATH, ORDER_HISTORY_PATH, EXECUTION_LIST_PATH,
                                      WALLET_BALANCE_PATH, TRANSACTION_LOG_PATH, POSITION_LIST_PATH)),
)
SPOT_ORDER_RATE_PER_S: Final = 20  # /v5/order/create and /v5/order/cancel, spot
SPOT_RATE_LIMITS: Final[tuple[RateLimit, ...]] = (
    *COMMON_RATE_LIMITS,
    endpoint_limit(ORDER_CREATE_PATH, SPOT_ORDER_RATE_PER_S),
    endpoint_limit(ORDER_CANCEL_PATH, SPOT_ORDER_RATE_PER_S),
)

# --- Signed requests (docs: v5/guide "Parameters for Authenticated Endpoints") -----------------
# server_time - recv_window <= timestamp < server_time + 1000; recv_window defaults to 5000 ms.
API_KEY_HEADER: Final = "X-BAPI-API-KEY"
TIMESTAMP_HEADER: Final = "X-BAPI-TIMESTAMP"
RECV_WINDOW_HEADER: Final = "X-BAPI-RECV-WINDOW"
SIGN_HEADER: Final = "X-BAPI-SIGN"
DEFAULT_RECV_WINDOW_MS: Final = 5000
MAX_RECV_WINDOW_MS: Final = 60_000  # not documented as a bound: kept as Binance's sane ceiling

# --- Orders (docs: v5/order/create-order, v5/enum) ---------------------------------------------
SIDE_BUY: Final = "Buy"
SIDE_SELL: Final = "Sell"
ORDER_TYPE_LIMIT: Final = "Limit"
ORDER_TYPE_MARKET: Final = "Market"
TIME_IN_FORCES: Final = frozenset({"GTC", "IOC", "FOK", "PostOnly"})
MARKET_UNIT_BASE: Final = "baseCoin"  # spot market orders sized in base ("marketUnit")
# positionIdx: 0 one-way mode, 1 hedge-mode Buy side, 2 hedge-mode Sell side.
POSITION_IDX_ONE_WAY: Final = 0
POSITION_IDX_HEDGE_BUY: Final = 1
POSITION_IDX_HEDGE_SELL: Final = 2
# orderLinkId: "A max of 36 characters. Combinations of numbers, letters (upper and lower cases),
# dashes, and underscores are supported."
CLIENT_ORDER_ID_MAX_LENGTH: Final = 36
CLIENT_ORDER_ID_PATTERN: Final = r"[0-9A-Za-z_-]{1,36}"
CLIENT_ORDER_ID_PREFIX: Final = "ck"

# orderStatus (docs: v5/enum "orderStatus"). Untriggered/Triggered belong to conditional orders,
# which connectorkit never places; Deactivated cancels one before it triggers.
# PartiallyFilledCanceled: "Only spot has this order status" (the remainder was cancelled);
# Cancelled: "In derivatives, orders with this status may have an executed qty".
ORDER_STATE: Final[dict[str, OrderState]] = {
    "New": OrderState.OPEN,
    "PartiallyFilled": OrderState.PARTIALLY_FILLED,
    "Untriggered": OrderState.OPEN,
    "Triggered": OrderState.OPEN,
    "Rejected": OrderState.FAILED,
    "PartiallyFilledCanceled": OrderState.CANCELED,
    "Filled": OrderState.FILLED,
    "Cancelled": OrderState.CANCELED,
    "Deactivated": OrderState.CANCELED,
}
# rejectReason (docs: v5/enum "rejectReason") of a PostOnly order that would have taken.
REJECT_POST_ONLY_WOULD_TAKE: Final = "EC_PostOnlyWillTakeLiquidity"
EXEC_TYPE_TRADE: Final = "Trade"  # v5/enum "execType": the only kind that fills our orders

# --- retCode (docs: v5/error: "UMA & UTA & Futures of Classic Account" and "Spot Trade") --------
RET_OK: Final = 0
ERR_SERVER_TIMEOUT: Final = 10000
ERR_PARAMS: Final = 10001
ERR_TIMESTAMP_WINDOW: Final = 10002  # "The request time exceeds the time window range."
ERR_INVALID_API_KEY: Final = 10003
ERR_SIGN: Final = 10004
ERR_PERMISSION: Final = 10005
ERR_RATE_LIMIT: Final = 10006  # "Too many visits. Exceeded the API Rate Limit."
ERR_SERVER: Final = 10016
ERR_ORDER_NOT_EXIST: Final = 110001
ERR_ORDER_FINISHED: Final = 110008  # "The order has been completed or cancelled."
ERR_ORDER_LINK_ID_DUPLICATE: Final = 110072
ERR_LEVERAGE_NOT_MODIFIED: Final = 110043
ERR_POSITION_MODE_NOT_MODIFIED: Final = 110025
ERR_SPOT_TIMEOUT: Final = 170007
ERR_SPOT_BALANCE: Final = 170131  # "Balance insufficient"
ERR_SPOT_DUPLICATE_ID: Final = 170141
ERR_SPOT_CREATE_TIMEOUT: Final = 170146
ERR_SPOT_CANCEL_TIMEOUT: Final = 170147
ERR_SPOT_ORDER_NOT_EXIST: Final = 170213
ERR_SPOT_LIMIT_MAKER_REJECTED: Final = 170218  # "The LIMIT-MAKER order is rejected due to invalid price."

ORDER_NOT_FOUND_CODES: Final = frozenset({ERR_ORDER_NOT_EXIST, ERR_SPOT_ORDER_NOT_EXIST})
INSUFFICIENT_BALANCE_CODES: Final = frozenset({110004, 110006, 110007, 110012, 110044, 110045,
                                               ERR_SPOT_BALANCE})
POST_ONLY_WOULD_TAKE_CODES: Final = frozenset({ERR_SPOT_LIMIT_MAKER_REJECTED})
RATE_LIMIT_CODES: Final = frozenset({ERR_RATE_LIMIT, 170005, 170222})
TIMESTAMP_CODES: Final = frozenset({ERR_TIMESTAMP_WINDOW})
AUTH_CODES: Final = frozenset({ERR_INVALID_API_KEY, ERR_SIGN, ERR_PERMISSION, 10007, 10010})
DUPLICATE_ORDER_ID_CODES: Final = frozenset({ERR_ORDER_LINK_ID_DUPLICATE, ERR_SPOT_DUPLICATE_ID})
# The outcome of a write is unknown after these: resolve by querying orderLinkId.
EXECUTION_STATUS_UNKNOWN_CODES: Final = frozenset({ERR_SERVER_TIMEOUT, ERR_SERVER, ERR_SPOT_TIMEOUT,
                                                   ERR_SPOT_CREATE_TIMEOUT, ERR_SPOT_CANCEL_TIMEOUT})
