"""Crash and restore: a connector killed mid-trade is restored from its journal against the sandbox.

A child process trades with a journal and is killed with SIGKILL after a partial fill; the order
fills further while nothing runs; a new connector restored from the journal must end with the
order in the sandbox's true state, every fill counted once, and events for what happened meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path

from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.sandbox import Market, Sandbox
from connectorkit.storage import OrderJournal
from integration.exchanges.binance_e2e_support import EventLog, spot_connector, wait_until

PAIR = "BTC-USDT"
MARKET = Market("BTCUSDT", "BTC", "USDT")
CHILD = Path(__file__).with_name("journal_crash_child.py")


async def _read_line(stream: asyncio.StreamReader, prefix: str) -> str:
    async with asyncio.timeout(60):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"child exited before printing {prefix}")
            if line.startswith(prefix):
                return line.strip()


async def test_a_killed_connector_is_restored_from_the_journal_and_catches_up(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    async with Sandbox(seed=11, markets=[MARKET], futures_markets=[], simulate=False) as sb:
        key, secret = sb.create_account({"BTC": Decimal("1"), "USDT": Decimal("1000")})
        mm_key, mm_secret = sb.create_account({"USDT": Decimal("1000000")})
        account = sb.accounts.by_id(sb.account_id(key))
        mm = spot_connector(sb, mm_key, mm_secret)
        mm_log = EventLog(mm)
        await mm.start_network()
        env = {**os.environ, "CK_KEY": key, "CK_SECRET": secret, "CK_REST": sb.rest_url, "CK_WS": sb.ws_url,
               "CK_WS_API": sb.ws_api_url, "CK_JOURNAL": str(db)}
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), env=env, stdout=asyncio.subprocess.PIPE)
        try:
            assert child.stdout is not None
            await wait_until(lambda: mm.ready, what="market maker ready")
            order_id = (await _read_line(child.stdout, "CREATED")).split()[1]
            first = mm.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("30015"))
            await wait_until(lambda: mm_log.of(MarketEvent.BuyOrderCompleted, first), what="first fill")
            await _read_line(child.stdout, "FILLED")
        finally:
            child.kill()  # SIGKILL: no stop_network, no journal close
            await child.wait()
        try:
            # While nothing runs, the order fills completely in two more trades.
            for amount in ("0.15", "0.05"):
                mm_id = mm.buy(PAIR, Decimal(amount), OrderType.LIMIT, Decimal("30015"))
                await wait_until(lambda i=mm_id: bool(mm_log.of(MarketEvent.BuyOrderCompleted, i)),
                                 what="fill while down")
            true_order = sb.spot.exchange.query_order(account, "BTCUSDT", None, order_id)
            assert true_order.status == "FILLED" and true_order.executed_qty == Decimal("0.3")
            true_trades = {str(t.trade_id): t.qty for t in sb.spot.exchange.trades[account.account_id]
                           if t.order_id == true_order.order_id}
            assert len(true_trades) == 3

            # A new process: restore from the journal, then let the connector reconcile.
            journal = OrderJournal(db, connector_name="binance")
            await journal.open()
            us = spot_connector(sb, key, secret)
            log = EventLog(us)
            states = await journal.load_tracking_states()
            assert list(states) == [order_id]
            assert us.restore_tracking_states(states) == 1
            restored = us.in_flight_orders[order_id]
            assert restored.current_state is OrderState.PARTIALLY_FILLED
            assert restored.executed_amount_base == Decimal("0.1") and len(restored.order_fills) == 1
            (known_trade,) = restored.order_fills
            journal.attach(us)
            await us.start_network()
            try:
                await wait_until(lambda: log.of(MarketEvent.SellOrderCompleted, order_id), what="caught up")
                order = us.order_tracker.fetch_order(order_id)
                assert order is not None and order.current_state is OrderState.FILLED
                assert order.executed_amount_base == true_order.executed_qty
                assert order.executed_amount_quote == true_order.cum_quote_qty
                # Events for what happened while down: the two new trades, once each, then completion.
                fills = log.of(MarketEvent.OrderFilled, order_id)
                assert sorted(f.exchange_trade_id for f in fills) == sorted(set(true_trades) - {known_trade})
                assert not log.of(MarketEvent.SellOrderCreated, order_id)
                (completed,) = log.of(MarketEvent.SellOrderCompleted, order_id)
                assert completed.base_asset_amount == Decimal("0.3")
            finally:
                await us.stop_network()
                await journal.close()
        finally:
            await mm.stop_network()

    async with OrderJournal(db, connector_name="binance") as journal:
        journal_fills = await journal.fills(order_id)
        assert {f.trade_id: f.fill_base_amount for f in journal_fills} == true_trades
        assert len(journal_fills) == 3  # each fill once, across both processes
        kinds = [e.kind for e in await journal.events(order_id)]
        assert [k for k in kinds if k != "fill"] == ["created", "completed"]
        assert await journal.load_tracking_states() == {}
    for name, data in _files(tmp_path).items():  # the database and any WAL/SHM files
        assert key.encode() not in data and secret.encode() not in data, name


async def test_a_connector_killed_while_placing_resolves_the_order_after_restore(tmp_path: Path) -> None:
    """Killed right after the order was journaled, before the exchange answered: after restore the
    order ends as the exchange knows it (live, with its exchange id) or, if the request never
    arrived, failed as lost -- never left pending."""
    db = tmp_path / "journal.sqlite"
    async with Sandbox(seed=12, markets=[MARKET], futures_markets=[], simulate=False) as sb:
        key, secret = sb.create_account({"BTC": Decimal("1"), "USDT": Decimal("1000")})
        account = sb.accounts.by_id(sb.account_id(key))
        env = {**os.environ, "CK_KEY": key, "CK_SECRET": secret, "CK_REST": sb.rest_url, "CK_WS": sb.ws_url,
               "CK_WS_API": sb.ws_api_url, "CK_JOURNAL": str(db), "CK_MODE": "placing"}
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), env=env, stdout=asyncio.subprocess.PIPE)
        try:
            assert child.stdout is not None
            order_id = (await _read_line(child.stdout, "TRACKED")).split()[1]
        finally:
            assert await child.wait() == -9  # it killed itself
        # A request the child sent before dying may still be in the sandbox (same event loop):
        # wait until every server connection it had is closed and its handler has finished.
        await wait_until(lambda: not _server_connection_tasks(), what="the dead child's requests to end")

        journal = OrderJournal(db, connector_name="binance")
        await journal.open()
        states = await journal.load_tracking_states()
        assert list(states) == [order_id]
        # PENDING_CREATE, or OPEN if the answer came and was journaled before the kill.
        assert states[order_id]["current_state"] in (OrderState.PENDING_CREATE, OrderState.OPEN)
        us = spot_connector(sb, key, secret)
        log = EventLog(us)
        assert us.restore_tracking_states(states) == 1
        journal.attach(us)
        await us.start_network()
        try:
            true_order = sb.spot.exchange.find_order(account, "BTCUSDT", None, order_id)
            if true_order is not None:  # the request arrived: the order is live on the exchange
                order = us.in_flight_orders[order_id]
                await wait_until(lambda: order.current_state is OrderState.OPEN, what="order open")
                # "Created" is emitted once overall: now if the journal had it PENDING_CREATE.
                created_before = states[order_id]["current_state"] == OrderState.OPEN
                assert len(log.of(MarketEvent.SellOrderCreated, order_id)) == (0 if created_before else 1)
                assert order.exchange_order_id == str(true_order.order_id)
                assert true_order.status == "NEW"
            else:  # it never arrived: the exchange keeps answering "not found", the order is lost
                await wait_until(lambda: log.of(MarketEvent.OrderFailure, order_id), what="failed as lost")
                assert order_id in us.order_tracker.lost_orders
            await journal.flush()
            stored = (await journal.orders())[order_id]
            assert stored.current_state is not OrderState.PENDING_CREATE
            assert stored.exchange_order_id == (None if true_order is None else str(true_order.order_id))
        finally:
            await us.stop_network()
            await journal.close()


def _server_connection_tasks() -> list[asyncio.Task[object]]:
    """aiohttp's per-connection tasks (``RequestHandler.start``) of the in-process sandbox's servers:
    one runs for each open client connection, until its last request has been handled."""
    tasks = asyncio.all_tasks()
    return [t for t in tasks if getattr(t.get_coro(), "__qualname__", "") == "RequestHandler.start"]


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}
