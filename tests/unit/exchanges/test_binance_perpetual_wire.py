import json
from decimal import Decimal

import pytest
from binance_fixtures import fixture_answer, fixture_bytes, fixture_json, rest_answer

from connectorkit.core.enums import OrderState, PositionAction, PositionSide
from connectorkit.core.funding_info import FundingInfoUpdate
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TokenAmount
from connectorkit.exchanges.binance.binance_market_wire import BinanceWireError, parse_stream_frame
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as wire
from connectorkit.exchanges.binance_perpetual.binance_perpetual_utils import DEFAULT_FEES

ORDER_EVENT = "usdm__user_data_streams__event_order_update.json"
ACCOUNT_EVENT = "usdm__user_data_streams__event_balance_and_position_update.json"
EXPIRED_EVENT = "usdm__user_data_streams__event_user_data_stream_expired.json"
HEDGE = "usdm__trade__position_information_v2__response_hedge.json"


def test_exchange_information_rules() -> None:
    info = fixture_answer("usdm__market_data__exchange_information__response.json", wire.ExchangeInfo)
    symbol = info.symbols[0]
    assert wire.is_perpetual_symbol_tradable(symbol)
    rules = wire.perpetual_symbol_rules(symbol)
    rule = rules.rule
    assert rule.trading_pair == "BLZ-USDT"
    assert (rule.min_price_increment, rule.min_base_amount_increment) == (Decimal("0.0001"), Decimal("1"))
    assert (rule.min_order_size, rule.max_order_size) == (Decimal("1"), Decimal("10000000"))
    assert rule.min_notional_size == Decimal("5.0")  # futures MIN_NOTIONAL carries "notional"
    assert rule.buy_collateral_token == rule.sell_collateral_token == "USDT"
    assert rules.market_max_qty == Decimal("590119")
    quarterly = json.loads(fixture_bytes("usdm__market_data__exchange_information__response.json"))
    quarterly["symbols"][0]["contractType"] = "CURRENT_QUARTER"
    (contract,) = rest_answer(json.dumps(quarterly), wire.ExchangeInfo).symbols
    assert not wire.is_perpetual_symbol_tradable(contract)


def test_order_answers() -> None:
    new = fixture_answer("usdm__trade__new_order__response.json", wire.FuturesOrder)
    update = wire.order_update_from_order(new, "BTC-USDT", 0.0)
    assert (update.new_state, update.client_order_id, update.exchange_order_id) == (
        OrderState.OPEN, "testOrder", "22542179")
    assert update.update_timestamp == pytest.approx(1566818724.722)
    query = fixture_answer("usdm__trade__query_order__response.json", wire.FuturesOrder)
    assert query.time == 1579276756075 and query.position_side == "SHORT"
    expired = json.loads(fixture_bytes("usdm__trade__query_order__response.json")) | {"status": "EXPIRED"}
    answer = rest_answer(json.dumps(expired), wire.FuturesOrder)
    update = wire.order_update_from_order(answer, "BTC-USDT", 0.0)
    assert update.new_state is OrderState.CANCELED and update.misc_updates == {"expired": True}


def test_order_status_uses_the_futures_table() -> None:
    rejected = json.loads(fixture_bytes("usdm__trade__query_order__response.json")) | {"status": "REJECTED"}
    answer = rest_answer(json.dumps(rejected), wire.FuturesOrder)
    update = wire.order_update_from_order(answer, "BTC-USDT", 0.0)
    assert update.new_state is OrderState.FAILED
    assert update.misc_updates == {
        "error_type": "REJECTED", "error_message": "order rejected by the exchange"}
    # PENDING_NEW is a Spot status (order lists), not one of "Common Definition > Order status".
    with pytest.raises(wire.WireFormatError, match="PENDING_NEW"):
        wire.order_state("PENDING_NEW")


@pytest.mark.parametrize(
    ("side", "position_side", "reduce_only", "action"),
    [("BUY", "BOTH", False, PositionAction.OPEN), ("SELL", "BOTH", True, PositionAction.CLOSE),
     ("BUY", "LONG", False, PositionAction.OPEN), ("SELL", "LONG", False, PositionAction.CLOSE),
     ("SELL", "SHORT", False, PositionAction.OPEN), ("BUY", "SHORT", False, PositionAction.CLOSE)],
)
def test_position_action(side: str, position_side: str, reduce_only: bool, action: PositionAction) -> None:
    assert wire.position_action_of(side, position_side, reduce_only) is action


def test_account_trade_list_fee_is_the_commission_magnitude() -> None:
    trades = fixture_answer("usdm__trade__account_trade_list__response.json", list[wire.UserTrade])
    update = wire.trade_update_from_user_trade(trades[0], "BTC-USDT", DEFAULT_FEES, PositionAction.OPEN)
    assert (update.trade_id, update.exchange_order_id) == ("698759", "25851813")
    assert update.fill_quote_amount == Decimal("15.63802") and update.is_taker
    assert isinstance(update.fee, AddedToCostTradeFee)
    assert update.fee.flat_fees == (TokenAmount("USDT", Decimal("0.0781901")),)
    closing = wire.trade_update_from_user_trade(trades[0], "BTC-USDT", DEFAULT_FEES, PositionAction.CLOSE)
    assert isinstance(closing.fee, DeductedFromReturnsTradeFee)


def test_a_negative_maker_commission_is_a_rebate_never_a_charge() -> None:
    """A maker fill with a negative commission received a rebate: no fee is booked (a TradeFeeBase
    cannot be negative), on both the REST and the stream path. A taker always pays: the docs'
    taker example "-0.07819010" stays a charge of that magnitude (test above)."""
    row = fixture_json("usdm__trade__account_trade_list__response.json")[0]
    row |= {"maker": True, "commission": "-0.00156380"}
    (rebated,) = rest_answer(json.dumps([row]), list[wire.UserTrade])
    update = wire.trade_update_from_user_trade(rebated, "BTC-USDT", DEFAULT_FEES, PositionAction.OPEN)
    assert not update.is_taker
    assert update.fee.flat_fees == () and update.fee.percent == 0

    body = fixture_json(ORDER_EVENT)
    body["o"] |= {"x": "TRADE", "X": "FILLED", "l": "0.001", "z": "0.001", "L": "7100.5",
                  "n": "-0.00071005", "t": 12346, "m": True}
    event = wire.decode_user_event(json.dumps(body))
    assert isinstance(event, wire.OrderTradeUpdate)
    trade = wire.trade_update_from_event(event, "BTC-USDT", DEFAULT_FEES)
    assert trade is not None and trade.fee.flat_fees == () and trade.fee.percent == 0
    body["o"] |= {"m": False, "n": "-0.00355025"}  # a taker's signed commission is a charge
    event = wire.decode_user_event(json.dumps(body))
    assert isinstance(event, wire.OrderTradeUpdate)
    taker = wire.trade_update_from_event(event, "BTC-USDT", DEFAULT_FEES)
    assert taker is not None and taker.fee.flat_fees == (TokenAmount("USDT", Decimal("0.00355025")),)


def test_balances_and_positions() -> None:
    rows = fixture_answer("usdm__account__futures_account_balance_v2__response.json",
                          list[wire.FuturesBalance])
    snapshot = wire.balances_from_rows(rows)
    assert snapshot.total["USDT"] == Decimal("122607.35137903")
    assert snapshot.available["USDT"] == Decimal("23.72469206")
    one_way = fixture_answer("usdm__trade__position_information_v2__response_one_way.json",
                             list[wire.PositionRisk])
    assert wire.position_from_risk(one_way[0], "BTC-USDT", Decimal(20)) is None
    hedge = fixture_answer(HEDGE, list[wire.PositionRisk])
    positions = [wire.position_from_risk(row, "BTC-USDT", Decimal(20)) for row in hedge]
    long = positions[0]
    assert long is not None and positions[1] is None
    assert (long.position_side, long.amount) == (PositionSide.LONG, Decimal("0.001"))
    assert long.leverage == Decimal(4)
    assert long.unrealized_pnl == Decimal("-1.06214947")
    v3_row = {k: v for k, v in fixture_json(HEDGE)[0].items() if k != "leverage"}
    (row,) = rest_answer(json.dumps([v3_row]), list[wire.PositionRisk])
    position = wire.position_from_risk(row, "BTC-USDT", Decimal(7))
    assert position is not None and position.leverage == Decimal(7)


def test_leverage_and_position_mode_answers() -> None:
    answer = fixture_answer("usdm__trade__change_initial_leverage__response.json", wire.LeverageAnswer)
    assert answer.leverage == 21
    mode = fixture_answer("usdm__trade__get_current_position_mode__response.json", wire.PositionModeAnswer)
    assert mode.dualSidePosition is True


def mark_price_update(payload: dict[str, object]) -> FundingInfoUpdate:
    """A markPrice stream payload through the path the data source reads every stream frame by."""
    frame = json.dumps({"stream": "btcusdt@markPrice@1s", "data": payload})
    update = parse_stream_frame(frame, {"BTCUSDT": "BTC-USDT"})
    assert isinstance(update, FundingInfoUpdate)
    return update


def test_funding_from_premium_index_and_mark_price_stream() -> None:
    index = fixture_answer("usdm__market_data__mark_price__response.json", wire.PremiumIndex)
    info = wire.funding_info_from_premium_index(index, "BTC-USDT")
    assert (info.mark_price, info.index_price, info.rate) == (
        Decimal("11793.63104562"), Decimal("11781.80495970"), Decimal("0.00038246"))
    assert info.next_funding_utc_timestamp == 1597392000
    update = mark_price_update(fixture_json("usdm__websocket_market_streams__mark_price_stream.json"))
    assert update.trading_pair == "BTC-USDT"
    new_info = info.updated(update)
    assert (new_info.mark_price, new_info.index_price, new_info.rate) == (
        Decimal("11794.15"), Decimal("11784.25641265"), Decimal("0.00038167"))
    assert new_info.next_funding_utc_timestamp == 1562306400
    delivery = fixture_json("usdm__websocket_market_streams__mark_price_stream.json") | {"r": "", "T": 0}
    update = mark_price_update(delivery)
    assert update.rate is None and update.next_funding_utc_timestamp is None
    with pytest.raises(BinanceWireError):  # a rate that is not a number is refused, not dropped
        mark_price_update(fixture_json("usdm__websocket_market_streams__mark_price_stream.json") | {"r": "x"})
    no_rate = fixture_json("usdm__market_data__mark_price__response.json") | {"lastFundingRate": ""}
    with pytest.raises(wire.WireFormatError):
        wire.funding_info_from_premium_index(rest_answer(json.dumps(no_rate), wire.PremiumIndex), "BTC-USDT")


def test_income_history_funding_payments() -> None:
    rows = fixture_json("usdm__account__get_income_history__response.json")
    records = rest_answer(json.dumps(rows), list[wire.IncomeRecord])
    assert wire.funding_payments(records, {"BTCUSDT": "BTC-USDT"}) == []
    funding = rows[1] | {"incomeType": "FUNDING_FEE", "income": "-0.01000000", "time": 1570636800000}
    earlier = rows[1] | {"incomeType": "FUNDING_FEE", "income": "0.5", "time": 1570608000000, "tranId": 1}
    other = rows[1] | {"incomeType": "FUNDING_FEE", "symbol": "ETHUSDT"}
    records = rest_answer(json.dumps([funding, earlier, other]), list[wire.IncomeRecord])
    payments = wire.funding_payments(records, {"BTCUSDT": "BTC-USDT"})
    assert [(p.amount, p.timestamp) for p in payments] == [
        (Decimal("0.5"), 1570608000.0), (Decimal("-0.01"), 1570636800.0)]
    assert payments[1].transaction_id == "9689322392" and payments[1].asset == "USDT"


def test_order_trade_update_new_and_fill() -> None:
    event = wire.decode_user_event(fixture_bytes(ORDER_EVENT))
    assert isinstance(event, wire.OrderTradeUpdate)
    update = wire.order_update_from_event(event, "BTC-USDT")
    assert (update.new_state, update.client_order_id, update.exchange_order_id) == (
        OrderState.OPEN, "TEST", "8886774")
    assert wire.trade_update_from_event(event, "BTC-USDT", DEFAULT_FEES) is None

    body = fixture_json(ORDER_EVENT)
    body["o"] |= {"x": "TRADE", "X": "FILLED", "l": "0.001", "z": "0.001", "L": "7100.5",
                  "n": "0.00355025", "t": 12345, "m": True}
    event = wire.decode_user_event(json.dumps(body))
    assert isinstance(event, wire.OrderTradeUpdate)
    trade = wire.trade_update_from_event(event, "BTC-USDT", DEFAULT_FEES)
    assert trade is not None
    assert (trade.trade_id, trade.fill_price, trade.fill_base_amount) == ("12345", Decimal("7100.5"),
                                                                         Decimal("0.001"))
    assert not trade.is_taker
    # SELL on the LONG side closes: the fee comes out of the returns.
    assert isinstance(trade.fee, DeductedFromReturnsTradeFee)
    assert trade.fee.flat_fees == (TokenAmount("USDT", Decimal("0.00355025")),)
    assert wire.order_update_from_event(event, "BTC-USDT").new_state is OrderState.FILLED


def test_account_update_expiry_and_config_events() -> None:
    event = wire.decode_user_event(fixture_bytes(ACCOUNT_EVENT))
    assert isinstance(event, wire.AccountUpdate)
    assert event.account.reason == "ORDER"
    assert {b.asset: b.wallet_balance for b in event.account.balances} == {
        "USDT": Decimal("122624.12345678"), "BUSD": Decimal("1")}
    positions = [wire.position_from_entry(p, "BTC-USDT", Decimal(10)) for p in event.account.positions]
    assert [(p.position_side, p.amount) for p in positions] == [
        (PositionSide.BOTH, Decimal(0)), (PositionSide.LONG, Decimal(20)), (PositionSide.SHORT, Decimal(-10))]
    assert positions[2].entry_price == Decimal("6563.86")
    assert positions[2].unrealized_pnl == Decimal("-1423.156")
    expired = wire.decode_user_event(fixture_bytes(EXPIRED_EVENT))
    assert isinstance(expired, wire.ListenKeyExpired) and expired.listen_key.startswith("WsCMN")
    config = wire.decode_user_event(
        fixture_bytes("usdm__user_data_streams__event_account_configuration_update.json"))
    assert isinstance(config, wire.AccountConfigUpdate)
    assert config.leverage_config is not None and config.leverage_config.leverage == 25
    with pytest.raises(wire.WireFormatError):
        wire.decode_user_event(b'{"e": "MARGIN_CALL", "E": 1}')
