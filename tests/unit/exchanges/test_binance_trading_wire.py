import json
from decimal import Decimal

import pytest
from binance_fixtures import first_capture_http_body, fixture_answer, fixture_bytes, fixture_json, rest_answer

from connectorkit.core.enums import OrderState
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TokenAmount
from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.exchanges.binance import binance_web_utils as web_utils
from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES
from connectorkit.net.errors import ExchangeRequestError, ResponseDecodeError
from connectorkit.net.rest_assistant import parse_code_msg_error

TRADE_LIST = "spot__account_endpoints__account_trade_list__response.json"
ACCOUNT_INFO = "spot__account_endpoints__account_information__response.json"


def test_real_exchange_info_builds_trading_rules() -> None:
    info = rest_answer(first_capture_http_body("binance_us_spot.jsonl"), wire.ExchangeInfo)
    assert len(info.symbols) == 121
    crv = next(s for s in info.symbols if s.symbol == "CRVUSDT")
    assert wire.is_spot_symbol_tradable(crv)
    rules = wire.symbol_rules(crv)
    rule = rules.rule
    assert rule.trading_pair == "CRV-USDT"
    assert rule.min_price_increment == Decimal("0.001")
    assert rule.min_base_amount_increment == Decimal("0.1")
    assert (rule.min_order_size, rule.max_order_size) == (Decimal("0.1"), Decimal("922327"))
    assert rule.min_notional_size == Decimal("10")
    assert rule.min_quote_amount_increment == Decimal("1e-8")
    assert rule.supports_market_orders and rule.supports_limit_orders
    # MARKET_LOT_SIZE with stepSize 0 means "disabled", not "step 0".
    assert rules.market_step_size is None
    assert rules.market_max_qty == Decimal("282699.98659722")
    every = [wire.symbol_rules(s) for s in info.symbols if wire.is_spot_symbol_tradable(s)]
    assert len({r.rule.trading_pair for r in every}) == len(every) > 50


def test_notional_filter_and_missing_filters() -> None:
    base = {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
            "isSpotTradingAllowed": True, "orderTypes": ["LIMIT", "LIMIT_MAKER"],
            "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000",
                         "tickSize": "0.01"},
                        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000",
                         "stepSize": "0.00001"},
                        {"filterType": "NOTIONAL", "minNotional": "5.00", "applyMinToMarket": True,
                         "maxNotional": "9000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                        {"filterType": "SOME_FUTURE_FILTER", "x": 1}]}
    info = rest_answer(json.dumps({"symbols": [base]}), wire.ExchangeInfo)
    rules = wire.symbol_rules(info.symbols[0])
    assert rules.rule.min_notional_size == Decimal("5.00")
    assert not rules.rule.supports_market_orders
    no_lot = dict(base, filters=base["filters"][:1])
    with pytest.raises(wire.WireFormatError):
        wire.symbol_rules(rest_answer(json.dumps({"symbols": [no_lot]}), wire.ExchangeInfo).symbols[0])
    halted = rest_answer(json.dumps({"symbols": [dict(base, status="BREAK")]}), wire.ExchangeInfo)
    assert not wire.is_spot_symbol_tradable(halted.symbols[0])
    with pytest.raises(ResponseDecodeError):
        rest_answer(b'{"symbols": [{"symbol": 1}]}', wire.ExchangeInfo)


def test_new_order_ack_means_accepted() -> None:
    ack = fixture_answer("spot__trading_endpoints__new_order__response_ack.json", wire.OrderResponse)
    update = wire.order_update_from_response(ack, "BTC-USDT", fallback_timestamp=1.0)
    assert update.new_state is OrderState.OPEN
    assert (update.client_order_id, update.exchange_order_id) == ("6gCrw2kRUAF9CvJDGP16IP", "28")
    assert update.update_timestamp == pytest.approx(1507725176.595)
    assert wire.trade_updates_from_response(ack, "BTC-USDT", DEFAULT_FEES) == []


def test_new_order_result_and_full_fills_with_commissions() -> None:
    result = fixture_answer("spot__trading_endpoints__new_order__response_result.json", wire.OrderResponse)
    assert wire.order_update_from_response(result, "BTC-USDT", 0.0).new_state is OrderState.FILLED
    full = fixture_answer("spot__trading_endpoints__new_order__response_full.json", wire.OrderResponse)
    trades = wire.trade_updates_from_response(full, "BTC-USDT", DEFAULT_FEES)
    assert [t.trade_id for t in trades] == ["56", "57", "58", "59", "60"]
    assert sum((t.fill_base_amount for t in trades), Decimal(0)) == full.executed_qty == Decimal("10")
    second = trades[1]
    assert (second.fill_price, second.fill_base_amount) == (Decimal("3999"), Decimal("5"))
    assert second.fill_quote_amount == Decimal("19995")
    assert second.is_taker
    # A sell's fee comes out of the quote it receives, in the asset Binance charged.
    assert isinstance(second.fee, DeductedFromReturnsTradeFee)
    assert second.fee.flat_fees == (TokenAmount("USDT", Decimal("19.995")),)


def test_query_and_cancel_answers() -> None:
    query = fixture_answer("spot__trading_endpoints__query_order__response.json", wire.OrderResponse)
    update = wire.order_update_from_response(query, "LTC-BTC", 0.0)
    assert (update.new_state, update.client_order_id) == (OrderState.OPEN, "myOrder1")
    assert update.update_timestamp == pytest.approx(1499827319.559)
    cancel = fixture_answer("spot__trading_endpoints__cancel_order__response.json", wire.OrderResponse)
    update = wire.order_update_from_response(cancel, "LTC-BTC", 0.0)
    # The cancel answer's clientOrderId is the cancel request's id; the order is origClientOrderId.
    assert (update.new_state, update.client_order_id, update.exchange_order_id) == (
        OrderState.CANCELED, "myOrder1", "4")


@pytest.mark.parametrize(
    ("status", "state", "misc"),
    [("EXPIRED", OrderState.CANCELED, {"expired": True}),
     ("EXPIRED_IN_MATCH", OrderState.CANCELED, {"expired": True}),
     ("REJECTED", OrderState.FAILED, {"error_type": "REJECTED"}),
     ("PARTIALLY_FILLED", OrderState.PARTIALLY_FILLED, None)],
)
def test_status_mapping(status: str, state: OrderState, misc: dict[str, object] | None) -> None:
    body = fixture_json("spot__trading_endpoints__query_order__response.json") | {"status": status}
    answer = rest_answer(json.dumps(body), wire.OrderResponse)
    update = wire.order_update_from_response(answer, "LTC-BTC", 0.0)
    assert update.new_state is state
    if misc is None:
        assert update.misc_updates is None
    else:
        assert update.misc_updates is not None and misc.items() <= update.misc_updates.items()
    with pytest.raises(wire.WireFormatError):
        wire.order_state("NOT_A_STATUS")


def test_account_trade_list() -> None:
    trades = fixture_answer(TRADE_LIST, list[wire.AccountTrade])
    update = wire.trade_update_from_account_trade(trades[0], "BNB-BTC", DEFAULT_FEES)
    assert (update.trade_id, update.exchange_order_id, update.client_order_id) == ("28457", "100234", None)
    assert update.fill_quote_amount == Decimal("48.000012")
    assert update.is_taker
    assert isinstance(update.fee, DeductedFromReturnsTradeFee)  # buyer, Binance deducts from returns
    assert update.fee.flat_fees == (TokenAmount("BNB", Decimal("10.1")),)


def test_account_information_balances() -> None:
    account = fixture_answer(ACCOUNT_INFO, wire.AccountInfo)
    snapshot = wire.balances_from_account(account)
    assert snapshot.total["BTC"] == Decimal("4723846.89208129")
    assert snapshot.available["LTC"] == Decimal("4763368.68006011")


def test_execution_report_new_and_trade() -> None:
    raw = fixture_bytes("spot__user_data_stream__order_update.json")
    event = wire.decode_user_event(raw)
    assert isinstance(event, wire.ExecutionReport)
    update = wire.order_update_from_execution_report(event, "ETH-BTC")
    assert (update.new_state, update.client_order_id, update.exchange_order_id) == (
        OrderState.OPEN, "mUvoqJxFIILMdfAW5iGSOW", "4293153")
    assert wire.trade_update_from_execution_report(event, "ETH-BTC", DEFAULT_FEES) is None

    # The same documented event as a partial fill (fields as the docs define them).
    fill = json.loads(raw) | {"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.40000000", "z": "0.40000000",
                              "L": "0.10264410", "n": "0.00040000", "N": "ETH", "t": 77, "m": True,
                              "Y": "0.04105764"}
    event = wire.decode_user_event(json.dumps(fill))
    assert isinstance(event, wire.ExecutionReport)
    trade = wire.trade_update_from_execution_report(event, "ETH-BTC", DEFAULT_FEES)
    assert trade is not None
    assert (trade.trade_id, trade.fill_base_amount, trade.fill_quote_amount) == ("77", Decimal("0.4"),
                                                                                Decimal("0.04105764"))
    assert not trade.is_taker
    assert isinstance(trade.fee, DeductedFromReturnsTradeFee)
    assert trade.fee.flat_fees == (TokenAmount("ETH", Decimal("0.0004")),)
    assert wire.order_update_from_execution_report(event, "ETH-BTC").new_state is OrderState.PARTIALLY_FILLED


def test_execution_report_of_a_cancel_names_the_original_order() -> None:
    body = fixture_json("spot__user_data_stream__order_update.json") | {
        "c": "cancelRequest1", "C": "mUvoqJxFIILMdfAW5iGSOW", "x": "CANCELED", "X": "CANCELED"}
    event = wire.decode_user_event(json.dumps(body))
    assert isinstance(event, wire.ExecutionReport)
    update = wire.order_update_from_execution_report(event, "ETH-BTC")
    assert (update.client_order_id, update.new_state) == ("mUvoqJxFIILMdfAW5iGSOW", OrderState.CANCELED)


def test_account_position_balance_update_and_expiry_events() -> None:
    position = wire.decode_user_event(fixture_bytes("spot__user_data_stream__account_update.json"))
    assert isinstance(position, wire.OutboundAccountPosition)
    snap = wire.balances_from_account_position(position)
    assert (snap.total["ETH"], snap.available["ETH"]) == (Decimal("10000"), Decimal("10000"))
    delta = wire.decode_user_event(fixture_bytes("spot__user_data_stream__balance_update.json"))
    assert isinstance(delta, wire.BalanceUpdate) and delta.delta == Decimal("100")
    expired = wire.decode_user_event(fixture_bytes("spot__user_data_stream__listen_key_expired.json"))
    assert isinstance(expired, wire.ListenKeyExpired)
    with pytest.raises(wire.WireFormatError):
        wire.decode_user_event(b'{"e": "somethingNew", "E": 1}')


def test_websocket_api_frames() -> None:
    answer = wire.decode_ws_api_frame(
        fixture_bytes("spot__websocket_api__user_data_stream_subscribe_signature__response.json"))
    assert answer.status == 200 and not answer.has_event
    assert wire.subscription_id_from_result(answer.result) == 0
    pushed = wire.decode_ws_api_frame(fixture_bytes("spot__websocket_api__user_data_stream__event.json"))
    assert pushed.subscription_id == 0 and pushed.has_event
    event = wire.decode_user_event(pushed.event)
    assert isinstance(event, wire.OutboundAccountPosition)
    assert wire.balances_from_account_position(event).total["ABC"] == Decimal("12000")
    failed = wire.decode_ws_api_frame(fixture_bytes("spot__websocket_api__response_format__error.json"))
    assert failed.status == 400 and failed.error is not None and failed.error.code == -2010
    with pytest.raises(wire.WireFormatError):
        wire.subscription_id_from_result(failed.result)


def test_error_body() -> None:
    """Failed answers are parsed by the REST assistant's error parser (the Binance connectors use
    the default one) into the ExchangeRequestError their classification reads."""
    code, message = parse_code_msg_error(b'{"code": -2013, "msg": "Order does not exist."}')
    assert (code, message) == (-2013, "Order does not exist.")
    error = ExchangeRequestError(status=400, method="GET", url="/api/v3/order", code=code, message=message)
    assert web_utils.exchange_error_code(error) == -2013 and web_utils.is_order_not_found(error)
    code, message = parse_code_msg_error(b"<html>bad gateway</html>")
    assert code is None and message == "<html>bad gateway</html>"
    error = ExchangeRequestError(status=502, method="GET", url="/api/v3/order", code=code, message=message)
    assert web_utils.exchange_error_code(error) is None


def test_added_to_cost_when_the_schema_says_so() -> None:
    from connectorkit.core.trade_fee import TradeFeeSchema

    schema = TradeFeeSchema(maker_percent_fee_decimal=Decimal("0.001"),
                            taker_percent_fee_decimal=Decimal("0.001"))
    trades = fixture_answer(TRADE_LIST, list[wire.AccountTrade])
    update = wire.trade_update_from_account_trade(trades[0], "BNB-BTC", schema)
    assert isinstance(update.fee, AddedToCostTradeFee)
