"""Typed errors of the web layer.

Every error here is built from already-sanitised text (see :mod:`connectorkit.net.redaction`):
URLs never carry secret parameters and messages never carry credential values, so ``str()``,
``repr()`` and logged tracebacks of these errors are safe to show.
"""

from __future__ import annotations

from typing import Any


class WebError(Exception):
    """Base class of every error raised by the web layer."""


class RateLimitConfigError(WebError, ValueError):
    """A rate-limit definition is invalid (bad numbers, duplicate or unknown linked id, weight
    larger than the usable limit)."""


class UnknownRateLimitIdError(WebError, LookupError):
    """A request named a limit id the throttler does not know."""

    def __init__(self, limit_id: str) -> None:
        super().__init__(limit_id)
        self.limit_id = limit_id

    def __str__(self) -> str:
        return f"no rate limit is registered with id {self.limit_id!r}"


class ExchangeRequestError(WebError):
    """The exchange answered an HTTP request with a non-success status.

    ``code`` and ``message`` are the exchange's own error code and text parsed from the body
    (``None`` when the body has none); ``url`` never contains secret parameters.
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        url: str,
        code: int | str | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.method = method
        self.url = url
        self.code = code
        self.message = message

    @property
    def is_server_error(self) -> bool:
        """5xx: the request may or may not have been executed by the exchange (Binance: "the
        execution status is UNKNOWN and could have been a success", General API Information)."""
        return self.status >= 500

    def __str__(self) -> str:
        text = f"{self.method} {self.url} failed with HTTP {self.status}"
        if self.code is not None:
            text += f", exchange code {self.code}"
        if self.message:
            text += f": {self.message}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self._fields())

    def _fields(self) -> dict[str, Any]:
        return {"status": self.status, "method": self.method, "url": self.url, "code": self.code,
                "message": self.message}


class RateLimitedError(ExchangeRequestError):
    """HTTP 429 (too many requests) or 418 (IP banned). The throttler has already been told, so
    every further request to this exchange waits; ``retry_after`` is the server's hint in seconds."""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        url: str,
        code: int | str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status=status, method=method, url=url, code=code, message=message)
        self.retry_after = retry_after

    def __str__(self) -> str:
        hint = "no Retry-After" if self.retry_after is None else f"Retry-After {self.retry_after:g}s"
        return f"{super().__str__()} ({hint})"

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "retry_after": self.retry_after}


class RequestTimeoutError(WebError, TimeoutError):
    """No complete answer within the request timeout. The exchange may still have executed it."""

    def __init__(self, method: str, url: str, timeout: float) -> None:
        super().__init__(method, url, timeout)
        self.method = method
        self.url = url
        self.timeout = timeout

    def __str__(self) -> str:
        return f"{self.method} {self.url} got no answer within {self.timeout:g}s"


class ExchangeConnectionError(WebError, ConnectionError):
    """The request could not be sent or its answer not read (DNS, refused, reset, ...)."""

    def __init__(self, method: str, url: str, reason: str) -> None:
        super().__init__(method, url, reason)
        self.method = method
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.method} {self.url} failed: {self.reason}"


class ResponseDecodeError(WebError):
    """A success answer whose body is not the JSON the caller asked for."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(url, status, reason)
        self.url = url
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot decode the HTTP {self.status} answer of {self.url}: {self.reason}"


class ExchangePayloadError(WebError, ValueError):
    """An answer or frame from the exchange that does not match its documented schema (a depth
    snapshot without ``lastUpdateId``, a server-time answer without ``serverTime``...).

    Also a ``ValueError``, as the errors it replaces were."""


class WSError(WebError):
    """Base class of WebSocket errors."""


class WSConnectError(WSError, ConnectionError):
    """The WebSocket handshake failed (``status`` is the HTTP status when the server answered)."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(url, reason, status)
        self.url = url
        self.reason = reason
        self.status = status

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"cannot connect to {self.url}{status}: {self.reason}"


class WSClosedError(WSError):
    """The connection was closed by the server or the network, not by us.

    ``code`` is the WebSocket close code (RFC 6455 section 7.4; 1006 = closed without a close
    frame), ``None`` when unknown.
    """

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        reason = f": {self.reason}" if self.reason else ""
        return f"WebSocket closed with code {self.code}{reason}"


class WSTimeoutError(WSError, TimeoutError):
    """Nothing received within the message timeout, or the heartbeat pong did not come back."""


def _rebuild(cls: type[ExchangeRequestError], fields: dict[str, Any]) -> ExchangeRequestError:
    return cls(**fields)
