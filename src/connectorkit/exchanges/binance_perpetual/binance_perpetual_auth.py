"""HMAC-SHA256 signing for Binance USDⓈ-M Futures.

docs: "General Info > Endpoint Security Type > SIGNED (TRADE and USER_DATA) Endpoint Security":
the same scheme as spot (``timestamp`` + ``recvWindow`` from the synchronised clock, hex
HMAC-SHA256 of ``totalParams``, key in ``X-MBX-APIKEY``), so the spot signer is reused with the
futures limits. Secrets are never logged nor shown in ``repr``.
"""

from __future__ import annotations

from typing import ClassVar

from connectorkit.exchanges.binance.binance_auth import BinanceAuth, SupportsTime
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS


class BinancePerpetualAuth(BinanceAuth):
    """Signs USDⓈ-M Futures requests (identical algorithm to spot, futures recvWindow bounds)."""

    key_only_limit_ids: ClassVar[frozenset[str | None]] = frozenset({CONSTANTS.LISTEN_KEY_PATH})

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        time_provider: SupportsTime,
        recv_window_ms: int = CONSTANTS.DEFAULT_RECV_WINDOW_MS,
    ) -> None:
        super().__init__(api_key, secret_key, time_provider, recv_window_ms)
