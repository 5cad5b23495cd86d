"""FuturesExchange without HTTP: order answers, events, reduce-only knock-out, funding, marks."""

from __future__ import annotations

import random
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_futures_wire import assert_same_shape, doc_example

from connectorkit.core.enums import PositionSide
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.simulator import MarketSimulator, SimMarket
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.futures.exchange import FuturesExchange, OrderRequest
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket
from connectorkit.sandbox.venues.binance.futures.product import FuturesSimAdapter


class Recorder:
    def __init__(self) -> None:
        self.user: list[tuple[int, dict[str, Any]]] = []
        self.market: list[tuple[str, dict[str, Any]]] = []

    def emit(self, account_id: int, event: dict[str, Any]) -> None:
        self.user.append((account_id, event))

    def publish(self, stream: str, event: dict[str, Any]) -> None:
        self.market.append((stream, event))

    def user_events(self, account_id: int, kind: str) -> list[dict[str, Any]]:
        return [e for a, e in self.user if a == account_id and e["e"] == kind]


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def ex(rec: Recorder) -> FuturesExchange:
    market = FuturesMarket("BTCUSDT", "BTC", funding_interval_ms=1000, funding_rate=D("0.0005"))
    exchange = FuturesExchange([market], SandboxClock(), rec.emit, rec.publish)
    for aid in (1, 2, 3):
        exchange.fund(aid, {"USDT": D(100_000)})
    return exchange


def lim(side: str, qty: str, price: str, **kw: Any) -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "LIMIT", D(qty), D(price), time_in_force="GTC", **kw)


def mkt(side: str, qty: str, **kw: Any) -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "MARKET", D(qty), **kw)


def test_ack_answers_before_matching_and_result_after(ex: FuturesExchange) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ack = ex.new_order(1, mkt("BUY", "0.004"))
    assert (ack["status"], ack["executedQty"]) == ("NEW", "0")
    result = ex.new_order(1, mkt("BUY", "0.004", resp_type="RESULT"))
    assert (result["status"], result["executedQty"], result["avgPrice"]) == (
        "FILLED",
        "0.004",
        "30000.00000000",
    )
    assert ex.orders[ack["orderId"]].status.value == "FILLED"  # the ACK'd order did trade


def test_events_per_fill_and_agg_trade_per_taker_run(ex: FuturesExchange, rec: Recorder) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ex.new_order(3, lim("SELL", "0.010", "30000.0"))
    ex.new_order(2, lim("SELL", "0.010", "30000.5"))
    ex.new_order(1, mkt("BUY", "0.025"))
    taker = [e["o"] for e in rec.user_events(1, "ORDER_TRADE_UPDATE")]
    assert [(o["x"], o["X"], o["l"]) for o in taker] == [
        ("NEW", "NEW", "0"),
        ("TRADE", "PARTIALLY_FILLED", "0.010"),
        ("TRADE", "PARTIALLY_FILLED", "0.010"),
        ("TRADE", "FILLED", "0.005"),
    ]
    updates = rec.user_events(1, "ACCOUNT_UPDATE")
    assert [u["a"]["P"][0]["pa"] for u in updates] == ["0.010", "0.020", "0.025"]
    makers = [e["o"] for e in rec.user_events(2, "ORDER_TRADE_UPDATE") if e["o"]["x"] == "TRADE"]
    assert all(o["m"] for o in makers)
    aggs = [e for s, e in rec.market if s == "btcusdt@aggTrade"]
    assert [(a["p"], a["q"], a["l"] - a["f"]) for a in aggs] == [
        ("30000.0", "0.020", 1),
        ("30000.5", "0.005", 0),
    ]
    tickers = [e for s, e in rec.market if s == "btcusdt@bookTicker"]
    assert (tickers[-1]["a"], tickers[-1]["A"]) == ("30000.5", "0.005")


def test_resting_reduce_only_order_is_expired_when_the_position_shrinks(
    ex: FuturesExchange, rec: Recorder
) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.010"))
    ro = ex.new_order(1, lim("SELL", "0.010", "31000.0", reduce_only=True))
    # the position is closed by a plain (non reduce-only) order: the resting RO order would now open a short
    ex.new_order(3, lim("BUY", "0.010", "29000.0"))
    ex.new_order(1, mkt("SELL", "0.010"))
    assert ex.orders[ro["orderId"]].status.value == "EXPIRED"
    expired = [e["o"] for e in rec.user_events(1, "ORDER_TRADE_UPDATE") if e["o"]["x"] == "EXPIRED"]
    assert [(o["i"], o["er"], o["R"]) for o in expired] == [(ro["orderId"], "4", True)]
    assert ex.open_orders(1) == []


def test_market_remainder_expires_with_reason_9(ex: FuturesExchange, rec: Recorder) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    answer = ex.new_order(1, mkt("BUY", "0.020", resp_type="RESULT"))
    assert (answer["status"], answer["executedQty"]) == ("EXPIRED", "0.010")
    last = rec.user_events(1, "ORDER_TRADE_UPDATE")[-1]["o"]
    assert (last["x"], last["X"], last["er"]) == ("EXPIRED", "EXPIRED", "9")


def test_funding_settles_with_balance_only_account_update(ex: FuturesExchange, rec: Recorder) -> None:
    ex.new_order(2, lim("SELL", "0.100", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.100"))
    state = ex.marks["BTCUSDT"]
    state.next_funding_time = ex.clock.now_ms() - 1  # due now
    assert ex.settle_funding() == 2
    [long_update] = [u for u in rec.user_events(1, "ACCOUNT_UPDATE") if u["a"]["m"] == "FUNDING_FEE"]
    assert long_update["a"]["P"] == []
    assert long_update["a"]["B"][0]["bc"] == "-1.50000000"  # 0.1 * 30000 * 0.0005
    [short_income] = [r for r in ex.account(2).income if r.income_type == "FUNDING_FEE"]
    assert short_income.income == D("1.5")
    assert ex.settle_funding() == 0  # not due again until the next interval


def test_marks_follow_the_book_mid(ex: FuturesExchange) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30010.0"))
    ex.new_order(3, lim("BUY", "0.010", "29990.0"))
    ex.refresh_marks()
    assert ex.marks["BTCUSDT"].mark_price == D("30000.0")


def test_hedge_mode_orders_carry_their_position_side(ex: FuturesExchange, rec: Recorder) -> None:
    ex.set_dual_side(1, True)
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.010", position_side="LONG"))
    assert ex.account(1).position("BTCUSDT", PositionSide.LONG).amount == D("0.010")
    assert rec.user_events(1, "ORDER_TRADE_UPDATE")[-1]["o"]["ps"] == "LONG"
    with pytest.raises(ApiError) as err:
        ex.new_order(1, mkt("SELL", "0.011", position_side="LONG"))
    assert err.value.code == -2022


def test_unknown_order_lookups(ex: FuturesExchange) -> None:
    with pytest.raises(ApiError) as err:
        ex.find_order(1, "BTCUSDT", None, None)
    assert err.value.code == -1102
    placed = ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    with pytest.raises(ApiError) as err:
        ex.find_order(1, "BTCUSDT", placed["orderId"], None)  # someone else's order
    assert err.value.code == -2013
    assert ex.find_order(2, "BTCUSDT", None, placed["clientOrderId"]).order_id == placed["orderId"]


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        ("0.012", "100.00", -4023),  # step 0.005
        ("0.005", "100.00", -4004),  # below minQty 0.010
        ("20.000", "100.00", -4005),  # above maxQty 10
        ("0.0101", "100.00", -1111),  # quantityPrecision 3
        ("0.010", "100.03", -4014),  # tick 0.05
        ("0.010", "0.05", -4013),  # below minPrice 0.10
        ("0.010", "999999.00", -4002),  # above maxPrice
        ("0.010", "100.001", -1111),  # pricePrecision 2
    ],
)
def test_order_filters(rec: Recorder, qty: str, price: str, code: int) -> None:
    market = FuturesMarket(
        "XYZUSDT",
        "XYZ",
        tick_size=D("0.05"),
        step_size=D("0.005"),
        min_qty=D("0.010"),
        max_qty=D(10),
        min_price=D("0.10"),
        max_price=D(1000),
        min_notional=D("0.5"),
        mid=D(100),
    )
    ex = FuturesExchange([market], SandboxClock(), rec.emit, rec.publish)
    ex.fund(1, {"USDT": D(10_000)})
    with pytest.raises(ApiError) as err:
        ex.new_order(1, OrderRequest("XYZUSDT", "BUY", "LIMIT", D(qty), D(price), time_in_force="GTC"))
    assert err.value.code == code
    ok = ex.new_order(1, OrderRequest("XYZUSDT", "BUY", "LIMIT", D("0.015"), D("99.95"), time_in_force="GTC"))
    assert ok["status"] == "NEW"


def test_a_transfer_in_is_income_and_an_account_update_with_reason_deposit(
    ex: FuturesExchange, rec: Recorder
) -> None:
    ex.transfer_in(1, "USDT", D("250.5"))
    [event] = rec.user_events(1, "ACCOUNT_UPDATE")
    assert_same_shape(event, doc_example("uds_event_balance_and_position_update"))
    assert event["a"]["m"] == "DEPOSIT" and event["a"]["P"] == []
    wallet = "100250.50000000"
    assert event["a"]["B"] == [{"a": "USDT", "wb": wallet, "cw": wallet, "bc": "250.50000000"}]
    booked = ex.account(1).income[-1]
    assert (booked.income_type, booked.income) == ("TRANSFER", D("250.5"))


def test_a_leverage_change_is_pushed_as_account_config_update(ex: FuturesExchange, rec: Recorder) -> None:
    assert ex.set_leverage(1, "BTCUSDT", 25)["leverage"] == 25
    [event] = rec.user_events(1, "ACCOUNT_CONFIG_UPDATE")
    assert_same_shape(event, doc_example("uds_event_account_configuration_update"))
    assert event["ac"] == {"s": "BTCUSDT", "l": 25}
    with pytest.raises(ApiError):
        ex.set_leverage(1, "BTCUSDT", 126)
    assert len(rec.user_events(1, "ACCOUNT_CONFIG_UPDATE")) == 1  # a refused change pushes nothing


def test_zero_quantity_message_is_the_documented_one(ex: FuturesExchange) -> None:
    # USDⓈ-M "Error Codes": -4003 QTY_LESS_THAN_ZERO "Quantity less than zero."
    with pytest.raises(ApiError) as err:
        ex.new_order(1, lim("BUY", "0.000", "30000.0"))
    assert (err.value.code, err.value.msg) == (-4003, "Quantity less than zero.")


def test_margin_call_is_pushed_once_per_crossing(ex: FuturesExchange, rec: Recorder) -> None:
    poor = 9
    ex.fund(poor, {"USDT": D(200)})
    ex.account(poor).set_leverage("BTCUSDT", 125, ex.mark_prices())
    ex.new_order(2, lim("SELL", "0.100", "30000.0"))
    ex.new_order(poor, mkt("BUY", "0.100"))  # 3000 notional on 200 USDT
    assert ex.check_margin_calls() == 0
    state = ex.marks["BTCUSDT"]
    state.update_prices(D(28100), D(28100), 0)  # loss 190: margin balance ~8.5 < maint 11.24
    assert ex.check_margin_calls() == 1
    assert ex.check_margin_calls() == 0  # once per crossing
    [call] = [e for a, e in rec.user if a == poor and e["e"] == "MARGIN_CALL"]
    assert_same_shape(call, doc_example("uds_event_margin_call"))
    p = call["p"][0]
    assert (p["s"], p["ps"], p["pa"], p["mp"], p["up"], p["mm"]) == (
        "BTCUSDT",
        "BOTH",
        "0.100",
        "28100.00000000",
        "-190.00000000",
        "11.24000000",
    )
    state.update_prices(D(30000), D(30000), 0)
    assert ex.check_margin_calls() == 0
    state.update_prices(D(28000), D(28000), 0)
    assert ex.check_margin_calls() == 1  # a new crossing warns again


def _underwater(ex: FuturesExchange, account_id: int, usdt: str) -> dict[str, Any]:
    ex.fund(account_id, {"USDT": D(usdt)})
    ex.account(account_id).set_leverage("BTCUSDT", 125, ex.mark_prices())
    ex.new_order(2, lim("SELL", "0.100", "30000.0"))
    ex.new_order(account_id, mkt("BUY", "0.100"))  # 3000 notional; taker fee 1.5
    return ex.new_order(account_id, lim("BUY", "0.001", "20000.0"))  # a resting order


def test_liquidation_closes_at_mark_expires_orders_and_reports_it(ex: FuturesExchange, rec: Recorder) -> None:
    resting = _underwater(ex, 9, "200")
    assert ex.liquidate() == 0
    ex.marks["BTCUSDT"].update_prices(D(28100), D(28100), 0)
    assert ex.liquidate() == 1
    acct = ex.account(9)
    assert acct.open_positions() == [] and ex.open_orders(9) == []
    # "Event: Order Update", expiry reason 5: open orders expire when the account is liquidated.
    assert ex.orders[resting["orderId"]].status.value == "EXPIRED"
    updates = rec.user_events(9, "ORDER_TRADE_UPDATE")
    expired = [e["o"] for e in updates if e["o"]["i"] == resting["orderId"]][-1]
    assert (expired["x"], expired["X"], expired["er"]) == ("EXPIRED", "EXPIRED", "5")
    # realized at the mark: 0.1 * (28100 - 30000) = -190; taker fee 0.1 * 28100 * 0.0005 = 1.405
    assert acct.balance("USDT") == D(200) - D("1.5") - D(190) - D("1.405")
    kinds = [(r.income_type, r.income) for r in acct.income][-2:]
    assert kinds == [("REALIZED_PNL", D(-190)), ("COMMISSION", D("-1.4050"))]
    updates = [e["o"] for e in rec.user_events(9, "ORDER_TRADE_UPDATE") if e["o"]["o"] == "LIQUIDATION"]
    assert [(o["x"], o["X"], o["S"], o["R"]) for o in updates] == [
        ("NEW", "NEW", "SELL", True),
        ("CALCULATED", "FILLED", "SELL", True),
    ]
    assert updates[0]["c"].startswith("autoclose-")
    assert (updates[1]["l"], updates[1]["L"], updates[1]["rp"]) == ("0.100", "28100", "-190.00000000")
    last_account = rec.user_events(9, "ACCOUNT_UPDATE")[-1]
    assert last_account["a"]["P"][0]["pa"] == "0.000"
    assert [leg.realized_pnl for leg in ex.ledger.trades[9]][-1] == D(-190)
    assert not [s for s, _ in rec.market if s.endswith("@aggTrade") and _["p"] == "28100"]
    assert ex.liquidate() == 0  # nothing left to liquidate


def test_a_negative_wallet_after_liquidation_is_cleared_by_the_insurance_fund(
    ex: FuturesExchange, rec: Recorder
) -> None:
    _underwater(ex, 9, "200")
    ex.marks["BTCUSDT"].update_prices(D(27000), D(27000), 0)  # loss 300 > wallet
    assert ex.liquidate() == 1
    acct = ex.account(9)
    assert acct.balance("USDT") == 0
    clear = acct.income[-1]
    assert clear.income_type == "INSURANCE_CLEAR" and clear.income == D("102.8500")  # 300 + 1.35 + 1.5 - 200
    event = rec.user_events(9, "ACCOUNT_UPDATE")[-1]
    assert event["a"]["m"] == "INSURANCE_CLEAR" and event["a"]["B"][0]["wb"] == "0.00000000"


def _simulated_run(seed: int) -> list[Any]:
    """User events (times dropped) of 150 simulator steps on a fresh exchange seeded with ``seed``."""
    rec = Recorder()
    market = FuturesMarket("BTCUSDT", "BTC")
    ex = FuturesExchange([market], SandboxClock(), rec.emit, rec.publish, random.Random(seed))
    for aid in (1, 2):
        ex.fund(aid, {"USDT": D(10_000_000)})
    sim_market = SimMarket(
        market.symbol, market.tick_size, market.step_size, market.min_qty, market.min_notional,
        market.mid, market.volatility,
    )
    sim = MarketSimulator(FuturesSimAdapter(ex), [sim_market], random.Random(seed), 1, 2)
    for _ in range(150):
        sim.step()
    out: list[Any] = []
    for account_id, event in rec.user:
        body = event.get("o") or event.get("a") or event
        out.append((account_id, event["e"], {k: v for k, v in body.items() if k not in ("T", "E")}))
    return out


def test_a_seeded_run_is_reproduced_event_for_event() -> None:
    # Orders sent without newClientOrderId (all the simulated traders' orders) get ids drawn from
    # the seeded generator, so a seeded sandbox replays the same user-data stream.
    first, second = _simulated_run(5), _simulated_run(5)
    trades = [o for _, kind, o in first if kind == "ORDER_TRADE_UPDATE" and o["x"] == "TRADE"]
    assert len(first) > 100 and trades
    assert first == second
    assert first != _simulated_run(6)


def test_simulated_traders_get_no_user_events_and_leave_no_leg_records(
    ex: FuturesExchange, rec: Recorder
) -> None:
    ex.ephemeral_accounts.add(2)
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.010"))
    ex.clock.skew_ms = 2_000  # past the next 1 s funding time
    assert ex.settle_funding() == 2  # both still pay or receive funding
    assert [a for a, _ in rec.user] and {a for a, _ in rec.user} == {1}
    assert ex.ledger._legs == {}
    assert ex.account(2).position("BTCUSDT", PositionSide.BOTH).amount == D("-0.010")
    assert [s for s, _ in rec.market if s.endswith("@aggTrade")]  # the market still sees the trade


def test_orders_are_forgotten_as_query_order_documents(ex: FuturesExchange) -> None:
    # Trade REST, "Query Order": CANCELED/EXPIRED with no fill are not found after 3 days; any
    # order after 90 days. Without this a long run would keep every order ever placed.
    cancelled = ex.new_order(1, lim("BUY", "0.010", "29000.0"))["orderId"]
    ex.cancel_order(1, "BTCUSDT", cancelled, None)
    ioc = OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.010"), D("29000.0"), time_in_force="IOC")
    expired = ex.new_order(1, ioc)["orderId"]
    ex.new_order(2, lim("SELL", "0.005", "30000.0"))
    part = ex.new_order(1, lim("BUY", "0.010", "30000.0"))["orderId"]  # half filled, then cancelled
    ex.cancel_order(1, "BTCUSDT", part, None)
    resting = ex.new_order(1, lim("BUY", "0.010", "28000.0"))["orderId"]
    now = ex.clock.now_ms()
    assert ex.prune_orders(now + 3 * 86_400_000 - 60_000) == 0
    assert ex.prune_orders(now + 3 * 86_400_000 + 60_000) == 2
    for order_id in (cancelled, expired):
        with pytest.raises(ApiError) as err:
            ex.find_order(1, "BTCUSDT", order_id, None)
        assert err.value.code == -2013
    assert ex.find_order(1, "BTCUSDT", part, None).executed_qty == D("0.005")
    assert ex.prune_orders(now + 90 * 86_400_000 + 60_000) == 2  # part and the sell; resting stays
    assert ex.find_order(1, "BTCUSDT", resting, None).is_open


def _position(ex: FuturesExchange, account_id: int) -> D:
    return ex.account(account_id).position("BTCUSDT", PositionSide.BOTH).amount


def test_a_reduce_only_maker_is_knocked_out_inside_the_sweep_that_closed_its_position(
    ex: FuturesExchange, rec: Recorder
) -> None:
    # NEEDS.md request 4: long 0.02, a plain SELL at 30100 and a reduce-only SELL at 30200, then a
    # 0.04 MARKET BUY from someone else. The plain SELL closes the long first; the reduce-only SELL
    # would open a short, so it is expired (reason 4) instead of trading.
    ex.new_order(2, lim("SELL", "0.020", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.020"))
    plain = ex.new_order(1, lim("SELL", "0.020", "30100.0"))
    ro = ex.new_order(1, lim("SELL", "0.020", "30200.0", reduce_only=True))
    taker = ex.new_order(3, mkt("BUY", "0.040", resp_type="RESULT"))
    assert _position(ex, 1) == 0
    assert (taker["status"], taker["executedQty"]) == ("EXPIRED", "0.020")
    assert ex.orders[plain["orderId"]].status.value == "FILLED"
    knocked = ex.orders[ro["orderId"]]
    assert (knocked.status.value, knocked.executed_qty) == ("EXPIRED", 0)
    events = [e["o"] for e in rec.user_events(1, "ORDER_TRADE_UPDATE") if e["o"]["i"] == ro["orderId"]]
    assert [(o["x"], o["X"], o["z"], o["er"], o["R"]) for o in events] == [
        ("NEW", "NEW", "0", "0", True),
        ("EXPIRED", "EXPIRED", "0", "4", True),
    ]
    assert ex.open_orders(1) == []
    assert not ex.account(1).has_open_orders()  # the knocked-out order's claim was released


def test_a_reduce_only_maker_trades_what_is_left_of_its_position_then_expires(
    ex: FuturesExchange, rec: Recorder
) -> None:
    ex.new_order(2, lim("SELL", "0.020", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.020"))
    ex.new_order(1, lim("SELL", "0.010", "30100.0"))
    ro = ex.new_order(1, lim("SELL", "0.020", "30200.0", reduce_only=True))
    ex.new_order(2, lim("SELL", "0.010", "30300.0"))
    taker = ex.new_order(3, mkt("BUY", "0.040", resp_type="RESULT"))
    # 0.010 plain + 0.010 of the reduce-only order (all the long left), then the sweep goes on to 30300
    assert (taker["status"], taker["executedQty"]) == ("EXPIRED", "0.030")
    assert _position(ex, 1) == 0
    assert _position(ex, 3) == D("0.030")
    events = [e["o"] for e in rec.user_events(1, "ORDER_TRADE_UPDATE") if e["o"]["i"] == ro["orderId"]]
    assert [(o["x"], o["X"], o["l"], o["z"], o["er"]) for o in events] == [
        ("NEW", "NEW", "0", "0", "0"),
        ("TRADE", "PARTIALLY_FILLED", "0.010", "0.010", "0"),
        ("EXPIRED", "EXPIRED", "0", "0.010", "4"),
    ]
    assert [a["p"] for s, a in rec.market if s == "btcusdt@aggTrade"][-3:] == [
        "30100.0",
        "30200.0",
        "30300.0",
    ]


def test_fok_is_rejected_when_only_a_knocked_out_reduce_only_maker_would_fill_it(ex: FuturesExchange) -> None:
    ex.new_order(2, lim("SELL", "0.010", "30000.0"))
    ex.new_order(1, mkt("BUY", "0.010"))
    ex.new_order(1, lim("SELL", "0.010", "30100.0"))
    ex.new_order(1, lim("SELL", "0.010", "30200.0", reduce_only=True))
    req = OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.020"), D("30200.0"), time_in_force="FOK")
    with pytest.raises(ApiError) as err:
        ex.new_order(3, req)
    assert err.value.code == -5021
    assert _position(ex, 1) == D("0.010")  # nothing traded


_order_step = st.tuples(
    st.sampled_from([1, 2]),
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from(["LIMIT", "MARKET"]),
    st.integers(min_value=1, max_value=4).map(lambda n: D(n) / 100),
    st.integers(min_value=-3, max_value=3).map(lambda n: D(30000) + D(n) * 10),
    st.booleans(),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_order_step, min_size=1, max_size=40))
@example(  # the NEEDS.md sweep: a plain SELL closes the long ahead of the reduce-only SELL
    [
        (2, "SELL", "LIMIT", D("0.02"), D(30000), False),
        (1, "BUY", "MARKET", D("0.02"), D(30000), False),
        (1, "SELL", "LIMIT", D("0.02"), D(30010), False),
        (1, "SELL", "LIMIT", D("0.02"), D(30020), True),
        (2, "BUY", "MARKET", D("0.04"), D(30000), False),
    ]
)
def test_a_reduce_only_order_never_grows_or_flips_its_position(steps: list) -> None:  # type: ignore[type-arg]
    market = FuturesMarket("BTCUSDT", "BTC")
    ex = FuturesExchange([market], SandboxClock(), lambda a, e: None, lambda s, e: None)
    for aid in (1, 2):
        ex.fund(aid, {"USDT": D(10_000_000)})
    for account_id, side, kind, q, p, reduce_only in steps:
        req = lim(side, str(q), str(p), reduce_only=reduce_only) if kind == "LIMIT" else mkt(
            side, str(q), reduce_only=reduce_only
        )
        try:
            ex.new_order(account_id, req)
        except ApiError:
            continue  # refused (-2022 reduce-only, -4164 notional, ...): nothing traded
    legs = [leg for records in ex.ledger.trades.values() for leg in records]
    for leg in legs:
        if not ex.orders[leg.order_id].extra["reduceOnly"]:
            continue
        after = leg.position.amount
        before = after - (leg.qty if leg.side.value == "BUY" else -leg.qty)
        assert abs(after) < abs(before), leg
        assert after == 0 or (after > 0) == (before > 0), leg
    for aid in (1, 2):
        # whatever is still resting reduce-only can at most close what is there
        pos = _position(ex, aid)
        for order in ex.open_orders(aid):
            if order.extra["reduceOnly"]:
                assert (pos > 0 and order.side.value == "SELL") or (pos < 0 and order.side.value == "BUY")
                assert order.remaining <= abs(pos)
