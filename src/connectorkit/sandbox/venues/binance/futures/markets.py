"""USD-M perpetual contracts of the futures sandbox: filters, margin parameters, funding schedule.

Filter names and the values of the defaults follow ``GET /fapi/v1/exchangeInfo`` (USDⓈ-M Futures docs,
"Exchange Information") for BTCUSDT / ETHUSDT perpetuals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .account import FuturesContract
from .funding import EIGHT_HOURS_MS


@dataclass(frozen=True, slots=True)
class FuturesMarket:
    """One perpetual contract. ``mid`` is the starting price of the simulated market.

    ``funding_interval_ms`` is 8 h on Binance; tests shrink it (e.g. 1000) to see funding within
    seconds. ``funding_rate`` fixes the rate; ``None`` derives it from mark and index prices.
    """

    symbol: str
    base: str
    quote: str = "USDT"
    margin_asset: str = "USDT"
    tick_size: Decimal = Decimal("0.10")
    step_size: Decimal = Decimal("0.001")
    min_qty: Decimal = Decimal("0.001")
    max_qty: Decimal = Decimal("1000")
    market_max_qty: Decimal = Decimal("120")
    min_price: Decimal = Decimal("0.10")
    max_price: Decimal = Decimal("4529764")
    min_notional: Decimal = Decimal("5")
    price_precision: int = 2
    quantity_precision: int = 3
    max_leverage: int = 125
    maint_margin_rate: Decimal = Decimal("0.004")
    max_notional: Decimal = Decimal("1000000")
    max_num_orders: int = 200
    mid: Decimal = Decimal("30000")
    volatility: Decimal = Decimal("0.0005")
    funding_interval_ms: int = EIGHT_HOURS_MS
    funding_rate: Decimal | None = None

    def contract(self) -> FuturesContract:
        return FuturesContract(
            symbol=self.symbol,
            base_asset=self.base,
            margin_asset=self.margin_asset,
            max_leverage=self.max_leverage,
            maint_margin_rate=self.maint_margin_rate,
            max_notional=self.max_notional,
        )


DEFAULT_FUTURES_MARKETS = (
    FuturesMarket("BTCUSDT", "BTC"),
    FuturesMarket(
        "ETHUSDT",
        "ETH",
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal("306177"),
        max_qty=Decimal("10000"),
        market_max_qty=Decimal("2000"),
        max_leverage=100,
        maint_margin_rate=Decimal("0.005"),
        mid=Decimal("2000"),
    ),
)
