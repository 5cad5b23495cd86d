"""The demo closes its perpetual position on a thin book: it keeps placing reduce-only orders for
what is left until flat, or fails saying why (issue 17, item 14)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from connectorkit import create_connector
from connectorkit.cli.demo.strategy import ScriptedStrategy, StepTimeout, StrategyParams
from connectorkit.core.enums import OrderType, PositionAction
from connectorkit.core.events import MarketEvent, OrderExpiredEvent
from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.venues.binance.futures.exchange import OrderRequest
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket
from support.recorder import until

D = Decimal
FAST = {"short_poll_interval": 0.5, "long_poll_interval": 5.0, "request_timeout": 5.0}


@dataclass
class Thin:
    """A sandbox perpetual market with no simulated traders: only the maker account's orders."""

    sb: Sandbox
    perp: Any
    maker: int

    def quote(self, side: str, price: str, quantity: str) -> None:
        self.sb.futures.exchange.new_order(self.maker, OrderRequest(
            symbol="BTCUSDT", side=side, type="LIMIT", quantity=D(quantity), price=D(price),
            time_in_force="GTC"))

    def true_position(self) -> Decimal:
        account = self.sb.futures.exchange.account(self.sb.account_id(self.perp_key))
        return sum((p.amount for p in account.open_positions()), D(0))

    perp_key: str = ""


@pytest.fixture
async def long_on_a_thin_book() -> AsyncIterator[Thin]:
    """Long 0.03 BTC-USDT, with a single 0.01 bid left in the book to sell into."""
    async with Sandbox(seed=1, markets=[], futures_markets=[FuturesMarket("BTCUSDT", "BTC")],
                       simulate=False) as sb:
        maker_key, _ = sb.create_account(futures_balances={"USDT": D(1_000_000)})
        key, secret = sb.create_account(futures_balances={"USDT": D(100_000)})
        perp: Any = create_connector("binance_perpetual", ["BTC-USDT"], key, secret,
                                     rest_url=sb.futures_rest_url, ws_url=sb.futures_ws_url, **FAST)
        thin = Thin(sb, perp, sb.account_id(maker_key), key)
        await perp.start_network()
        try:
            await until(lambda: perp.ready, "the connector ready")
            thin.quote("SELL", "30010", "0.03")
            perp.buy("BTC-USDT", D("0.03"), OrderType.MARKET, position_action=PositionAction.OPEN)
            await until(lambda: (p := perp.get_position("BTC-USDT")) is not None and p.amount == D("0.03"),
                         "the long position")
            thin.quote("BUY", "29990", "0.01")
            yield thin
        finally:
            await perp.stop_network()


async def test_closing_goes_on_after_the_book_runs_out_until_flat(long_on_a_thin_book: Thin) -> None:
    thin = long_on_a_thin_book
    expired: list[str] = []

    def refill(event: OrderExpiredEvent) -> None:  # the market comes back after each sweep
        expired.append(event.order_id)
        thin.quote("BUY", "29980", "0.01")

    thin.perp.add_listener(MarketEvent.OrderExpired, refill)
    notes: list[str] = []
    strategy = ScriptedStrategy(None, thin.perp, notes.append)
    await strategy.close_position()  # before: one MARKET order, 0.02 left open, StepTimeout
    assert thin.perp.get_position("BTC-USDT") is None and thin.true_position() == 0
    assert len(expired) == 2  # two closing orders ran out of book; the third filled
    assert notes == [
        "perp closing the 0.030 BTC-USDT position",
        "perp closing the 0.020 BTC-USDT position (attempt 2; last: expired, 0.01 of 0.03 filled)",
        "perp closing the 0.010 BTC-USDT position (attempt 3; last: expired, 0.01 of 0.02 filled)",
    ]


async def test_closing_with_no_liquidity_left_fails_with_the_reason(long_on_a_thin_book: Thin) -> None:
    thin = long_on_a_thin_book
    strategy = ScriptedStrategy(None, thin.perp, lambda _: None, StrategyParams(close_timeout=1.0))
    with pytest.raises(StepTimeout) as caught:
        await strategy.close_position()
    assert str(caught.value) == (
        "the 0.020 BTC-USDT position is still open: no bids in the book to close it against "
        "(after 1 closing orders, last: expired, 0.01 of 0.03 filled)"
    )
    assert thin.true_position() == D("0.02")
