"""Reader for recorded exchange sessions (JSON lines), for replaying real traffic.

Format (one JSON object a line; see ``tests/data/captures/README.md``):

- ``{"t": "header", "exchange": ..., "config": {...}, "recorded": <unix s>}``, first;
- ``{"t": "http", "conn", "ts", "url", "data"}``: a REST answer (``data`` is the body);
- ``{"t": "connect", "conn", "ts", "addr"}``: a WebSocket connection to ``addr``;
- ``{"t": "recv", "conn", "ts", "data"}``: one raw WebSocket frame.

In the files the REST answers are written before the frames although many frames arrived
earlier; :func:`read_capture` therefore returns the records in time order (stable), which is the
order a live client saw them in: frames that precede a snapshot's answer must be buffered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

RecordKind = Literal["header", "http", "connect", "recv"]


class _Line(msgspec.Struct, gc=False):
    t: RecordKind
    ts: float | None = None
    recorded: float | None = None
    conn: str | None = None
    url: str | None = None
    addr: str | None = None
    data: str | None = None
    exchange: str | None = None
    config: dict[str, Any] | None = None


class CaptureFormatError(ValueError):
    """A line of a capture file that does not follow the format."""


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One recorded event. ``url`` is the request URL (http) or the socket address (connect)."""

    kind: RecordKind
    ts: float
    conn: str | None = None
    url: str | None = None
    data: str | None = None
    exchange: str | None = None
    config: dict[str, Any] | None = None

    def query_param(self, name: str) -> str | None:
        """A query parameter of :attr:`url` (e.g. ``symbol`` of a depth request)."""
        if self.url is None:
            return None
        values = parse_qs(urlsplit(self.url).query).get(name)
        return values[0] if values else None

    @property
    def path(self) -> str:
        return "" if self.url is None else urlsplit(self.url).path


_decoder = msgspec.json.Decoder(_Line)


def parse_capture_line(line: str | bytes, line_number: int = 0) -> CaptureRecord:
    try:
        raw = _decoder.decode(line)
    except msgspec.MsgspecError as exc:
        raise CaptureFormatError(f"line {line_number}: {exc}") from None
    ts = raw.ts if raw.ts is not None else raw.recorded
    if ts is None:
        raise CaptureFormatError(f"line {line_number}: {raw.t} record without a timestamp")
    if raw.t in ("http", "recv") and raw.data is None:
        raise CaptureFormatError(f"line {line_number}: {raw.t} record without data")
    return CaptureRecord(
        kind=raw.t,
        ts=ts,
        conn=raw.conn,
        url=raw.url if raw.t != "connect" else raw.addr,
        data=raw.data,
        exchange=raw.exchange,
        config=raw.config,
    )


def read_capture(path: str | Path) -> list[CaptureRecord]:
    """All records of a capture file, header first, then in time order (ties keep file order)."""
    records: list[CaptureRecord] = []
    with Path(path).open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                records.append(parse_capture_line(line, number))
    headers = [r for r in records if r.kind == "header"]
    events = sorted((r for r in records if r.kind != "header"), key=lambda r: r.ts)
    return headers + events
