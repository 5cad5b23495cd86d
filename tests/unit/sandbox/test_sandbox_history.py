"""history.py (klines, statistics, backfill) and stats_streams.py (kline close events), pure."""

from __future__ import annotations

import random
from decimal import Decimal as D
from typing import Any

from connectorkit.sandbox.history import (
    MINUTE_MS,
    BackfillSpec,
    PublicTrade,
    SymbolHistory,
    backfill,
    bucket_start,
    next_bucket,
)
from connectorkit.sandbox.venues.binance.marketstats import kline_row
from connectorkit.sandbox.venues.binance.spot.format import fmt
from connectorkit.sandbox.venues.binance.stats_streams import SPOT_SPEEDS, StatsStreams, StreamNames

T0 = 1_700_000_000_000 - 1_700_000_000_000 % (24 * 3_600_000)  # a UTC midnight


def _trade(h: SymbolHistory, tid: int, price: str, qty: str, t: int, buyer_maker: bool = False) -> None:
    p, q = D(price), D(qty)
    h.add_trades(tid, [PublicTrade(tid, p, q, p * q, t, buyer_maker)])


def test_bucket_alignment_of_every_interval() -> None:
    t = T0 + 3 * 3_600_000 + 17 * MINUTE_MS + 5_123
    assert bucket_start("1s", t) == t - 123
    assert bucket_start("15m", t) == T0 + 3 * 3_600_000 + 15 * MINUTE_MS
    assert bucket_start("4h", t) == T0
    monday = bucket_start("1w", t)
    assert (monday // 86_400_000 + 3) % 7 == 0  # 1970-01-05 was a Monday
    assert next_bucket("1M", bucket_start("1M", 1_706_745_600_000)) == 1_709_251_200_000  # Feb 2024 → Mar


def test_klines_are_built_from_trades_and_flat_when_nothing_traded() -> None:
    h = SymbolHistory("BTCUSDT")
    _trade(h, 1, "100", "1", T0 + 1_000)
    _trade(h, 2, "110", "2", T0 + 30_000, buyer_maker=True)
    _trade(h, 3, "90", "1", T0 + 59_000)
    _trade(h, 4, "95", "1", T0 + 3 * MINUTE_MS + 1)  # minutes 1 and 2 have no trade
    now = T0 + 3 * MINUTE_MS + 10_000
    rows = h.klines("1m", now, start=None, end=None, limit=10)
    assert [r.open_time for r in rows] == [T0 + i * MINUTE_MS for i in range(4)]
    first = kline_row(rows[0], "1m", fmt)
    assert first == [
        T0, "100.00000000", "110.00000000", "90.00000000", "90.00000000", "4.00000000", T0 + 59_999,
        "410.00000000", 3, "2.00000000", "190.00000000", "0",
    ]  # fmt: skip
    assert (rows[1].open, rows[1].close, rows[1].volume, rows[1].count) == (D(90), D(90), 0, 0)
    assert rows[3].open == D(95)
    five = h.klines("5m", now, start=None, end=None, limit=10)
    assert len(five) == 1 and five[0].volume == 5 and five[0].high == 110 and five[0].close == 95
    page = h.klines("1m", now, start=T0 + 1, end=None, limit=2)  # open time >= startTime
    assert [r.open_time for r in page] == [T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]
    assert [r.open_time for r in h.klines("1m", now, start=None, end=T0 + MINUTE_MS, limit=1)] == [
        T0 + MINUTE_MS
    ]
    seconds = h.klines("1s", now, start=None, end=None, limit=3)
    assert seconds[-1].open_time == bucket_start("1s", now) and seconds[0].close == D(95)


def test_window_statistics() -> None:
    h = SymbolHistory("BTCUSDT")
    _trade(h, 1, "80", "1", T0)
    _trade(h, 2, "100", "1", T0 + 10 * MINUTE_MS)
    _trade(h, 3, "120", "3", T0 + 20 * MINUTE_MS)
    stats = h.window_stats(15 * MINUTE_MS, T0 + 25 * MINUTE_MS + 5)
    assert stats.open_time == T0 + 10 * MINUTE_MS  # opens on a minute
    assert (stats.open, stats.high, stats.low, stats.last, stats.prev_close) == (100, 120, 100, 120, 80)
    assert (stats.first_id, stats.last_id, stats.count, stats.volume) == (2, 3, 2, 4)
    assert stats.price_change == 20 and stats.price_change_percent == D("20.000")
    assert stats.weighted_avg_price == D("115.00000000")
    empty = h.window_stats(MINUTE_MS, T0 + 60 * MINUTE_MS)
    assert (empty.count, empty.first_id, empty.last_id, empty.last, empty.volume) == (0, -1, -1, 120, 0)


def test_backfill_ends_at_the_start_price_and_is_seeded() -> None:
    spec = BackfillSpec(D("0.01"), D("0.00001"), D("0.00001"), D("5"), D("30000"), 0.002)
    runs = []
    for _ in range(2):
        h = SymbolHistory("BTCUSDT")
        next_trade, next_agg = backfill(h, spec, T0, random.Random(5), minutes=600)
        runs.append([(t.trade_id, t.price, t.qty, t.time) for t in h.trades])
        rows = h.klines("1m", T0, start=None, end=None, limit=500)
        assert len(rows) == 500 and rows[-1].open_time == T0 and rows[-1].count == 0  # now: flat, open
        assert rows[-2].count > 0 and rows[0].open_time == T0 - 499 * MINUTE_MS
        assert next_trade == len(h.trades) + 1 == next_agg
        assert abs(h.trades[-1].price - D(30000)) <= D("0.03")
        assert all(t.time < T0 for t in h.trades)
    assert runs[0] == runs[1]


def test_kline_stream_closes_a_period_with_x_true() -> None:
    h = SymbolHistory("BTCUSDT")
    sent: list[tuple[str, Any]] = []
    history = type("H", (), {"symbols": {"BTCUSDT": h}, "__getitem__": lambda self, s: h})()
    streams = StatsStreams(
        history,  # type: ignore[arg-type]
        publish=lambda stream, payload: sent.append((stream, payload)),
        has_subscribers=lambda stream: stream == "btcusdt@kline_1m",
        fmt=fmt,
        intervals=("1m",),
        speeds=SPOT_SPEEDS,
        top=None,
        rolling_windows=False,
    )
    _trade(h, 1, "100", "1", T0 + 1_000)
    streams.tick(T0 + 2_000)
    assert [p["k"]["x"] for _, p in sent] == [False]
    _trade(h, 2, "101", "1", T0 + 50_000)
    streams.tick(T0 + 61_000)  # the first minute has ended
    assert [(p["k"]["t"], p["k"]["x"], p["k"]["c"]) for _, p in sent[1:]] == [
        (T0, True, "101.00000000"),
        (T0 + MINUTE_MS, False, "101.00000000"),
    ]


def test_stream_names() -> None:
    names = StreamNames(["BTCUSDT"], ["trade", "kline_(?:1m|1h)"], ["!ticker@arr"], ["continuousKline_1m"])
    assert names("btcusdt@trade") and names("btcusdt@kline_1h") and names("!ticker@arr")
    assert names("btcusdt_perpetual@continuousKline_1m")
    assert names("someListenKey123")
    assert not names("btcusdt@kline_2m") and not names("ethusdt@trade") and not names("!bookTicker")
    assert not names("BTCUSDT@trade")  # stream names are lower case
