"""Which connectors the conformance suite runs for, and the test class it builds for each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectorkit.testing import (
    PerpetualConformance,
    SpotConformance,
    conformance_target,
    register_conformance_target,
    registry,
    suite_for,
)
from connectorkit.testing.binance import BinancePerpetualTarget, BinanceSpotTarget


@pytest.fixture
def clean_registry() -> Iterator[None]:
    saved = dict(registry._registered)
    yield
    registry._registered.clear()
    registry._registered.update(saved)


def test_the_built_in_targets_and_a_connector_without_one() -> None:
    assert isinstance(conformance_target("binance"), BinanceSpotTarget)
    assert isinstance(conformance_target("binance_perpetual"), BinancePerpetualTarget)
    assert conformance_target("no_such_venue") is None


def test_a_registered_target_is_used(clean_registry: None) -> None:
    class OtherPair(BinanceSpotTarget):
        trading_pair = "ETH-USDT"

    register_conformance_target("binance", OtherPair)
    target = conformance_target("binance")
    assert isinstance(target, OtherPair) and target.quote_asset == "USDT" and target.base_asset == "ETH"


def test_a_target_of_another_connector_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._BUILTIN, "binance", "connectorkit.testing.binance:BinancePerpetualTarget")
    with pytest.raises(TypeError, match="not the ConformanceTarget of 'binance'"):
        conformance_target("binance")


def test_suite_for_picks_the_perpetual_suite_for_a_perpetual_target() -> None:
    spot, perpetual = suite_for(BinanceSpotTarget()), suite_for(BinancePerpetualTarget())
    assert spot.__name__ == "TestBinanceConformance" and issubclass(spot, SpotConformance)
    assert not issubclass(spot, PerpetualConformance)
    assert perpetual.__name__ == "TestBinancePerpetualConformance"
    assert issubclass(perpetual, PerpetualConformance)
    assert isinstance(perpetual.target, BinancePerpetualTarget)


def test_every_sandbox_order_status_has_a_truth_for_the_suite() -> None:
    from connectorkit.sandbox.engine import OrderStatus
    from connectorkit.testing.binance import _STATES

    assert {status.value for status in OrderStatus} <= set(_STATES)
