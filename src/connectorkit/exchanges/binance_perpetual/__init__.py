"""Binance USDⓈ-M Perpetual connector, registered as ``binance_perpetual``
(class :class:`BinancePerpetualDerivative`).

Importing the package registers the connector; the connector module is imported only when one is
created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectorkit.connector.replay_adapter import ReplayAdapter, register_replay_adapter
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


def _replay_adapter() -> ReplayAdapter:
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_replay import (
        BinancePerpetualReplayAdapter,
    )

    return BinancePerpetualReplayAdapter()


def __getattr__(name: str) -> Any:
    if name == "BinancePerpetualDerivative":
        from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
            BinancePerpetualDerivative,
        )

        return BinancePerpetualDerivative
    raise AttributeError(name)


register_connector("binance_perpetual", _create, DEFAULT_FEES, BinancePerpetualSettings)
# Capture header names: ours (``connectorkit record`` writes the connector's name) and cryptofeed's
# (the public captures in tests/data/captures: USD-M and COIN-M share the depth protocol).
register_replay_adapter(
    "binance_perpetual", _replay_adapter,
    exchanges=("BINANCE_PERPETUAL", "BINANCE_FUTURES", "BINANCE_DELIVERY"),
)
