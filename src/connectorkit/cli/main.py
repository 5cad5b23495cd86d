"""Entry point of the ``connectorkit`` console script."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connectorkit import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connectorkit",
        description="Crypto-exchange connectors, a local exchange to test them against, and tools.",
    )
    parser.add_argument("--version", action="version", version=f"connectorkit {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
