"""Open and close a USD-M perpetual position: set leverage, buy at market, read the position and
funding info, close it with a reduce-only sell.

    python examples/perpetual_position.py          # against an in-process sandbox (funded account)
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from _endpoint import Endpoint, endpoint, parse_args, wait_until

from connectorkit import OrderType, PositionAction, create_connector

PAIR = "BTC-USDT"


async def main(where: Endpoint) -> list[str]:
    """Returns what it printed."""
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        print(text)

    perp = create_connector("binance_perpetual", [PAIR], where.api_key, where.api_secret, **where.urls)
    await perp.start_network()
    try:
        await wait_until(lambda: perp.ready and perp.get_mid_price(PAIR).is_finite())
        funding = perp.get_funding_info(PAIR)
        say(f"mark {funding.mark_price} index {funding.index_price} funding rate {funding.rate}")
        if not await perp.set_leverage_async(PAIR, 5):
            raise SystemExit("the exchange refused leverage 5")
        say(f"leverage {perp.get_leverage(PAIR)}")
        perp.buy(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=PositionAction.OPEN)
        await wait_until(lambda: perp.get_position(PAIR) is not None)
        position = perp.get_position(PAIR)
        say(f"position {position.amount} @ {position.entry_price}, unrealized PnL {position.unrealized_pnl}")
        perp.sell(PAIR, position.amount, OrderType.MARKET, position_action=PositionAction.CLOSE)
        await wait_until(lambda: perp.get_position(PAIR) is None)
        say(f"closed; wallet {perp.get_balance('USDT')} USDT")
    finally:
        await perp.stop_network()
    return lines


async def _run() -> None:
    async with endpoint(parse_args(__doc__ or ""), futures=True) as where:
        await main(where)


if __name__ == "__main__":
    asyncio.run(_run())
