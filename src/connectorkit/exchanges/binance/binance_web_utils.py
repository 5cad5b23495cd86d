"""Binance Spot: URL builders from the endpoint overrides, rate limits and server time.

Endpoint overrides (issue 7): ``rest_url`` is a base ``scheme://host[:port]`` under which the
official REST paths (``/api/v3/...``) are appended; ``ws_url`` is the base under which the
market-stream paths (``/ws``, ``/stream?streams=...``) are appended; ``ws_api_url`` is the full
WebSocket-API endpoint (default ``wss://ws-api.binance.com:443/ws-api/v3``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.net.errors import ExchangePayloadError, ExchangeRequestError
from connectorkit.net.rate_limit_specs import with_weight
from connectorkit.net.throttler import RateLimit, rate_limits_from_specs


def _base(url: str) -> str:
    if "://" not in url:
        raise ValueError(f"endpoint override must be scheme://host[:port], got {url!r}")
    return url.rstrip("/")


def rest_url(path: str, base_url: str = CONSTANTS.DEFAULT_REST_URL) -> str:
    """``base_url`` + an official REST path (``/api/v3/...``)."""
    return _base(base_url) + path


def combined_stream_url(streams: Sequence[str], base_url: str = CONSTANTS.DEFAULT_WS_URL) -> str:
    """``<ws_url>/stream?streams=a/b/c`` (docs: "WebSocket Streams > General WSS information")."""
    if not streams:
        raise ValueError("at least one stream is required")
    return f"{_base(base_url)}{CONSTANTS.WS_COMBINED_PATH}?streams={'/'.join(streams)}"


def ws_api_url(url: str = CONSTANTS.DEFAULT_WS_API_URL) -> str:
    return _base(url)


def build_rate_limits(depth_limit: int = CONSTANTS.DEFAULT_SNAPSHOT_LIMIT) -> list[RateLimit]:
    """Binance Spot's documented limits; the depth snapshot is charged for ``depth_limit`` levels."""
    weight = CONSTANTS.depth_weight(depth_limit)
    endpoints = with_weight(CONSTANTS.ENDPOINT_LIMITS, CONSTANTS.DEPTH_PATH, CONSTANTS.REQUEST_WEIGHT, weight)
    return rate_limits_from_specs(CONSTANTS.POOL_LIMITS, endpoints)


def parse_server_time(body: Any) -> float:
    """Seconds since the epoch from a ``GET /api/v3/time`` answer ``{"serverTime": ms}``."""
    server_time = body.get("serverTime") if isinstance(body, dict) else None
    if not isinstance(server_time, int) or isinstance(server_time, bool):
        raise ExchangePayloadError(f"unexpected server time answer: {body!r}")
    return server_time / 1000.0


# ---- error classification (spot and USDⓈ-M use the same codes: "Error Codes" of both docs) ------


def exchange_error_code(exc: BaseException) -> int | None:
    """Binance's numeric error code carried by a failed request, if any."""
    code = exc.code if isinstance(exc, ExchangeRequestError) else None
    return code if isinstance(code, int) else None


def is_order_not_found(exc: BaseException) -> bool:
    """-2013 "Order does not exist." (query), or -2011 with "Unknown order sent." (cancel); other
    -2011 messages (e.g. cancel restrictions) are not "not found"."""
    code = exchange_error_code(exc)
    if code == CONSTANTS.ERR_NO_SUCH_ORDER:
        return True
    message = exc.message if isinstance(exc, ExchangeRequestError) else None
    return code == CONSTANTS.ERR_CANCEL_REJECTED and CONSTANTS.UNKNOWN_ORDER_MESSAGE in (message or "")


def is_execution_status_unknown(exc: BaseException) -> bool:
    """-1000/-1006/-1007: the exchange cannot say whether the request was executed."""
    return exchange_error_code(exc) in CONSTANTS.EXECUTION_STATUS_UNKNOWN_CODES


def is_timestamp_error(exc: BaseException) -> bool:
    """-1021: the request's timestamp is outside recvWindow (the clock must be resynchronised)."""
    return exchange_error_code(exc) == CONSTANTS.ERR_INVALID_TIMESTAMP
