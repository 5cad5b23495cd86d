"""The capture format: raw REST answers and WebSocket frames as JSON lines.

The same format as the public recordings in ``shared/data/captures`` (see their README), so
``connectorkit replay`` reads both those and what ``connectorkit record`` writes:

- ``{"t": "header", "exchange": ..., "config": {...}, "recorded": <unix s>}`` first; our recordings
  add ``"connector"`` (the registry name) and ``"pairs"`` (exchange symbol -> trading pair);
- ``{"t": "http", "conn", "ts", "url", "data"}``: one REST answer (body as a string);
- ``{"t": "connect", "conn", "ts", "addr"}``: a WebSocket connection opened to ``addr``;
- ``{"t": "recv", "conn", "ts", "data"}``: one raw frame received on connection ``conn``.

Schemas are msgspec Structs tagged by ``t``; :func:`decode_line` / :func:`encode_record` are pure.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2


class Header(msgspec.Struct, tag_field="t", tag="header", omit_defaults=True):
    exchange: str = ""
    format: int = FORMAT_VERSION
    recorded: float = 0.0
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    connector: str | None = None
    pairs: dict[str, str] = msgspec.field(default_factory=dict)


class Http(msgspec.Struct, tag_field="t", tag="http"):
    conn: str
    ts: float
    url: str
    data: str

    @property
    def endpoint(self) -> str:
        """Last path segment of the URL (``depth``, ``exchangeInfo``...)."""
        return urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def symbol(self) -> str | None:
        values = parse_qs(urlsplit(self.url).query).get("symbol")
        return values[0] if values else None


class Connect(msgspec.Struct, tag_field="t", tag="connect"):
    conn: str
    ts: float
    addr: str


class Recv(msgspec.Struct, tag_field="t", tag="recv"):
    conn: str
    ts: float
    data: str


Record = Header | Http | Connect | Recv

_decoder = msgspec.json.Decoder(Record)
_encoder = msgspec.json.Encoder()


class CaptureFormatError(ValueError):
    """A line that is not a capture record."""


def decode_line(line: str | bytes) -> Record:
    try:
        record: Record = _decoder.decode(line)
        return record
    except msgspec.DecodeError as exc:
        raise CaptureFormatError(str(exc)) from None


def encode_record(record: Record) -> bytes:
    return _encoder.encode(record) + b"\n"


class Capture:
    """A whole capture file in memory: its header and its records, plus how many lines were skipped."""

    def __init__(self, header: Header, records: list[Http | Connect | Recv], skipped: int = 0) -> None:
        self.header = header
        self.records = records
        self.skipped = skipped

    @classmethod
    def read(cls, path: str | Path) -> Capture:
        """Parse ``path``; malformed lines are logged and counted in :attr:`skipped`, never fatal.
        A file without a header line gets an empty one."""
        header: Header | None = None
        records: list[Http | Connect | Recv] = []
        skipped = 0
        with Path(path).open("rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = decode_line(line)
                except CaptureFormatError as exc:
                    skipped += 1
                    logger.warning("%s:%d: not a capture record, skipped (%s)", path, number, exc)
                    continue
                if isinstance(record, Header):
                    if header is None:
                        header = record
                    continue
                records.append(record)
        return cls(header or Header(), records, skipped)

    def timeline(self) -> list[Http | Connect | Recv]:
        """The records in the order things happened (by ``ts``; file order breaks ties). Files may
        list REST answers first although they arrived after the first frames."""
        return sorted(self.records, key=lambda r: r.ts)

    def depth_symbols(self) -> list[str]:
        """Exchange symbols with at least one depth snapshot, in first-seen order."""
        seen: dict[str, None] = {}
        for record in self.records:
            if isinstance(record, Http) and record.endpoint == "depth" and record.symbol:
                seen.setdefault(record.symbol, None)
        return list(seen)


class CaptureWriter:
    """Writes records to a capture file, one JSON line each, the header first.

    :meth:`write` only encodes into a memory buffer, so it is safe to call from the event loop on
    every frame; :meth:`flush` writes the buffer out (run it in a thread from async code, as
    ``connectorkit record`` does, so the loop never blocks on the disk). Records written before
    :meth:`set_header` wait in the buffer: nothing reaches the file before its header.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._header: Header | None = None
        self._header_written = False
        self._buffer: list[bytes] = []
        self.records = 0

    def set_header(self, header: Header) -> None:
        self._header = header

    def write(self, record: Http | Connect | Recv) -> None:
        self._buffer.append(encode_record(record))
        self.records += 1

    def flush(self) -> None:
        if self._header is None:
            return
        chunk, self._buffer = self._buffer, []
        if not self._header_written:
            self._path.write_bytes(encode_record(self._header))
            self._header_written = True
        if chunk:
            with self._path.open("ab") as out:
                out.write(b"".join(chunk))
