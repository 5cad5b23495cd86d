"""Market (symbol) configuration of the spot sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Market:
    """One spot symbol: its assets, filters (PRICE_FILTER, LOT_SIZE, NOTIONAL) and starting mid price.

    ``volatility`` is the per-step standard deviation of the simulated mid's random walk, as a fraction.
    """

    symbol: str
    base: str
    quote: str
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    mid: Decimal = Decimal("30000")
    volatility: Decimal = Decimal("0.0005")

    @property
    def base_precision(self) -> int:
        return 8

    @property
    def quote_precision(self) -> int:
        return 8


DEFAULT_MARKETS = (
    Market("BTCUSDT", "BTC", "USDT"),
    Market(
        "ETHUSDT",
        "ETH",
        "USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        mid=Decimal("2000"),
    ),
)
