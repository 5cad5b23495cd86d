"""Bybit USDT perpetuals: default fees and settings (pair map, orderLinkId check: ``bybit_utils``)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Final

from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.bybit.bybit_utils import BybitSettingsBase
from connectorkit.exchanges.bybit_perpetual import bybit_perpetual_constants as CONSTANTS

# Bybit's regular (non-VIP) perpetual & futures rates are 0.02 % maker / 0.055 % taker (Bybit Help
# Center "Trading Fee Structure", https://www.bybit.com/en/help-center/article/Trading-Fee-Structure,
# Derivatives, VIP 0). Fees are charged in the settle coin, on top of the order's margin.
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.0002"),
    taker_percent_fee_decimal=Decimal("0.00055"),
    buy_percent_fee_deducted_from_returns=False,
)


class BybitPerpetualSettings(BybitSettingsBase):
    """Settings of ``bybit_perpetual`` (linear order book depths)."""

    ORDERBOOK_DEPTHS: ClassVar[tuple[int, ...]] = CONSTANTS.ORDERBOOK_DEPTHS
