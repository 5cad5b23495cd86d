"""Binance USDⓈ-M Futures: URL builders from the endpoint overrides and rate limits.

``rest_url`` is the base under which ``/fapi/...`` paths are appended; ``ws_url`` is the base of
the routed stream paths (docs: "Websocket Market Streams"): high-frequency market data (depth)
under ``/public``, regular market data (mark price, aggregate trades) under ``/market`` and the
user data stream under ``/private``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from connectorkit.exchanges.binance import binance_web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS
from connectorkit.net.rate_limit_specs import with_weight
from connectorkit.net.throttler import RateLimit, rate_limits_from_specs

parse_server_time = binance_web_utils.parse_server_time
# USDⓈ-M uses the same codes as spot for these ("Error Codes"): -2013, -2011, -1000/-1006/-1007, -1021.
exchange_error_code = binance_web_utils.exchange_error_code
is_order_not_found = binance_web_utils.is_order_not_found
is_execution_status_unknown = binance_web_utils.is_execution_status_unknown
is_timestamp_error = binance_web_utils.is_timestamp_error


def rest_url(path: str, base_url: str = CONSTANTS.DEFAULT_REST_URL) -> str:
    return binance_web_utils.rest_url(path, base_url)


def _routed(base_url: str, route: str, routed: bool) -> str:
    return base_url.rstrip("/") + (route if routed else "")


def public_stream_url(
    streams: Sequence[str], base_url: str = CONSTANTS.DEFAULT_WS_URL, *, routed: bool = True
) -> str:
    """``<ws_url>/public/stream?streams=...`` for depth streams (no ``/public`` when unrouted)."""
    base = _routed(base_url, CONSTANTS.WS_PUBLIC_ROUTE, routed)
    return binance_web_utils.combined_stream_url(streams, base)


def market_stream_url(
    streams: Sequence[str], base_url: str = CONSTANTS.DEFAULT_WS_URL, *, routed: bool = True
) -> str:
    """``<ws_url>/market/stream?streams=...`` for mark price and trade streams."""
    base = _routed(base_url, CONSTANTS.WS_MARKET_ROUTE, routed)
    return binance_web_utils.combined_stream_url(streams, base)


def private_stream_url(
    listen_key: str,
    base_url: str = CONSTANTS.DEFAULT_WS_URL,
    events: Sequence[str] = CONSTANTS.USER_STREAM_EVENTS,
    *,
    routed: bool = True,
) -> str:
    """Routed: ``<ws_url>/private/ws?listenKey=<key>&events=A/B/C`` (``events`` is an allow-list);
    unrouted (legacy layout): ``<ws_url>/ws/<key>``."""
    if not listen_key:
        raise ValueError("listen key is empty")
    key = quote(listen_key, safe="")
    if not routed:
        return binance_web_utils.rest_url(f"{CONSTANTS.WS_RAW_PATH}/{key}", base_url)
    base = binance_web_utils.rest_url(CONSTANTS.WS_PRIVATE_ROUTE + CONSTANTS.WS_RAW_PATH, base_url)
    return f"{base}?listenKey={key}&events={'/'.join(events)}"


def build_rate_limits(depth_limit: int = CONSTANTS.DEFAULT_SNAPSHOT_LIMIT) -> list[RateLimit]:
    """The documented USDⓈ-M limits; the depth snapshot is charged for ``depth_limit`` levels."""
    endpoints = with_weight(
        CONSTANTS.ENDPOINT_LIMITS, CONSTANTS.DEPTH_PATH, CONSTANTS.REQUEST_WEIGHT,
        CONSTANTS.depth_weight(depth_limit),
    )
    return rate_limits_from_specs(CONSTANTS.POOL_LIMITS, endpoints)
