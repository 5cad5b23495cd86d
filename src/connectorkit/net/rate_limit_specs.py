"""Rate limits as plain data: what a venue's constants module declares.

A venue documents its limits as pools (``REQUEST_WEIGHT`` 6000 per minute, ``ORDERS`` 100 per
10 s...) and endpoints that draw from them. :class:`LimitSpec` writes one of those down with no
dependency on the web layer (stdlib only), so a constants module can declare its limits without
importing the throttler; :func:`connectorkit.net.throttler.rate_limits_from_specs` turns the
declarations into the throttler's ``RateLimit`` objects when a connector is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """One rate-limited pool or endpoint: ``limit`` units per ``interval_s``.

    ``linked`` names the pools the endpoint also draws from, with the weight it takes there; a
    linked weight of 0 means "declared, but this endpoint takes nothing from that pool".
    """

    limit_id: str
    limit: int
    interval_s: float
    weight: int = 1
    linked: tuple[tuple[str, int], ...] = ()


def with_weight(specs: Iterable[LimitSpec], limit_id: str, pool: str, weight: int) -> list[LimitSpec]:
    """``specs`` with the weight that endpoint ``limit_id`` takes from ``pool`` replaced.

    For endpoints whose cost depends on configuration (e.g. a depth snapshot whose weight depends
    on the number of levels asked for). Other specs, and the endpoint's other pools, are unchanged.
    """
    return [
        dataclasses.replace(spec, linked=tuple((p, weight if p == pool else w) for p, w in spec.linked))
        if spec.limit_id == limit_id
        else spec
        for spec in specs
    ]
