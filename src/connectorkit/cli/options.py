"""Connector options shared by the commands that build a connector from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from connectorkit.connector.settings import registered_connectors


def add_connector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rest-url", default=None, metavar="U",
                        help="REST base URL (default: the exchange's; e.g. a sandbox's)")
    parser.add_argument("--ws-url", default=None, metavar="W",
                        help="WebSocket stream base URL (default: the exchange's)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="any other setting of the connector (repeatable), e.g. depth_snapshot_limit=100")


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


def connector_help() -> str:
    return "registered connector: " + ", ".join(registered_connectors())
