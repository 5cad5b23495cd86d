"""Writes a new connector package with the seed's file list, one stub per template method.

``connectorkit new-connector NAME [--perpetual] [--dir DIR]`` calls :func:`write_connector`. The
package uses relative imports, so it works inside ``connectorkit/exchanges/`` and anywhere on
``sys.path``. Every method a template leaves abstract becomes a stub marked
:func:`~connectorkit.scaffold.unwritten.unwritten` that raises ``NotImplementedError`` naming
itself; the generated test fails with the first of them until all are written (the order is the
guide's: auth, order book data source, user stream data source, connector, replay adapter).
"""

from __future__ import annotations

import keyword
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.connector.replay_adapter import ReplayAdapter
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.net.auth import AuthBase
from connectorkit.scaffold.template_methods import TemplateMethod, template_methods

GUIDE = "docs/writing-a-connector.md"
_WIDTH = 110
"""Line length of the generated code (the project's ruff setting)."""
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
    attributes: str = ""
    """Source lines of class attributes placed before the stubs (already indented)."""


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
        _Stub(
            f"{name}_replay",
            f"{camel}ReplayAdapter",
            ReplayAdapter,
            f"How ``connectorkit replay`` reads {name}'s captures (registered in ``__init__``).",
        ),
    )
    target = _Stub(
        f"tests/{name}_conformance_target",
        f"{camel}ConformanceTarget",
        _conformance_target_base(perpetual),
        f"How the conformance suite runs {name} against its venue's sandbox skin.",
        _target_attributes(name),
    )
    files: dict[str, str] = {
        "__init__.py": _package_init(name, connector, classes[-1]),
        f"{name}_constants.py": _constants(name),
        f"{name}_utils.py": _utils(name, camel),
        f"{name}_web_utils.py": _web_utils(name),
    }
    for stub in classes:
        files[f"{stub.module}.py"] = _class_module(name, stub)
    files[f"{target.module}.py"] = _class_module(name, target)
    files["tests/__init__.py"] = ""
    files[f"tests/test_{name}_connector.py"] = _test_module(name, classes, target, perpetual)
    package.mkdir(parents=True)
    (package / "tests").mkdir()
    written = []
    for relative, text in files.items():
        path = package / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _conformance_target_base(perpetual: bool) -> type:
    """The kit is imported only here: it needs pytest, which ``new-connector`` itself does not."""
    from connectorkit.testing.target import ConformanceTarget, PerpetualConformanceTarget

    return PerpetualConformanceTarget if perpetual else ConformanceTarget


def _target_attributes(name: str) -> str:
    return f'''    connector_name = "{name}"
    # Fill in from the sandbox skin: a pair it lists, the price its market starts at, and the
    # venue's own rejection texts (see ConformanceTarget's docstring).
    trading_pair = "BTC-USDT"
    reference_price = Decimal("30000")
    insufficient_balance_error = "write the venue's insufficient-balance error text"
    post_only_rejection_error = None
'''


def _package_init(name: str, connector: _Stub, adapter: _Stub) -> str:
    camel = camel_case(name)
    return f'''"""{name}: a connectorkit connector, registered as ``{name}`` (see {GUIDE}).

Importing the package registers the connector and its replay adapter; their modules are imported
only when a connector is created or a capture replayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectorkit.connector.replay_adapter import ReplayAdapter, register_replay_adapter
from connectorkit.connector.settings import register_connector

from .{name}_utils import DEFAULT_FEES, {camel}Settings

if TYPE_CHECKING:
    from .{connector.module} import {connector.class_name}


def _create(settings: {camel}Settings) -> {connector.class_name}:
    from .{connector.module} import {connector.class_name}

    return {connector.class_name}(settings)


def _replay_adapter() -> ReplayAdapter:
    from .{adapter.module} import {adapter.class_name}

    return {adapter.class_name}()


register_connector("{name}", _create, DEFAULT_FEES, {camel}Settings)
# The capture header names the adapter serves: `connectorkit record` writes "{name.upper()}"; add
# the names other recorders use for this venue.
register_replay_adapter("{name}", _replay_adapter, exchanges=("{name.upper()}",))
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

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar, Final

from connectorkit.connector.settings import HTTP_SCHEMES, WS_SCHEMES, ConnectorSettings, Endpoint
from connectorkit.core.trade_fee import TradeFeeSchema

from . import {name}_constants as CONSTANTS

# Replace with the venue's published regular fee schedule (cite the page).
DEFAULT_FEES: Final = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.001"),
    taker_percent_fee_decimal=Decimal("0.001"),
)


class {camel}Settings(ConnectorSettings):
    """Settings of ``{name}``: ``rest_url`` and ``ws_url`` are bases the official paths go under.

    ``ENDPOINTS`` lists every URL the connector dials: they are checked at creation and must be
    overridden together (add any further socket the venue needs here too).
    """

    ENDPOINTS: ClassVar[Mapping[str, Endpoint]] = {{
        "rest_url": Endpoint(HTTP_SCHEMES),
        "ws_url": Endpoint(WS_SCHEMES),
    }}

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
    lines.extend(_signature_lines(f"    {prefix} {method.name}", method.parameters, f"{returns}:"))
    if method.summary:
        opening = f'        """Template: ``{method.template}``.'
        summary = textwrap.wrap(method.summary, _WIDTH - 8, break_on_hyphens=False)
        lines.extend([opening, "", *(f"        {line}" for line in summary), '        """'])
    else:
        lines.append(f'        """Template: ``{method.template}``."""')
    lines.append(f'        raise NotImplementedError("{klass}.{method.name}")')
    return "\n".join(lines)


def _class_module(name: str, stub: _Stub) -> str:
    methods = template_methods(stub.base)
    imports = {f"from {stub.base.__module__} import {stub.base.__name__}"}
    imports.add("from connectorkit.scaffold import unwritten")
    if stub.attributes:
        imports.add("from decimal import Decimal")
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

{stub.attributes + chr(10) if stub.attributes else ""}{body}
'''


def _signature_lines(head: str, parameters: str, tail: str) -> list[str]:
    """``def name(params) -> T:`` on one line if it fits, else the parameters on their own line(s)."""
    one_line = f"{head}({parameters}){tail}"
    if len(one_line) <= _WIDTH:
        return [one_line]
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    if len(indent) + len(parameters) <= _WIDTH:
        return [f"{head}(", indent + parameters, f"{indent[:-4]}){tail}"]
    return [f"{head}(", *(f"{indent}{part}," for part in parameters.split(", ")), f"{indent[:-4]}){tail}"]


def _import_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= _WIDTH:
        return line
    return "\n".join([f"from {module} import (", *(f"    {name}," for name in names), ")"])


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
            _import_line(module, sorted(names[module]))
            for module in sorted(names)
            if module.startswith("connectorkit") is ours
        ]
        if block:
            sections.append("\n".join(block))
    return "\n\n".join(sections)


def _test_module(name: str, classes: tuple[_Stub, ...], target: _Stub, perpetual: bool) -> str:
    imports = "\n".join([
        *sorted(f"from ..{stub.module} import {stub.class_name}" for stub in classes),
        f"from .{target.module.removeprefix('tests/')} import {target.class_name}",
    ])
    names = "".join(f"\n        {stub.class_name}," for stub in (*classes, target))
    suite = "PerpetualConformance" if perpetual else "SpotConformance"
    return f'''"""{name}: every template method written; then the conformance suite (see {GUIDE})."""

from __future__ import annotations

from connectorkit.scaffold import first_unwritten_method
from connectorkit.testing import {suite}

{imports}


def test_every_template_method_is_written() -> None:
    missing = first_unwritten_method({names}
    )
    assert missing is None, f"write {{missing}} next ({GUIDE})"


class Test{camel_case(name)}Conformance({suite}):
    """The shared conformance suite against the venue's sandbox skin: the connector is done when
    every test here passes."""

    target = {target.class_name}()
'''
