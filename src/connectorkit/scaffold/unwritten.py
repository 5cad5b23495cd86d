"""Marks the methods a generated connector has yet to write, and finds the first of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__connectorkit_unwritten__"


def unwritten(function: F) -> F:
    """Mark a generated stub; delete the decorator together with the stub's body."""
    setattr(function, _MARK, True)
    return function


def first_unwritten_method(*classes: type) -> str | None:
    """``Class.method`` of the first stub still marked :func:`unwritten`, in the given class order
    and each class's definition order; None when every method is written."""
    for klass in classes:
        for name, attribute in vars(klass).items():
            function = attribute.fget if isinstance(attribute, property) else attribute
            if getattr(function, _MARK, False):
                return f"{klass.__name__}.{name}"
    return None
