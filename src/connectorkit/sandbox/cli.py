"""``connectorkit sandbox [--venue NAME]``: run one protocol skin of the local exchange until interrupted.

The core parser holds what every skin shares (address, admin token, port, seed, ``--state``,
simulation); each skin adds its own flags with ``add_arguments(parser)`` and serves with
``async run(args, out=, err=)``.
``binance`` (spot and USD-M futures) is the default and, today, the only skin.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

from connectorkit.sandbox.venues.binance import cli as binance_cli


class SkinCli(Protocol):
    """What a skin's CLI module offers (``venues/<name>/cli.py``)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    async def run(self, args: argparse.Namespace, *, out: Callable[[str], None] = ...,
                  err: Callable[[str], None] = ...) -> int: ...


#: Skin name -> its CLI module. The OKX and Bybit skins register here.
VENUES: dict[str, SkinCli] = {"binance": binance_cli}
DEFAULT_VENUE = "binance"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox", help="run the local Binance-compatible exchange", description=binance_cli.DESCRIPTION
    )
    parser.add_argument(
        "--venue", choices=sorted(VENUES), default=DEFAULT_VENUE,
        help=f"protocol skin to serve (default {DEFAULT_VENUE})",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1). On a non-loopback address (e.g. "
                             "0.0.0.0) the /sandbox/... admin routes require the admin token")
    parser.add_argument("--admin-token", default=None, metavar="TOKEN", type=_admin_token,
                        help="token the /sandbox/... admin routes require as 'Authorization: Bearer "
                             "TOKEN' (default: none on loopback, a random one printed at start otherwise)")
    parser.add_argument("--port", type=int, default=0, help="REST/spot-stream port (default: any free port)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the simulated market")
    parser.add_argument("--state", default=None, metavar="FILE", help="SQLite state file")
    parser.add_argument("--no-simulation", action="store_true", help="no background traders")
    for skin in VENUES.values():
        skin.add_arguments(parser)
    return parser


def _admin_token(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the admin token must not be empty")
    return text


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print,
              err: Callable[[str], None] | None = None) -> int:
    """Serve the skin ``args.venue`` names (``binance`` when the namespace has no ``venue``);
    ``err`` defaults to the skin's (stderr)."""
    skin = VENUES[getattr(args, "venue", DEFAULT_VENUE)]
    return await (skin.run(args, out=out) if err is None else skin.run(args, out=out, err=err))
