"""Replay harness for the recorded Binance sessions in ``tests/data/captures``.

- :func:`load_capture` reads a capture (time-ordered records) and the symbol -> pair map;
- :class:`ReferenceBook` is an independent book built straight from the JSON with ``json`` and
  ``Decimal`` (not through connectorkit's wire module or OrderBook), following Binance's
  "How to manage a local order book correctly";
- :class:`CaptureReplayDataSource` plays a capture into an :class:`OrderBookTracker` as a live
  connection would: frames in time order, and each REST snapshot answered only once the replay
  has reached the moment it was recorded (frames before it have to be buffered).

The Binance connector tests reuse all three.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sortedcontainers import SortedDict

from connectorkit.connector.capture_reader import CaptureRecord, read_capture
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.order_book_message import OrderBookMessage
from connectorkit.exchanges.binance import binance_market_wire as wire
from support.paths import CAPTURES

CAPTURES = CAPTURES


@dataclass
class Capture:
    records: list[CaptureRecord]
    symbol_map: dict[str, str]  # exchange symbol -> trading pair
    snapshots: dict[str, CaptureRecord] = field(default_factory=dict)  # pair -> depth answer

    @property
    def pairs(self) -> list[str]:
        return list(self.snapshots)


def load_capture(name: str) -> Capture:
    records = read_capture(CAPTURES / name)
    info = next(r for r in records if r.kind == "http" and r.path.endswith("exchangeInfo"))
    assert info.data is not None
    symbols: dict[str, str] = {}
    for entry in json.loads(info.data)["symbols"]:
        symbol = entry["symbol"]
        # Futures symbols are unique per contract (BTCUSD_PERP, BTCUSD_211231); spot ones map
        # to BASE-QUOTE.
        if "_" in symbol:
            symbols[symbol] = symbol.replace("_", "-")
        else:
            symbols[symbol] = f"{entry['baseAsset']}-{entry['quoteAsset']}"
    capture = Capture(records, {})
    for record in records:
        if record.kind == "http" and record.path.endswith("/depth"):
            symbol = record.query_param("symbol")
            assert symbol is not None
            capture.symbol_map[symbol] = symbols[symbol]
            capture.snapshots[symbols[symbol]] = record
    return capture


Level = tuple[str, str]


class ReferenceBook:
    """Binance's documented procedure, written out plainly over Decimal-keyed sorted dicts."""

    def __init__(self, rule: ContinuityRule) -> None:
        assert rule is not ContinuityRule.NONE
        self.chained = rule is ContinuityRule.CHAINED
        self.bids: SortedDict = SortedDict()  # Decimal price -> (price, amount) as sent
        self.asks: SortedDict = SortedDict()
        self.snapshot_id: int | None = None
        self.last: int | None = None
        self.pending: list[dict[str, Any]] = []
        self.gaps = 0
        self.applied = 0

    @property
    def synced(self) -> bool:
        return self.snapshot_id is not None

    def snapshot(self, body: dict[str, Any]) -> None:
        self.bids, self.asks = SortedDict(), SortedDict()
        self._set(self.bids, body["bids"])
        self._set(self.asks, body["asks"])
        self.snapshot_id = body["lastUpdateId"]
        self.last = None
        pending, self.pending = self.pending, []
        for event in pending:
            self.diff(event)

    @staticmethod
    def _set(side: SortedDict, levels: Iterable[list[str]]) -> None:
        for price, amount in levels:
            if Decimal(amount) == 0:
                side.pop(Decimal(price), None)
            else:
                side[Decimal(price)] = (price, amount)

    def diff(self, event: dict[str, Any]) -> bool:
        """Apply one depthUpdate payload; True if it was applied (not buffered, not stale)."""
        if self.snapshot_id is None:
            self.pending.append(event)
            return False
        first, final = event["U"], event["u"]
        if self.last is None:
            stale = final < self.snapshot_id if self.chained else final <= self.snapshot_id
            if stale:
                return False
            if self.chained:
                bridged = first <= self.snapshot_id <= final or event["pu"] == self.snapshot_id
                assert bridged, "first diff must bridge the snapshot"
            else:
                assert first <= self.snapshot_id + 1 <= final, "first diff must bridge the snapshot"
        elif (event["pu"] != self.last) if self.chained else (first != self.last + 1):
            self.gaps += 1
        self._set(self.bids, event["b"])
        self._set(self.asks, event["a"])
        self.last = final
        self.applied += 1
        return True

    def raw_levels(self) -> tuple[list[Level], list[Level]]:
        bids: list[Level] = list(reversed(self.bids.values()))
        asks: list[Level] = list(self.asks.values())
        return bids, asks

    def top(self) -> tuple[Decimal | None, Decimal | None]:
        best_bid = self.bids.peekitem(-1)[0] if self.bids else None
        best_ask = self.asks.peekitem(0)[0] if self.asks else None
        return best_bid, best_ask


class CaptureReplayDataSource(OrderBookTrackerDataSource):
    """Plays a capture into a tracker: frames in time order, snapshots when they were answered."""

    def __init__(self, capture: Capture, rule: ContinuityRule) -> None:
        super().__init__(capture.pairs)
        self.continuity = rule
        self._capture = capture
        self._released = {pair: asyncio.Event() for pair in capture.pairs}
        self.finished = asyncio.Event()
        self.tickers: list[wire.BookTicker] = []
        self.snapshot_requests: dict[str, int] = {}

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        self.snapshot_requests[trading_pair] = self.snapshot_requests.get(trading_pair, 0) + 1
        await self._released[trading_pair].wait()
        record = self._capture.snapshots[trading_pair]
        assert record.data is not None
        return wire.decode_depth_snapshot(record.data, trading_pair)

    async def listen_for_subscriptions(self) -> None:
        self.report_book_stream(self._capture.pairs, live=True)  # the recorded connection was open
        for record in self._capture.records:
            if record.kind == "http" and record.path.endswith("/depth"):
                symbol = record.query_param("symbol")
                assert symbol is not None
                self._released[self._capture.symbol_map[symbol]].set()
                await asyncio.sleep(0)  # let the pending fetch complete, as the answer lands
            elif record.kind == "recv" and record.data is not None:
                try:
                    item = wire.parse_stream_frame(record.data, self._capture.symbol_map)
                except wire.BinanceWireError:
                    self.malformed_frames += 1
                    continue
                if isinstance(item, wire.BookTicker):
                    self.tickers.append(item)
                elif item is not None:
                    self.route(item)
                await asyncio.sleep(0)
        self.finished.set()
        await asyncio.Event().wait()  # a live connection stays open

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        return trading_pair in self._released

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        return trading_pair in self._released

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        return {}
