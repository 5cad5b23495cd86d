"""HMAC-SHA256 signing for Bybit v5 REST requests and the private WebSocket login.

docs: v5/guide "Parameters for Authenticated Endpoints" / "Create A Request": the headers
``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (UTC ms), ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN``, the
lowercase hex HMAC-SHA256 of ``timestamp + api_key + recv_window + payload`` where the payload is
the query string (GET, unsorted, exactly as sent) or the JSON body string (POST, exactly as sent).
The timestamp comes from the clock synchronised with ``/v5/market/time`` (TimeSynchronizer), so
skew never turns into retCode 10002. v5/ws/connect "Authentication": ``{"op": "auth", "args":
[api_key, expires, signature]}`` with the hex HMAC-SHA256 of ``"GET/realtime" + expires``.

The key and secret are never logged, never part of ``repr`` and never part of an exception.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Protocol

from connectorkit.exchanges.bybit import bybit_constants as CONSTANTS
from connectorkit.net.auth import AuthBase
from connectorkit.net.rest_request import RESTMethod, RESTRequest, encode_query
from connectorkit.net.ws_request import WSJSONRequest


class SupportsTime(Protocol):
    """A clock synchronised with the exchange: ``time()`` is epoch seconds (float)."""

    def time(self) -> float: ...


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()


class BybitAuth(AuthBase):
    """Signs Bybit v5 requests for one account (``repr`` shows attribute names only)."""

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        time_provider: SupportsTime,
        recv_window_ms: int = CONSTANTS.DEFAULT_RECV_WINDOW_MS,
    ) -> None:
        if not api_key or not secret_key:
            raise ValueError("Bybit API key and secret must be non-empty")
        if not 0 < recv_window_ms <= CONSTANTS.MAX_RECV_WINDOW_MS:
            raise ValueError(f"recv window must be in 1..{CONSTANTS.MAX_RECV_WINDOW_MS} ms")
        self._api_key = api_key
        self._secret = secret_key
        self._time_provider = time_provider
        self._recv_window_ms = recv_window_ms

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key, self._secret)

    def timestamp_ms(self) -> int:
        return round(self._time_provider.time() * 1000)

    def signed_headers(self, payload: str) -> dict[str, str]:
        """The four authentication headers for a request whose signed payload is ``payload``."""
        timestamp = str(self.timestamp_ms())
        window = str(self._recv_window_ms)
        signature = hmac_sha256_hex(self._secret, timestamp + self._api_key + window + payload)
        return {
            CONSTANTS.API_KEY_HEADER: self._api_key,
            CONSTANTS.TIMESTAMP_HEADER: timestamp,
            CONSTANTS.RECV_WINDOW_HEADER: window,
            CONSTANTS.SIGN_HEADER: signature,
        }

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        """Sign the query string of a GET (``encode_query(params)``, which the REST assistant
        sends byte for byte) or the exact body string of a POST. A POST body must already be the
        JSON text (see ``bybit_trading_wire.json_body``): a mapping would be re-serialised by
        someone else and the signature would no longer match what is sent."""
        if request.method is RESTMethod.GET:
            payload = encode_query(request.params) if request.params else ""
        elif isinstance(request.data, str):
            payload = request.data
        elif isinstance(request.data, bytes):
            payload = request.data.decode("utf-8")
        elif request.data is None:
            payload = ""
        else:
            raise TypeError("a signed Bybit POST needs its JSON body as a string")
        headers = {**(request.headers or {}), **self.signed_headers(payload)}
        if request.method is not RESTMethod.GET:
            headers.setdefault("Content-Type", "application/json")
        return dataclasses.replace(request, headers=headers)

    def ws_auth_payload(self, req_id: str | None = None) -> dict[str, Any]:
        """The private socket's ``auth`` operation, valid ``WS_AUTH_EXPIRES_AFTER_MS`` from now."""
        expires = self.timestamp_ms() + CONSTANTS.WS_AUTH_EXPIRES_AFTER_MS
        signature = hmac_sha256_hex(self._secret, f"{CONSTANTS.WS_AUTH_PAYLOAD_PREFIX}{expires}")
        payload: dict[str, Any] = {"op": "auth", "args": [self._api_key, expires, signature]}
        if req_id is not None:
            payload["req_id"] = req_id
        return payload

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        """Replace an ``{"op": "auth"}`` request by the signed one; other requests pass unchanged
        (only the login is signed on Bybit's private socket)."""
        payload = request.payload
        if not isinstance(payload, Mapping):
            raise TypeError("a Bybit WebSocket request is a JSON object")
        if payload.get("op") != "auth":
            return request
        req_id = payload.get("req_id")
        signed = self.ws_auth_payload(None if req_id is None else str(req_id))
        return dataclasses.replace(request, payload=signed)
