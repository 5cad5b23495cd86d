import asyncio
import json

import pytest
from binance_fixtures import fixture_json

from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.exchanges.binance import binance_web_utils
from connectorkit.exchanges.binance.binance_api_user_stream_data_source import (
    BinanceAPIUserStreamDataSource,
    UserStreamTerminated,
)
from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as perp_wire
from connectorkit.exchanges.binance_perpetual.binance_perpetual_api_user_stream_data_source import (
    BinancePerpetualAPIUserStreamDataSource,
    ListenKeyExpiredError,
)
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.web_assistants_factory import WebAssistantsFactory


async def test_spot_frames_are_filtered_by_subscription_and_termination_reconnects() -> None:
    factory = WebAssistantsFactory(AsyncThrottler(binance_web_utils.build_rate_limits()))
    source = BinanceAPIUserStreamDataSource(factory)
    source._subscription_id = 3
    report = fixture_json("spot__user_data_stream__order_update.json")
    event = source._decode_event(json.dumps({"subscriptionId": 3, "event": report}))
    assert isinstance(event, wire.ExecutionReport)
    assert source._decode_event(json.dumps({"subscriptionId": 4, "event": report})) is None
    assert source._decode_event(json.dumps({"id": "x", "status": 200, "result": {}})) is None
    assert source.dropped_frame_count == 2
    keep_alive = asyncio.create_task(source._keep_alive())
    await asyncio.sleep(0)
    assert not keep_alive.done()
    terminated = {"subscriptionId": 3, "event": {"e": "eventStreamTerminated", "E": 1728973001334}}
    assert source._decode_event(json.dumps(terminated)) is None
    with pytest.raises(UserStreamTerminated):
        await asyncio.wait_for(keep_alive, 1)


async def test_futures_listen_key_expiry_event_ends_the_connection() -> None:
    factory = WebAssistantsFactory(AsyncThrottler(binance_perpetual_web_utils.build_rate_limits()))
    source = BinancePerpetualAPIUserStreamDataSource(factory, keep_alive_interval=30)
    update = fixture_json("usdm__user_data_streams__event_order_update.json")
    assert isinstance(source._decode_event(json.dumps(update)), perp_wire.OrderTradeUpdate)
    keep_alive = asyncio.create_task(source._keep_alive())
    await asyncio.sleep(0)
    expired = fixture_json("usdm__user_data_streams__event_user_data_stream_expired.json")
    assert source._decode_event(json.dumps(expired)) is None
    with pytest.raises(ListenKeyExpiredError):
        await asyncio.wait_for(keep_alive, 1)


def test_unused_event_types_are_skipped_quietly_and_malformed_events_still_raise() -> None:
    """Binance adds user-event types over time (USDⓈ-M ``TRADE_LITE`` arrives on the unrouted
    stream for every fill; spot ``listStatus``/``externalLockUpdate``): they are skipped and
    counted apart, not reported as malformed, while a broken event of a used type still raises."""
    futures = BinancePerpetualAPIUserStreamDataSource(
        WebAssistantsFactory(AsyncThrottler(binance_perpetual_web_utils.build_rate_limits()))
    )
    trade_lite = {"e": "TRADE_LITE", "E": 1721895408092, "T": 1721895408214, "s": "BTCUSDT"}
    assert futures._decode_event(json.dumps(trade_lite)) is None
    assert futures.ignored_event_count == 1
    with pytest.raises(perp_wire.WireFormatError) as broken:
        futures._decode_event(json.dumps({"e": "ORDER_TRADE_UPDATE", "E": 1}))
    assert not isinstance(broken.value, perp_wire.UnknownUserEventError)
    with pytest.raises(perp_wire.WireFormatError):
        futures._decode_event(b"[1, 2]")

    spot = BinanceAPIUserStreamDataSource(
        WebAssistantsFactory(AsyncThrottler(binance_web_utils.build_rate_limits()))
    )
    spot._subscription_id = 1
    list_status = {"subscriptionId": 1, "event": {"e": "listStatus", "E": 1564035303637, "s": "ETHBTC"}}
    assert spot._decode_event(json.dumps(list_status)) is None
    assert (spot.ignored_event_count, spot.dropped_frame_count) == (1, 0)
    with pytest.raises(wire.WireFormatError):
        spot._decode_event(json.dumps({"subscriptionId": 1, "event": {"e": "executionReport", "E": 1}}))


async def test_spot_server_shutdown_notice_reconnects_at_once() -> None:
    """"WebSocket API > Connection events": ``{"event": {"e": "serverShutdown", "E": ...}}`` (no
    subscriptionId) asks the client to open a new connection as soon as possible."""
    source = BinanceAPIUserStreamDataSource(
        WebAssistantsFactory(AsyncThrottler(binance_web_utils.build_rate_limits()))
    )
    source._subscription_id = 7
    keep_alive = asyncio.create_task(source._keep_alive())
    await asyncio.sleep(0)
    assert source._decode_event(json.dumps({"event": {"e": "serverShutdown", "E": 1770123456789}})) is None
    with pytest.raises(UserStreamTerminated):
        await asyncio.wait_for(keep_alive, 1)
    assert source.ignored_event_count == 0
