"""Rate limits as plain data (``net.rate_limit_specs``) and their conversion to throttler limits."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from connectorkit.net.errors import RateLimitConfigError
from connectorkit.net.rate_limit_specs import LimitSpec, with_weight
from connectorkit.net.throttler import (
    AsyncThrottler,
    LinkedLimitWeightPair,
    RateLimit,
    rate_limits_from_specs,
)
from support.clocks import SkipClock

POOLS = (LimitSpec("WEIGHT", 100, 60.0), LimitSpec("ORDERS", 10, 10.0))
ENDPOINTS = (
    LimitSpec("/depth", 100, 60.0, 1, (("WEIGHT", 5),)),
    LimitSpec("/order", 100, 60.0, 1, (("WEIGHT", 0), ("ORDERS", 1))),
    LimitSpec("/ticker", 100, 60.0, 2, (("WEIGHT", 2),)),
)


def test_a_spec_is_frozen_plain_data_with_weight_one_and_no_links_by_default() -> None:
    spec = LimitSpec("POOL", 6000, 60.0)
    assert (spec.weight, spec.linked) == (1, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.limit = 1  # type: ignore[misc]
    assert spec == LimitSpec("POOL", 6000, 60.0, 1, ())


def test_with_weight_replaces_one_endpoints_weight_in_one_pool_only() -> None:
    changed = with_weight(ENDPOINTS, "/depth", "WEIGHT", 250)
    assert changed[0] == LimitSpec("/depth", 100, 60.0, 1, (("WEIGHT", 250),))
    assert changed[1:] == list(ENDPOINTS[1:])  # other endpoints untouched
    both = with_weight(ENDPOINTS, "/order", "ORDERS", 3)
    assert both[1].linked == (("WEIGHT", 0), ("ORDERS", 3))  # the endpoint's other pool untouched
    assert ENDPOINTS[0].linked == (("WEIGHT", 5),)  # the declarations themselves are not changed
    assert with_weight(ENDPOINTS, "/nowhere", "WEIGHT", 9) == list(ENDPOINTS)
    assert with_weight(ENDPOINTS, "/depth", "NO_SUCH_POOL", 9) == list(ENDPOINTS)


def test_specs_become_rate_limits_pools_first_and_zero_links_dropped() -> None:
    limits = rate_limits_from_specs(POOLS, ENDPOINTS)
    assert [rl.limit_id for rl in limits] == ["WEIGHT", "ORDERS", "/depth", "/order", "/ticker"]
    assert limits[0] == RateLimit("WEIGHT", 100, 60.0, 1, ())
    assert limits[2] == RateLimit("/depth", 100, 60.0, 1, [LinkedLimitWeightPair("WEIGHT", 5)])
    # "/order" takes 0 from WEIGHT (declared, but free): a RateLimit link must weigh at least 1.
    assert limits[3].linked_limits == (LinkedLimitWeightPair("ORDERS", 1),)
    assert (limits[4].weight, limits[4].time_interval) == (2, 60.0)


def test_the_converted_limits_drive_a_throttler_through_the_linked_pools() -> None:
    limits = rate_limits_from_specs(POOLS, ENDPOINTS)
    throttler = AsyncThrottler(limits, safety_margin_pct=0, clock=SkipClock())
    assert throttler.try_acquire("/depth") and throttler.try_acquire("/order")
    assert throttler.used_weight("WEIGHT") == 5
    assert throttler.used_weight("ORDERS") == 1


def test_an_invalid_declaration_is_refused_when_converted() -> None:
    with pytest.raises(RateLimitConfigError, match="'BROKEN'"):
        rate_limits_from_specs((LimitSpec("BROKEN", 0, 60.0),), ())
    with pytest.raises(RateLimitConfigError, match=r"'/free': weight must be a positive int"):
        rate_limits_from_specs(POOLS, (LimitSpec("/free", 10, 1.0, 0),))


@pytest.mark.parametrize(
    "module",
    [
        "connectorkit.net.rate_limit_specs",
        "connectorkit.exchanges.binance.binance_constants",
        "connectorkit.exchanges.binance_perpetual.binance_perpetual_constants",
    ],
)
def test_declaring_limits_loads_none_of_the_web_layer(module: str) -> None:
    """A venue's constants module declares its limits without importing the throttler or aiohttp."""
    probe = (
        f"import sys, {module}; "
        "print(','.join(m for m in sys.modules if m == 'aiohttp' or m.startswith('connectorkit.net.')"
        " and m != 'connectorkit.net.rate_limit_specs'))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "", f"importing {module} loaded {loaded.strip()}"
