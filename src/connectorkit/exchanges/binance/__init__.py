"""Binance Spot connector, registered as ``binance`` (class :class:`BinanceExchange`).

Importing the package registers the connector; the connector module itself is imported only when
one is created, so listing connectors stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectorkit.connector.settings import register_connector
from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES, BinanceSettings

if TYPE_CHECKING:
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

__all__ = ["BinanceExchange", "BinanceSettings"]


def _create(settings: BinanceSettings) -> BinanceExchange:
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

    return BinanceExchange(settings)


def __getattr__(name: str) -> Any:
    if name == "BinanceExchange":
        from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

        return BinanceExchange
    raise AttributeError(name)


register_connector("binance", _create, DEFAULT_FEES, BinanceSettings)
