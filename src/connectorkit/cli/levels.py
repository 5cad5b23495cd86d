"""Book levels as JSON: ``[[price, amount], ...]`` with the exchange's own decimal strings."""

from __future__ import annotations

from typing import Any


def book_levels(book: Any, depth: int | None) -> tuple[list[list[str]], list[list[str]]]:
    """``(bids, asks)`` of ``book`` (an :class:`~connectorkit.core.order_book.OrderBook`), best
    first, at most ``depth`` levels a side (all if None), each level the two strings exactly as
    the exchange sent them (``"0.50000000"`` stays so: nothing reformatted or rounded)."""
    return ([[str(price), str(amount)] for price, amount, *_ in book.raw_levels(True, depth)],
            [[str(price), str(amount)] for price, amount, *_ in book.raw_levels(False, depth)])
