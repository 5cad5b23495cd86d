"""Wire shapes of the futures sandbox compared with the official documentation examples.

Fixtures: tests/fixtures/binance_futures/<doc section>.json (see the README there). "Same shape" means
the same keys, the same JSON types, and decimal strings where the docs print decimal strings.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from connectorkit.core.enums import PositionSide, TradeType
from connectorkit.sandbox.engine import Order, OrderStatus, Side, TimeInForce
from connectorkit.sandbox.venues.binance.futures import wire
from connectorkit.sandbox.venues.binance.futures.account import new_account
from connectorkit.sandbox.venues.binance.futures.funding import MarkState
from connectorkit.sandbox.venues.binance.futures.markets import DEFAULT_FUTURES_MARKETS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "binance_futures"
MARKETS = {m.symbol: m for m in DEFAULT_FUTURES_MARKETS}
T0 = 1_700_000_000_000
# Fields the docs' examples carry only for trailing-stop orders (the sandbox has no conditional orders).
TRAILING_ONLY = {"activatePrice", "priceRate", "AP", "cr"}


def doc_example(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["example"]


def _is_decimal(text: str) -> bool:
    try:
        D(text)
    except InvalidOperation:
        return False
    return True


def assert_same_shape(ours: Any, doc: Any, path: str = "$", ignore: frozenset[str] = frozenset()) -> None:
    if isinstance(doc, dict):
        assert isinstance(ours, dict), path
        assert set(ours) == set(doc) - ignore, f"{path}: keys differ {set(ours) ^ (set(doc) - ignore)}"
        for key in ours:
            assert_same_shape(ours[key], doc[key], f"{path}.{key}", ignore)
    elif isinstance(doc, list):
        assert isinstance(ours, list), path
        for item in ours:
            if doc:
                assert_same_shape(item, doc[0], f"{path}[]", ignore)
    elif doc is None:
        assert ours is None or isinstance(ours, str), path
    else:
        assert type(ours) is type(doc), f"{path}: {type(ours).__name__} != {type(doc).__name__}"
        if isinstance(doc, str) and _is_decimal(doc):
            assert _is_decimal(ours), f"{path}: {ours!r} is not a decimal string"
            assert "E" not in ours and "e" not in ours, f"{path}: exponent in {ours!r}"


def make_order(**kw: Any) -> Order:
    base: dict[str, Any] = {
        "order_id": 7,
        "symbol": "BTCUSDT",
        "account_id": 1,
        "client_order_id": "cid-1",
        "side": Side.BUY,
        "type": "LIMIT",
        "time_in_force": TimeInForce.GTC,
        "price": D("30000.10"),
        "orig_qty": D("0.010"),
        "time": T0,
        "update_time": T0,
        "extra": {"positionSide": PositionSide.BOTH, "reduceOnly": False, "origType": "LIMIT"},
    }
    base.update(kw)
    return Order(**base)


def test_fmt_and_money_never_use_exponents_and_never_round() -> None:
    assert wire.fmt(D("1E+2")) == "100"
    assert wire.fmt(D("0E-8")) == "0.00000000"
    assert wire.money(D("9999.755536450000000")) == "9999.75553645"
    assert wire.money(D("0.123456789123")) == "0.123456789123"
    assert wire.money(D(10)) == "10.00000000"
    assert wire.money(D("-0.0022400000")) == "-0.00224000"


def test_new_order_and_query_order_shapes() -> None:
    order = make_order()
    assert_same_shape(
        wire.order_json(order, with_time=False), doc_example("trade_rest_new_order"), ignore=TRAILING_ONLY
    )
    assert_same_shape(
        wire.order_json(order, with_time=True),
        doc_example("trade_rest_current_all_open_orders")[0],
        ignore=TRAILING_ONLY,
    )
    query = wire.order_json(order, with_time=True)
    assert set(doc_example("trade_rest_query_order")) - TRAILING_ONLY <= set(query)


def test_order_json_values_follow_the_order() -> None:
    order = make_order(side=Side.SELL, status=OrderStatus.PARTIALLY_FILLED)
    order.executed_qty = D("0.004")
    order.cum_quote_qty = D("120.0004")
    data = wire.order_json(order, with_time=False)
    assert data["avgPrice"] == "30000.10000000"
    assert (data["executedQty"], data["cumQty"], data["cumQuote"]) == ("0.004", "0.004", "120.0004")
    assert (data["side"], data["status"], data["positionSide"], data["type"]) == (
        "SELL",
        "PARTIALLY_FILLED",
        "BOTH",
        "LIMIT",
    )


def test_order_trade_update_shape_and_values() -> None:
    order = make_order()
    event = wire.order_trade_update(
        order,
        exec_type="TRADE",
        status="PARTIALLY_FILLED",
        executed_qty=D("0.004"),
        cum_quote_qty=D("120.0004"),
        last_qty=D("0.004"),
        last_price=D("30000.10"),
        commission=D("0.06"),
        commission_asset="USDT",
        trade_time=T0 + 5,
        trade_id=11,
        is_maker=True,
        realized_pnl=D("-1.5"),
        bids_notional=D("180.0006"),
        asks_notional=D(0),
        event_time=T0 + 6,
    )
    assert_same_shape(event, doc_example("uds_event_order_update"), ignore=TRAILING_ONLY)
    o = event["o"]
    assert (o["x"], o["X"], o["l"], o["z"], o["L"], o["t"], o["m"], o["rp"]) == (
        "TRADE",
        "PARTIALLY_FILLED",
        "0.004",
        "0.004",
        "30000.10",
        11,
        True,
        "-1.50000000",
    )
    assert (o["ap"], o["n"], o["N"], o["b"], o["er"]) == (
        "30000.10000000",
        "0.06000000",
        "USDT",
        "180.0006",
        "0",
    )


def test_account_update_shapes_for_order_and_funding() -> None:
    acct = new_account({s: m.contract() for s, m in MARKETS.items()}, {"USDT": D(1000)}, T0)
    acct.apply_fill(
        "BTCUSDT",
        TradeType.BUY,
        PositionSide.BOTH,
        D("0.01"),
        D(30000),
        is_maker=False,
        trade_id=1,
        time_ms=T0,
    )
    pos = acct.position("BTCUSDT", PositionSide.BOTH)
    event = wire.account_update(
        reason="ORDER",
        balances=[("USDT", acct.balance("USDT"), D(0))],
        positions=[wire.position_update(pos, MARKETS["BTCUSDT"], D(30100))],
        event_time=T0 + 1,
        transaction_time=T0,
    )
    assert_same_shape(event, doc_example("uds_event_balance_and_position_update"))
    p = event["a"]["P"][0]
    assert (p["pa"], p["ep"], p["up"], p["mt"], p["ps"]) == (
        "0.010",
        "30000.00000000",
        "1.00000000",
        "cross",
        "BOTH",
    )
    assert event["a"]["B"][0]["wb"] == "999.85000000"  # 1000 - 300 * 0.0005
    funding = wire.account_update(
        reason="FUNDING_FEE",
        balances=[("USDT", D(999), D(-1))],
        positions=[],
        event_time=T0,
        transaction_time=T0,
    )
    assert funding["a"]["P"] == [] and funding["a"]["m"] == "FUNDING_FEE"
    assert funding["a"]["B"][0]["bc"] == "-1.00000000"


def test_rest_account_shapes() -> None:
    contracts = {s: m.contract() for s, m in MARKETS.items()}
    acct = new_account(contracts, {"USDT": D(1000)}, T0)
    acct.apply_fill(
        "ETHUSDT", TradeType.SELL, PositionSide.BOTH, D("0.1"), D(2000), is_maker=True, trade_id=1, time_ms=T0
    )
    marks = {"BTCUSDT": D(30000), "ETHUSDT": D(1990)}
    info = wire.account_v2(acct, MARKETS, marks, [make_order()])
    assert_same_shape(info, doc_example("account_rest_account_information_v2"))
    eth = next(p for p in info["positions"] if p["symbol"] == "ETHUSDT")
    assert (eth["positionAmt"], eth["unrealizedProfit"], eth["leverage"]) == ("-0.100", "1.00000000", "20")
    assert info["totalUnrealizedProfit"] == "1.00000000"
    btc = next(p for p in info["positions"] if p["symbol"] == "BTCUSDT")
    assert btc["bidNotional"] == "300.00100"
    assert_same_shape(
        wire.balance_v2(acct, marks, "sb1"), doc_example("account_rest_futures_account_balance_v2")
    )
    risk = [
        wire.position_risk_v2(acct, acct.position(s, PositionSide.BOTH), MARKETS[s], marks[s])
        for s in MARKETS
    ]
    assert_same_shape(risk, doc_example("trade_rest_position_information_v2"))
    assert_same_shape(
        [wire.income_row(r) for r in acct.income], doc_example("account_rest_get_income_history")
    )
    trade = wire.user_trade(
        symbol="ETHUSDT",
        trade_id=1,
        order_id=2,
        side=Side.SELL,
        position_side=PositionSide.BOTH,
        price=D(2000),
        qty=D("0.1"),
        commission=D("0.04"),
        commission_asset="USDT",
        realized_pnl=D(0),
        is_maker=True,
        time=T0,
    )
    assert_same_shape([trade], doc_example("trade_rest_account_trade_list"))
    assert trade["quoteQty"] == "200.0" and trade["buyer"] is False


def test_market_data_shapes() -> None:
    state = MarkState.start("BTCUSDT", D("30000.5"), T0, interval_ms=8 * 3600 * 1000)
    assert_same_shape(wire.premium_index(state), doc_example("market_rest_mark_price"))
    assert_same_shape(wire.mark_price_update(state, T0), doc_example("ws_market_mark_price_stream"))
    book = ([(D("30000.0"), D("1.5"))], [(D("30000.1"), D("0.2"))])
    assert_same_shape(wire.depth_snapshot(42, *book, T0, T0), doc_example("market_rest_order_book"))
    assert_same_shape(
        wire.depth_update("BTCUSDT", 40, 42, 39, *book, T0, T0),
        doc_example("ws_market_diff_book_depth_streams"),
    )
    assert_same_shape(
        wire.agg_trade("BTCUSDT", 1, D(30000), D("0.5"), 3, 4, T0, False, T0),
        doc_example("ws_market_aggregate_trade_streams"),
    )
    assert_same_shape(
        wire.book_ticker("BTCUSDT", 42, book[0][0], book[1][0], T0, T0),
        doc_example("ws_market_individual_symbol_book_ticker_streams"),
    )


def test_exchange_info_shape() -> None:
    limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}]
    info = wire.exchange_info(MARKETS.values(), limits, T0, T0)
    doc = doc_example("market_rest_exchange_information")
    assert set(info) == set(doc)
    assert_same_shape(info["rateLimits"], doc["rateLimits"])
    sym = info["symbols"][0]
    assert set(sym) == set(doc["symbols"][0])
    by_type = {f["filterType"]: f for f in sym["filters"]}
    for doc_filter in doc["symbols"][0]["filters"]:
        assert_same_shape(by_type[doc_filter["filterType"]], doc_filter)
    assert by_type["PRICE_FILTER"]["tickSize"] == "0.10"
    assert by_type["LOT_SIZE"]["stepSize"] == "0.001"


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_every_fixture_names_its_doc_page(name: str) -> None:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    assert data["doc"].startswith("https://developers.binance.com/docs/derivatives/usds-margined-futures/")


def test_v3_account_and_position_risk_list_only_active_positions() -> None:
    contracts = {s: m.contract() for s, m in MARKETS.items()}
    acct = new_account(contracts, {"USDT": D(1000)}, T0)
    acct.apply_fill(
        "ETHUSDT", TradeType.BUY, PositionSide.BOTH, D("0.5"), D(2000), is_maker=False, trade_id=1, time_ms=T0
    )
    order = make_order()  # a resting BTC bid, no BTC position
    acct.reserve_order(7, "BTCUSDT", TradeType.BUY, PositionSide.BOTH, D("30000.10"), D("0.010"), False)
    marks = {"BTCUSDT": D(30000), "ETHUSDT": D(2010)}
    rows = wire.position_risk_v3(acct, MARKETS, marks, [order], None)
    assert_same_shape(rows, doc_example("trade_rest_position_information_v3"))
    by_symbol = {r["symbol"]: r for r in rows}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT"}
    btc, eth = by_symbol["BTCUSDT"], by_symbol["ETHUSDT"]
    assert (btc["positionAmt"], btc["openOrderInitialMargin"], btc["bidNotional"]) == (
        "0.000",
        "15.00005000",  # 300.001 / 20
        "300.00100",
    )
    assert (eth["positionAmt"], eth["positionInitialMargin"], eth["maintMargin"]) == (
        "0.500",
        "50.25000000",  # 1005 / 20
        "5.02500000",  # 1005 * 0.005
    )
    assert wire.position_risk_v3(acct, MARKETS, marks, [order], "ETHUSDT") == [eth]
    info = wire.account_v3(acct, MARKETS, marks, [order])
    assert_same_shape(info, doc_example("account_rest_account_information_v3"))
    assert {p["symbol"] for p in info["positions"]} == {"BTCUSDT", "ETHUSDT"}
    assert info["totalOpenOrderInitialMargin"] == "15.00005000"
    assert_same_shape(
        wire.balance_v2(acct, marks, "sb1"), doc_example("account_rest_futures_account_balance_v3")
    )
