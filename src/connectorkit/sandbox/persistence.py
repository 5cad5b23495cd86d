"""State file: one SQLite database (stdlib sqlite3), accessed in a thread so the event loop never blocks.

The sandbox writes the whole state on a clean stop and reads it on start; a ``key`` per part
(``accounts``, ``spot``, ``futures``) holding JSON.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = "CREATE TABLE IF NOT EXISTS sandbox_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


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
    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    try:
        conn.execute(_SCHEMA)
        rows = conn.execute("SELECT key, value FROM sandbox_state").fetchall()
    finally:
        conn.close()
    return {k: json.loads(v) for k, v in rows}


async def save_state(path: Path, parts: dict[str, Any]) -> None:
    await asyncio.get_running_loop().run_in_executor(None, _write, path, parts)


async def load_state(path: Path) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, _read, path)
