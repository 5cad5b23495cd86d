from decimal import Decimal
from typing import Any

import pytest

from connectorkit.connector.connector_base import ConnectorBase, floor_to_increment
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.enums import OrderType, TradeType
from connectorkit.core.events import BalanceUpdateEvent, MarketEvent
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TradeFeeSchema
from connectorkit.core.trading_rule import TradingRule


class _Connector(ConnectorBase):
    DEFAULT_FEES = TradeFeeSchema(maker_percent_fee_decimal="0.001", taker_percent_fee_decimal="0.002")

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings, time_provider=lambda: 1_700_000_000.0)
        self.components: dict[str, bool] = {"a": True, "b": False}

    @property
    def name(self) -> str:
        return "unit"

    @property
    def status_dict(self) -> dict[str, bool]:
        return dict(self.components)


def _connector(**kwargs: Any) -> _Connector:
    return _Connector(ConnectorSettings(trading_pairs=["BTC-USDT"], **kwargs))


def test_balances_and_balance_events() -> None:
    c = _connector()
    events: list[BalanceUpdateEvent] = []
    c.add_listener(MarketEvent.BalanceUpdate, events.append)
    c._replace_balances({"BTC": (Decimal(2), Decimal("1.5")), "USDT": (Decimal(100), Decimal(100))})
    assert c.get_balance("BTC") == Decimal(2)
    assert c.get_available_balance("BTC") == Decimal("1.5")
    assert c.get_balance("ETH") == Decimal(0)
    assert len(events) == 2
    c._replace_balances({"BTC": (Decimal(2), Decimal("1.5"))})  # unchanged BTC, USDT gone
    assert [e.asset_name for e in events[2:]] == ["USDT"]
    assert events[-1].total_balance == 0
    assert c.get_all_balances() == {"BTC": Decimal(2)}


def test_rest_snapshot_does_not_undo_a_newer_stream_update() -> None:
    c = _connector()
    c._replace_balances({"BTC": (Decimal(1), Decimal(1)), "ETH": (Decimal(3), Decimal(3))})
    as_of = c._balance_version  # a REST balance request goes out here...
    c._set_balance("BTC", Decimal(5), Decimal(4))  # ...the user stream reports a change...
    c._set_balance("XRP", Decimal(7), Decimal(7))
    # ...then the REST answer arrives, computed before that change.
    stale = {"BTC": (Decimal(1), Decimal(1)), "ETH": (Decimal(2), Decimal(2))}
    c._replace_balances(stale, as_of_version=as_of)
    assert c.get_balance("BTC") == Decimal(5) and c.get_available_balance("BTC") == Decimal(4)
    assert c.get_balance("XRP") == Decimal(7)  # absent from the older snapshot, but newer: kept
    assert c.get_balance("ETH") == Decimal(2)
    c._replace_balances({"ETH": (Decimal(2), Decimal(2))}, as_of_version=c._balance_version)
    assert c.get_all_balances() == {"ETH": Decimal(2)}


def test_quantize_floors_to_increments() -> None:
    c = _connector()
    assert c.quantize_order_amount("BTC-USDT", Decimal("0.123456")) == Decimal("0.123456")  # no rule yet
    c._trading_rules["BTC-USDT"] = TradingRule(
        "BTC-USDT", min_price_increment=Decimal("0.01"), min_base_amount_increment=Decimal("0.001")
    )
    assert c.quantize_order_amount("BTC-USDT", Decimal("0.123956")) == Decimal("0.123")
    assert c.quantize_order_price("BTC-USDT", Decimal("100.019")) == Decimal("100.01")
    assert c.quantize_order_price("BTC-USDT", Decimal("NaN")).is_nan()
    assert floor_to_increment(Decimal("7"), Decimal("2.5")) == Decimal("5.0")


def test_trade_fee_schema_defaults_and_overrides() -> None:
    assert _connector().trade_fee_schema.taker_percent_fee_decimal == Decimal("0.002")
    c = _connector(taker_percent_fee_decimal=Decimal("0.0004"), buy_percent_fee_deducted_from_returns=True)
    assert c.trade_fee_schema.taker_percent_fee_decimal == Decimal("0.0004")
    assert c.trade_fee_schema.maker_percent_fee_decimal == Decimal("0.001")
    fee = c.get_fee("BTC", "USDT", OrderType.LIMIT_MAKER, TradeType.BUY, Decimal(1), Decimal(100))
    assert isinstance(fee, DeductedFromReturnsTradeFee)
    assert fee.percent == Decimal("0.001")
    fee = _connector().get_fee("BTC", "USDT", OrderType.MARKET, TradeType.BUY, Decimal(1))
    assert isinstance(fee, AddedToCostTradeFee) and fee.percent == Decimal("0.002")


def test_get_fee_uses_the_schema_of_the_pair_it_is_asked_about() -> None:
    """Issue 17 item 9: base_currency and quote_currency were ignored; a pair with fees of its own
    (e.g. a zero-fee promotion) must be charged those, other pairs the connector's schema."""
    c = _connector()
    zero_fee = TradeFeeSchema(maker_fixed_fees=[("USDC", Decimal("0.5"))])
    c.set_trading_pair_fee_schema("BTC-USDC", zero_fee)
    fee = c.get_fee("BTC", "USDC", OrderType.LIMIT_MAKER, TradeType.BUY, Decimal(1), Decimal(100))
    assert fee.percent == 0 and [(f.token, f.amount) for f in fee.flat_fees] == [("USDC", Decimal("0.5"))]
    fee = c.get_fee("BTC", "USDT", OrderType.LIMIT_MAKER, TradeType.BUY, Decimal(1), Decimal(100))
    assert fee.percent == Decimal("0.001") and fee.flat_fees == ()
    fee = c.get_fee("USDC", "BTC", OrderType.LIMIT_MAKER, TradeType.BUY, Decimal(1))  # the other way round
    assert fee.percent == Decimal("0.001")
    assert c.trade_fee_schema_for("BTC-USDC") is zero_fee
    assert c.trade_fee_schema_for("ETH-USDT") is c.trade_fee_schema
    c.set_trading_pair_fee_schema("BTC-USDC", None)
    assert c.get_fee("BTC", "USDC", OrderType.MARKET, TradeType.SELL, Decimal(1)).percent == Decimal("0.002")


@pytest.mark.parametrize(
    ("base", "quote", "error"),
    [
        ("BTC-USDT", "USDT", ValueError),
        ("", "USDT", ValueError),
        ("BTC", "", ValueError),
        (None, "USDT", TypeError),
    ],
)
def test_get_fee_rejects_what_is_not_a_currency(base: object, quote: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"currency|must be a str"):
        _connector().get_fee(base, quote, OrderType.LIMIT, TradeType.BUY, Decimal(1))  # type: ignore[arg-type]


def test_pair_fee_schemas_are_validated() -> None:
    c = _connector()
    with pytest.raises(ValueError, match="BASE-QUOTE"):
        c.set_trading_pair_fee_schema("BTCUSDT", TradeFeeSchema())
    with pytest.raises(TypeError, match="TradeFeeSchema"):
        c.set_trading_pair_fee_schema("BTC-USDT", {"maker": 0})  # type: ignore[arg-type]


def test_tracking_states_round_trip_and_ready() -> None:
    c = _connector()
    order = InFlightOrder("id-1", "BTC-USDT", OrderType.LIMIT, TradeType.BUY, Decimal(1), 1.0, Decimal(10))
    c.order_tracker.start_tracking_order(order)
    c.order_tracker.process_order_update(
        OrderUpdate("BTC-USDT", 2.0, order.current_state.OPEN, client_order_id="id-1", exchange_order_id="9")
    )
    states = c.tracking_states
    other = _connector()
    assert other.restore_tracking_states(states) == 1
    restored = other.in_flight_orders["id-1"]
    assert restored.exchange_order_id == "9" and restored.price == Decimal(10)
    assert not c.ready
    c.components["b"] = True
    assert c.ready
    assert repr(c) == "_Connector(name='unit', trading_pairs=['BTC-USDT'])"
