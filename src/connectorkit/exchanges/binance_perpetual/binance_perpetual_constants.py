"""Binance USDⓈ-M Futures: endpoints, paths, request weights, rate limits, enums and error codes.

Every block cites the section of the official USDⓈ-M Futures documentation
(https://developers.binance.com/docs/derivatives/usds-margined-futures) it was taken from.

User data subscription (current official method, checked 2026-11):
    A listen key is created with ``POST /fapi/v1/listenKey`` (weight 1), kept alive with
    ``PUT /fapi/v1/listenKey`` (it expires 60 min after creation or the last keep-alive; Binance
    recommends a keep-alive every 30 min; a PUT answered with -1125 means the key is gone and a new
    one must be created with POST) and closed with ``DELETE /fapi/v1/listenKey`` (docs: "User Data
    Streams > Start/Keepalive/Close User Data Stream"). Since the 2026 split of
    ``fstream.binance.com`` into routed paths (``/public`` high-frequency market data such as
    ``@depth``, ``/market`` regular market data such as ``@markPrice`` and ``@aggTrade``,
    ``/private`` user data), the stream is read at ``<ws_url>/private/ws?listenKey=<key>&events=...``
    where ``events`` is an allow-list of the event types to deliver (``ORDER_TRADE_UPDATE``,
    ``ACCOUNT_UPDATE``, ``listenKeyExpired``...). A connection lives at most 24 h; the server sends
    ``listenKeyExpired`` when the key lapses (docs: "User Data Streams > Event: User Data Stream
    Expired").
"""

from __future__ import annotations

from typing import Final

from connectorkit.core.enums import OrderState, PositionMode, TimeInForce
from connectorkit.net.rate_limit_specs import LimitSpec

EXCHANGE_NAME: Final = "binance_perpetual"

# --- Base endpoints (docs: "General Info > General API Information", "Websocket Market Streams") --
DEFAULT_REST_URL: Final = "https://fapi.binance.com"
DEFAULT_WS_URL: Final = "wss://fstream.binance.com"

# Routed stream paths under ws_url (docs: "Websocket Market Streams"; the /public, /market and
# /private routes). A connection without a route only receives /public data.
WS_PUBLIC_ROUTE: Final = "/public"
WS_MARKET_ROUTE: Final = "/market"
WS_PRIVATE_ROUTE: Final = "/private"
WS_RAW_PATH: Final = "/ws"
WS_COMBINED_PATH: Final = "/stream"
DIFF_DEPTH_STREAM: Final = "{symbol}@depth@100ms"  # "Diff. Book Depth Streams" (route /public)
TRADE_STREAM: Final = "{symbol}@aggTrade"  # "Aggregate Trade Streams" (route /market)
MARK_PRICE_STREAM: Final = "{symbol}@markPrice@1s"  # "Mark Price Stream" (route /market)
# ``events`` is an allow-list: an event type not named here is never delivered on /private.
USER_STREAM_EVENTS: Final = (
    "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ACCOUNT_CONFIG_UPDATE", "listenKeyExpired"
)
MAX_STREAMS_PER_CONNECTION: Final = 1024  # "Websocket Market Streams": max 1024 streams
WS_HEARTBEAT_S: Final = 20.0

# --- REST paths (docs: "Market Data Endpoints", "Trade", "Account", "User Data Streams") -------
PING_PATH: Final = "/fapi/v1/ping"
SERVER_TIME_PATH: Final = "/fapi/v1/time"
EXCHANGE_INFO_PATH: Final = "/fapi/v1/exchangeInfo"
DEPTH_PATH: Final = "/fapi/v1/depth"
TICKER_PRICE_PATH: Final = "/fapi/v1/ticker/price"  # "Symbol Price Ticker"
PREMIUM_INDEX_PATH: Final = "/fapi/v1/premiumIndex"  # "Mark Price" (mark, index, funding)
ORDER_PATH: Final = "/fapi/v1/order"
OPEN_ORDERS_PATH: Final = "/fapi/v1/openOrders"
USER_TRADES_PATH: Final = "/fapi/v1/userTrades"  # "Account Trade List"
INCOME_PATH: Final = "/fapi/v1/income"  # "Get Income History"
LEVERAGE_PATH: Final = "/fapi/v1/leverage"  # "Change Initial Leverage"
POSITION_SIDE_PATH: Final = "/fapi/v1/positionSide/dual"  # "Change/Get Current Position Mode"
# The V2 account endpoints are used (still documented): unlike V3, positionRisk V2 reports each
# position's leverage, which Position needs.
ACCOUNT_PATH: Final = "/fapi/v2/account"  # "Account Information V2"
BALANCE_PATH: Final = "/fapi/v2/balance"  # "Futures Account Balance V2"
POSITION_RISK_PATH: Final = "/fapi/v2/positionRisk"  # "Position Information V2"
LISTEN_KEY_PATH: Final = "/fapi/v1/listenKey"

# --- Request weights (docs: the "Request Weight" line of each endpoint) ---------------------
PING_WEIGHT: Final = 1
SERVER_TIME_WEIGHT: Final = 1
EXCHANGE_INFO_WEIGHT: Final = 1
TICKER_PRICE_WEIGHT: Final = 1  # one symbol
PREMIUM_INDEX_WEIGHT: Final = 1  # with symbol (10 without)
ORDER_WEIGHT: Final = 0  # New Order: 0 on the IP weight, 1 on each ORDERS limit
CANCEL_ORDER_WEIGHT: Final = 1
QUERY_ORDER_WEIGHT: Final = 1
OPEN_ORDERS_WEIGHT: Final = 1  # with symbol (40 without)
USER_TRADES_WEIGHT: Final = 5
INCOME_WEIGHT: Final = 30
LEVERAGE_WEIGHT: Final = 1
POSITION_SIDE_CHANGE_WEIGHT: Final = 1
POSITION_SIDE_GET_WEIGHT: Final = 30
ACCOUNT_WEIGHT: Final = 5
BALANCE_WEIGHT: Final = 5
POSITION_RISK_WEIGHT: Final = 5
LISTEN_KEY_WEIGHT: Final = 1


def depth_weight(limit: int) -> int:
    """Weight of ``GET /fapi/v1/depth`` (docs: "Order Book": 5/10/20/50 → 2, 100 → 5, 500 → 10,
    1000 → 20)."""
    if limit <= 50:
        return 2
    if limit <= 100:
        return 5
    if limit <= 500:
        return 10
    return 20


DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)  # the only valid values of ``limit``
DEFAULT_SNAPSHOT_LIMIT: Final = 1000

# --- Rate limits (docs: "General Info > Limits" and GET /fapi/v1/exchangeInfo "rateLimits":
# REQUEST_WEIGHT 2400 per 1 MINUTE (IP), ORDERS 1200 per 1 MINUTE and 300 per 10 SECOND (account))
REQUEST_WEIGHT: Final = "REQUEST_WEIGHT"
ORDERS_1MIN: Final = "ORDERS_1MIN"
ORDERS_10S: Final = "ORDERS_10S"

POOL_LIMITS: Final[tuple[LimitSpec, ...]] = (
    LimitSpec(REQUEST_WEIGHT, 2400, 60.0),
    LimitSpec(ORDERS_1MIN, 1200, 60.0),
    LimitSpec(ORDERS_10S, 300, 10.0),
)


# GET /fapi/v1/exchangeInfo "rateLimits" entries (rateLimitType, window in seconds) -> our pool
# ("Common Definition > Rate limiters / Rate limit intervals": SECOND, MINUTE, DAY x intervalNum).
ADVERTISED_LIMIT_POOLS: Final[dict[tuple[str, int], str]] = {
    ("REQUEST_WEIGHT", 60): REQUEST_WEIGHT,
    ("ORDERS", 60): ORDERS_1MIN,
    ("ORDERS", 10): ORDERS_10S,
}


def _ip(limit_id: str, weight: int) -> LimitSpec:
    return LimitSpec(limit_id, 2400, 60.0, 1, ((REQUEST_WEIGHT, weight),))


ENDPOINT_LIMITS: Final[tuple[LimitSpec, ...]] = (
    _ip(PING_PATH, PING_WEIGHT),
    _ip(SERVER_TIME_PATH, SERVER_TIME_WEIGHT),
    _ip(EXCHANGE_INFO_PATH, EXCHANGE_INFO_WEIGHT),
    _ip(DEPTH_PATH, depth_weight(DEFAULT_SNAPSHOT_LIMIT)),
    _ip(TICKER_PRICE_PATH, TICKER_PRICE_WEIGHT),
    _ip(PREMIUM_INDEX_PATH, PREMIUM_INDEX_WEIGHT),
    LimitSpec(ORDER_PATH, 2400, 60.0, 1, ((ORDERS_1MIN, 1), (ORDERS_10S, 1))),
    _ip("DELETE " + ORDER_PATH, CANCEL_ORDER_WEIGHT),
    _ip("GET " + ORDER_PATH, QUERY_ORDER_WEIGHT),
    _ip(OPEN_ORDERS_PATH, OPEN_ORDERS_WEIGHT),
    _ip(USER_TRADES_PATH, USER_TRADES_WEIGHT),
    _ip(INCOME_PATH, INCOME_WEIGHT),
    _ip(LEVERAGE_PATH, LEVERAGE_WEIGHT),
    _ip(POSITION_SIDE_PATH, POSITION_SIDE_CHANGE_WEIGHT),
    _ip("GET " + POSITION_SIDE_PATH, POSITION_SIDE_GET_WEIGHT),
    _ip(ACCOUNT_PATH, ACCOUNT_WEIGHT),
    _ip(BALANCE_PATH, BALANCE_WEIGHT),
    _ip(POSITION_RISK_PATH, POSITION_RISK_WEIGHT),
    _ip(LISTEN_KEY_PATH, LISTEN_KEY_WEIGHT),
)

# --- Signed requests (docs: "General Info > Endpoint Security Type / Timing security") --------
DEFAULT_RECV_WINDOW_MS: Final = 5000
MAX_RECV_WINDOW_MS: Final = 60_000

# --- Listen key lifetime (docs: "User Data Streams > Connect") --------------------------------
LISTEN_KEY_VALIDITY_S: Final = 3600.0
LISTEN_KEY_KEEPALIVE_S: Final = 1800.0

# --- Orders (docs: "Common Definition") ---------------------------------------------------------
SIDE_BUY: Final = "BUY"
SIDE_SELL: Final = "SELL"
TIME_IN_FORCE_GTC: Final = "GTC"
TIME_IN_FORCE_GTX: Final = "GTX"  # Good Till Crossing (post-only)
# "Common Definition > Time in force (timeInForce)": GTC, IOC, FOK, GTX (post-only, our
# LIMIT_MAKER) and GTD (needs goodTillDate: not offered). "Trade > New Order": LIMIT orders send
# timeInForce; a FOK that cannot fill at once is rejected (-5021), an IOC remainder expires.
TIME_IN_FORCE: Final[dict[TimeInForce, str]] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}
ORDER_RESP_TYPE_RESULT: Final = "RESULT"

ORDER_STATE: Final[dict[str, OrderState]] = {
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
    "EXPIRED": OrderState.CANCELED,
    "EXPIRED_IN_MATCH": OrderState.CANCELED,
}

# Position mode ("Change Position Mode": dualSidePosition "true" = Hedge Mode, "false" = One-way)
DUAL_SIDE_POSITION: Final[dict[PositionMode, str]] = {
    PositionMode.HEDGE: "true",
    PositionMode.ONEWAY: "false",
}

# Income types (docs: "Get Income History": incomeType)
INCOME_TYPE_FUNDING_FEE: Final = "FUNDING_FEE"
INCOME_LIMIT_MAX: Final = 1000  # "Get Income History": limit default 100, max 1000
FUNDING_INTERVAL_S: Final = 8 * 3600  # default funding interval of USDⓈ-M perpetuals

# --- Client order ids (docs: "New Order": newClientOrderId must match
# '^[\.A-Z\:/a-z0-9_-]{1,36}$') ------------------------------------------------------------------
CLIENT_ORDER_ID_MAX_LENGTH: Final = 36
CLIENT_ORDER_ID_PATTERN: Final = r"[\.A-Z\:/a-z0-9_-]{1,36}"  # full match
CLIENT_ORDER_ID_PREFIX: Final = "ck"

# --- Error codes (docs: "Error Codes") --------------------------------------------------------
# The codes both products share (-1000/-1006/-1007 status unknown, -1021 timestamp, -2011 "Unknown
# order sent.", -2013 "Order does not exist.") live in binance_constants and are classified for both
# by binance_web_utils; only the USDⓈ-M-specific codes the connector acts on are here.
ERR_INVALID_LISTEN_KEY: Final = -1125  # "This listenKey does not exist."
ERR_NO_NEED_TO_CHANGE_POSITION_SIDE: Final = -4059  # "No need to change position side."
