"""OKX API v5 request signing (REST headers and the WebSocket ``login`` operation).

docs (https://www.okx.com/docs-v5/en/): "Overview > REST Authentication > Making Requests" and
"Signature": every private REST request carries ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``,
``OK-ACCESS-TIMESTAMP`` (UTC, ISO 8601 with milliseconds, e.g. ``2020-12-08T09:08:57.715Z``) and
``OK-ACCESS-SIGN``: the Base64 of the HMAC-SHA256, keyed by the secret, of
``timestamp + METHOD + requestPath + body``, where a GET's query string is part of the request path
and the body is the exact JSON text sent (empty for a GET). Demo trading adds the header
``x-simulated-trading: 1`` ("Overview > Demo Trading Services").
"Overview > WebSocket > Login": ``{"op": "login", "args": [{"apiKey", "passphrase", "timestamp",
"sign"}]}`` with ``timestamp`` in UNIX *seconds* and ``sign`` the Base64 HMAC-SHA256 of
``timestamp + "GET" + "/users/self/verify"``.

The timestamp comes from the clock synchronised with ``/api/v5/public/time``; the key, secret and
passphrase never appear in a repr, a log line or an exception.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from connectorkit.exchanges.okx import okx_constants as CONSTANTS
from connectorkit.net.auth import AuthBase
from connectorkit.net.rest_request import RESTRequest, encode_query
from connectorkit.net.ws_request import WSJSONRequest

WS_LOGIN_PATH: Final = "/users/self/verify"


class SupportsTime(Protocol):
    """A clock synchronised with the exchange: ``time()`` is epoch seconds (float)."""

    def time(self) -> float: ...


def hmac_sha256_base64(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def iso_timestamp(epoch_seconds: float) -> str:
    """``2020-12-08T09:08:57.715Z``: UTC, milliseconds, a literal ``Z``."""
    moment = datetime.fromtimestamp(round(epoch_seconds, 3), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class OkxAuth(AuthBase):
    """Signs OKX requests with an API key, its secret and its passphrase."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        passphrase: str,
        time_provider: SupportsTime,
        *,
        demo_trading: bool = False,
    ) -> None:
        if not api_key or not secret_key or not passphrase:
            raise ValueError("OKX API key, secret and passphrase must be non-empty")
        self._api_key = api_key
        self._secret = secret_key
        self._passphrase = passphrase
        self._time_provider = time_provider
        self._demo_trading = demo_trading

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key, self._secret, self._passphrase)

    def rest_headers(self, method: str, request_path: str, body: str = "") -> dict[str, str]:
        """The four ``OK-ACCESS-*`` headers (and the demo header) for one request."""
        timestamp = iso_timestamp(self._time_provider.time())
        prehash = timestamp + method.upper() + request_path + body
        headers = {
            "OK-ACCESS-KEY": self._api_key,
            "OK-ACCESS-SIGN": hmac_sha256_base64(self._secret, prehash),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": self._passphrase,
        }
        if self._demo_trading:
            name, value = CONSTANTS.DEMO_TRADING_HEADER
            headers[name] = value
        return headers

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        """Sign path + query + the exact body. A body must be JSON text: OKX takes no forms."""
        if isinstance(request.data, Mapping):
            raise TypeError("an OKX request body is JSON text (str or bytes), not a form mapping")
        body = request.data.decode("utf-8") if isinstance(request.data, bytes) else (request.data or "")
        path = urlsplit(request.url).path
        if request.params:
            path += "?" + encode_query(request.params)
        headers = {**(request.headers or {}), **self.rest_headers(request.method.value, path, body)}
        if body:
            headers.setdefault("Content-Type", "application/json")
        return dataclasses.replace(request, headers=headers)

    def login_payload(self) -> dict[str, Any]:
        """The ``login`` operation for the private (and business) WebSocket."""
        timestamp = str(int(self._time_provider.time()))
        return {
            "op": "login",
            "args": [{
                "apiKey": self._api_key,
                "passphrase": self._passphrase,
                "timestamp": timestamp,
                "sign": hmac_sha256_base64(self._secret, timestamp + "GET" + WS_LOGIN_PATH),
            }],
        }

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        """Fill in a ``{"op": "login"}`` request; OKX signs nothing else on the socket."""
        if not isinstance(request.payload, Mapping) or request.payload.get("op") != "login":
            raise TypeError("OKX authenticates a WebSocket with the login operation only")
        return dataclasses.replace(request, payload=self.login_payload())
