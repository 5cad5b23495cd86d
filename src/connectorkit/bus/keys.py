"""The bus's key names (one place, shared by the gateway and the consumers)."""

from __future__ import annotations

PREFIX = "ck"


def book_stream(connector: str, pair: str) -> str:
    """Stream of book entries: one per applied diff, plus snapshot marks."""
    return f"{PREFIX}:{connector}:{pair}:book"


def snapshot_key(connector: str, pair: str) -> str:
    """Hash ``{id: <book stream entry id>, doc: <BookSnapshot>}``, written atomically with its mark."""
    return f"{PREFIX}:{connector}:{pair}:snapshot"


def trades_stream(connector: str, pair: str) -> str:
    return f"{PREFIX}:{connector}:{pair}:trades"


def funding_stream(connector: str, pair: str) -> str:
    """Perpetual connectors only: every entry holds the whole funding info after an update."""
    return f"{PREFIX}:{connector}:{pair}:funding"


def heartbeat_key(connector: str) -> str:
    """The gateway's liveness: a JSON :class:`~connectorkit.bus.wire.Heartbeat` with a TTL."""
    return f"{PREFIX}:gateway:{connector}"


ENTRY_FIELD = b"e"
"""Every stream entry has this one field holding the msgpack-encoded entry."""
