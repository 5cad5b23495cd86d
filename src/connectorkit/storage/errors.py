"""Typed errors of the order journal. Messages name the file and the problem, never row contents."""

from __future__ import annotations


class JournalError(Exception):
    """Base class of every order-journal error."""


class JournalCorruptedError(JournalError):
    """The file is not an SQLite database, or SQLite's integrity check found damage."""


class JournalVersionError(JournalError):
    """The database is not an order journal, or was written by a newer, unknown schema version."""


class JournalClosedError(JournalError):
    """The journal is not open (never opened, or already closed)."""
