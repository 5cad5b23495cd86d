"""Binance Spot: default fees, settings, the pair spelling and the client order id check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar, Final

from pydantic import Field

from connectorkit.connector.settings import HTTP_SCHEMES, WS_SCHEMES, ConnectorSettings, Endpoint
from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.binance import binance_constants as CONSTANTS

# Binance's regular (VIP 0) spot schedule is 0.1 % maker / 0.1 % taker ("Trading Fee Rate" page,
# https://www.binance.com/en/fee/schedule). The buyer pays the commission in the asset it receives
# (the base asset), so on a buy the fee is deducted from what the order returns.
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.001"),
    taker_percent_fee_decimal=Decimal("0.001"),
    buy_percent_fee_deducted_from_returns=True,
)



class BinanceSettings(ConnectorSettings):
    """Settings of ``binance``. The endpoint overrides let it talk to any compatible server:
    ``rest_url`` and ``ws_url`` are bases (``scheme://host[:port]``) under which the official paths
    are appended; ``ws_api_url`` is the full WebSocket-API endpoint (the user stream: dialled only
    by a trading connector). Override all of them or none (see ``ConnectorSettings.ENDPOINTS``)."""

    ENDPOINTS: ClassVar[Mapping[str, Endpoint]] = {
        "rest_url": Endpoint(HTTP_SCHEMES),
        "ws_url": Endpoint(WS_SCHEMES),
        "ws_api_url": Endpoint(WS_SCHEMES, trading_only=True),
    }

    rest_url: str = CONSTANTS.DEFAULT_REST_URL
    ws_url: str = CONSTANTS.DEFAULT_WS_URL
    ws_api_url: str = CONSTANTS.DEFAULT_WS_API_URL
    recv_window_ms: int = Field(
        default=CONSTANTS.DEFAULT_RECV_WINDOW_MS, gt=0, le=CONSTANTS.MAX_RECV_WINDOW_MS
    )
    depth_snapshot_limit: int = Field(default=CONSTANTS.DEFAULT_SNAPSHOT_LIMIT, gt=0, le=5000)


_CLIENT_ORDER_ID_RE: Final = re.compile(CONSTANTS.CLIENT_ORDER_ID_PATTERN)


def trading_pair(base: str, quote: str) -> str:
    """``BASE-QUOTE`` as connectorkit spells pairs."""
    return f"{base}-{quote}"


def is_valid_client_order_id(client_order_id: str) -> bool:
    """Within ``newClientOrderId``'s documented charset and 36-character limit."""
    return _CLIENT_ORDER_ID_RE.fullmatch(client_order_id) is not None
