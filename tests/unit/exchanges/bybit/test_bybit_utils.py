from decimal import Decimal

import pytest
from pydantic import ValidationError

from connectorkit.connector import settings as registry
from connectorkit.exchanges.bybit import bybit_constants as CONSTANTS
from connectorkit.exchanges.bybit.bybit_utils import (
    DEFAULT_FEES,
    BybitSettings,
    SymbolMap,
    UnknownSymbolError,
    is_valid_client_order_id,
)
from connectorkit.exchanges.bybit_perpetual import bybit_perpetual_constants as PERP
from connectorkit.exchanges.bybit_perpetual.bybit_perpetual_utils import DEFAULT_FEES as PERP_FEES
from connectorkit.exchanges.bybit_perpetual.bybit_perpetual_utils import BybitPerpetualSettings
from connectorkit.net.throttler import AsyncThrottler


def test_default_fees_are_the_regular_rates() -> None:
    assert (DEFAULT_FEES.maker_percent_fee_decimal, DEFAULT_FEES.taker_percent_fee_decimal) == (
        Decimal("0.001"), Decimal("0.001"))
    assert DEFAULT_FEES.buy_percent_fee_deducted_from_returns
    assert (PERP_FEES.maker_percent_fee_decimal, PERP_FEES.taker_percent_fee_decimal) == (
        Decimal("0.0002"), Decimal("0.00055"))
    assert not PERP_FEES.buy_percent_fee_deducted_from_returns


def test_testnet_selects_the_testnet_hosts_unless_the_endpoints_are_given() -> None:
    main = BybitSettings()
    assert (main.rest_url, main.ws_url) == ("https://api.bybit.com", "wss://stream.bybit.com")
    test = BybitPerpetualSettings(testnet=True)
    assert (test.rest_url, test.ws_url) == ("https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com")
    local = BybitSettings(testnet=True, rest_url="http://127.0.0.1:8080", ws_url="ws://127.0.0.1:8081")
    assert (local.rest_url, local.ws_url) == ("http://127.0.0.1:8080", "ws://127.0.0.1:8081")
    for bad in ({"rest_url": "api.bybit.com", "ws_url": "wss://x"},  # not a URL
                {"rest_url": "http://127.0.0.1:8080"},  # one endpoint overridden, not the other
                {"testnet": True, "ws_url": "ws://127.0.0.1:8081"}):
        with pytest.raises(ValidationError):
            BybitSettings(**bad)  # type: ignore[arg-type]


def test_orderbook_depth_is_one_the_category_documents() -> None:
    assert BybitSettings(orderbook_depth=50).orderbook_depth == 50
    assert BybitPerpetualSettings(orderbook_depth=1000).orderbook_depth == 1000
    for bad in (25, 500):
        with pytest.raises(ValidationError):
            BybitSettings(orderbook_depth=bad)
    with pytest.raises(ValidationError):
        BybitPerpetualSettings(orderbook_depth=400)


def test_symbol_map_uses_the_instrument_coins_not_string_splitting() -> None:
    rows = [("BTCUSDT", "BTC", "USDT"), ("1INCHUSDC", "1INCH", "USDC"), ("USDEUSDT", "USDE", "USDT")]
    symbols = SymbolMap(rows)
    assert symbols.pair("1INCHUSDC") == "1INCH-USDC" and symbols.symbol("USDE-USDT") == "USDEUSDT"
    assert symbols.pairs_by_symbol == {
        "BTCUSDT": "BTC-USDT", "1INCHUSDC": "1INCH-USDC", "USDEUSDT": "USDE-USDT"}
    with pytest.raises(UnknownSymbolError):
        symbols.pair("ETHUSDT")
    with pytest.raises(UnknownSymbolError):
        symbols.symbol("ETH-USDT")


@pytest.mark.parametrize(("client_order_id", "valid"), [
    ("spot-test-01", True), ("ck_ABC-123", True), ("x" * 36, True), ("x" * 37, False), ("", False),
    ("a.b", False), ("a:b", False), ("a b", False),
])
def test_order_link_id_charset_and_length(client_order_id: str, valid: bool) -> None:
    assert is_valid_client_order_id(client_order_id) is valid


def test_rate_limits_build_a_throttler_with_the_documented_per_second_limits() -> None:
    for limits in (CONSTANTS.SPOT_RATE_LIMITS, PERP.RATE_LIMITS):
        AsyncThrottler(list(limits))
        ids = [limit.limit_id for limit in limits]
        assert len(ids) == len(set(ids))
    by_id = {limit.limit_id: limit for limit in CONSTANTS.SPOT_RATE_LIMITS}
    assert (by_id[CONSTANTS.IP_POOL].limit, by_id[CONSTANTS.IP_POOL].time_interval) == (600, 5.0)
    create = by_id[CONSTANTS.ORDER_CREATE_PATH]
    assert (create.limit, create.time_interval) == (20, 1.0)
    assert by_id[CONSTANTS.ORDER_REALTIME_PATH].limit == 50
    assert {limit.limit_id: limit.limit for limit in PERP.RATE_LIMITS}[CONSTANTS.ORDER_CREATE_PATH] == 10


def test_the_unregistered_packages_import_cleanly_and_register_nothing() -> None:
    names = registry.registered_connectors()
    assert "bybit" not in names and "bybit_perpetual" not in names
    assert {"binance", "binance_perpetual"} <= set(names)
    assert "bybit" not in registry._IMPORT_ERRORS and "bybit_perpetual" not in registry._IMPORT_ERRORS
    with pytest.raises(registry.UnknownConnectorError, match="unknown connector 'bybit'"):
        registry.get_registration("bybit")
