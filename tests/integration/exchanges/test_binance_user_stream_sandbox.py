"""The spot user stream data source against the in-process sandbox, over real WebSockets."""

import asyncio
from decimal import Decimal

from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.exchanges.binance import binance_web_utils as web_utils
from connectorkit.exchanges.binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from connectorkit.exchanges.binance.binance_auth import BinanceAuth
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.time_synchronizer import TimeSynchronizer
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.sandbox import Market, Sandbox


async def _next_event(queue: asyncio.Queue[object], kind: type) -> object:
    while True:
        event = await asyncio.wait_for(queue.get(), timeout=5)
        if isinstance(event, kind):
            return event


async def test_signed_ws_api_subscription_delivers_order_events_and_resubscribes() -> None:
    async with Sandbox(seed=1, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        key, secret = sb.create_account({"USDT": Decimal("10000")})
        auth = BinanceAuth(key, secret, TimeSynchronizer())
        factory = WebAssistantsFactory(AsyncThrottler(web_utils.build_rate_limits()), auth)
        source = BinanceAPIUserStreamDataSource(factory, sb.ws_api_url)
        source.RECONNECT_MIN_DELAY = 0.01
        queue: asyncio.Queue[object] = asyncio.Queue()
        task = asyncio.create_task(source.listen_for_user_stream(queue), name="test-user-stream")
        try:
            for _ in range(200):
                if source.connected:
                    break
                await asyncio.sleep(0.01)
            assert source.connected and source.subscription_id is not None
            rest = await factory.get_rest_assistant()
            params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                      "quantity": "0.1", "price": "100", "newClientOrderId": "ckBtest1"}
            order_url = web_utils.rest_url("/api/v3/order", sb.rest_url)
            await rest.execute_request(order_url, method=RESTMethod.POST, params=params,
                                       is_auth_required=True, throttler_limit_id="/api/v3/order")
            report = await _next_event(queue, wire.ExecutionReport)
            assert isinstance(report, wire.ExecutionReport)
            assert (report.own_client_order_id, report.order_status) == ("ckBtest1", "NEW")
            balances = await _next_event(queue, wire.OutboundAccountPosition)
            assert isinstance(balances, wire.OutboundAccountPosition)
            assert wire.balances_from_account_position(balances).available["USDT"] == Decimal("9990")

            sb.faults.drop_websockets()
            for _ in range(500):
                if source.connection_count >= 2 and source.connected:
                    break
                await asyncio.sleep(0.01)
            assert source.connection_count >= 2 and source.connected
            cancel = {"symbol": "BTCUSDT", "origClientOrderId": "ckBtest1"}
            await rest.execute_request(order_url, method=RESTMethod.DELETE, params=cancel,
                                       is_auth_required=True, throttler_limit_id="DELETE /api/v3/order")
            report = await _next_event(queue, wire.ExecutionReport)
            assert isinstance(report, wire.ExecutionReport) and report.order_status == "CANCELED"
            assert report.own_client_order_id == "ckBtest1"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await factory.close()
