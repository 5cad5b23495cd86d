"""The USD-M user stream data source against the in-process sandbox (listen key, keep-alive, expiry)."""

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils as web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as wire
from connectorkit.exchanges.binance_perpetual.binance_perpetual_api_user_stream_data_source import (
    BinancePerpetualAPIUserStreamDataSource,
)
from connectorkit.exchanges.binance_perpetual.binance_perpetual_auth import BinancePerpetualAuth
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.time_synchronizer import TimeSynchronizer
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.sandbox import Market, Sandbox
from support.waiting import wait_until


async def _wait_for(predicate: Callable[[], bool]) -> None:
    await wait_until(predicate, 5)


async def _next_event(queue: asyncio.Queue[object], kind: type) -> object:
    while True:
        event = await asyncio.wait_for(queue.get(), timeout=5)
        if isinstance(event, kind):
            return event


async def test_listen_key_stream_keepalive_and_expiry_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Sandbox(seed=3, markets=[Market("ETHUSDT", "ETH", "USDT")], simulate=False) as sb:
        keep_alives: list[str] = []
        real_keepalive = sb.futures.listen_keys.keepalive

        def counted_keepalive(key: str, account_id: int, now_ms: int) -> None:
            real_keepalive(key, account_id, now_ms)
            keep_alives.append(key)

        monkeypatch.setattr(sb.futures.listen_keys, "keepalive", counted_keepalive)
        key, secret = sb.create_account(futures_balances={"USDT": Decimal("10000")})
        auth = BinancePerpetualAuth(key, secret, TimeSynchronizer())
        factory = WebAssistantsFactory(AsyncThrottler(web_utils.build_rate_limits()), auth)
        source = BinancePerpetualAPIUserStreamDataSource(
            factory, sb.futures_rest_url, sb.futures_ws_url, keep_alive_interval=0.05, routed_paths=False
        )
        source.RECONNECT_MIN_DELAY = 0.01
        queue: asyncio.Queue[object] = asyncio.Queue()
        task = asyncio.create_task(source.listen_for_user_stream(queue), name="test-perp-user-stream")
        try:
            await _wait_for(lambda: source.connected)
            assert source.listen_keys_created == 1
            await _wait_for(lambda: len(keep_alives) >= 3)  # several keep-alives go through...
            assert source.connection_count == 1  # ...without reconnecting
            rest = await factory.get_rest_assistant()
            params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                      "quantity": "0.01", "price": "1000", "newClientOrderId": "ckBperp1"}
            await rest.execute_request(web_utils.rest_url("/fapi/v1/order", sb.futures_rest_url),
                                       method=RESTMethod.POST, params=params, is_auth_required=True,
                                       throttler_limit_id="/fapi/v1/order")
            update = await _next_event(queue, wire.OrderTradeUpdate)
            assert isinstance(update, wire.OrderTradeUpdate)
            assert (update.order.client_order_id, update.order.order_status) == ("ckBperp1", "NEW")

            sb.faults.expire_listen_key()
            await _wait_for(lambda: source.connection_count >= 2 and source.connected)
            assert source.listen_keys_created >= 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await factory.close()
