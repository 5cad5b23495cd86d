"""OrderJournal against a real ClientOrderTracker and a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from journal_support import PAIR, TrackerConnector

from connectorkit.core.enums import OrderState
from connectorkit.storage import (
    SCHEMA_VERSION,
    JournalClosedError,
    JournalCorruptedError,
    JournalVersionError,
    OrderJournal,
)
from connectorkit.storage.schema import APPLICATION_ID


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


async def test_schema_is_versioned_and_in_wal_mode(db: Path) -> None:
    async with OrderJournal(db, connector_name="binance"):
        pass
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"orders", "events"} <= tables
    finally:
        conn.close()


async def test_all_database_work_runs_on_the_journal_thread(db: Path) -> None:
    journal = OrderJournal(db, connector_name="binance")
    await journal.open()
    worker = journal._worker
    assert worker is not None
    threads = await journal._read(lambda conn: threading.current_thread().name)
    assert threads == "OrderJournal:binance:sqlite" and threads != threading.current_thread().name
    await journal.close()
    assert not journal.is_open
    with pytest.raises(JournalClosedError):
        await journal.flush()


async def test_lifecycle_is_journaled_and_active_orders_are_restorable(db: Path) -> None:
    connector = TrackerConnector()
    journal = OrderJournal(db, connector_name="binance", poll_interval=0.01)
    await journal.open()
    journal.attach(connector)
    assert journal.is_attached and journal.connector_name == "binance"
    try:
        assert "OrderJournal:binance:poll" in {t.get_name() for t in asyncio.all_tasks()}
        connector.place("A")  # tracked, no event yet: the poll journals it
        for _ in range(200):
            await asyncio.sleep(0.01)
            if "A" in await journal.orders():
                break
        orders = await journal.orders()
        assert orders["A"].current_state is OrderState.PENDING_CREATE
        connector.status("A", OrderState.OPEN)
        connector.fill("A", "T1", "0.4")
        connector.place("B")
        connector.status("B", OrderState.OPEN, eid="E2")
        connector.status("B", OrderState.CANCELED, eid="E2")
        await journal.flush()
        states = await journal.load_tracking_states()
        assert list(states) == ["A"]  # B is finished: history only
        assert states["A"]["current_state"] == int(OrderState.PARTIALLY_FILLED)
        assert states["A"]["executed_amount_base"] == "0.4"
        kinds = [(e.client_order_id, e.kind) for e in await journal.events()]
        assert kinds == [("A", "created"), ("A", "fill"), ("B", "created"), ("B", "cancelled")]
        assert (await journal.orders())["B"].current_state is OrderState.CANCELED
    finally:
        await journal.close()
    assert "OrderJournal:binance:poll" not in {t.get_name() for t in asyncio.all_tasks()}
    assert not journal.is_attached and not journal.is_open

    # A new process: the tracker restored from the journal holds exactly order A.
    restored = TrackerConnector()
    journal2 = OrderJournal(db, connector_name="binance")
    await journal2.open()
    try:
        assert restored.order_tracker.restore_tracking_states(await journal2.load_tracking_states()) == 1
        order = restored.in_flight_orders["A"]
        assert order.executed_amount_base == Decimal("0.4") and set(order.order_fills) == {"T1"}
        assert (await journal2.fills("A"))[0].fill_base_amount == Decimal("0.4")
    finally:
        await journal2.close()


async def test_a_fill_is_stored_once_however_often_it_arrives(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance") as journal:
        journal.attach(connector)
        connector.place("A")
        connector.status("A", OrderState.OPEN)
        connector.fill("A", "T1", "0.5")
        await journal.flush()
        # Journal the same trade again directly (as if a second listener path reported it).
        journal._on_filled(_filled_event("A", "T1"))
        connector.fill("A", "T1", "0.5")  # the tracker ignores the repeat: no event at all
        connector.fill("A", "T2", "0.5")
        await journal.flush()
        fills = await journal.fills("A")
        assert [f.trade_id for f in fills] == ["T1", "T2"]
        assert sum(f.fill_base_amount for f in fills) == Decimal("1")
        assert journal.duplicate_fill_count == 1
        kinds = [e.kind for e in await journal.events("A")]
        assert kinds == ["created", "fill", "fill", "completed"]
        assert await journal.load_tracking_states() == {}


async def test_a_stale_snapshot_never_moves_an_order_backwards(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance") as journal:
        journal.attach(connector)
        order = connector.place("A")
        older = order.to_json()
        connector.status("A", OrderState.OPEN)
        connector.fill("A", "T1", "1")  # FILLED, completed
        await journal.flush()
        # An older view (PENDING_CREATE, no fills) written after the final one is refused.
        await asyncio.wrap_future(journal._submit_write(journal._snapshot_op("A", older, True)))
        assert journal.stale_snapshot_count == 1
        assert (await journal.orders())["A"].current_state is OrderState.FILLED
        assert await journal.load_tracking_states() == {}


async def test_writes_are_applied_in_submission_order(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance") as journal:
        journal.attach(connector)
        order = connector.place("A", amount="100")
        connector.status("A", OrderState.OPEN)
        for i in range(100):  # 100 fills in a burst, each journaled with the order's snapshot
            connector.fill("A", f"T{i}", "1")
        journal.record_order(order)
        await journal.flush()
        stored = (await journal.orders())["A"]
        assert stored.executed_amount_base == Decimal("100") and len(stored.order_fills) == 100
        assert [f.trade_id for f in await journal.fills("A")] == [f"T{i}" for i in range(100)]
        assert journal.stale_snapshot_count == 0 and journal.write_error_count == 0


async def test_lost_orders_are_restored_and_dropped_ones_are_not(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance", poll_interval=0.01) as journal:
        journal.attach(connector)
        connector.place("L")
        connector.status("L", OrderState.OPEN)
        for _ in range(3):
            connector.order_tracker.process_order_not_found("L")
        await journal.flush()
        states = await journal.load_tracking_states()
        assert states["L"]["is_lost"] is True
        connector.order_tracker.stop_tracking_order("L")  # dropped without an event: the poll notices
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not await journal.load_tracking_states():
                break
        assert await journal.load_tracking_states() == {}


async def test_connectors_sharing_a_file_are_kept_apart(db: Path) -> None:
    a, b = TrackerConnector(), TrackerConnector()
    async with OrderJournal(db, connector_name="a") as ja, OrderJournal(db, connector_name="b") as jb:
        ja.attach(a)
        jb.attach(b)
        a.place("X")
        b.place("Y")
        ja.snapshot_changed_orders()
        jb.snapshot_changed_orders()
        await ja.flush()
        await jb.flush()
        assert list(await ja.load_tracking_states()) == ["X"]
        assert list(await jb.load_tracking_states()) == ["Y"]


async def test_a_corrupted_file_raises_a_typed_error(db: Path) -> None:
    _write(db, b"this is not an sqlite database" * 200)
    with pytest.raises(JournalCorruptedError, match="not a readable SQLite database"):
        await OrderJournal(db, connector_name="binance").open()


async def test_a_damaged_journal_page_raises_a_typed_error(db: Path) -> None:
    async with OrderJournal(db, connector_name="binance") as journal:
        connector = TrackerConnector()
        journal.attach(connector)
        for i in range(50):
            connector.place(f"O{i}")
        journal.snapshot_changed_orders()
    page = 4096
    _damage(db, page + 8, b"\xff" * (page * 2 - 8))  # overwrite most of the second and third pages
    with pytest.raises(JournalCorruptedError):
        await OrderJournal(db, connector_name="binance").open()


async def test_an_unknown_version_or_foreign_database_is_refused(db: Path) -> None:
    async with OrderJournal(db, connector_name="binance"):
        pass
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalVersionError, match=f"version {SCHEMA_VERSION + 1} is not supported"):
        await OrderJournal(db, connector_name="binance").open()

    other = db.with_name("other.sqlite")
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(JournalVersionError, match="not a connectorkit order journal"):
        await OrderJournal(other, connector_name="binance").open()


async def test_an_unreadable_snapshot_is_skipped_and_counted(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance") as journal:
        journal.attach(connector)
        connector.place("A")
        connector.place("B")
        journal.snapshot_changed_orders()
        await journal.flush()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE orders SET order_json = '{\"client_order_id\": 5}' WHERE client_order_id = 'B'")
    conn.commit()
    conn.close()
    async with OrderJournal(db, connector_name="binance") as journal:
        assert list(await journal.load_tracking_states()) == ["A"]
        assert journal.malformed_row_count == 1


def test_an_acknowledged_write_survives_a_crash(db: Path) -> None:
    """A child process journals an order, waits for the acknowledgement, then dies with os._exit
    (no close, no flush, no atexit): the order is there on reopen."""
    support = Path(__file__).parent
    script = textwrap.dedent(f"""
        import asyncio, os, sys
        sys.path.insert(0, {str(support)!r})
        from journal_support import TrackerConnector
        from connectorkit.core.enums import OrderState
        from connectorkit.storage import OrderJournal

        async def main():
            journal = OrderJournal({str(db)!r}, connector_name="binance")
            await journal.open()
            connector = TrackerConnector()
            journal.attach(connector)
            connector.place("A")
            connector.status("A", OrderState.OPEN)
            connector.fill("A", "T1", "0.25")
            await journal.flush()
            print("acknowledged", flush=True)
            connector.fill("A", "T2", "0.25")  # enqueued, never acknowledged: may or may not be there
            os._exit(9)

        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 9, result.stderr
    assert result.stdout.strip() == "acknowledged"

    async def reopen() -> None:
        async with OrderJournal(db, connector_name="binance") as journal:
            states = await journal.load_tracking_states()
            assert "T1" in states["A"]["order_fills"]
            assert {f.trade_id for f in await journal.fills("A")} >= {"T1"}

    asyncio.run(reopen())


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _damage(path: Path, offset: int, data: bytes) -> None:
    content = bytearray(path.read_bytes())
    content[offset: offset + len(data)] = data
    path.write_bytes(bytes(content))


def _filled_event(cid: str, trade_id: str):  # type: ignore[no-untyped-def]
    from connectorkit.core.enums import OrderType, TradeType
    from connectorkit.core.events import OrderFilledEvent
    from connectorkit.core.trade_fee import AddedToCostTradeFee, TokenAmount

    return OrderFilledEvent(1001.0, cid, "E1", PAIR, TradeType.BUY, OrderType.LIMIT, Decimal("100"),
                            Decimal("0.5"), AddedToCostTradeFee(flat_fees=[TokenAmount("USDT", "0.01")]),
                            trade_id)


async def test_a_failing_write_is_rolled_back_alone_and_counted(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance") as journal:
        journal.attach(connector)
        connector.place("A")
        connector.status("A", OrderState.OPEN)

        def half_done_then_fail(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM orders")
            raise sqlite3.IntegrityError("simulated")

        # Same burst, same transaction: the failing write is undone, its neighbours are committed.
        bad = journal._submit_write(half_done_then_fail)
        connector.fill("A", "T1", "0.5")
        with pytest.raises(sqlite3.IntegrityError):
            await asyncio.wrap_future(bad)
        await journal.flush()
        assert journal.write_error_count == 1
        assert (await journal.load_tracking_states())["A"]["executed_amount_base"] == "0.5"


async def test_after_detach_nothing_more_is_journaled(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance", poll_interval=0.01) as journal:
        journal.attach(connector)
        connector.place("A")
        await journal.detach()  # journals A's last state, removes the listeners, stops the poll
        assert list(await journal.orders()) == ["A"]
        connector.status("A", OrderState.OPEN)
        connector.place("B")
        # No poll is left to notice the changes, and a poll round now would journal nothing: both
        # checked directly, so a slow machine cannot make the assertions below pass vacuously.
        assert "OrderJournal:binance:poll" not in {t.get_name() for t in asyncio.all_tasks()}
        assert journal.snapshot_changed_orders() == 0
        await journal.flush()
        assert await journal.events() == []
        assert list(await journal.orders()) == ["A"]
        assert (await journal.orders())["A"].current_state is OrderState.PENDING_CREATE


def _stored_state(db: Path, cid: str) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT state FROM orders WHERE client_order_id = ?", (cid,)).fetchone()
    return None if row is None else int(row[0])


async def test_the_pre_send_hook_returns_once_the_order_is_on_disk(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance", poll_interval=3600) as journal:  # no poll help
        journal.attach(connector)
        assert len(connector.pre_send_hooks) == 1
        hook = connector.pre_send_hooks[0]
        order = connector.place("A")
        assert _stored_state(db, "A") is None
        await hook(order)
        assert _stored_state(db, "A") == int(OrderState.PENDING_CREATE)  # read by another connection
        await journal.detach()
        assert connector.pre_send_hooks == []


async def test_the_pre_send_hook_raises_when_the_order_cannot_be_stored(db: Path) -> None:
    connector = TrackerConnector()
    async with OrderJournal(db, connector_name="binance", poll_interval=3600) as journal:
        journal.attach(connector)
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON orders WHEN NEW.client_order_id = 'X' "
                         "BEGIN SELECT RAISE(ABORT, 'simulated full disk'); END")
        order = connector.place("X")
        with pytest.raises(sqlite3.Error, match="simulated full disk"):
            await connector.pre_send_hooks[0](order)
        assert journal.write_error_count == 1
        assert _stored_state(db, "X") is None
