"""Per-pair trading rules: the limits an exchange enforces on order sizes and prices.

Connectors build one ``TradingRule`` per trading pair from the exchange's instrument metadata
(e.g. Binance ``exchangeInfo`` filters). The connector uses them to quantize and validate every
order *before* anything is sent, so an order the exchange would reject fails locally with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

_ZERO = Decimal(0)
_TINY = Decimal("1e-20")
_HUGE = Decimal("1e56")


@dataclass(frozen=True, slots=True)
class TradingRule:
    """Order size and price constraints for one trading pair.

    The defaults are deliberately permissive (no minimum, tiny increments) so a connector only
    sets what its exchange publishes. ``min_notional_size`` is in quote currency. The collateral
    tokens are the tokens locked by a buy/sell order (spot: quote/base; perpetuals: the margin
    asset for both); ``None`` means "derive from the trading pair".

    ``min_quote_amount_increment`` is the precision of amounts written in quote currency (Binance:
    ``quoteAssetPrecision``). The connector templates size every order in base currency, so they
    floor amounts to ``min_base_amount_increment`` and prices to ``min_price_increment`` and never
    use this field; it is published for a connector that offers quote-sized orders (e.g. Binance
    MARKET by ``quoteOrderQty``), which must floor the quote amount to it before sending.
    """

    trading_pair: str
    min_order_size: Decimal = _ZERO
    max_order_size: Decimal = _HUGE
    min_price_increment: Decimal = _TINY
    min_base_amount_increment: Decimal = _TINY
    min_quote_amount_increment: Decimal = _TINY
    min_notional_size: Decimal = _ZERO
    supports_limit_orders: bool = True
    supports_market_orders: bool = True
    buy_order_collateral_token: str | None = None
    sell_order_collateral_token: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "min_order_size",
            "max_order_size",
            "min_price_increment",
            "min_base_amount_increment",
            "min_quote_amount_increment",
            "min_notional_size",
        ):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                raise TypeError(f"TradingRule.{name} must be a Decimal, got {type(value).__name__}")
            if not value.is_finite() or value < 0:
                raise ValueError(f"TradingRule.{name} must be a finite non-negative Decimal, got {value}")
        for name in ("min_price_increment", "min_base_amount_increment"):
            if getattr(self, name) <= 0:
                raise ValueError(f"TradingRule.{name} must be > 0 for {self.trading_pair}")
        if self.max_order_size < self.min_order_size:
            raise ValueError(
                f"TradingRule for {self.trading_pair}: max_order_size {self.max_order_size} "
                f"< min_order_size {self.min_order_size}"
            )

    @property
    def base_asset(self) -> str:
        return self.trading_pair.split("-", 1)[0]

    @property
    def quote_asset(self) -> str:
        return self.trading_pair.split("-", 1)[1]

    @property
    def buy_collateral_token(self) -> str:
        """Token locked by a buy order (spot default: the quote asset)."""
        return self.buy_order_collateral_token or self.quote_asset

    @property
    def sell_collateral_token(self) -> str:
        """Token locked by a sell order (spot default: the base asset)."""
        return self.sell_order_collateral_token or self.base_asset
