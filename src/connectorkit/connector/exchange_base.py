"""ExchangeBase: a connector with order books and a trading pair <-> exchange symbol map."""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType

from connectorkit.connector.connector_base import ConnectorBase
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.enums import PriceType
from connectorkit.core.order_book import OrderBook


class UnknownTradingPairError(KeyError):
    """A trading pair or exchange symbol this connector does not know."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown trading pair"


class ExchangeBase(ConnectorBase):
    """Order book queries (all prices are Decimals; ``NaN`` when the book cannot answer) and the
    bidirectional map between ``BASE-QUOTE`` trading pairs and the exchange's symbols."""

    def __init__(
        self, settings: ConnectorSettings, *, time_provider: Callable[[], float] = time.time
    ) -> None:
        super().__init__(settings, time_provider=time_provider)
        self._pair_by_symbol: dict[str, str] = {}
        self._symbol_by_pair: dict[str, str] = {}
        self._symbol_map_lock: asyncio.Lock | None = None

    @property
    @abstractmethod
    def order_books(self) -> Mapping[str, OrderBook]:
        """The live order books by trading pair: a read-only view, not a copy, since every price
        query below looks its book up through it (ExchangePyBase returns the tracker's view)."""

    # ---- order book queries -----------------------------------------------------------------------
    def get_order_book(self, trading_pair: str) -> OrderBook:
        try:
            return self.order_books[trading_pair]
        except KeyError:
            raise UnknownTradingPairError(f"no order book for {trading_pair!r} on {self.name}") from None

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        """Best ask for a buy, best bid for a sell (NaN when that side is empty)."""
        return self.get_order_book(trading_pair).get_price(is_buy)

    def get_mid_price(self, trading_pair: str) -> Decimal:
        return self.get_order_book(trading_pair).mid_price

    def get_price_by_type(self, trading_pair: str, price_type: PriceType) -> Decimal:
        book = self.get_order_book(trading_pair)
        if price_type is PriceType.BestBid:
            return book.best_bid
        if price_type is PriceType.BestAsk:
            return book.best_ask
        if price_type is PriceType.MidPrice:
            return book.mid_price
        if price_type is PriceType.LastTrade:
            return book.last_trade_price
        raise ValueError(f"unsupported price type {price_type!r}")

    def get_price_for_volume(self, trading_pair: str, is_buy: bool, volume: Decimal) -> Decimal:
        """The worst price reached when taking ``volume`` from the book (NaN if too thin)."""
        return self.get_order_book(trading_pair).get_price_for_volume(is_buy, volume).result_price

    def get_vwap_for_volume(self, trading_pair: str, is_buy: bool, volume: Decimal) -> Decimal:
        """The average price paid when taking ``volume`` from the book (NaN if too thin)."""
        return self.get_order_book(trading_pair).get_vwap_for_volume(is_buy, volume).result_price

    # ---- trading pair <-> exchange symbol ----------------------------------------------------------
    def _set_trading_pair_symbol_map(self, symbol_to_pair: Mapping[str, str]) -> None:
        """Install the map (exchange symbol -> trading pair). It must be one-to-one."""
        by_pair: dict[str, str] = {}
        for symbol, pair in symbol_to_pair.items():
            if pair in by_pair:
                raise ValueError(f"{pair} maps to two exchange symbols: {by_pair[pair]} and {symbol}")
            by_pair[pair] = symbol
        self._pair_by_symbol = dict(symbol_to_pair)
        self._symbol_by_pair = by_pair

    def trading_pair_symbol_map(self) -> Mapping[str, str]:
        """Exchange symbol -> trading pair (empty until initialized)."""
        return MappingProxyType(self._pair_by_symbol)

    def trading_pair_symbol_map_ready(self) -> bool:
        return bool(self._pair_by_symbol)

    async def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        """``BTC-USDT`` -> ``BTCUSDT`` (initializes the map from the exchange on first use)."""
        await self._ensure_trading_pair_symbol_map()
        try:
            return self._symbol_by_pair[trading_pair]
        except KeyError:
            raise UnknownTradingPairError(f"{trading_pair!r} is not traded on {self.name}") from None

    async def trading_pair_associated_to_exchange_symbol(self, symbol: str) -> str:
        """``BTCUSDT`` -> ``BTC-USDT`` (initializes the map from the exchange on first use)."""
        await self._ensure_trading_pair_symbol_map()
        try:
            return self._pair_by_symbol[symbol]
        except KeyError:
            raise UnknownTradingPairError(f"exchange symbol {symbol!r} is unknown on {self.name}") from None

    async def _ensure_trading_pair_symbol_map(self) -> None:
        if self.trading_pair_symbol_map_ready():
            return
        if self._symbol_map_lock is None:
            self._symbol_map_lock = asyncio.Lock()
        async with self._symbol_map_lock:
            if not self.trading_pair_symbol_map_ready():
                await self._initialize_trading_pair_symbol_map()

    @abstractmethod
    async def _initialize_trading_pair_symbol_map(self) -> None:
        """Fetch the exchange's instruments and call :meth:`_set_trading_pair_symbol_map`."""
