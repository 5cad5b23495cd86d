"""``connectorkit new-connector``: write a new connector package from the templates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from connectorkit.scaffold.writer import GUIDE, ScaffoldError, write_connector


def _default_directory() -> Path:
    """``src/connectorkit/exchanges`` of this checkout when run from its root, else the cwd."""
    exchanges = Path("src") / "connectorkit" / "exchanges"
    return exchanges if exchanges.is_dir() else Path.cwd()


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "new-connector",
        help="write a new connector package to fill in",
        description=(
            "Write DIR/NAME/ with the seed's files (NAME_exchange.py or NAME_derivative.py, "
            "NAME_auth.py, NAME_api_order_book_data_source.py, NAME_api_user_stream_data_source.py, "
            "NAME_constants.py, NAME_utils.py with DEFAULT_FEES, NAME_web_utils.py, NAME_replay.py) and "
            "tests/ (a conformance target and a test module running the shared suite). Every "
            "method the templates leave abstract is a stub marked @unwritten; the test names the "
            f"first one left to write. Then follow {GUIDE}: fill in, replay, conformance."
        ),
    )
    parser.add_argument("name", help="connector name, a lower-case identifier such as my_venue")
    parser.add_argument("--perpetual", action="store_true", help="a perpetual (derivative) connector")
    parser.add_argument(
        "--dir", type=Path, default=None,
        help="where to write the package (default: src/connectorkit/exchanges in a checkout, else .)",
    )
    return parser


async def run(args: argparse.Namespace) -> int:
    directory: Path = args.dir if args.dir is not None else _default_directory()
    try:
        files = write_connector(args.name, directory, perpetual=args.perpetual)
    except (ScaffoldError, OSError) as exc:
        print(f"connectorkit new-connector: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files under {directory / args.name}:")
    for path in files:
        print(f"  {path}")
    print(f"next: pytest {directory / args.name} (it names the first method to write); see {GUIDE}")
    return 0
