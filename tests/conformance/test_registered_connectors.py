"""The conformance suite for every registered connector that has a sandbox skin (a conformance
target): one test class per connector, ``Test<Name>Conformance``, built at collection time."""

from __future__ import annotations

from connectorkit.connector.settings import registered_connectors
from connectorkit.testing import conformance_target, suite_for

COVERED: list[str] = []

for _name in registered_connectors():
    _target = conformance_target(_name)
    if _target is None:
        continue
    _suite = suite_for(_target)
    _suite.__module__ = __name__
    globals()[_suite.__name__] = _suite
    COVERED.append(_name)


def test_both_binance_connectors_are_covered() -> None:
    assert {"binance", "binance_perpetual"} <= set(COVERED)
    assert "TestBinanceConformance" in globals() and "TestBinancePerpetualConformance" in globals()
