"""Waiting for a condition instead of sleeping: poll with a bounded timeout that fails loudly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp

from connectorkit.sandbox.venues.binance.streams import StreamHub


async def wait_until(predicate: Callable[[], bool], seconds: float = 10.0, what: str = "condition") -> None:
    """Return as soon as ``predicate()`` holds (the code under test runs between polls); raise
    ``AssertionError`` naming ``what`` if it still does not after ``seconds`` of loop time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.005)


async def subscribed(hub: StreamHub, *streams: str) -> None:
    """Wait until a sandbox stream ``hub`` has registered ``streams`` (market streams, or a listen
    key): the handshake's answer can reach the client before the server's handler has subscribed
    the connection, so a test that acts right after ``ws_connect`` would race it."""
    await wait_until(lambda: all(hub.has_subscribers(s) for s in streams), 5, f"subscribers of {streams}")


async def assert_nothing_queued(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Assert that a sandbox market/listen-key stream has queued no frame for ``ws`` so far, without
    waiting for a timeout: the answer to a LIST_SUBSCRIPTIONS request goes through the same queue
    as the stream's frames, so it arrives first only if nothing was queued before it."""
    await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": _BARRIER_ID})
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    answer = json.loads(msg.data)
    assert answer.get("id") == _BARRIER_ID, f"a frame was sent: {answer}"


_BARRIER_ID = 4_242_424
