"""Market data only: keep a live Binance Spot order book and print its top and the trades.

    python examples/market_data.py                 # against an in-process sandbox
    python examples/market_data.py --rest-url https://api.binance.com --ws-url wss://stream.binance.com:9443

No keys needed (``trading_required=False``).
"""

from __future__ import annotations

import asyncio

from _endpoint import Endpoint, endpoint, parse_args

from connectorkit import OrderBookMessage, create_connector

PAIR = "BTC-USDT"


async def main(where: Endpoint, seconds: float = 3.0) -> list[str]:
    """Print (and return) a top-of-book line every half second for ``seconds``."""
    lines: list[str] = []
    spot = create_connector("binance", [PAIR], trading_required=False, **where.urls)

    def on_trade(trade: OrderBookMessage) -> None:
        lines.append(f"trade {'buy ' if trade.is_buy else 'sell'} {trade.amount} @ {trade.price}")
        print(lines[-1])

    spot.order_book_tracker.add_trade_listener(on_trade)
    await spot.start_network()
    try:
        await asyncio.wait_for(spot.order_book_tracker.wait_ready(), timeout=30)
        for _ in range(int(seconds * 2)):
            book = spot.get_order_book(PAIR)
            bids, asks = book.snapshot(3)
            lines.append(f"{PAIR} bid {book.best_bid} ask {book.best_ask} "
                         f"({len(bids)} bid / {len(asks)} ask levels shown, mid {book.mid_price})")
            print(lines[-1])
            await asyncio.sleep(0.5)
    finally:
        await spot.stop_network()
    return lines


async def _run() -> None:
    async with endpoint(parse_args(__doc__ or ""), futures=False) as where:
        await main(where)


if __name__ == "__main__":
    asyncio.run(_run())
