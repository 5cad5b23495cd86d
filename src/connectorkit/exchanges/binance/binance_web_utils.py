"""Binance Spot: URL builders from the endpoint overrides, rate limits and server time.

Endpoint overrides (issue 7): ``rest_url`` is a base ``scheme://host[:port]`` under which the
official REST paths (``/api/v3/...``) are appended; ``ws_url`` is the base under which the
market-stream paths (``/ws``, ``/stream?streams=...``) are appended; ``ws_api_url`` is the full
WebSocket-API endpoint (default ``wss://ws-api.binance.com:443/ws-api/v3``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance.binance_constants import LimitSpec
from connectorkit.net.errors import ExchangePayloadError, ExchangeRequestError
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import LinkedLimitWeightPair, RateLimit
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory

T = TypeVar("T")


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


def with_weight(specs: Iterable[LimitSpec], limit_id: str, pool: str, weight: int) -> list[LimitSpec]:
    """``specs`` with the weight that endpoint ``limit_id`` takes from ``pool`` replaced (e.g. the
    depth snapshot, whose weight depends on the configured ``limit``)."""
    return [
        dataclasses.replace(spec, linked=tuple((p, weight if p == pool else w) for p, w in spec.linked))
        if spec.limit_id == limit_id
        else spec
        for spec in specs
    ]


def rate_limits_from_specs(pools: Iterable[LimitSpec], endpoints: Iterable[LimitSpec]) -> list[RateLimit]:
    """The throttler's ``RateLimit`` s for documented pools and endpoints (pools first)."""
    return [
        RateLimit(
            limit_id=spec.limit_id,
            limit=spec.limit,
            time_interval=spec.interval_s,
            weight=spec.weight,
            linked_limits=[LinkedLimitWeightPair(pool, w) for pool, w in spec.linked if w > 0],
        )
        for spec in (*pools, *endpoints)
    ]


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


async def typed_request(
    factory: WebAssistantsFactory,
    url: str,
    response_type: type[T],
    *,
    method: RESTMethod = RESTMethod.GET,
    params: Mapping[str, Any] | None = None,
    limit_id: str,
    signed: bool = False,
    synchronizer: TimeSynchronizer | None = None,
    time_provider: Callable[[], Awaitable[float]] | None = None,
    is_timestamp_error: Callable[[BaseException], bool] | None = None,
) -> T:
    """One REST call decoded straight into ``response_type`` (a msgspec type: no intermediate dicts).

    A signed call whose timestamp the exchange rejects (-1021) is retried once after resyncing
    ``synchronizer`` from ``time_provider``; the retry is signed anew.
    """
    rest = await factory.get_rest_assistant()

    async def call() -> T:
        return await rest.execute_request(
            url, method=method, params=params, is_auth_required=signed, throttler_limit_id=limit_id,
            response_type=response_type,
        )

    if not signed:
        return await call()
    if synchronizer is None or time_provider is None or is_timestamp_error is None:
        raise ValueError("a signed call needs the synchronizer, time provider and timestamp error test")
    return await call_with_time_resync(
        call, synchronizer=synchronizer, time_provider=time_provider, is_timestamp_error=is_timestamp_error
    )


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
