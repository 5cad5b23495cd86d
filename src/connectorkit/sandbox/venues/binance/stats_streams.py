"""Ticker, mini-ticker and kline streams of one product, from its :mod:`~connectorkit.sandbox.history`.

Streams and update speeds: Spot "WebSocket Streams" → "Kline/Candlestick Streams" (1000 ms for 1s, 2000 ms
for the other intervals), "Individual Symbol Mini Ticker Stream", "Individual Symbol Ticker Streams",
"Individual Symbol Rolling Window Statistics Streams" (1h, 4h, 1d), "All Market Mini Tickers Stream" and
"All Market Tickers Stream" (all 1000 ms); USDⓈ-M "Websocket Market Streams" → "Kline/Candlestick Streams"
(250 ms), "Individual Symbol Mini Ticker Stream" (500 ms), "Individual Symbol Ticker Streams" (2000 ms),
"All Market Mini Tickers Stream" and "All Market Tickers Streams" (1000 ms), "Continuous Contract
Kline/Candlestick Streams" (``<pair>_perpetual@continuousKline_<interval>``, 250 ms).

A kline event has ``x`` false while its period is open; when the period has ended, the final event of
that kline (``x`` true) is sent before the next period's first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectorkit.sandbox.history import (
    DAY_MS,
    HOUR_MS,
    Candle,
    MarketHistory,
    WindowStats,
    bucket_start,
    next_bucket,
)
from connectorkit.sandbox.venues.binance.marketstats import Fmt, kline_event, mini_ticker_event, ticker_event

Top = tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]
#: Spot rolling-window statistics streams: ``<symbol>@ticker_<window>``.
ROLLING_WINDOWS_MS = {"1h": HOUR_MS, "4h": 4 * HOUR_MS, "1d": DAY_MS}


@dataclass(frozen=True, slots=True)
class StatsSpeeds:
    kline_ms: int
    kline_1s_ms: int
    ticker_ms: int
    mini_ticker_ms: int
    all_market_ms: int


SPOT_SPEEDS = StatsSpeeds(
    kline_ms=2000, kline_1s_ms=1000, ticker_ms=1000, mini_ticker_ms=1000, all_market_ms=1000
)
FUTURES_SPEEDS = StatsSpeeds(
    kline_ms=250, kline_1s_ms=250, ticker_ms=2000, mini_ticker_ms=500, all_market_ms=1000
)


class StatsStreams:
    """Publishes what is subscribed, each at its documented speed (call :meth:`tick` often)."""

    def __init__(
        self,
        history: MarketHistory,
        *,
        publish: Callable[[str, Any], None],
        has_subscribers: Callable[[str], bool],
        fmt: Fmt,
        intervals: tuple[str, ...],
        speeds: StatsSpeeds,
        top: Callable[[str], Top] | None,
        rolling_windows: bool,
        continuous_klines: bool = False,
    ) -> None:
        """``top(symbol)``: (best bid, best ask) for the spot ticker's ``b``/``a``; ``None`` for USD-M."""
        self.history = history
        self.publish = publish
        self.has_subscribers = has_subscribers
        self.fmt = fmt
        self.intervals = intervals
        self.speeds = speeds
        self.top = top
        self.rolling_windows = rolling_windows
        self.continuous_klines = continuous_klines
        self._due: dict[str, int] = {}
        self._open_kline: dict[str, int] = {}

    def _is_due(self, stream: str, every_ms: int, now: int) -> bool:
        if not self.has_subscribers(stream):
            return False
        if now < self._due.get(stream, 0):
            return False
        self._due[stream] = now + every_ms
        return True

    def tick(self, now: int) -> None:
        tickers: list[dict[str, Any]] = []
        minis: list[dict[str, Any]] = []
        want_all = self.has_subscribers("!ticker@arr") and now >= self._due.get("!ticker@arr", 0)
        want_all_mini = self.has_subscribers("!miniTicker@arr") and now >= self._due.get("!miniTicker@arr", 0)
        for symbol, history in self.history.symbols.items():
            lower = symbol.lower()
            stats = None
            ticker_due = self._is_due(f"{lower}@ticker", self.speeds.ticker_ms, now)
            if want_all or ticker_due:
                stats = history.window_stats(DAY_MS, now)
                event = ticker_event(symbol, stats, now, self.fmt, self.top(symbol) if self.top else None)
                if ticker_due:
                    self.publish(f"{lower}@ticker", event)
                tickers.append(event)
            mini_due = self._is_due(f"{lower}@miniTicker", self.speeds.mini_ticker_ms, now)
            if want_all_mini or mini_due:
                stats = stats or history.window_stats(DAY_MS, now)
                event = mini_ticker_event(symbol, stats, now, self.fmt)
                if mini_due:
                    self.publish(f"{lower}@miniTicker", event)
                minis.append(event)
            if self.rolling_windows:
                for name, window_ms in ROLLING_WINDOWS_MS.items():
                    stream = f"{lower}@ticker_{name}"
                    if self._is_due(stream, self.speeds.ticker_ms, now):
                        stats_w = history.window_stats(window_ms, now)
                        self.publish(stream, _rolling_event(symbol, name, stats_w, now, self.fmt))
            for interval in self.intervals:
                self._kline(f"{lower}@kline_{interval}", symbol, interval, now, continuous=False)
                if self.continuous_klines:
                    stream = f"{lower}_perpetual@continuousKline_{interval}"
                    self._kline(stream, symbol, interval, now, continuous=True)
        if want_all:
            self._due["!ticker@arr"] = now + self.speeds.all_market_ms
            self.publish("!ticker@arr", tickers)
        if want_all_mini:
            self._due["!miniTicker@arr"] = now + self.speeds.all_market_ms
            self.publish("!miniTicker@arr", minis)

    def _kline(self, stream: str, symbol: str, interval: str, now: int, *, continuous: bool) -> None:
        every = self.speeds.kline_1s_ms if interval == "1s" else self.speeds.kline_ms
        if not self._is_due(stream, every, now):
            return
        history = self.history[symbol]
        current = bucket_start(interval, now)
        previous = self._open_kline.get(stream)
        if previous is not None and previous < current:
            # The period that was open at the last push has ended: its final state, ``x`` true.
            closed = history.klines(interval, now, start=previous, end=previous, limit=1)
            if closed and closed[0].open_time == previous:
                self.publish(stream, self._kline_event(symbol, closed[0], interval, True, now, continuous))
        rows = history.klines(interval, now, start=None, end=None, limit=1)
        if not rows:
            return
        self._open_kline[stream] = rows[0].open_time
        closed_now = next_bucket(interval, rows[0].open_time) <= now
        self.publish(stream, self._kline_event(symbol, rows[0], interval, closed_now, now, continuous))

    def _kline_event(
        self, symbol: str, c: Candle, interval: str, closed: bool, now: int, continuous: bool
    ) -> dict[str, Any]:
        event = kline_event(symbol, c, interval, closed, now, self.fmt)
        if not continuous:
            return event
        # USDⓈ-M "Continuous Contract Kline/Candlestick Streams": pair and contract type, no symbol.
        k = {key: value for key, value in event["k"].items() if key != "s"}
        return {"e": "continuous_kline", "E": now, "ps": symbol, "ct": "PERPETUAL", "k": k}


def _rolling_event(symbol: str, window: str, stats: WindowStats, now: int, fmt: Fmt) -> dict[str, Any]:
    """Spot "Individual Symbol Rolling Window Statistics Streams" (``<window>Ticker``)."""
    return {
        "e": f"{window}Ticker",
        "E": now,
        "s": symbol,
        "p": fmt(stats.price_change),
        "P": format(stats.price_change_percent, "f"),
        "o": fmt(stats.open),
        "h": fmt(stats.high),
        "l": fmt(stats.low),
        "c": fmt(stats.last),
        "w": fmt(stats.weighted_avg_price),
        "v": fmt(stats.volume),
        "q": fmt(stats.quote_volume),
        "O": stats.open_time,
        "C": stats.close_time,
        "F": stats.first_id,
        "L": stats.last_id,
        "n": stats.count,
    }


class StreamNames:
    """Which stream names a product serves (anything without ``@`` and ``!`` is taken for a listen key).

    ``per_symbol`` patterns follow ``<symbol>@``; ``per_pair`` ones follow ``<symbol>_perpetual@``.
    """

    def __init__(
        self,
        symbols: list[str],
        per_symbol: list[str],
        market_wide: list[str],
        per_pair: Sequence[str] = (),
    ) -> None:
        self._symbols = {s.lower() for s in symbols}
        self._per_pair = re.compile("(?:" + "|".join(per_pair) + ")") if per_pair else None
        self._per_symbol = re.compile("(?:" + "|".join(per_symbol) + ")")
        self._market_wide = set(market_wide)

    def __call__(self, stream: str) -> bool:
        if stream.startswith("!"):
            return stream in self._market_wide
        if "@" not in stream:
            return True  # a listen key: the user-data bus decides what it carries
        symbol, _, rest = stream.partition("@")
        if symbol.endswith("_perpetual") and self._per_pair is not None:
            return (
                symbol[: -len("_perpetual")] in self._symbols and self._per_pair.fullmatch(rest) is not None
            )
        return symbol in self._symbols and self._per_symbol.fullmatch(rest) is not None
