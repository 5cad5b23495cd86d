"""Bybit spot: default fees, settings, the symbol <-> pair map and the orderLinkId check."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import ClassVar, Final

from pydantic import Field, field_validator

from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.trade_fee import TradeFeeSchema
from connectorkit.exchanges.bybit import bybit_constants as CONSTANTS

# Bybit's regular (non-VIP) spot rates are 0.1 % maker / 0.1 % taker (Bybit Help Center
# "Trading Fee Structure", https://www.bybit.com/en/help-center/article/Trading-Fee-Structure,
# Spot, VIP 0). The buyer pays the fee in the coin it receives (``feeCurrency`` of each
# execution is the base coin on a buy), so it is deducted from what a buy returns.
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.001"),
    taker_percent_fee_decimal=Decimal("0.001"),
    buy_percent_fee_deducted_from_returns=True,
)


class BybitSettingsBase(ConnectorSettings):
    """Endpoints of a Bybit connector. ``rest_url``/``ws_url`` are bases (``scheme://host[:port]``);
    the connector appends ``/v5/...``. Left unset they are Bybit's mainnet hosts, or its testnet
    hosts when ``testnet`` is true; an explicit URL (a sandbox) always wins. ``orderbook_depth``
    must be one of the category's documented depths (``ORDERBOOK_DEPTHS``)."""

    ORDERBOOK_DEPTHS: ClassVar[tuple[int, ...]] = CONSTANTS.SPOT_ORDERBOOK_DEPTHS

    rest_url: str | None = None
    ws_url: str | None = None
    testnet: bool = False
    recv_window_ms: int = Field(
        default=CONSTANTS.DEFAULT_RECV_WINDOW_MS, gt=0, le=CONSTANTS.MAX_RECV_WINDOW_MS
    )
    orderbook_depth: int = CONSTANTS.DEFAULT_ORDERBOOK_DEPTH

    @field_validator("rest_url", "ws_url")
    @classmethod
    def _is_base_url(cls, url: str | None) -> str | None:
        if url is not None and "://" not in url:
            raise ValueError("an endpoint override must be scheme://host[:port]")
        return None if url is None else url.rstrip("/")

    @field_validator("orderbook_depth")
    @classmethod
    def _documented_depth(cls, depth: int) -> int:
        if depth not in cls.ORDERBOOK_DEPTHS:
            raise ValueError(f"orderbook depth must be one of {cls.ORDERBOOK_DEPTHS}")
        return depth

    @property
    def rest_base(self) -> str:
        if self.rest_url is not None:
            return self.rest_url
        return CONSTANTS.TESTNET_REST_URL if self.testnet else CONSTANTS.MAINNET_REST_URL

    @property
    def ws_base(self) -> str:
        if self.ws_url is not None:
            return self.ws_url
        return CONSTANTS.TESTNET_WS_URL if self.testnet else CONSTANTS.MAINNET_WS_URL


class BybitSettings(BybitSettingsBase):
    """Settings of ``bybit`` (spot)."""


def trading_pair(base: str, quote: str) -> str:
    """``BASE-QUOTE`` as connectorkit spells pairs."""
    return f"{base}-{quote}"


class UnknownSymbolError(KeyError):
    """A symbol or pair that the instruments-info answer did not list."""


class SymbolMap:
    """Exchange symbol (``BTCUSDT``) <-> trading pair (``BTC-USDT``), built from instruments-info
    rows (``symbol``, ``baseCoin``, ``quoteCoin``): never by splitting strings, since a symbol
    does not show where its base coin ends."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self._pairs: dict[str, str] = {}
        self._symbols: dict[str, str] = {}
        for symbol, base, quote in rows:
            pair = trading_pair(base, quote)
            self._pairs[symbol] = pair
            self._symbols[pair] = symbol

    @property
    def pairs_by_symbol(self) -> dict[str, str]:
        """The mapping the market-wire parsers take."""
        return dict(self._pairs)

    def pair(self, symbol: str) -> str:
        try:
            return self._pairs[symbol]
        except KeyError:
            raise UnknownSymbolError(f"unknown Bybit symbol {symbol!r}") from None

    def symbol(self, pair: str) -> str:
        try:
            return self._symbols[pair]
        except KeyError:
            raise UnknownSymbolError(f"no Bybit symbol for {pair!r}") from None


_CLIENT_ORDER_ID_RE: Final = re.compile(CONSTANTS.CLIENT_ORDER_ID_PATTERN)


def is_valid_client_order_id(client_order_id: str) -> bool:
    """Within orderLinkId's documented charset (digits, letters, ``-``, ``_``) and 36 characters."""
    return _CLIENT_ORDER_ID_RE.fullmatch(client_order_id) is not None
