"""Request authentication as Binance does it (Spot docs "Endpoint security type", "SIGNED (TRADE and
USER_DATA) Endpoint security", "Timing security"; the same rules on USD-M Futures).

* ``X-MBX-APIKEY`` header: missing/malformed → -2014, unknown → -2015.
* HMAC-SHA256 (hex) of ``totalParams`` = the query string as sent concatenated with the request body as
  sent, without the ``signature`` parameter itself.
* ``timestamp`` mandatory (spot: milliseconds or microseconds); ``recvWindow`` default 5000 ms, at most
  60000 (-1131), up to three decimals; accepted when ``timestamp < serverTime + 1000`` and
  ``serverTime - timestamp <= recvWindow``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from decimal import Decimal

from connectorkit.sandbox.accounts import Account, AccountRegistry
from connectorkit.sandbox.venues.binance import errors

_KEY_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
_RECV_WINDOW_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,20}$")
# Millisecond timestamps have 13 digits until the year 2286; microsecond ones have 16.
_MICROS_FROM = 10**14


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def authenticate_key(registry: AccountRegistry, api_key: str | None) -> Account:
    if not api_key or not _KEY_RE.match(api_key):
        raise errors.bad_api_key_format()
    account = registry.by_key(api_key)
    if account is None:
        raise errors.rejected_api_key()
    return account


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Remove the ``signature=`` pair from a raw urlencoded string; return (rest, signature)."""
    if not raw:
        return raw, None
    parts = raw.split("&")
    signature = None
    kept = []
    for part in parts:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def check_timestamp(params: dict[str, str], server_ms: int, *, microseconds: bool = False) -> None:
    """Binance's rule, in microseconds: ``timestamp < serverTime + 1 s`` and
    ``serverTime - timestamp <= recvWindow``.

    Spot (``microseconds=True``) accepts a timestamp in milliseconds or microseconds (told apart by
    magnitude) and a recvWindow in milliseconds with up to three decimal places (docs "Timing security").
    """
    ts_raw = params.get("timestamp")
    if not ts_raw:
        raise errors.mandatory_param("timestamp")
    if not _TIMESTAMP_RE.fullmatch(ts_raw):
        raise errors.illegal_chars("timestamp", _TIMESTAMP_RE.pattern)
    ts = int(ts_raw)
    ts_us = ts if microseconds and ts >= _MICROS_FROM else ts * 1000
    window_raw = params.get("recvWindow")
    window_us = DEFAULT_RECV_WINDOW * 1000
    if window_raw:
        if not _RECV_WINDOW_RE.fullmatch(window_raw):
            raise errors.illegal_chars("recvWindow", _RECV_WINDOW_RE.pattern)
        window = Decimal(window_raw)
        if window > MAX_RECV_WINDOW:
            raise errors.bad_recv_window()
        window_us = int(window * 1000)
    server_us = server_ms * 1000
    if ts_us >= server_us + 1_000_000:
        raise errors.timestamp_ahead()
    if server_us - ts_us > window_us:
        raise errors.timestamp_outside_window()


def check_signature(secret: str, query: str, body: str) -> None:
    """Verify the signature, which may be in the query string or in the body."""
    query_rest, sig_q = strip_signature(query)
    body_rest, sig_b = strip_signature(body)
    signature = sig_q or sig_b
    if not signature:
        raise errors.mandatory_param("signature")
    expected = sign(secret, query_rest + body_rest)
    if not hmac.compare_digest(expected, signature.lower()):
        raise errors.bad_signature()
