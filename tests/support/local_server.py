"""An aiohttp application served for a test on 127.0.0.1, on an ephemeral port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestServer


@asynccontextmanager
async def local_server(app: web.Application) -> AsyncIterator[TestServer]:
    """``app`` served until the block ends. No access log: it is the exchange's log (it would show
    the signatures the exchange received)."""
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server(access_log=None)
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` and yield its ``127.0.0.1:<port>`` address; cleaned up on exit."""
    async with local_server(app) as server:
        yield f"127.0.0.1:{server.port}"
