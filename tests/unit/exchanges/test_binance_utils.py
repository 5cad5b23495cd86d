from decimal import Decimal

import pytest

from connectorkit.connector.settings import create_connector
from connectorkit.core.enums import TradeType
from connectorkit.core.trade_fee import AddedToCostTradeFee, DeductedFromReturnsTradeFee, TradeFeeBase
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance import binance_utils, binance_web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as PERP
from connectorkit.exchanges.binance_perpetual import binance_perpetual_utils, binance_perpetual_web_utils
from connectorkit.net.errors import ExchangePayloadError, WebError
from connectorkit.net.throttler import AsyncThrottler


def test_spot_default_fees_follow_binance_schedule_and_buyer_pays_in_base() -> None:
    fees = binance_utils.DEFAULT_FEES
    assert fees.maker_percent_fee_decimal == Decimal("0.001")
    assert fees.taker_percent_fee_decimal == Decimal("0.001")
    buy_fee = TradeFeeBase.new_spot_fee(fees, TradeType.BUY, percent=Decimal("0.001"))
    assert isinstance(buy_fee, DeductedFromReturnsTradeFee)


def test_perpetual_default_fees() -> None:
    fees = binance_perpetual_utils.DEFAULT_FEES
    assert fees.maker_percent_fee_decimal == Decimal("0.0002")
    assert fees.taker_percent_fee_decimal == Decimal("0.0005")
    assert isinstance(TradeFeeBase.new_spot_fee(fees, TradeType.BUY), AddedToCostTradeFee)


def test_pair_spelling() -> None:
    assert binance_utils.trading_pair("ETH", "BTC") == "ETH-BTC"


@pytest.mark.parametrize("name", ["binance", "binance_perpetual"])
def test_the_connectors_client_order_ids_are_unique_and_within_binance_limits(name: str) -> None:
    """The ids the connectors really send (``newClientOrderId``): unique, at most 36 characters of
    Binance's charset ('^[\\.A-Z\\:/a-z0-9_-]{1,36}$', "Errors > -1100" / "New Order")."""
    connector = create_connector(name, trading_pairs=["BTC-USDT"], trading_required=False)
    ids = {connector._new_client_order_id(TradeType.BUY if i % 2 else TradeType.SELL) for i in range(2000)}
    assert len(ids) == 2000
    for cid in ids:
        assert len(cid) <= CONSTANTS.CLIENT_ORDER_ID_MAX_LENGTH
        assert binance_utils.is_valid_client_order_id(cid)
        assert cid.startswith(("ckB", "ckS"))
    assert not binance_utils.is_valid_client_order_id("x" * 37)
    assert not binance_utils.is_valid_client_order_id("bad id!")


def test_depth_weights_follow_the_documented_tables() -> None:
    assert [CONSTANTS.depth_weight(n) for n in (100, 101, 500, 1000, 5000)] == [5, 25, 25, 50, 250]
    assert [PERP.depth_weight(n) for n in PERP.DEPTH_LIMITS] == [2, 2, 2, 2, 5, 10, 20]


async def test_rate_limits_build_a_working_throttler_with_linked_pools() -> None:
    limits = binance_web_utils.build_rate_limits()
    by_id = {rl.limit_id: rl for rl in limits}
    assert (by_id["REQUEST_WEIGHT"].limit, by_id["REQUEST_WEIGHT"].time_interval) == (6000, 60.0)
    assert by_id["ORDERS_10S"].limit == 100
    assert by_id["ORDERS_1D"].limit == 200_000
    assert (by_id["RAW_REQUESTS"].limit, by_id["RAW_REQUESTS"].time_interval) == (61_000, 300.0)
    order_links = {pair.limit_id: pair.weight for pair in by_id[CONSTANTS.ORDER_PATH].linked_limits}
    assert order_links == {"REQUEST_WEIGHT": 1, "ORDERS_10S": 1, "ORDERS_1D": 1, "RAW_REQUESTS": 1}
    throttler = AsyncThrottler(limits, safety_margin_pct=0)
    assert throttler.try_acquire(CONSTANTS.EXCHANGE_INFO_PATH)
    assert throttler.used_weight("REQUEST_WEIGHT") == 20
    # "Account trade list" costs 5 with orderId (the connector always sends one), not 20.
    my_trades = {pair.limit_id: pair.weight for pair in by_id[CONSTANTS.MY_TRADES_PATH].linked_limits}
    assert my_trades == {"REQUEST_WEIGHT": 5, "RAW_REQUESTS": 1}

    perp = {rl.limit_id: rl for rl in binance_perpetual_web_utils.build_rate_limits()}
    assert [perp[i].limit for i in ("REQUEST_WEIGHT", "ORDERS_1MIN", "ORDERS_10S")] == [2400, 1200, 300]
    # New Order takes 0 IP weight on futures: it must only draw from the order pools.
    assert {p.limit_id for p in perp[PERP.ORDER_PATH].linked_limits} == {"ORDERS_1MIN", "ORDERS_10S"}
    AsyncThrottler(binance_perpetual_web_utils.build_rate_limits())


@pytest.mark.parametrize("body", [{"serverTime": "x"}, {"serverTime": True}, {}, [], None, "1499827319559"])
def test_server_time_parsing(body: object) -> None:
    """Issue 17.16: an unreadable answer is a WebError (ExchangePayloadError, still a ValueError)."""
    assert binance_web_utils.parse_server_time({"serverTime": 1499827319559}) == pytest.approx(1499827319.559)
    with pytest.raises(ExchangePayloadError, match="unexpected server time answer") as caught:
        binance_web_utils.parse_server_time(body)
    assert isinstance(caught.value, WebError) and isinstance(caught.value, ValueError)


def test_depth_snapshot_weight_follows_the_configured_limit() -> None:
    spot = {rl.limit_id: rl for rl in binance_web_utils.build_rate_limits(depth_limit=5000)}
    assert {p.limit_id: p.weight for p in spot[CONSTANTS.DEPTH_PATH].linked_limits}["REQUEST_WEIGHT"] == 250
    perp = {rl.limit_id: rl for rl in binance_perpetual_web_utils.build_rate_limits(depth_limit=100)}
    assert {p.limit_id: p.weight for p in perp[PERP.DEPTH_PATH].linked_limits} == {"REQUEST_WEIGHT": 5}
