"""Outcome of one cancellation in ``cancel_all``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CancellationResult:
    """``success`` is True when the order is confirmed cancelled (or already final) on the exchange."""

    order_id: str
    success: bool
