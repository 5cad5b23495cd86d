"""Sending REST requests: process, throttle, authenticate, send, classify the answer.

Order of work for one call (:meth:`RESTAssistant.call`):

1. pre-processors (in order) may rewrite the request;
2. the throttler grants the request's limit id (this may wait);
3. the auth signs it -- *after* the wait, so signed timestamps are fresh;
4. the request is sent on the shared session with a total timeout and the body read;
5. post-processors see every answer (e.g. to read used-weight headers);
6. 2xx is returned; 429/418 pause the throttler (Retry-After honoured) and raise
   :class:`RateLimitedError`; any other status raises :class:`ExchangeRequestError` with the
   exchange's error code and message parsed from the body by the pluggable ``error_parser``.

Nothing is retried here: whether a call is safe to repeat (e.g. placing an order) is the caller's
decision. No URL, error or log line produced here contains a secret parameter or credential value.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

import aiohttp
import msgspec
from yarl import URL

from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import (
    ExchangeConnectionError,
    ExchangeRequestError,
    RateLimitedError,
    RequestTimeoutError,
    WebError,
)
from connectorkit.net.redaction import redact, url_without_secrets
from connectorkit.net.rest_request import RESTMethod, RESTRequest, RESTResponse, encode_query
from connectorkit.net.throttler import AsyncThrottler

_logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Parses an error body into the exchange's (code, message); either may be None.
ErrorParser = Callable[[bytes], tuple[int | str | None, str | None]]

#: HTTP statuses that mean "too many requests": 429, and 418 which Binance uses for an IP ban after
#: ignoring 429s; both carry a Retry-After header in seconds (Binance Spot API docs, "LIMITS",
#: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
RATE_LIMIT_STATUSES = frozenset({429, 418})

_MAX_MESSAGE_CHARS = 500


class AuthNotConfiguredError(WebError):
    """A request needs authentication but the assistant has no auth."""


class RESTPreProcessorBase(ABC):
    @abstractmethod
    async def pre_process(self, request: RESTRequest) -> RESTRequest:
        """Return the request to send (e.g. with a default header added)."""


class RESTPostProcessorBase(ABC):
    @abstractmethod
    async def post_process(self, response: RESTResponse) -> RESTResponse:
        """Return the response to classify and hand back (e.g. after reading a header)."""


class _ErrorBody(msgspec.Struct):
    code: int | str | None = None
    msg: str | None = None
    message: str | None = None


def parse_code_msg_error(body: bytes) -> tuple[int | str | None, str | None]:
    """Default error parser: ``{"code": -1121, "msg": "Invalid symbol."}`` (Binance, and many others
    that use ``message`` instead of ``msg``); a non-JSON body becomes the message as text."""
    try:
        parsed = msgspec.json.decode(body, type=_ErrorBody)
    except msgspec.DecodeError:
        text = body.decode("utf-8", errors="replace").strip()
        return None, text or None
    return parsed.code, parsed.msg if parsed.msg is not None else parsed.message


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - now())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class RESTAssistant:
    """Sends :class:`RESTRequest` s for one connector (see module docs for the steps).

    Built by :class:`~connectorkit.net.web_assistants_factory.WebAssistantsFactory`, which owns the
    session; do not close the session from here.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        throttler: AsyncThrottler,
        auth: AuthBase | None = None,
        pre_processors: Sequence[RESTPreProcessorBase] = (),
        post_processors: Sequence[RESTPostProcessorBase] = (),
        *,
        request_timeout: float = 10.0,
        error_parser: ErrorParser = parse_code_msg_error,
    ) -> None:
        self._session = session
        self._throttler = throttler
        self._auth = auth
        self._pre_processors = tuple(pre_processors)
        self._post_processors = tuple(post_processors)
        self._request_timeout = request_timeout
        self._error_parser = error_parser
        self._secret_names = auth.secret_param_names if auth is not None else frozenset()

    @property
    def throttler(self) -> AsyncThrottler:
        return self._throttler

    @overload
    async def execute_request(
        self,
        url: str,
        *,
        method: RESTMethod = ...,
        params: Mapping[str, Any] | None = ...,
        data: Mapping[str, Any] | str | bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        is_auth_required: bool = ...,
        throttler_limit_id: str | None = ...,
        request_timeout: float | None = ...,
    ) -> Any: ...

    @overload
    async def execute_request(
        self,
        url: str,
        *,
        method: RESTMethod = ...,
        params: Mapping[str, Any] | None = ...,
        data: Mapping[str, Any] | str | bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        is_auth_required: bool = ...,
        throttler_limit_id: str | None = ...,
        request_timeout: float | None = ...,
        response_type: type[T],
    ) -> T: ...

    async def execute_request(
        self,
        url: str,
        *,
        method: RESTMethod = RESTMethod.GET,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        is_auth_required: bool = False,
        throttler_limit_id: str | None = None,
        request_timeout: float | None = None,
        response_type: Any = Any,
    ) -> Any:
        """Build, send and JSON-decode one request (into ``response_type`` when given).

        ``request_timeout`` overrides the assistant's default for this call; it covers sending and
        reading the answer, not the wait for the throttler.
        """
        request = RESTRequest(
            method=method, url=url, params=params, data=data, headers=headers,
            is_auth_required=is_auth_required, throttler_limit_id=throttler_limit_id,
        )
        response = await self.call(request, request_timeout=request_timeout)
        return response.json(response_type)

    async def call(self, request: RESTRequest, *, request_timeout: float | None = None) -> RESTResponse:
        """Send one request and return its 2xx answer; see the module docs for errors raised."""
        for pre in self._pre_processors:
            request = await pre.pre_process(request)
        if request.is_auth_required and self._auth is None:
            raise AuthNotConfiguredError(f"{request.method} {self._safe(request.url)} needs auth")
        limit_id = request.throttler_limit_id or urlsplit(request.url).path
        async with self._throttler.execute_task(limit_id):
            if request.is_auth_required and self._auth is not None:
                request = await self._auth.rest_authenticate(request)
            seconds = self._request_timeout if request_timeout is None else request_timeout
            response = await self._send(request, seconds)
        for post in self._post_processors:
            response = await post.post_process(response)
        return self._classify(response)

    async def _send(self, request: RESTRequest, seconds: float) -> RESTResponse:
        url = request.url
        if request.params:
            url += ("&" if "?" in url else "?") + encode_query(request.params)
        safe_url = self._safe(url)
        headers = dict(request.headers or {})
        body: str | bytes | None
        if isinstance(request.data, Mapping):
            body = encode_query(request.data)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            body = request.data
        started = time.perf_counter()
        try:
            # No redirects: following one would resend the API key header and the signed query to
            # wherever the 3xx points. Exchange APIs never redirect, so a 3xx is raised as an error.
            async with self._session.request(
                request.method.value, URL(url, encoded=True), data=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=seconds), allow_redirects=False,
            ) as http_response:
                payload = await http_response.read()
                status = http_response.status
                response_headers = http_response.headers
        except TimeoutError:  # aiohttp's timeouts subclass asyncio.TimeoutError (== TimeoutError)
            raise RequestTimeoutError(request.method.value, safe_url, seconds) from None
        except aiohttp.ClientError as exc:
            # `from None`: aiohttp messages may embed the full URL; only the redacted text is kept.
            reason = self._redact(f"{type(exc).__name__}: {exc}")
            raise ExchangeConnectionError(request.method.value, safe_url, reason) from None
        elapsed_ms = 1000 * (time.perf_counter() - started)
        _logger.debug("%s %s -> %d in %.1f ms", request.method.value, safe_url, status, elapsed_ms)
        return RESTResponse(
            status=status, headers=response_headers, body=payload, method=request.method.value, url=safe_url
        )

    def _classify(self, response: RESTResponse) -> RESTResponse:
        if 200 <= response.status < 300:
            self._throttler.on_request_accepted()
            return response
        code, message = self._error_parser(response.body)
        if message is not None:
            message = self._redact(message[:_MAX_MESSAGE_CHARS])
        if response.status in RATE_LIMIT_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self._throttler.on_rate_limited(retry_after)
            raise RateLimitedError(
                status=response.status, method=response.method, url=response.url, code=code, message=message,
                retry_after=retry_after,
            )
        raise ExchangeRequestError(
            status=response.status, method=response.method, url=response.url, code=code, message=message
        )

    def _safe(self, url: str) -> str:
        return self._redact(url_without_secrets(url, self._secret_names))

    def _redact(self, text: str) -> str:
        return redact(text, self._auth.secret_values()) if self._auth is not None else text


