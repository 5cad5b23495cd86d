"""``connectorkit replay`` knows no venue: a made-up venue, "toyx", replayed from a hand-built capture.

Toyx shares nothing with Binance on the wire: its book snapshot is ``GET /v0/book/<SYMBOL>`` (the
symbol in the path, no query), its socket URL carries no subscription (the client subscribes by
message, ``{"op": "sub", "ch": "book.AAAZZZ"}``, answered ``{"op": "subscribed", ...}``), its
frames are ``{"ch": "book.<S>", "first", "last", "bids", "asks"}``, ``{"ch": "trades.<S>", ...}``
and top-of-book ``{"ch": "bbo.<S>", "seq", "bid", "ask"}``, and its instruments are a list of
``{"id", "base", "quote"}``. Its order book data source and its replay adapter are written here
and registered for the test; the connector shell hosting the data source is the Binance one (the
replay uses only its order book tracker), so everything venue-specific the engine meets is
toyx's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from connectorkit.cli import replay
from connectorkit.connector.capture_reader import CaptureRecord
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.connector.replay_adapter import (
    BookUpdateSpan,
    FrameRole,
    RecordedFrame,
    ReplayAdapter,
    SubscriptionChange,
    TopOfBook,
    register_replay_adapter,
    unregister_replay_adapter,
)
from connectorkit.connector.settings import register_connector, unregister_connector
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.binance.binance_exchange import BinanceExchange
from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES, BinanceSettings
from connectorkit.net.rest_request import RESTMethod, RESTRequest
from connectorkit.net.web_assistants_factory import WebAssistantsFactory

D = Decimal
REST = "http://toyx.invalid"
FEED = "ws://toyx.invalid/feed"


class _Frame(msgspec.Struct):
    ch: str | None = None
    op: str | None = None
    first: int | None = None
    last: int | None = None
    seq: int | None = None
    bids: list[tuple[str, str]] = []
    asks: list[tuple[str, str]] = []
    bid: Decimal | None = None
    ask: Decimal | None = None
    px: Decimal | None = None
    qty: Decimal | None = None
    side: str | None = None
    id: int | None = None


_frames = msgspec.json.Decoder(_Frame)


class ToyxDataSource(OrderBookTrackerDataSource):
    """Toyx's book: REST snapshot, then diffs ``first == previous last + 1`` on one socket."""

    continuity = ContinuityRule.CONSECUTIVE

    def __init__(
        self, trading_pairs: list[str], factory: WebAssistantsFactory, symbols: dict[str, str]
    ) -> None:
        super().__init__(trading_pairs)
        self._factory = factory
        self._symbols = symbols  # pair -> symbol
        self._pairs = {symbol: pair for pair, symbol in symbols.items()}

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        rest = await self._factory.get_rest_assistant()
        url = f"{REST}/v0/book/{self._symbols[trading_pair]}"
        response = await rest.call(RESTRequest(RESTMethod.GET, url))
        book = json.loads(response.text())
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, None, 0.0, trading_pair, book["seq"],
                                bids=book["bids"], asks=book["asks"])

    async def listen_for_subscriptions(self) -> None:
        ws = await self._factory.get_ws_assistant()
        await ws.connect(FEED)
        try:
            for pair in self.trading_pairs:
                for channel in ("book", "trades"):
                    await ws.send_json({"op": "sub", "ch": f"{channel}.{self._symbols[pair]}"})
            async for raw in ws.iter_messages():
                self._on_frame(raw)
        finally:
            await ws.disconnect()

    def _on_frame(self, raw: str | bytes) -> None:
        frame = _frames.decode(raw)
        if frame.op == "subscribed" or frame.ch is None:
            return
        channel, _, symbol = frame.ch.partition(".")
        pair = self._pairs[symbol]
        if channel == "book":
            if frame.first is None or frame.last is None:
                self.malformed_frames += 1
                return
            self.route(OrderBookMessage(OrderBookMessageType.DIFF, None, 0.0, pair, frame.last, frame.first,
                                        bids=frame.bids, asks=frame.asks))
        elif channel == "trades":
            self.route(OrderBookMessage(OrderBookMessageType.TRADE, None, 0.0, pair, trade_id=frame.id,
                                        price=frame.px, amount=frame.qty, is_buy=frame.side == "buy"))

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        return False

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        return False

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        return {}


class ToyxConnector(BinanceExchange):
    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return ToyxDataSource(self._trading_pairs, self._web_assistants_factory, {"AAA-ZZZ": "AAAZZZ"})


class ToyxReplayAdapter(ReplayAdapter):
    TOP_OF_BOOK_NAME: ClassVar[str] = "bbo"

    def subscriptions_of_url(self, url: str) -> set[str]:
        return set()

    def subscription_change(self, frame: str) -> SubscriptionChange | None:
        sent = _frames.decode(frame)
        return SubscriptionChange(added=frozenset({sent.ch})) if sent.op == "sub" and sent.ch else None

    def acknowledgement(self, frame: str) -> str | None:
        sent = _frames.decode(frame)
        return json.dumps({"op": "subscribed", "ch": sent.ch}) if sent.op == "sub" else None

    def describe_frame(self, frame: str) -> RecordedFrame:
        try:
            parsed = _frames.decode(frame)
        except msgspec.DecodeError:
            return RecordedFrame(None)
        if parsed.op is not None:
            return RecordedFrame(None, FrameRole.ANSWER)
        if parsed.ch is None:
            return RecordedFrame(None)
        channel, _, symbol = parsed.ch.partition(".")
        if channel == "book" and parsed.first is not None and parsed.last is not None:
            return RecordedFrame(parsed.ch, FrameRole.BOOK, symbol,
                                 book_update=BookUpdateSpan(parsed.first, parsed.last))
        if channel == "bbo" and parsed.seq is not None and parsed.bid is not None and parsed.ask is not None:
            return RecordedFrame(parsed.ch, FrameRole.TOP_OF_BOOK, symbol,
                                 top_of_book=TopOfBook(parsed.seq, parsed.bid, parsed.ask))
        return RecordedFrame(parsed.ch, FrameRole.TRADE if channel == "trades" else FrameRole.OTHER, symbol)

    def snapshot_symbol(self, url: str, params: Mapping[str, object]) -> str | None:
        _, _, symbol = url.partition("/v0/book/")
        return symbol or None

    def pairs_from_instruments(
        self, records: Sequence[CaptureRecord], symbols: Sequence[str]
    ) -> dict[str, str]:
        listed = next(json.loads(r.data or "[]") for r in records
                      if (r.url or "").endswith("/v0/instruments"))
        names = {entry["id"]: f"{entry['base']}-{entry['quote']}" for entry in listed}
        return {symbol: names[symbol] for symbol in symbols}


@pytest.fixture
def toyx() -> Iterator[None]:
    register_connector("toyx", ToyxConnector, DEFAULT_FEES, BinanceSettings)
    register_replay_adapter("toyx", ToyxReplayAdapter, exchanges=("TOYX",))
    try:
        yield
    finally:
        unregister_replay_adapter("toyx")
        unregister_connector("toyx")


def _recv(ts: float, payload: dict[str, Any]) -> dict[str, Any]:
    return {"t": "recv", "conn": "ws.1", "ts": ts, "data": json.dumps(payload)}


def _book(ts: float, first: int, last: int, bid: str) -> dict[str, Any]:
    return _recv(ts, {"ch": "book.AAAZZZ", "first": first, "last": last, "bids": [[bid, "1.50"]], "asks": []})


def _capture(path: Path) -> Path:
    """Connect and subscribe, a diff older than the snapshot, the snapshot, two diffs, a trade and
    top-of-book tickers (one equal to the rebuilt book's state, one inside no state)."""
    records: list[dict[str, Any]] = [
        {"t": "header", "exchange": "TOYX", "recorded": 1.0, "format": 2, "config": {}},
        {"t": "http", "conn": "rest", "ts": 1.0, "url": f"{REST}/v0/instruments",
         "data": json.dumps([{"id": "AAAZZZ", "base": "AAA", "quote": "ZZZ"}])},
        {"t": "connect", "conn": "ws.1", "ts": 1.1, "addr": FEED},
        {"t": "send", "conn": "ws.1", "ts": 1.2, "data": json.dumps({"op": "sub", "ch": "book.AAAZZZ"})},
        {"t": "send", "conn": "ws.1", "ts": 1.2, "data": json.dumps({"op": "sub", "ch": "trades.AAAZZZ"})},
        _recv(1.3, {"op": "subscribed", "ch": "book.AAAZZZ"}),
        _book(1.4, 9, 10, "98.00"),  # inside the snapshot: dropped as stale
        {"t": "http", "conn": "rest", "ts": 1.5, "url": f"{REST}/v0/book/AAAZZZ",
         "data": json.dumps({"seq": 10, "bids": [["98.00", "2"], ["97.00", "1"]],
                             "asks": [["101.00", "3"]]})},
        _book(2.0, 11, 11, "99.00"),
        _recv(2.1, {"ch": "bbo.AAAZZZ", "seq": 11, "bid": "99.00", "ask": "101.00"}),
        _recv(2.2, {"ch": "trades.AAAZZZ", "id": 1, "px": "101.00", "qty": "0.5", "side": "buy"}),
        _book(3.0, 12, 13, "99.50"),
        _recv(3.1, {"ch": "bbo.AAAZZZ", "seq": 12, "bid": "99.00", "ask": "101.00"}),  # mid-batch
        _book(4.0, 14, 14, "99.60"),
        _recv(4.1, {"ch": "kline.AAAZZZ", "o": "1"}),  # a channel the connector never subscribed to
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


async def test_a_venue_known_only_by_its_adapter_replays_through_its_own_data_source(
        toyx: None, tmp_path: Path) -> None:
    capture = _capture(tmp_path / "toyx.jsonl")
    report = await replay.replay_capture(capture)
    assert report.connector == "toyx" and report.healthy
    (pair,) = report.pairs
    assert (pair.pair, pair.symbol, pair.ready) == ("AAA-ZZZ", "AAAZZZ", True)
    assert (pair.snapshots, pair.diffs_applied, pair.stale_dropped) == (1, 3, 1)
    assert pair.gaps == pair.resyncs == 0
    assert pair.trades == 1 and pair.errors == 0
    assert (pair.best_bid, pair.best_ask) == (D("99.60"), D("101.00"))
    # the bbo at seq 11 describes the book between diffs 11 and 12; the one at 12 falls mid-batch
    check = report.top_of_book
    assert (check.tickers, check.matched, check.not_comparable) == (2, 1, 1)
    assert report.undelivered == {"bbo.AAAZZZ": 2, "kline.AAAZZZ": 1}  # never subscribed to

    lines: list[str] = []
    args = argparse.Namespace(file=str(capture), connector=None, strict=False, json=True)
    assert await replay.run(args, out=lines.append) == 0
    (entry,) = json.loads(lines[0])["pairs"]
    assert set(entry) == {"connector", "pair", "ready", "messages", "diffs_applied", "stale_dropped",
                          "gaps", "resyncs", "malformed", "checksum_failures", "tickers_equal",
                          "tickers_different", "bids", "asks"}
    assert entry["connector"] == "toyx" and entry["tickers_equal"] == 1
    assert entry["messages"] == 1 + 4 + 1  # the snapshot, four book frames, one trade
    assert entry["bids"][:2] == [["99.60", "1.50"], ["99.50", "1.50"]]  # the venue's own strings

    text: list[str] = []
    assert await replay.run(argparse.Namespace(**{**vars(args), "json": False}), out=text.append) == 0
    assert "top of book vs recorded bbo: 1 equal, 0 different (1 tickers not comparable)" in text


async def test_a_capture_without_its_subscriptions_replays_nothing_to_the_book(
        toyx: None, tmp_path: Path) -> None:
    """The subscriptions are the client's own (its sent frames during the replay), not the file's:
    an adapter that does not read them leaves every frame undelivered."""

    class Deaf(ToyxReplayAdapter):
        def subscription_change(self, frame: str) -> SubscriptionChange | None:
            return None

    unregister_replay_adapter("toyx")
    register_replay_adapter("toyx", Deaf, exchanges=("TOYX",))
    report = await asyncio.wait_for(replay.replay_capture(_capture(tmp_path / "toyx.jsonl")), timeout=30)
    (pair,) = report.pairs
    assert pair.diffs_applied == 0 and pair.trades == 0
    assert report.undelivered["book.AAAZZZ"] == 4 and not report.healthy
