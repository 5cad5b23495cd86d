"""The wiring snippet of docs/writing-a-connector.md ("Conformance") works as written: saved as a test
module outside this project's pytest configuration (so in pytest-asyncio's strict mode), pytest
collects the suite from it and two of its checks pass."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from connectorkit.testing import SpotConformance

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-connector.md"
SUITE_TESTS = sorted(name for name in dir(SpotConformance) if name.startswith("test_"))


async def test_the_documented_wiring_collects_the_suite_and_runs_it(tmp_path: Path) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    match = re.search(r"<!-- conformance -->\n```python\n(.*?)```", guide, re.DOTALL)
    assert match is not None, "the guide lost its conformance snippet"
    (tmp_path / "test_my_connector_conformance.py").write_text(match.group(1), encoding="utf-8")

    async def pytest_run(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), *args,
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        text = out.decode()
        assert process.returncode == 0, text[-3000:]
        return text

    collected = await pytest_run("--collect-only", "-q")
    assert sorted(re.findall(r"::TestBinanceConformance::(test_\w+)", collected)) == SUITE_TESTS
    ran = await pytest_run("-q", "-k", "books_equal or no_key_or_secret")
    assert re.search(r"\b2 passed\b", ran), ran[-3000:]
