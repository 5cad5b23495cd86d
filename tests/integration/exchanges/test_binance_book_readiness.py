"""A book is ready only while the stream that updates it is live (issue 17, item 5).

The last test adds a pair to a live spot connection: it is ready only once the venue
acknowledges its SUBSCRIBE.

Real in-process aiohttp servers on 127.0.0.1 speak the USD-M layout: ``GET /fapi/v1/depth``
answers a snapshot, and the routed ``/public/stream`` endpoint (the depth stream, USD-M docs
"Websocket Market Streams", routed by path since 2026) either answers 404, or serves the stream
until the test drops it. The ``/market`` route (trades, mark price: not the book) always answers
404, so the book's readiness can only come from its own stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from aiohttp import web

from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.exchanges.binance import binance_web_utils as spot_web_utils
from connectorkit.exchanges.binance.binance_api_order_book_data_source import BinanceAPIOrderBookDataSource
from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils as web_utils
from connectorkit.exchanges.binance_perpetual.binance_perpetual_api_order_book_data_source import (
    BinancePerpetualAPIOrderBookDataSource,
)
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from support.local_server import serving
from support.waiting import wait_until

PAIR = "BTC-USDT"


async def _symbol(pair: str) -> str:
    return pair.replace("-", "")


@dataclass
class FakeFstream:
    """The venue's state: the snapshot ``/fapi/v1/depth`` answers and what ``/public/stream`` does."""

    stream_open: bool  # False: 404, as a server without those streams
    last_update_id: int = 10
    stream_attempts: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def depth_update(self, first: int, last: int, previous: int, bid: str) -> str:
        """A combined-stream diff (USD-M "Diff. Book Depth Streams": U, u, pu)."""
        data = {"e": "depthUpdate", "E": 1, "T": 1, "s": "BTCUSDT", "U": first, "u": last, "pu": previous,
                "b": [[bid, "1"]], "a": []}
        return json.dumps({"stream": "btcusdt@depth@100ms", "data": data})

    async def depth(self, request: web.Request) -> web.Response:
        return web.json_response({"lastUpdateId": self.last_update_id, "E": 1, "T": 1,
                                  "bids": [["100", "1"]], "asks": [["101", "1"]]})

    async def public_stream(self, request: web.Request) -> web.StreamResponse:
        self.stream_attempts += 1
        if not self.stream_open:
            raise web.HTTPNotFound()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.opened.set()
        # a diff that bridges the current snapshot: U <= lastUpdateId <= u
        sid = self.last_update_id
        await ws.send_str(self.depth_update(sid - 1, sid + 1, sid - 2, "99"))
        async for _ in ws:
            pass
        return ws

    async def not_found(self, request: web.Request) -> web.Response:
        raise web.HTTPNotFound()


@pytest.fixture
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeFstream, str]]:
    state = FakeFstream(stream_open=request.param)
    app = web.Application()
    app.router.add_get("/fapi/v1/depth", state.depth)
    app.router.add_get("/public/stream", state.public_stream)
    app.router.add_get("/market/stream", state.not_found)
    async with serving(app) as address:
        yield state, address


@pytest.fixture
async def tracker(venue: tuple[FakeFstream, str]) -> AsyncIterator[OrderBookTracker]:
    _, address = venue
    factory = WebAssistantsFactory(AsyncThrottler(web_utils.build_rate_limits()))
    source = BinancePerpetualAPIOrderBookDataSource(
        [PAIR], factory, symbol_resolver=_symbol, rest_url=f"http://{address}", ws_url=f"ws://{address}",
    )
    source.RECONNECT_MIN_DELAY = source.RECONNECT_MAX_DELAY = 0.01
    async with running(source, factory) as books:
        yield books


@contextlib.asynccontextmanager
async def running(
    source: OrderBookTrackerDataSource, factory: WebAssistantsFactory
) -> AsyncIterator[OrderBookTracker]:
    """A started tracker of the source's pairs; a silent stream is waited for 50 ms before the
    snapshot is fetched anyway."""
    pairs = list(source.trading_pairs)
    books = OrderBookTracker(source, pairs, first_diff_wait=0.05, snapshot_retry_delay=0.01)
    await books.start()
    try:
        yield books
    finally:
        await books.stop()
        await factory.close()


@pytest.mark.parametrize("venue", [False], indirect=True, ids=["stream-404"])
async def test_a_snapshot_without_its_stream_is_not_ready(
    venue: tuple[FakeFstream, str], tracker: OrderBookTracker
) -> None:
    state, _ = venue
    await wait_until(lambda: tracker.metrics(PAIR).snapshots_applied >= 1 and state.stream_attempts >= 3,
                     what="the snapshot applied and the stream refused three times")
    book = tracker.order_books[PAIR]
    assert (book.best_bid, book.best_ask) == (Decimal(100), Decimal(101))  # the REST picture is there...
    assert not tracker.data_source.book_stream_live(PAIR)
    assert not tracker.is_ready(PAIR) and not tracker.ready  # ...but nothing keeps it current


@pytest.mark.parametrize("venue", [True], indirect=True, ids=["stream-drops"])
async def test_a_book_whose_stream_drops_is_not_ready_until_reconnected_and_resynced(
    venue: tuple[FakeFstream, str], tracker: OrderBookTracker
) -> None:
    state, _ = venue
    await asyncio.wait_for(tracker.wait_ready(), 5)
    assert tracker.order_books[PAIR].best_bid == Decimal(100)  # snapshot 10, then the diff's bid 99
    assert tracker.metrics(PAIR).snapshots_applied == 1
    # The venue drops the stream and refuses it for now; meanwhile its book moves on.
    state.stream_open = False
    state.last_update_id = 20
    refused_before = state.stream_attempts
    await state.sockets[-1].close()
    await wait_until(lambda: not tracker.is_ready(PAIR), 5, "the book to stop being ready")
    await wait_until(lambda: state.stream_attempts >= refused_before + 2, 5, "two refused reconnections")
    assert not tracker.is_ready(PAIR) and not tracker.ready
    # The stream is back: ready again only after a fresh snapshot (20) bridged by the new diff.
    state.opened.clear()
    state.stream_open = True
    await asyncio.wait_for(state.opened.wait(), 5)
    await asyncio.wait_for(tracker.wait_ready(), 5)
    metrics = tracker.metrics(PAIR)
    assert metrics.snapshots_applied == 2 and metrics.resyncs >= 1
    assert tracker.order_books[PAIR].last_diff_uid == 21


@dataclass
class FakeSpotStream:
    """A spot venue whose combined stream acknowledges a live ``SUBSCRIBE`` only when told to
    (Spot docs "Live Subscribing/Unsubscribing to streams": ``{"result": null, "id": N}``, or an
    error object with ``code`` and ``msg``)."""

    answer: dict[str, object] | None = None
    requests: list[dict[str, object]] = field(default_factory=list)
    answer_now: asyncio.Event = field(default_factory=asyncio.Event)
    handshake_now: asyncio.Event = field(default_factory=asyncio.Event)
    handshakes_asked: int = 0

    def __post_init__(self) -> None:
        self.handshake_now.set()

    async def depth(self, request: web.Request) -> web.Response:
        return web.json_response({"lastUpdateId": 10, "bids": [["100", "1"]], "asks": [["101", "1"]]})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.handshakes_asked += 1
        await self.handshake_now.wait()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            subscribe = json.loads(msg.data)
            self.requests.append(subscribe)
            await self.answer_now.wait()
            assert self.answer is not None
            await ws.send_json({**self.answer, "id": subscribe["id"]})
        return ws


@contextlib.asynccontextmanager
async def spot_tracker(venue: FakeSpotStream) -> AsyncIterator[OrderBookTracker]:
    app = web.Application()
    app.router.add_get("/api/v3/depth", venue.depth)
    app.router.add_get("/stream", venue.stream)
    async with serving(app) as address:
        factory = WebAssistantsFactory(AsyncThrottler(spot_web_utils.build_rate_limits()))
        source = BinanceAPIOrderBookDataSource(
            ["BTC-USDT"], factory, symbol_resolver=_symbol, rest_url=f"http://{address}",
            ws_url=f"ws://{address}",
        )
        async with running(source, factory) as books:
            yield books


@pytest.mark.parametrize(("answer", "ready"), [
    ({"result": None}, True),
    ({"code": 2, "msg": "Invalid request: invalid stream"}, False),
], ids=["acknowledged", "refused"])
async def test_a_pair_added_on_a_live_connection_is_ready_only_once_its_subscribe_is_acknowledged(
    answer: dict[str, object], ready: bool, caplog: pytest.LogCaptureFixture
) -> None:
    venue = FakeSpotStream(answer=answer)
    async with spot_tracker(venue) as tracker:
        source = tracker.data_source
        await wait_until(lambda: source.book_stream_live("BTC-USDT"), 5, "the first connection")
        assert await tracker.add_trading_pair("ETH-USDT")
        await wait_until(lambda: venue.requests and tracker.metrics("ETH-USDT").snapshots_applied >= 1, 5,
                         "the SUBSCRIBE sent and ETH's snapshot applied")
        assert venue.requests[0]["method"] == "SUBSCRIBE"
        assert venue.requests[0]["params"] == ["ethusdt@depth@100ms", "ethusdt@trade"]
        assert not tracker.is_ready("ETH-USDT")  # snapshot in, subscription not yet accepted
        venue.answer_now.set()
        if ready:
            await wait_until(lambda: tracker.is_ready("ETH-USDT"), 5, "ETH ready after the acknowledgement")
        else:  # the answer was read (it is not a stream frame), and ETH stays not ready
            await wait_until(lambda: "SUBSCRIBE ETH-USDT refused: 2" in caplog.text, 5, "the refusal read")
            assert not tracker.is_ready("ETH-USDT") and source.malformed_frames == 0


async def test_a_pair_added_while_its_connection_is_opening_is_subscribed_once_it_is_open() -> None:
    venue = FakeSpotStream(answer={"result": None})
    venue.handshake_now.clear()
    venue.answer_now.set()
    async with spot_tracker(venue) as tracker:
        await wait_until(lambda: venue.handshakes_asked == 1, 5, "the connection opening")
        assert await tracker.add_trading_pair("ETH-USDT")  # its URL was built without ETH
        venue.handshake_now.set()
        await wait_until(lambda: tracker.is_ready("ETH-USDT"), 5, "ETH subscribed on the new connection")
        assert [r["params"] for r in venue.requests] == [["ethusdt@depth@100ms", "ethusdt@trade"]]
