"""Bybit spot: default fees, settings, the symbol <-> pair map and the orderLinkId check."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

from pydantic import Field, field_validator, model_validator

from connectorkit.connector.settings import HTTP_SCHEMES, WS_SCHEMES, ConnectorSettings, Endpoint
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
    """Endpoints of a Bybit connector. ``rest_url``/``ws_url`` are bases (``scheme://host[:port]``)
    under which the connector appends ``/v5/...`` (REST), ``/v5/public/<category>`` and
    ``/v5/private`` (WebSocket). They default to Bybit's mainnet hosts; ``testnet=True`` with no
    endpoint given selects its testnet hosts. Override both or neither (``ENDPOINTS``).
    ``orderbook_depth`` must be one of the category's documented depths (``ORDERBOOK_DEPTHS``)."""

    ENDPOINTS: ClassVar[Mapping[str, Endpoint]] = {
        "rest_url": Endpoint(HTTP_SCHEMES),
        "ws_url": Endpoint(WS_SCHEMES),
    }
    ORDERBOOK_DEPTHS: ClassVar[tuple[int, ...]] = CONSTANTS.SPOT_ORDERBOOK_DEPTHS

    rest_url: str = CONSTANTS.MAINNET_REST_URL
    ws_url: str = CONSTANTS.MAINNET_WS_URL
    testnet: bool = False
    recv_window_ms: int = Field(
        default=CONSTANTS.DEFAULT_RECV_WINDOW_MS, gt=0, le=CONSTANTS.MAX_RECV_WINDOW_MS
    )
    orderbook_depth: int = CONSTANTS.DEFAULT_ORDERBOOK_DEPTH

    @model_validator(mode="before")
    @classmethod
    def _testnet_hosts(cls, data: Any) -> Any:
        given = isinstance(data, Mapping) and any(name in data for name in cls.ENDPOINTS)
        if isinstance(data, Mapping) and data.get("testnet") and not given:
            return {**data, "rest_url": CONSTANTS.TESTNET_REST_URL, "ws_url": CONSTANTS.TESTNET_WS_URL}
        return data

    @field_validator("orderbook_depth")
    @classmethod
    def _documented_depth(cls, depth: int) -> int:
        if depth not in cls.ORDERBOOK_DEPTHS:
            raise ValueError(f"orderbook depth must be one of {cls.ORDERBOOK_DEPTHS}")
        return depth


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
