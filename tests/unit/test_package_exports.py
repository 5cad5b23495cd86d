"""The flat public API of ``connectorkit`` is lazy (PEP 562) and complete."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import connectorkit

HEAVY = ("aiohttp.web", "connectorkit.sandbox", "sqlite3", "rich", "connectorkit.storage")


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    assert set(connectorkit._EXPORTS) == set(connectorkit.__all__)
    for name in connectorkit.__all__:
        module, attribute = connectorkit._EXPORTS[name]
        assert getattr(connectorkit, name) is getattr(importlib.import_module(module), attribute), name


def test_dir_lists_the_public_names_before_they_are_loaded() -> None:
    assert set(connectorkit.__all__) <= set(dir(connectorkit))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        _ = connectorkit.NoSuchThing  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "module",
    [
        "connectorkit",
        "connectorkit.core.order_book",
        "connectorkit.exchanges.binance.binance_exchange",
        "connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative",
    ],
)
def test_importing_the_core_or_one_connector_loads_no_sandbox_server_sqlite_or_rich(module: str) -> None:
    probe = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "", f"importing {module} loaded {loaded.strip()}"


def test_the_sandbox_is_loaded_on_first_use() -> None:
    probe = (
        "import sys, connectorkit; before = 'connectorkit.sandbox' in sys.modules; "
        "connectorkit.Sandbox; print(before, 'connectorkit.sandbox' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
