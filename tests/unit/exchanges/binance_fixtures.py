"""Paths to the Binance doc-example fixtures and the shared real-traffic captures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from connectorkit.net.rest_request import RESTResponse
from support.paths import CAPTURES

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "binance_connector"
CAPTURES = CAPTURES


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def rest_answer(body: bytes | str, response_type: type[T]) -> T:
    """``body`` decoded into ``response_type`` the way the connectors decode every REST answer:
    ``typed_request`` -> ``RESTAssistant.execute_request`` -> ``RESTResponse.json(response_type)``
    (a body that breaks the schema raises ``ResponseDecodeError``)."""
    raw = body.encode() if isinstance(body, str) else body
    response = RESTResponse(status=200, headers={}, body=raw, method="GET", url="https://binance.invalid/")
    return response.json(response_type)


def fixture_answer(name: str, response_type: type[T]) -> T:
    """The fixture ``name`` decoded as the REST answer it documents (see :func:`rest_answer`)."""
    return rest_answer(fixture_bytes(name), response_type)


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
