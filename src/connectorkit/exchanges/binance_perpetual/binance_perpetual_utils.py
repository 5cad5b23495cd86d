"""Binance USDⓈ-M Perpetual: default fees and settings (pair spelling and client order id check:
``binance_utils``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar, Final

from pydantic import Field

from connectorkit.connector.settings import HTTP_SCHEMES, WS_SCHEMES, ConnectorSettings, Endpoint
from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS

# Binance's regular (VIP 0) USDⓈ-M futures schedule is 0.02 % maker / 0.05 % taker
# ("Trading Fee Rate" page, USDⓈ-M Futures tab, https://www.binance.com/en/fee/futureFee).
# Futures commissions are charged in the margin asset, on top of the margin the order uses.
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.0002"),
    taker_percent_fee_decimal=Decimal("0.0005"),
    buy_percent_fee_deducted_from_returns=False,
)


class BinancePerpetualSettings(ConnectorSettings):
    """Settings of ``binance_perpetual``.

    ``rest_url`` is the base of the ``/fapi/...`` paths and ``ws_url`` the base of the stream
    paths. ``ws_routed_paths`` (default True, as fstream.binance.com since 2026) puts depth under
    ``/public``, mark price and trades under ``/market`` and the user stream under ``/private``;
    the local sandbox serves these routed paths too, so the default fits it. Set it False only for
    a server with the single unrouted layout alone (``/stream?streams=...`` and
    ``/ws/<listenKey>``). Override ``rest_url`` and ``ws_url`` together or neither: every stream
    route is derived from ``ws_url``.
    """

    ENDPOINTS: ClassVar[Mapping[str, Endpoint]] = {
        "rest_url": Endpoint(HTTP_SCHEMES),
        "ws_url": Endpoint(WS_SCHEMES),
    }

    rest_url: str = CONSTANTS.DEFAULT_REST_URL
    ws_url: str = CONSTANTS.DEFAULT_WS_URL
    ws_routed_paths: bool = True
    recv_window_ms: int = Field(
        default=CONSTANTS.DEFAULT_RECV_WINDOW_MS, gt=0, le=CONSTANTS.MAX_RECV_WINDOW_MS
    )
    depth_snapshot_limit: int = Field(default=CONSTANTS.DEFAULT_SNAPSHOT_LIMIT, gt=0, le=1000)
    listen_key_keepalive_interval: float = Field(default=CONSTANTS.LISTEN_KEY_KEEPALIVE_S, gt=0)

