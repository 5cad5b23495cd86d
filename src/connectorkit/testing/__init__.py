"""The conformance kit: run any connector against its venue's sandbox skin.

A connector is done when it passes the suite. Wiring it in takes a target and a test class::

    from connectorkit.testing import SpotConformance
    from connectorkit.testing.binance import BinanceSpotTarget

    class TestBinanceConformance(SpotConformance):
        target = BinanceSpotTarget()

The test classes need pytest and are loaded only when asked for (PEP 562), so the targets, the
checks and ``connectorkit new-connector`` work without it; ``import connectorkit`` loads none of
this. The checks themselves (:mod:`connectorkit.testing.checks`) are plain coroutines that raise
:class:`ConformanceError`, usable from any runner. See docs/writing-a-connector.md, "Conformance".
"""

from typing import TYPE_CHECKING, Any

from connectorkit.testing.harness import ConformanceError, EventLog, SecretWatch, Session, wait_until
from connectorkit.testing.registry import conformance_target, register_conformance_target
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


_SUITE_NAMES = frozenset({"PerpetualConformance", "SpotConformance", "suite_for"})

if TYPE_CHECKING:
    from connectorkit.testing.suite import PerpetualConformance, SpotConformance, suite_for


def __getattr__(name: str) -> Any:
    if name in _SUITE_NAMES:
        from connectorkit.testing import suite

        return getattr(suite, name)
    raise AttributeError(f"module 'connectorkit.testing' has no attribute {name!r}")
