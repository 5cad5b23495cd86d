"""Bybit v5, category ``linear`` (USDT perpetuals): the values that differ from spot.

Shared hosts, paths, topics, enums and retCode tables: ``exchanges/bybit/bybit_constants``.
"""

from __future__ import annotations

from typing import Final

from connectorkit.exchanges.bybit import bybit_constants as SHARED
from connectorkit.net.throttler import RateLimit

EXCHANGE_NAME: Final = "bybit_perpetual"
CATEGORY: Final = SHARED.CATEGORY_LINEAR
WS_PUBLIC_PATH: Final = SHARED.WS_PUBLIC_LINEAR_PATH
CONTRACT_TYPE_PERPETUAL: Final = "LinearPerpetual"  # v5/enum "contractType"
SETTLE_COIN: Final = "USDT"

# docs: v5/websocket/public/orderbook, "Linear & inverse": 1 (10 ms), 50 (20 ms), 200 (100 ms),
# 1000 (200 ms). No per-request args limit for futures ("No args limit for Futures for now").
ORDERBOOK_DEPTHS: Final = (1, 50, 200, 1000)

# docs: v5/rate-limit, "UTA2.0 Pro": /v5/order/create and /v5/order/cancel 10/s for linear;
# /v5/position/set-leverage 10/s.
ORDER_RATE_PER_S: Final = 10
SET_LEVERAGE_RATE_PER_S: Final = 10
RATE_LIMITS: Final[tuple[RateLimit, ...]] = (
    *SHARED.COMMON_RATE_LIMITS,
    SHARED.endpoint_limit(SHARED.ORDER_CREATE_PATH, ORDER_RATE_PER_S),
    SHARED.endpoint_limit(SHARED.ORDER_CANCEL_PATH, ORDER_RATE_PER_S),
    SHARED.endpoint_limit(SHARED.SET_LEVERAGE_PATH, SET_LEVERAGE_RATE_PER_S),
)

# Funding payments: v5/account/transaction-log rows of type SETTLEMENT (v5/enum "type(uta-translog)").
TRANSACTION_TYPE_SETTLEMENT: Final = "SETTLEMENT"
# switch-mode ``mode`` (docs: v5/position/position-mode): 0 merged single, 3 both sides.
POSITION_MODE_ONE_WAY: Final = 0
POSITION_MODE_HEDGE: Final = 3
