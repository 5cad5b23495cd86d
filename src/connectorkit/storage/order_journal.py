"""OrderJournal: a crash-safe SQLite record of one connector's orders and of what happened to them.

Usage (all I/O runs on the journal's own thread, never on the event loop)::

    journal = OrderJournal("orders.sqlite", connector_name="binance")
    await journal.open()
    connector.restore_tracking_states(await journal.load_tracking_states())
    journal.attach(connector)           # before start_network, so the first REST poll is journaled;
                                        # from now on every new order is on disk before it is sent
    await connector.start_network()
    ...
    await connector.stop_network()
    await journal.close()               # detaches, journals the final states, flushes

What is stored: for every order, the latest ``InFlightOrder.to_json()`` (written at each
transition: by the connector's pre-send hook, which awaits the durable write of a new order before
its placement request leaves -- if that write fails the order is failed and never sent; on every
order event; and by a short-interval poll of the tracked orders that catches changes that emit no
event: an order declared lost, a lost order dropped, orders restored after a crash); and an
append-only event log (created, fill, completed, cancelled, expired, failed), where a fill is
stored once per trade id.
After a crash, :meth:`OrderJournal.load_tracking_states` gives back the orders the connector was
still tracking; the connector's REST reconcile then catches up with what happened meanwhile and
emits the events for it (which the journal records in turn).

Secrets: the journal only ever receives order JSON and event payloads, which hold no credentials;
it never stores or formats the connector object itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from connectorkit.core.enums import OrderState
from connectorkit.core.events import (
    MarketEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailureEvent,
    OrderFilledEvent,
)
from connectorkit.core.in_flight_order import InFlightOrder, InFlightOrderJson, TradeUpdate
from connectorkit.storage.errors import JournalClosedError, JournalError
from connectorkit.storage.writer import SqliteWorker

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_Operation = Callable[[sqlite3.Connection], None]

_FINAL = tuple(int(s) for s in OrderState if s.is_final)


class _OrderTrackerView(Protocol):
    def fetch_order(
        self, client_order_id: str | None = None, exchange_order_id: str | None = None
    ) -> InFlightOrder | None: ...

    @property
    def lost_orders(self) -> dict[str, InFlightOrder]: ...


class JournaledConnector(Protocol):
    """The public connector surface the journal uses."""

    def add_listener(self, event: MarketEvent, listener: Callable[[Any], object]) -> None: ...

    def remove_listener(self, event: MarketEvent, listener: Callable[[Any], object]) -> bool: ...

    @property
    def in_flight_orders(self) -> dict[str, InFlightOrder]: ...

    @property
    def order_tracker(self) -> _OrderTrackerView: ...

    def add_pre_send_hook(self, hook: Callable[[InFlightOrder], Awaitable[None]]) -> None: ...

    def remove_pre_send_hook(self, hook: Callable[[InFlightOrder], Awaitable[None]]) -> bool: ...


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row of the event log. ``payload`` is the event as JSON-ready values (Decimals as strings)."""

    seq: int
    client_order_id: str
    kind: str
    trade_id: str | None
    event_timestamp: float
    payload: Mapping[str, Any]


_Fingerprint = tuple[int, bool, Decimal, str | None, int]


def _fingerprint(order: InFlightOrder) -> _Fingerprint:
    return (int(order.current_state), order.is_lost, order.executed_amount_base,
            order.exchange_order_id, len(order.order_fills))


def _is_tracked(order: InFlightOrder) -> bool:
    """Whether the connector still tracks the order (what ClientOrderTracker.tracking_states holds)."""
    if order.is_lost or not order.current_state.is_final:
        return True
    return order.current_state is OrderState.FILLED and order.executed_amount_base < order.amount


class OrderJournal:
    """The order/trade journal of one connector (several journals may share one file)."""

    def __init__(self, path: str | Path, *, connector_name: str, poll_interval: float = 0.05,
                 clock: Callable[[], float] = time.time) -> None:
        if not isinstance(connector_name, str) or not connector_name:
            raise ValueError("connector_name must be a non-empty string")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval!r}")
        self._path = Path(path)
        self._name = connector_name
        self._poll_interval = poll_interval
        self._clock = clock
        self._worker: SqliteWorker | None = None
        self._connector: JournaledConnector | None = None
        self._listeners: list[tuple[MarketEvent, Callable[[Any], object]]] = []
        self._poll_task: asyncio.Task[None] | None = None
        self._fingerprints: dict[str, _Fingerprint] = {}
        # Each counter has one writer: the journal's thread for the first three, the event loop for the
        # last. They are read anywhere.
        self.write_error_count = 0
        self.stale_snapshot_count = 0
        self.duplicate_fill_count = 0
        self.malformed_row_count = 0

    def __repr__(self) -> str:
        return f"OrderJournal(path={str(self._path)!r}, connector_name={self._name!r})"

    @property
    def connector_name(self) -> str:
        return self._name

    @property
    def is_open(self) -> bool:
        return self._worker is not None

    @property
    def is_attached(self) -> bool:
        return self._connector is not None

    # -- lifecycle ----------------------------------------------------------------------------------

    async def open(self) -> None:
        """Open (or create) the file. Raises JournalCorruptedError / JournalVersionError."""
        if self._worker is not None:
            return
        worker = SqliteWorker(self._path, name=f"OrderJournal:{self._name}:sqlite")
        await asyncio.wrap_future(worker.start())
        self._worker = worker

    async def __aenter__(self) -> OrderJournal:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def attach(self, connector: JournaledConnector) -> None:
        """Journal ``connector``'s orders from now on: a pre-send hook that puts every new order on
        disk before its placement request is sent, its order events, and a poll task (owned, named
        ``OrderJournal:<name>:poll``) that snapshots orders whose state changed without an event
        (declared lost, dropped from tracking, restored)."""
        self._require_worker()
        if self._connector is not None:
            raise JournalError(f"journal {self._name!r} is already attached")
        self._connector = connector
        handlers: list[tuple[MarketEvent, Callable[[Any], object]]] = [
            (MarketEvent.BuyOrderCreated, self._on_created),
            (MarketEvent.SellOrderCreated, self._on_created),
            (MarketEvent.OrderFilled, self._on_filled),
            (MarketEvent.BuyOrderCompleted, self._on_completed),
            (MarketEvent.SellOrderCompleted, self._on_completed),
            (MarketEvent.OrderCancelled, self._on_cancelled),
            (MarketEvent.OrderExpired, self._on_expired),
            (MarketEvent.OrderFailure, self._on_failure),
        ]
        for kind, handler in handlers:
            connector.add_listener(kind, handler)
        self._listeners = handlers
        connector.add_pre_send_hook(self._before_send)
        self.snapshot_changed_orders()
        self._poll_task = asyncio.create_task(self._poll_loop(), name=f"OrderJournal:{self._name}:poll")
        self._poll_task.add_done_callback(self._on_poll_task_done)

    async def detach(self) -> None:
        """Stop journaling the connector: a last snapshot of its orders, then wait for the writes."""
        connector = self._connector
        if connector is None:
            return
        connector.remove_pre_send_hook(self._before_send)
        task, self._poll_task = self._poll_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for kind, handler in self._listeners:
            connector.remove_listener(kind, handler)
        self._listeners = []
        self.snapshot_changed_orders()
        self._connector = None
        self._fingerprints.clear()
        await self.flush()

    async def close(self) -> None:
        """Detach, wait for every write, close the database and end its thread. Idempotent."""
        await self.detach()
        worker, self._worker = self._worker, None
        if worker is None:
            return
        await asyncio.wrap_future(worker.close())
        await asyncio.to_thread(worker.join)

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed (writes are acknowledged in order)."""
        worker = self._require_worker()
        await asyncio.wrap_future(worker.submit(_noop, write=True))

    # -- recording ----------------------------------------------------------------------------------

    def record_order(self, order: InFlightOrder) -> Future[Any]:
        """Snapshot one order now (enqueued; the future resolves when it is on disk). Call it right
        after ``buy``/``sell`` to journal the order without waiting for the next poll."""
        self._fingerprints[order.client_order_id] = _fingerprint(order)
        operation = self._snapshot_op(order.client_order_id, order.to_json(), _is_tracked(order))
        return self._submit_write(operation)

    async def _before_send(self, order: InFlightOrder) -> None:
        """The connector's pre-send hook: returns once the order is committed (raises if it cannot
        be, and the connector then fails the order without sending it)."""
        await asyncio.wrap_future(self.record_order(order))

    def snapshot_changed_orders(self) -> int:
        """Snapshot every tracked order whose state changed since its last snapshot, and mark orders
        the connector stopped tracking; returns how many snapshots were enqueued."""
        connector = self._connector
        if connector is None:
            return 0
        tracker = connector.order_tracker
        current = dict(tracker.lost_orders)
        current.update(connector.in_flight_orders)
        written = 0
        for cid, order in current.items():
            if self._fingerprints.get(cid) != _fingerprint(order):
                self.record_order(order)
                written += 1
        for cid in list(self._fingerprints.keys() - current.keys()):
            del self._fingerprints[cid]
            gone = tracker.fetch_order(client_order_id=cid)
            if gone is not None:  # no longer tracked, whatever its state says (e.g. a dropped lost order)
                self._submit_write(self._snapshot_op(cid, gone.to_json(), False))
            else:  # dropped without a trace (e.g. a lost order the exchange never knew): never restore it
                self._submit_write(self._untrack_op(cid))
            written += 1
        return written

    def _on_created(self, event: OrderCreatedEvent) -> None:
        self._record_event(event.order_id, "created", None, event.timestamp, {
            "trade_type": event.trade_type.name, "order_type": event.order_type.name,
            "exchange_order_id": event.exchange_order_id, "trading_pair": event.trading_pair,
            "amount": str(event.amount), "price": None if event.price is None else str(event.price),
        })

    def _on_filled(self, event: OrderFilledEvent) -> None:
        order = self._find(event.order_id)
        trade = order.order_fills.get(event.exchange_trade_id) if order is not None else None
        payload: dict[str, Any] = dict(trade.to_json()) if isinstance(trade, TradeUpdate) else {
            "trade_id": event.exchange_trade_id, "client_order_id": event.order_id,
            "exchange_order_id": event.exchange_order_id, "trading_pair": event.trading_pair,
            "fill_timestamp": event.timestamp, "fill_price": str(event.price),
            "fill_base_amount": str(event.amount), "fill_quote_amount": str(event.price * event.amount),
            "fee": event.trade_fee.to_json(), "is_taker": event.is_taker,
        }
        payload["trade_type"] = event.trade_type.name
        self._record_event(event.order_id, "fill", event.exchange_trade_id, event.timestamp, payload)

    def _on_completed(self, event: OrderCompletedEvent) -> None:
        self._record_event(event.order_id, "completed", None, event.timestamp, {
            "trade_type": event.trade_type.name, "exchange_order_id": event.exchange_order_id,
            "base_asset_amount": str(event.base_asset_amount),
            "quote_asset_amount": str(event.quote_asset_amount),
        })

    def _on_cancelled(self, event: OrderCancelledEvent) -> None:
        self._record_event(event.order_id, "cancelled", None, event.timestamp,
                           {"exchange_order_id": event.exchange_order_id})

    def _on_expired(self, event: OrderExpiredEvent) -> None:
        self._record_event(event.order_id, "expired", None, event.timestamp,
                           {"exchange_order_id": event.exchange_order_id})

    def _on_failure(self, event: OrderFailureEvent) -> None:
        self._record_event(event.order_id, "failed", None, event.timestamp, {
            "exchange_order_id": event.exchange_order_id, "error_type": event.error_type,
            "error_message": event.error_message,
        })

    def _find(self, client_order_id: str) -> InFlightOrder | None:
        connector = self._connector
        return None if connector is None else connector.order_tracker.fetch_order(client_order_id)

    def _record_event(self, cid: str, kind: str, trade_id: str | None, timestamp: float,
                      payload: dict[str, Any]) -> None:
        """One transaction: the event row and the order's snapshot as of this event."""
        order = self._find(cid)
        snapshot: tuple[InFlightOrderJson, bool] | None = None
        if order is not None:
            self._fingerprints[cid] = _fingerprint(order)
            snapshot = (order.to_json(), _is_tracked(order))
            if not snapshot[1]:
                self._fingerprints.pop(cid, None)
        insert = self._event_op(cid, kind, trade_id, timestamp, payload)
        upsert = None if snapshot is None else self._snapshot_op(cid, snapshot[0], snapshot[1])

        def operation(conn: sqlite3.Connection) -> None:
            insert(conn)
            if upsert is not None:
                upsert(conn)

        self._submit_write(operation)

    # -- write operations (built on the loop thread, run on the writer thread) ---------------------------

    def _snapshot_op(self, cid: str, data: InFlightOrderJson, tracked: bool) -> _Operation:
        name, now = self._name, self._clock()

        def operation(conn: sqlite3.Connection) -> None:
            state = data["current_state"]
            cursor = conn.execute(
                f"""INSERT INTO orders (connector, client_order_id, exchange_order_id, trading_pair, state,
                        is_lost, tracked, fill_count, order_json, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (connector, client_order_id) DO UPDATE SET
                        exchange_order_id = excluded.exchange_order_id, state = excluded.state,
                        is_lost = excluded.is_lost, tracked = excluded.tracked,
                        fill_count = excluded.fill_count, order_json = excluded.order_json,
                        updated_at = excluded.updated_at
                    WHERE excluded.fill_count >= orders.fill_count
                      AND NOT (orders.state IN {_FINAL} AND excluded.state NOT IN {_FINAL})""",
                (name, cid, data["exchange_order_id"], data["trading_pair"], state, int(data["is_lost"]),
                 int(tracked), len(data["order_fills"]), _dumps(data), now),
            )
            if cursor.rowcount == 0:
                # Fewer fills, or a final state going back to a live one: an older view of the order.
                self.stale_snapshot_count += 1
                logger.warning("journal %s: stale snapshot of order %s ignored", name, cid)

        return operation

    def _untrack_op(self, cid: str) -> _Operation:
        name = self._name

        def operation(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE orders SET tracked = 0 WHERE connector = ? AND client_order_id = ?",
                         (name, cid))

        return operation

    def _event_op(self, cid: str, kind: str, trade_id: str | None, timestamp: float,
                  payload: dict[str, Any]) -> _Operation:
        name, now = self._name, self._clock()

        def operation(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                """INSERT OR IGNORE INTO events (connector, client_order_id, kind, trade_id, event_timestamp,
                        payload, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (name, cid, kind, trade_id, float(timestamp), _dumps(payload), now),
            )
            if cursor.rowcount == 0:
                self.duplicate_fill_count += 1

        return operation

    def _submit_write(self, operation: _Operation) -> Future[Any]:
        future = self._require_worker().submit(operation, write=True)
        future.add_done_callback(self._on_write_done)
        return future

    def _on_write_done(self, future: Future[Any]) -> None:  # runs on the writer thread
        exc = future.exception()
        if exc is not None:
            self.write_error_count += 1
            logger.error("journal %s: write failed: %s", self._name, exc)

    # -- reading --------------------------------------------------------------------------------------

    async def load_tracking_states(self) -> dict[str, Any]:
        """The orders the connector was still tracking (active, lost, FILLED waiting for trades),
        as ``connector.restore_tracking_states`` takes them. Unreadable rows are logged, counted
        and skipped; finished orders stay in the history only."""
        rows = await self._read(lambda conn: conn.execute(
            "SELECT client_order_id, order_json FROM orders WHERE connector = ? AND tracked = 1 "
            "ORDER BY rowid", (self._name,)).fetchall())
        states: dict[str, Any] = {}
        for cid, text in rows:
            try:
                states[cid] = InFlightOrder.from_json(json.loads(text)).to_json()
            except (ValueError, TypeError) as exc:
                self.malformed_row_count += 1
                logger.warning("journal %s: skipping unreadable snapshot of %s: %s", self._name, cid, exc)
        return states

    async def orders(self) -> dict[str, InFlightOrder]:
        """The latest snapshot of every journaled order of this connector, finished ones included."""
        rows = await self._read(lambda conn: conn.execute(
            "SELECT client_order_id, order_json FROM orders WHERE connector = ? ORDER BY rowid",
            (self._name,)).fetchall())
        result: dict[str, InFlightOrder] = {}
        for cid, text in rows:
            try:
                result[cid] = InFlightOrder.from_json(json.loads(text))
            except (ValueError, TypeError) as exc:
                self.malformed_row_count += 1
                logger.warning("journal %s: skipping unreadable snapshot of %s: %s", self._name, cid, exc)
        return result

    async def events(self, client_order_id: str | None = None, kind: str | None = None) -> list[JournalEntry]:
        """The event log in recording order, optionally for one order and/or one kind."""
        sql = ("SELECT seq, client_order_id, kind, trade_id, event_timestamp, payload FROM events "
               "WHERE connector = ?")
        params: list[Any] = [self._name]
        if client_order_id is not None:
            sql += " AND client_order_id = ?"
            params.append(client_order_id)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = await self._read(lambda conn: conn.execute(sql + " ORDER BY seq", params).fetchall())
        return [JournalEntry(seq, cid, k, tid, ts, json.loads(data)) for seq, cid, k, tid, ts, data in rows]

    async def fills(self, client_order_id: str | None = None) -> list[TradeUpdate]:
        """Every distinct fill (once per trade id), as TradeUpdates."""
        return [TradeUpdate.from_json(e.payload) for e in await self.events(client_order_id, "fill")]

    async def _read(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        result: _T = await asyncio.wrap_future(self._require_worker().submit(operation, write=False))
        return result

    # -- internals ----------------------------------------------------------------------------------

    def _require_worker(self) -> SqliteWorker:
        if self._worker is None:
            raise JournalClosedError(f"journal {self._name!r} is not open (await open() first)")
        return self._worker

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            self.snapshot_changed_orders()

    def _on_poll_task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("task %s died", task.get_name(), exc_info=task.exception())


def _noop(conn: sqlite3.Connection) -> None:
    return None


def _dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))
