"""The order/trade journal (SQLite, standard library only)."""

from connectorkit.storage.errors import (
    JournalClosedError,
    JournalCorruptedError,
    JournalError,
    JournalVersionError,
)
from connectorkit.storage.order_journal import JournalEntry, OrderJournal
from connectorkit.storage.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "JournalClosedError",
    "JournalCorruptedError",
    "JournalEntry",
    "JournalError",
    "JournalVersionError",
    "OrderJournal",
]
