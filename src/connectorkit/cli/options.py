"""Connector options shared by the commands that build a connector from the command line, and
the argument checks they share."""

from __future__ import annotations

import argparse
import math
from typing import Any

from pydantic import ValidationError

from connectorkit.connector.settings import registered_connectors


def add_connector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rest-url", default=None, metavar="U",
                        help="REST base URL (default: the exchange's; e.g. a sandbox's). Override one "
                             "endpoint and you must override every endpoint the connector uses")
    parser.add_argument("--ws-url", default=None, metavar="W",
                        help="WebSocket stream base URL (default: the exchange's)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="any other setting of the connector (repeatable), e.g. depth_snapshot_limit=100")


def positive_seconds(text: str) -> float:
    """An argparse ``type``: a finite number of seconds greater than zero (``nan``, ``inf``, ``0``
    and negative numbers are usage errors, not a run that never stops or stops at once)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds above 0, got {text!r}")
    return value


def positive_count(text: str) -> int:
    """An argparse ``type``: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def connector_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings overrides from ``--rest-url``, ``--ws-url`` and ``--option KEY=VALUE``; values are
    validated by the connector's settings model (pydantic parses the strings)."""
    overrides: dict[str, Any] = {}
    if args.rest_url:
        overrides["rest_url"] = args.rest_url
    if args.ws_url:
        overrides["ws_url"] = args.ws_url
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value
    return overrides


def settings_error(exc: Exception) -> str:
    """One line for a settings error: pydantic's own text spans several lines and a URL."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def connector_help() -> str:
    return "registered connector: " + ", ".join(registered_connectors())
