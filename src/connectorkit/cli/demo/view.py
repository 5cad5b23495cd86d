"""The demo's live terminal view (rich), laid out for an 80x24 terminal.

:func:`take_snapshot` reads everything the view shows from the connectors' public API and the
journal into a plain :class:`ViewSnapshot`; :func:`render` turns a snapshot into a rich renderable.
Keeping the two apart lets tests render fixed snapshots and check the size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connectorkit.cli.demo.journal import EventJournal
from connectorkit.cli.demo.summary import orders_line

WIDTH = 80
HEIGHT = 24
EVENT_LINES = 6
ROUNDED_NOTE = "~ = rounded"
"""Shown in the title: figures with more decimals than shown carry ``~`` (see :func:`_fmt`)."""


@dataclass(frozen=True, slots=True)
class BookLine:
    market: str
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    last: Decimal
    resyncs: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    market: str
    side: str
    amount: Decimal
    price: Decimal | None
    state: str


@dataclass
class ViewSnapshot:
    elapsed: float
    duration: float
    books: list[BookLine] = field(default_factory=list)
    balances: list[tuple[str, str, Decimal, Decimal]] = field(default_factory=list)
    position: str = "no position"
    funding: str = "funding: n/a"
    trades: list[tuple[str, Decimal, Decimal, bool]] = field(default_factory=list)
    orders: list[OrderLine] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    counters: str = ""
    last_failure: str = ""
    """Why the latest order failed (empty: none failed)."""


def _fmt(value: Decimal | None, places: int = 8) -> str:
    """Exact, with thousands separators, when ``value`` has at most ``places`` decimals; otherwise
    rounded to ``places`` and marked ``~`` (the view never rounds silently)."""
    if value is None or not value.is_finite():
        return "-"
    shown = value.quantize(Decimal(1).scaleb(-places))
    return f"{shown.normalize():,f}" if shown == value else f"~{shown.normalize():,f}"


def take_snapshot(spot: Any, perp: Any, pair: str, journal: EventJournal, elapsed: float,
                  duration: float) -> ViewSnapshot:
    snap = ViewSnapshot(elapsed, duration)
    for label, connector in (("spot", spot), ("perp", perp)):
        book = connector.get_order_book(pair)
        bids, asks = book.snapshot(1)
        snap.books.append(BookLine(
            f"{label} {pair}",
            bids[0].price if bids else Decimal("NaN"), bids[0].amount if bids else Decimal(0),
            asks[0].price if asks else Decimal("NaN"), asks[0].amount if asks else Decimal(0),
            book.last_trade_price, connector.order_book_tracker.metrics(pair).resyncs,
        ))
        for order in connector.in_flight_orders.values():
            if not order.is_done:
                snap.orders.append(OrderLine(label, order.trade_type.name.lower(), order.amount, order.price,
                                             order.current_state.name))
    available = spot.get_all_available_balances()
    for asset, total in sorted(spot.get_all_balances().items()):
        snap.balances.append(("spot", asset, total, available.get(asset, Decimal(0))))
    perp_available = perp.get_all_available_balances()
    for asset, total in sorted(perp.get_all_balances().items()):
        snap.balances.append(("perp", asset, total, perp_available.get(asset, Decimal(0))))
    position = perp.get_position(pair)
    if position is not None:
        snap.position = (f"perp {pair} {position.amount} @ {_fmt(position.entry_price)} "
                         f"x{position.leverage} uPnL {_fmt(position.unrealized_pnl, 2)}")
    else:
        snap.position = f"perp {pair}: flat, leverage x{perp.get_leverage(pair)}"
    try:
        info = perp.get_funding_info(pair)
    except KeyError:
        pass
    else:
        due = max(0.0, info.next_funding_utc_timestamp - time.time())
        paid = len(journal.counters.funding_payments)
        snap.funding = (f"mark {_fmt(info.mark_price)} index {_fmt(info.index_price)} "
                        f"rate {info.rate} next in {due:.0f}s | payments {paid}")
    snap.trades = [(label, price, amount, is_buy) for label, _, price, amount, is_buy in journal.trades]
    snap.events = list(journal.lines)
    snap.counters = counters_line(journal)
    if journal.last_failure is not None:
        snap.last_failure = f"last failure: {journal.last_failure}"
    return snap


def counters_line(journal: EventJournal) -> str:
    """The order counters, in the summary's words (its ``orders:`` line)."""
    c = journal.counters
    return orders_line(c.created, c.filled_orders, c.fills, c.cancelled, c.failed, c.expired)


def _table(*columns: str) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
    for index, name in enumerate(columns):
        justify: Literal["left", "right"] = "left" if index == 0 or name == "asset" else "right"
        table.add_column(name, no_wrap=True, overflow="ellipsis", justify=justify)
    return table


def render(snap: ViewSnapshot) -> RenderableType:
    """The whole screen: at most 24 lines of at most 80 columns."""
    title = Text.assemble(
        ("connectorkit demo", "bold cyan"),
        f"  sandbox (local)  {snap.elapsed:5.1f}s / {snap.duration:.0f}s  Ctrl-C stops  ",
        (ROUNDED_NOTE, "dim"),
    )
    title.truncate(WIDTH)
    books = _table("", "bid", "size", "ask", "size", "last", "resync")
    for b in snap.books:
        books.add_row(b.market, _fmt(b.bid), _fmt(b.bid_size), _fmt(b.ask), _fmt(b.ask_size),
                      _fmt(b.last), str(b.resyncs))
    balances = _table("", "asset", "total", "free")
    for market, asset, total, free in snap.balances[:3]:
        balances.add_row(market, asset, _fmt(total), _fmt(free))
    trades = _table("trades", "price", "size")
    for label, price, amount, is_buy in list(snap.trades)[-4:]:
        trades.add_row(f"{label} {'buy' if is_buy else 'sell'}", _fmt(price), _fmt(amount))
    orders = _table("my orders", "amount", "price", "state")
    for o in snap.orders[:4]:
        orders.add_row(f"{o.market} {o.side}", _fmt(o.amount), _fmt(o.price), o.state[:9])
    middle = Table.grid(padding=(0, 2))
    middle.add_column(width=34)
    middle.add_column(width=44)
    middle.add_row(trades, orders)
    events = Text("\n".join(line[:WIDTH] for line in snap.events[-EVENT_LINES:]), no_wrap=True,
                  overflow="ellipsis")
    return Group(
        title,
        books,
        balances,
        Text(f"{snap.position[:WIDTH]}\n{snap.funding[:WIDTH]}", no_wrap=True),
        middle,
        Text(snap.counters[:WIDTH], style="dim", no_wrap=True),
        Text(snap.last_failure[:WIDTH], style="red", no_wrap=True),
        Text("events", style="bold"),
        events,
    )
