"""The demo's live view fits an 80x24 terminal whatever the content."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from connectorkit.cli.demo.journal import EventJournal
from connectorkit.cli.demo.view import (
    ROUNDED_NOTE,
    BookLine,
    OrderLine,
    ViewSnapshot,
    _fmt,
    counters_line,
    render,
)
from connectorkit.core.enums import OrderType
from connectorkit.core.events import EventPublisher, MarketEvent, OrderFailureEvent

D = Decimal


def _full_snapshot() -> ViewSnapshot:
    snap = ViewSnapshot(elapsed=12.3, duration=30)
    snap.books = [BookLine(f"{m} BTC-USDT", D("123456.78"), D("12.3456"), D("123456.79"), D("0.0001"),
                           D("123456.70"), 3) for m in ("spot", "perp")]
    snap.balances = [
        ("spot", "BTC", D("1.00099900"), D("0.998999")), ("spot", "USDT", D("99969.98609"), D("1")),
        ("perp", "USDT", D("99999.84991405"), D("99939.76")), ("perp", "BNB", D(1), D(1)),
    ]
    snap.position = "perp BTC-USDT 0.010 @ 30,017.2 x5 uPnL -0.34 " + "x" * 80
    snap.funding = "mark 30,000.0 index 30,000.0 rate 0.0001 next in 4s"
    snap.trades = [("spot", D("30000.12"), D("0.00134"), i % 2 == 0) for i in range(12)]
    snap.orders = [OrderLine("perp", "sell", D("0.01"), D("30100.70"), "PENDING_CANCEL") for _ in range(9)]
    event = "s spot created  buy  0.002 BTC-USDT LIMIT_MAKER @ 30000 " + "y" * 60
    snap.events = [f"{i:6.2f}{event}" for i in range(40)]
    snap.counters = "orders 9 placed 5 filled 2 cancelled 0 failed | funding payments 1"
    return snap


def _lines(snap: ViewSnapshot) -> list[str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, height=24, color_system=None, legacy_windows=False)
    console.print(render(snap))
    return buffer.getvalue().rstrip("\n").split("\n")


def test_a_full_screen_fits_80_by_24() -> None:
    lines = _lines(_full_snapshot())
    assert len(lines) <= 24
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "123,456.78" in text and "perp BTC-USDT" in text and "my orders" in text
    assert "39.00s spot created" in text  # the newest events are the ones shown


def test_an_empty_start_renders_placeholders() -> None:
    snap = ViewSnapshot(elapsed=0.0, duration=30)
    snap.books = [BookLine("spot BTC-USDT", D("NaN"), D(0), D("NaN"), D(0), D("NaN"), 0)]
    lines = _lines(snap)
    assert len(lines) <= 24
    assert "spot BTC-USDT" in "\n".join(lines)


def test_figures_are_shown_exactly_or_marked_as_rounded() -> None:
    snap = _full_snapshot()
    text = "\n".join(_lines(snap))
    assert "0.998999" in text and "99,999.84991405" in text  # balances to the last unit
    assert "0.00134" in text and "123,456.7" in text  # trade and last price, not padded or cut
    assert _fmt(D(1) / D(3), 2) == "~0.33"
    assert _fmt(D("-0.340"), 2) == "-0.34"
    assert _fmt(D("NaN")) == _fmt(None) == "-"


def test_the_screen_says_why_the_last_order_failed_and_what_a_tilde_means() -> None:
    spot = EventPublisher()  # what a connector publishes its events through
    journal = EventJournal()
    journal.attach("spot", spot)
    message = "binance: order x rejected: exchange code -2010: Order would immediately match and take."
    spot.trigger_event(MarketEvent.OrderFailure, OrderFailureEvent(
        timestamp=0.0, order_id="abcdef123456", exchange_order_id=None, trading_pair="BTC-USDT",
        order_type=OrderType.LIMIT_MAKER, error_type="ExchangeRequestError", error_message=message,
    ))
    snap = _full_snapshot()  # before: only "1 failed", and nothing said what "~" meant
    snap.counters = counters_line(journal)
    snap.last_failure = f"last failure: {journal.last_failure}"
    lines = _lines(snap)
    text = "\n".join(lines)
    assert "orders: 0 placed, 0 filled (0 fills), 0 cancelled, 1 failed" in text  # the summary's words
    assert "last failure: spot [123456] exchange code -2010: Order would immediately match" in text
    assert lines[0].endswith("~ = rounded") and ROUNDED_NOTE == "~ = rounded"
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
