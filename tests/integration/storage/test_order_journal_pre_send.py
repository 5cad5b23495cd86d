"""OrderJournal + ExchangePyBase: a new order is on disk before its placement request reaches the exchange."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web

from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.storage import OrderJournal
from support.fake_exchange import API_KEY, API_SECRET, FakeExchange, FakeSettings
from support.fake_exchange_server import FakeExchangeServer, SymbolSpec
from support.recorder import Recorder, until

PAIR = "BTC-USDT"


class _JournalReadingServer(FakeExchangeServer):
    """Reads the journal file (its own connection, as another process would) on every placement
    request, before answering it."""

    def __init__(self, db: Path) -> None:
        super().__init__(API_KEY, API_SECRET, [SymbolSpec("BTCUSDT", "BTC", "USDT")])
        self.db = db
        self.state_on_arrival: dict[str, int | None] = {}

    async def _place(self, request: web.Request) -> web.Response:
        cid = request.query["newClientOrderId"]
        self.state_on_arrival[cid] = await asyncio.to_thread(self._stored_state, cid)
        return await super()._place(request)

    def _stored_state(self, cid: str) -> int | None:
        if not self.db.exists():
            return None
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT state FROM orders WHERE client_order_id = ?", (cid,)).fetchone()
        return None if row is None else int(row[0])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[_JournalReadingServer]:
    srv = _JournalReadingServer(tmp_path / "journal.sqlite")
    srv.balances = {"USDT": (Decimal(10_000), Decimal(10_000)), "BTC": (Decimal(1), Decimal(1))}
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def journaled(server: _JournalReadingServer) -> AsyncIterator[tuple[FakeExchange, OrderJournal]]:
    conn = FakeExchange(FakeSettings(
        trading_pairs=[PAIR], api_key=API_KEY, api_secret=API_SECRET, rest_url=server.url,
        ws_url=server.url.replace("http://", "ws://"), short_poll_interval=0.05, long_poll_interval=60.0,
        user_stream_silence_threshold=60.0, trading_rules_refresh_interval=60.0,
    ))
    # A poll far slower than the test: only the pre-send hook can have journaled a new order in time.
    journal = OrderJournal(server.db, connector_name="fake", poll_interval=3600)
    await journal.open()
    journal.attach(conn)
    await conn.start_network()
    await until(lambda: conn.ready, "connector ready")
    yield conn, journal
    await conn.stop_network()
    await journal.close()


async def test_a_new_order_is_journaled_before_the_exchange_receives_it(
    journaled: tuple[FakeExchange, OrderJournal], server: _JournalReadingServer
) -> None:
    conn, journal = journaled
    events = Recorder(conn)
    order_ids = [conn.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100)) for _ in range(3)]
    for order_id in order_ids:
        await events.wait_for(MarketEvent.BuyOrderCreated, order_id)
    assert server.state_on_arrival == {cid: int(OrderState.PENDING_CREATE) for cid in order_ids}
    await journal.flush()
    stored = await journal.orders()
    assert all(stored[cid].current_state is OrderState.OPEN for cid in order_ids)


async def test_an_order_the_journal_cannot_store_is_failed_and_never_sent(
    journaled: tuple[FakeExchange, OrderJournal], server: _JournalReadingServer
) -> None:
    conn, journal = journaled
    with sqlite3.connect(server.db) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON orders WHEN NEW.state = "
                   f"{int(OrderState.PENDING_CREATE)} BEGIN SELECT RAISE(ABORT, 'simulated full disk'); END")
    events = Recorder(conn)
    order_id = conn.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(100))
    failure = (await events.wait_for(MarketEvent.OrderFailure, order_id))[0]
    assert failure.error_type == "PreSendHookError" and "simulated full disk" in failure.error_message
    assert server.state_on_arrival == {} and server.orders == {}
    assert order_id not in conn.in_flight_orders
    assert journal.write_error_count == 1
