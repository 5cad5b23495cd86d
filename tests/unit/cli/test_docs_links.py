"""Every relative link in the README and docs/ points at a file or folder that exists, and every
module the architecture map names is importable."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    targets = [t for t in LINK.findall(doc.read_text(encoding="utf-8")) if "://" not in t]
    assert targets, f"{doc.name} has no relative links"
    missing = [t for t in targets if not (doc.parent / t).exists()]
    assert missing == []


def test_diagram_click_targets_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r'click \w+ "([^"]+)"', text)
    assert len(targets) >= 10
    assert [t for t in targets if not (ROOT / t).is_file()] == []


def test_modules_in_the_architecture_map_import() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"\(src/(connectorkit/[\w/]+)\.py\)", text))
    assert len(paths) > 20
    for path in sorted(paths):
        importlib.import_module(path.replace("/", "."))


def _configuration_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def test_configuration_names_every_setting_and_no_other() -> None:
    from connectorkit.exchanges.binance.binance_utils import BinanceSettings
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_utils import BinancePerpetualSettings

    section = _configuration_section()
    named = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)[`=(]", section))
    fields = set(BinanceSettings.model_fields) | set(BinancePerpetualSettings.model_fields)
    assert fields - named - {"trading_pairs"} == set()  # trading_pairs: create_connector's 2nd argument
    assert named - fields - {"create_connector", "model_dump", "binance_perpetual"} == set()
    assert "ws_api_url" in BinanceSettings.model_fields
    assert {"ws_routed_paths", "listen_key_keepalive_interval"} <= set(BinancePerpetualSettings.model_fields)
    share = BinanceSettings.model_fields["rate_limits_share_pct"]
    assert share.default == 100 and "`rate_limits_share_pct` (0 < x <= 100, default 100)" in section


def test_configuration_states_the_default_fees() -> None:
    from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES as SPOT
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_utils import DEFAULT_FEES as PERP

    def pct(value: object) -> str:
        return f"{(value * 100).normalize():f} %"  # type: ignore[operator]

    section = _configuration_section()
    assert SPOT.maker_percent_fee_decimal == SPOT.taker_percent_fee_decimal
    assert SPOT.buy_percent_fee_deducted_from_returns and not PERP.buy_percent_fee_deducted_from_returns
    spot = f"`binance`: {pct(SPOT.maker_percent_fee_decimal)} maker and taker, buy\n  fees deducted"
    assert spot in section
    assert (f"`binance_perpetual`: {pct(PERP.maker_percent_fee_decimal)} maker, "
            f"{pct(PERP.taker_percent_fee_decimal)} taker") in section


def test_every_class_the_diagram_names_exists() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    diagram = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert diagram is not None
    names = set(re.findall(r"\b([A-Z][a-z]+(?:[A-Z][A-Za-z]*)+)\b", diagram.group(1)))
    assert {"OrderBookTracker", "ClientOrderTracker", "BudgetChecker"} <= names
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    prose = {"WebSocket"}  # the protocol, not a class
    missing = sorted(n for n in names - prose if not re.search(rf"^class {n}\b", sources, re.MULTILINE))
    assert missing == []
