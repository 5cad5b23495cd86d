"""The message type that goes through a WebSocket auth and the WS assistant's ``send``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectorkit.net.redaction import masked


@dataclass(frozen=True, slots=True, repr=False)
class WSJSONRequest:
    """A JSON message to send. ``ws_authenticate`` returns a changed copy when auth is required.

    :param throttler_limit_id: the rate limit the message consumes (``None``: not throttled, for
        exchanges that do not limit inbound WS messages).
    """

    payload: Any
    is_auth_required: bool = False
    throttler_limit_id: str | None = None

    def __repr__(self) -> str:
        """Safe to log once signed: secret-named keys anywhere in the payload are masked."""
        return (
            f"WSJSONRequest(payload={masked(self.payload)!r}, is_auth_required={self.is_auth_required}, "
            f"throttler_limit_id={self.throttler_limit_id!r})"
        )
