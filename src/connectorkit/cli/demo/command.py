"""``connectorkit demo``: the command itself (parse, wire the parts, print, exit code)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live

from connectorkit.cli.demo.journal import EventJournal
from connectorkit.cli.demo.session import (
    PAIR,
    DemoSession,
    DemoStartupError,
    build_sandbox,
    close_session,
    open_session,
)
from connectorkit.cli.demo.strategy import ScriptedStrategy, StepTimeout, StrategyReport
from connectorkit.cli.demo.summary import (
    DemoSummary,
    compare,
    connector_view,
    fees_in_quote,
    realized_pnl,
    sandbox_truth,
)
from connectorkit.cli.demo.view import HEIGHT, WIDTH, render, take_snapshot
from connectorkit.cli.signals import stop_on_sigint
from connectorkit.core.order_book_message import OrderBookMessage

DESCRIPTION = """\
Run the whole system locally: start the sandbox exchange with a simulated market, fund an account,
connect the Binance Spot and USD-M Perpetual connectors to it, run a short scripted strategy
(post-only quotes, one taker order, cancels, a perpetual position, leverage changes) and check that
the connectors' balances, orders and positions equal the sandbox's. Exit code 0 when they do.
The summary's realized PnL comes from this run's fills (average cost, before fees); fees are valued
in the quote asset at each fill's price. Figures with more than 8 decimals are shown marked `~`.
On a terminal it shows a live view; otherwise it prints the event log as lines. Ctrl-C stops early
and still prints the summary."""

SETTLE_TIMEOUT = 5.0

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="run the connectors against a local simulated exchange", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=30.0, metavar="S",
                        help="seconds to run the strategy (default 30)")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="seed of the simulated market (default 1)")
    parser.add_argument("--plain", action="store_true",
                        help="print the event log as lines even on a terminal")
    return parser


class _JournalLogHandler(logging.Handler):
    """Library warnings go into the event log instead of scribbling over the live view."""

    def __init__(self, journal: EventJournal) -> None:
        super().__init__(logging.WARNING)
        self._journal = journal

    def emit(self, record: logging.LogRecord) -> None:
        self._journal.note(f"log  {record.levelname.lower()}: {record.getMessage()}"[:200])


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print,
              interactive: bool | None = None, console: Console | None = None) -> int:
    """Run the demo; the exit code. ``console`` is where the live view draws (default: the
    terminal)."""
    if args.duration <= 0:
        out("--duration must be positive")
        return 2
    live_view = (sys.stdout.isatty() if interactive is None else interactive) and not args.plain
    interrupt = asyncio.Event()
    journal = EventJournal(sink=None if live_view else _until_reader_leaves(out, interrupt))
    root = logging.getLogger()
    handler = _JournalLogHandler(journal)
    previous = list(root.handlers)
    if live_view:  # keep stderr quiet under the live view; the journal shows warnings instead
        for h in previous:
            root.removeHandler(h)
        root.addHandler(handler)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with stop_on_sigint(interrupt):
            async with build_sandbox(args.seed) as sandbox:
                journal.note(f"sandbox started at {sandbox.rest_url} (seed {args.seed})")
                try:
                    session = await open_session(sandbox)
                except DemoStartupError as exc:
                    out(f"demo: {exc}")
                    return 1
                try:
                    summary = await _run_session(session, journal, interrupt, args.duration,
                                                 _view_console(console) if live_view else None)
                finally:
                    await close_session(session)
    finally:
        if live_view:
            root.removeHandler(handler)
            for h in previous:
                root.addHandler(h)
    summary.duration = loop.time() - started
    for line in summary.lines():
        out(line)
    return 0 if summary.ok else 1


def _until_reader_leaves(out: Callable[[str], None], stop: asyncio.Event) -> Callable[[str], None]:
    """``out`` for the event log, until the reader closes the pipe (``demo | head``): then the demo
    stops as on Ctrl-C (open orders cancelled, position closed) instead of every connector event
    listener failing on the closed pipe. The summary's own print then ends the command."""

    gone = False

    def emit(line: str) -> None:
        nonlocal gone
        if gone:
            return
        try:
            out(line)
        except BrokenPipeError:
            gone = True
            stop.set()

    return emit


def _view_console(console: Console | None) -> Console:
    return console or Console(width=min(WIDTH, Console().width), height=HEIGHT)


async def _run_session(session: DemoSession, journal: EventJournal, interrupt: asyncio.Event,
                       duration: float, console: Console | None) -> DemoSummary:
    """Run the strategy, then settle. The live view (on ``console``, if any) keeps drawing
    through the settlement, so its last frame shows the figures the summary prints."""
    loop = asyncio.get_running_loop()
    journal.attach("spot", session.spot)
    journal.attach("perp", session.perp)
    for label, connector in (("spot", session.spot), ("perp", session.perp)):
        connector.order_book_tracker.add_trade_listener(_trade_recorder(journal, label))
    journal.note("both connectors ready")
    deadline = asyncio.Event()
    timer = loop.call_later(duration, deadline.set)
    strategy = ScriptedStrategy(session.spot, session.perp, journal.note)
    view_done = asyncio.Event()
    view_task = None
    if console is not None:
        view_task = asyncio.create_task(_live(session, journal, duration, console, view_done),
                                        name="demo:live-view")
        view_task.add_done_callback(_log_death)
    try:
        try:
            report = await strategy.run(interrupt, deadline)
        finally:
            timer.cancel()
        journal.note("stopping: cancelling open orders and reconciling with the sandbox")
        if interrupt.is_set():
            journal.note("interrupted (Ctrl-C or SIGTERM)")
        return await _settle(session, journal, strategy, report, interrupt.is_set())
    finally:
        if view_task is not None:
            view_done.set()  # the view draws its last frame and ends
            await asyncio.gather(view_task, return_exceptions=True)


def _log_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("task %s died", task.get_name(), exc_info=task.exception())


def _trade_recorder(journal: EventJournal, label: str) -> Callable[[OrderBookMessage], None]:
    def record(message: OrderBookMessage) -> None:
        if message.price is not None and message.amount is not None:
            journal.on_market_trade(label, message.trading_pair, message.price, message.amount,
                                    bool(message.is_buy))
    return record


async def _live(session: DemoSession, journal: EventJournal, duration: float, console: Console,
                done: asyncio.Event) -> None:
    """Redraw the view four times a second until ``done``; then draw the final state once more."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    def frame() -> Any:
        snap = take_snapshot(session.spot, session.perp, PAIR, journal, loop.time() - started, duration)
        return render(snap)

    with Live(frame(), console=console, refresh_per_second=4, transient=False) as live:
        while not done.is_set():
            try:
                async with asyncio.timeout(0.25):
                    await done.wait()
            except TimeoutError:
                pass
            live.update(frame())


async def _settle(session: DemoSession, journal: EventJournal, strategy: ScriptedStrategy,
                  report: StrategyReport, interrupted: bool) -> DemoSummary:
    spot, perp = session.spot, session.perp
    for connector in (spot, perp):
        results = await connector.cancel_all(SETTLE_TIMEOUT)
        failed = [r.order_id for r in results if not r.success]
        if failed:
            report.problems.append(f"{connector.name}: cancellations unconfirmed: {failed}")
    try:
        await strategy.close_position()
    except StepTimeout as exc:
        report.problems.append(f"closing the perpetual position: {exc}")
    pair_by_symbol = dict(perp.trading_pair_symbol_map())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    while True:  # events already sent by the sandbox may still be on their way
        ours = connector_view(spot, perp)
        mismatches = compare(ours, sandbox_truth(session.sandbox, session.account_id, pair_by_symbol))
        if not mismatches or loop.time() > deadline:
            break
        await asyncio.sleep(0.1)
    counters = journal.counters
    return DemoSummary(
        duration=0.0,
        interrupted=interrupted,
        orders_created=counters.created,
        orders_filled=counters.filled_orders,
        fills=counters.fills,
        orders_cancelled=counters.cancelled,
        orders_expired=counters.expired,
        orders_failed=counters.failed,
        fees=fees_in_quote(f.event for f in journal.fills),
        pnl={label: realized_pnl(f.event for f in journal.fills if f.connector == label)
             for label in ("spot", "perp")},
        funding=list(counters.funding_payments),
        resyncs={f"{c.name}": c.order_book_tracker.metrics(PAIR).resyncs for c in (spot, perp)},
        steps_completed=list(report.completed),
        problems=list(report.problems),
        mismatches=mismatches,
        open_positions=dict(ours.positions),
    )
