"""HMAC-SHA256 request signing for Binance Spot (REST and WebSocket API).

docs: "REST API > Endpoint security type > SIGNED (TRADE and USER_DATA) Endpoint security" and
"Timing security": a SIGNED request carries ``timestamp`` (ms, from the clock synchronised with
the server) and optionally ``recvWindow``; ``signature`` is the hex HMAC-SHA256 of the exact
``totalParams`` string (query string concatenated with the request body) keyed by the secret;
the API key travels in the ``X-MBX-APIKEY`` header. The WebSocket API signs the request ``params``
sorted by name as ``name=value`` pairs joined with ``&`` ("WebSocket API > Request security >
SIGNED request example (HMAC)").

This connector sends every signed REST parameter in the query string (allowed for every method:
"General Information on Endpoints"), so the string that is signed is exactly the string sent.
The key and secret are never logged, never part of ``repr`` and never part of an exception.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.net.auth import AuthBase
from connectorkit.net.rest_request import RESTRequest, encode_query, format_param
from connectorkit.net.ws_request import WSJSONRequest

_SIGNED_FIELDS = ("timestamp", "recvWindow", "signature")


class SupportsTime(Protocol):
    """A clock synchronised with the exchange: ``time()`` is epoch seconds (float)."""

    def time(self) -> float: ...


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()


class BinanceAuth(AuthBase):
    """Signs Binance requests with an API key and an HMAC secret.

    ``time_provider`` must give the *server-synchronised* time (the connector's
    ``TimeSynchronizer``), so clock skew never turns into -1021 rejections. ``repr``/``str`` come
    from :class:`AuthBase` and show attribute names only.
    """

    #: A listen key gives read access to the account's user stream: never shown.
    secret_param_names: ClassVar[frozenset[str]] = frozenset({"listenKey"})
    #: Limit ids of USER_STREAM endpoints: API key header, no signature.
    key_only_limit_ids: ClassVar[frozenset[str | None]] = frozenset({CONSTANTS.USER_DATA_STREAM_PATH})

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        time_provider: SupportsTime,
        recv_window_ms: int = CONSTANTS.DEFAULT_RECV_WINDOW_MS,
    ) -> None:
        if not api_key or not secret_key:
            raise ValueError("Binance API key and secret must be non-empty")
        if not 0 < recv_window_ms <= CONSTANTS.MAX_RECV_WINDOW_MS:
            raise ValueError(f"recvWindow must be in 1..{CONSTANTS.MAX_RECV_WINDOW_MS} ms")
        self._api_key = api_key
        self._secret = secret_key
        self._time_provider = time_provider
        self._recv_window_ms = recv_window_ms

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def recv_window_ms(self) -> int:
        return self._recv_window_ms

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key, self._secret)

    def timestamp_ms(self) -> int:
        return round(self._time_provider.time() * 1000)

    def header_for_authentication(self) -> dict[str, str]:
        return {CONSTANTS.API_KEY_HEADER: self._api_key}

    def signed_params(self, params: Mapping[str, Any] | None = None, body: str = "") -> dict[str, Any]:
        """``params`` plus recvWindow, timestamp and the signature of ``query + body``.

        Any ``timestamp``/``recvWindow``/``signature`` already present is replaced, so a retried
        request is re-stamped and re-signed rather than sent stale. ``None`` values are dropped.
        """
        signed = {
            key: value
            for key, value in (params or {}).items()
            if value is not None and key not in _SIGNED_FIELDS
        }
        signed["recvWindow"] = self._recv_window_ms
        signed["timestamp"] = self.timestamp_ms()
        signed["signature"] = hmac_sha256_hex(self._secret, encode_query(signed) + body)
        return signed

    def signed_query(self, params: Mapping[str, Any] | None = None) -> str:
        """The full query string of a SIGNED request (params, recvWindow, timestamp, signature)."""
        return encode_query(self.signed_params(params))

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        """Add the API key header and, for SIGNED calls, sign the exact query string + body.

        Every authenticated call is SIGNED except the USER_STREAM (listen-key) endpoints, which
        only need the key header ("Endpoint security type"); they are recognised by their limit id.
        """
        headers = {**(request.headers or {}), **self.header_for_authentication()}
        if request.throttler_limit_id in self.key_only_limit_ids:
            return dataclasses.replace(request, headers=headers)
        body = ""
        if isinstance(request.data, Mapping):
            body = encode_query(request.data)
        elif isinstance(request.data, str):
            body = request.data
        elif isinstance(request.data, bytes):
            body = request.data.decode("utf-8")
        return dataclasses.replace(request, params=self.signed_params(request.params, body), headers=headers)

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        """Sign a WebSocket-API request ``{"id", "method", "params"}`` in place of its params."""
        payload = request.payload
        if not isinstance(payload, Mapping):
            raise TypeError("a WebSocket API request is a JSON object")
        params = payload.get("params") or {}
        return dataclasses.replace(request, payload={**payload, "params": self.ws_api_signed_params(params)})

    def ws_api_signed_params(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``params`` of a signed WebSocket-API request, with apiKey, timestamp and signature.

        The payload is every parameter except ``signature``, sorted by name, ``name=value`` joined
        with ``&`` (docs: "WebSocket API > SIGNED request example (HMAC)").
        """
        signed: dict[str, Any] = {k: v for k, v in (params or {}).items() if v is not None}
        signed["apiKey"] = self._api_key
        signed["recvWindow"] = self._recv_window_ms
        signed["timestamp"] = self.timestamp_ms()
        signed.pop("signature", None)
        payload = "&".join(f"{key}={format_param(signed[key])}" for key in sorted(signed))
        signed["signature"] = hmac_sha256_hex(self._secret, payload)
        return signed

