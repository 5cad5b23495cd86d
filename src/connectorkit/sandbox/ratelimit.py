"""Rate limits as Binance enforces them (Spot docs "LIMITS"; Futures docs "Limits").

Windows are fixed and aligned to the epoch (a 1-minute window resets at the start of each minute).
REQUEST_WEIGHT is counted per IP, ORDERS per account. Over a limit the answer is 429 with Retry-After;
an IP that keeps sending after 429s is banned with 418 for ``ban_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectorkit.sandbox import errors

_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}
_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    rate_limit_type: str  # REQUEST_WEIGHT | ORDERS | RAW_REQUESTS
    interval: str  # SECOND | MINUTE | HOUR | DAY
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        return _MS[self.interval] * self.interval_num

    @property
    def tag(self) -> str:
        return f"{self.interval_num}{_LETTER[self.interval]}"

    @property
    def human(self) -> str:
        return f"{self.interval_num} {self.interval}"

    def exchange_info(self) -> dict[str, object]:
        return {
            "rateLimitType": self.rate_limit_type,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }


SPOT_RATE_LIMITS = (
    RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
    RateLimitRule("ORDERS", "SECOND", 10, 100),
    RateLimitRule("ORDERS", "DAY", 1, 200000),
    RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 61000),
)


class _Counter:
    __slots__ = ("count", "window_start")

    def __init__(self) -> None:
        self.window_start = -1
        self.count = 0

    def current(self, rule: RateLimitRule, now_ms: int) -> int:
        start = now_ms - now_ms % rule.window_ms
        if start != self.window_start:
            self.window_start = start
            self.count = 0
        return self.count


class RateLimiter:
    def __init__(
        self,
        rules: tuple[RateLimitRule, ...] = SPOT_RATE_LIMITS,
        *,
        order_header_prefix: str = "X-MBX-ORDER-COUNT-",
        ban_after_violations: int = 3,
        ban_ms: int = 120_000,
        unfilled_order_count: bool = False,
        too_many_requests: errors.TooManyRequestsText = errors.SPOT_TOO_MANY_REQUESTS,
    ) -> None:
        """``unfilled_order_count``: the spot ORDERS rule (Spot FAQ "Spot Unfilled Order Count Rules"):
        only successful placements count, and an order's first fill takes one off every interval.
        ``too_many_requests``: the product's own -1003 wording (USD-M words it differently from spot)."""
        self.rules = rules
        self.text = too_many_requests
        self._unfilled = unfilled_order_count
        self._prefix = order_header_prefix
        self._ban_after = ban_after_violations
        self._ban_ms = ban_ms
        self._weights: dict[tuple[str, RateLimitRule], _Counter] = {}
        self._orders: dict[tuple[int, RateLimitRule], _Counter] = {}
        self._violations: dict[str, int] = {}
        self._banned_until: dict[str, int] = {}
        #: Requests answered 429/418 by this limiter (forced-429 faults are not counted here).
        self.rejections = 0

    def too_much_weight(self, rule: RateLimitRule) -> errors.ApiError:
        """The 429 -1003 answer for ``rule`` in this product's wording (no headers yet)."""
        return errors.too_much_weight(rule.limit, rule.human, self.text)

    def ip_banned(self, until_ms: int) -> errors.ApiError:
        """The 418 -1003 answer in this product's wording (no headers yet)."""
        return errors.ip_banned(until_ms, self.text)

    def _retry_after(self, rule: RateLimitRule, now_ms: int) -> str:
        return str(max(1, -(-(rule.window_ms - now_ms % rule.window_ms) // 1000)))

    def charge_weight(self, ip: str, weight: int, now_ms: int) -> dict[str, str]:
        """Count ``weight`` for ``ip``; return the used-weight headers or raise 429/418 ApiError."""
        banned = self._banned_until.get(ip, 0)
        if banned > now_ms:
            self.rejections += 1
            err = self.ip_banned(banned)
            err.headers["Retry-After"] = str(max(1, -(-(banned - now_ms) // 1000)))
            raise err
        headers: dict[str, str] = {}
        rules = [r for r in self.rules if r.rate_limit_type == "REQUEST_WEIGHT"]
        for rule in rules:
            counter = self._weights.setdefault((ip, rule), _Counter())
            if counter.current(rule, now_ms) + weight > rule.limit:
                self.rejections += 1
                self._violations[ip] = self._violations.get(ip, 0) + 1
                if self._violations[ip] > self._ban_after:
                    self._banned_until[ip] = now_ms + self._ban_ms
                    self._violations[ip] = 0
                    err = self.ip_banned(now_ms + self._ban_ms)
                    err.headers["Retry-After"] = str(self._ban_ms // 1000)
                    raise err
                err = self.too_much_weight(rule)
                err.headers["Retry-After"] = self._retry_after(rule, now_ms)
                err.headers.update(self.weight_headers(ip, now_ms))
                raise err
        for rule in rules:
            self._weights[(ip, rule)].count += weight
        self._violations.pop(ip, None)
        headers.update(self.weight_headers(ip, now_ms))
        return headers

    def weight_headers(self, ip: str, now_ms: int) -> dict[str, str]:
        out = {}
        for rule in self.rules:
            if rule.rate_limit_type == "REQUEST_WEIGHT":
                counter = self._weights.setdefault((ip, rule), _Counter())
                out[f"X-MBX-USED-WEIGHT-{rule.tag}"] = str(counter.current(rule, now_ms))
        return out

    def charge_order(self, account_id: int, now_ms: int) -> dict[str, str]:
        """Count one new order for the account; raise -1015 (429) when a window is full."""
        rules = [r for r in self.rules if r.rate_limit_type == "ORDERS"]
        for rule in rules:
            counter = self._orders.setdefault((account_id, rule), _Counter())
            if counter.current(rule, now_ms) + 1 > rule.limit:
                self.rejections += 1
                err = errors.too_many_orders(rule.limit, rule.human)
                err.headers["Retry-After"] = self._retry_after(rule, now_ms)
                raise err
        for rule in rules:
            self._orders[(account_id, rule)].count += 1
        return self.order_headers(account_id, now_ms)

    def order_rejected(self, account_id: int, now_ms: int) -> None:
        """The placement charged by :meth:`charge_order` failed: unfilled order counts do not include it."""
        if self._unfilled:
            self._uncount_order(account_id, now_ms)

    def order_filled(self, account_id: int, now_ms: int) -> None:
        """An order of the account traded for the first time (no credit below zero)."""
        if self._unfilled:
            self._uncount_order(account_id, now_ms)

    def _uncount_order(self, account_id: int, now_ms: int) -> None:
        for rule in self.rules:
            if rule.rate_limit_type == "ORDERS":
                counter = self._orders.setdefault((account_id, rule), _Counter())
                counter.count = max(0, counter.current(rule, now_ms) - 1)

    def order_headers(self, account_id: int, now_ms: int) -> dict[str, str]:
        out = {}
        for rule in self.rules:
            if rule.rate_limit_type == "ORDERS":
                counter = self._orders.setdefault((account_id, rule), _Counter())
                out[f"{self._prefix}{rule.tag}"] = str(counter.current(rule, now_ms))
        return out
