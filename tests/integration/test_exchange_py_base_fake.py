"""The ExchangePyBase template end to end, with a fake connector over an in-process fake exchange."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from connectorkit.connector.client_order_tracker import ORDER_NOT_FOUND_ERROR_TYPE
from connectorkit.connector.order_options import UnsupportedOrderOptionError
from connectorkit.core.enums import OrderState, OrderType, PositionAction, TimeInForce, TradeType
from connectorkit.core.events import MarketEvent
from connectorkit.core.order_candidate import OrderCandidate
from connectorkit.net.throttler import LinkedLimitWeightPair, RateLimit
from support.fake_exchange import (
    API_KEY,
    API_SECRET,
    PATHS,
    FakeExchange,
    FakeSettings,
    FakeUserStreamDataSource,
)
from support.fake_exchange_server import FakeExchangeServer, SymbolSpec
from support.recorder import Recorder, until

PAIR = "BTC-USDT"


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    srv = FakeExchangeServer(
        API_KEY, API_SECRET,
        [SymbolSpec("BTCUSDT", "BTC", "USDT"), SymbolSpec("ETHUSDT", "ETH", "USDT", order_types=("LIMIT",))],
    )
    srv.balances = {"USDT": (Decimal(10_000), Decimal(10_000)), "BTC": (Decimal(1), Decimal(1))}
    await srv.start()
    yield srv
    await srv.stop()


def make_connector(
    server: FakeExchangeServer, cls: type[FakeExchange] = FakeExchange, **overrides: Any
) -> FakeExchange:
    settings: dict[str, Any] = {
        "trading_pairs": [PAIR, "ETH-USDT"],
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "rest_url": server.url,
        "ws_url": server.url.replace("http://", "ws://"),
        "short_poll_interval": 0.05,
        "long_poll_interval": 60.0,
        "user_stream_silence_threshold": 60.0,
        "trading_rules_refresh_interval": 60.0,
        **overrides,
    }
    return cls(FakeSettings(**settings))


@pytest.fixture
async def connector(server: FakeExchangeServer) -> AsyncIterator[FakeExchange]:
    conn = make_connector(server)
    await conn.start_network()
    await until(lambda: conn.ready, "connector ready")
    yield conn
    await conn.stop_network()


def placed(server: FakeExchangeServer) -> list[dict[str, str]]:
    return [params for method, path, params in server.requests if method == "POST" and path == "/api/order"]


# ---------------------------------------------------------------------------------------------------
# readiness and lifecycle
# ---------------------------------------------------------------------------------------------------
async def test_readiness_and_owned_tasks(server: FakeExchangeServer) -> None:
    conn = make_connector(server)
    assert not conn.ready
    assert set(conn.status_dict) == {
        "symbols_mapping_initialized", "order_books_initialized", "account_balance",
        "trading_rule_initialized", "user_stream_initialized",
    }
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "connector ready")
        assert all(conn.status_dict.values())
        assert conn.get_balance("USDT") == Decimal(10_000)
        assert conn.trading_rules[PAIR].min_notional_size == Decimal(10)
        assert conn.get_price(PAIR, True) == Decimal(101)
        await server.push_depth_diff("BTCUSDT", bids=[], asks=[["100.50", "0.4"]])
        await until(lambda: conn.get_price(PAIR, True) == Decimal("100.5"), "diff applied to the book")
        assert conn.get_vwap_for_volume(PAIR, True, Decimal(1)) == Decimal("100.8")
        await until(lambda: conn.time_synchronizer.has_samples, "clock synchronized by the time-sync loop")
        names = conn.background_task_names
        for loop in ("trading-rules", "status-polling", "user-stream-listener", "time-sync"):
            assert f"fake_exchange:{loop}" in names
    finally:
        await conn.stop_network()
    assert conn.background_task_names == []
    assert not conn.user_stream_tracker.is_running  # type: ignore[union-attr]


async def test_price_queries_read_the_live_books_without_copying(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    books = connector.order_books
    assert connector.order_books is books  # one read-only live view, not a new dict per query
    with pytest.raises(TypeError):
        books[PAIR] = books[PAIR]  # type: ignore[index]
    assert connector.get_order_book(PAIR) is connector.order_book_tracker.order_books[PAIR]
    await server.push_depth_diff("BTCUSDT", bids=[], asks=[["100.25", "1"]])
    await until(lambda: books[PAIR].get_price(True) == Decimal("100.25"), "diff seen through the old view")
    assert connector.get_price(PAIR, True) == Decimal("100.25")


def test_trading_without_keys_is_a_clear_error_at_construction() -> None:
    with pytest.raises(ValueError, match="fake_exchange: trading_required=True needs api_key and api_secret"):
        FakeExchange(FakeSettings(trading_pairs=[PAIR], rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9"))


async def test_without_trading_only_market_data_is_required(server: FakeExchangeServer) -> None:
    conn = make_connector(server, trading_required=False, api_key="", api_secret="")
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "market-data connector ready")
        assert conn.user_stream_tracker is None
        assert not [r for r in server.requests if r[1] == "/api/account"]
    finally:
        await conn.stop_network()


# ---------------------------------------------------------------------------------------------------
# placement
# ---------------------------------------------------------------------------------------------------
async def test_buy_quantizes_tracks_and_places(
    connector: FakeExchange, server: FakeExchangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    events = Recorder(connector)
    with caplog.at_level(logging.INFO):
        order_id = connector.buy(PAIR, Decimal("0.12345"), OrderType.LIMIT, Decimal("100.019"))
        assert order_id.startswith("fx-B") and len(order_id) <= 32
        created = await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert created[0].amount == Decimal("0.123") and created[0].price == Decimal("100.01")
    assert placed(server)[-1]["quantity"] == "0.123" and placed(server)[-1]["price"] == "100.01"
    assert "floored to 0.123" in caplog.text and "floored to 100.01" in caplog.text
    order = connector.in_flight_orders[order_id]
    assert order.current_state is OrderState.OPEN
    assert order.exchange_order_id == str(server.orders[order_id].order_id)


@pytest.mark.parametrize(
    ("pair", "amount", "order_type", "price", "reason"),
    [
        (PAIR, "0.0004", OrderType.LIMIT, "100", "below the minimum order size"),
        (PAIR, "0.05", OrderType.LIMIT, "100", "below the minimum notional 10"),
        (PAIR, "0.05", OrderType.MARKET, "NaN", "below the minimum notional 10"),
        ("ETH-USDT", "1", OrderType.MARKET, "NaN", "does not accept market orders"),
        (PAIR, "1", OrderType.LIMIT, "NaN", "needs a positive price"),
        ("DOGE-USDT", "1", OrderType.LIMIT, "1", "no trading rule for DOGE-USDT"),
    ],
)
async def test_validation_failures_send_nothing(
    connector: FakeExchange, server: FakeExchangeServer,
    pair: str, amount: str, order_type: OrderType, price: str, reason: str,
) -> None:
    events = Recorder(connector)
    order_id = connector.sell(pair, Decimal(amount), order_type, Decimal(price))
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert reason in failure.error_message
    assert failure.error_type == "OrderValidationError"
    assert placed(server) == []
    assert order_id not in connector.in_flight_orders


def test_client_order_ids_are_unique_prefixed_and_bounded(server: FakeExchangeServer) -> None:
    conn = make_connector(server)
    ids = {conn._new_client_order_id(side) for side in (TradeType.BUY, TradeType.SELL) for _ in range(5000)}
    assert len(ids) == 10_000
    assert all(i.startswith(("fx-B", "fx-S")) for i in ids)
    assert {len(i) for i in ids} == {FakeExchange.CLIENT_ORDER_ID_MAX_LENGTH}


def test_buy_without_a_running_loop_raises_and_tracks_nothing() -> None:
    conn = FakeExchange(FakeSettings(
        trading_pairs=[PAIR], api_key=API_KEY, api_secret=API_SECRET,
        rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9",
    ))
    with pytest.raises(RuntimeError, match="event loop"):
        conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    assert conn.in_flight_orders == {} and conn._placing == set()


async def test_bad_arguments_raise_before_any_id(connector: FakeExchange) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        connector.buy(PAIR, 0.1, OrderType.LIMIT, Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        connector.buy(PAIR, Decimal(-1), OrderType.LIMIT, Decimal(1))
    with pytest.raises(ValueError, match="price"):
        connector.sell(PAIR, Decimal(1), OrderType.LIMIT, Decimal(-5))
    with pytest.raises(ValueError, match="BASE-QUOTE"):
        connector.buy("BTCUSDT", Decimal(1), OrderType.LIMIT, Decimal(1))
    assert not any("place-" in name for name in connector.background_task_names)


async def test_order_placed_while_stopping_or_stopped_is_failed_not_sent(
    server: FakeExchangeServer,
) -> None:
    conn = make_connector(server)
    await conn.start_network()
    await until(lambda: conn.ready, "ready")
    events = Recorder(conn)
    during = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await conn.stop_network()
    after = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    for order_id in (during, after):
        failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
        assert failure.error_type == "OrderNotSent"
        assert "not running" in failure.error_message
        assert order_id not in conn.in_flight_orders
    assert placed(server) == []
    assert not conn._web_assistants_factory.session_open  # no new session opened after the stop


async def test_placement_task_cancelled_before_it_ran_fails_its_order(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await connector._order_tasks.cancel_all()  # what stop_network does, before the task's first step
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == "OrderNotSent"
    assert placed(server) == []
    assert order_id not in connector.in_flight_orders
    assert order_id not in connector._placing  # status polling is not blocked for it


async def test_a_raising_validation_fails_the_order_at_once(
    connector: FakeExchange, server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(order: Any, quantized_amount: Decimal) -> str | None:
        raise RuntimeError("bug in a connector check")

    monkeypatch.setattr(connector, "_validate_order", broken)
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == "OrderValidationError"
    assert "bug in a connector check" in failure.error_message
    assert placed(server) == []


async def test_cancel_issued_right_after_buy_cancels_the_placed_order(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(90))
    connector.cancel(PAIR, order_id)  # before the placement answer (or even the request) exists
    await events.wait_for(MarketEvent.OrderCancelled, order_id)
    assert server.orders[order_id].status == "CANCELED"
    assert events.tags(order_id) == [MarketEvent.BuyOrderCreated, MarketEvent.OrderCancelled]


async def test_exchange_rejection_fails_the_order(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("reject")
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert "insufficient balance" in failure.error_message
    assert failure.error_type == "ExchangeRequestError"
    assert events.tags(order_id) == [MarketEvent.OrderFailure]


async def test_unknown_status_is_resolved_by_polling_not_guessed(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("unknown_accept")  # 503 -1007, but the order exists
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    created = await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert created[0].exchange_order_id == str(server.orders[order_id].order_id)
    assert events.of(MarketEvent.OrderFailure) == []
    assert connector.in_flight_orders[order_id].current_state is OrderState.OPEN


async def test_undecodable_success_answer_is_resolved_by_polling_not_failed(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("garbled_accept")  # 200, order created, body cut short
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    created = await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert created[0].exchange_order_id == str(server.orders[order_id].order_id)
    assert events.of(MarketEvent.OrderFailure) == []
    assert connector.in_flight_orders[order_id].current_state is OrderState.OPEN


async def test_unknown_status_never_created_becomes_lost(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("unknown_drop")  # 503 -1007, and the order does not exist
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == ORDER_NOT_FOUND_ERROR_TYPE
    assert order_id in connector.order_tracker.lost_orders
    status_polls = [p for m, path, p in server.requests if m == "GET" and path == "/api/order"]
    assert len(status_polls) >= 3
    # Lost-order cleanup: still unknown after further checks, it is dropped from tracking.
    await until(lambda: order_id not in connector.order_tracker.lost_orders, "lost order dropped")
    assert connector.order_tracker.fetch_order(order_id) is not None  # still findable as finished
    assert len(events.of(MarketEvent.OrderFailure, order_id)) == 1


async def test_lost_order_found_live_is_cancelled(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("unknown_accept")
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    server.hidden_orders.add(order_id)  # the exchange's status endpoint lags behind its matching engine
    await events.wait_for(MarketEvent.OrderFailure, order_id)
    assert order_id in connector.order_tracker.lost_orders
    server.hidden_orders.clear()
    await events.wait_for(MarketEvent.OrderCancelled, order_id)
    assert server.orders[order_id].status == "CANCELED"
    assert order_id not in connector.order_tracker.lost_orders


async def test_lost_order_resolved_by_the_stream_leaves_no_cleanup_state(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.placement_outcomes.append("unknown_accept")
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    server.hidden_orders.add(order_id)  # status polls keep answering "not found"
    await events.wait_for(MarketEvent.OrderFailure, order_id)
    await until(lambda: order_id in connector._lost_not_found_counts, "lost-order cleanup counting")
    await server.fill(order_id, "0.5", "100")  # the user stream resolves it: FILLED
    await events.wait_for(MarketEvent.OrderFilled, order_id)
    assert order_id not in connector.order_tracker.lost_orders
    connector._poll_now.set()
    await until(lambda: order_id not in connector._lost_not_found_counts, "cleanup state pruned")


# ---------------------------------------------------------------------------------------------------
# fills, cancels
# ---------------------------------------------------------------------------------------------------
async def test_fills_and_balances_from_the_user_stream(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    await server.fill(order_id, "0.2", "100")
    await server.fill(order_id, "0.3", "99.5")
    completed = await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)
    assert completed[0].base_asset_amount == Decimal("0.5")
    assert completed[0].quote_asset_amount == Decimal("49.850")
    fills = events.of(MarketEvent.OrderFilled, order_id)
    assert [f.amount for f in fills] == [Decimal("0.2"), Decimal("0.3")]
    assert events.tags(order_id) == [
        MarketEvent.BuyOrderCreated, MarketEvent.OrderFilled, MarketEvent.OrderFilled,
        MarketEvent.BuyOrderCompleted,
    ]
    await server.push_balance("BTC", "1.5", "0")
    await events.wait_for(MarketEvent.BalanceUpdate)
    assert connector.get_balance("BTC") == Decimal("1.5")


async def test_cancel_and_cancel_all(connector: FakeExchange, server: FakeExchangeServer) -> None:
    events = Recorder(connector)
    first = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(90))
    second = connector.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(110))
    third = connector.sell(PAIR, Decimal("0.2"), OrderType.LIMIT, Decimal(120))
    await events.wait_for(MarketEvent.BuyOrderCreated, first)
    await events.wait_for(MarketEvent.SellOrderCreated, second)
    await events.wait_for(MarketEvent.SellOrderCreated, third)
    assert connector.cancel(PAIR, first) == first
    await events.wait_for(MarketEvent.OrderCancelled, first)
    assert server.orders[first].status == "CANCELED"

    server.cancel_outcomes.extend(["accept", "fail"])
    results = await connector.cancel_all(timeout_seconds=5)
    by_id = {r.order_id: r.success for r in results}
    assert by_id == {second: True, third: False} or by_id == {second: False, third: True}
    assert len(events.of(MarketEvent.OrderCancelled)) == 2


# ---------------------------------------------------------------------------------------------------
# polling, reconnect, reconcile
# ---------------------------------------------------------------------------------------------------
async def test_reconnect_reconciles_what_the_stream_missed(
    server: FakeExchangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Polling off (60 s, also while the stream is down): only the reconcile the reconnection
    # triggers can reveal what the stream missed, and it logs "reconnected" before it polls. (With
    # fast polling during the outage, a poll could report the fill before the client even finished
    # reconnecting, and the log assertion then raced the client's reconnect step.)
    async with running(server, short_poll_interval=60.0) as conn:
        events, order_id = await open_buy(conn)
        # While the stream is down, the order fills and the balance changes: no event reaches us.
        server.user_stream_muted = True
        await server.fill(order_id, "0.5", "100")
        server.balances["BTC"] = (Decimal("1.5"), Decimal("1.5"))
        with caplog.at_level(logging.INFO):
            await server.drop_user_streams()
            server.user_stream_muted = False
            completed = await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)
        assert "reconnected" in caplog.text
        assert conn.user_stream_tracker is not None
        assert conn.user_stream_tracker.data_source.connection_count == 2
        assert completed[0].base_asset_amount == Decimal("0.5")
        assert len(events.of(MarketEvent.OrderFilled, order_id)) == 1
        await until(lambda: conn.get_balance("BTC") == Decimal("1.5"), "balance reconciled")


async def test_fill_between_a_polls_requests_is_never_applied_without_its_trades(
    server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(server, short_poll_interval=60.0) as conn:
        events, order_id = await open_buy(conn)
        server.user_stream_muted = True  # only REST can see the fill
        tracker = conn.order_tracker
        apply_update = tracker.process_order_update
        seen: list[tuple[OrderState, Decimal]] = []

        def recording_update(update: Any) -> bool:
            changed = apply_update(update)
            order = tracker.fetch_order(order_id)
            assert order is not None
            seen.append((order.current_state, order.executed_amount_base))
            return changed

        async def fill_now(client_order_id: str) -> None:
            if client_order_id == order_id and server.orders[order_id].status == "NEW":
                await server.fill(order_id, "0.5", "100")  # after any fills request of this poll

        monkeypatch.setattr(tracker, "process_order_update", recording_update)
        server.before_status = fill_now
        conn._poll_now.set()
        await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)
        assert (OrderState.FILLED, Decimal("0.5")) in seen
        assert [executed for state, executed in seen if state is OrderState.FILLED] == [Decimal("0.5")]


async def test_status_waits_for_a_poll_whose_fills_request_failed(server: FakeExchangeServer) -> None:
    async with running(server, short_poll_interval=60.0) as conn:
        events, order_id = await open_buy(conn)
        server.user_stream_muted = True
        await server.fill(order_id, "0.5", "100")
        server.trades_failures = 1
        await conn._update_orders_and_fills()
        order = conn.order_tracker.fetch_order(order_id)
        assert order is not None
        # The FILLED status is not applied without its trades (it would wait the grace period and
        # could complete with nothing executed); the next poll brings both.
        assert order.current_state is OrderState.OPEN and order.executed_amount_base == 0
        await conn._update_orders_and_fills()
        completed = await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)
        assert completed[0].base_asset_amount == Decimal("0.5")


@asynccontextmanager
async def running(server: FakeExchangeServer, **overrides: Any) -> AsyncIterator[FakeExchange]:
    """A started, ready connector with these settings; stopped on exit."""
    conn = make_connector(server, **overrides)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        yield conn
    finally:
        await conn.stop_network()


async def open_buy(conn: FakeExchange) -> tuple[Recorder, str]:
    """Place a resting buy and wait until it is open; returns the recorder and the order id."""
    events = Recorder(conn)
    order_id = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    return events, order_id


async def test_silent_stream_means_fast_polling(server: FakeExchangeServer) -> None:
    async with running(server, long_poll_interval=60.0, user_stream_silence_threshold=0.05) as conn:
        events, order_id = await open_buy(conn)
        server.user_stream_muted = True  # connected but silent: only polling can see the fill
        await server.fill(order_id, "0.5", "100")
        await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)
        assert conn._poll_interval() == 0.05


async def test_stream_down_means_fast_polling_at_once(
    server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stream stays down far longer than the test; its last message is recent (not "silent").
    monkeypatch.setattr(FakeUserStreamDataSource, "RECONNECT_MIN_DELAY", 600.0)
    monkeypatch.setattr(FakeUserStreamDataSource, "RECONNECT_MAX_DELAY", 600.0)
    async with running(server, long_poll_interval=600.0, user_stream_silence_threshold=600.0) as conn:
        events, order_id = await open_buy(conn)
        assert conn._poll_interval() == 600.0  # the stream flows
        await server.drop_user_streams()
        await until(lambda: not conn.status_dict["user_stream_initialized"], "stream down")
        assert conn._poll_interval() == 0.05
        await server.fill(order_id, "0.5", "100")  # only REST polling can see it now
        await events.wait_for(MarketEvent.BuyOrderCompleted, order_id)


async def test_flowing_stream_means_slow_polling(connector: FakeExchange, server: FakeExchangeServer) -> None:
    await open_buy(connector)  # the stream delivered a message
    assert connector._poll_interval() == 60.0


async def test_timestamp_rejection_resyncs_and_retries_once(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    server.server_time_offset_ms = 30_000  # our signed timestamps are now outside the window
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert connector.time_synchronizer.time_offset == pytest.approx(30.0, abs=1.0)
    assert len(placed(server)) == 1


async def test_tracking_states_survive_a_restart(server: FakeExchangeServer) -> None:
    first = make_connector(server)
    await first.start_network()
    await until(lambda: first.ready, "ready")
    events = Recorder(first)
    order_id = first.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    saved = first.tracking_states
    await first.stop_network()

    await server.fill(order_id, "0.5", "100")  # happens while nobody is connected
    second = make_connector(server)
    assert second.restore_tracking_states(saved) == 1
    events2 = Recorder(second)
    await second.start_network()
    try:
        completed = await events2.wait_for(MarketEvent.BuyOrderCompleted, order_id)
        assert completed[0].base_asset_amount == Decimal("0.5")
    finally:
        await second.stop_network()


async def test_bad_user_event_is_counted_and_skipped(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    await server._push_user({"e": "mystery"})
    await server.push_balance("ETH", "2", "0")
    await events.wait_for(MarketEvent.BalanceUpdate)
    assert connector.user_stream_event_error_count == 1
    assert connector.get_balance("ETH") == Decimal(2)


async def test_budget_checker_sizes_candidates_on_the_live_connector(connector: FakeExchange) -> None:
    candidate = OrderCandidate(PAIR, True, OrderType.LIMIT, TradeType.BUY, Decimal(200), Decimal(100))
    result = connector.budget_checker.adjust_candidate(candidate, all_or_none=False)
    # 10,000 USDT available pays 10000 / (100 * 1.001) = 99.9000999 BTC, floored to the 0.001 step.
    assert result.resized and result.amount == Decimal("99.900")
    assert result.collateral_dict["USDT"] <= connector.get_available_balance("USDT")
    assert connector.budget_checker.adjust_candidate(candidate).is_zero_order  # all or none


# ---------------------------------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------------------------------
async def test_secrets_never_reach_logs_or_reprs(
    server: FakeExchangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conn = make_connector(server)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        events = Recorder(conn)
        server.placement_outcomes.extend(["reject", "unknown_drop"])
        failed = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        await events.wait_for(MarketEvent.OrderFailure, failed)
        conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        server.server_time_offset_ms = 30_000
        ok = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        await events.wait_for(MarketEvent.BuyOrderCreated, ok)
        await server.drop_user_streams()
        await server.wait_for_user_connections(2)
        texts = [
            caplog.text, repr(conn), repr(conn.settings), str(conn.settings.model_dump()),
            repr(conn._auth), str(events.events),
        ]
    finally:
        await conn.stop_network()
    assert "rejected by fake_exchange" in caplog.text  # the scan saw real error logs
    for text in texts:
        assert API_SECRET not in text
        assert API_KEY not in text


async def test_not_ready_while_the_user_stream_is_down(
    server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reconnect delay long enough to observe the gap (the loop reads it when it starts).
    monkeypatch.setattr(FakeUserStreamDataSource, "RECONNECT_MIN_DELAY", 0.3)
    monkeypatch.setattr(FakeUserStreamDataSource, "RECONNECT_MAX_DELAY", 0.3)
    conn = make_connector(server)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        await server.drop_user_streams()
        await until(lambda: not conn.ready, "not ready after the drop")
        assert conn.status_dict["user_stream_initialized"] is False
        await until(lambda: conn.ready, "ready again after reconnecting")
    finally:
        await conn.stop_network()


# ---------------------------------------------------------------------------------------------------
# order options (issue 17 item 7): explicit, checked before anything is tracked or sent
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"time_in_force": TimeInForce.IOC}, UnsupportedOrderOptionError, "time_in_force=IOC"),
        ({"time_in_force": "FOK"}, UnsupportedOrderOptionError, "supported: GTC"),
        ({"reduce_only": True}, UnsupportedOrderOptionError, "reduce_only"),
        ({"position_action": PositionAction.CLOSE}, UnsupportedOrderOptionError, "no positions"),
        ({"time_in_force": "DAY"}, ValueError, "one of GTC, IOC, FOK"),
        ({"time_in_force": 1}, TypeError, "TimeInForce"),
        ({"reduce_only": 1}, TypeError, "bool"),
        ({"client_order_id": "has space"}, ValueError, "does not accept"),
        ({"client_order_id": "x" * 33}, ValueError, "1 to 32 characters"),
        ({"client_order_id": ""}, ValueError, "1 to 32 characters"),
        ({"client_order_id": 7}, TypeError, "str"),
    ],
)
async def test_an_order_option_the_connector_does_not_support_is_refused_before_sending(
    connector: FakeExchange, server: FakeExchangeServer, options: dict[str, Any], error: type[Exception],
    match: str,
) -> None:
    """The issue's case: ``reduce_only=True, time_in_force="IOC"`` was silently dropped and the order
    rested OPEN. Now the call raises and nothing is tracked or sent."""
    with pytest.raises(error, match=match):
        connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), **options)
    assert connector.in_flight_orders == {} and connector._placing == set()
    assert not any("place-" in name for name in connector.background_task_names)
    assert placed(server) == []


async def test_a_misspelt_order_option_is_a_type_error(connector: FakeExchange) -> None:
    with pytest.raises(TypeError, match="time_in_forc"):
        connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), time_in_forc="IOC")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        connector.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), TimeInForce.GTC)  # type: ignore[misc]
    assert connector.in_flight_orders == {}


@pytest.mark.parametrize(
    ("order_type", "price", "time_in_force", "match"),
    [
        (OrderType.MARKET, "NaN", TimeInForce.GTC, "MARKET"),
        (OrderType.LIMIT_MAKER, "100", TimeInForce.IOC, "post-only"),
    ],
)
async def test_a_time_in_force_that_contradicts_the_order_type_is_refused(
    connector: FakeExchange, order_type: OrderType, price: str, time_in_force: TimeInForce, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        connector.buy(PAIR, Decimal("0.5"), order_type, Decimal(price), time_in_force=time_in_force)
    assert connector.in_flight_orders == {}


async def test_supported_options_are_accepted_and_a_callers_client_order_id_is_used(
    connector: FakeExchange, server: FakeExchangeServer
) -> None:
    events = Recorder(connector)
    order_id = connector.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), time_in_force="GTC",
                             client_order_id="my-order_1", position_action=PositionAction.NIL)
    assert order_id == "my-order_1"
    await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert placed(server)[-1]["newClientOrderId"] == "my-order_1"
    with pytest.raises(ValueError, match="already used"):
        connector.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(200), client_order_id="my-order_1")
    assert len(placed(server)) == 1


# ---------------------------------------------------------------------------------------------------
# throttler priority (issue 17 item 10): placement and cancellation go before queued polling
# ---------------------------------------------------------------------------------------------------
class _TightBudget(FakeExchange):
    """Four requests per second for everything together: a handful of polls saturate it."""

    def _rate_limits(self) -> Sequence[RateLimit]:
        return [
            RateLimit("ALL", limit=4, time_interval=1.0),
            *(RateLimit(path, 1000, 1, linked_limits=[LinkedLimitWeightPair("ALL")]) for path in PATHS),
        ]


async def test_placement_and_cancellation_overtake_queued_background_requests(
    server: FakeExchangeServer,
) -> None:
    conn = make_connector(server, _TightBudget, short_poll_interval=60.0)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "connector ready")
        events = Recorder(conn)
        polls = [
            asyncio.create_task(conn._api_get(conn.rest_url("/api/account"), is_auth_required=True))
            for _ in range(10)
        ]
        await until(lambda: conn.throttler.is_saturated("ALL"), "the polls saturate the budget")
        order_id = conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
        await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
        conn.cancel(PAIR, order_id)
        await events.wait_for(MarketEvent.OrderCancelled, order_id)
        await asyncio.gather(*polls)
    finally:
        await conn.stop_network()
    sequence = [(method, path) for method, path, _ in server.requests]
    post = sequence.index(("POST", "/api/order"))
    delete = sequence.index(("DELETE", "/api/order"))
    polls_after = [i for i, call in enumerate(sequence) if call == ("GET", "/api/account") and i > delete]
    # At most one window's worth (4) of the 10 polls went out before the order; the rest waited for it.
    assert post < delete and len(polls_after) >= 6
