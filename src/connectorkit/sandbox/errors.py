"""The error a venue answers with: a code, a message, an HTTP status (venue-neutral).

Each skin builds its own codes and messages (``venues/binance/errors.py``); the core only raises
and catches :class:`ApiError`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the exchange. ``http_status`` 4XX for client errors, 5XX for server ones."""

    def __init__(self, code: int, msg: str, http_status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}
