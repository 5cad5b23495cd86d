"""``connectorkit gateway CONNECTOR PAIR... --bus redis://...``: publish a connector's market data on Redis.

Runs until Ctrl-C / SIGTERM (or ``--duration``). See :mod:`connectorkit.bus.gateway` for what is
published; consumers are connectors created with ``market_data_bus=`` and ``connectorkit book --bus``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from connectorkit.cli.options import (
    add_connector_options,
    connector_help,
    connector_overrides,
    positive_count,
    positive_seconds,
)
from connectorkit.cli.signals import stop_on_sigint
from connectorkit.connector.settings import UnknownConnectorError, create_connector

DESCRIPTION = """\
Keep the live order books of the given pairs from any registered connector and publish them on
Redis Streams for other processes (connectors created with market_data_bus=..., `connectorkit book
--bus`): per pair the ck:<connector>:<pair>:book stream (changed levels, update id, gateway
sequence), the :snapshot key, :trades and, for perpetual connectors, :funding; plus the heartbeat
key ck:gateway:<connector>. Public data only (no keys)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gateway", help="publish a connector's books, trades and funding on Redis", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("connector", help=connector_help())
    parser.add_argument("pairs", metavar="PAIR", nargs="+", help="trading pairs, e.g. BTC-USDT ETH-USDT")
    parser.add_argument("--bus", required=True, metavar="URL",
                        help="redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://... (TLS)")
    parser.add_argument("--snapshot-interval", type=positive_seconds, default=5.0, metavar="S",
                        help="seconds between snapshot checkpoints (default 5)")
    parser.add_argument("--maxlen", type=positive_count, default=10_000, metavar="N",
                        help="approximate entries kept per book stream (MAXLEN ~ N, default 10000)")
    parser.add_argument("--heartbeat-ttl", type=positive_seconds, default=5.0, metavar="S",
                        help="heartbeat lifetime: consumers stop trusting the books this long after "
                        "the gateway's last beat (default 5)")
    parser.add_argument("--duration", type=positive_seconds, default=None, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C)")
    add_connector_options(parser)
    return parser


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print) -> int:
    try:
        from connectorkit.bus.connection import BusUnavailableError, BusUrlError, mask_url
        from connectorkit.bus.gateway import MarketDataGateway
    except ImportError as exc:  # redis-py is the optional [redis] extra
        out(f"gateway: needs the redis extra (pip install 'connectorkit[redis]'): {exc}")
        return 2
    from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase

    try:
        connector: Any = create_connector(args.connector, args.pairs, trading_required=False,
                                          **connector_overrides(args))
        gateway = MarketDataGateway(
            connector, args.bus, snapshot_interval=args.snapshot_interval, maxlen=args.maxlen,
            heartbeat_ttl=args.heartbeat_ttl, perpetual=isinstance(connector, PerpetualDerivativePyBase),
        )
    except (UnknownConnectorError, ValidationError, ValueError) as exc:
        out(f"gateway: {exc}")
        return 2
    stop = asyncio.Event()
    with stop_on_sigint(stop):
        try:
            await gateway.start()
        except (BusUnavailableError, BusUrlError) as exc:
            await connector.stop_network()
            out(f"gateway: {exc}")
            return 2
        out(f"gateway: publishing {args.connector} {' '.join(args.pairs)} on {mask_url(args.bus)} "
            f"(run {gateway.run_id})")
        try:
            if args.duration is None:
                await stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.duration):
                        await stop.wait()
        finally:
            await gateway.stop()
    out(f"gateway: stopped after {gateway.published_diffs} book entries, {gateway.published_trades} trades")
    return 0

