"""Binance USDⓈ-M Perpetual: default fees, symbol/pair helpers and client order ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.binance import binance_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS

# Binance's regular (VIP 0) USDⓈ-M futures schedule is 0.02 % maker / 0.05 % taker
# ("Trading Fee Rate" page, USDⓈ-M Futures tab, https://www.binance.com/en/fee/futureFee).
# Futures commissions are charged in the margin asset, on top of the margin the order uses.
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.0002"),
    taker_percent_fee_decimal=Decimal("0.0005"),
    buy_percent_fee_deducted_from_returns=False,
)

trading_pair = binance_utils.trading_pair
symbol_from_trading_pair = binance_utils.symbol_from_trading_pair
is_valid_client_order_id = binance_utils.is_valid_client_order_id


def new_client_order_id(is_buy: bool, prefix: str = CONSTANTS.CLIENT_ORDER_ID_PREFIX) -> str:
    """A fresh ``newClientOrderId`` (same charset and 36-character limit as spot)."""
    return binance_utils.new_client_order_id(is_buy, prefix)
