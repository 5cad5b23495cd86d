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

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from connectorkit.exchanges.binance import binance_constants as CONSTANTS


class SupportsTime(Protocol):
    """A clock synchronised with the exchange: ``time()`` is epoch seconds (float)."""

    def time(self) -> float: ...


def encode_params(params: Iterable[tuple[str, Any]]) -> str:
    """Percent-encode ``params`` in the given order, as they will be sent.

    Booleans are rendered as Binance expects them (``true``/``false``); every other value goes
    through ``str`` (Decimals therefore keep their exact digits).
    """
    return urlencode([(key, _wire_value(value)) for key, value in params])


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()


class BinanceAuth:
    """Signs Binance requests with an API key and an HMAC secret.

    ``time_provider`` must give the *server-synchronised* time (the connector's
    ``TimeSynchronizer``), so clock skew never turns into -1021 rejections.
    """

    __slots__ = ("_api_key", "_recv_window_ms", "_secret", "_time_provider")

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_key='***', secret='***', recv_window_ms={self._recv_window_ms})"

    __str__ = __repr__

    @property
    def recv_window_ms(self) -> int:
        return self._recv_window_ms

    def timestamp_ms(self) -> int:
        return round(self._time_provider.time() * 1000)

    def header_for_authentication(self) -> dict[str, str]:
        return {CONSTANTS.API_KEY_HEADER: self._api_key}

    def signed_query(self, params: Mapping[str, Any] | None = None) -> str:
        """The full query string of a SIGNED request: params, recvWindow, timestamp, signature.

        Any ``timestamp``/``recvWindow``/``signature`` already present is replaced, so a retried
        request is re-stamped and re-signed rather than sent stale.
        """
        items = [
            (key, value)
            for key, value in (params or {}).items()
            if value is not None and key not in ("timestamp", "recvWindow", "signature")
        ]
        items.append(("recvWindow", self._recv_window_ms))
        items.append(("timestamp", self.timestamp_ms()))
        payload = encode_params(items)
        return f"{payload}&signature={hmac_sha256_hex(self._secret, payload)}"

    def sign_payload(self, payload: str) -> str:
        """Hex signature of an already-encoded ``totalParams`` string."""
        return hmac_sha256_hex(self._secret, payload)

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
        payload = "&".join(f"{key}={_wire_value(signed[key])}" for key in sorted(signed))
        signed["signature"] = hmac_sha256_hex(self._secret, payload)
        return signed
