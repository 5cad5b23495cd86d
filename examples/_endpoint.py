"""Where the examples connect: a running server given on the command line (or in the environment),
else a sandbox started in-process, so every example runs on a fresh machine with no account.

Flags (or environment variables): ``--rest-url`` (CONNECTORKIT_REST_URL), ``--ws-url``
(CONNECTORKIT_WS_URL), ``--ws-api-url`` (CONNECTORKIT_WS_API_URL, spot user stream),
``--api-key`` / ``--api-secret`` (CONNECTORKIT_API_KEY / CONNECTORKIT_API_SECRET).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectorkit import Sandbox


@dataclass
class Endpoint:
    """Keyword arguments for ``create_connector`` (URLs) plus the account's keys."""

    urls: dict[str, Any] = field(default_factory=dict)
    api_key: str = ""
    api_secret: str = ""


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    env = os.environ.get
    parser.add_argument("--rest-url", default=env("CONNECTORKIT_REST_URL"))
    parser.add_argument("--ws-url", default=env("CONNECTORKIT_WS_URL"))
    parser.add_argument("--ws-api-url", default=env("CONNECTORKIT_WS_API_URL"))
    parser.add_argument("--api-key", default=env("CONNECTORKIT_API_KEY", ""))
    parser.add_argument("--api-secret", default=env("CONNECTORKIT_API_SECRET", ""))
    return parser.parse_args(argv)


@contextlib.asynccontextmanager
async def endpoint(args: argparse.Namespace, *, futures: bool) -> AsyncIterator[Endpoint]:
    """The server of ``args``, or an in-process sandbox with a funded account when none is given."""
    if args.rest_url:
        urls = {"rest_url": args.rest_url}
        if args.ws_url:
            urls["ws_url"] = args.ws_url
        if args.ws_api_url and not futures:
            urls["ws_api_url"] = args.ws_api_url
        yield Endpoint(urls, args.api_key, args.api_secret)
        return
    async with Sandbox(seed=1) as sb:
        funds: dict[str, Any] = {"USDT": Decimal(10_000), "BTC": Decimal(1)}
        key, secret = sb.create_account(funds, futures_balances={"USDT": Decimal(10_000)})
        if futures:
            yield Endpoint({"rest_url": sb.futures_rest_url, "ws_url": sb.futures_ws_url}, key, secret)
        else:
            urls = {"rest_url": sb.rest_url, "ws_url": sb.ws_url, "ws_api_url": sb.ws_api_url}
            yield Endpoint(urls, key, secret)


async def wait_until(predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll connector state (readiness, a position) that has no event of its own."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
