"""Binance USDⓈ-M Perpetual connector, registered as ``binance_perpetual``
(class :class:`BinancePerpetualDerivative`).

Importing the package registers the connector; the connector module is imported only when one is
created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectorkit.connector.settings import register_connector
from connectorkit.exchanges.binance_perpetual.binance_perpetual_utils import (
    DEFAULT_FEES,
    BinancePerpetualSettings,
)

if TYPE_CHECKING:
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
        BinancePerpetualDerivative,
    )

__all__ = ["BinancePerpetualDerivative", "BinancePerpetualSettings"]


def _create(settings: BinancePerpetualSettings) -> BinancePerpetualDerivative:
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
        BinancePerpetualDerivative,
    )

    return BinancePerpetualDerivative(settings)


def __getattr__(name: str) -> Any:
    if name == "BinancePerpetualDerivative":
        from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
            BinancePerpetualDerivative,
        )

        return BinancePerpetualDerivative
    raise AttributeError(name)


register_connector("binance_perpetual", _create, DEFAULT_FEES, BinancePerpetualSettings)
