"""Decimal → wire string as Binance Spot prints it: 8 decimal places ("0.10000000").

A value that needs more than 8 places is printed in full rather than rounded (never round silently).
"""

from __future__ import annotations

from decimal import Decimal


def fmt(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        return format(value.normalize(), "f")
    return f"{value:.8f}"
