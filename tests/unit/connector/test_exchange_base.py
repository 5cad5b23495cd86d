from collections.abc import Mapping
from decimal import Decimal

import pytest

from connectorkit.connector.exchange_base import ExchangeBase, UnknownTradingPairError
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.enums import PriceType
from connectorkit.core.order_book import OrderBook


class _Exchange(ExchangeBase):
    def __init__(self) -> None:
        super().__init__(ConnectorSettings(trading_pairs=["BTC-USDT"]))
        book = OrderBook()
        book.apply_snapshot([["99", "1"], ["98", "2"]], [["101", "1"], ["103", "3"]], update_id=1)
        self._books = {"BTC-USDT": book}
        self.symbol_fetches = 0

    @property
    def name(self) -> str:
        return "unit_exchange"

    @property
    def order_books(self) -> Mapping[str, OrderBook]:
        return self._books

    @property
    def status_dict(self) -> dict[str, bool]:
        return {}

    async def _initialize_trading_pair_symbol_map(self) -> None:
        self.symbol_fetches += 1
        self._set_trading_pair_symbol_map({"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT"})


def test_price_queries_return_decimals() -> None:
    ex = _Exchange()
    assert ex.get_price("BTC-USDT", True) == Decimal(101)
    assert ex.get_price("BTC-USDT", False) == Decimal(99)
    assert ex.get_price_by_type("BTC-USDT", PriceType.MidPrice) == Decimal(100)
    assert ex.get_price_by_type("BTC-USDT", PriceType.BestAsk) == Decimal(101)
    assert ex.get_price_by_type("BTC-USDT", PriceType.BestBid) == Decimal(99)
    assert ex.get_price_by_type("BTC-USDT", PriceType.LastTrade).is_nan()
    assert ex.get_price_for_volume("BTC-USDT", True, Decimal(2)) == Decimal(103)
    assert ex.get_vwap_for_volume("BTC-USDT", True, Decimal(2)) == Decimal(102)  # (101 + 103) / 2
    assert ex.get_vwap_for_volume("BTC-USDT", True, Decimal(100)).is_nan()  # too thin
    with pytest.raises(UnknownTradingPairError, match="ETH-USDT"):
        ex.get_price("ETH-USDT", True)


async def test_symbol_map_is_initialized_once_and_bidirectional() -> None:
    ex = _Exchange()
    assert not ex.trading_pair_symbol_map_ready()
    assert await ex.exchange_symbol_associated_to_pair("BTC-USDT") == "BTCUSDT"
    assert await ex.trading_pair_associated_to_exchange_symbol("ETHUSDT") == "ETH-USDT"
    assert ex.symbol_fetches == 1
    assert dict(ex.trading_pair_symbol_map()) == {"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT"}
    with pytest.raises(UnknownTradingPairError):
        await ex.exchange_symbol_associated_to_pair("DOGE-USDT")
    with pytest.raises(ValueError, match="two exchange symbols"):
        ex._set_trading_pair_symbol_map({"A": "X-Y", "B": "X-Y"})
