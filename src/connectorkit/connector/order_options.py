"""The options an order may carry beyond pair, side, amount, type and price.

``buy`` / ``sell`` take them as explicit keyword-only arguments (a misspelt one is a ``TypeError``
from Python itself). Each connector declares which it supports; :func:`check_order_options`
turns the caller's values into an :class:`OrderOptions` or refuses them *before* anything is
tracked or sent -- an option the venue would ignore (or the connector would not send) is never
silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from connectorkit.core.enums import OrderType, TimeInForce

__all__ = ["OrderOptions", "UnsupportedOrderOptionError", "check_client_order_id", "check_order_options"]


class UnsupportedOrderOptionError(ValueError):
    """An order option the connector (or the venue behind it) does not support."""


@dataclass(frozen=True, slots=True)
class OrderOptions:
    """What ``_place_order`` must send besides the order itself.

    ``time_in_force`` is None when the caller left it to the order type (LIMIT: GTC; LIMIT_MAKER
    is post-only; MARKET executes at once); ``reduce_only`` asks the venue to reject any part of
    the order that would increase a position.
    """

    time_in_force: TimeInForce | None = None
    reduce_only: bool = False


def _time_in_force(value: object) -> TimeInForce | None:
    if value is None or isinstance(value, TimeInForce):
        return value
    if isinstance(value, str):
        try:
            return TimeInForce(value)
        except ValueError:
            names = ", ".join(tif.value for tif in TimeInForce)
            raise ValueError(f"time_in_force must be one of {names}, got {value!r}") from None
    raise TypeError(f"time_in_force must be a TimeInForce (or its name), got {type(value).__name__}")


def check_order_options(
    connector: str,
    order_type: OrderType,
    time_in_force: object,
    reduce_only: object,
    *,
    supported_time_in_force: Collection[TimeInForce],
    supports_reduce_only: bool,
) -> OrderOptions:
    """Validate the caller's options for one order on ``connector``; raise before anything is sent.

    ``time_in_force`` (a :class:`TimeInForce` or its name) applies to LIMIT orders; GTC is also
    accepted for LIMIT_MAKER (a post-only order rests until cancelled). Anything the connector
    does not declare is an :class:`UnsupportedOrderOptionError`.
    """
    tif = _time_in_force(time_in_force)
    if not isinstance(reduce_only, bool):
        raise TypeError(f"reduce_only must be a bool, got {type(reduce_only).__name__}")
    if tif is not None:
        if order_type is OrderType.MARKET:
            raise ValueError("time_in_force does not apply to MARKET orders (they execute at once)")
        if order_type is OrderType.LIMIT_MAKER and tif is not TimeInForce.GTC:
            raise ValueError(f"a LIMIT_MAKER order is post-only and rests until cancelled; {tif.value} "
                             "contradicts it (use a LIMIT order)")
        if tif not in supported_time_in_force:
            supported = ", ".join(sorted(t.value for t in supported_time_in_force)) or "none"
            raise UnsupportedOrderOptionError(
                f"{connector} does not support time_in_force={tif.value} (supported: {supported})"
            )
    if reduce_only and not supports_reduce_only:
        raise UnsupportedOrderOptionError(f"{connector} does not support reduce_only orders")
    return OrderOptions(tif, reduce_only)


def check_client_order_id(
    connector: str, client_order_id: object, pattern: re.Pattern[str], max_length: int
) -> str:
    """A caller's client order id, if the exchange would accept it (else ``ValueError``/``TypeError``)."""
    if not isinstance(client_order_id, str):
        raise TypeError(f"client_order_id must be a str, got {type(client_order_id).__name__}")
    if not 0 < len(client_order_id) <= max_length:
        raise ValueError(
            f"client_order_id must be 1 to {max_length} characters on {connector}, got {len(client_order_id)}"
        )
    if pattern.fullmatch(client_order_id) is None:
        raise ValueError(
            f"client_order_id {client_order_id!r} has characters {connector} does not accept "
            f"(allowed: {pattern.pattern})"
        )
    return client_order_id
