"""Binance Spot: endpoints, paths, request weights, rate limits, enums and error codes.

Every block cites the section of the official Binance Spot API documentation
(https://developers.binance.com/docs/binance-spot-api-docs) it was taken from. Rate limits are
expressed as plain data (:class:`~connectorkit.net.rate_limit_specs.LimitSpec`) so this module
has no dependency on the web layer; ``binance_web_utils.build_rate_limits()`` turns them into the
throttler's ``RateLimit`` objects.

User data subscription (current official method, checked 2026-11):
    Binance discontinued the spot listenKey mechanism (``POST/PUT/DELETE /api/v3/userDataStream``)
    on 2026-02-20 ("Spot API change log" and the Binance announcement of the listenKey
    discontinuation). The current official way to receive spot user data is the WebSocket API
    (``wss://ws-api.binance.com:443/ws-api/v3``) request ``userDataStream.subscribe.signature``
    (docs: "WebSocket API > User Data Stream requests > Subscribe to User Data Stream through
    signature subscription (USER_STREAM)", weight 2). It needs no listen key and no keep-alive: the
    subscription lives as long as the connection (max 24 h, server pings every 20 s); events arrive
    as ``{"subscriptionId": n, "event": {...}}``. The listen-key path is kept below only because
    the signer must know it as a USER_STREAM (key-only) endpoint.
"""

from __future__ import annotations

from typing import Final

from connectorkit.core.enums import OrderState, TimeInForce
from connectorkit.net.rate_limit_specs import LimitSpec

EXCHANGE_NAME: Final = "binance"

# --- Base endpoints -------------------------------------------------------------------------
# docs: "General API Information" (REST base endpoint), "WebSocket Streams > General WSS
# information" (stream base endpoint), "WebSocket API > General API Information" (WS-API endpoint).
DEFAULT_REST_URL: Final = "https://api.binance.com"
DEFAULT_WS_URL: Final = "wss://stream.binance.com:9443"
DEFAULT_WS_API_URL: Final = "wss://ws-api.binance.com:443/ws-api/v3"

# Market streams: raw streams at /ws/<streamName>, combined streams at /stream?streams=a/b/c
# (docs: "WebSocket Streams > General WSS information").
WS_RAW_PATH: Final = "/ws"
WS_COMBINED_PATH: Final = "/stream"
DIFF_DEPTH_STREAM: Final = "{symbol}@depth@100ms"  # "Diff. Depth Stream", 100 ms update speed
TRADE_STREAM: Final = "{symbol}@trade"  # "Trade Streams"
# A single connection may carry at most 1024 streams ("General WSS information").
MAX_STREAMS_PER_CONNECTION: Final = 1024
# The server pings every 20 s and disconnects after 1 min without a pong
# ("General WSS information"); the WS-API does the same ("WebSocket API > General API Information").
WS_HEARTBEAT_S: Final = 20.0

# --- REST paths (docs: "General endpoints", "Market Data endpoints", "Trading endpoints",
# "Account Endpoints", "User Data Stream") --------------------------------------------------
PING_PATH: Final = "/api/v3/ping"
SERVER_TIME_PATH: Final = "/api/v3/time"
EXCHANGE_INFO_PATH: Final = "/api/v3/exchangeInfo"
DEPTH_PATH: Final = "/api/v3/depth"
TICKER_PRICE_PATH: Final = "/api/v3/ticker/price"  # "Symbol price ticker"
ORDER_PATH: Final = "/api/v3/order"
OPEN_ORDERS_PATH: Final = "/api/v3/openOrders"
ACCOUNT_PATH: Final = "/api/v3/account"
MY_TRADES_PATH: Final = "/api/v3/myTrades"
USER_DATA_STREAM_PATH: Final = "/api/v3/userDataStream"  # deprecated listen-key endpoints

# --- Request weights (docs: the "Weight" line of each endpoint) -----------------------------
PING_WEIGHT: Final = 1
SERVER_TIME_WEIGHT: Final = 1
EXCHANGE_INFO_WEIGHT: Final = 20
TICKER_PRICE_WEIGHT: Final = 2  # one symbol
ORDER_WEIGHT: Final = 1  # POST /api/v3/order; also 1 unit of each ORDERS limit
CANCEL_ORDER_WEIGHT: Final = 1  # DELETE /api/v3/order
QUERY_ORDER_WEIGHT: Final = 4  # GET /api/v3/order
OPEN_ORDERS_WEIGHT: Final = 6  # GET /api/v3/openOrders with symbol
OPEN_ORDERS_ALL_WEIGHT: Final = 80  # GET /api/v3/openOrders without symbol
ACCOUNT_WEIGHT: Final = 20
# GET /api/v3/myTrades ("Account trade list"): weight 20 without orderId, 5 with orderId. The
# connector only ever asks for one order's trades (orderId set), so that is what it is charged.
MY_TRADES_BY_ORDER_WEIGHT: Final = 5
USER_DATA_STREAM_WEIGHT: Final = 2
WS_API_CONNECT_WEIGHT: Final = 1  # "WebSocket API > IP limits: connecting costs 1 weight"
WS_API_SUBSCRIBE_WEIGHT: Final = 2  # userDataStream.subscribe.signature


def depth_weight(limit: int) -> int:
    """Weight of ``GET /api/v3/depth`` for ``limit`` (docs: "Order book", weight table)."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


DEFAULT_SNAPSHOT_LIMIT: Final = 1000  # deepest snapshot before the weight jumps to 250

# --- Rate limits ------------------------------------------------------------------------------
# docs: "REST API > LIMITS" and "ENUM Definitions > Rate limiters (rateLimitType)"; the values are
# those that GET /api/v3/exchangeInfo publishes ("rateLimits"): REQUEST_WEIGHT 6000 per 1 MINUTE,
# ORDERS 100 per 10 SECOND and 200000 per 1 DAY, RAW_REQUESTS 61000 per 5 MINUTE.
# Weight is counted per IP, orders per account; every request also counts once in RAW_REQUESTS.
REQUEST_WEIGHT: Final = "REQUEST_WEIGHT"
ORDERS_10S: Final = "ORDERS_10S"
ORDERS_1D: Final = "ORDERS_1D"
RAW_REQUESTS: Final = "RAW_REQUESTS"


POOL_LIMITS: Final[tuple[LimitSpec, ...]] = (
    LimitSpec(REQUEST_WEIGHT, 6000, 60.0),
    LimitSpec(ORDERS_10S, 100, 10.0),
    LimitSpec(ORDERS_1D, 200_000, 86_400.0),
    LimitSpec(RAW_REQUESTS, 61_000, 300.0),
)


# GET /api/v3/exchangeInfo "rateLimits" entries (rateLimitType, window in seconds) -> our pool.
# Windows: "ENUM Definitions > Rate limit intervals (interval)" SECOND, MINUTE, DAY times intervalNum.
RATE_LIMIT_INTERVAL_S: Final[dict[str, int]] = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86_400}
ADVERTISED_LIMIT_POOLS: Final[dict[tuple[str, int], str]] = {
    ("REQUEST_WEIGHT", 60): REQUEST_WEIGHT,
    ("ORDERS", 10): ORDERS_10S,
    ("ORDERS", 86_400): ORDERS_1D,
    ("RAW_REQUESTS", 300): RAW_REQUESTS,
}


def _ip(limit_id: str, weight: int) -> LimitSpec:
    """An endpoint that only draws request weight (and one raw request)."""
    return LimitSpec(limit_id, 6000, 60.0, 1, ((REQUEST_WEIGHT, weight), (RAW_REQUESTS, 1)))


ENDPOINT_LIMITS: Final[tuple[LimitSpec, ...]] = (
    _ip(PING_PATH, PING_WEIGHT),
    _ip(SERVER_TIME_PATH, SERVER_TIME_WEIGHT),
    _ip(EXCHANGE_INFO_PATH, EXCHANGE_INFO_WEIGHT),
    _ip(DEPTH_PATH, depth_weight(DEFAULT_SNAPSHOT_LIMIT)),
    _ip(TICKER_PRICE_PATH, TICKER_PRICE_WEIGHT),
    LimitSpec(
        ORDER_PATH,
        6000,
        60.0,
        1,
        ((REQUEST_WEIGHT, ORDER_WEIGHT), (ORDERS_10S, 1), (ORDERS_1D, 1), (RAW_REQUESTS, 1)),
    ),
    _ip("DELETE " + ORDER_PATH, CANCEL_ORDER_WEIGHT),
    _ip("GET " + ORDER_PATH, QUERY_ORDER_WEIGHT),
    _ip(OPEN_ORDERS_PATH, OPEN_ORDERS_WEIGHT),
    _ip(ACCOUNT_PATH, ACCOUNT_WEIGHT),
    _ip(MY_TRADES_PATH, MY_TRADES_BY_ORDER_WEIGHT),
    _ip(USER_DATA_STREAM_PATH, USER_DATA_STREAM_WEIGHT),
    _ip("WS_API_CONNECT", WS_API_CONNECT_WEIGHT),
    _ip("userDataStream.subscribe.signature", WS_API_SUBSCRIBE_WEIGHT),
)

# --- Signed requests (docs: "Endpoint security type > Timing security") ----------------------
API_KEY_HEADER: Final = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW_MS: Final = 5000
MAX_RECV_WINDOW_MS: Final = 60_000

# --- Orders (docs: "ENUM Definitions") ---------------------------------------------------------
SIDE_BUY: Final = "BUY"
SIDE_SELL: Final = "SELL"
TIME_IN_FORCE_GTC: Final = "GTC"
# "ENUM Definitions > Time in force (timeInForce)": GTC "Good Til Canceled", IOC "Immediate Or
# Cancel" (fills what it can, the rest expires), FOK "Fill or Kill" (expires unless it fills
# entirely). "Trading endpoints > New order": mandatory for LIMIT, not sent with MARKET or
# LIMIT_MAKER (-1106 "Parameter 'timeInForce' sent when not required.").
TIME_IN_FORCE: Final[dict[TimeInForce, str]] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}
ORDER_RESP_TYPE_FULL: Final = "FULL"
ORDER_RESP_TYPE_RESULT: Final = "RESULT"

# Order status (docs: "ENUM Definitions > Order status (status)"). EXPIRED covers IOC/market
# remainders and exchange-side expiry; the remainder is no longer working, so it is CANCELED for us.
# PENDING_CANCEL is documented as "currently unused"; PENDING_NEW belongs to order lists.
ORDER_STATE: Final[dict[str, OrderState]] = {
    "PENDING_NEW": OrderState.PENDING_CREATE,
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "PENDING_CANCEL": OrderState.PENDING_CANCEL,
    "CANCELED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
    "EXPIRED": OrderState.CANCELED,
    "EXPIRED_IN_MATCH": OrderState.CANCELED,
}

# --- Client order ids ("New order": newClientOrderId "A unique id among open orders"). The spot
# engine answers an id outside its legal range with -1100 ILLEGAL_CHARS "Illegal characters found in
# parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'." (the range as Binance's API
# team quoted it in binance/binance-spot-api-docs PR #34: a '.' is refused; USDⓈ-M allows more).
CLIENT_ORDER_ID_MAX_LENGTH: Final = 36
CLIENT_ORDER_ID_PATTERN: Final = r"[a-zA-Z0-9_-]{1,36}"  # full match
CLIENT_ORDER_ID_PREFIX: Final = "ck"

# --- Error codes (docs: "Error Codes") --------------------------------------------------------
ERR_UNKNOWN: Final = -1000
ERR_DISCONNECTED: Final = -1001
ERR_TOO_MANY_REQUESTS: Final = -1003
ERR_UNEXPECTED_RESP: Final = -1006  # "Execution status unknown."
ERR_TIMEOUT: Final = -1007  # "Send status unknown; execution status unknown."
ERR_SERVER_BUSY: Final = -1008
ERR_TOO_MANY_ORDERS: Final = -1015
ERR_INVALID_TIMESTAMP: Final = -1021  # "Timestamp for this request is outside of the recvWindow."
ERR_INVALID_SIGNATURE: Final = -1022
ERR_ILLEGAL_CHARS: Final = -1100
ERR_BAD_SYMBOL: Final = -1121
ERR_INVALID_LISTEN_KEY: Final = -1125
ERR_NEW_ORDER_REJECTED: Final = -2010
ERR_CANCEL_REJECTED: Final = -2011  # message "Unknown order sent." when the order is not found
ERR_NO_SUCH_ORDER: Final = -2013  # "Order does not exist."
ERR_BAD_API_KEY_FMT: Final = -2014
ERR_REJECTED_MBX_KEY: Final = -2015
ERR_ORDER_ARCHIVED: Final = -2026

UNKNOWN_ORDER_MESSAGE: Final = "Unknown order sent."
# Codes after which the outcome of a write is unknown and must be resolved by polling
# (docs: "HTTP Return Codes": a 5XX "does not necessarily mean that your request has failed").
EXECUTION_STATUS_UNKNOWN_CODES: Final = frozenset({ERR_UNKNOWN, ERR_UNEXPECTED_RESP, ERR_TIMEOUT})
