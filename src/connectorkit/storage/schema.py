"""The journal's SQLite schema, and opening a file with checks (runs on the writer thread only).

Versioning: ``PRAGMA application_id`` marks the file as a connectorkit order journal and
``PRAGMA user_version`` holds the schema version. A file with no tables is initialised; a file
that holds other tables, another application id or a newer version is refused rather than
modified.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connectorkit.storage.errors import JournalCorruptedError, JournalVersionError

APPLICATION_ID = 0x434B4A4E  # "CKJN"
SCHEMA_VERSION = 1

_DDL = (
    # The latest snapshot of each order: InFlightOrder.to_json() as text. ``tracked`` is 1 while the
    # connector still tracks the order (active, lost, or FILLED waiting for trades): those are the
    # orders a restarted connector must restore.
    """CREATE TABLE orders (
        connector TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        exchange_order_id TEXT,
        trading_pair TEXT NOT NULL,
        state INTEGER NOT NULL,
        is_lost INTEGER NOT NULL,
        tracked INTEGER NOT NULL,
        fill_count INTEGER NOT NULL,
        order_json TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (connector, client_order_id)
    )""",
    "CREATE INDEX orders_tracked ON orders (connector, tracked)",
    # Append-only history. A fill is keyed by its trade id (per order), so it is stored once
    # however many times the user stream and REST polling report it.
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        connector TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        trade_id TEXT,
        event_timestamp REAL NOT NULL,
        payload TEXT NOT NULL,
        recorded_at REAL NOT NULL
    )""",
    """CREATE UNIQUE INDEX events_fill_once ON events (connector, client_order_id, trade_id)
        WHERE trade_id IS NOT NULL""",
    "CREATE INDEX events_order ON events (connector, client_order_id, seq)",
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and check the journal at ``path``; WAL mode, durable commits.

    Raises :class:`JournalCorruptedError` or :class:`JournalVersionError`.
    """
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT in the writer).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    try:
        _check_and_prepare(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_and_prepare(conn: sqlite3.Connection, path: Path) -> None:
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables:
            status = conn.execute("PRAGMA quick_check").fetchone()[0]
            if status != "ok":
                raise JournalCorruptedError(f"{path}: integrity check failed")
    except sqlite3.DatabaseError as exc:
        raise JournalCorruptedError(f"{path}: not a readable SQLite database ({exc})") from exc
    if not tables:
        if application_id not in (0, APPLICATION_ID):
            raise JournalVersionError(f"{path}: belongs to another application (id {application_id:#x})")
        _configure(conn)
        conn.execute("BEGIN IMMEDIATE")
        for statement in _DDL:
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
        return
    if application_id != APPLICATION_ID:
        raise JournalVersionError(f"{path}: is an SQLite database but not a connectorkit order journal")
    if version != SCHEMA_VERSION:
        raise JournalVersionError(
            f"{path}: journal schema version {version} is not supported (this version reads {SCHEMA_VERSION})"
        )
    _configure(conn)


def _configure(conn: sqlite3.Connection) -> None:
    # WAL: readers never block the writer. synchronous=FULL: a commit is on disk (fsync) before it
    # is acknowledged, so an acknowledged write survives a process kill and a power loss.
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise JournalCorruptedError(f"cannot switch the journal to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
