"""The sandbox counts every request its rate limiter refuses (what the conformance suite's throttling
check reads), and the USD-M limits can be overridden like the spot ones."""

from __future__ import annotations

import aiohttp
import pytest

from connectorkit.sandbox import RateLimitRule, Sandbox, SandboxConfig
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.ratelimit import BinanceRateLimiter, rate_limit_json

RULES = (RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 10), RateLimitRule("ORDERS", "SECOND", 10, 1))
T0 = 1_700_000_080_000


def test_every_429_and_418_is_counted_and_accepted_requests_are_not() -> None:
    limiter = BinanceRateLimiter(RULES, ban_after_violations=1, ban_ms=60_000)
    limiter.charge_weight("ip", 10, T0)
    limiter.charge_order(7, T0)
    assert limiter.rejections == 0
    statuses = []
    for i in range(3):  # 429, then the ban (418) twice
        with pytest.raises(ApiError) as err:
            limiter.charge_weight("ip", 1, T0 + i)
        statuses.append(err.value.http_status)
    with pytest.raises(ApiError):
        limiter.charge_order(7, T0)  # -1015: too many new orders
    assert statuses == [429, 418, 418] and limiter.rejections == 4


async def test_futures_rate_limits_are_configurable_and_advertised() -> None:
    rules = (RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 240), RateLimitRule("ORDERS", "SECOND", 10, 30))
    async with Sandbox(seed=1, markets=[], config=SandboxConfig(futures_rate_limits=rules)) as sb:
        assert sb.futures.limiter.rules == rules
        url = f"{sb.futures_rest_url}/fapi/v1/exchangeInfo"
        async with aiohttp.ClientSession() as http, http.get(url) as answer:
            advertised = (await answer.json())["rateLimits"]
    assert advertised == [rate_limit_json(rule) for rule in rules]
