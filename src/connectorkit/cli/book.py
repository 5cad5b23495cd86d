"""``connectorkit book <connector> <PAIR>``: a live order book from any registered connector.

Public data only (no keys). Point it at another server with ``--rest-url``/``--ws-url`` (for
example a running ``connectorkit sandbox``). On a terminal the book is redrawn in place; otherwise
the top of the book is printed once a second, and the whole view once at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from connectorkit.cli.levels import book_levels
from connectorkit.cli.options import (
    add_connector_options,
    connector_help,
    connector_overrides,
    positive_count,
    positive_seconds,
    settings_error,
)
from connectorkit.cli.signals import stop_on_sigint
from connectorkit.connector.exchange_py_base import UnlistedTradingPairError
from connectorkit.connector.settings import UnknownConnectorError, create_connector

READY_TIMEOUT = 30.0

DESCRIPTION = """\
Show the live order book of one trading pair from any registered connector, from public data
only (no keys). It connects to the real exchange unless --rest-url/--ws-url point it at another
server, e.g. a running `connectorkit sandbox`. On a terminal the book is redrawn in place;
otherwise the top of the book is printed once a second and the whole book once at the end;
--json prints it once as JSON. A pair the exchange does not list is an error (exit 2) once the
instruments load; a book not ready within 30 s (or --duration) ends the command (exit 1).
Messages go to stderr."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "book", help="live order book of one pair from any connector (public data)", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("connector", help=connector_help())
    parser.add_argument("pair", metavar="PAIR", help="trading pair, e.g. BTC-USDT")
    parser.add_argument("--depth", type=positive_count, default=10, metavar="N",
                        help="levels per side (default 10)")
    parser.add_argument("--duration", type=positive_seconds, default=None, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C)")
    parser.add_argument("--plain", action="store_true", help="print lines even on a terminal")
    parser.add_argument("--bus", default=None, metavar="URL",
                        help="read the book from a `connectorkit gateway` on this Redis "
                        "(redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) instead of the exchange")
    parser.add_argument("--json", action="store_true",
                        help='print the book once as one JSON object {"connector", "pair", "ready", '
                             '"update_id", "bids": [[price, amount], ...], "asks": [...]} (the '
                             "exchange's decimal strings) as soon as it is ready, or after --duration; "
                             "exit 1 if it never became ready")
    add_connector_options(parser)
    return parser


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}" if value.is_finite() else "-"


def top_line(connector: Any, pair: str) -> str:
    book = connector.get_order_book(pair)
    metrics = connector.order_book_tracker.metrics(pair)
    return (f"{pair} bid {_fmt(book.best_bid)} ask {_fmt(book.best_ask)} last {_fmt(book.last_trade_price)} "
            f"| diffs {metrics.diffs_applied} resyncs {metrics.resyncs}")


def render_book(connector: Any, pair: str, depth: int) -> RenderableType:
    """Bids and asks side by side, best first, with the tracker's counters."""
    book = connector.get_order_book(pair)
    bids, asks = book.snapshot(depth)
    table = Table(title=f"{connector.name} {pair}", title_justify="left", expand=False)
    for column in ("bid size", "bid", "ask", "ask size"):
        table.add_column(column, justify="right", no_wrap=True)
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        table.add_row(
            _fmt(bid.amount) if bid else "", Text(_fmt(bid.price), style="green") if bid else "",
            Text(_fmt(ask.price), style="red") if ask else "", _fmt(ask.amount) if ask else "",
        )
    ready = "ready" if connector.order_book_tracker.is_ready(pair) else "NOT READY (resyncing)"
    return Group(table, Text(f"{top_line(connector, pair)} | {ready}", style="dim"))


@dataclass(frozen=True, slots=True)
class BookView:
    """How :func:`show_book` shows a book."""

    depth: int = 10
    duration: float | None = None
    """Stop after this many seconds (None: at Ctrl-C); with ``as_json``, print the book then."""
    live: bool = False
    """Redraw in place (a terminal); otherwise print lines."""
    as_json: bool = False


def book_json(connector: Any, pair: str, depth: int) -> str:
    """The book of ``pair`` as one JSON object (levels as the exchange's decimal strings)."""
    book = connector.get_order_book(pair)
    bids, asks = book_levels(book, depth)
    tracker = connector.order_book_tracker
    return json.dumps({
        "connector": connector.name, "pair": pair, "ready": tracker.is_ready(pair),
        "update_id": tracker.data_source.exchange_update_id(pair, book.last_diff_uid),
        "bids": bids, "asks": asks,
    })


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print,
              err: Callable[[str], None] = _stderr, interactive: bool | None = None) -> int:
    bus_url = getattr(args, "bus", None)  # callers may build the Namespace without the option
    bus = {} if bus_url is None else {"market_data_bus": bus_url}
    if bus_url is not None:
        try:
            from connectorkit.bus.connection import unreachable_reason
        except ImportError as exc:  # redis-py is the optional [redis] extra
            err(f"book: --bus needs the redis extra (pip install 'connectorkit[redis]'): {exc}")
            return 2
        reason = await unreachable_reason(bus_url)
        if reason is not None:
            err(f"book: {reason}")
            return 2
    try:
        connector: Any = create_connector(args.connector, [args.pair], trading_required=False,
                                          **connector_overrides(args), **bus)
    except (UnknownConnectorError, ValidationError, ValueError) as exc:
        err(f"book: {settings_error(exc)}")
        return 2
    live = (sys.stdout.isatty() if interactive is None else interactive) and not args.plain
    view = BookView(depth=args.depth, duration=args.duration, live=live and not args.json,
                    as_json=args.json)
    stop = asyncio.Event()
    with stop_on_sigint(stop):
        await connector.start_network()
        try:
            return await show_book(connector, connector.trading_pairs[0], view, stop, out=out, err=err)
        finally:
            await connector.stop_network()


async def show_book(connector: Any, pair: str, view: BookView, stop: asyncio.Event, *,
                    out: Callable[[str], None], err: Callable[[str], None]) -> int:
    """Show the book of ``pair`` from ``connector`` (any connector whose network is started, fed
    directly or otherwise) until ``stop`` or ``view.duration``; returns the exit code.

    Waits at most :data:`READY_TIMEOUT` (or the duration) for the book to become ready; a pair the
    exchange does not list ends the wait as soon as the instruments load (exit 2).
    """
    loop = asyncio.get_running_loop()
    deadline = None if view.duration is None else loop.time() + view.duration
    patience = READY_TIMEOUT if view.duration is None else min(READY_TIMEOUT, view.duration)
    ready_by = loop.time() + patience
    tracker = connector.order_book_tracker
    while not tracker.is_ready(pair) and not stop.is_set() and loop.time() < ready_by:
        unlisted = connector.unlisted_trading_pairs()
        if unlisted:
            err(f"book: {UnlistedTradingPairError(connector.name, unlisted)}")
            return 2
        await _pause(stop, 0.05)  # Ctrl-C and --duration count while waiting too
    if not tracker.is_ready(pair):
        if view.as_json:
            out(book_json(connector, pair, view.depth))
        if stop.is_set():
            return 1 if view.as_json else 0
        err(f"book: {pair} not ready after {patience:g}s "
            f"(is {pair} listed on {connector.name}, is the server reachable?)")
        return 1
    if view.as_json:
        if deadline is not None:
            await _pause(stop, max(0.0, deadline - loop.time()))
        out(book_json(connector, pair, view.depth))
        return 0
    if view.live:
        with Live(render_book(connector, pair, view.depth), console=Console(),
                  refresh_per_second=4) as screen:
            while not stop.is_set() and (deadline is None or loop.time() < deadline):
                await _pause(stop, 0.25)
                screen.update(render_book(connector, pair, view.depth))
        return 0
    while not stop.is_set() and (deadline is None or loop.time() < deadline):
        left = 1.0 if deadline is None else deadline - loop.time()
        await _pause(stop, min(1.0, max(0.0, left)))
        out(top_line(connector, pair))
    console = Console(width=100)
    with console.capture() as captured:
        console.print(render_book(connector, pair, view.depth))
    out(captured.get().rstrip("\n"))
    return 0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
