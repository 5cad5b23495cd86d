"""Binance Spot connector, registered as ``binance`` (class :class:`BinanceExchange`).

Importing the package registers the connector; the connector module itself is imported only when
one is created, so listing connectors stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectorkit.connector.replay_adapter import ReplayAdapter, register_replay_adapter
from connectorkit.connector.settings import register_connector
from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES, BinanceSettings

if TYPE_CHECKING:
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

__all__ = ["BinanceExchange", "BinanceSettings"]


def _create(settings: BinanceSettings) -> BinanceExchange:
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

    return BinanceExchange(settings)


def _replay_adapter() -> ReplayAdapter:
    from connectorkit.exchanges.binance.binance_replay import BinanceReplayAdapter

    return BinanceReplayAdapter()


def __getattr__(name: str) -> Any:
    if name == "BinanceExchange":
        from connectorkit.exchanges.binance.binance_exchange import BinanceExchange

        return BinanceExchange
    raise AttributeError(name)


register_connector("binance", _create, DEFAULT_FEES, BinanceSettings)
# Capture header names: ours (``connectorkit record`` writes the connector's name) and cryptofeed's
# (the public captures in tests/data/captures).
register_replay_adapter("binance", _replay_adapter, exchanges=("BINANCE", "BINANCE_US"))
