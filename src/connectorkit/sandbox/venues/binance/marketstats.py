"""Wire shapes of the market statistics both products serve from :mod:`connectorkit.sandbox.history`
(pure builders; each product passes its own decimal formatter: spot prints 8 places, USD-M plain).

REST: Spot "Market Data endpoints" → "Kline/Candlestick data", "Recent trades list", "Compressed/Aggregate
trades list", "24hr ticker price change statistics", "Rolling window price change statistics"; USDⓈ-M
"Market Data" → "Kline/Candlestick Data", "Recent Trades List", "Compressed/Aggregate Trades List",
"24hr Ticker Price Change Statistics". Streams: Spot "WebSocket Streams" → "Kline/Candlestick Streams",
"Individual Symbol Mini Ticker Stream", "Individual Symbol Ticker Streams"; USDⓈ-M "Websocket Market
Streams" → the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from connectorkit.sandbox.engine import Order
from connectorkit.sandbox.history import AggTrade, Candle, PublicTrade, WindowStats, next_bucket
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.http import ApiRequest

Fmt = Callable[[Decimal], str]
Json = dict[str, Any]


def kline_row(c: Candle, interval: str, fmt: Fmt) -> list[Any]:
    """One kline: [open time, open, high, low, close, volume, close time, quote volume, trades,
    taker buy base volume, taker buy quote volume, "0" (unused field)]."""
    return [
        c.open_time, fmt(c.open), fmt(c.high), fmt(c.low), fmt(c.close), fmt(c.volume),
        next_bucket(interval, c.open_time) - 1, fmt(c.quote_volume), c.count,
        fmt(c.taker_buy_volume), fmt(c.taker_buy_quote), "0",
    ]  # fmt: skip


def kline_event(symbol: str, c: Candle, interval: str, closed: bool, now: int, fmt: Fmt) -> Json:
    """``<symbol>@kline_<interval>`` payload."""
    return {
        "e": "kline",
        "E": now,
        "s": symbol,
        "k": {
            "t": c.open_time,
            "T": next_bucket(interval, c.open_time) - 1,
            "s": symbol,
            "i": interval,
            "f": c.first_id,
            "L": c.last_id,
            "o": fmt(c.open),
            "c": fmt(c.close),
            "h": fmt(c.high),
            "l": fmt(c.low),
            "v": fmt(c.volume),
            "n": c.count,
            "x": closed,
            "q": fmt(c.quote_volume),
            "V": fmt(c.taker_buy_volume),
            "Q": fmt(c.taker_buy_quote),
            "B": "0",
        },
    }


def recent_trade(t: PublicTrade, fmt: Fmt, *, best_match: bool) -> Json:
    """A row of "Recent trades list" (spot adds ``isBestMatch``)."""
    row: Json = {
        "id": t.trade_id,
        "price": fmt(t.price),
        "qty": fmt(t.qty),
        "quoteQty": fmt(t.quote_qty),
        "time": t.time,
        "isBuyerMaker": t.is_buyer_maker,
    }
    if best_match:
        row["isBestMatch"] = True
    return row


def agg_trade(a: AggTrade, fmt: Fmt, *, best_match: bool) -> Json:
    """A row of "Compressed/Aggregate trades list" (spot adds ``M``)."""
    row: Json = {
        "a": a.agg_id,
        "p": fmt(a.price),
        "q": fmt(a.qty),
        "f": a.first_trade_id,
        "l": a.last_trade_id,
        "T": a.time,
        "m": a.is_buyer_maker,
    }
    if best_match:
        row["M"] = True
    return row


def ticker_mini(symbol: str, s: WindowStats, fmt: Fmt) -> Json:
    """The MINI ticker rows (REST ``type=MINI``)."""
    return {
        "symbol": symbol,
        "openPrice": fmt(s.open),
        "highPrice": fmt(s.high),
        "lowPrice": fmt(s.low),
        "lastPrice": fmt(s.last),
        "volume": fmt(s.volume),
        "quoteVolume": fmt(s.quote_volume),
        "openTime": s.open_time,
        "closeTime": s.close_time,
        "firstId": s.first_id,
        "lastId": s.last_id,
        "count": s.count,
    }


def ticker_change(s: WindowStats, fmt: Fmt) -> Json:
    return {
        "priceChange": fmt(s.price_change),
        "priceChangePercent": format(s.price_change_percent, "f"),
        "weightedAvgPrice": fmt(s.weighted_avg_price),
    }


def mini_ticker_event(symbol: str, s: WindowStats, now: int, fmt: Fmt) -> Json:
    """``<symbol>@miniTicker`` payload."""
    return {
        "e": "24hrMiniTicker",
        "E": now,
        "s": symbol,
        "c": fmt(s.last),
        "o": fmt(s.open),
        "h": fmt(s.high),
        "l": fmt(s.low),
        "v": fmt(s.volume),
        "q": fmt(s.quote_volume),
    }


def ticker_event(
    symbol: str,
    s: WindowStats,
    now: int,
    fmt: Fmt,
    top: tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None] | None,
) -> Json:
    """``<symbol>@ticker`` payload; ``top`` (best bid, best ask) for spot, ``None`` for USD-M (whose
    event has no ``x``, ``b``/``B``, ``a``/``A``)."""
    event: Json = {
        "e": "24hrTicker",
        "E": now,
        "s": symbol,
        "p": fmt(s.price_change),
        "P": format(s.price_change_percent, "f"),
        "w": fmt(s.weighted_avg_price),
    }
    if top is not None:
        event["x"] = fmt(s.prev_close)
    event["c"] = fmt(s.last)
    event["Q"] = fmt(s.last_qty)
    if top is not None:
        zero = Decimal(0)
        bid, ask = top[0] or (zero, zero), top[1] or (zero, zero)
        event.update({"b": fmt(bid[0]), "B": fmt(bid[1]), "a": fmt(ask[0]), "A": fmt(ask[1])})
    event.update(
        {
            "o": fmt(s.open),
            "h": fmt(s.high),
            "l": fmt(s.low),
            "v": fmt(s.volume),
            "q": fmt(s.quote_volume),
            "O": s.open_time,
            "C": s.close_time,
            "F": s.first_id,
            "L": s.last_id,
            "n": s.count,
        }
    )
    return event


def kline_params(
    req: ApiRequest, intervals: tuple[str, ...], max_limit: int
) -> tuple[str, int | None, int | None, int]:
    """``interval`` (-1120 if unknown), ``startTime``, ``endTime``, ``limit`` (default 500)."""
    interval = req.require("interval")
    if interval not in intervals:
        raise errors.invalid_interval()
    start, end = req.integer("startTime"), req.integer("endTime")
    if start is not None and end is not None and start > end:
        raise errors.ApiError(-1023, "Start time is greater than end time.")
    return interval, start, end, bounded_limit(req, 500, max_limit)


def bounded_limit(req: ApiRequest, default: int, max_limit: int) -> int:
    """``limit``: ``default`` when absent, at most ``max_limit`` (a larger one is capped)."""
    limit = req.integer("limit")
    return default if limit is None or limit == 0 else min(limit, max_limit)


def select_all_orders(req: ApiRequest, orders: Iterable[Order], symbol: str, window_ms: int) -> list[Order]:
    """The ``allOrders`` selection (Spot "All orders", USDⓈ-M "All Orders"): the account's orders of
    ``symbol`` by id, from ``orderId`` (or ``startTime``) up, else the most recent ``limit`` (500, max
    1000); ``startTime``..``endTime`` at most ``window_ms`` apart (-1127)."""
    order_id = req.integer("orderId")
    start, end = req.integer("startTime"), req.integer("endTime")
    if start is not None and end is not None and end - start > window_ms:
        raise errors.lookup_interval_too_big(window_ms // 3_600_000)
    limit = bounded_limit(req, 500, 1000)
    account_id = req.acct.account_id
    chosen = sorted(
        (
            o
            for o in orders
            if o.account_id == account_id
            and o.symbol == symbol
            and (order_id is None or o.order_id >= order_id)
            and (start is None or o.time >= start)
            and (end is None or o.time <= end)
        ),
        key=lambda o: o.order_id,
    )
    return chosen[:limit] if order_id is not None or start is not None else chosen[-limit:]
