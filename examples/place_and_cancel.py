"""Place a post-only order that the budget checker accepts, watch its events, cancel it.

    python examples/place_and_cancel.py            # against an in-process sandbox (funded account)
    CONNECTORKIT_API_KEY=... CONNECTORKIT_API_SECRET=... python examples/place_and_cancel.py \\
        --rest-url https://testnet.binance.vision --ws-url wss://stream.testnet.binance.vision \\
        --ws-api-url wss://ws-api.testnet.binance.vision/ws-api/v3
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from _endpoint import Endpoint, endpoint, parse_args, wait_until

from connectorkit import MarketEvent, OrderCandidate, OrderType, TradeType, create_connector

PAIR = "BTC-USDT"


async def main(where: Endpoint) -> list[str]:
    """Returns the events seen, in order, as short lines."""
    spot = create_connector("binance", [PAIR], where.api_key, where.api_secret, **where.urls)
    seen: list[str] = []
    created, done = asyncio.Event(), asyncio.Event()

    def log(kind: MarketEvent) -> Any:
        def listener(event: Any) -> None:
            seen.append(f"{kind.name} {event.order_id}")
            print(seen[-1])
            (created if kind is MarketEvent.BuyOrderCreated else done).set()
        return listener

    for kind in (MarketEvent.BuyOrderCreated, MarketEvent.OrderCancelled, MarketEvent.OrderFailure):
        spot.add_listener(kind, log(kind))
    await spot.start_network()
    try:
        await wait_until(lambda: spot.ready and spot.get_mid_price(PAIR).is_finite())
        # 1% under the best bid: a post-only (LIMIT_MAKER) bid that rests without trading.
        price = spot.get_price(PAIR, False) * Decimal("0.99")
        wanted = OrderCandidate(PAIR, True, OrderType.LIMIT_MAKER, TradeType.BUY, Decimal("0.001"), price)
        candidate = spot.budget_checker.adjust_candidate(wanted)
        if candidate.amount == 0:
            raise SystemExit("not enough USDT for the order (fees included)")
        order_id = spot.buy(PAIR, candidate.amount, OrderType.LIMIT_MAKER, candidate.price)
        await asyncio.wait_for(created.wait(), timeout=10)
        print("open orders:", list(spot.in_flight_orders))
        spot.cancel(PAIR, order_id)
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await spot.stop_network()
    return seen


async def _run() -> None:
    async with endpoint(parse_args(__doc__ or ""), futures=False) as where:
        await main(where)


if __name__ == "__main__":
    asyncio.run(_run())
