"""Rate-limit windows and request authentication rules, with explicit times (no wall clock)."""

from __future__ import annotations

import pytest

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.ratelimit import RateLimitRule
from connectorkit.sandbox.venues.binance import security
from connectorkit.sandbox.venues.binance.errors import ApiError, TooManyRequestsText
from connectorkit.sandbox.venues.binance.futures.errors import USDM_TOO_MANY_REQUESTS
from connectorkit.sandbox.venues.binance.ratelimit import BinanceRateLimiter, rate_limit_json

RULES = (
    RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 10),
    RateLimitRule("ORDERS", "SECOND", 10, 2),
)
T0 = 1_700_000_080_000  # 40 s into a minute


def test_weight_window_is_aligned_and_resets() -> None:
    limiter = BinanceRateLimiter(RULES, ban_after_violations=5)
    assert limiter.charge_weight("ip", 6, T0) == {"X-MBX-USED-WEIGHT-1M": "6"}
    with pytest.raises(ApiError) as err:
        limiter.charge_weight("ip", 5, T0 + 1000)
    assert err.value.http_status == 429 and err.value.code == -1003
    assert err.value.headers["Retry-After"] == "19"  # seconds to the next minute
    assert err.value.headers["X-MBX-USED-WEIGHT-1M"] == "6"  # a refused request adds nothing
    assert limiter.charge_weight("other-ip", 5, T0) == {"X-MBX-USED-WEIGHT-1M": "5"}  # per IP
    assert limiter.charge_weight("ip", 5, T0 + 20_000) == {"X-MBX-USED-WEIGHT-1M": "5"}  # new minute


def test_repeated_violations_ban_with_418_until_ban_ends() -> None:
    limiter = BinanceRateLimiter(RULES, ban_after_violations=2, ban_ms=60_000)
    limiter.charge_weight("ip", 10, T0)
    codes = []
    for i in range(3):
        with pytest.raises(ApiError) as err:
            limiter.charge_weight("ip", 1, T0 + i)
        codes.append(err.value.http_status)
    assert codes == [429, 429, 418]
    with pytest.raises(ApiError) as err:
        limiter.charge_weight("ip", 1, T0 + 30_000)  # new window, but still banned
    assert err.value.http_status == 418 and err.value.headers["Retry-After"] == "31"
    assert limiter.charge_weight("ip", 1, T0 + 60_003) == {"X-MBX-USED-WEIGHT-1M": "1"}


@pytest.mark.parametrize(
    ("text", "weight_msg", "ban_msg"),
    [
        (
            None,  # the default: spot "Error Codes"
            "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
            "Way too much request weight used; IP banned until 1700000140001. "
            "Please use WebSocket Streams for live updates to avoid bans.",
        ),
        (
            USDM_TOO_MANY_REQUESTS,  # USD-M "Error Codes"
            "Too many requests; current limit is 10 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
            "Way too many requests; IP banned until 1700000140001. "
            "Please use the websocket for live updates to avoid bans.",
        ),
    ],
)
def test_each_product_words_1003_its_own_way(
    text: TooManyRequestsText | None, weight_msg: str, ban_msg: str
) -> None:
    kw = {} if text is None else {"too_many_requests": text}
    limiter = BinanceRateLimiter(RULES, ban_after_violations=1, ban_ms=60_000, **kw)
    limiter.charge_weight("ip", 10, T0)
    answers = []
    for i in range(3):
        with pytest.raises(ApiError) as err:
            limiter.charge_weight("ip", 1, T0 + i)
        answers.append((err.value.http_status, err.value.code, err.value.msg))
    assert answers == [(429, -1003, weight_msg), (418, -1003, ban_msg), (418, -1003, ban_msg)]
    assert limiter.too_much_weight(RULES[0]).msg == weight_msg  # what a forced 429 answers


def test_order_counts_per_account() -> None:
    limiter = BinanceRateLimiter(RULES)
    assert limiter.charge_order(1, T0) == {"X-MBX-ORDER-COUNT-10S": "1"}
    assert limiter.charge_order(1, T0 + 1) == {"X-MBX-ORDER-COUNT-10S": "2"}
    with pytest.raises(ApiError) as err:
        limiter.charge_order(1, T0 + 2)
    assert err.value.msg == "Too many new orders; current limit is 2 orders per 10 SECOND."
    assert limiter.charge_order(2, T0 + 2) == {"X-MBX-ORDER-COUNT-10S": "1"}
    assert limiter.charge_order(1, T0 + 10_000) == {"X-MBX-ORDER-COUNT-10S": "1"}


def test_exchange_info_shape_of_a_rule() -> None:
    assert rate_limit_json(RULES[0]) == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 10,
    }


def test_timestamp_window_rules() -> None:
    now = 1_000_000
    security.check_timestamp({"timestamp": str(now - 5000)}, now)  # exactly the default window
    with pytest.raises(ApiError, match="outside of the recvWindow"):
        security.check_timestamp({"timestamp": str(now - 5001)}, now)
    security.check_timestamp({"timestamp": str(now + 999)}, now)
    with pytest.raises(ApiError, match="1000ms ahead"):
        security.check_timestamp({"timestamp": str(now + 1000)}, now)
    security.check_timestamp({"timestamp": str(now - 59_000), "recvWindow": "60000"}, now)
    with pytest.raises(ApiError) as err:
        security.check_timestamp({"timestamp": str(now), "recvWindow": "60001"}, now)
    assert err.value.code == -1131
    for bad in ("soon", "+999000", " 999000", "999_000", "999000\n"):
        with pytest.raises(ApiError) as err:
            security.check_timestamp({"timestamp": bad}, now)
        assert err.value.code == -1100, bad


def test_signature_is_over_query_then_body_without_signature() -> None:
    secret = "s3cr3t"
    query, body = "symbol=BTCUSDT&side=BUY", "quantity=1&timestamp=5"
    sig = security.sign(secret, query + body)
    security.check_signature(secret, query, body + "&signature=" + sig)
    security.check_signature(secret, query + "&signature=" + sig.upper(), body)  # not case sensitive
    with pytest.raises(ApiError) as err:
        security.check_signature(secret, query.replace("BUY", "SELL"), body + "&signature=" + sig)
    assert err.value.code == -1022
    with pytest.raises(ApiError) as err:
        security.check_signature(secret, query, body)
    assert err.value.code == -1102


def test_api_key_checks() -> None:
    registry = AccountRegistry()
    account = registry.create()
    assert len(account.api_key) == 64 and account.api_key.isalnum()
    assert security.authenticate_key(registry, account.api_key) is account
    for bad in (None, "", "has space", "x" * 200):
        with pytest.raises(ApiError) as err:
            security.authenticate_key(registry, bad)
        assert err.value.code == -2014
    with pytest.raises(ApiError) as err:
        security.authenticate_key(registry, "a" * 64)
    assert err.value.code == -2015
    assert account.secret not in repr(account)


def test_spot_timestamp_in_microseconds_and_recv_window_with_three_decimals() -> None:
    # Spot docs "Timing security": timestamp in milliseconds or microseconds; recvWindow in milliseconds
    # with up to three decimal places.
    now = 1_700_000_000_000
    micros = now * 1000
    security.check_timestamp({"timestamp": str(micros - 4_999_999)}, now, microseconds=True)
    with pytest.raises(ApiError, match="outside of the recvWindow"):
        security.check_timestamp({"timestamp": str(micros - 5_000_001)}, now, microseconds=True)
    with pytest.raises(ApiError, match="1000ms ahead"):
        security.check_timestamp({"timestamp": str(micros + 1_000_000)}, now, microseconds=True)
    window = {"timestamp": str(micros - 5_000_400), "recvWindow": "5000.5"}
    security.check_timestamp(window, now, microseconds=True)
    with pytest.raises(ApiError, match="outside of the recvWindow"):
        security.check_timestamp({**window, "recvWindow": "5000.3"}, now, microseconds=True)
    security.check_timestamp({"timestamp": str(now - 5000), "recvWindow": "5000.001"}, now)
    with pytest.raises(ApiError) as err:
        security.check_timestamp({"timestamp": str(now), "recvWindow": "5000.0001"}, now)
    assert err.value.code == -1100
    # Futures (microseconds=False, the default) knows milliseconds only.
    with pytest.raises(ApiError, match="1000ms ahead"):
        security.check_timestamp({"timestamp": str(micros)}, now)


def test_unfilled_order_count_rules() -> None:
    # Spot FAQ "Spot Unfilled Order Count Rules": only successful placements count; an order's first fill
    # gives one back in every interval; the count never goes below zero; cancels change nothing.
    limiter = BinanceRateLimiter(RULES, unfilled_order_count=True)
    assert limiter.charge_order(1, T0) == {"X-MBX-ORDER-COUNT-10S": "1"}
    limiter.order_rejected(1, T0)  # the placement failed: it does not count
    assert limiter.order_headers(1, T0) == {"X-MBX-ORDER-COUNT-10S": "0"}
    limiter.charge_order(1, T0)
    limiter.charge_order(1, T0)
    limiter.order_filled(1, T0)
    assert limiter.order_headers(1, T0) == {"X-MBX-ORDER-COUNT-10S": "1"}
    limiter.order_filled(1, T0)
    limiter.order_filled(1, T0)  # no credit below zero
    assert limiter.order_headers(1, T0) == {"X-MBX-ORDER-COUNT-10S": "0"}
    # Without the rule (futures), every accepted request counts.
    plain = BinanceRateLimiter(RULES)
    plain.charge_order(1, T0)
    plain.order_rejected(1, T0)
    plain.order_filled(1, T0)
    assert plain.order_headers(1, T0) == {"X-MBX-ORDER-COUNT-10S": "1"}
