"""Rate limiting, venue-neutral: fixed windows of request weight per IP and of new orders per account.

Windows are fixed and aligned to the epoch (a 1-minute window resets at the start of each minute).
REQUEST_WEIGHT is counted per IP, ORDERS per account (RAW_REQUESTS is advertised, not enforced). Over a
limit the limiter raises the skin's answer (:class:`RateLimitAnswers`, e.g. Binance's 429 -1003) with
Retry-After; an IP that keeps sending after rejections is banned for ``ban_ms``. Header names, default
rules and the error wording belong to the skin (``venues/binance/ratelimit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectorkit.sandbox.errors import ApiError

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


class RateLimitAnswers(Protocol):
    """How a skin words a rejection: the error (code, message, HTTP status) for each limit hit."""

    def too_much_weight(self, rule: RateLimitRule) -> ApiError: ...

    def ip_banned(self, until_ms: int) -> ApiError: ...

    def too_many_orders(self, rule: RateLimitRule) -> ApiError: ...


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
        rules: tuple[RateLimitRule, ...],
        answers: RateLimitAnswers,
        *,
        weight_header_prefix: str,
        order_header_prefix: str,
        ban_after_violations: int = 3,
        ban_ms: int = 120_000,
        unfilled_order_count: bool = False,
    ) -> None:
        """``unfilled_order_count``: only successful placements count, and an order's first fill takes
        one off every interval (Binance Spot FAQ "Spot Unfilled Order Count Rules").
        ``answers``: the skin's rejection errors; ``*_header_prefix`` + rule tag name the usage headers."""
        self.rules = rules
        self.answers = answers
        self._weight_prefix = weight_header_prefix
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

    def too_much_weight(self, rule: RateLimitRule) -> ApiError:
        """The skin's over-weight answer for ``rule`` (no headers yet)."""
        return self.answers.too_much_weight(rule)

    def ip_banned(self, until_ms: int) -> ApiError:
        """The skin's banned-IP answer (no headers yet)."""
        return self.answers.ip_banned(until_ms)

    def _retry_after(self, rule: RateLimitRule, now_ms: int) -> str:
        return str(max(1, -(-(rule.window_ms - now_ms % rule.window_ms) // 1000)))

    def charge_weight(self, ip: str, weight: int, now_ms: int) -> dict[str, str]:
        """Count ``weight`` for ``ip``; return the used-weight headers or raise the skin's ApiError."""
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
                out[f"{self._weight_prefix}{rule.tag}"] = str(counter.current(rule, now_ms))
        return out

    def charge_order(self, account_id: int, now_ms: int) -> dict[str, str]:
        """Count one new order for the account; raise the skin's answer when a window is full."""
        rules = [r for r in self.rules if r.rate_limit_type == "ORDERS"]
        for rule in rules:
            counter = self._orders.setdefault((account_id, rule), _Counter())
            if counter.current(rule, now_ms) + 1 > rule.limit:
                self.rejections += 1
                err = self.answers.too_many_orders(rule)
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
