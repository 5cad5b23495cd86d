"""Decimal coercion and validation shared by the core types.

Every public money value in connectorkit is a ``decimal.Decimal``. Constructors that accept
"a number" go through :func:`to_decimal`, so bad input (NaN, infinities, negative amounts,
booleans, unparsable strings) is rejected at the boundary with an :class:`InvalidFieldError`
that names the offending field, instead of surfacing later as a wrong balance.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DecimalLike = Decimal | int | float | str
"""What :func:`to_decimal` accepts. Floats go through ``str()`` so ``0.1`` becomes ``Decimal("0.1")``."""


class InvalidFieldError(ValueError):
    """A value given for a named field is malformed or out of range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def to_decimal(value: object, field: str, *, allow_negative: bool = False) -> Decimal:
    """Coerce ``value`` to a finite Decimal, rejecting anything that is not a number.

    ``bool`` is rejected although it is an ``int`` subclass: ``True`` as an amount is always a bug.
    Negative values are rejected unless ``allow_negative`` is set.
    """
    if isinstance(value, bool):
        raise InvalidFieldError(field, f"expected a number, got bool {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidFieldError(field, f"not a decimal number: {value!r}") from None
    else:
        raise InvalidFieldError(field, f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidFieldError(field, f"must be finite, got {result}")
    if not allow_negative and result < 0:
        raise InvalidFieldError(field, f"must not be negative, got {result}")
    return result


def require_str(value: object, field: str) -> str:
    """Return ``value`` if it is a non-empty string, else raise :class:`InvalidFieldError`."""
    if not isinstance(value, str) or not value:
        raise InvalidFieldError(field, f"expected a non-empty string, got {value!r}")
    return value


def require_bool(value: object, field: str) -> bool:
    """Return ``value`` if it is a bool (not merely truthy), else raise :class:`InvalidFieldError`."""
    if not isinstance(value, bool):
        raise InvalidFieldError(field, f"expected a bool, got {value!r}")
    return value


def split_trading_pair(trading_pair: object, field: str = "trading_pair") -> tuple[str, str]:
    """Split a ``BASE-QUOTE`` pair into ``(base, quote)``; anything else is an InvalidFieldError."""
    pair = require_str(trading_pair, field)
    base, sep, quote = pair.partition("-")
    if not sep or not base or not quote or "-" in quote:
        raise InvalidFieldError(field, f"expected 'BASE-QUOTE', got {pair!r}")
    return base, quote
