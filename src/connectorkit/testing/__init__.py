"""The conformance kit: run any connector against its venue's sandbox skin.

A connector is done when it passes the suite. Wiring it in takes a target and a test class::

    from connectorkit.testing import SpotConformance
    from connectorkit.testing.binance import BinanceSpotTarget

    class TestBinanceConformance(SpotConformance):
        target = BinanceSpotTarget()

This package imports pytest (the test classes); ``import connectorkit`` never loads it. The checks
themselves (:mod:`connectorkit.testing.checks`) are plain coroutines that raise
:class:`ConformanceError`, usable from any runner. See docs/writing-a-connector.md, "Conformance".
"""

from connectorkit.testing.harness import ConformanceError, EventLog, SecretWatch, Session, wait_until
from connectorkit.testing.registry import conformance_target, register_conformance_target
from connectorkit.testing.suite import PerpetualConformance, SpotConformance, suite_for
from connectorkit.testing.target import (
    ConformanceTarget,
    Credentials,
    PerpetualConformanceTarget,
    SandboxSpec,
    TrueBook,
    TrueFunding,
    TrueOrder,
)

__all__ = [
    "ConformanceError",
    "ConformanceTarget",
    "Credentials",
    "EventLog",
    "PerpetualConformance",
    "PerpetualConformanceTarget",
    "SandboxSpec",
    "SecretWatch",
    "Session",
    "SpotConformance",
    "TrueBook",
    "TrueFunding",
    "TrueOrder",
    "conformance_target",
    "register_conformance_target",
    "suite_for",
    "wait_until",
]
