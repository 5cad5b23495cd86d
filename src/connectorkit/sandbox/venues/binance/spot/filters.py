"""Symbol filters (Spot docs "Filters"): PRICE_FILTER, LOT_SIZE, NOTIONAL — checks and exchangeInfo."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.spot.format import fmt


def check_price(market: Market, price: Decimal) -> None:
    # PRICE_FILTER: price >= minPrice, price <= maxPrice, (price - minPrice) % tickSize == 0
    if price < market.min_price or price > market.max_price or (price - market.min_price) % market.tick_size:
        raise errors.filter_failure("PRICE_FILTER")


def check_qty(market: Market, qty: Decimal) -> None:
    # LOT_SIZE: quantity >= minQty, quantity <= maxQty, (quantity - minQty) % stepSize == 0
    if qty < market.min_qty or qty > market.max_qty or (qty - market.min_qty) % market.step_size:
        raise errors.filter_failure("LOT_SIZE")


def check_notional(market: Market, notional: Decimal, *, is_market: bool) -> None:
    # NOTIONAL: minNotional applies to MARKET too (applyMinToMarket=true), maxNotional only to
    # non-MARKET orders (applyMaxToMarket=false).
    if notional < market.min_notional or (not is_market and notional > market.max_notional):
        raise errors.filter_failure("NOTIONAL")


def exchange_info_filters(market: Market) -> list[dict[str, Any]]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(market.min_price),
            "maxPrice": fmt(market.max_price),
            "tickSize": fmt(market.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": fmt(market.min_qty),
            "maxQty": fmt(market.max_qty),
            "stepSize": fmt(market.step_size),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": fmt(market.min_notional),
            "applyMinToMarket": True,
            "maxNotional": fmt(market.max_notional),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
    ]
