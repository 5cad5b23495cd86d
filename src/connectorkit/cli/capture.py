"""Writing captures: raw REST answers and WebSocket frames as JSON lines.

The format is the one of the public recordings in ``tests/data/captures`` (see their README and
:mod:`connectorkit.connector.capture_reader`, which reads both):

- ``{"t": "header", "exchange": ..., "config": {...}, "recorded": <unix s>}`` first; our recordings
  put ``"connector"`` (the registry name) and ``"pairs"`` (exchange symbol -> trading pair) in
  ``config``, so a replay needs nothing else;
- ``{"t": "http", "conn", "ts", "url", "data"}``: one REST answer (body as a string);
- ``{"t": "connect", "conn", "ts", "addr"}``: a WebSocket connection opened to ``addr``;
- ``{"t": "recv", "conn", "ts", "data"}``: one raw frame received on connection ``conn``;
- ``{"t": "send", "conn", "ts", "data"}``: one frame the client sent on ``conn`` (a subscription).

Schemas are msgspec Structs tagged by ``t``; :func:`encode_record` is pure.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from connectorkit.connector.capture_reader import CAPTURE_FORMAT

FORMAT_VERSION = CAPTURE_FORMAT


class Header(msgspec.Struct, tag_field="t", tag="header"):
    exchange: str
    recorded: float
    config: dict[str, Any]
    format: int = FORMAT_VERSION


class Http(msgspec.Struct, tag_field="t", tag="http"):
    conn: str
    ts: float
    url: str
    data: str


class Connect(msgspec.Struct, tag_field="t", tag="connect"):
    conn: str
    ts: float
    addr: str


class Recv(msgspec.Struct, tag_field="t", tag="recv"):
    conn: str
    ts: float
    data: str


class Send(msgspec.Struct, tag_field="t", tag="send"):
    conn: str
    ts: float
    data: str


Record = Header | Http | Connect | Recv | Send

_encoder = msgspec.json.Encoder()


def encode_record(record: Record) -> bytes:
    return _encoder.encode(record) + b"\n"


def recording_header(connector: str, pairs: dict[str, str], recorded: float) -> Header:
    """The header ``connectorkit record`` writes: ``pairs`` maps exchange symbols to trading pairs."""
    config: dict[str, Any] = {"connector": connector, "pairs": pairs}
    return Header(exchange=connector.upper(), recorded=recorded, config=config)


class CaptureWriter:
    """Writes records to a capture file, one JSON line each, the header first.

    :meth:`write` only encodes into a memory buffer, so it is cheap enough for the event loop on
    every frame; :meth:`flush` hands what is buffered to a worker thread that appends it to the
    file, so the loop never blocks on the disk. Records written before :meth:`set_header` stay in
    the buffer: nothing reaches the file before its header.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._header: Header | None = None
        self._header_written = False
        self._buffer: list[bytes] = []
        self.records = 0

    def set_header(self, header: Header) -> None:
        self._header = header

    def write(self, record: Http | Connect | Recv | Send) -> None:
        self._buffer.append(encode_record(record))
        self.records += 1

    async def flush(self) -> None:
        """Append everything buffered so far (call from the event loop; one flush at a time)."""
        if self._header is None:
            return
        parts, self._buffer = self._buffer, []  # taken on the loop thread: no frame can slip past
        truncate = not self._header_written
        if truncate:
            parts.insert(0, encode_record(self._header))
            self._header_written = True
        if parts:
            await asyncio.to_thread(self._append, b"".join(parts), truncate)

    def _append(self, data: bytes, truncate: bool) -> None:
        with self._path.open("wb" if truncate else "ab") as out:
            out.write(data)
