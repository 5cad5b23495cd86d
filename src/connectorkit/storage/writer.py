"""One thread that owns the SQLite connection: every read and write of a journal runs on it.

Operations run strictly in submission order. Consecutive writes are grouped into one transaction
(group commit: one fsync for a burst of events), each inside its own SAVEPOINT so that a failing
operation is rolled back alone and reported through its own future. A write's future resolves
only after the COMMIT that contains it, so "acknowledged" means "on disk".
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectorkit.storage.errors import JournalClosedError
from connectorkit.storage.schema import connect

logger = logging.getLogger(__name__)

Operation = Callable[[sqlite3.Connection], Any]


@dataclass(slots=True)
class _Job:
    operation: Operation | None  # None: the close sentinel
    future: Future[Any]
    write: bool


class SqliteWorker:
    """Starts a thread, opens the database on it and runs submitted operations in order."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._opened: Future[None] = Future()
        self._closing = False

    def start(self) -> Future[None]:
        """Start the thread; the future resolves once the database is open (or fails to open)."""
        self._thread.start()
        return self._opened

    def submit(self, operation: Operation, *, write: bool) -> Future[Any]:
        if self._closing:
            raise JournalClosedError("the journal is closed")
        future: Future[Any] = Future()
        self._queue.put(_Job(operation, future, write))
        return future

    def close(self) -> Future[Any]:
        """Run everything already submitted, then close the connection and end the thread."""
        future: Future[Any] = Future()
        if not self._closing:
            self._closing = True
            self._queue.put(_Job(None, future, False))
        else:
            future.set_result(None)
        return future

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = connect(self._path)
        except BaseException as exc:
            self._closing = True
            self._opened.set_exception(exc)
            return
        self._opened.set_result(None)
        batch: list[_Job] = []
        try:
            while True:
                batch = [self._queue.get()]
                while True:  # take whatever else is already waiting: one transaction for the burst
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if self._run_batch(conn, batch):
                    return
        except BaseException as exc:  # a bug or a dying interpreter: nobody may wait forever
            self._closing = True
            logger.error("journal thread %s died", self._thread.name, exc_info=exc)
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(JournalClosedError("the journal thread died"))
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> bool:
        """Run jobs in order; returns True when the close sentinel was reached."""
        index = 0
        while index < len(batch):
            job = batch[index]
            if job.operation is None:
                for rest in batch[index + 1:]:
                    rest.future.set_exception(JournalClosedError("the journal is closed"))
                job.future.set_result(None)
                return True
            if not job.write:
                self._run_one(conn, job)
                index += 1
                continue
            writes: list[tuple[_Job, Any]] = []
            try:
                conn.execute("BEGIN IMMEDIATE")
                while index < len(batch) and batch[index].write and batch[index].operation is not None:
                    job = batch[index]
                    writes.append((job, self._run_savepoint(conn, job)))
                    index += 1
                conn.execute("COMMIT")
            except sqlite3.Error as exc:  # the commit itself failed: nothing of the group is durable
                logger.error("journal commit failed: %s", exc)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                for job, _ in writes:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            for job, result in writes:
                if not job.future.done():
                    job.future.set_result(result)
        return False

    @staticmethod
    def _run_savepoint(conn: sqlite3.Connection, job: _Job) -> Any:
        assert job.operation is not None
        conn.execute("SAVEPOINT op")
        try:
            result = job.operation(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            job.future.set_exception(exc)
            return None
        conn.execute("RELEASE op")
        return result

    @staticmethod
    def _run_one(conn: sqlite3.Connection, job: _Job) -> None:
        assert job.operation is not None
        try:
            result = job.operation(conn)
        except Exception as exc:
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
