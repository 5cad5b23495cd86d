"""Endpoint overrides and trading pairs are checked when a connector is created (issue 17, items
11 and 12): a partial override cannot mix in the real exchange, a bad URL fails once instead of on
every reconnect, and pairs are normalised."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectorkit.connector.settings import check_endpoint_url, create_connector
from connectorkit.exchanges.binance import binance_constants as SPOT
from connectorkit.exchanges.binance.binance_utils import BinanceSettings

KEY, SECRET = "k" * 64, "s" * 64
SANDBOX = {"rest_url": "http://127.0.0.1:8765", "ws_url": "ws://127.0.0.1:8765"}


def test_a_trading_spot_connector_with_rest_and_ws_overridden_but_not_ws_api_is_refused() -> None:
    # Before: created, and its user stream dialled wss://ws-api.binance.com with the sandbox's key.
    with pytest.raises(ValidationError) as caught:
        create_connector("binance", ["BTC-USDT"], KEY, SECRET, **SANDBOX)
    message = str(caught.value)
    assert "ws_api_url" in message and "rest_url, ws_url overridden" in message
    assert KEY not in message and SECRET not in message


@pytest.mark.parametrize("given", ["rest_url", "ws_url"])
def test_overriding_one_perpetual_endpoint_alone_is_refused_naming_the_other(given: str) -> None:
    urls = {"rest_url": "http://127.0.0.1:8765", "ws_url": "ws://127.0.0.1:8766"}
    missing = ({"rest_url", "ws_url"} - {given}).pop()
    with pytest.raises(ValidationError, match=f"overridden but not {missing}"):
        create_connector("binance_perpetual", ["BTC-USDT"], KEY, SECRET, **{given: urls[given]})


def test_every_endpoint_overridden_or_none_is_accepted() -> None:
    spot = create_connector("binance", ["BTC-USDT"], KEY, SECRET, **SANDBOX,
                            ws_api_url="ws://127.0.0.1:8765/ws-api/v3")
    assert spot.user_stream_tracker is not None
    perp = create_connector("binance_perpetual", ["BTC-USDT"], KEY, SECRET,
                            rest_url="http://127.0.0.1:8765", ws_url="ws://127.0.0.1:8766")
    assert perp.name == "binance_perpetual"
    assert BinanceSettings().ws_api_url == SPOT.DEFAULT_WS_API_URL


def test_a_market_data_connector_needs_no_user_stream_endpoint() -> None:
    # trading_required=False never opens the user stream, so ws_api_url is never dialled.
    spot = create_connector("binance", ["BTC-USDT"], trading_required=False, **SANDBOX)
    assert spot.user_stream_tracker is None


@pytest.mark.parametrize(("url", "problem"), [
    ("127.0.0.1:8765", "must start with http:// or https://"),
    ("ws://127.0.0.1:8765", "must start with http:// or https://"),
    ("http://:8765", "has no host"),
    ("http://127.0.0.1:99999", "invalid port"),
    ("http://127.0.0.1:-1", "invalid port"),
    ("http://127.0.0.1:abc", "invalid port"),
    ("http://127.0.0.1:8765/?x=1", "query or fragment"),
])
def test_a_bad_rest_url_fails_at_creation(url: str, problem: str) -> None:
    # Before: accepted, then a ValueError traceback on every reconnect of every stream.
    with pytest.raises(ValidationError, match=problem):
        create_connector("binance", ["BTC-USDT"], trading_required=False, rest_url=url,
                         ws_url="ws://127.0.0.1:8765")


def test_a_ws_url_must_be_a_websocket_url() -> None:
    with pytest.raises(ValidationError, match="ws_url must start with ws:// or wss://"):
        create_connector("binance_perpetual", ["BTC-USDT"], trading_required=False,
                         rest_url="http://127.0.0.1:1", ws_url="http://127.0.0.1:1")


def test_url_check_accepts_paths_and_ipv6() -> None:
    assert check_endpoint_url("u", "wss://ws-api.binance.com:443/ws-api/v3", ("wss",)).endswith("/v3")
    assert check_endpoint_url("u", "http://[::1]:8080", ("http",)) == "http://[::1]:8080"


def test_trading_pairs_are_normalised_to_upper_case() -> None:
    spot = create_connector("binance", ["btc-usdt", " Eth-Usdt "], trading_required=False)
    assert spot.trading_pairs == ["BTC-USDT", "ETH-USDT"]
    assert set(spot.order_book_tracker.order_books) == {"BTC-USDT", "ETH-USDT"}


def test_pairs_that_differ_only_in_case_are_duplicates() -> None:
    with pytest.raises(ValidationError, match="duplicate trading pairs"):
        create_connector("binance", ["BTC-USDT", "btc-usdt"], trading_required=False)


def test_a_single_string_as_trading_pairs_is_a_type_error() -> None:
    # Before: read letter by letter, "expected 'BASE-QUOTE', got 'B'".
    with pytest.raises(TypeError, match="not a single string"):
        create_connector("binance", "BTC-USDT", trading_required=False)


def test_a_pair_that_is_not_base_quote_is_named() -> None:
    with pytest.raises(ValidationError, match="BTCUSDT"):
        create_connector("binance", ["BTCUSDT"], trading_required=False)
