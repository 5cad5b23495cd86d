"""``connectorkit replay FILE``: rebuild order books offline from a capture and report gaps/resyncs.

The capture's frames and snapshots go through the connector's own data source (its parsing and
routing) and its own :class:`~connectorkit.connector.order_book_tracker.OrderBookTracker`; only
the web layer is replaced (:class:`~connectorkit.cli.transport.ReplayTransport`), no socket is
opened. Records are replayed in recorded time order, each one processed before the next: a book
snapshot request is answered with the recording's next snapshot of that symbol (one the
recording reaches before the tracker asks is kept for its request), so diffs that arrived before
it are buffered, bridged or dropped as they were live. A resync needs a later snapshot; if the
recording has none, the book is reported as not ready. Recorded top-of-book tickers, which the
connector does not subscribe to, serve as an independent check of the rebuilt top of book.

This engine knows no venue: the connector's registered
:class:`~connectorkit.connector.replay_adapter.ReplayAdapter` says which captures it serves,
which records are book snapshots, which frames are book updates, trades and tickers, and which
subscriptions a connection makes. Frames of a stream the connector does not subscribe to may be
delivered on an equivalent one the adapter names (Binance's ``aggTrade`` for ``trade``), and the
report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectorkit.cli.levels import book_levels
from connectorkit.cli.options import settings_error
from connectorkit.cli.transport import (
    ReplayTransport,
    ReplayWebAssistantsFactory,
    build_connector,
    recorded_snapshot_symbol,
)
from connectorkit.connector.capture_reader import CaptureFormatError, CaptureRecord, read_capture_file
from connectorkit.connector.replay_adapter import (
    FrameRole,
    RecordedFrame,
    ReplayAdapter,
    TopOfBook,
    connector_for_exchange,
    get_replay_adapter,
)

logger = logging.getLogger(__name__)

_SETTLE_STEPS = 10_000
JSON_DEPTH = 20
"""Levels a side in ``--json``."""

DESCRIPTION = """\
Rebuild order books offline from a capture file through the connector's own data source and
order book tracker (no network), and report per pair: ready or not, best bid and ask, levels,
diffs applied, stale diffs dropped, gaps, resyncs, trades and errors. Reads the files
`connectorkit record` writes and the public captures in tests/data/captures, of any venue whose
connector registers a replay adapter (a capture of another venue is an error naming the
registered ones). Recorded top-of-book tickers (Binance: bookTicker), when present, check the
rebuilt top of book.
Lines that are not records (a last line cut short...) are skipped and counted (--strict: refuse
the file). --json prints one JSON object instead of the table.
Exit code: 0 every book ready with no error, no failed checksum and no top-of-book difference,
1 otherwise, 2 the file cannot be read (missing, empty, unknown format) or replayed."""
_QUIET_TURNS = 3


class ReplayError(RuntimeError):
    """The capture cannot be replayed (unknown connector, no snapshots...)."""


@dataclass
class Recording:
    """A capture file: its header's fields and its records in time order."""

    exchange: str
    config: dict[str, Any]
    events: list[CaptureRecord]
    lines: int = 0
    skipped: list[CaptureFormatError] = field(default_factory=list)
    """Lines that are not records (cut short, not JSON...), skipped unless read ``strict``."""

    @classmethod
    def read(cls, path: str | Path, *, strict: bool = False) -> Recording:
        """Read ``path``; ReplayError for an empty file, CaptureFormatError for an unknown format
        (or, ``strict``, for the first bad line)."""
        capture = read_capture_file(path, strict=strict)
        if capture.lines == 0:
            raise ReplayError(f"{path} is empty: nothing to replay")
        records = capture.records
        header = next((r for r in records if r.kind == "header"), None)
        events = [r for r in records if r.kind != "header"]
        if header is None:
            return cls("", {}, events, capture.lines, capture.skipped)
        return cls(header.exchange or "", dict(header.config or {}), events, capture.lines, capture.skipped)

    def streams(self, adapter: ReplayAdapter) -> set[str]:
        """Names of the streams the recorded frames belong to."""
        names = (adapter.describe_frame(r.data).stream for r in self.events
                 if r.kind == "recv" and r.data is not None)
        return {name for name in names if name is not None}

    def snapshot_symbols(self, adapter: ReplayAdapter) -> list[str]:
        """Exchange symbols with at least one book snapshot, in first-seen order."""
        seen: dict[str, None] = {}
        for record in self.events:
            symbol = recorded_snapshot_symbol(adapter, record)
            if symbol:
                seen.setdefault(symbol, None)
        return list(seen)


@dataclass
class TopOfBookCheck:
    """Recorded top-of-book tickers compared with the rebuilt book in the same state.

    They are an independent check: the connector never sees them (it does not subscribe to them).
    After each book update the book is in the state of update ``last`` until the recording's next
    update for that symbol starts at ``first_next``; every ticker with
    ``last <= update_id < first_next`` describes exactly that state and must show the same best
    bid and ask. Tickers whose update id falls inside an update batch describe a state the book
    never shows and are counted as not comparable. (The adapter reads both from the frames; a
    venue whose tickers carry no book update id gives none, and the check says so.)
    """

    matched: int = 0
    mismatched: list[str] = field(default_factory=list)
    tickers: int = 0
    equal_by_symbol: dict[str, int] = field(default_factory=dict)
    different_by_symbol: dict[str, int] = field(default_factory=dict)
    _diff_ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _tickers: dict[str, list[TopOfBook]] = field(default_factory=dict)

    @property
    def not_comparable(self) -> int:
        return self.tickers - self.matched - len(self.mismatched)

    def learn(self, frames: list[RecordedFrame]) -> None:
        """Index every recorded book update's (last, first) and every ticker by symbol."""
        ranges: dict[str, list[tuple[int, int]]] = {}
        tickers: dict[str, list[TopOfBook]] = {}
        for frame in frames:
            if frame.symbol is None:
                continue
            if frame.book_update is not None:
                ranges.setdefault(frame.symbol, []).append((frame.book_update.last, frame.book_update.first))
            elif frame.top_of_book is not None:
                tickers.setdefault(frame.symbol, []).append(frame.top_of_book)
                self.tickers += 1
        self._diff_ranges = {s: sorted(r) for s, r in ranges.items()}
        self._tickers = {s: sorted(t, key=lambda t: t.update_id) for s, t in tickers.items()}

    def check(self, symbol: str, book: Any) -> None:
        """Compare the tickers that describe the book's current state (call after each update)."""
        last = book.last_diff_uid
        ranges = self._diff_ranges.get(symbol, [])
        index = bisect.bisect_right(ranges, (last, sys.maxsize))
        if index >= len(ranges):
            return  # no later diff in the recording: the state's end is unknown
        upcoming = ranges[index][1]
        tickers = self._tickers.get(symbol, [])
        keys = [t.update_id for t in tickers]
        for ticker in tickers[bisect.bisect_left(keys, last):bisect.bisect_left(keys, upcoming)]:
            if (book.best_bid, book.best_ask) == (ticker.bid, ticker.ask):
                self.matched += 1
                self.equal_by_symbol[symbol] = self.equal_by_symbol.get(symbol, 0) + 1
            else:
                self.different_by_symbol[symbol] = self.different_by_symbol.get(symbol, 0) + 1
                self.mismatched.append(
                    f"{symbol} u={ticker.update_id}: book {book.best_bid}/{book.best_ask}, "
                    f"ticker {ticker.bid}/{ticker.ask}"
                )
        del tickers[bisect.bisect_left(keys, last):bisect.bisect_left(keys, upcoming)]


def pairs_from_capture(capture: Recording, adapter: ReplayAdapter) -> dict[str, str]:
    """Exchange symbol -> trading pair for every symbol with a book snapshot.

    Our recordings carry the map in their header; otherwise the adapter reads it from the
    recorded instrument list.
    """
    symbols = capture.snapshot_symbols(adapter)
    recorded_pairs = capture.config.get("pairs")
    if isinstance(recorded_pairs, dict) and recorded_pairs:
        return {s: str(recorded_pairs.get(s, s)) for s in symbols}
    return adapter.pairs_from_instruments(capture.events, symbols)


def connector_for(capture: Recording, override: str | None) -> str:
    """The connector to replay through: ``override``, else the header's ``connector`` (our
    recordings), else the one whose replay adapter serves the header's ``exchange``."""
    if override:
        return override
    recorded = capture.config.get("connector")
    if isinstance(recorded, str) and recorded:
        return recorded
    if not capture.exchange:
        raise ReplayError("the capture's header names no exchange; pass --connector")
    return connector_for_exchange(capture.exchange)


@dataclass
class PairReport:
    pair: str
    symbol: str
    ready: bool
    best_bid: Decimal
    best_ask: Decimal
    bid_levels: int
    ask_levels: int
    snapshots: int
    diffs_applied: int
    stale_dropped: int
    gaps: int
    bridge_failures: int
    resyncs: int
    trades: int
    errors: int
    """Messages the tracker could not process (malformed diffs, exceptions), logged and skipped."""
    waiting_for_snapshot: bool
    messages: int = 0
    """Recorded frames delivered to the connector for this pair, plus the snapshots it was given."""
    checksum_failures: int = 0
    bids: list[list[str]] = field(default_factory=list)
    """Top levels at the end, ``[price, amount]`` as the exchange's strings."""
    asks: list[list[str]] = field(default_factory=list)


@dataclass
class ReplayReport:
    connector: str
    records: int
    frames_delivered: int
    malformed_frames: int
    unused_snapshots: int
    undelivered: dict[str, int] = field(default_factory=dict)
    substituted: dict[tuple[str, str], int] = field(default_factory=dict)
    """Frames delivered on another stream than their own: (recorded kind, delivered kind) -> count."""
    pairs: list[PairReport] = field(default_factory=list)
    top_of_book: TopOfBookCheck = field(default_factory=TopOfBookCheck)
    top_of_book_name: str = "ticker"
    """What the venue calls its ticker frames (Binance: ``bookTicker``)."""
    lines_read: int = 0
    skipped_lines: list[str] = field(default_factory=list)
    """Why each skipped line of the file was not a record (``line N: ...``)."""

    @property
    def total_gaps(self) -> int:
        return sum(p.gaps + p.bridge_failures for p in self.pairs)

    @property
    def total_errors(self) -> int:
        return self.malformed_frames + sum(p.errors for p in self.pairs)

    @property
    def healthy(self) -> bool:
        """Every book ready at the end (no gap left unresynced), no malformed frame or processing
        error, no failed checksum, no top-of-book disagreement. (Gaps and resyncs are reported,
        not failures: they are what the feed did, and a resync that found a later snapshot left a
        correct book. Skipped lines are reported; ``--strict`` refuses them.)"""
        return (all(p.ready for p in self.pairs) and self.total_errors == 0
                and not any(p.checksum_failures for p in self.pairs)
                and not self.top_of_book.mismatched)

    def as_json(self) -> dict[str, Any]:
        """The report as ``connectorkit replay --json`` prints it."""
        check = self.top_of_book
        return {
            "healthy": self.healthy,
            "lines": self.lines_read,
            "skipped_lines": len(self.skipped_lines),
            "pairs": [{
                "connector": self.connector, "pair": p.pair, "ready": p.ready, "messages": p.messages,
                "diffs_applied": p.diffs_applied, "stale_dropped": p.stale_dropped,
                "gaps": p.gaps + p.bridge_failures, "resyncs": p.resyncs, "malformed": p.errors,
                "checksum_failures": p.checksum_failures,
                "tickers_equal": check.equal_by_symbol.get(p.symbol, 0),
                "tickers_different": check.different_by_symbol.get(p.symbol, 0),
                "bids": p.bids, "asks": p.asks,
            } for p in self.pairs],
        }

    @property
    def total_resyncs(self) -> int:
        return sum(p.resyncs for p in self.pairs)

    def lines(self) -> list[str]:
        out = [
            f"replayed {self.records} records through {self.connector}: "
            f"{self.frames_delivered} frames delivered, {self.malformed_frames} malformed",
        ]
        if self.skipped_lines:
            out.append(f"skipped {len(self.skipped_lines)} of {self.lines_read} lines that are not records "
                       f"(first: {self.skipped_lines[0]})")
        if self.undelivered:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.undelivered.items()))
            out.append(f"frames of streams the connector does not subscribe to (not replayed): {kinds}")
        for (recorded, delivered), count in sorted(self.substituted.items()):
            out.append(f"{recorded} frames delivered as the connector's {delivered} stream: {count} "
                       f"(the recording has no {delivered} frames for their symbols)")
        if self.unused_snapshots:
            out.append(f"recorded snapshots never requested by the tracker: {self.unused_snapshots}")
        out.append(f"{'pair':<16} {'ready':<5} {'best bid':>14} {'best ask':>14} {'levels':>9} {'diffs':>6} "
                   f"{'stale':>5} {'gaps':>4} {'resync':>6} {'trades':>6} {'errors':>6}")
        for p in self.pairs:
            out.append(
                f"{p.pair:<16} {'yes' if p.ready else 'NO':<5} {_num(p.best_bid):>14} {_num(p.best_ask):>14} "
                f"{p.bid_levels:>4}/{p.ask_levels:<4} {p.diffs_applied:>6} {p.stale_dropped:>5} "
                f"{p.gaps + p.bridge_failures:>4} {p.resyncs:>6} {p.trades:>6} {p.errors:>6}"
            )
            if p.waiting_for_snapshot:
                out.append(f"  {p.pair}: resync pending, but the recording has no later snapshot")
        check = self.top_of_book
        heading = f"top of book vs recorded {self.top_of_book_name}"
        if check.tickers == 0:
            out.append(f"{heading}: no ticker frames in the recording")
        else:
            out.append(f"{heading}: {check.matched} equal, {len(check.mismatched)} "
                       f"different ({check.not_comparable} tickers not comparable)")
        out.extend(f"  different: {m}" for m in check.mismatched[:10])
        checksums = sum(p.checksum_failures for p in self.pairs)
        out.append(f"total: {self.total_gaps} gaps, {self.total_resyncs} resyncs, {self.total_errors} errors"
                   + (f", {checksums} checksum failures" if checksums else ""))
        return out


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}" if value.is_finite() else "-"


async def _settle(transport: ReplayTransport, source: Any, done: Callable[[], bool] | None = None) -> None:
    """Let the connector's tasks run until the delivered data is fully processed.

    Quiet must hold for a few consecutive loop turns: a task the last message started (a
    resync's snapshot request) needs a turn to reach its request before the next record.
    """
    quiet_turns = 0
    for _ in range(_SETTLE_STEPS):
        quiet = (transport.idle and source.diff_queue.empty() and source.trade_queue.empty()
                 and source.snapshot_queue.empty() and (done is None or done()))
        quiet_turns = quiet_turns + 1 if quiet else 0
        if quiet_turns >= _QUIET_TURNS:
            return
        await asyncio.sleep(0)
    logger.warning("replay: the connector did not settle after %d steps", _SETTLE_STEPS)


async def replay_capture(path: str | Path, connector_name: str | None = None, *,
                         strict: bool = False) -> ReplayReport:
    """Replay the capture at ``path`` (lines that are not records are skipped and counted, or with
    ``strict`` refused: CaptureFormatError)."""
    capture = Recording.read(path, strict=strict)
    name = connector_for(capture, connector_name)
    adapter = get_replay_adapter(name)
    pairs = pairs_from_capture(capture, adapter)
    if not pairs:
        raise ReplayError(f"{path}: no book snapshot in the recording, no book can be built")
    transport = ReplayTransport(adapter, adapter.stream_substitutes(capture.streams(adapter)))
    connector = build_connector(
        name, list(pairs.values()), lambda c: ReplayWebAssistantsFactory(c.throttler, transport),
        symbol_map=pairs,
    )
    tracker = connector.order_book_tracker
    source = tracker.data_source
    await tracker.start()
    try:
        await _settle(transport, source, lambda: bool(transport.connections))  # streams connected
        check = TopOfBookCheck()
        # The client's own connections and sent frames make the subscriptions: the recorded
        # connect and send lines are not replayed.
        timeline = [(r, adapter.describe_frame(r.data) if r.kind == "recv" and r.data is not None else None)
                    for r in capture.events if r.kind in ("http", "recv")]
        check.learn([frame for _, frame in timeline if frame is not None])
        books = tracker.order_books
        messages: dict[str, int] = dict.fromkeys(pairs, 0)
        for record, frame in timeline:
            if frame is not None and frame.role is FrameRole.ANSWER:
                continue  # the client's own requests were answered when it sent them
            if frame is None:
                symbol = transport.snapshot_symbol(record)
                if symbol in pairs:
                    messages[symbol] += 1
                    transport.release_snapshot(record)
                    await _settle(transport, source)
            elif record.data is not None and transport.deliver(record.data, frame.stream):
                if frame.symbol in messages and frame.role is not FrameRole.TOP_OF_BOOK:
                    messages[frame.symbol] += 1
                await _settle(transport, source)
                for symbol, pair in pairs.items():
                    if tracker.is_ready(pair):
                        check.check(symbol, books[pair])
        # The last frame may have made the tracker ask for a snapshot the recording already holds
        # (kept for its request): let that request be answered and applied before reporting.
        await _settle(transport, source, lambda: all(
            tracker.is_ready(pair) or not transport.holds_snapshot(symbol) for symbol, pair in pairs.items()
        ))
        waiting = transport.waiting_for_snapshot()
        report = ReplayReport(
            connector=name, records=len(capture.events), frames_delivered=transport.delivered,
            malformed_frames=source.malformed_frames,
            unused_snapshots=transport.unused_snapshots + transport.kept_snapshots,
            undelivered=dict(transport.undelivered), substituted=dict(transport.substituted),
            top_of_book=check, top_of_book_name=adapter.TOP_OF_BOOK_NAME,
            lines_read=capture.lines, skipped_lines=[str(e) for e in capture.skipped],
        )
        for symbol, pair in pairs.items():
            metrics = tracker.metrics(pair)
            book = books[pair]
            bids, asks = book.snapshot()
            top_bids, top_asks = book_levels(book, JSON_DEPTH)
            report.pairs.append(PairReport(
                pair=pair, symbol=symbol, ready=tracker.is_ready(pair), best_bid=book.best_bid,
                best_ask=book.best_ask, bid_levels=len(bids), ask_levels=len(asks),
                snapshots=metrics.snapshots_applied, diffs_applied=metrics.diffs_applied,
                stale_dropped=metrics.stale_dropped, gaps=metrics.gaps,
                bridge_failures=metrics.bridge_failures,
                resyncs=metrics.resyncs, trades=metrics.trades, errors=metrics.malformed,
                waiting_for_snapshot=symbol in waiting, messages=messages[symbol],
                checksum_failures=metrics.checksum_failures, bids=top_bids, asks=top_asks,
            ))
        return report
    finally:
        await tracker.stop()


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay", help="rebuild order books offline from a capture file and report gaps and resyncs",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file",
                        help="capture file (JSON lines, from `connectorkit record` or tests/data/captures)")
    parser.add_argument("--connector", default=None,
                        help="connector whose data source parses the frames (default: from the header)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse the file at its first line that is not a record (default: skip and "
                             "count such lines, e.g. a last line cut short)")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object {"healthy", "lines", "skipped_lines", "pairs": [...]} '
                             f"with each pair's counters and top {JSON_DEPTH} levels a side (the "
                             "exchange's decimal strings) instead of the table")
    return parser


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print,
              err: Callable[[str], None] = _stderr) -> int:
    """Exit code 0 healthy, 1 not healthy, 2 the file cannot be replayed (message on ``err``)."""
    try:
        report = await replay_capture(args.file, args.connector, strict=args.strict)
    except (OSError, ReplayError, CaptureFormatError, LookupError, ValueError) as exc:
        err(f"replay: {settings_error(exc)}")
        return 2
    except Exception as exc:  # a bug met by odd input: one line, the traceback only at DEBUG
        logger.debug("replay of %s failed", args.file, exc_info=True)
        err(f"replay: cannot replay {args.file}: {type(exc).__name__}: {exc}")
        return 2
    if args.json:
        out(json.dumps(report.as_json()))
    else:
        for line in report.lines():
            out(line)
    return 0 if report.healthy else 1
