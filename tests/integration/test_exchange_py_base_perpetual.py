"""The PerpetualDerivativePyBase template end to end, over the in-process fake exchange."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from connectorkit.connector.order_options import UnsupportedOrderOptionError
from connectorkit.core.budget_checker import PerpetualBudgetChecker
from connectorkit.core.enums import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from connectorkit.core.events import MarketEvent
from connectorkit.core.funding_info import FundingInfo
from connectorkit.core.position import Position
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee
from support.fake_exchange import API_KEY, API_SECRET, FakeSettings
from support.fake_exchange_server import FakeExchangeServer, SymbolSpec
from support.fake_perpetual import FakePerpetual
from support.recorder import Recorder, until

PAIR = "BTC-USDT"


@pytest.fixture
async def server() -> AsyncIterator[FakeExchangeServer]:
    srv = FakeExchangeServer(API_KEY, API_SECRET, [SymbolSpec("BTCUSDT", "BTC", "USDT")])
    srv.balances = {"USDT": (Decimal(10_000), Decimal(10_000))}
    await srv.start()
    yield srv
    await srv.stop()


def make_perpetual(server: FakeExchangeServer, **overrides: Any) -> FakePerpetual:
    return FakePerpetual(FakeSettings(**{
        "trading_pairs": [PAIR], "api_key": API_KEY, "api_secret": API_SECRET, "rest_url": server.url,
        "ws_url": server.url.replace("http://", "ws://"), "short_poll_interval": 0.05,
        "long_poll_interval": 60.0, "funding_payment_poll_interval": 0.05, **overrides,
    }))


@pytest.fixture
async def perp(server: FakeExchangeServer) -> AsyncIterator[FakePerpetual]:
    conn = make_perpetual(server)
    await conn.start_network()
    await until(lambda: conn.ready, "perpetual ready")
    yield conn
    await conn.stop_network()


async def test_ready_requires_funding_info(server: FakeExchangeServer) -> None:
    conn = make_perpetual(server)
    assert conn.status_dict["funding_info"] is False
    events = Recorder(conn)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        info = conn.get_funding_info(PAIR)
        assert (info.mark_price, info.index_price, info.rate) == (Decimal("100.5"), Decimal("100.4"),
                                                                 Decimal("0.0001"))
        assert info.next_funding_utc_timestamp == 1_700_000_000
        assert events.of(MarketEvent.FundingInfo)[0].mark_price == Decimal("100.5")
        assert "fake_perpetual:funding-info" in conn.background_task_names
        assert "fake_perpetual:funding-payments" in conn.background_task_names
    finally:
        await conn.stop_network()
    assert conn.background_task_names == []


async def test_funding_info_retries_only_the_pairs_still_missing(
    server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = make_perpetual(server, trading_pairs=[PAIR, "ETH-USDT"])
    calls: list[str] = []

    async def get_funding_info(pair: str) -> FundingInfo:
        calls.append(pair)
        if pair == "ETH-USDT" and calls.count(pair) == 1:
            raise RuntimeError("503 Service Unavailable")
        return FundingInfo(pair, Decimal(1), Decimal(1), 0, Decimal(0))

    monkeypatch.setattr(conn._order_book_data_source, "get_funding_info", get_funding_info)
    await conn._initialize_funding_info()
    assert calls == [PAIR, "ETH-USDT", "ETH-USDT"]
    assert conn.status_dict["funding_info"]


async def test_funding_updates_from_the_stream(perp: FakePerpetual, server: FakeExchangeServer) -> None:
    events = Recorder(perp)
    await server.push_mark_price("BTCUSDT", "101.25", "0.0003")
    await events.wait_for(MarketEvent.FundingInfo)
    info = perp.get_funding_info(PAIR)
    assert info.mark_price == Decimal("101.25") and info.rate == Decimal("0.0003")
    assert info.index_price == Decimal("100.4")  # not carried by the update: kept


async def test_orders_require_a_position_action(perp: FakePerpetual, server: FakeExchangeServer) -> None:
    with pytest.raises(ValueError, match="position_action"):
        perp.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    with pytest.raises(ValueError, match="position_action"):
        perp.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), position_action=PositionAction.NIL)
    assert await perp.set_leverage_async(PAIR, 20)
    events = Recorder(perp)
    order_id = perp.buy(
        PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), position_action=PositionAction.OPEN
    )
    created = (await events.wait_for(MarketEvent.BuyOrderCreated, order_id))[0]
    assert created.position is PositionAction.OPEN and created.leverage == 20
    fee = perp.get_fee("BTC", "USDT", OrderType.LIMIT, TradeType.SELL, Decimal(1), Decimal(100),
                       position_action=PositionAction.CLOSE)
    assert isinstance(fee, DeductedFromReturnsTradeFee)
    fee = perp.get_fee("BTC", "USDT", OrderType.LIMIT, TradeType.SELL, Decimal(1), Decimal(100),
                       position_action=PositionAction.OPEN)
    assert isinstance(fee, AddedToCostTradeFee)


async def test_leverage(perp: FakePerpetual, server: FakeExchangeServer) -> None:
    assert await perp.set_leverage_async(PAIR, 20)
    assert perp.get_leverage(PAIR) == 20 and server.leverage["BTCUSDT"] == 20
    assert not await perp.set_leverage_async(PAIR, 200)  # the exchange refuses
    assert perp.get_leverage(PAIR) == 20
    with pytest.raises(ValueError):
        await perp.set_leverage_async(PAIR, 0)
    with pytest.raises(ValueError):
        perp.set_leverage(PAIR, 2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        perp.set_position_mode("HEDGE")  # type: ignore[arg-type]


async def test_position_mode_events(perp: FakePerpetual, server: FakeExchangeServer) -> None:
    events = Recorder(perp)
    assert await perp.set_position_mode_async(PositionMode.HEDGE)
    assert perp.position_mode is PositionMode.HEDGE and server.dual_side
    ok = events.of(MarketEvent.PositionModeChangeSucceeded)
    assert [(e.trading_pair, e.position_mode) for e in ok] == [(PAIR, PositionMode.HEDGE)]

    await server.push_position("BTCUSDT", "LONG", "0.5", "100")
    await events.wait_for(MarketEvent.PositionUpdate)
    assert not await perp.set_position_mode_async(PositionMode.ONEWAY)
    failed = events.of(MarketEvent.PositionModeChangeFailed)
    assert "exists position" in failed[0].message
    assert perp.position_mode is PositionMode.HEDGE


async def test_positions_from_stream_and_reconcile_after_reconnect(
    perp: FakePerpetual, server: FakeExchangeServer
) -> None:
    events = Recorder(perp)
    await server.push_position("BTCUSDT", "BOTH", "0.5", "100")
    await events.wait_for(MarketEvent.PositionUpdate)
    position = perp.get_position(PAIR)
    assert position is not None and position.amount == Decimal("0.5")
    assert list(perp.account_positions) == [PAIR]

    server.user_stream_muted = True  # the position is closed while we are disconnected
    await server.push_position("BTCUSDT", "BOTH", "0", "0")
    await server.drop_user_streams()
    server.user_stream_muted = False
    await server.wait_for_user_connections(2)
    updates = await events.wait_for(MarketEvent.PositionUpdate, count=2)
    assert updates[-1].amount == 0
    assert perp.get_position(PAIR) is None


async def test_funding_payments_after_start_are_reported_once(server: FakeExchangeServer) -> None:
    started = time.time()
    server.income["BTCUSDT"] = [
        {"time": int((started - 3600) * 1000), "income": "-1.5", "rate": "0.0001", "tranId": 1}
    ]
    conn = make_perpetual(server)
    events = Recorder(conn)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        payment = {"time": int((time.time() + 1) * 1000), "income": "0.75", "rate": "-0.0002", "tranId": 2}
        server.income["BTCUSDT"].append(payment)
        payments = await events.wait_for(MarketEvent.FundingPaymentCompleted)
        assert [(p.amount, p.funding_rate) for p in payments] == [(Decimal("0.75"), Decimal("-0.0002"))]
        await until(lambda: len([r for r in server.requests if r[1] == "/api/income"]) >= 3, "more polls")
        assert len(events.of(MarketEvent.FundingPaymentCompleted)) == 1  # the same payment is not repeated
    finally:
        await conn.stop_network()


async def test_every_funding_payment_between_two_polls_is_reported_once_in_time_order(
    server: FakeExchangeServer,
) -> None:
    conn = make_perpetual(server, funding_payment_poll_interval=60.0)
    events = Recorder(conn)
    await conn.start_network()
    try:
        await until(lambda: conn.ready, "ready")
        await until(lambda: any(r[1] == "/api/income" for r in server.requests), "first funding poll")
        base = int(time.time() * 1000) + 1000
        # Three payments land before the next poll (two share a millisecond: hedge mode's long and
        # short legs); the history is returned newest first to show the order does not matter.
        server.income["BTCUSDT"] = [
            {"time": base + 2000, "income": "-0.3", "rate": "0.0003", "tranId": 13},
            {"time": base, "income": "0.2", "rate": "0.0001", "tranId": 12},
            {"time": base, "income": "-0.1", "rate": "0.0001", "tranId": 11},
        ]
        await conn._check_funding_payment(PAIR)
        await conn._check_funding_payment(PAIR)  # the same rows again: nothing new
        payments = events.of(MarketEvent.FundingPaymentCompleted)
        assert [(p.timestamp, p.amount, p.funding_rate) for p in payments] == [
            (base / 1000, Decimal("-0.1"), Decimal("0.0001")),
            (base / 1000, Decimal("0.2"), Decimal("0.0001")),
            ((base + 2000) / 1000, Decimal("-0.3"), Decimal("0.0003")),
        ]
        # A late payment sharing the newest timestamp is still reported (the query is inclusive).
        late = {"time": base + 2000, "income": "0.4", "rate": "0.0003", "tranId": 14}
        server.income["BTCUSDT"].append(late)
        await conn._check_funding_payment(PAIR)
        assert [p.amount for p in events.of(MarketEvent.FundingPaymentCompleted)][3:] == [Decimal("0.4")]
    finally:
        await conn.stop_network()


async def test_budget_checker_and_collateral(perp: FakePerpetual) -> None:
    assert isinstance(perp.budget_checker, PerpetualBudgetChecker)
    assert perp.get_buy_collateral_token(PAIR) == "USDT"
    assert perp.get_sell_collateral_token(PAIR) == "USDT"
    assert perp.get_position(PAIR, PositionSide.BOTH) is None


async def test_background_setters_and_unsupported_mode(
    perp: FakePerpetual, server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = Recorder(perp)
    perp.set_leverage(PAIR, 7)
    perp.set_position_mode(PositionMode.HEDGE)
    await events.wait_for(MarketEvent.PositionModeChangeSucceeded)
    await until(lambda: perp.get_leverage(PAIR) == 7, "leverage set in the background")
    monkeypatch.setattr(FakePerpetual, "SUPPORTED_POSITION_MODES", (PositionMode.HEDGE,))
    perp.set_position_mode(PositionMode.ONEWAY)
    failed = await events.wait_for(MarketEvent.PositionModeChangeFailed)
    assert "not supported" in failed[0].message
    sent = [params for _, path, params in server.requests if path == "/api/positionSide"]
    assert [p["dualSidePosition"] for p in sent] == ["true"]  # the unsupported mode was never sent


async def test_rest_positions_never_undo_a_newer_stream_update(
    server: FakeExchangeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = make_perpetual(server)
    newer = Position(PAIR, PositionSide.BOTH, Decimal(0), Decimal(100), Decimal("0.7"), Decimal(5))
    older = Position(PAIR, PositionSide.BOTH, Decimal(0), Decimal(100), Decimal("0.2"), Decimal(5))

    calls = []

    async def fetch_positions() -> list[Position]:
        calls.append(1)
        if len(calls) == 1:
            conn._set_position(newer)  # the user stream reports while the REST request is in flight
        return [older]  # ...and the REST answer was computed before that

    monkeypatch.setattr(conn, "_fetch_positions", fetch_positions)
    await conn._update_positions()
    position = conn.get_position(PAIR)
    assert position is not None and position.amount == Decimal("0.7")
    await conn._update_positions()  # a later snapshot (no race) applies
    position = conn.get_position(PAIR)
    assert position is not None and position.amount == Decimal("0.2")


async def test_reduce_only_implies_close_contradicts_open_and_needs_support(
    perp: FakePerpetual, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 7: reduce_only is refused unless the connector sends it; when it does, it makes
    the order a CLOSE, and reduce_only with OPEN is a contradiction, refused before sending."""
    with pytest.raises(UnsupportedOrderOptionError, match="reduce_only"):
        perp.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), reduce_only=True)
    monkeypatch.setattr(FakePerpetual, "SUPPORTS_REDUCE_ONLY", True)
    with pytest.raises(ValueError, match="contradicts position_action=OPEN"):
        perp.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), reduce_only=True,
                  position_action=PositionAction.OPEN)
    assert perp.in_flight_orders == {}
    events = Recorder(perp)
    order_id = perp.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100), reduce_only=True)
    created = (await events.wait_for(MarketEvent.SellOrderCreated, order_id))[0]
    assert created.position is PositionAction.CLOSE
