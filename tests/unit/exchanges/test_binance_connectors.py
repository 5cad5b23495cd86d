"""Connector-level behaviour of BinanceExchange / BinancePerpetualDerivative that needs no server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from aiohttp import web
from binance_fixtures import fixture_json, rest_answer
from pydantic import ValidationError

from connectorkit.connector.settings import create_connector, registered_connectors
from connectorkit.core.enums import OrderType, PositionAction, PositionMode, TradeType
from connectorkit.core.in_flight_order import InFlightOrder
from connectorkit.core.order_candidate import OrderCandidate, PerpetualOrderCandidate
from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.binance import BinanceExchange
from connectorkit.exchanges.binance.binance_auth import BinanceAuth
from connectorkit.exchanges.binance.binance_trading_wire import RateLimitInfo
from connectorkit.exchanges.binance_perpetual import BinancePerpetualDerivative
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as perp_constants
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as perp_wire
from connectorkit.net.errors import ExchangeRequestError
from support.waiting import wait_until


def _error(code: int, message: str, status: int = 400) -> ExchangeRequestError:
    return ExchangeRequestError(status=status, method="GET", url="http://x/api/v3/order", code=code,
                                message=message)


def test_both_connectors_are_registered_with_endpoint_overrides() -> None:
    assert {"binance", "binance_perpetual"} <= set(registered_connectors())
    spot = create_connector("binance", trading_pairs=["BTC-USDT"], trading_required=False,
                            rest_url="http://127.0.0.1:8080", ws_url="ws://127.0.0.1:8080")
    assert isinstance(spot, BinanceExchange) and spot.name == "binance"
    assert spot.user_stream_tracker is None  # public books only, no keys needed
    assert spot.trade_fee_schema.taker_percent_fee_decimal == Decimal("0.001")
    perp = create_connector("binance_perpetual", trading_pairs=["BTC-USDT"], api_key="k" * 64,
                            api_secret="s" * 64, rest_url="http://127.0.0.1:8080", ws_url="ws://127.0.0.1:9")
    assert isinstance(perp, BinancePerpetualDerivative) and perp.name == "binance_perpetual"
    assert perp.trade_fee_schema.maker_percent_fee_decimal == Decimal("0.0002")
    with pytest.raises(ValueError, match="needs api_key and api_secret"):
        create_connector("binance_perpetual", trading_pairs=["BTC-USDT"])  # trading, but no keys
    with pytest.raises(ValidationError):
        create_connector("binance", recv_window_ms=70_000)
    with pytest.raises(ValidationError):
        create_connector("binance", rest_urls="typo")


@pytest.mark.parametrize("connector_name", ["binance", "binance_perpetual"])
def test_a_pairs_own_fees_reach_get_fee_and_the_budget_checker(connector_name: str) -> None:
    connector = create_connector(
        connector_name, trading_pairs=["BTC-USDT", "ETH-USDT"], trading_required=False
    )
    connector.set_trading_pair_fee_schema("ETH-USDT", TradeFeeSchema())  # a zero-fee pair
    action = PositionAction.OPEN if connector_name == "binance_perpetual" else PositionAction.NIL
    assert connector.get_fee("ETH", "USDT", OrderType.LIMIT, TradeType.BUY, Decimal(1), Decimal(10),
                             position_action=action).percent == 0
    assert connector.get_fee("BTC", "USDT", OrderType.LIMIT, TradeType.BUY, Decimal(1), Decimal(10),
                             position_action=action).percent > 0
    candidate_type = PerpetualOrderCandidate if connector_name == "binance_perpetual" else OrderCandidate
    for pair, fee_expected in (("ETH-USDT", False), ("BTC-USDT", True)):
        candidate = candidate_type(pair, False, OrderType.LIMIT, TradeType.BUY, Decimal(1), Decimal(10))
        populated = connector.budget_checker.populate_collateral_entries(candidate)
        fee = populated.percent_fee_value
        assert (fee is not None and fee.amount > 0) is fee_expected


def test_keys_make_an_auth_that_hides_them() -> None:
    spot = create_connector("binance", trading_pairs=["BTC-USDT"], api_key="KEY-1234567",
                            api_secret="SEC-1234567")
    auth = spot._auth
    assert isinstance(auth, BinanceAuth)
    assert "KEY-1234567" not in repr(auth) and "SEC-1234567" not in repr(spot.settings)


@pytest.mark.parametrize("connector_name", ["binance", "binance_perpetual"])
def test_error_classification_uses_the_documented_codes(connector_name: str) -> None:
    connector = create_connector(connector_name, trading_pairs=["BTC-USDT"], trading_required=False)
    assert connector._is_order_not_found_error(_error(-2013, "Order does not exist."))
    assert connector._is_order_not_found_error(_error(-2011, "Unknown order sent."))
    restricted = _error(-2011, "Order was not canceled due to cancel restrictions.")
    assert not connector._is_order_not_found_error(restricted)
    assert not connector._is_order_not_found_error(ValueError("-2013"))
    assert connector._is_time_synchronizer_related_error(
        _error(-1021, "Timestamp for this request is outside of the recvWindow."))
    assert connector._is_request_exception_unknown_status(
        _error(-1007, "Timeout waiting for response from backend server. Send status unknown", 503))
    assert not connector._is_request_exception_unknown_status(_error(-2010, "insufficient balance"))
    # 503 "unknown status" is unknown whatever the code: the template treats every 5xx so.
    assert connector._is_unknown_status(_error(-1007, "unknown", 503))


def test_perpetual_position_side_and_reduce_only_rules() -> None:
    perp = create_connector("binance_perpetual", trading_pairs=["BTC-USDT"], trading_required=False)

    def order(trade_type: TradeType, action: PositionAction) -> InFlightOrder:
        return InFlightOrder("ckB1" + "0" * 16, "BTC-USDT", OrderType.LIMIT, trade_type, Decimal("1"), 0.0,
                             price=Decimal("1"), position=action)

    assert perp._position_side(order(TradeType.SELL, PositionAction.CLOSE)) == "BOTH"
    perp.perpetual_trading.set_position_mode(PositionMode.HEDGE)
    assert perp._position_side(order(TradeType.BUY, PositionAction.OPEN)) == "LONG"
    assert perp._position_side(order(TradeType.SELL, PositionAction.CLOSE)) == "LONG"
    assert perp._position_side(order(TradeType.SELL, PositionAction.OPEN)) == "SHORT"
    assert perp._position_side(order(TradeType.BUY, PositionAction.CLOSE)) == "SHORT"


async def test_last_traded_prices_from_the_ticker_endpoint() -> None:
    seen: list[str] = []

    async def ticker(request: web.Request) -> web.Response:
        seen.append(request.query_string)
        # docs: "Market Data endpoints > Symbol price ticker" response example
        return web.json_response({"symbol": "BTCUSDT", "price": "4.00000200"})

    app = web.Application()
    app.router.add_get("/api/v3/ticker/price", ticker)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    spot = create_connector("binance", trading_pairs=["BTC-USDT"], trading_required=False,
                            rest_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    spot._set_trading_pair_symbol_map({"BTCUSDT": "BTC-USDT"})
    try:
        prices = await spot.order_book_tracker.data_source.get_last_traded_prices(["BTC-USDT"])
    finally:
        await spot.stop_network()
        await runner.cleanup()
    assert prices == {"BTC-USDT": Decimal("4.000002")}
    assert seen == ["symbol=BTCUSDT"]


@pytest.mark.parametrize(("amount", "refused"), [("3", "below the market minimum 10"),
                                                 ("12", "not a multiple of the market step 5"),
                                                 ("15", None)])
def test_perpetual_market_orders_follow_market_lot_size(amount: str, refused: str | None) -> None:
    """USDⓈ-M publishes MARKET_LOT_SIZE (minQty, maxQty, stepSize) beside LOT_SIZE ("Exchange
    Information"); a market order must satisfy it before it is sent, as on spot. Limit orders
    only follow LOT_SIZE."""
    info = fixture_json("usdm__market_data__exchange_information__response.json")
    symbol = info["symbols"][0]
    for entry in symbol["filters"]:
        if entry["filterType"] == "MARKET_LOT_SIZE":
            entry.update(minQty="10", stepSize="5")
    perp = create_connector("binance_perpetual", trading_pairs=["BLZ-USDT"], trading_required=False)
    rules = perp._format_trading_rules(rest_answer(json.dumps(info), perp_wire.ExchangeInfo))
    perp._trading_rules.update({rule.trading_pair: rule for rule in rules})

    def order(order_type: OrderType) -> InFlightOrder:
        return InFlightOrder("ckS1" + "0" * 16, "BLZ-USDT", order_type, TradeType.SELL, Decimal(amount), 0.0,
                             price=Decimal("2") if order_type is OrderType.LIMIT else None,
                             position=PositionAction.OPEN)

    reason = perp._validate_order(order(OrderType.MARKET), Decimal(amount))
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason
    assert perp._validate_order(order(OrderType.LIMIT), Decimal(amount)) is None


async def test_perpetual_funding_payments_page_through_the_income_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every FUNDING_FEE row since the last one seen, however many pages ("Get Income History":
    startTime inclusive, oldest first, at most ``limit`` rows per call); rows repeated across a
    page boundary (same millisecond) are kept once by tranId."""
    monkeypatch.setattr(perp_constants, "INCOME_LIMIT_MAX", 3)
    history = [  # fields as in the docs' response example
        {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": income, "asset": "USDT",
         "info": "FUNDING_FEE", "time": time_ms, "tranId": tran_id, "tradeId": ""}
        for time_ms, income, tran_id in [(1000, "-0.1", 1), (2000, "0.2", 2), (3000, "-0.3", 3),
                                         (3000, "0.4", 4), (4000, "-0.5", 5), (5000, "0.6", 6)]
    ]
    queries: list[dict[str, str]] = []

    async def income(request: web.Request) -> web.Response:
        queries.append(dict(request.query))
        start, limit = int(request.query["startTime"]), int(request.query["limit"])
        assert request.query["incomeType"] == "FUNDING_FEE" and request.query["symbol"] == "BTCUSDT"
        return web.json_response([row for row in history if row["time"] >= start][:limit])

    app = web.Application()
    app.router.add_get("/fapi/v1/income", income)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    perp = create_connector("binance_perpetual", trading_pairs=["BTC-USDT"], api_key="k" * 64,
                            api_secret="s" * 64, rest_url=f"http://127.0.0.1:{port}",
                            ws_url=f"ws://127.0.0.1:{port}")
    perp._set_trading_pair_symbol_map({"BTCUSDT": "BTC-USDT"})
    try:
        payments = await perp._fetch_funding_payments("BTC-USDT", 1.0)
    finally:
        await perp.stop_network()
        await runner.cleanup()
    assert sorted((p.payment_id, p.timestamp, p.amount) for p in payments) == [
        ("1", 1.0, Decimal("-0.1")), ("2", 2.0, Decimal("0.2")), ("3", 3.0, Decimal("-0.3")),
        ("4", 3.0, Decimal("0.4")), ("5", 4.0, Decimal("-0.5")), ("6", 5.0, Decimal("0.6")),
    ]
    # Pages of 3: the second starts at the last row's millisecond (3000, which row 4 shares).
    assert [q["startTime"] for q in queries] == ["1000", "3000", "4000"]


async def test_perpetual_account_update_derives_available_from_cw_and_never_above_the_wallet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ACCOUNT_UPDATE ("Event: Balance and Position Update") carries wb, cw and bc but no available
    balance: available moves with cw (or bc for the first update) and never exceeds wb."""
    perp = create_connector("binance_perpetual", trading_pairs=["BTC-USDT"], api_key="k" * 64,
                            api_secret="s" * 64, rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9")
    refreshes: list[None] = []

    async def no_rest_refresh() -> None:
        refreshes.append(None)

    monkeypatch.setattr(perp, "_update_balances", no_rest_refresh)
    perp._set_balance("USDT", Decimal(100_000), Decimal(90_000))  # REST: 10,000 held as margin

    async def push(reason: str, wb: str, cw: str, bc: str) -> tuple[Decimal, Decimal]:
        event = {"e": "ACCOUNT_UPDATE", "E": 1, "T": 1,
                 "a": {"m": reason, "B": [{"a": "USDT", "wb": wb, "cw": cw, "bc": bc}], "P": []}}
        await perp._process_user_stream_event(perp_wire.decode_user_event(json.dumps(event)))
        return perp.get_balance("USDT"), perp.get_available_balance("USDT")

    try:
        # First update: no previous cw, so bc (0: a commission is not in bc) moves available.
        assert await push("ORDER", "99999.85", "99999.85", "0") == (Decimal("99999.85"), Decimal(90_000))
        # Funding paid and a deposit: available moves with cw, one for one.
        assert await push("FUNDING_FEE", "99999.75", "99999.75", "-0.1") == (
            Decimal("99999.75"), Decimal("89999.90"))
        assert await push("DEPOSIT", "100999.75", "100999.75", "1000") == (
            Decimal("100999.75"), Decimal("90999.90"))
        # The demo's case: available equal to the wallet, then a commission lowers the wallet.
        perp._set_balance("USDT", Decimal(100_000), Decimal(100_000))
        perp._cross_wallet_balances.clear()  # as after a REST refresh
        total, available = await push("ORDER", "99999.8499469", "99999.8499469", "0")
        assert total == available == Decimal("99999.8499469")
        # the REST refresh that brings the exact availableBalance was scheduled, and runs
        await wait_until(lambda: bool(refreshes), 5, "the scheduled balance refresh")
    finally:
        await perp.stop_network()


def test_perpetual_maps_advertised_rate_limits_to_its_pools(caplog: pytest.LogCaptureFixture) -> None:
    perp = create_connector("binance_perpetual", trading_pairs=["BTC-USDT"], trading_required=False)
    advertised = [
        RateLimitInfo("REQUEST_WEIGHT", "MINUTE", 1, 1000),  # lower than the documented 2400: enforced
        RateLimitInfo("ORDERS", "MINUTE", 1, 5000),  # higher than 1200: the built-in limit stays
        RateLimitInfo("ORDERS", "SECOND", 10, 100),
        RateLimitInfo("ORDERS", "SECOND", 1, 20),  # no such pool here: warned about once
    ]
    perp._apply_advertised_rate_limits(advertised)
    perp._apply_advertised_rate_limits(advertised)  # the periodic exchangeInfo refresh
    throttler = perp.throttler
    pools = ("REQUEST_WEIGHT", "ORDERS_1MIN", "ORDERS_10S")
    assert [throttler.limit(pool) for pool in pools] == [1000, 1200, 100]
    assert throttler.usable_limit("REQUEST_WEIGHT") == 950
    assert sum("has no pool for" in r.message for r in caplog.records) == 1
