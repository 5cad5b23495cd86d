"""The kit is loaded only when asked for: ``import connectorkit`` (and every public name of it) never
imports pytest or ``connectorkit.testing``; the kit's targets and checks do not need pytest either,
its test classes do."""

from __future__ import annotations

import subprocess
import sys

WATCHED = ("pytest", "connectorkit.testing")


def _loaded(code: str) -> str:
    probe = f"import sys; {code}; print(sorted(m for m in {WATCHED!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_connectorkit_and_all_its_public_names_load_neither_pytest_nor_the_kit() -> None:
    assert _loaded("import connectorkit; [getattr(connectorkit, n) for n in connectorkit.__all__]") == "[]"


def test_the_kit_loads_pytest_only_for_its_test_classes() -> None:
    assert _loaded("import connectorkit.testing") == "['connectorkit.testing']"
    suite = _loaded("import connectorkit.testing as t; t.SpotConformance")
    assert suite == "['connectorkit.testing', 'pytest']"
