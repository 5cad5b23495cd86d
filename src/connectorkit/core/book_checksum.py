"""Order-book checksums that venues publish, recomputed from the exchange's own strings.

Both kinds hash text built from the top of the book exactly as the exchange wrote the numbers
(``"30243.5"``, ``"0.00100000"``): a checksum over a re-formatted ``Decimal`` would fail on the
first trailing zero. :meth:`OrderBook.raw_levels` keeps those strings, best level first.

- :func:`interleaved_crc32` (OKX, API v5 "Order book channel", checksum section): up to 25
  levels a side, taken in pairs ``bid:bidSize:ask:askSize`` from the best level outwards; when one
  side runs out the other side's remaining levels follow alone; fields joined by ``:``; the CRC32
  of that string read as a *signed* 32-bit integer.
- :func:`asks_then_bids_crc32` (Kraken, WebSocket "Book checksum (v1/v2)" guides): the top 10
  asks (lowest first) then the top 10 bids (highest first); per level price then quantity, each
  with the ``.`` removed and then leading zeros stripped, all concatenated with no separator; the
  CRC32 read as an *unsigned* 32-bit integer.

These are pure functions; the book synchroniser calls one after each applied message that
carries a checksum (``OrderBookMessage.checksum``) and resyncs on a mismatch.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

RawLevels = Sequence[tuple[str, str]]
"""(price, amount) strings of one side, best level first (``OrderBook.raw_levels``)."""

OKX_CHECKSUM_DEPTH = 25
KRAKEN_CHECKSUM_DEPTH = 10


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def interleaved_crc32(bids: RawLevels, asks: RawLevels, depth: int = OKX_CHECKSUM_DEPTH) -> int:
    """OKX's checksum of the top ``depth`` levels a side, as a signed 32-bit integer."""
    fields: list[str] = []
    bid_count = min(len(bids), depth)
    ask_count = min(len(asks), depth)
    for index in range(max(bid_count, ask_count)):
        if index < bid_count:
            fields.extend(bids[index])
        if index < ask_count:
            fields.extend(asks[index])
    return _signed32(zlib.crc32(":".join(fields).encode("ascii")))


def _kraken_digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def asks_then_bids_crc32(bids: RawLevels, asks: RawLevels, depth: int = KRAKEN_CHECKSUM_DEPTH) -> int:
    """Kraken's checksum of the top ``depth`` levels a side, as an unsigned 32-bit integer."""
    parts = [_kraken_digits(field) for level in asks[:depth] for field in level]
    parts.extend(_kraken_digits(field) for level in bids[:depth] for field in level)
    return zlib.crc32("".join(parts).encode("ascii"))
