"""ExchangePyBase pre-send hooks: awaited before the placement request; a failing hook sends nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.core.in_flight_order import InFlightOrder
from support.fake_exchange import API_KEY, API_SECRET, FakeExchange, FakeSettings
from support.fake_exchange_server import FakeExchangeServer, SymbolSpec
from support.recorder import Recorder, until

PAIR = "BTC-USDT"


class _ShortHookTimeoutExchange(FakeExchange):
    PRE_SEND_HOOK_TIMEOUT = 0.05


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    srv = FakeExchangeServer(API_KEY, API_SECRET, [SymbolSpec("BTCUSDT", "BTC", "USDT")])
    srv.balances = {"USDT": (Decimal(10_000), Decimal(10_000)), "BTC": (Decimal(1), Decimal(1))}
    await srv.start()
    yield srv
    await srv.stop()


async def _started(server: FakeExchangeServer, cls: type[FakeExchange] = FakeExchange) -> FakeExchange:
    conn = cls(FakeSettings(
        trading_pairs=[PAIR], api_key=API_KEY, api_secret=API_SECRET, rest_url=server.url,
        ws_url=server.url.replace("http://", "ws://"), short_poll_interval=0.05, long_poll_interval=60.0,
        user_stream_silence_threshold=60.0, trading_rules_refresh_interval=60.0,
    ))
    await conn.start_network()
    await until(lambda: conn.ready, "connector ready")
    return conn


@pytest.fixture
async def connector(server: FakeExchangeServer) -> AsyncIterator[FakeExchange]:
    conn = await _started(server)
    yield conn
    await conn.stop_network()


def placed(server: FakeExchangeServer) -> list[dict[str, str]]:
    return [params for method, path, params in server.requests if method == "POST" and path == "/api/order"]


async def test_hooks_run_in_order_before_the_request_and_the_request_waits_for_them(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    seen: list[tuple[str, str, OrderState, int]] = []
    release = asyncio.Event()

    async def first(order: InFlightOrder) -> None:
        seen.append(("first", order.client_order_id, order.current_state, len(placed(server))))
        await release.wait()

    async def second(order: InFlightOrder) -> None:
        seen.append(("second", order.client_order_id, order.current_state, len(placed(server))))

    connector.add_pre_send_hook(first)
    connector.add_pre_send_hook(second)
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await until(lambda: len(seen) == 1, "first hook called")
    for _ in range(5):  # the placement task is parked in the first hook: nothing goes out meanwhile
        await asyncio.sleep(0)
    assert placed(server) == [] and len(seen) == 1
    assert connector.in_flight_orders[order_id].is_pending_create
    release.set()
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert seen == [("first", order_id, OrderState.PENDING_CREATE, 0),
                    ("second", order_id, OrderState.PENDING_CREATE, 0)]
    assert [p["newClientOrderId"] for p in placed(server)] == [order_id]


async def test_a_removed_hook_is_no_longer_called(connector: FakeExchange) -> None:
    calls: list[str] = []

    async def hook(order: InFlightOrder) -> None:
        calls.append(order.client_order_id)

    connector.add_pre_send_hook(hook)
    assert connector.remove_pre_send_hook(hook) is True
    assert connector.remove_pre_send_hook(hook) is False
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert calls == []


async def test_a_raising_hook_fails_the_order_and_sends_nothing(
    connector: FakeExchange, server: FakeExchangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    later: list[str] = []

    async def broken(order: InFlightOrder) -> None:
        raise OSError("disk full")

    async def after(order: InFlightOrder) -> None:
        later.append(order.client_order_id)

    connector.add_pre_send_hook(broken)
    connector.add_pre_send_hook(after)
    events = Recorder(connector)
    with caplog.at_level(logging.ERROR):
        order_id = connector.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == "PreSendHookError"
    assert "OSError: disk full" in failure.error_message
    assert placed(server) == [] and later == []
    assert order_id not in connector.in_flight_orders
    assert order_id not in connector._placing and order_id not in connector._unsent
    record = next(r for r in caplog.records if "pre-send hook" in r.getMessage())
    assert record.exc_info is not None and isinstance(record.exc_info[1], OSError)


async def test_a_hook_that_times_out_fails_the_order_and_sends_nothing(server: FakeExchangeServer) -> None:
    conn = await _started(server, _ShortHookTimeoutExchange)
    try:
        async def stuck(order: InFlightOrder) -> None:
            await asyncio.Event().wait()

        conn.add_pre_send_hook(stuck)
        events = Recorder(conn)
        order_id = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
        assert failure.error_type == "PreSendHookError" and "timed out" in failure.error_message
        assert placed(server) == []
    finally:
        await conn.stop_network()


async def test_stopping_while_a_hook_runs_fails_the_order_unsent(server: FakeExchangeServer) -> None:
    conn = await _started(server)
    entered = asyncio.Event()

    async def slow(order: InFlightOrder) -> None:
        entered.set()
        await asyncio.Event().wait()

    conn.add_pre_send_hook(slow)
    events = Recorder(conn)
    order_id = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await entered.wait()
    await conn.stop_network()
    failure: Any = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == "OrderNotSent"
    assert placed(server) == []
