"""State file: one SQLite database (stdlib sqlite3), accessed in a thread so the event loop never blocks.

The sandbox writes the whole state on a clean stop and reads it on start; a ``key`` per part
(``accounts``, ``spot``, ``futures``) holding JSON. The JSON form of an engine order, which both
products store, is defined here too (decimals as strings, enums by value).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectorkit.sandbox.engine import Order, OrderStatus, Side, TimeInForce

_TABLE = "sandbox_state"
_SCHEMA = f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class SandboxStateError(ValueError):
    """The state file is not one the sandbox wrote (another SQLite database, not SQLite at all, or
    unreadable content). The sandbox refuses it rather than adding its table to someone's file."""


def _write(path: Path, parts: dict[str, Any]) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(_SCHEMA)
            conn.executemany(
                "INSERT OR REPLACE INTO sandbox_state (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in parts.items()],
            )
    finally:
        conn.close()


def _read(path: Path) -> dict[str, Any]:
    """The saved parts; {} for a missing or empty file. Never writes (a foreign file stays as is)."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return {}
    try:
        rows = _saved_rows(path)
    except sqlite3.Error as exc:
        raise SandboxStateError(f"{path} is not a sandbox state file ({exc})") from None
    try:
        return {str(k): json.loads(v) for k, v in rows}
    except (ValueError, TypeError) as exc:
        raise SandboxStateError(f"{path} holds unreadable sandbox state ({exc})") from None


def _saved_rows(path: Path) -> list[tuple[Any, Any]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if _TABLE not in tables:
            if tables:
                raise SandboxStateError(f"{path} is an SQLite database, but not a sandbox state file")
            return []
        return list(conn.execute(f"SELECT key, value FROM {_TABLE}").fetchall())
    finally:
        conn.close()


async def save_state(path: Path, parts: dict[str, Any]) -> None:
    await asyncio.get_running_loop().run_in_executor(None, _write, path, parts)


async def load_state(path: Path) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, _read, path)


def _dec_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def order_to_json(o: Order) -> dict[str, Any]:
    """The fields of ``o`` a product needs to rebuild it; ``extra`` is the product's to store."""
    return {
        "order_id": o.order_id,
        "symbol": o.symbol,
        "account_id": o.account_id,
        "client_order_id": o.client_order_id,
        "side": o.side.value,
        "type": o.type,
        "tif": o.time_in_force.value if o.time_in_force else None,
        "price": None if o.price is None else str(o.price),
        "orig_qty": str(o.orig_qty),
        "orig_quote_qty": None if o.orig_quote_qty is None else str(o.orig_quote_qty),
        "executed_qty": str(o.executed_qty),
        "cum_quote_qty": str(o.cum_quote_qty),
        "status": o.status.value,
        "time": o.time,
        "update_time": o.update_time,
        "working_time": o.working_time,
    }


def order_from_json(r: dict[str, Any], extra: dict[str, Any] | None = None) -> Order:
    """The order :func:`order_to_json` stored. ``orig_quote_qty`` and ``working_time`` may be absent
    (state files written before they were stored) and then take the engine's defaults."""
    working_time = r.get("working_time")
    return Order(
        order_id=int(r["order_id"]),
        symbol=r["symbol"],
        account_id=int(r["account_id"]),
        client_order_id=r["client_order_id"],
        side=Side(r["side"]),
        type=r["type"],
        time_in_force=TimeInForce(r["tif"]) if r["tif"] else None,
        price=_dec_or_none(r["price"]),
        orig_qty=Decimal(r["orig_qty"]),
        orig_quote_qty=_dec_or_none(r.get("orig_quote_qty")),
        executed_qty=Decimal(r["executed_qty"]),
        cum_quote_qty=Decimal(r["cum_quote_qty"]),
        status=OrderStatus(r["status"]),
        time=int(r["time"]),
        update_time=int(r["update_time"]),
        working_time=-1 if working_time is None else int(working_time),
        extra={} if extra is None else extra,
    )
