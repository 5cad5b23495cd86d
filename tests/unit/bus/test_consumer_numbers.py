"""Numbers read back from the bus are exact and finite: NaN or an infinity is a malformed entry."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest

from connectorkit.bus import wire
from connectorkit.bus.consumer import _finite, _funding_info


def test_finite_decimal_strings_pass_exactly() -> None:
    assert _finite("0.00010000") == Decimal("0.00010000")


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity", "abc"])
def test_non_finite_or_non_numeric_text_is_malformed(text: str) -> None:
    with pytest.raises(InvalidOperation):
        _finite(text)


def test_a_funding_entry_with_a_nan_rate_is_malformed() -> None:
    entry = wire.FundingEntry("101", "100.5", 1_700_000_000, "NaN", 0.0)
    with pytest.raises(InvalidOperation):
        _funding_info("BTC-USDT", entry)
