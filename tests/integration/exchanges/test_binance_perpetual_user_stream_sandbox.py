"""The USD-M user stream data source against the in-process sandbox (listen key, keep-alive, expiry)."""

import asyncio
from decimal import Decimal

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


async def _wait_for(predicate: object, seconds: float = 5.0) -> None:
    assert callable(predicate)
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _next_event(queue: asyncio.Queue[object], kind: type) -> object:
    while True:
        event = await asyncio.wait_for(queue.get(), timeout=5)
        if isinstance(event, kind):
            return event


async def test_listen_key_stream_keepalive_and_expiry_recovery() -> None:
    async with Sandbox(seed=3, markets=[Market("ETHUSDT", "ETH", "USDT")], simulate=False) as sb:
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
            await asyncio.sleep(0.2)  # several keep-alives go through without reconnecting
            assert source.connection_count == 1
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
