"""Conversion rates between tokens, supplied by the caller.

There is deliberately no global rate oracle: code that needs to value a fee paid in a third
token (say BNB on a COINX-USDT trade) receives a :class:`RateSource` from its caller, so tests
and live code say explicitly where prices come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

from connectorkit.core.decimal_utils import DecimalLike, InvalidFieldError, split_trading_pair, to_decimal


class FeeConversionError(ValueError):
    """No rate is known to convert between the two tokens of ``trading_pair``."""

    def __init__(self, trading_pair: str, reason: str = "no conversion rate available") -> None:
        super().__init__(f"cannot convert fee via {trading_pair}: {reason}")
        self.trading_pair = trading_pair


@runtime_checkable
class RateSource(Protocol):
    """Anything that can price one unit of a pair's base asset in its quote asset."""

    def get_rate(self, trading_pair: str) -> Decimal | None:
        """Price of one ``BASE`` in ``QUOTE`` for ``"BASE-QUOTE"``, or None when unknown."""
        ...


class FixedRateSource:
    """A rate source backed by a fixed ``{"BASE-QUOTE": rate}`` mapping.

    It also answers the inverted pair (``QUOTE-BASE`` gives ``1 / rate``) and ``X-X`` gives 1.
    Rates must be strictly positive.
    """

    __slots__ = ("_rates",)

    def __init__(self, rates: Mapping[str, DecimalLike]) -> None:
        parsed: dict[str, Decimal] = {}
        for pair, rate in rates.items():
            split_trading_pair(pair, "rates key")
            value = to_decimal(rate, f"rates[{pair!r}]")
            if value == 0:
                raise InvalidFieldError(f"rates[{pair!r}]", "rate must be positive, got 0")
            parsed[pair] = value
        self._rates = parsed

    def get_rate(self, trading_pair: str) -> Decimal | None:
        base, quote = split_trading_pair(trading_pair)
        if base == quote:
            return Decimal(1)
        direct = self._rates.get(trading_pair)
        if direct is not None:
            return direct
        inverse = self._rates.get(f"{quote}-{base}")
        if inverse is not None:
            return Decimal(1) / inverse
        return None

    def __repr__(self) -> str:
        body = ", ".join(f"{pair!r}: {str(rate)!r}" for pair, rate in self._rates.items())
        return f"FixedRateSource({{{body}}})"
