"""docs/writing-a-connector.md names the templates' methods exactly as the code declares them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "writing-a-connector.md").read_text(encoding="utf-8")
TEMPLATES = (PerpetualDerivativePyBase, ExchangePyBase, OrderBookTrackerDataSource,
             UserStreamTrackerDataSource)
CALL = re.compile(r"`(\w+)\(([^`()]*)\)`")


def _parameters(function: object) -> str:
    """``(order, **kwargs)`` as the guide writes it: parameter names only, without ``self``."""
    names = []
    for p in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if p.name == "self":
            continue
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        names.append(prefix + p.name)
    return ", ".join(names)


def test_every_abstract_member_of_both_templates_is_in_the_guide() -> None:
    missing = [name for name in sorted(PerpetualDerivativePyBase.__abstractmethods__)
               if f"`{name}" not in GUIDE]
    assert missing == []


def test_every_template_method_the_guide_calls_has_the_real_parameters() -> None:
    checked = 0
    wrong = []
    for name, written in CALL.findall(GUIDE):
        owner = next((t for t in TEMPLATES if hasattr(t, name)), None)
        if owner is None:
            continue
        checked += 1
        real = _parameters(getattr(owner, name))
        if written.replace(" ", "") != real.replace(" ", ""):
            wrong.append(f"{name}({written}) but {owner.__name__} declares {name}({real})")
    assert wrong == []
    assert checked >= len(PerpetualDerivativePyBase.__abstractmethods__) - 1  # all but the name property
