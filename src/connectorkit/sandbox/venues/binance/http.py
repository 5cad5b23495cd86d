"""The request pipeline every REST handler of every product goes through.

``gateway.endpoint(weight=..., security=...)`` turns ``async def handler(req: ApiRequest) -> Any`` into an
aiohttp handler that applies, in order: injected faults (delay, 5xx, forced 429), the REQUEST_WEIGHT
limit, API-key / timestamp / signature checks, the ORDERS limit for order placement, the handler, and
the unknown-status fault (for placements, AFTER the order was executed). Errors become Binance's
``{"code", "msg"}`` answers with rate-limit headers attached.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from connectorkit.sandbox.accounts import Account, AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.ratelimit import RateLimiter
from connectorkit.sandbox.responses import error_response, json_response
from connectorkit.sandbox.venues.binance import errors, security
from connectorkit.sandbox.venues.binance.errors import ApiError

log = logging.getLogger(__name__)

Security = Literal["NONE", "MARKET_DATA", "USER_STREAM", "SIGNED"]
_DECIMAL_RE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
_DECIMAL_PATTERN = re.compile(_DECIMAL_RE)
_INTEGER_RE = "^[0-9]{1,20}$"
_INTEGER_PATTERN = re.compile(_INTEGER_RE)


class ApiRequest:
    """Parsed request: merged query + form params (raw strings), the authenticated account."""

    __slots__ = ("account", "params", "request")

    def __init__(self, request: web.Request, params: dict[str, str], account: Account | None) -> None:
        self.request = request
        self.params = params
        self.account = account

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise errors.mandatory_param(name)
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        raw = self.require(name) if required else self.get(name)
        if raw is None:
            return None
        # Binance's own pattern: Python's Decimal() alone would also take "1e-2", "+1", " 1" or "1_0".
        if not _DECIMAL_PATTERN.fullmatch(raw):
            raise errors.illegal_chars(name, _DECIMAL_RE)
        return Decimal(raw)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        raw = self.require(name) if required else self.get(name)
        if raw is None:
            return None
        if not _INTEGER_PATTERN.fullmatch(raw):
            raise errors.illegal_chars(name, _INTEGER_RE)
        return int(raw)

    def boolean(self, name: str) -> bool | None:
        raw = self.get(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise errors.illegal_chars(name, "true|false")
        return raw.lower() == "true"

    @property
    def acct(self) -> Account:
        assert self.account is not None, "endpoint declared without authentication"
        return self.account


Handler = Callable[[ApiRequest], Awaitable[Any]]
Weight = int | Callable[[ApiRequest], int]


def _params(raw: str) -> dict[str, str]:
    """Decode one urlencoded source; a name repeated inside it is -1101."""
    pairs = parse_qsl(raw, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise errors.duplicate_param()
    return params


class ApiGateway:
    """One per product: its own rate limiter (and thus its own limits and header names)."""

    def __init__(
        self,
        accounts: AccountRegistry,
        clock: SandboxClock,
        faults: FaultInjector,
        limiter: RateLimiter,
        *,
        microsecond_timestamps: bool = False,
    ) -> None:
        """``microsecond_timestamps``: ``timestamp`` may also be given in microseconds (spot only)."""
        self.accounts = accounts
        self.clock = clock
        self.faults = faults
        self.limiter = limiter
        self.microsecond_timestamps = microsecond_timestamps

    def endpoint(
        self, *, weight: Weight, security: Security = "NONE", order: bool = False
    ) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
        def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def aio_handler(request: web.Request) -> web.StreamResponse:
                return await self._run(request, handler, weight, security, order)

            aio_handler.__name__ = handler.__name__
            aio_handler.__doc__ = handler.__doc__
            return aio_handler

        return wrap

    async def _run(
        self, request: web.Request, handler: Handler, weight: Weight, sec: Security, order: bool
    ) -> web.StreamResponse:
        path = request.path
        headers: dict[str, str] = {}
        try:
            delay = self.faults.take_rest_delay(path)
            if delay:
                await asyncio.sleep(delay)
            status = self.faults.take_rest_failure(path)
            if status is not None:
                raise errors.server_error(status)
            if self.faults.take_forced_429(path):
                err = self.limiter.too_much_weight(self.limiter.rules[0])
                err.headers["Retry-After"] = "1"
                raise err
            query = request.rel_url.raw_query_string
            body = (await request.text()) if request.can_read_body else ""
            params = _params(query)
            if body and request.content_type in ("application/x-www-form-urlencoded", ""):
                # Spot docs "General API Information": a parameter sent in both the query string and
                # the body takes the query string's value.
                params = {**_params(body), **params}
            req = ApiRequest(request, params, None)
            ip = request.remote or "?"
            now = self.clock.now_ms()
            cost = weight(req) if callable(weight) else weight
            headers.update(self.limiter.charge_weight(ip, cost, now))
            if sec != "NONE":
                req.account = security.authenticate_key(self.accounts, request.headers.get("X-MBX-APIKEY"))
            if sec == "SIGNED":
                assert req.account is not None
                security.check_signature(req.account.secret, query, body)
                security.check_timestamp(
                    params, self.clock.now_ms(), microseconds=self.microsecond_timestamps
                )
            if order:
                assert req.account is not None
                account_id = req.account.account_id
                headers.update(self.limiter.charge_order(account_id, now))
                try:
                    result = await handler(req)
                except ApiError:
                    self.limiter.order_rejected(account_id, now)
                    raise
                finally:
                    headers.update(self.limiter.order_headers(account_id, now))
                if self.faults.take_unknown_status(path):
                    raise errors.unknown_status()
            else:
                result = await handler(req)
            return json_response(result, 200, headers)
        except ApiError as err:
            return error_response(err, headers)
        except Exception:
            # A sandbox bug must not look like a network failure to the client under test.
            log.exception("sandbox handler %s failed", path)
            return error_response(
                ApiError(-1000, "An unknown error occurred while processing the request.", 500), headers
            )


@web.middleware
async def json_errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A path the sandbox does not serve answers as Binance's API does, in JSON: HTTP 404 with -1099
    (Spot "Error codes": NOT_FOUND), and a known path with the wrong method HTTP 405 with -1020
    ("This operation is not supported.") — never aiohttp's plain-text page."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_response(errors.not_found())
    except web.HTTPMethodNotAllowed:
        return error_response(ApiError(-1020, "This operation is not supported.", 405))
