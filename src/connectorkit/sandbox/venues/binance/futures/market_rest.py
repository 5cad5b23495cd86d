"""``/fapi`` market data built from the sandbox's own trades (:mod:`connectorkit.sandbox.history`), funding
history, leverage brackets, margin type and ``allOrders`` (USDⓈ-M Futures docs; each handler names its page,
weights are the documented "Request Weight").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from connectorkit.sandbox.history import DAY_MS, FUTURES_INTERVALS
from connectorkit.sandbox.venues.binance import errors as core_errors
from connectorkit.sandbox.venues.binance.http import ApiGateway, ApiRequest
from connectorkit.sandbox.venues.binance.marketstats import (
    agg_trade,
    bounded_limit,
    kline_params,
    kline_row,
    recent_trade,
    select_all_orders,
    ticker_change,
)

from . import wire

if TYPE_CHECKING:
    from .product import FuturesProduct

MARGIN_TYPES = ("ISOLATED", "CROSSED")
NO_NEED_TO_CHANGE_MARGIN_TYPE = -4046
MARGIN_TYPE_OPEN_ORDERS = -4047
MARGIN_TYPE_POSITION = -4048
ALL_ORDERS_WINDOW_MS = 7 * DAY_MS


def _klines_weight(req: ApiRequest) -> int:
    """ "Kline/Candlestick Data": by limit, [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10."""
    raw = req.params.get("limit") or "500"
    limit = int(raw) if raw.isascii() and raw.isdigit() else 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


class MarginTypes:
    """Per account and symbol: ``CROSSED`` (the default) or ``ISOLATED``.

    The sandbox records the choice and reports it; margin is always accounted as cross margin.
    """

    def __init__(self) -> None:
        self.by_account: dict[tuple[int, str], str] = {}

    def get(self, account_id: int, symbol: str) -> str:
        return self.by_account.get((account_id, symbol), "CROSSED")

    def dump(self) -> list[list[Any]]:
        return [[a, s, t] for (a, s), t in sorted(self.by_account.items())]

    def load(self, rows: list[list[Any]]) -> None:
        self.by_account = {(int(a), str(s)): str(t) for a, s, t in rows}


def mount_market_rest(app: web.Application, product: FuturesProduct, gw: ApiGateway) -> None:
    ex = product.exchange
    clock = product.ctx.clock

    def symbol_of(req: ApiRequest) -> str:
        return ex.market(req.require("symbol")).symbol

    @gw.endpoint(weight=lambda r: 1 if r.get("symbol") else 40)
    async def ticker_24hr(req: ApiRequest) -> Any:
        """Market Data REST, "24hr Ticker Price Change Statistics": GET /fapi/v1/ticker/24hr."""
        symbol = req.get("symbol")
        symbols = [ex.market(symbol).symbol] if symbol is not None else list(ex.markets)
        now = clock.now_ms()
        rows = []
        for s in symbols:
            stats = ex.history[s].window_stats(DAY_MS, now)
            rows.append(
                {
                    "symbol": s,
                    **ticker_change(stats, wire.fmt),
                    "lastPrice": wire.fmt(stats.last),
                    "lastQty": wire.fmt(stats.last_qty),
                    "openPrice": wire.fmt(stats.open),
                    "highPrice": wire.fmt(stats.high),
                    "lowPrice": wire.fmt(stats.low),
                    "volume": wire.fmt(stats.volume),
                    "quoteVolume": wire.fmt(stats.quote_volume),
                    "openTime": stats.open_time,
                    "closeTime": stats.close_time,
                    "firstId": stats.first_id,
                    "lastId": stats.last_id,
                    "count": stats.count,
                }
            )
        return rows[0] if symbol is not None else rows

    @gw.endpoint(weight=_klines_weight)
    async def klines(req: ApiRequest) -> Any:
        """Market Data REST, "Kline/Candlestick Data": GET /fapi/v1/klines (limit 500, max 1500)."""
        symbol = symbol_of(req)
        interval, start, end, limit = kline_params(req, FUTURES_INTERVALS, 1500)
        rows = ex.history[symbol].klines(interval, clock.now_ms(), start=start, end=end, limit=limit)
        return [kline_row(c, interval, wire.fmt) for c in rows]

    @gw.endpoint(weight=5)
    async def trades(req: ApiRequest) -> Any:
        """Market Data REST, "Recent Trades List": GET /fapi/v1/trades (limit 500, max 1000)."""
        rows = ex.history[symbol_of(req)].recent_trades(bounded_limit(req, 500, 1000))
        return [recent_trade(t, wire.fmt, best_match=False) for t in rows]

    @gw.endpoint(weight=20)
    async def agg_trades(req: ApiRequest) -> Any:
        """Market Data REST, "Compressed/Aggregate Trades List": GET /fapi/v1/aggTrades (limit 500/1000;
        ``startTime``/``endTime`` at most one hour apart)."""
        symbol = symbol_of(req)
        from_id, start, end = req.integer("fromId"), req.integer("startTime"), req.integer("endTime")
        if start is not None and end is not None and end - start > 3_600_000:
            raise core_errors.lookup_interval_too_big(1)
        limit = bounded_limit(req, 500, 1000)
        rows = ex.history[symbol].agg_trades(limit, from_id=from_id, start=start, end=end)
        return [agg_trade(a, wire.fmt, best_match=False) for a in rows]

    @gw.endpoint(weight=1)
    async def funding_rate(req: ApiRequest) -> Any:
        """Market Data REST, "Get Funding Rate History": GET /fapi/v1/fundingRate (limit 100, max 1000;
        ascending; the most recent ``limit`` without a time range)."""
        symbol = req.get("symbol")
        symbols = [ex.market(symbol).symbol] if symbol is not None else list(ex.markets)
        start, end = req.integer("startTime"), req.integer("endTime")
        limit = bounded_limit(req, 100, 1000)
        rows = sorted(
            (
                (s, r)
                for s in symbols
                for r in ex.funding_history[s]
                if (start is None or r.funding_time >= start) and (end is None or r.funding_time <= end)
            ),
            key=lambda sr: (sr[1].funding_time, sr[0]),
        )
        rows = rows[:limit] if start is not None else rows[-limit:]
        return [
            {
                "symbol": s,
                "fundingRate": format(r.rate, "f"),
                "fundingTime": r.funding_time,
                "markPrice": wire.fmt(r.mark_price),
            }
            for s, r in rows
        ]

    @gw.endpoint(weight=1, security="SIGNED")
    async def leverage_bracket(req: ApiRequest) -> Any:
        """Account REST, "Notional and Leverage Brackets (USER_DATA)": GET /fapi/v1/leverageBracket.

        The sandbox's margin model has one tier per contract (its maintenance rate up to its maximum
        notional), so each symbol has one bracket.
        """
        symbol = req.get("symbol")
        markets = [ex.market(symbol)] if symbol is not None else list(ex.markets.values())
        rows = [
            {
                "symbol": m.symbol,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": m.max_leverage,
                        "notionalCap": int(m.max_notional),
                        "notionalFloor": 0,
                        "maintMarginRatio": float(m.maint_margin_rate),
                        "cum": 0.0,
                    }
                ],
            }
            for m in markets
        ]
        return rows[0] if symbol is not None else rows

    @gw.endpoint(weight=1, security="SIGNED")
    async def margin_type(req: ApiRequest) -> Any:
        """Trade REST, "Change Margin Type (TRADE)": POST /fapi/v1/marginType (ISOLATED / CROSSED)."""
        symbol = symbol_of(req)
        wanted = req.require("marginType")
        if wanted not in MARGIN_TYPES:
            raise core_errors.ApiError(-1116, "Invalid marginType.")
        aid = req.acct.account_id
        if product.margin_types.get(aid, symbol) == wanted:
            raise core_errors.ApiError(NO_NEED_TO_CHANGE_MARGIN_TYPE, "No need to change margin type.")
        if ex.open_orders(aid, symbol):
            raise core_errors.ApiError(
                MARGIN_TYPE_OPEN_ORDERS, "Margin type cannot be changed if there exists open orders."
            )
        acct = ex.account(aid)
        if any(p.symbol == symbol for p in acct.open_positions()):
            raise core_errors.ApiError(
                MARGIN_TYPE_POSITION, "Margin type cannot be changed if there exists position."
            )
        product.margin_types.by_account[(aid, symbol)] = wanted
        return {"code": 200, "msg": "success"}

    @gw.endpoint(weight=5, security="SIGNED")
    async def symbol_config(req: ApiRequest) -> Any:
        """Account REST, "Symbol Configuration (USER_DATA)": GET /fapi/v1/symbolConfig (a list, also
        with ``symbol``)."""
        symbol = req.get("symbol")
        markets = [ex.market(symbol)] if symbol is not None else list(ex.markets.values())
        aid = req.acct.account_id
        acct = ex.account(aid)
        return [
            {
                "symbol": m.symbol,
                "marginType": product.margin_types.get(aid, m.symbol),
                "isAutoAddMargin": "false",
                "leverage": acct.leverage_of(m.symbol),
                "maxNotionalValue": wire.fmt(m.max_notional),
            }
            for m in markets
        ]

    @gw.endpoint(weight=5, security="SIGNED")
    async def all_orders(req: ApiRequest) -> Any:
        """Trade REST, "All Orders (USER_DATA)": GET /fapi/v1/allOrders (limit 500, max 1000; at most
        7 days between startTime and endTime; from ``orderId`` up, else the most recent)."""
        chosen = select_all_orders(req, ex.orders.values(), symbol_of(req), ALL_ORDERS_WINDOW_MS)
        return [wire.order_json(o, with_time=True) for o in chosen]

    r = app.router
    r.add_get("/fapi/v1/ticker/24hr", ticker_24hr)
    r.add_get("/fapi/v1/klines", klines)
    r.add_get("/fapi/v1/trades", trades)
    r.add_get("/fapi/v1/aggTrades", agg_trades)
    r.add_get("/fapi/v1/fundingRate", funding_rate)
    r.add_get("/fapi/v1/leverageBracket", leverage_bracket)
    r.add_post("/fapi/v1/marginType", margin_type)
    r.add_get("/fapi/v1/allOrders", all_orders)
    r.add_get("/fapi/v1/symbolConfig", symbol_config)
