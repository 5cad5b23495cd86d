"""Spot diff-depth publishing: the 1000 ms stream merges 100 ms diffs but never hides a sequence gap."""

from __future__ import annotations

import itertools
from decimal import Decimal as D
from typing import Any

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.history import MarketHistory
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange
from connectorkit.sandbox.venues.binance.spot.marketdata import SpotMarketData


class _Hub:
    """Records what is published; every stream has a subscriber."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def has_subscribers(self, stream: str) -> bool:
        return True

    def publish(self, stream: str, payload: dict[str, Any]) -> None:
        self.frames.append((stream, payload))


def test_gap_inside_a_slow_window_shows_on_the_slow_stream() -> None:
    clock = SandboxClock()
    faults = FaultInjector(clock)
    accounts = AccountRegistry()
    ex = SpotExchange([Market("BTCUSDT", "BTC", "USDT")], clock, accounts)
    hub = _Hub()
    md = SpotMarketData(ex, hub, faults, MarketHistory(ex.markets))  # type: ignore[arg-type]
    acct = accounts.create()
    ex.deposit(acct.account_id, "USDT", D("100000"))

    def bid(price: str) -> None:
        ex.new_order(acct, symbol="BTCUSDT", side="BUY", order_type="LIMIT", time_in_force="GTC",
                     quantity=D("0.01"), price=D(price))  # fmt: skip

    bid("29000")
    md.tick(slow=True)
    bid("29001")
    md.tick(slow=False)
    faults.skip_depth_updates("BTCUSDT", count=5)
    bid("29002")
    md.tick(slow=False)
    md.tick(slow=True)
    slow = [p for s, p in hub.frames if s == "btcusdt@depth"]
    fast = [p for s, p in hub.frames if s == "btcusdt@depth@100ms"]
    assert [f["U"] - prev["u"] for prev, f in itertools.pairwise(fast)] == [1, 6]
    # The 1000 ms stream: consecutive until the gap, then the same 5-id jump as the 100 ms stream.
    assert [f["U"] - prev["u"] for prev, f in itertools.pairwise(slow)] == [1, 6]
    assert slow[-1]["u"] == ex.engine.book("BTCUSDT").update_id
