"""Writes a new connector package with the seed's file list, one stub per template method.

``connectorkit new-connector NAME [--perpetual] [--dir DIR]`` calls :func:`write_connector`. The
package uses relative imports, so it works inside ``connectorkit/exchanges/`` and anywhere on
``sys.path``. Every method a template leaves abstract becomes a stub marked
:func:`~connectorkit.scaffold.unwritten.unwritten` that raises ``NotImplementedError`` naming
itself; the generated test fails with the first of them until all are written (the order is the
guide's: auth, order book data source, user stream data source, connector).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.net.auth import AuthBase
from connectorkit.scaffold.template_methods import TemplateMethod, template_methods

GUIDE = "docs/writing-a-connector.md"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ScaffoldError(ValueError):
    """The connector name or the destination cannot be used."""


@dataclass(frozen=True, slots=True)
class _Stub:
    """A class to generate: its module, name, template base and the stubs it needs."""

    module: str
    class_name: str
    base: type
    summary: str


def camel_case(name: str) -> str:
    """``demo_venue`` -> ``DemoVenue``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise ScaffoldError(
            f"connector name {name!r} must be a lower-case Python identifier (letters, digits, _)"
        )


def write_connector(name: str, directory: Path, *, perpetual: bool = False) -> list[Path]:
    """Write ``directory/name/`` and return the files written. Refuses to overwrite a folder."""
    _check_name(name)
    package = directory / name
    if package.exists():
        raise ScaffoldError(f"{package} already exists; choose another name or --dir")
    camel = camel_case(name)
    connector = _Stub(
        f"{name}_derivative" if perpetual else f"{name}_exchange",
        f"{camel}Derivative" if perpetual else f"{camel}Exchange",
        PerpetualDerivativePyBase if perpetual else ExchangePyBase,
        f"The {name} {'perpetual' if perpetual else 'spot'} connector.",
    )
    classes = (
        _Stub(f"{name}_auth", f"{camel}Auth", AuthBase, f"Signs {name}'s private REST and WS requests."),
        _Stub(
            f"{name}_api_order_book_data_source",
            f"{camel}APIOrderBookDataSource",
            OrderBookTrackerDataSource,
            f"{name}'s order book snapshots, diffs and trades"
            + (" (and funding info)." if perpetual else "."),
        ),
        _Stub(
            f"{name}_api_user_stream_data_source",
            f"{camel}APIUserStreamDataSource",
            UserStreamTrackerDataSource,
            f"{name}'s authenticated private stream.",
        ),
        connector,
    )
    files: dict[str, str] = {
        "__init__.py": _package_init(name, connector),
        f"{name}_constants.py": _constants(name),
        f"{name}_utils.py": _utils(name, camel),
        f"{name}_web_utils.py": _web_utils(name),
    }
    for stub in classes:
        files[f"{stub.module}.py"] = _class_module(name, stub)
    files["tests/__init__.py"] = ""
    files[f"tests/test_{name}_connector.py"] = _test_module(name, classes)
    package.mkdir(parents=True)
    (package / "tests").mkdir()
    written = []
    for relative, text in files.items():
        path = package / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _package_init(name: str, connector: _Stub) -> str:
    camel = camel_case(name)
    return f'''"""{name}: a connectorkit connector, registered as ``{name}`` (see {GUIDE})."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectorkit.connector.settings import register_connector

from .{name}_utils import DEFAULT_FEES, {camel}Settings

if TYPE_CHECKING:
    from .{connector.module} import {connector.class_name}


def _create(settings: {camel}Settings) -> {connector.class_name}:
    from .{connector.module} import {connector.class_name}

    return {connector.class_name}(settings)


register_connector("{name}", _create, DEFAULT_FEES, {camel}Settings)
'''


def _constants(name: str) -> str:
    return f'''"""{name}: the venue's facts. Cite the API documentation section beside each block."""

from __future__ import annotations

from typing import Final

EXCHANGE_NAME: Final = "{name}"

# Endpoint bases (the settings' rest_url / ws_url defaults); the connector appends the official
# paths. Write the venue's production hosts here, from its API documentation.
DEFAULT_REST_URL: Final = "https://api.{name}.invalid"
DEFAULT_WS_URL: Final = "wss://stream.{name}.invalid"
'''


def _utils(name: str, camel: str) -> str:
    return f'''"""{name}: default fees and the settings model."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.trade_fee import TradeFeeSchema

from . import {name}_constants as CONSTANTS

# Replace with the venue's published regular fee schedule (cite the page).
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.001"),
    taker_percent_fee_decimal=Decimal("0.001"),
)


class {camel}Settings(ConnectorSettings):
    """Settings of ``{name}``: ``rest_url`` and ``ws_url`` are bases the official paths go under."""

    rest_url: str = CONSTANTS.DEFAULT_REST_URL
    ws_url: str = CONSTANTS.DEFAULT_WS_URL
'''


def _web_utils(name: str) -> str:
    return f'''"""{name}: URL builders from the endpoint overrides."""

from __future__ import annotations


def rest_url(base_url: str, path: str) -> str:
    """``base_url`` (``scheme://host[:port]``) + an official REST path."""
    return base_url.rstrip("/") + path
'''


def _render_stub(klass: str, method: TemplateMethod) -> str:
    lines = []
    if method.is_property:
        lines.append("    @property")
    lines.append("    @unwritten")
    prefix = "async def" if method.is_async else "def"
    returns = f" -> {method.returns}" if method.returns is not None else ""
    lines.append(f"    {prefix} {method.name}({method.parameters}){returns}:")
    if method.summary:
        opening = f'        """Template: ``{method.template}``.'
        lines.extend([opening, "", f"        {method.summary}", '        """'])
    else:
        lines.append(f'        """Template: ``{method.template}``."""')
    lines.append(f'        raise NotImplementedError("{klass}.{method.name}")')
    return "\n".join(lines)


def _class_module(name: str, stub: _Stub) -> str:
    methods = template_methods(stub.base)
    imports = {f"from {stub.base.__module__} import {stub.base.__name__}"}
    imports.add("from connectorkit.scaffold import unwritten")
    for method in methods:
        imports.update(method.imports)
    body = "\n\n".join(_render_stub(stub.class_name, method) for method in methods)
    return f'''"""{stub.summary}

Fill in every method marked ``@unwritten`` (see {GUIDE}).
"""

from __future__ import annotations

{_import_block(imports)}


class {stub.class_name}({stub.base.__name__}):
    """{stub.summary}"""

{body}
'''


def _import_block(lines: set[str]) -> str:
    """Import lines merged per module, standard library first, then connectorkit (isort's order)."""
    plain: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for line in lines:
        words = line.split(" ", 3)
        if words[0] == "import":
            plain.setdefault(words[1].split(".")[0], set()).add(line)
        else:
            names.setdefault(words[1], set()).add(words[3])
    sections = []
    for ours in (False, True):
        block = [
            text
            for top in sorted(plain)
            if top.startswith("connectorkit") is ours
            for text in sorted(plain[top])
        ]
        block += [
            f"from {module} import {', '.join(sorted(names[module]))}"
            for module in sorted(names)
            if module.startswith("connectorkit") is ours
        ]
        if block:
            sections.append("\n".join(block))
    return "\n\n".join(sections)


def _test_module(name: str, classes: tuple[_Stub, ...]) -> str:
    imports = "\n".join(
        sorted(f"from ..{stub.module} import {stub.class_name}" for stub in classes)
    )
    names = "".join(f"\n        {stub.class_name}," for stub in classes)
    return f'''"""{name}: every template method written; then the conformance suite (see {GUIDE})."""

from __future__ import annotations

from connectorkit.scaffold import first_unwritten_method

{imports}


def test_every_template_method_is_written() -> None:
    missing = first_unwritten_method({names}
    )
    assert missing is None, f"write {{missing}} next ({GUIDE})"
'''
