"""Every market stream the issue lists, subscribed over a raw WebSocket (spot and USD-M), and the
documented error for a stream the sandbox does not serve; python-binance's socket manager on top."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import msgspec
import pytest

from support.sandbox_clients import Venue, clients

SPOT_STREAMS = {
    "btcusdt@ticker": lambda d: d["e"] == "24hrTicker" and "b" in d and "x" in d,
    "btcusdt@miniTicker": lambda d: d["e"] == "24hrMiniTicker",
    "btcusdt@ticker_1h": lambda d: d["e"] == "1hTicker",
    "!miniTicker@arr": lambda d: isinstance(d, list) and {e["s"] for e in d} == {"BTCUSDT", "ETHUSDT"},
    "!ticker@arr": lambda d: isinstance(d, list) and all(e["e"] == "24hrTicker" for e in d),
    "btcusdt@kline_1s": lambda d: d["e"] == "kline" and d["k"]["i"] == "1s",
    "btcusdt@kline_1m": lambda d: d["k"]["T"] - d["k"]["t"] == 59_999,
    "btcusdt@depth5": lambda d: len(d["bids"]) <= 5 and "lastUpdateId" in d,
    "btcusdt@depth10@100ms": lambda d: len(d["bids"]) <= 10,
    "btcusdt@depth20": lambda d: len(d["asks"]) <= 20,
}
FUTURES_STREAMS = {
    "btcusdt@ticker": lambda d: d["e"] == "24hrTicker" and "b" not in d and "x" not in d,
    "btcusdt@miniTicker": lambda d: d["e"] == "24hrMiniTicker",
    "!ticker@arr": lambda d: isinstance(d, list) and {e["s"] for e in d} == {"BTCUSDT", "ETHUSDT"},
    "!miniTicker@arr": lambda d: isinstance(d, list),
    "btcusdt@kline_5m": lambda d: d["k"]["i"] == "5m" and d["k"]["T"] - d["k"]["t"] == 299_999,
    "btcusdt@depth5": lambda d: d["e"] == "depthUpdate" and len(d["b"]) <= 5 and "pu" in d,
    "btcusdt@depth10@500ms": lambda d: len(d["b"]) <= 10,
    "btcusdt@depth20@100ms": lambda d: len(d["a"]) <= 20,
    "btcusdt@trade": lambda d: d["e"] == "trade" and d["X"] == "MARKET",
}


async def _collect(url: str, streams: list[str], timeout_s: float = 20.0) -> dict[str, Any]:
    """Subscribe over one combined connection; return the first payload of each stream."""
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/stream") as ws:
        await ws.send_str(msgspec.json.encode({"method": "SUBSCRIBE", "params": streams, "id": 1}).decode())
        async with asyncio.timeout(timeout_s):
            while len(seen) < len(streams):
                frame = msgspec.json.decode((await ws.receive()).data)
                if "stream" in frame:
                    seen.setdefault(frame["stream"], frame["data"])
                else:
                    assert frame == {"result": None, "id": 1}
    return seen


async def test_spot_streams(venue: Venue) -> None:
    seen = await _collect(venue.sb.ws_url, list(SPOT_STREAMS))
    for stream, check in SPOT_STREAMS.items():
        assert check(seen[stream]), (stream, seen[stream])


async def test_futures_streams(venue: Venue) -> None:
    seen = await _collect(venue.sb.futures_ws_url, list(FUTURES_STREAMS))
    for stream, check in FUTURES_STREAMS.items():
        assert check(seen[stream]), (stream, seen[stream])


@pytest.mark.parametrize("which", ["spot", "futures"])
async def test_unserved_stream_is_refused_not_left_silent(venue: Venue, which: str) -> None:
    base = venue.sb.ws_url if which == "spot" else venue.sb.futures_ws_url
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(base + "/ws") as ws:
            await ws.send_str(
                '{"method": "SUBSCRIBE", "params": ["btcusdt@avgPrice", "btcusdt@ticker"], "id": 7}'
            )
            answer = msgspec.json.decode((await asyncio.wait_for(ws.receive(), 5)).data)
            assert answer == {"code": 2, "msg": "Invalid request: invalid stream", "id": 7}
            await ws.send_str('{"method": "LIST_SUBSCRIPTIONS", "id": 8}')
            listed = msgspec.json.decode((await asyncio.wait_for(ws.receive(), 5)).data)
            assert listed == {"result": [], "id": 8}  # nothing half-subscribed
        for path in ("/ws/xrpusdt@trade", "/stream?streams=btcusdt@nothing"):
            async with session.get(base.replace("ws://", "http://") + path) as resp:
                assert resp.status == 400
                assert (await resp.json())["code"] == 2


async def test_python_binance_socket_manager(venue: Venue) -> None:
    client = clients.python_binance(
        venue.api_key, venue.secret, rest=venue.sb.rest_url, spot_ws=venue.sb.ws_url
    )
    sockets = clients.python_binance_sockets(
        client, spot_ws=venue.sb.ws_url, futures_ws=venue.sb.futures_ws_url
    )
    try:
        async with sockets.kline_socket("BTCUSDT", interval="1m") as ks:
            kline = await asyncio.wait_for(ks.recv(), 10)
            assert kline["e"] == "kline" and kline["s"] == "BTCUSDT"
        async with sockets.symbol_ticker_socket("ETHUSDT") as ts:
            assert (await asyncio.wait_for(ts.recv(), 10))["e"] == "24hrTicker"
        async with sockets.depth_socket("BTCUSDT", depth="5") as ds:
            assert len((await asyncio.wait_for(ds.recv(), 10))["bids"]) <= 5
        async with sockets.futures_ticker_socket() as fts:
            assert isinstance(await asyncio.wait_for(fts.recv(), 10), dict)
        async with sockets.kline_futures_socket("BTCUSDT") as fks:
            assert (await asyncio.wait_for(fks.recv(), 10))["e"] == "continuous_kline"
    finally:
        await client.close_connection()
