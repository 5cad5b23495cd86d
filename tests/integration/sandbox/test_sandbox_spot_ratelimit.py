"""Rate limits: weight headers, order-count headers, 429 with Retry-After, 418 ban (Binance "LIMITS")."""

from __future__ import annotations

from dataclasses import replace

from sandbox_spot_support import FAST, LIMIT_BUY, running, seed_book

from connectorkit.sandbox import RateLimitRule

SMALL = replace(
    FAST,
    spot_rate_limits=(
        # Day-long windows so that no window rolls over during a test.
        RateLimitRule("REQUEST_WEIGHT", "DAY", 1, 30),
        RateLimitRule("ORDERS", "DAY", 1, 3),
    ),
    rate_limit_ban_after=2,
)


async def test_used_weight_header_counts_documented_weights() -> None:
    async with running() as (_sb, client):
        _, _, h1 = await client.request("GET", "/api/v3/ping")
        _, _, h2 = await client.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 500})
        _, _, h3 = await client.request("GET", "/api/v3/exchangeInfo")
        used = [int(h["X-MBX-USED-WEIGHT-1M"]) for h in (h1, h2, h3)]
        # ping 1, depth limit 101-500 → 25, exchangeInfo 20; a minute boundary in between restarts the count.
        if used[0] < used[1] < used[2]:
            assert used == [1, 26, 46]
        else:
            assert used[2] == 20 or used[1:] == [25, 45]


async def test_order_count_headers_and_limit() -> None:
    async with running(config=SMALL) as (sb, client):
        order = LIMIT_BUY
        counts = []
        for _ in range(3):
            status, _, headers = await client.request("POST", "/api/v3/order", order, signed=True)
            assert status == 200
            counts.append(int(headers["X-MBX-ORDER-COUNT-1D"]))
        assert counts == [1, 2, 3]
        status, body, headers = await client.request("POST", "/api/v3/order", order, signed=True)
        assert status == 429
        assert body == {"code": -1015, "msg": "Too many new orders; current limit is 3 orders per 1 DAY."}
        assert int(headers["Retry-After"]) >= 1
        assert len(sb.spot.engine.book("BTCUSDT").open_orders()) == 3


async def test_weight_exceeded_gives_429_then_418_ban() -> None:
    async with running(config=SMALL) as (_sb, client):
        statuses = []
        for _ in range(10):
            status, body, headers = await client.request("GET", "/api/v3/exchangeInfo")  # weight 20 of 30
            statuses.append(status)
            if status == 429:
                assert body["code"] == -1003
                assert body["msg"].startswith(
                    "Too much request weight used; current limit is 30 request weight per 1 DAY"
                )
                assert "Retry-After" in headers
            if status == 418:
                assert body["code"] == -1003 and "IP banned until" in body["msg"]
                assert int(headers["Retry-After"]) > 0
                break
        assert statuses[0] == 200
        assert 429 in statuses and statuses[-1] == 418
        status, _, _ = await client.request("GET", "/api/v3/ping")
        assert status == 418  # still banned


async def test_unfilled_order_count_over_http() -> None:
    # Spot FAQ "Spot Unfilled Order Count Rules": a rejected order does not count; a fill gives one back,
    # so an account whose orders trade can keep placing orders past the limit.
    async with running(config=SMALL) as (sb, client):
        await seed_book(sb)
        status, body, headers = await client.request(
            "POST", "/api/v3/order", {**LIMIT_BUY, "price": "1.001"}, signed=True
        )
        assert (status, body["msg"]) == (400, "Filter failure: PRICE_FILTER")
        assert headers["X-MBX-ORDER-COUNT-1D"] == "0"
        market_buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
        for _ in range(4):  # more than the limit of 3: each one fills
            status, body, headers = await client.request("POST", "/api/v3/order", market_buy, signed=True)
            assert (status, body["status"], headers["X-MBX-ORDER-COUNT-1D"]) == (200, "FILLED", "0")
