"""python-binance's user-data sockets on the sandbox: spot over the WebSocket API subscription,
USD-M over a listen key."""

from __future__ import annotations

import asyncio
from typing import Any

from support.sandbox_clients import Venue, clients


async def test_spot_user_socket_sees_the_order(client: Any, venue: Venue) -> None:
    sockets = clients.python_binance_sockets(
        client, spot_ws=venue.sb.ws_url, futures_ws=venue.sb.futures_ws_url
    )
    async with sockets.user_socket() as user:
        order = await client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
        events = []
        async with asyncio.timeout(10):
            while not any(e.get("e") == "executionReport" and e.get("X") == "FILLED" for e in events):
                events.append(await user.recv())
        report = next(e for e in events if e.get("e") == "executionReport" and e.get("X") == "FILLED")
        assert report["i"] == order["orderId"]


async def test_futures_user_socket_sees_the_order(client: Any, venue: Venue) -> None:
    sockets = clients.python_binance_sockets(
        client, spot_ws=venue.sb.ws_url, futures_ws=venue.sb.futures_ws_url
    )
    async with sockets.futures_user_socket() as user:
        order = await client.futures_create_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.002"
        )
        events = []
        async with asyncio.timeout(10):
            while not any(e.get("e") == "ORDER_TRADE_UPDATE" and e["o"]["X"] == "FILLED" for e in events):
                events.append(await user.recv())
        update = next(e for e in events if e.get("e") == "ORDER_TRADE_UPDATE" and e["o"]["X"] == "FILLED")
        assert update["o"]["i"] == order["orderId"]
        assert any(e.get("e") == "ACCOUNT_UPDATE" for e in events)
