"""HMAC-SHA256 signing for Binance USDⓈ-M Futures.

docs: "General Info > Endpoint Security Type > SIGNED (TRADE and USER_DATA) Endpoint Security":
the same scheme as spot (``timestamp`` + ``recvWindow`` from the synchronised clock, hex
HMAC-SHA256 of ``totalParams``, key in ``X-MBX-APIKEY``), so the spot signer is reused with the
futures limits. Secrets are never logged nor shown in ``repr``.
"""

from __future__ import annotations

from typing import ClassVar

from connectorkit.exchanges.binance.binance_auth import BinanceAuth
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS


class BinancePerpetualAuth(BinanceAuth):
    """Signs USDⓈ-M Futures requests: the spot algorithm and recvWindow bounds; only the key-only
    (USER_STREAM) endpoint differs."""

    key_only_limit_ids: ClassVar[frozenset[str | None]] = frozenset({CONSTANTS.LISTEN_KEY_PATH})
