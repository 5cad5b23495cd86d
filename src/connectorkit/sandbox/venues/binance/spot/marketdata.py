"""Spot market streams: diff depth (1000 ms and 100 ms), partial depth, trade, aggTrade, bookTicker.

Diff depth follows Spot docs "Diff. Depth Stream" / "How to manage a local order book correctly":
each event carries ``U`` (first update id) and ``u`` (final update id); consecutive events satisfy
``U == previous u + 1``; the REST snapshot's ``lastUpdateId`` is the book's current update id, so the
first event after a snapshot has ``U <= lastUpdateId + 1 <= u``.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from connectorkit.sandbox.engine import DepthChanges, Fill
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.history import MarketHistory
from connectorkit.sandbox.product import Repeater
from connectorkit.sandbox.venues.binance.spot import events
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange
from connectorkit.sandbox.venues.binance.streams import StreamHub

PARTIAL_LEVELS = (5, 10, 20)


class _SlowDiff:
    """Merges 100 ms diffs into one 1000 ms diff (newest quantity per level wins)."""

    __slots__ = ("asks", "bids", "final", "first")

    def __init__(self) -> None:
        self.first: int | None = None
        self.final = 0
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def add(self, changes: DepthChanges) -> DepthChanges | None:
        """Merge ``changes``; if they do not follow the pending merge (a sequence gap), the pending
        merge is returned to be sent at once, so that the gap shows on this stream too."""
        early = None
        if self.first is not None and changes.first_update_id != self.final + 1:
            early = self.take()
        if self.first is None:
            self.first = changes.first_update_id
        self.final = changes.final_update_id
        self.bids.update(changes.bids)
        self.asks.update(changes.asks)
        return early

    def take(self) -> DepthChanges | None:
        if self.first is None:
            return None
        out = DepthChanges(
            self.first,
            self.final,
            sorted(self.bids.items(), reverse=True),
            sorted(self.asks.items()),
        )
        self.first = None
        self.bids = {}
        self.asks = {}
        return out


class SpotMarketData:
    def __init__(
        self, exchange: SpotExchange, hub: StreamHub, faults: FaultInjector, history: MarketHistory
    ) -> None:
        self.exchange = exchange
        self.history = history
        self.hub = hub
        self.faults = faults
        self._slow = {s: _SlowDiff() for s in exchange.markets}
        self._tops: dict[str, tuple[object, object]] = {}
        #: Next aggregate trade id per symbol (persisted: ids keep increasing across restarts).
        self.next_agg_ids = dict.fromkeys(exchange.markets, 1)
        exchange.trade_listeners.append(self.on_taker_fills)

    def on_taker_fills(self, fills: list[Fill]) -> None:
        now = self.exchange.clock.now_ms()
        symbol = fills[0].symbol
        stream_t = f"{symbol.lower()}@trade"
        for fill in fills:
            self.hub.publish(stream_t, events.trade(fill, now))
        # One aggTrade per run of fills of this taker order at the same price.
        run: list[Fill] = []
        for fill in fills:
            if run and fill.price != run[-1].price:
                self._agg(symbol, run, now)
                run = []
            run.append(fill)
        if run:
            self._agg(symbol, run, now)

    def _agg(self, symbol: str, run: list[Fill], now: int) -> None:
        agg_id = self.next_agg_ids[symbol]
        self.next_agg_ids[symbol] = agg_id + 1
        self.history[symbol].add_aggregate(agg_id, run)
        self.hub.publish(f"{symbol.lower()}@aggTrade", events.agg_trade(agg_id, run, now))

    def tick(self, *, slow: bool) -> None:
        """Publish one 100 ms round (and, when ``slow``, the 1000 ms round)."""
        now = self.exchange.clock.now_ms()
        for symbol, book in self.exchange.engine.books.items():
            skip = self.faults.take_depth_skip(symbol)
            if skip:
                book.skip_update_ids(skip)
            lower = symbol.lower()
            changes = book.drain_changes()
            fast_stream, slow_stream = f"{lower}@depth@100ms", f"{lower}@depth"
            if changes is not None:
                if self.hub.has_subscribers(fast_stream):
                    self.hub.publish(fast_stream, events.depth_update(symbol, changes, now))
                early = self._slow[symbol].add(changes)
                if early is not None and self.hub.has_subscribers(slow_stream):
                    self.hub.publish(slow_stream, events.depth_update(symbol, early, now))
            if slow:
                merged = self._slow[symbol].take()
                if merged is not None and self.hub.has_subscribers(slow_stream):
                    self.hub.publish(slow_stream, events.depth_update(symbol, merged, now))
            top = (book.best_bid(), book.best_ask())
            if top != self._tops.get(symbol):
                self._tops[symbol] = top
                self.hub.publish(f"{lower}@bookTicker", events.book_ticker(symbol, book.update_id, *top))
            for n in PARTIAL_LEVELS:
                for suffix, due in ((f"@depth{n}@100ms", True), (f"@depth{n}", slow)):
                    stream = lower + suffix
                    if due and self.hub.has_subscribers(stream):
                        bids, asks = book.depth(n)
                        payload = {
                            "lastUpdateId": book.update_id,
                            "bids": events.levels(bids),
                            "asks": events.levels(asks),
                        }
                        self.hub.publish(stream, payload)

    async def run(self, fast_ms: int, slow_ms: int) -> None:
        ratio = max(1, slow_ms // fast_ms)
        rounds = itertools.count(1)

        def step() -> None:
            self.tick(slow=next(rounds) % ratio == 0)

        await Repeater("spot market data", fast_ms / 1000, step).run()
