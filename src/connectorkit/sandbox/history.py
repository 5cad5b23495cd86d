"""Public trade history of one product: recent trades, aggregate trades, one-minute candles (pure).

Everything the market-data endpoints derive from the sandbox's own trades comes from here: klines
(Spot "Market Data endpoints" → "Kline/Candlestick data", USDⓈ-M "Kline/Candlestick Data"), the 24 h
and rolling-window statistics ("24hr ticker price change statistics", "Rolling window price change
statistics"), recent trades and aggregate trades.

Storage, bounded: the last ``MAX_TRADES`` trades and aggregate trades, and one-minute candles for the
last ``CANDLE_RETENTION_MS``. Klines of one minute and longer are built from the minute candles; 1s
klines from the recent trades. A period without trades after the first trade is a flat candle at the
previous close with zero volume, as Binance prints illiquid periods. Rolling statistics are computed
from whole minute candles: the window opens on a minute, so it is up to 59 999 ms wider than asked,
which is what the Spot docs state for ``GET /api/v3/ticker``.

History before the sandbox started: :func:`backfill` makes ``BACKFILL_MINUTES`` minutes of synthetic
trades, a seeded random walk that ends at the market's starting price (walked backwards from it), so
that a client asking for the last 500 one-minute klines at start-up gets a plausible series.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from connectorkit.sandbox.engine import Fill

ZERO = Decimal(0)
SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
MAX_TRADES = 20_000
CANDLE_RETENTION_MS = 31 * DAY_MS
BACKFILL_MINUTES = 1_000
#: Cap of the backfill's per-minute volatility (0.2 %), so the series stays plausible over 1000 minutes.
MAX_BACKFILL_VOLATILITY = 0.002
# 1970-01-01 was a Thursday; Binance's weekly klines open on Mondays 00:00 UTC.
_WEEK_OFFSET_MS = 4 * DAY_MS

# Spot "Kline/Candlestick data" → "Kline intervals" (s, m, h, d, w, M); USD-M has no 1s.
_FIXED_INTERVALS_MS = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS, "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS, "6h": 6 * HOUR_MS, "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS, "1d": DAY_MS, "3d": 3 * DAY_MS, "1w": 7 * DAY_MS,
}  # fmt: skip
SPOT_INTERVALS = (*_FIXED_INTERVALS_MS, "1M")
FUTURES_INTERVALS = tuple(i for i in SPOT_INTERVALS if i != "1s")


def bucket_start(interval: str, t: int) -> int:
    """Open time of the ``interval`` kline that contains ``t`` (ms, UTC)."""
    if interval == "1M":
        d = datetime.fromtimestamp(t / 1000, UTC)
        return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)
    size = _FIXED_INTERVALS_MS[interval]
    offset = _WEEK_OFFSET_MS if interval == "1w" else 0
    return t - (t - offset) % size


def next_bucket(interval: str, start: int) -> int:
    """Open time of the kline after the one that opens at ``start``."""
    if interval == "1M":
        d = datetime.fromtimestamp(start / 1000, UTC)
        year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
    return start + _FIXED_INTERVALS_MS[interval]


@dataclass(frozen=True, slots=True)
class PublicTrade:
    trade_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool


@dataclass(frozen=True, slots=True)
class AggTrade:
    agg_id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool


@dataclass(slots=True)
class Candle:
    """One kline's figures (also the unit the longer klines are summed from)."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    quote_volume: Decimal = ZERO
    count: int = 0
    taker_buy_volume: Decimal = ZERO
    taker_buy_quote: Decimal = ZERO
    first_id: int = -1
    last_id: int = -1

    @classmethod
    def flat(cls, open_time: int, price: Decimal) -> Candle:
        return cls(open_time, price, price, price, price)

    def add(self, t: PublicTrade) -> None:
        if self.count == 0:
            self.open = self.high = self.low = t.price
            self.first_id = t.trade_id
        self.high = max(self.high, t.price)
        self.low = min(self.low, t.price)
        self.close = t.price
        self.volume += t.qty
        self.quote_volume += t.quote_qty
        self.count += 1
        self.last_id = t.trade_id
        if not t.is_buyer_maker:  # the taker bought
            self.taker_buy_volume += t.qty
            self.taker_buy_quote += t.quote_qty

    def merge(self, other: Candle) -> None:
        """Append the later candle ``other`` (flat candles move only the close)."""
        if other.count == 0:
            if self.count == 0:
                self.close = other.close
            return
        if self.count == 0:
            self.open, self.high, self.low = other.open, other.high, other.low
            self.first_id = other.first_id
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.volume += other.volume
        self.quote_volume += other.quote_volume
        self.count += other.count
        self.taker_buy_volume += other.taker_buy_volume
        self.taker_buy_quote += other.taker_buy_quote
        self.last_id = other.last_id


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Price change statistics over ``[open_time, close_time]``; ``count`` 0 = no trade in the window."""

    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    prev_close: Decimal
    volume: Decimal
    quote_volume: Decimal
    first_id: int
    last_id: int
    count: int
    last_qty: Decimal

    @property
    def price_change(self) -> Decimal:
        return self.last - self.open

    @property
    def price_change_percent(self) -> Decimal:
        """In percent, 3 decimals as Binance prints it (exact division, then one explicit rounding)."""
        if self.open == 0:
            return Decimal("0.000")
        return (self.price_change * 100 / self.open).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)

    @property
    def weighted_avg_price(self) -> Decimal:
        if self.volume == 0:
            return ZERO
        return (self.quote_volume / self.volume).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN)


class SymbolHistory:
    def __init__(self, symbol: str, *, max_trades: int = MAX_TRADES) -> None:
        self.symbol = symbol
        self.trades: deque[PublicTrade] = deque(maxlen=max_trades)
        self.aggs: deque[AggTrade] = deque(maxlen=max_trades)
        self._minutes: list[Candle] = []
        self._minute_times: list[int] = []

    # ---- recording -------------------------------------------------------------------------------
    def add_aggregate(self, agg_id: int, fills: Sequence[Fill]) -> AggTrade:
        """Record one taker's run of fills at one price as aggregate trade ``agg_id``."""
        trades = [
            PublicTrade(f.trade_id, f.price, f.qty, f.quote_qty, f.time, f.is_buyer_maker) for f in fills
        ]
        return self.add_trades(agg_id, trades)

    def add_trades(self, agg_id: int, trades: Sequence[PublicTrade]) -> AggTrade:
        """Record trades (one taker, one price) as aggregate trade ``agg_id``."""
        for t in trades:
            self._add_trade(t)
        agg = AggTrade(
            agg_id,
            trades[0].price,
            sum((t.qty for t in trades), ZERO),
            trades[0].trade_id,
            trades[-1].trade_id,
            trades[0].time,
            trades[0].is_buyer_maker,
        )
        self.aggs.append(agg)
        return agg

    def _add_trade(self, t: PublicTrade) -> None:
        self.trades.append(t)
        minute = t.time - t.time % MINUTE_MS
        if self._minute_times and self._minute_times[-1] == minute:
            self._minutes[-1].add(t)
        elif not self._minute_times or self._minute_times[-1] < minute:
            candle = Candle.flat(minute, t.price)
            candle.add(t)
            self._minutes.append(candle)
            self._minute_times.append(minute)
            self._trim(minute - CANDLE_RETENTION_MS)
        else:  # a trade stamped before the current minute (clock skew): into its own minute
            i = bisect.bisect_left(self._minute_times, minute)
            if i < len(self._minute_times) and self._minute_times[i] == minute:
                self._minutes[i].add(t)
            else:
                candle = Candle.flat(minute, t.price)
                candle.add(t)
                self._minutes.insert(i, candle)
                self._minute_times.insert(i, minute)

    def _trim(self, before: int) -> None:
        cut = bisect.bisect_left(self._minute_times, before)
        if cut > 1000:  # trim in chunks, not on every minute
            del self._minutes[:cut]
            del self._minute_times[:cut]

    @property
    def last_trade(self) -> PublicTrade | None:
        return self.trades[-1] if self.trades else None

    # ---- klines ----------------------------------------------------------------------------------
    def _units(self, interval: str) -> list[Candle]:
        if interval != "1s":
            return self._minutes
        seconds: list[Candle] = []
        for t in self.trades:
            second = t.time - t.time % SECOND_MS
            if not seconds or seconds[-1].open_time != second:
                seconds.append(Candle.flat(second, t.price))
            seconds[-1].add(t)
        return seconds

    def klines(
        self, interval: str, now: int, *, start: int | None, end: int | None, limit: int
    ) -> list[Candle]:
        """Klines in ``[start, end]`` by open time, the earliest ``limit`` from ``start``, else the
        latest ``limit`` up to ``end`` (default now); empty periods are flat candles."""
        units = self._units(interval)
        if not units:
            return []
        first = bucket_start(interval, units[0].open_time)
        last = bucket_start(interval, min(end, now) if end is not None else now)
        if start is not None:
            lo = max(first, bucket_start(interval, start))
            if lo < start:
                lo = next_bucket(interval, lo)
            starts = list(_bucket_range(interval, lo, last, limit))
        else:
            starts = _last_buckets(interval, first, last, limit)
        if not starts:
            return []
        return self._aggregate(interval, units, starts)

    def _aggregate(self, interval: str, units: list[Candle], starts: list[int]) -> list[Candle]:
        times = [u.open_time for u in units]
        i = bisect.bisect_left(times, starts[0])
        prev_close = units[i - 1].close if i > 0 else units[0].open
        out: list[Candle] = []
        for s in starts:
            candle = Candle.flat(s, prev_close)
            stop = next_bucket(interval, s)
            while i < len(units) and units[i].open_time < stop:
                candle.merge(units[i])
                i += 1
            prev_close = candle.close
            out.append(candle)
        return out

    # ---- statistics ------------------------------------------------------------------------------
    def window_stats(self, window_ms: int, now: int, *, minute_aligned: bool = True) -> WindowStats:
        """Statistics of the trades since ``now - window_ms`` (opened on a minute when ``minute_aligned``)."""
        open_time = now - window_ms
        if minute_aligned:
            open_time -= open_time % MINUTE_MS
        i = bisect.bisect_left(self._minute_times, open_time)
        prev = self._minutes[i - 1].close if i > 0 else None
        window = self._minutes[i:]
        last_trade = self.last_trade
        last_price = last_trade.price if last_trade is not None else (prev or ZERO)
        if not window:
            price = prev if prev is not None else last_price
            return WindowStats(open_time, now, price, price, price, price, price, ZERO, ZERO, -1, -1, 0, ZERO)
        total = Candle.flat(window[0].open_time, window[0].open)
        for c in window:
            total.merge(c)
        return WindowStats(
            open_time=open_time,
            close_time=now,
            open=total.open,
            high=total.high,
            low=total.low,
            last=total.close,
            prev_close=prev if prev is not None else total.open,
            volume=total.volume,
            quote_volume=total.quote_volume,
            first_id=total.first_id,
            last_id=total.last_id,
            count=total.count,
            last_qty=last_trade.qty if last_trade is not None else ZERO,
        )

    # ---- recent trades ---------------------------------------------------------------------------
    def recent_trades(self, limit: int, from_id: int | None = None) -> list[PublicTrade]:
        if from_id is None:
            return list(self.trades)[-limit:] if limit else []
        return [t for t in self.trades if t.trade_id >= from_id][:limit]

    def agg_trades(
        self, limit: int, *, from_id: int | None, start: int | None, end: int | None
    ) -> list[AggTrade]:
        rows: Iterable[AggTrade] = self.aggs
        if from_id is not None:
            rows = (a for a in rows if a.agg_id >= from_id)
        if start is not None:
            rows = (a for a in rows if a.time >= start)
        if end is not None:
            rows = (a for a in rows if a.time <= end)
        if from_id is None and start is None and end is None:
            return list(self.aggs)[-limit:]
        out: list[AggTrade] = []
        for a in rows:
            if len(out) == limit:
                break
            out.append(a)
        return out


def _bucket_range(interval: str, lo: int, hi: int, limit: int) -> Iterator[int]:
    s, n = lo, 0
    while s <= hi and n < limit:
        yield s
        s = next_bucket(interval, s)
        n += 1


def _last_buckets(interval: str, first: int, last: int, limit: int) -> list[int]:
    if interval == "1M":
        all_starts = list(_bucket_range(interval, first, last, 10**6))
        return all_starts[-limit:]
    size = _FIXED_INTERVALS_MS[interval]
    lo = max(first, last - (limit - 1) * size)
    return list(range(lo, last + 1, size)) if lo <= last else []


class MarketHistory:
    """The :class:`SymbolHistory` of every symbol of one product."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = {s: SymbolHistory(s) for s in symbols}

    def __getitem__(self, symbol: str) -> SymbolHistory:
        return self.symbols[symbol]


@dataclass(frozen=True, slots=True)
class BackfillSpec:
    """What :func:`backfill` needs to know of a market."""

    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    mid: Decimal
    volatility_per_minute: float


def backfill(
    history: SymbolHistory,
    spec: BackfillSpec,
    now: int,
    rng: random.Random,
    *,
    first_trade_id: int = 1,
    first_agg_id: int = 1,
    minutes: int = BACKFILL_MINUTES,
) -> tuple[int, int]:
    """Fill ``history`` with ``minutes`` of synthetic trades ending before ``now``; returns the next
    trade id and the next aggregate trade id."""
    # Walk backwards from the market's starting price, so that the series ends where the live market
    # starts; then replay it forwards.
    prices = [spec.mid]
    for _ in range(minutes - 1):
        shock = rng.gauss(0.0, spec.volatility_per_minute)
        prices.append(max(spec.tick, _to_tick(prices[-1] * Decimal(repr(math.exp(shock))), spec.tick)))
    prices.reverse()
    base_qty = max(spec.min_qty, (spec.min_notional * 4 / spec.mid / spec.step).to_integral_value(ROUND_DOWN)
                   * spec.step + spec.step)  # fmt: skip
    trade_id, agg_id = first_trade_id, first_agg_id
    now_minute = now - now % MINUTE_MS
    for k, price in enumerate(prices):
        minute_start = now_minute - (minutes - k) * MINUTE_MS
        offsets = sorted(rng.randrange(MINUTE_MS) for _ in range(rng.randint(2, 6)))
        for offset in offsets:
            p = max(spec.tick, price + spec.tick * rng.randint(-3, 3))
            qty = base_qty * rng.randint(1, 5)
            trade = PublicTrade(trade_id, p, qty, p * qty, minute_start + offset, rng.random() < 0.5)
            history.add_trades(agg_id, [trade])
            trade_id += 1
            agg_id += 1
    return trade_id, agg_id


def _to_tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
