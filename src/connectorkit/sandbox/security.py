"""Request authentication as Binance does it (Spot docs "Endpoint security type", "SIGNED (TRADE and
USER_DATA) Endpoint security", "Timing security"; the same rules on USD-M Futures).

* ``X-MBX-APIKEY`` header: missing/malformed → -2014, unknown → -2015.
* HMAC-SHA256 (hex) of ``totalParams`` = the query string as sent concatenated with the request body as
  sent, without the ``signature`` parameter itself.
* ``timestamp`` mandatory; ``recvWindow`` default 5000 ms, at most 60000 (-1131);
  accepted when ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow``.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from connectorkit.sandbox import errors
from connectorkit.sandbox.accounts import Account, AccountRegistry

_KEY_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000


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


def check_timestamp(params: dict[str, str], server_ms: int) -> None:
    ts_raw = params.get("timestamp")
    if not ts_raw:
        raise errors.mandatory_param("timestamp")
    try:
        ts = int(ts_raw)
    except ValueError:
        raise errors.illegal_chars("timestamp", "^[0-9]{1,20}$") from None
    window_raw = params.get("recvWindow")
    window = DEFAULT_RECV_WINDOW
    if window_raw:
        try:
            window = int(float(window_raw))
        except ValueError:
            raise errors.illegal_chars("recvWindow", "^[0-9]{1,20}$") from None
        if window > MAX_RECV_WINDOW or window < 0:
            raise errors.bad_recv_window()
    if ts >= server_ms + 1000:
        raise errors.timestamp_ahead()
    if server_ms - ts > window:
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
