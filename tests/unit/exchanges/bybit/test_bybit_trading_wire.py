import json
from decimal import Decimal

import pytest
from bybit_fixtures import assert_schema_matches, capture_records, fixture_bytes, fixture_json

from connectorkit.core.enums import OrderState, OrderType, PositionAction, PositionSide, TradeType
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TokenAmount
from connectorkit.exchanges.bybit import bybit_trading_wire as wire
from connectorkit.exchanges.bybit.bybit_market_wire import BybitWireError, ControlAnswer, ControlKind
from connectorkit.exchanges.bybit.bybit_trading_wire import BybitAPIError, BybitErrorKind
from connectorkit.exchanges.bybit.bybit_utils import DEFAULT_FEES, SymbolMap
from connectorkit.exchanges.bybit_perpetual.bybit_perpetual_utils import DEFAULT_FEES as PERP_FEES


def envelope(result: object, code: int = 0, msg: str = "OK") -> bytes:
    body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": 1}
    return json.dumps(body).encode()


def result_of(name: str) -> dict[str, object]:
    body = fixture_json(name)
    assert body["retCode"] == 0
    result = body["result"]
    assert isinstance(result, dict)
    return result


def first_row(name: str) -> dict[str, object]:
    rows = result_of(name)["list"]
    assert isinstance(rows, list)
    return rows[0]


# --- the doc examples have the documented fields and types --------------------------------------


def test_doc_examples_match_every_schema() -> None:
    assert_schema_matches(wire._ServerTime, result_of("market__time"))
    assert_schema_matches(wire.Instrument, first_row("market__instrument__linear"))
    assert_schema_matches(wire.Instrument, first_row("market__instrument__spot"))
    assert_schema_matches(wire.OrderAck, result_of("order__create_order"))
    assert_schema_matches(wire.BybitOrder, first_row("order__open_order"))
    assert_schema_matches(wire.BybitExecution, first_row("order__execution"))
    assert_schema_matches(wire.WalletAccount, first_row("account__wallet_balance"))
    assert_schema_matches(wire.BybitPosition, first_row("position__position"))
    assert_schema_matches(wire.TransactionLogRow, first_row("account__transaction_log"))
    for topic, struct in (("order", wire.BybitOrder), ("execution", wire.BybitExecution),
                          ("wallet", wire.WalletAccount), ("position", wire.BybitPosition)):
        assert_schema_matches(struct, fixture_json(f"websocket__private__{topic}")["data"][0])


def test_server_time() -> None:
    assert wire.server_time_s(fixture_bytes("market__time")) == pytest.approx(1688639403.423213947, abs=1e-6)


# --- instruments -> TradingRule (v5/market/instrument) ----------------------------------------


def test_linear_instrument_rules() -> None:
    page = wire.decode_instruments(fixture_bytes("market__instrument__linear"))
    rules = wire.linear_symbol_rules(page.rows[0])
    rule = rules.rule
    assert (rules.symbol, rules.base, rules.quote) == ("BTCUSDT", "BTC", "USDT")
    assert rule.trading_pair == "BTC-USDT"
    assert (rule.min_order_size, rule.max_order_size, rule.min_base_amount_increment) == (
        Decimal("0.001"), Decimal("1190"), Decimal("0.001"))
    assert (rule.min_price_increment, rule.min_notional_size) == (Decimal("0.1"), Decimal("5"))
    assert rule.buy_collateral_token == rule.sell_collateral_token == "USDT"
    assert rules.max_market_order_qty == Decimal("500")


def test_spot_instrument_rules() -> None:
    page = wire.decode_instruments(fixture_bytes("market__instrument__spot"))
    rules = wire.spot_symbol_rules(page.rows[0])
    rule = rules.rule
    assert (rule.min_order_size, rule.max_order_size) == (Decimal("0.000011"), Decimal("83"))
    assert rule.min_base_amount_increment == Decimal("0.000001")
    assert rule.min_quote_amount_increment == Decimal("0.0000001")
    assert (rule.min_price_increment, rule.min_notional_size) == (Decimal("0.1"), Decimal("5"))
    assert rules.max_market_order_qty == Decimal("41.5")
    assert rule.buy_collateral_token == "USDT" and rule.sell_collateral_token == "BTC"


def test_real_instruments_answer_gives_a_rule_and_a_pair_for_every_symbol() -> None:
    body = next(r["data"] for r in capture_records() if r["t"] == "http")
    page = wire.decode_instruments(body)
    assert page.category == "spot" and len(page.rows) == 557
    rules = [wire.spot_symbol_rules(i) for i in page.rows if wire.is_tradable(i)]
    symbols = SymbolMap((r.symbol, r.base, r.quote) for r in rules)
    for instrument in page.rows:
        pair = f"{instrument.baseCoin}-{instrument.quoteCoin}"
        assert symbols.pair(instrument.symbol) == pair and symbols.symbol(pair) == instrument.symbol
    assert symbols.pair("BTCUSDT") == "BTC-USDT"


def test_an_instrument_without_a_step_is_refused() -> None:
    row = first_row("market__instrument__linear")
    row["lotSizeFilter"] = {**row["lotSizeFilter"], "qtyStep": "0"}  # type: ignore[dict-item]
    page = wire.decode_instruments(envelope({"category": "linear", "list": [row]}))
    with pytest.raises(BybitWireError, match="qtyStep"):
        wire.linear_symbol_rules(page.rows[0])


# --- retCode envelope (v5/error) ----------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), [
    (110001, BybitErrorKind.ORDER_NOT_FOUND), (170213, BybitErrorKind.ORDER_NOT_FOUND),
    (110007, BybitErrorKind.INSUFFICIENT_BALANCE), (170131, BybitErrorKind.INSUFFICIENT_BALANCE),
    (170218, BybitErrorKind.POST_ONLY_WOULD_TAKE), (10006, BybitErrorKind.RATE_LIMIT),
    (10002, BybitErrorKind.TIMESTAMP), (10004, BybitErrorKind.AUTH),
    (110072, BybitErrorKind.DUPLICATE_ORDER_ID), (10016, BybitErrorKind.STATUS_UNKNOWN),
    (170146, BybitErrorKind.STATUS_UNKNOWN), (10001, BybitErrorKind.OTHER),
])
def test_non_zero_ret_codes_raise_a_classified_error(code: int, kind: BybitErrorKind) -> None:
    with pytest.raises(BybitAPIError) as info:
        wire.decode_order_ack(envelope({}, code, "some reason"), "cancel")
    assert (info.value.code, info.value.kind, info.value.message) == (code, kind, "some reason")
    assert str(info.value) == f"cancel: retCode {code}: some reason"


def test_order_ack() -> None:
    ack = wire.decode_order_ack(fixture_bytes("order__create_order"))
    assert (ack.orderId, ack.orderLinkId) == ("1321003749386327552", "spot-test-postonly")


@pytest.mark.parametrize(("raw", "match"), [
    (b"not json", "order"),
    (b'{"retMsg":"OK","result":{}}', "retCode"),
    (envelope({"orderLinkId": "x"}), "orderId"),
    (envelope({"orderId": 5}), "Expected `str`"),
])
def test_malformed_answers_raise_a_wire_error(raw: bytes, match: str) -> None:
    with pytest.raises(BybitWireError, match=match):
        wire.decode_order_ack(raw)


# --- orders (v5/order/open-order, v5/enum orderStatus) -------------------------------------


def test_doc_open_order_becomes_an_open_order_update() -> None:
    page = wire.decode_orders(fixture_bytes("order__open_order"))
    update = wire.order_update(page.rows[0], "ETH-USDT")
    assert update.new_state is OrderState.OPEN
    assert update.client_order_id == "test-000005"
    assert update.exchange_order_id == "fd4300ae-7847-404e-b947-b46980a4d140"
    assert update.update_timestamp == 1684738540.561 and update.misc_updates is None


@pytest.mark.parametrize(("status", "state"), [
    ("New", OrderState.OPEN), ("PartiallyFilled", OrderState.PARTIALLY_FILLED),
    ("Untriggered", OrderState.OPEN), ("Triggered", OrderState.OPEN), ("Rejected", OrderState.FAILED),
    ("PartiallyFilledCanceled", OrderState.CANCELED), ("Filled", OrderState.FILLED),
    ("Cancelled", OrderState.CANCELED), ("Deactivated", OrderState.CANCELED),
])
def test_every_documented_order_status_maps(status: str, state: OrderState) -> None:
    assert wire.order_state(status) is state


def test_unknown_status_and_side_are_errors() -> None:
    with pytest.raises(BybitWireError, match="orderStatus"):
        wire.order_state("Expired")
    with pytest.raises(BybitWireError, match="side"):
        wire.trade_type_of("BUY")


def order_row(**changes: object) -> wire.BybitOrder:
    row = {**first_row("order__open_order"), **changes}
    return wire.decode_orders(envelope({"list": [row]})).rows[0]


def test_a_post_only_order_that_would_take_is_a_failed_placement() -> None:
    row = order_row(orderStatus="Cancelled", rejectReason="EC_PostOnlyWillTakeLiquidity", cumExecQty="0")
    update = wire.order_update(row, "ETH-USDT")
    assert update.new_state is OrderState.FAILED
    assert update.misc_updates == {"error_type": "post_only_would_take",
                                   "error_message": "EC_PostOnlyWillTakeLiquidity"}
    rejected_row = order_row(orderStatus="Rejected", rejectReason="EC_PerCancelRequest")
    rejected = wire.order_update(rejected_row, "ETH-USDT")
    assert rejected.new_state is OrderState.FAILED and rejected.misc_updates is not None
    assert rejected.misc_updates["error_message"] == "EC_PerCancelRequest"


# --- executions -> TradeUpdate (v5/order/execution, v5/websocket/private/execution) ----------------


def test_doc_execution_row_is_a_taker_fill_with_its_fee() -> None:
    row = wire.decode_executions(fixture_bytes("order__execution")).rows[0]
    update = wire.trade_update(row, "ETH-USDT", PERP_FEES, "USDT", PositionAction.OPEN)
    assert update is not None
    assert (update.trade_id, update.exchange_order_id, update.client_order_id) == (
        "e0cbe81d-0f18-5866-9415-cf319b5dab3b", "8c065341-7b52-4ca9-ac2c-37e31ac55c94", None)
    assert (update.fill_price, update.fill_base_amount, update.fill_quote_amount) == (
        Decimal("1190.15"), Decimal("0.1"), Decimal("119.015"))
    assert update.is_taker and update.fill_timestamp == 1672282722.429
    assert isinstance(update.fee, AddedToCostTradeFee)
    assert update.fee.flat_fees == (TokenAmount("USDT", Decimal("0.071409")),)


def execution(**changes: object) -> wire.BybitExecution:
    row = {**first_row("order__execution"), **changes}
    return wire.decode_executions(envelope({"list": [row]})).rows[0]


def test_a_negative_maker_fee_is_a_rebate_booked_as_no_fee_and_a_taker_always_pays() -> None:
    maker = wire.trade_update(execution(isMaker=True, execFee="-0.0238"), "ETH-USDT", PERP_FEES, "USDT",
                              PositionAction.CLOSE)
    assert maker is not None and not maker.is_taker and maker.fee.flat_fees == ()
    taker = wire.trade_update(execution(execFee="-0.0238"), "ETH-USDT", PERP_FEES, "USDT",
                              PositionAction.CLOSE)
    assert taker is not None and taker.fee.flat_fees == (TokenAmount("USDT", Decimal("0.0238")),)


def test_a_spot_buy_pays_its_fee_in_fee_currency_out_of_what_it_receives() -> None:
    row = execution(category="spot", symbol="BTCUSDT", feeCurrency="BTC", execFee="0.0001")
    update = wire.trade_update(row, "BTC-USDT", DEFAULT_FEES, "USDT")
    assert update is not None
    assert isinstance(update.fee, DeductedFromReturnsTradeFee)
    assert update.fee.flat_fees == (TokenAmount("BTC", Decimal("0.0001")),)


def test_only_trade_executions_are_fills() -> None:
    assert wire.trade_update(execution(execType="Funding"), "ETH-USDT", PERP_FEES, "USDT") is None
    for bad in ({"execPrice": "NaN"}, {"execQty": "-1"}, {"execQty": "0"}, {"execTime": "yesterday"}):
        with pytest.raises(BybitWireError):
            wire.trade_update(execution(**bad), "ETH-USDT", PERP_FEES, "USDT", PositionAction.OPEN)


# --- wallet, positions, funding --------------------------------------------------------------


def test_wallet_balance_rest_and_stream() -> None:
    rest = wire.balances(wire.decode_wallet(fixture_bytes("account__wallet_balance")).rows)
    assert rest.total == {"BTC": Decimal("0.805994")} and rest.available == {"BTC": Decimal("0.805994")}
    event = wire.parse_private_frame(fixture_bytes("websocket__private__wallet"))
    assert isinstance(event, wire.WalletEvent) and event.creation_ms == 1690873065683
    stream = wire.balances(event.accounts)
    assert stream.total["USDT"] == Decimal("106.03036732")
    assert stream.available["USDT"] == 0  # 7539.624 + 1179.1604584 of IM exceed the coin's balance
    assert stream.total["BTC"] == stream.available["BTC"] == 0


def test_positions_rest_and_stream() -> None:
    row = wire.decode_positions(fixture_bytes("position__position")).rows[0]
    position = wire.position(row, "BTC-USD", Decimal(1))
    assert position is not None
    assert (position.position_side, position.amount, position.entry_price) == (
        PositionSide.BOTH, Decimal("-300"), Decimal("27464.50441675"))
    assert (position.leverage, position.unrealized_pnl) == (Decimal("10"), Decimal("-0.00029413"))
    event = wire.parse_private_frame(fixture_bytes("websocket__private__position"))
    assert isinstance(event, wire.PositionEvent)
    assert wire.position(event.positions[0], "BTC-USDT", Decimal(1)) is None  # size "0": closed
    row = wire.BybitPosition(symbol="BTCUSDT", side="Buy", size="0.5", positionIdx=1, entryPrice="28000")
    hedge_long = wire.position(row, "BTC-USDT", Decimal(3))
    assert hedge_long is not None
    assert (hedge_long.position_side, hedge_long.amount, hedge_long.leverage) == (
        PositionSide.LONG, Decimal("0.5"), Decimal(3))


def test_funding_payments_from_the_transaction_log() -> None:
    page = wire.decode_transaction_log(fixture_bytes("account__transaction_log"))
    payments = wire.funding_payments(page.rows, {"XRPUSDT": "XRP-USDT"})
    assert payments == [wire.FundingPayment("XRP-USDT", Decimal("-0.003676"), "USDT", 1672128000.0,
                                            "592324_XRPUSDT_161440249321:SETTLEMENT:1672128000000")]
    assert wire.funding_payments(page.rows, {}) == []


# --- private socket (v5/websocket/private/*) ---------------------------------------------------


def test_private_order_and_execution_pushes() -> None:
    orders = wire.parse_private_frame(fixture_bytes("websocket__private__order"))
    assert isinstance(orders, wire.OrderEvent)
    update = wire.order_update(orders.orders[0], "ETH-USDT")
    assert update.new_state is OrderState.FILLED and update.client_order_id is None
    executions = wire.parse_private_frame(fixture_bytes("websocket__private__execution"))
    assert isinstance(executions, wire.ExecutionEvent)
    fill = wire.trade_update(executions.executions[0], "XRP-USDT", PERP_FEES, "USDT", PositionAction.CLOSE)
    assert fill is not None and fill.fill_quote_amount == Decimal("8.435")
    assert fill.fee.flat_fees == (TokenAmount("USDT", Decimal("0.005061")),)


def test_category_topics_answers_and_bad_private_frames() -> None:
    raw = fixture_bytes("websocket__private__order").replace(b'"topic": "order"', b'"topic": "order.linear"')
    assert isinstance(wire.parse_private_frame(raw), wire.OrderEvent)
    answer = wire.parse_private_frame(fixture_bytes("ws__connect__auth"))
    assert isinstance(answer, ControlAnswer) and answer.kind is ControlKind.AUTH and answer.success
    with pytest.raises(BybitWireError, match="unknown private topic"):
        wire.parse_private_frame(b'{"topic":"greeks","creationTime":1,"data":[]}')
    with pytest.raises(BybitWireError, match="creationTime"):
        wire.parse_private_frame(b'{"topic":"order","data":[]}')
    with pytest.raises(BybitWireError, match="order"):
        wire.parse_private_frame(b'{"topic":"order","creationTime":1,"data":[{"orderId":"x"}]}')


# --- request builders (v5/order/create-order, v5/position/leverage, position-mode) -------------


def create(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = {"category": "spot", "symbol": "BTCUSDT", "trade_type": TradeType.BUY,
                               "order_type": OrderType.LIMIT, "amount": Decimal("0.1"),
                               "price": Decimal("15600"), "order_link_id": "ck-1"}
    args.update(overrides)
    return wire.order_create_params(**args)  # type: ignore[arg-type]


def test_order_create_bodies() -> None:
    assert create() == {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                        "qty": "0.1", "orderLinkId": "ck-1", "price": "15600", "timeInForce": "GTC"}
    assert create(order_type=OrderType.LIMIT_MAKER)["timeInForce"] == "PostOnly"
    assert create(time_in_force="IOC")["timeInForce"] == "IOC"
    market = create(order_type=OrderType.MARKET, price=None, amount=Decimal("1E-8"))
    assert market == {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
                      "qty": "0.00000001", "orderLinkId": "ck-1", "marketUnit": "baseCoin"}
    linear = create(category="linear", trade_type=TradeType.SELL, reduce_only=True, position_idx=2)
    assert (linear["side"], linear["reduceOnly"], linear["positionIdx"]) == ("Sell", True, 2)
    assert "marketUnit" not in create(category="linear", order_type=OrderType.MARKET, price=None)
    assert wire.json_body(create()).startswith('{"category":"spot","symbol":"BTCUSDT"')


@pytest.mark.parametrize(("overrides", "match"), [
    ({"order_link_id": "has space"}, "orderLinkId"),
    ({"order_link_id": "x" * 37}, "orderLinkId"),
    ({"order_link_id": "a.b"}, "orderLinkId"),
    ({"reduce_only": True}, "linear orders only"),
    ({"category": "linear", "position_idx": 3}, "positionIdx"),
    ({"price": None}, "needs a price"),
    ({"amount": Decimal("NaN")}, "positive finite"),
    ({"amount": Decimal("-1")}, "positive finite"),
    ({"time_in_force": "GTX"}, "timeInForce"),
])
def test_bad_order_requests_are_refused_locally(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create(**overrides)


def test_cancel_query_leverage_and_mode_bodies() -> None:
    assert wire.order_by_link_id_params("linear", "BTCUSDT", "ck-1") == {
        "category": "linear", "symbol": "BTCUSDT", "orderLinkId": "ck-1"}
    assert wire.set_leverage_params("BTCUSDT", Decimal("5")) == {
        "category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"}
    assert wire.switch_mode_params("BTCUSDT", hedge=True)["mode"] == 3
    assert wire.switch_mode_params("BTCUSDT", hedge=False)["mode"] == 0


def test_rate_limit_headers_and_error_kind() -> None:
    # docs: v5/rate-limit "Http Response Header Example"
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Bapi-Limit": "100",
               "X-Bapi-Limit-Status": "99", "X-Bapi-Limit-Reset-Timestamp": "1672738134824"}
    assert wire.rate_limit_status(headers) == wire.RateLimitStatus(100, 99, 1672738134824)
    assert wire.rate_limit_status({k.lower(): v for k, v in headers.items()}) == (100, 99, 1672738134824)
    assert wire.rate_limit_status({"X-Bapi-Limit": "100"}) is None
    assert wire.rate_limit_status({**headers, "X-Bapi-Limit-Status": "-1"}) is None
    assert wire.error_kind(BybitAPIError("create", 10002, "window")) is BybitErrorKind.TIMESTAMP
    assert wire.error_kind(ValueError("x")) is None
