"""``connectorkit new-connector``: the scaffold writes the seed's files, one stub per template method."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectorkit.cli.main import main
from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.connector.replay_adapter import ReplayAdapter, unregister_replay_adapter
from connectorkit.connector.settings import registered_connectors, unregister_connector
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.net.auth import AuthBase

SPOT_FILES = {
    "__init__.py",
    "demo_venue_exchange.py",
    "demo_venue_auth.py",
    "demo_venue_api_order_book_data_source.py",
    "demo_venue_api_user_stream_data_source.py",
    "demo_venue_constants.py",
    "demo_venue_utils.py",
    "demo_venue_web_utils.py",
    "demo_venue_replay.py",
    "tests/__init__.py",
    "tests/test_demo_venue_connector.py",
    "tests/demo_venue_conformance_target.py",
}


def _scaffold(tmp_path: Path, name: str, *extra: str) -> Path:
    assert main(["new-connector", name, "--dir", str(tmp_path), *extra]) == 0
    return tmp_path / name


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}


def _run_generated_tests(tmp_path: Path, package: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         *options, str(package)],
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )


def test_writes_the_seed_file_list(tmp_path: Path) -> None:
    package = _scaffold(tmp_path, "demo_venue")
    written = {str(path.relative_to(package)) for path in package.rglob("*.py")}
    assert written == SPOT_FILES
    utils = (package / "demo_venue_utils.py").read_text()
    assert "DEFAULT_FEES: Final = TradeFeeSchema(" in utils


def test_perpetual_writes_a_derivative_on_the_perpetual_template(tmp_path: Path) -> None:
    package = _scaffold(tmp_path, "demo_perp", "--perpetual")
    assert (package / "demo_perp_derivative.py").exists()
    assert not (package / "demo_perp_exchange.py").exists()
    source = (package / "demo_perp_derivative.py").read_text()
    assert "class DemoPerpDerivative(PerpetualDerivativePyBase):" in source
    for method in ("_set_trading_pair_leverage", "_fetch_positions", "_fetch_funding_payments"):
        assert f" {method}(" in source


def test_the_package_imports_registers_and_stubs_exactly_the_abstract_methods(tmp_path: Path) -> None:
    _scaffold(tmp_path, "demo_venue")
    _scaffold(tmp_path, "demo_perp", "--perpetual")
    sys.path.insert(0, str(tmp_path))
    try:
        pairs = [
            ("demo_venue.demo_venue_exchange", "DemoVenueExchange", ExchangePyBase),
            ("demo_perp.demo_perp_derivative", "DemoPerpDerivative", PerpetualDerivativePyBase),
            ("demo_venue.demo_venue_auth", "DemoVenueAuth", AuthBase),
            ("demo_venue.demo_venue_api_order_book_data_source", "DemoVenueAPIOrderBookDataSource",
             OrderBookTrackerDataSource),
            ("demo_venue.demo_venue_api_user_stream_data_source", "DemoVenueAPIUserStreamDataSource",
             UserStreamTrackerDataSource),
            ("demo_venue.demo_venue_replay", "DemoVenueReplayAdapter", ReplayAdapter),
        ]
        for module_name, class_name, template in pairs:
            klass = getattr(importlib.import_module(module_name), class_name)
            assert issubclass(klass, template)
            assert not klass.__abstractmethods__, class_name
            stubbed = {
                name for name, value in vars(klass).items()
                if getattr(getattr(value, "fget", value), "__connectorkit_unwritten__", False)
            }
            assert stubbed == set(template.__abstractmethods__), class_name
        assert {"demo_venue", "demo_perp"} <= set(registered_connectors())
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("demo_venue", "demo_perp"):
            unregister_connector(name)
            unregister_replay_adapter(name)
            for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[module]


def test_generated_tests_name_the_first_method_to_write_then_pass_once_all_are_written(
    tmp_path: Path,
) -> None:
    package = _scaffold(tmp_path, "demo_venue")
    failing = _run_generated_tests(tmp_path, package)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "write DemoVenueAuth.rest_authenticate next" in failing.stdout
    # The shared conformance suite is wired in: it runs, and fails at the target's first stub.
    assert "8 failed" in failing.stdout
    assert 'NotImplementedError("DemoVenueConformanceTarget.open_sandbox")' in failing.stdout
    for path in package.rglob("*.py"):  # "write" every method: the markers go with the stubs
        path.write_text(path.read_text().replace("    @unwritten\n", ""))
    passing = _run_generated_tests(tmp_path, package, "-k", "every_template_method")
    assert passing.returncode == 0, passing.stdout + passing.stderr


def test_the_generated_replay_adapter_is_registered_lazily_and_names_the_method_to_write(
    tmp_path: Path,
) -> None:
    _scaffold(tmp_path, "demo_venue")
    capture = tmp_path / "demo.jsonl"
    capture.write_text(
        '{"t":"header","exchange":"DEMO_VENUE","recorded":1.0,"config":{}}\n'
        '{"t":"http","conn":"rest","ts":1.0,"url":"https://api.demo_venue.invalid/book?s=AAAZZZ","data":"{}"}\n',
        encoding="utf-8",
    )
    probe = (
        "import sys, demo_venue\n"
        "from connectorkit.cli.main import main\n"
        "print('demo_venue.demo_venue_replay' in sys.modules)\n"
        f"sys.exit(main(['replay', {str(capture)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=_env(tmp_path), capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == "False\n", done.stdout + done.stderr
    assert done.stderr.strip().endswith("NotImplementedError: DemoVenueReplayAdapter.snapshot_symbol")


def test_generated_code_is_lint_clean(tmp_path: Path) -> None:
    _scaffold(tmp_path, "demo_venue")
    _scaffold(tmp_path, "demo_perp", "--perpetual")
    config = Path(__file__).resolve().parents[3] / "pyproject.toml"
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(config), str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert lint.returncode == 0, lint.stdout


@pytest.mark.parametrize("name", ["Demo", "1venue", "class", "demo-venue", "demo_"])
def test_a_bad_name_is_refused_with_one_line(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-connector", name, "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lower-case Python identifier" in err
    assert not any(tmp_path.iterdir())


def test_an_existing_package_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = _scaffold(tmp_path, "demo_venue")
    (package / "demo_venue_auth.py").write_text("# mine\n")
    capsys.readouterr()
    assert main(["new-connector", "demo_venue", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (package / "demo_venue_auth.py").read_text() == "# mine\n"


def test_the_generated_settings_declare_their_endpoints(tmp_path: Path) -> None:
    _scaffold(tmp_path, "demo_venue")
    probe = (
        "import demo_venue\n"
        "from connectorkit.connector.settings import build_settings\n"
        "print(sorted(build_settings('demo_venue').ENDPOINTS))\n"
        "try:\n"
        "    build_settings('demo_venue', rest_url='http://127.0.0.1:1')\n"
        "except ValueError as exc:\n"
        "    print('refused' if 'not ws_url' in str(exc) else exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=_env(tmp_path), capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["['rest_url', 'ws_url']", "refused"]


def test_signatures_keep_their_positional_and_keyword_only_markers() -> None:
    import inspect

    from connectorkit.scaffold.template_methods import _render_parameters

    def sample(a: int, /, b: str, *, c: float = 1.0, **rest: object) -> None: ...

    rendered = _render_parameters(inspect.signature(sample))
    assert rendered == "a: int, /, b: str, *, c: float = 1.0, **rest: object"


def test_the_guide_walks_through_the_scaffold_the_command_actually_offers(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "writing-a-connector.md").read_text()
    assert "connectorkit new-connector my_venue [--perpetual]" in guide
    package = _scaffold(tmp_path, "my_venue")
    failing = _run_generated_tests(tmp_path, package, "-k", "every_template_method")
    assert "write MyVenueAuth.rest_authenticate next" in failing.stdout  # the line the guide quotes
    assert "`write MyVenueAuth.rest_authenticate next`" in guide


def test_the_scaffold_works_where_pytest_is_not_installed(tmp_path: Path) -> None:
    """pytest is a dev dependency: the command a user runs must not need it."""
    probe = (
        "import builtins, pathlib, sys\n"
        "real = builtins.__import__\n"
        "def guard(name, *args, **kwargs):\n"
        "    if name.split('.')[0] in ('pytest', '_pytest'):\n"
        "        raise ModuleNotFoundError(name)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = guard\n"
        "from connectorkit.cli.main import main\n"
        f"sys.exit(main(['new-connector', 'no_pytest', '--dir', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "no_pytest" / "tests" / "no_pytest_conformance_target.py").exists()
