"""REST request/response types and the one query-string encoding used on the wire.

The query string (and a form body) is exactly :func:`encode_query` of the params, in insertion
order; the REST assistant sends it byte for byte, so an auth that signs ``encode_query(params)``
signs what the exchange receives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, overload
from urllib.parse import urlencode

import msgspec

from connectorkit.net.errors import ResponseDecodeError
from connectorkit.net.redaction import MASK, masked, url_without_secrets

T = TypeVar("T")


class RESTMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"


def format_param(value: Any) -> str:
    """The wire text of one parameter value.

    Decimals are written in plain notation (``Decimal("1E-8")`` -> ``0.00000001``, never rounded),
    floats likewise through their shortest repr, booleans as ``true``/``false`` (what JSON-minded
    exchanges expect); anything else through ``str``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def encode_query(params: Mapping[str, Any]) -> str:
    """``k=v&...`` in insertion order, values formatted by :func:`format_param`, percent-encoded."""
    return urlencode([(key, format_param(value)) for key, value in params.items()])


@dataclass(frozen=True, slots=True, repr=False)
class RESTRequest:
    """One REST call. Immutable: processors and auths return a changed copy (``dataclasses.replace``).

    :param params: query parameters (sent as :func:`encode_query`).
    :param data: the body: a mapping is sent form-encoded (``encode_query``), ``str``/``bytes`` as is
        (set the Content-Type header yourself, e.g. for JSON bodies).
    :param is_auth_required: the assistant applies its auth's ``rest_authenticate`` before sending.
    :param throttler_limit_id: the rate limit this call consumes; ``None`` means the URL's path.
    """

    method: RESTMethod
    url: str
    params: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | str | bytes | None = None
    headers: Mapping[str, str] | None = None
    is_auth_required: bool = False
    throttler_limit_id: str | None = None

    def __repr__(self) -> str:
        """Safe to log even once signed: header values, secret-named parameters and raw bodies
        (which may carry a signature) are masked."""
        if isinstance(self.data, Mapping):
            data: Any = masked(self.data)
        elif self.data is not None:
            data = f"<{len(self.data)} {'bytes' if isinstance(self.data, bytes) else 'chars'}>"
        else:
            data = None
        headers = dict.fromkeys(self.headers, MASK) if self.headers is not None else None
        return (
            f"RESTRequest(method={self.method.value}, url={url_without_secrets(self.url)!r}, "
            f"params={masked(self.params)!r}, data={data!r}, headers={headers!r}, "
            f"is_auth_required={self.is_auth_required}, throttler_limit_id={self.throttler_limit_id!r})"
        )


class RESTResponse:
    """A complete answer: the body is already read, so it can be decoded once and without I/O.

    ``url`` is the request URL without secret parameters.
    """

    __slots__ = ("body", "headers", "method", "status", "url")

    def __init__(
        self, *, status: int, headers: Mapping[str, str], body: bytes, method: str, url: str
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.method = method
        self.url = url

    @overload
    def json(self) -> Any: ...

    @overload
    def json(self, type: type[T]) -> T: ...

    def json(self, type: Any = Any) -> Any:
        """Decode the body with msgspec, into ``type`` (e.g. a ``msgspec.Struct``) when given."""
        try:
            return msgspec.json.decode(self.body, type=type)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            raise ResponseDecodeError(self.url, self.status, str(exc)) from None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"RESTResponse({self.method} {self.url} -> {self.status}, {len(self.body)} bytes)"
