"""JSON answers of the sandbox's HTTP apps (venue-neutral: the skin decides the body)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from connectorkit.sandbox.errors import ApiError


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(data), status=status, headers=headers, content_type="application/json"
    )


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    merged = dict(headers or {})
    merged.update(err.headers)
    return json_response(err.body(), err.http_status, merged)
