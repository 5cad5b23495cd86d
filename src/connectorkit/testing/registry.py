"""Which registered connectors have a conformance target (a sandbox skin to run against).

``tests/conformance`` runs the suite for every registered connector that has one. A connector
shipped with connectorkit adds its target here (``module:Class``, imported only when asked for); a
connector living elsewhere calls :func:`register_conformance_target` from its own tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from connectorkit.testing.target import ConformanceTarget

_BUILTIN: dict[str, str] = {
    "binance": "connectorkit.testing.binance:BinanceSpotTarget",
    "binance_perpetual": "connectorkit.testing.binance:BinancePerpetualTarget",
}
_registered: dict[str, Callable[[], ConformanceTarget]] = {}


def register_conformance_target(connector_name: str, factory: Callable[[], ConformanceTarget]) -> None:
    """Make ``factory()`` the target of ``connector_name`` (replacing a built-in one)."""
    _registered[connector_name] = factory


def conformance_target(connector_name: str) -> ConformanceTarget | None:
    """The connector's target, or ``None`` when it has no sandbox skin to be checked against."""
    factory = _registered.get(connector_name)
    if factory is not None:
        return factory()
    path = _BUILTIN.get(connector_name)
    if path is None:
        return None
    module_name, class_name = path.split(":")
    target_class = getattr(importlib.import_module(module_name), class_name)
    target = target_class()
    if not isinstance(target, ConformanceTarget) or target.connector_name != connector_name:
        raise TypeError(f"{path} is not the ConformanceTarget of {connector_name!r}")
    return target
