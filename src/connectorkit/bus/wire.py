"""What the gateway writes on the bus: msgspec Structs, msgpack-encoded, decoded once by consumers.

Prices and amounts stay the exchange's decimal strings end to end (levels are never turned into
``Decimal`` or ``float`` on the way). Structs are ``array_like`` (positional, no field names on
the wire) and book entries are a tagged union, so a consumer decodes any book entry in one call.

``run`` identifies one gateway process (its start time and pid): a consumer that sees another
``run`` than its snapshot's knows the gateway restarted. ``seq`` is the gateway's sequence number
of the pair's book stream: it grows by exactly one per entry (diffs and marks alike), so a missing
entry (trimmed, lost while Redis was away) is a gap the consumer sees. ``gt`` is the gateway's
wall-clock time (s) when it applied the message, for the end-to-end latency figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

Level = tuple[str, str]


class BookDiff(msgspec.Struct, tag="d", array_like=True, gc=False):
    """One book message the gateway applied: the changed levels (absolute amounts, 0 deletes)."""

    run: str
    seq: int
    uid: int
    """The book's update id after this message (the exchange's, or the venue data source's local one)."""
    ts: float
    """The exchange's event time (s)."""
    gt: float
    bids: Sequence[Level]
    asks: Sequence[Level]


class BookMark(msgspec.Struct, tag="s", array_like=True, gc=False):
    """A snapshot written with this entry (``ready``), or the gateway's book going not ready.

    ``reset``: the book did not evolve from the previous entry by diffs (gateway start, upstream
    resync, reconnection to Redis, uncrossing): consumers must reload the snapshot, never apply
    across it. A periodic checkpoint has ``reset=False`` and changes nothing for a live consumer.
    """

    run: str
    seq: int
    reset: bool
    ready: bool
    reason: str


BookEntry = BookDiff | BookMark


class BookSnapshot(msgspec.Struct, array_like=True, gc=False):
    """The whole book as of the book-stream entry whose id is stored beside it (its ``seq``)."""

    run: str
    seq: int
    uid: int
    ready: bool
    ts: float
    gt: float
    bids: Sequence[Level]
    asks: Sequence[Level]


class TradeEntry(msgspec.Struct, array_like=True, gc=False):
    run: str
    trade_id: int | str | None
    price: str
    amount: str
    is_buy: bool | None
    ts: float
    gt: float


class FundingEntry(msgspec.Struct, array_like=True, gc=False):
    """The whole funding info of a perpetual pair after an update (decimal strings)."""

    index_price: str
    mark_price: str
    next_funding_utc_timestamp: int
    rate: str
    gt: float


class Heartbeat(msgspec.Struct):
    """JSON, so that ``redis-cli GET ck:gateway:<connector>`` is readable."""

    connector: str
    pairs: list[str]
    started_at: float
    run: str
    pid: int


ENCODER = msgspec.msgpack.Encoder()
BOOK_ENTRY_DECODER = msgspec.msgpack.Decoder(BookEntry)
SNAPSHOT_DECODER = msgspec.msgpack.Decoder(BookSnapshot)
TRADE_DECODER = msgspec.msgpack.Decoder(TradeEntry)
FUNDING_DECODER = msgspec.msgpack.Decoder(FundingEntry)
HEARTBEAT_DECODER = msgspec.json.Decoder(Heartbeat)
JSON_ENCODER = msgspec.json.Encoder()
