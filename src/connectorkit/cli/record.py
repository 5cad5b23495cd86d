"""``connectorkit record <connector> <PAIR>... --out FILE``: record a connector's raw market data.

Runs the connector's public side (order book tracker, instruments, and for perpetuals funding
info) and writes every REST answer and every WebSocket frame it receives, exactly as received, and
every frame it sends (its subscriptions), to FILE in the capture format (see
:mod:`connectorkit.cli.capture`) that ``connectorkit replay`` reads. Stops after ``--duration``
seconds or at Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectorkit.cli.capture import CaptureWriter, recording_header
from connectorkit.cli.options import (
    add_connector_options,
    connector_help,
    connector_overrides,
    positive_seconds,
    settings_error,
)
from connectorkit.cli.signals import stop_on_sigint
from connectorkit.cli.transport import RecordingWebAssistantsFactory, build_connector
from connectorkit.connector.settings import UnknownConnectorError
from connectorkit.net.errors import WebError

FLUSH_EVERY = 0.5

DESCRIPTION = """\
Record a connector's public market data: every REST answer (instruments, depth snapshots, and
funding info for perpetuals), every WebSocket frame it receives, exactly as received, and every
frame it sends (subscriptions), as JSON lines in FILE (overwritten). `connectorkit replay FILE`
rebuilds the books from it offline. Stops after --duration seconds or at Ctrl-C."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "record", help="record a connector's raw REST snapshots and WebSocket messages to JSON lines",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("connector", help=connector_help())
    parser.add_argument("pairs", nargs="+", metavar="PAIR", help="trading pairs, e.g. BTC-USDT")
    parser.add_argument("--out", required=True, metavar="FILE", help="capture file to write (overwritten)")
    parser.add_argument("--duration", type=positive_seconds, default=None, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C)")
    add_connector_options(parser)
    return parser


async def record(name: str, pairs: list[str], out: Path, *, duration: float | None, stop: asyncio.Event,
                 overrides: dict[str, Any]) -> CaptureWriter:
    """Record until ``stop`` is set or ``duration`` passes; returns the writer (flushed)."""
    writer = CaptureWriter(out)
    def make_factory(connector: Any) -> RecordingWebAssistantsFactory:
        timeout = connector.settings.request_timeout
        return RecordingWebAssistantsFactory(connector.throttler, writer, request_timeout=timeout)

    connector = build_connector(name, pairs, make_factory, **overrides)
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    await connector.start_network()
    try:
        await connector.require_listed_trading_pairs()
        # The header names the connector and its symbols, so a replay needs nothing else.
        symbols = {await connector.exchange_symbol_associated_to_pair(pair): pair
                   for pair in connector.trading_pairs}
        writer.set_header(recording_header(name, symbols, time.time()))
        while not stop.is_set() and (deadline is None or loop.time() < deadline):
            wait = FLUSH_EVERY if deadline is None else max(0.0, min(FLUSH_EVERY, deadline - loop.time()))
            try:
                async with asyncio.timeout(wait):
                    await stop.wait()
            except TimeoutError:
                pass
            await writer.flush()
    finally:
        await connector.stop_network()
        await writer.flush()
    return writer


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print) -> int:
    try:
        overrides = connector_overrides(args)
    except ValueError as exc:
        out(f"record: {exc}")
        return 2
    stop = asyncio.Event()
    try:
        with stop_on_sigint(stop):
            writer = await record(args.connector, args.pairs, Path(args.out), duration=args.duration,
                                  stop=stop, overrides=overrides)
    except (UnknownConnectorError, ValidationError, OSError, WebError, LookupError, ValueError) as exc:
        out(f"record: {settings_error(exc)}")
        return 2
    out(f"recorded {writer.records} records to {args.out}")
    return 0
