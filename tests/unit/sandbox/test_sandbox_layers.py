"""The sandbox's folders say its layers: the core never imports a protocol skin, and each skin maps every
core fault kind to its wire (issue 11 item 5)."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

import connectorkit
import connectorkit.sandbox as sandbox_pkg
from connectorkit.sandbox import cli
from connectorkit.sandbox.admin import FAULT_KINDS
from connectorkit.sandbox.faults import FaultInjector, FaultKind, unmapped_kinds
from connectorkit.sandbox.venues.binance.faults import BINANCE_FAULTS
from connectorkit.sandbox.venues.binance.sandbox import Sandbox as BinanceSandbox

CORE = Path(sandbox_pkg.__file__).parent
#: The two core modules allowed to name a skin: the ``Sandbox`` re-export and the CLI's venue table.
FACADES = {"__init__.py", "cli.py"}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_core_modules_do_not_import_a_skin() -> None:
    core = sorted(p for p in CORE.glob("*.py") if p.name not in FACADES)
    assert {p.name for p in core} >= {"engine.py", "venue.py", "ratelimit.py", "faults.py", "admin.py"}
    offenders = {
        p.name: sorted(m for m in _imported_modules(p) if m.startswith("connectorkit.sandbox.venues"))
        for p in core
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_no_binance_protocol_module_is_left_at_the_top_level() -> None:
    moved = {"spot", "futures", "streams.py", "userstream.py", "listenkeys.py", "http.py", "security.py",
             "marketstats.py", "stats_streams.py", "sandbox.py"}
    assert moved & {p.name for p in CORE.iterdir()} == set()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="connectorkit")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", *argv])


def test_venue_defaults_to_binance_and_keeps_the_binance_flags() -> None:
    args = _parse(["--no-futures", "--futures-stream-port", "8766"])
    assert args.venue == "binance"
    assert args.no_futures is True and args.futures_stream_port == 8766
    assert _parse(["--venue", "binance"]).venue == "binance"


def test_an_unknown_venue_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse(["--venue", "okx"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'okx'" in capsys.readouterr().err


def test_the_public_sandbox_is_the_binance_skin() -> None:
    assert connectorkit.Sandbox is sandbox_pkg.Sandbox is BinanceSandbox


def test_every_core_fault_kind_is_mapped_by_the_binance_skin() -> None:
    assert unmapped_kinds(BINANCE_FAULTS) == set()
    partial = {FaultKind.SEQUENCE_GAP: "skipped seqId"}
    assert unmapped_kinds(partial) == set(FaultKind) - {FaultKind.SEQUENCE_GAP}


def test_each_fault_kind_is_an_injector_method_and_an_admin_route() -> None:
    for kind in FaultKind:
        assert callable(getattr(FaultInjector, kind.value)), kind
    assert (*(kind.value for kind in FaultKind), "clear") == FAULT_KINDS
