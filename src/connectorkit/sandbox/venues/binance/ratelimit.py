"""Binance's rate limits on the core limiter (Spot docs "LIMITS"; USD-M Futures docs "Limits").

Headers ``X-MBX-USED-WEIGHT-<n><unit>`` / ``X-MBX-ORDER-COUNT-<n><unit>`` (futures passes its own order
header prefix); over-weight 429 and ban 418 are -1003 in the product's wording, a full order window is
-1015 (Spot "Error codes").
"""

from __future__ import annotations

from dataclasses import dataclass

from connectorkit.sandbox.ratelimit import RateLimiter, RateLimitRule
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.errors import ApiError, TooManyRequestsText

SPOT_RATE_LIMITS = (
    RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
    RateLimitRule("ORDERS", "SECOND", 10, 100),
    RateLimitRule("ORDERS", "DAY", 1, 200000),
    RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 61000),
)


def rate_limit_json(rule: RateLimitRule) -> dict[str, object]:
    """One ``rateLimits`` entry of exchangeInfo (and of the WS-API answers)."""
    return {
        "rateLimitType": rule.rate_limit_type,
        "interval": rule.interval,
        "intervalNum": rule.interval_num,
        "limit": rule.limit,
    }


@dataclass(frozen=True, slots=True)
class BinanceRateLimitAnswers:
    """-1003 in ``text``'s wording (USD-M words it differently from spot) and -1015."""

    text: TooManyRequestsText = errors.SPOT_TOO_MANY_REQUESTS

    def too_much_weight(self, rule: RateLimitRule) -> ApiError:
        return errors.too_much_weight(rule.limit, rule.human, self.text)

    def ip_banned(self, until_ms: int) -> ApiError:
        return errors.ip_banned(until_ms, self.text)

    def too_many_orders(self, rule: RateLimitRule) -> ApiError:
        return errors.too_many_orders(rule.limit, rule.human)


class BinanceRateLimiter(RateLimiter):
    """The core limiter with Binance's headers and answers; defaults are the spot product's."""

    def __init__(
        self,
        rules: tuple[RateLimitRule, ...] = SPOT_RATE_LIMITS,
        *,
        order_header_prefix: str = "X-MBX-ORDER-COUNT-",
        ban_after_violations: int = 3,
        ban_ms: int = 120_000,
        unfilled_order_count: bool = False,
        too_many_requests: TooManyRequestsText = errors.SPOT_TOO_MANY_REQUESTS,
    ) -> None:
        super().__init__(
            rules,
            BinanceRateLimitAnswers(too_many_requests),
            weight_header_prefix="X-MBX-USED-WEIGHT-",
            order_header_prefix=order_header_prefix,
            ban_after_violations=ban_after_violations,
            ban_ms=ban_ms,
            unfilled_order_count=unfilled_order_count,
        )
