"""The demo's summary arithmetic and reconciliation, on hand-made events (no network)."""

from __future__ import annotations

from decimal import Decimal

from connectorkit.cli.demo.journal import EventJournal, describe
from connectorkit.cli.demo.summary import AccountView, DemoSummary, compare, fees_in_quote, realized_pnl
from connectorkit.core.enums import OrderType, TradeType
from connectorkit.core.events import (
    BuyOrderCreatedEvent,
    FundingPaymentCompletedEvent,
    MarketEvent,
    OrderFilledEvent,
)
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TradeFeeBase

D = Decimal


def fill(side: TradeType, amount: str, price: str, fee: TradeFeeBase | None = None,
         pair: str = "BTC-USDT") -> OrderFilledEvent:
    return OrderFilledEvent(
        timestamp=0.0, order_id="x", exchange_order_id="1", trading_pair=pair, trade_type=side,
        order_type=OrderType.MARKET, price=D(price), amount=D(amount),
        trade_fee=fee or AddedToCostTradeFee(), exchange_trade_id="t",
    )


BUY, SELL = TradeType.BUY, TradeType.SELL


def test_a_closed_round_trip_realizes_exactly_sells_minus_buys() -> None:
    # 1/3 prices make the average cost a repeating decimal; a full close must still be exact.
    fills = [fill(BUY, "1", "100"), fill(BUY, "2", "100.01"), fill(SELL, "3", "101")]
    assert realized_pnl(fills) == {"BTC-USDT": D("303") - D("100") - D("200.02")}


def test_a_partial_close_releases_the_average_cost() -> None:
    fills = [fill(BUY, "2", "100"), fill(BUY, "2", "110"), fill(SELL, "1", "120")]
    assert realized_pnl(fills) == {"BTC-USDT": D("15")}  # 120 - 105 average


def test_a_short_is_realized_with_the_opposite_sign_and_a_flip_opens_at_the_fill_price() -> None:
    fills = [fill(SELL, "1", "100"), fill(BUY, "3", "90"), fill(SELL, "2", "95")]
    # short 1 @100 closed @90: +10; the flip leaves long 2 @90, closed @95: +10
    assert realized_pnl(fills) == {"BTC-USDT": D("20")}


def test_no_reducing_fill_means_no_realized_pnl() -> None:
    assert realized_pnl([fill(BUY, "1", "100")]) == {}


def test_fees_are_valued_in_the_quote_asset_at_each_fill_price() -> None:
    base_fee = DeductedFromReturnsTradeFee(flat_fees=[("BTC", D("0.001"))])  # spot buyer pays in base
    quote_fee = AddedToCostTradeFee(flat_fees=[("USDT", D("0.5"))])
    fills = [fill(BUY, "1", "30000", base_fee), fill(SELL, "1", "31000", quote_fee)]
    assert fees_in_quote(fills) == {"USDT": D("30") + D("0.5")}


def test_a_fee_in_a_third_asset_is_kept_in_that_asset_not_guessed() -> None:
    mixed = AddedToCostTradeFee(percent=D("0.001"), flat_fees=[("BNB", D("0.01")), ("USDT", D("0.2"))])
    assert fees_in_quote([fill(BUY, "2", "100", mixed)]) == {"USDT": D("0.2") + D("0.2"), "BNB": D("0.01")}


def test_equal_views_have_no_difference_and_zero_balances_count_as_absent() -> None:
    ours = AccountView(spot_balances={"USDT": (D(10), D(5)), "BNB": (D(0), D(0))},
                       positions={"BTC-USDT": D(1)})
    truth = AccountView(spot_balances={"USDT": (D(10), D(5))}, positions={"BTC-USDT": D(1)})
    assert compare(ours, truth) == []


def test_every_difference_is_listed() -> None:
    ours = AccountView(spot_balances={"USDT": (D(10), D(5))}, perp_wallet={"USDT": D(7)},
                       spot_open_orders={"a"}, positions={"BTC-USDT": D(1)})
    truth = AccountView(spot_balances={"USDT": (D(10), D(4))}, perp_wallet={"USDT": D(7)},
                        spot_open_orders={"a", "b"}, perp_open_orders={"c"})
    problems = compare(ours, truth)
    assert len(problems) == 4
    assert any(p.startswith("spot balance USDT") for p in problems)
    assert any(p.startswith("position BTC-USDT") for p in problems)
    assert any(p.startswith("spot open orders") for p in problems)
    assert any(p.startswith("perp open orders") for p in problems)


def _summary(**changes: object) -> DemoSummary:
    values: dict[str, object] = {
        "duration": 3.0, "interrupted": False, "orders_created": 4, "orders_filled": 2, "fills": 3,
        "orders_cancelled": 2, "orders_expired": 0, "orders_failed": 0, "fees": {"USDT": D("0.25")},
        "pnl": {"perp": {"BTC-USDT": D("1.5")}}, "funding": [], "resyncs": {"binance": 0},
        "steps_completed": ["a"], "problems": [], "mismatches": [],
    }
    values.update(changes)
    return DemoSummary(**values)  # type: ignore[arg-type]


def test_summary_is_ok_only_without_mismatches_and_problems() -> None:
    assert _summary().ok
    assert not _summary(mismatches=["spot balance USDT: connector 1 != sandbox 2"]).ok
    assert not _summary(problems=["cancel the quotes: timed out"]).ok


def test_summary_lines_name_every_figure() -> None:
    text = "\n".join(_summary(interrupted=True).lines())
    assert "(interrupted after 3.0s)" in text
    assert "4 placed, 2 filled (3 fills), 2 cancelled, 0 failed\n" in text
    assert "0 failed, 1 expired" in "\n".join(_summary(orders_expired=1).lines())
    assert "fees paid: 0.25 USDT (valued at each fill's price)" in text
    assert "realized PnL perp: BTC-USDT 1.5 USDT (this run, before fees)" in text
    assert "funding payments: 0\n" in text
    paid = [FundingPaymentCompletedEvent(0.0, "BTC-USDT", D("-0.03"), D("0.0001")),
            FundingPaymentCompletedEvent(5.0, "BTC-USDT", D("0.01"), D("-0.0001"))]
    assert "funding payments: 2 (total -0.02 USDT)" in "\n".join(_summary(funding=paid).lines())
    assert "book resyncs: binance 0" in text
    assert "open positions at the end: none" in text
    still_open = "\n".join(_summary(open_positions={"BTC-USDT": D("-0.010")}).lines())
    assert "open positions at the end: perp BTC-USDT -0.01" in still_open
    assert "state check: OK" in text
    inexact = "\n".join(_summary(pnl={"spot": {"BTC-USDT": D(1) / D(3)}}).lines())
    assert "realized PnL spot: BTC-USDT ~0.33333333 USDT" in inexact  # marked, never silently rounded
    failed = "\n".join(_summary(mismatches=["position BTC-USDT: connector 1 != sandbox None"]).lines())
    assert "state check: FAILED" in failed and "position BTC-USDT" in failed


class _Connector:
    def __init__(self) -> None:
        self.listeners: dict[MarketEvent, object] = {}

    def add_listener(self, kind: MarketEvent, listener: object) -> None:
        self.listeners[kind] = listener


def test_journal_counts_and_logs_connector_events() -> None:
    lines: list[str] = []
    journal = EventJournal(sink=lines.append, clock=lambda: 0.0)
    connector = _Connector()
    journal.attach("spot", connector)
    created = BuyOrderCreatedEvent(0.0, "ckB123456", None, "BTC-USDT", OrderType.LIMIT_MAKER, D("0.00200000"),
                                   D("30000.00"), 0.0)
    connector.listeners[MarketEvent.BuyOrderCreated](created)  # type: ignore[operator]
    connector.listeners[MarketEvent.OrderFilled](fill(BUY, "0.002", "30000"))  # type: ignore[operator]
    assert journal.counters.created == 1 and journal.counters.fills == 1
    assert [f.connector for f in journal.fills] == ["spot"]
    assert lines[0].endswith("spot created  buy  0.002 BTC-USDT LIMIT_MAKER @ 30000 [123456]")
    assert describe(MarketEvent.OrderFilled, fill(SELL, "1", "2")) is not None
