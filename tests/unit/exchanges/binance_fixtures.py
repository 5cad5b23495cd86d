"""Paths to the Binance doc-example fixtures and the shared real-traffic captures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.paths import CAPTURES

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "binance_connector"
CAPTURES = CAPTURES


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def first_capture_http_body(capture: str) -> str:
    """The body of the first ``http`` record of a capture (the exchangeInfo answer)."""
    with (CAPTURES / capture).open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("t") == "http":
                body = record["data"]
                assert isinstance(body, str)
                return body
    raise AssertionError(f"{capture} has no http record")
