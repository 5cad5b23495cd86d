"""The replay adapter registry: adapters are registered beside their connectors, loaded lazily,
found by capture header name, and a venue nobody serves is named in the error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from connectorkit.connector.replay_adapter import (
    NoReplayAdapterError,
    connector_for_exchange,
    get_replay_adapter,
    register_replay_adapter,
    registered_replay_adapters,
    unregister_replay_adapter,
)
from connectorkit.exchanges.binance.binance_replay import BinanceReplayAdapter
from connectorkit.exchanges.binance_perpetual.binance_perpetual_replay import BinancePerpetualReplayAdapter


def _probe(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_importing_connectorkit_or_a_connector_package_loads_no_replay_adapter() -> None:
    probe = "import sys, connectorkit; print('connectorkit.connector.replay_adapter' in sys.modules)"
    assert _probe(probe) == "False"
    out = _probe(
        "import sys, connectorkit.exchanges.binance\n"
        "from connectorkit.connector.replay_adapter import connector_for_exchange, get_replay_adapter\n"
        "module = 'connectorkit.exchanges.binance.binance_replay'\n"
        "name = connector_for_exchange('binance_us')\n"
        "print(name, module in sys.modules, end=' ')\n"
        "get_replay_adapter(name)\n"
        "print(module in sys.modules)"
    )
    assert out == "binance False True"


def test_each_binance_connector_has_its_own_adapter_for_its_capture_names() -> None:
    served = {reg.connector: reg.exchanges for reg in registered_replay_adapters()}
    assert served["binance"] == ("BINANCE", "BINANCE_US")
    assert served["binance_perpetual"] == ("BINANCE_DELIVERY", "BINANCE_FUTURES", "BINANCE_PERPETUAL")
    assert type(get_replay_adapter("binance")) is BinanceReplayAdapter
    assert type(get_replay_adapter("binance_perpetual")) is BinancePerpetualReplayAdapter
    assert get_replay_adapter("binance") is get_replay_adapter("binance")  # loaded once
    assert connector_for_exchange("Binance_Delivery") == "binance_perpetual"


def test_a_capture_name_belongs_to_one_adapter() -> None:
    registered_replay_adapters()
    with pytest.raises(ValueError, match="BINANCE_US"):
        register_replay_adapter("impostor", BinanceReplayAdapter, exchanges=("binance_us",))
    register_replay_adapter("impostor", BinanceReplayAdapter, exchanges=("IMPOSTOR",))
    try:
        assert connector_for_exchange("impostor") == "impostor"
    finally:
        unregister_replay_adapter("impostor")
    with pytest.raises(NoReplayAdapterError, match=r"exchange 'IMPOSTOR'; registered adapters: binance"):
        connector_for_exchange("IMPOSTOR")
