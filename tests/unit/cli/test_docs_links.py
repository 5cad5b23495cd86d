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
