"""Where the tests find their data: everything they read lives inside this repository, under tests/data."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = REPO_ROOT / "tests" / "data"
#: Real recorded exchange traffic (cryptofeed sample data; see ``README.md`` and ``LICENSE`` there).
CAPTURES = TEST_DATA / "captures"
