"""Spot market-data REST built from the sandbox's own trades (:mod:`connectorkit.sandbox.history`), and
``allOrders``. Sections and weights: Binance Spot API docs, "REST API" → "Market Data endpoints" and
"Account endpoints".
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from aiohttp import web

from connectorkit.sandbox.engine import ZERO
from connectorkit.sandbox.history import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SPOT_INTERVALS,
    MarketHistory,
    WindowStats,
)
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.http import ApiGateway, ApiRequest
from connectorkit.sandbox.venues.binance.marketstats import (
    agg_trade,
    bounded_limit,
    kline_params,
    kline_row,
    recent_trade,
    select_all_orders,
    ticker_change,
    ticker_mini,
)
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange
from connectorkit.sandbox.venues.binance.spot.format import fmt
from connectorkit.sandbox.venues.binance.spot.rest import order_json, symbols_param

# "Rolling window price change statistics": windowSize 1m..59m, 1h..23h, 1d..7d (default 1d).
_WINDOW_RE = re.compile(r"^([1-9][0-9]?)([mhd])$")
_WINDOW_UNITS = {"m": (MINUTE_MS, 59), "h": (HOUR_MS, 23), "d": (DAY_MS, 7)}
AVG_PRICE_MINUTES = 5  # "Current average price": {"mins": 5, ...}


def ticker_24hr_weight(req: ApiRequest) -> int:
    """ "24hr ticker price change statistics": 2 for one symbol; for ``symbols`` 2 (1-20), 40 (21-100),
    80 (101+); 80 without either."""
    if req.params.get("symbol"):
        return 2
    raw = req.params.get("symbols")
    if raw is None:
        return 80
    n = raw.count(",") + 1
    return 2 if n <= 20 else 40 if n <= 100 else 80


def rolling_weight(req: ApiRequest) -> int:
    """ "Rolling window price change statistics": 4 per requested symbol, capped at 200 above 50 symbols."""
    raw = req.params.get("symbols")
    n = 1 if raw is None else raw.count(",") + 1
    return min(4 * n, 200)


def window_size(req: ApiRequest) -> int:
    raw = req.get("windowSize") or "1d"
    match = _WINDOW_RE.fullmatch(raw)
    if match is None or int(match.group(1)) > _WINDOW_UNITS[match.group(2)][1]:
        raise errors.ApiError(
            -1100,
            "Illegal characters found in parameter 'windowSize'; legal range is '1m-59m, 1h-23h, 1d-7d'.",
        )
    unit_ms, _ = _WINDOW_UNITS[match.group(2)]
    return int(match.group(1)) * unit_ms


def ticker_type(req: ApiRequest) -> str:
    kind = req.get("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise errors.ApiError(
            -1100, "Illegal characters found in parameter 'type'; legal range is 'FULL, MINI'."
        )
    return kind


class SpotMarketRest:
    def __init__(self, exchange: SpotExchange, gateway: ApiGateway, history: MarketHistory) -> None:
        self.ex = exchange
        self.gw = gateway
        self.history = history

    def mount(self, app: web.Application) -> None:
        gw = self.gw
        r = app.router
        r.add_get("/api/v3/klines", gw.endpoint(weight=2)(self.klines))
        r.add_get("/api/v3/uiKlines", gw.endpoint(weight=2)(self.klines))
        r.add_get("/api/v3/trades", gw.endpoint(weight=25)(self.trades))
        r.add_get("/api/v3/historicalTrades", gw.endpoint(weight=25, security="MARKET_DATA")(self.old_trades))
        r.add_get("/api/v3/aggTrades", gw.endpoint(weight=4)(self.agg_trades))
        r.add_get("/api/v3/avgPrice", gw.endpoint(weight=2)(self.avg_price))
        r.add_get("/api/v3/ticker/24hr", gw.endpoint(weight=ticker_24hr_weight)(self.ticker_24hr))
        r.add_get("/api/v3/ticker", gw.endpoint(weight=rolling_weight)(self.ticker_rolling))
        r.add_get("/api/v3/allOrders", gw.endpoint(weight=20, security="SIGNED")(self.all_orders))

    def _symbol(self, req: ApiRequest) -> str:
        return self.ex.market(req.require("symbol")).symbol

    async def klines(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Kline/Candlestick data" and "UIKlines" (weight 2, limit 500/1000).

        ``uiKlines`` answers the same rows: the sandbox's klines need no presentation tweaks.
        """
        symbol = self._symbol(req)
        interval, start, end, limit = kline_params(req, SPOT_INTERVALS, 1000)
        rows = self.history[symbol].klines(
            interval, self.ex.clock.now_ms(), start=start, end=end, limit=limit
        )
        return [kline_row(c, interval, fmt) for c in rows]

    async def trades(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Recent trades list" (weight 25, limit 500/1000)."""
        symbol = self._symbol(req)
        rows = self.history[symbol].recent_trades(bounded_limit(req, 500, 1000))
        return [recent_trade(t, fmt, best_match=True) for t in rows]

    async def old_trades(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Old trade lookup" (weight 25, ``fromId``)."""
        symbol = self._symbol(req)
        rows = self.history[symbol].recent_trades(bounded_limit(req, 500, 1000), req.integer("fromId"))
        return [recent_trade(t, fmt, best_match=True) for t in rows]

    async def agg_trades(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Compressed/Aggregate trades list" (weight 4, limit 500/1000)."""
        symbol = self._symbol(req)
        from_id, start, end = req.integer("fromId"), req.integer("startTime"), req.integer("endTime")
        limit = bounded_limit(req, 500, 1000)
        rows = self.history[symbol].agg_trades(limit, from_id=from_id, start=start, end=end)
        return [agg_trade(a, fmt, best_match=True) for a in rows]

    async def avg_price(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Current average price": volume-weighted over the last 5 minutes
        (the last price when nothing traded)."""
        symbol = self._symbol(req)
        now = self.ex.clock.now_ms()
        window = [t for t in self.history[symbol].trades if t.time > now - AVG_PRICE_MINUTES * MINUTE_MS]
        volume = sum((t.qty for t in window), ZERO)
        if volume > 0:
            price = (sum((t.quote_qty for t in window), ZERO) / volume).quantize(
                Decimal("0.00000001"), rounding=ROUND_HALF_EVEN
            )
            close_time = window[-1].time
        else:
            price = self.ex.reference_price(symbol) or ZERO
            last = self.history[symbol].last_trade
            close_time = last.time if last is not None else now
        return {"mins": AVG_PRICE_MINUTES, "price": fmt(price), "closeTime": close_time}

    def _selection(self, req: ApiRequest, *, required: bool) -> tuple[list[str], bool]:
        symbol = req.get("symbol")
        symbols = symbols_param(req)
        if symbol is not None and symbols is not None:
            raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
        if symbol is not None:
            return [self.ex.market(symbol).symbol], True
        if symbols is not None:
            return [self.ex.market(s).symbol for s in symbols], False
        if required:
            raise errors.one_of_params("symbol", "symbols")
        return list(self.ex.markets), False

    async def ticker_24hr(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "24hr ticker price change statistics" (FULL or MINI)."""
        symbols, single = self._selection(req, required=False)
        kind = ticker_type(req)
        now = self.ex.clock.now_ms()
        rows = [
            self._ticker(s, self.history[s].window_stats(DAY_MS, now), kind, full_24hr=True) for s in symbols
        ]
        return rows[0] if single else rows

    async def ticker_rolling(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Rolling window price change statistics" (``windowSize``, default 1d;
        the window opens on a minute)."""
        symbols, single = self._selection(req, required=True)
        size = window_size(req)
        kind = ticker_type(req)
        now = self.ex.clock.now_ms()
        rows = [
            self._ticker(s, self.history[s].window_stats(size, now), kind, full_24hr=False) for s in symbols
        ]
        return rows[0] if single else rows

    def _ticker(self, symbol: str, stats: WindowStats, kind: str, *, full_24hr: bool) -> dict[str, Any]:
        mini = ticker_mini(symbol, stats, fmt)
        if kind == "MINI":
            return mini
        row: dict[str, Any] = {"symbol": symbol, **ticker_change(stats, fmt)}
        if full_24hr:
            book = self.ex.engine.book(symbol)
            bid = book.best_bid() or (ZERO, ZERO)
            ask = book.best_ask() or (ZERO, ZERO)
            row.update(
                {
                    "prevClosePrice": fmt(stats.prev_close),
                    "lastPrice": fmt(stats.last),
                    "lastQty": fmt(stats.last_qty),
                    "bidPrice": fmt(bid[0]),
                    "bidQty": fmt(bid[1]),
                    "askPrice": fmt(ask[0]),
                    "askQty": fmt(ask[1]),
                }
            )
        del mini["symbol"]
        if full_24hr:
            del mini["lastPrice"]
        row.update(mini)
        return row

    async def all_orders(self, req: ApiRequest) -> Any:
        """Account endpoints → "All orders (USER_DATA)" (weight 20, limit 500/1000, at most 24 h between
        startTime and endTime; from ``orderId`` up, else the most recent)."""
        chosen = select_all_orders(req, self.ex.orders.values(), self._symbol(req), DAY_MS)
        return [order_json(o) for o in chosen]
