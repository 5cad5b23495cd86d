"""Spot exchange rules: validation errors as Binance answers them, balances, commissions, events."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from connectorkit.sandbox.accounts import Account, AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange

MARKET = Market(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size=D("0.01"),
    step_size=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("10"),
)


class Env:
    def __init__(self) -> None:
        self.reg = AccountRegistry()
        self.ex = SpotExchange([MARKET], SandboxClock(), self.reg)
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.ex.user_sink = lambda acct, ev: self.events.append((acct, ev))

    def account(self, usdt: str = "0", btc: str = "0", maker: str = "0.001", taker: str = "0.001") -> Account:
        acct = self.reg.create(maker_commission=D(maker), taker_commission=D(taker))
        if D(usdt):
            self.ex.deposit(acct.account_id, "USDT", D(usdt))
        if D(btc):
            self.ex.deposit(acct.account_id, "BTC", D(btc))
        return acct

    def order(self, acct: Account, **kw: Any) -> Any:
        params: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT"}
        params["time_in_force"] = "GTC"
        params.update(kw)
        return self.ex.new_order(acct, **params)

    def bal(self, acct: Account, asset: str) -> tuple[D, D]:
        b = self.ex.ledger.balance(acct.account_id, asset)
        return b.free, b.locked


@pytest.fixture
def env() -> Env:
    return Env()


MANDATORY = "Mandatory parameter '{}' was not sent, was empty/null, or malformed."
NO_FUNDS = "Account has insufficient balance for requested action."


@pytest.mark.parametrize(
    ("kw", "code", "msg"),
    [
        ({"symbol": "NOPE"}, -1121, "Invalid symbol."),
        ({"side": "UP"}, -1117, "Invalid side."),
        ({"order_type": "STOP"}, -1116, "Invalid orderType."),
        ({"time_in_force": None}, -1102, MANDATORY.format("timeInForce")),
        ({"time_in_force": "GTD"}, -1115, "Invalid timeInForce."),
        ({"quantity": None}, -1102, MANDATORY.format("quantity")),
        ({"price": D("100.001")}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": D("0.0015")}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": D("0.0001")}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": D("0.001"), "price": D("100")}, -1013, "Filter failure: NOTIONAL"),
        ({"quantity": D("1"), "price": D("100000")}, -2010, NO_FUNDS),
        ({"client_order_id": "bad id!"}, -1100, None),
    ],
)
def test_order_validation_errors(env: Env, kw: dict[str, Any], code: int, msg: str | None) -> None:
    acct = env.account(usdt="1000")
    params = {"quantity": D("1"), "price": D("100")}
    params.update(kw)
    with pytest.raises(ApiError) as err:
        env.order(acct, **params)
    assert err.value.code == code
    if msg is not None:
        assert err.value.msg == msg
    assert env.bal(acct, "USDT") == (D("1000"), D("0"))  # nothing locked by a refused order


def test_market_param_rules(env: Env) -> None:
    acct = env.account(usdt="1000")
    with pytest.raises(ApiError) as err:
        env.order(acct, order_type="MARKET", time_in_force="GTC", quantity=D("1"))
    assert (err.value.code, err.value.msg) == (-1106, "Parameter 'timeInForce' sent when not required.")
    with pytest.raises(ApiError) as err:
        env.order(acct, order_type="MARKET", time_in_force=None)
    assert err.value.msg == "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"


def test_limit_maker_would_take_rejected(env: Env) -> None:
    seller = env.account(btc="1")
    buyer = env.account(usdt="10000")
    env.order(seller, side="SELL", quantity=D("1"), price=D("100"))
    with pytest.raises(ApiError) as err:
        env.order(buyer, order_type="LIMIT_MAKER", time_in_force=None, quantity=D("1"), price=D("100"))
    assert (err.value.code, err.value.msg) == (-2010, "Order would immediately match and take.")
    assert env.bal(buyer, "USDT") == (D("10000"), D("0"))
    # A refused order sends no user event, not even later: the next flush (another account's order)
    # must not carry a balance update for the buyer, whose balances never changed.
    env.events.clear()
    other = env.account(btc="1")
    env.order(other, side="SELL", quantity=D("0.5"), price=D("101"))
    assert {acct for acct, _ in env.events} == {other.account_id}


def test_commissions_in_received_asset_and_locking(env: Env) -> None:
    seller = env.account(btc="2", maker="0.001", taker="0.002")
    buyer = env.account(usdt="100000", maker="0.001", taker="0.002")
    env.order(seller, side="SELL", quantity=D("1"), price=D("30000"))
    assert env.bal(seller, "BTC") == (D("1"), D("1"))
    result = env.order(buyer, quantity=D("1.5"), price=D("30100"))
    # Taker buyer pays 0.2% of the BTC received; maker seller pays 0.1% of the USDT received.
    fills = result.fills
    assert len(fills) == 1
    assert fills[0].charge.commission == D("0.002") and fills[0].charge.commission_asset == "BTC"
    assert env.bal(buyer, "BTC") == (D("0.998"), D("0"))
    # 30000 spent; remainder 0.5 rests at 30100 → 15050 locked; price improvement returned.
    assert env.bal(buyer, "USDT") == (D("100000") - D("30000") - D("15050"), D("15050"))
    assert env.bal(seller, "USDT") == (D("29970"), D("0"))
    assert env.ex.ledger.fees_collected["BTC"] == D("0.002")
    assert env.ex.ledger.fees_collected["USDT"] == D("30")


def test_duplicate_client_order_id_while_open(env: Env) -> None:
    acct = env.account(usdt="10000")
    env.order(acct, quantity=D("1"), price=D("100"), client_order_id="same")
    with pytest.raises(ApiError) as err:
        env.order(acct, quantity=D("1"), price=D("100"), client_order_id="same")
    assert (err.value.code, err.value.msg) == (-2010, "Duplicate order sent.")
    env.ex.cancel_order(acct, "BTCUSDT", None, "same")
    env.order(acct, quantity=D("1"), price=D("100"), client_order_id="same")  # reusable once closed


def test_cancel_query_errors_and_ownership(env: Env) -> None:
    a = env.account(usdt="10000")
    b = env.account(usdt="10000")
    placed = env.order(a, quantity=D("1"), price=D("100")).order
    with pytest.raises(ApiError) as err:
        env.ex.cancel_order(b, "BTCUSDT", placed.order_id, None)
    assert (err.value.code, err.value.msg) == (-2011, "Unknown order sent.")
    with pytest.raises(ApiError) as err:
        env.ex.query_order(b, "BTCUSDT", placed.order_id, None)
    assert (err.value.code, err.value.msg) == (-2013, "Order does not exist.")
    canceled = env.ex.cancel_order(a, "BTCUSDT", placed.order_id, None, "cxl1")
    assert canceled.status.value == "CANCELED"
    assert env.bal(a, "USDT") == (D("10000"), D("0"))
    with pytest.raises(ApiError) as err:
        env.ex.cancel_order(a, "BTCUSDT", placed.order_id, None)
    assert err.value.code == -2011
    assert env.ex.query_order(a, "BTCUSDT", placed.order_id, None).status.value == "CANCELED"


def test_user_events_sequence_for_a_fill(env: Env) -> None:
    seller = env.account(btc="1")
    buyer = env.account(usdt="100000")
    env.events.clear()
    maker = env.order(seller, side="SELL", quantity=D("1"), price=D("30000"), client_order_id="mk").order
    env.order(buyer, quantity=D("1"), price=D("30000"), client_order_id="tk")
    kinds = [(acct, ev["e"], ev.get("x"), ev.get("X")) for acct, ev in env.events]
    s, b = seller.account_id, buyer.account_id
    assert kinds == [
        (s, "executionReport", "NEW", "NEW"),
        (s, "outboundAccountPosition", None, None),
        (b, "executionReport", "NEW", "NEW"),
        (s, "executionReport", "TRADE", "FILLED"),
        (b, "executionReport", "TRADE", "FILLED"),
        (b, "outboundAccountPosition", None, None),
        (s, "outboundAccountPosition", None, None),
    ]
    trade_evs = [ev for _, ev in env.events if ev.get("x") == "TRADE"]
    maker_ev = next(ev for ev in trade_evs if ev["m"])
    assert maker_ev["i"] == maker.order_id and maker_ev["c"] == "mk"
    assert maker_ev["n"] == "30.00000000" and maker_ev["N"] == "USDT"
    assert maker_ev["l"] == maker_ev["z"] == "1.00000000" and maker_ev["L"] == "30000.00000000"
    assert maker_ev["w"] is False


def test_ioc_partial_reports_trade_then_expired(env: Env) -> None:
    seller = env.account(btc="1")
    buyer = env.account(usdt="100000")
    env.order(seller, side="SELL", quantity=D("0.5"), price=D("30000"))
    env.events.clear()
    result = env.order(buyer, quantity=D("1"), price=D("30000"), time_in_force="IOC")
    assert result.order.status.value == "EXPIRED"
    mine = [ev for acct, ev in env.events if acct == buyer.account_id and ev["e"] == "executionReport"]
    assert [(ev["x"], ev["X"]) for ev in mine] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("EXPIRED", "EXPIRED"),
    ]
    assert env.bal(buyer, "USDT") == (D("100000") - D("15000"), D("0"))


def test_market_quote_buy_spends_at_most_quote(env: Env) -> None:
    seller = env.account(btc="1")
    buyer = env.account(usdt="1000")
    env.order(seller, side="SELL", quantity=D("1"), price=D("300"))
    result = env.order(buyer, order_type="MARKET", time_in_force=None, quote_order_qty=D("100"))
    assert result.order.executed_qty == D("0.333")
    assert result.order.cum_quote_qty == D("99.9")
    assert env.bal(buyer, "USDT") == (D("900.1"), D("0"))


def test_deposit_emits_balance_update(env: Env) -> None:
    acct = env.account()
    env.events.clear()
    env.ex.deposit(acct.account_id, "BTC", D("0.5"))
    assert [ev["e"] for _, ev in env.events] == ["balanceUpdate", "outboundAccountPosition"]
    assert env.events[0][1]["d"] == "0.50000000"
    with pytest.raises(ApiError):
        env.ex.deposit(acct.account_id, "BTC", D("-1"))


def test_market_quote_order_refused_without_book_liquidity(env: Env) -> None:
    # Spot docs "Error codes" → messages for -2010: a quote-quantity MARKET order cannot be placed
    # when there are no orders on the book (refused, not placed-and-expired).
    buyer = env.account(usdt="1000")
    seller = env.account(btc="1")
    env.order(seller, side="SELL", quantity=D("1"), price=D("300"))  # asks only, no bids
    env.events.clear()
    kw: dict[str, Any] = {"order_type": "MARKET", "time_in_force": None, "quote_order_qty": D("100")}
    with pytest.raises(ApiError) as err:
        env.order(seller, side="SELL", **kw)
    assert (err.value.code, err.value.msg) == (
        -2010,
        "Order book liquidity is less than symbol minimum quantity.",
    )
    assert env.events == []  # nothing was placed: no executionReport
    assert env.ex.engine.order_id_seq == 2
    result = env.order(buyer, side="BUY", **kw)  # the asks side has liquidity
    assert result.order.executed_qty == D("0.333")


def test_market_quote_order_refused_below_lot_size_liquidity() -> None:
    market = Market("ETHUSDT", "ETH", "USDT", step_size=D("0.001"), min_qty=D("0.01"), min_notional=D("1"))
    reg = AccountRegistry()
    ex = SpotExchange([market], SandboxClock(), reg)
    maker, taker = reg.create(), reg.create()
    ex.deposit(maker.account_id, "ETH", D("1"))
    ex.deposit(taker.account_id, "USDT", D("1000"))
    ex.deposit(taker.account_id, "ETH", D("1"))
    common: dict[str, Any] = {"symbol": "ETHUSDT", "order_type": "LIMIT", "time_in_force": "GTC"}
    ex.new_order(maker, side="SELL", quantity=D("0.015"), price=D("100"), **common)
    ex.new_order(taker, side="BUY", quantity=D("0.01"), price=D("100"), **common)  # leaves 0.005 < 0.01
    with pytest.raises(ApiError) as err:
        ex.new_order(taker, symbol="ETHUSDT", side="BUY", order_type="MARKET", quote_order_qty=D("5"))
    assert (err.value.code, err.value.msg) == (
        -2010,
        "Order book liquidity is less than LOT_SIZE filter minimum quantity.",
    )


def test_order_id_and_a_client_id_of_another_order_is_2039(env: Env) -> None:
    # Spot docs "Query order" / "Cancel order": with both ids the orderId is looked up first and the
    # origClientOrderId checked against it; "Error codes" -2039 CLIENT_ORDER_ID_INVALID.
    a = env.account(usdt="10000")
    placed = env.order(a, quantity=D("1"), price=D("100"), client_order_id="mine").order
    assert env.ex.query_order(a, "BTCUSDT", placed.order_id, "mine") is placed
    for call in (env.ex.query_order, env.ex.cancel_order):
        with pytest.raises(ApiError) as err:
            call(a, "BTCUSDT", placed.order_id, "other")
        assert (err.value.code, err.value.msg) == (-2039, "Client order ID is not correct for this order ID.")
    assert placed.is_open


def test_misspelt_order_parameter_is_a_type_error(env: Env) -> None:
    acct = env.account(usdt="1000")
    with pytest.raises(TypeError, match="qty"):
        env.order(acct, qty=D("1"), price=D("100"))
