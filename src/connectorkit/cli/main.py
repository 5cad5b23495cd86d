"""Entry point of the ``connectorkit`` console script.

Each command lives in its own module exposing ``add_parser(subparsers)`` and ``async run(args)``
(returning the exit code); this module only builds the parser and runs the chosen command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from connectorkit import __version__
from connectorkit.cli import book, gateway, new_connector, record, replay
from connectorkit.cli.demo import command as demo
from connectorkit.sandbox import cli as sandbox

Runner = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]

_COMMANDS: tuple[Any, ...] = (demo, book, gateway, record, replay, sandbox, new_connector)

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141
"""As a shell reports a command killed by SIGPIPE (128 + 13): the reader closed our stdout."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connectorkit",
        description="Crypto-exchange connectors, a local exchange to test them against, and tools.",
        epilog="Start with `connectorkit demo`. `connectorkit COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"connectorkit {__version__}")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="library log level on stderr (default WARNING)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args.run, args))
    except KeyboardInterrupt:  # a second Ctrl-C, or a command without its own clean stop
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `connectorkit ... | head`: the reader went away; stop quietly
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail on the closed pipe
    (the pattern the Python documentation gives for SIGPIPE, "Note on SIGPIPE" in ``signal``)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file (replaced, e.g. under tests)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process ends
    finally:
        os.close(devnull)


async def _run(runner: Runner, args: argparse.Namespace) -> int:
    """Run a command; SIGTERM cancels it (it stops as on Ctrl-C) unless it handles it itself."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await runner(args)
    except asyncio.CancelledError as exc:  # a second Ctrl-C says so (see cli.signals)
        return EXIT_INTERRUPTED if exc.args == (signal.SIGINT.name,) else EXIT_TERMINATED


if __name__ == "__main__":
    raise SystemExit(main())
