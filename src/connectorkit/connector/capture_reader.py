"""Reader for recorded exchange sessions (JSON lines), for replaying real traffic.

Format (one JSON object a line; see ``tests/data/captures/README.md``):

- ``{"t": "header", "exchange": ..., "config": {...}, "recorded": <unix s>}``, first;
- ``{"t": "http", "conn", "ts", "url", "data"}``: a REST answer (``data`` is the body);
- ``{"t": "connect", "conn", "ts", "addr"}``: a WebSocket connection to ``addr``;
- ``{"t": "recv", "conn", "ts", "data"}``: one raw WebSocket frame;
- ``{"t": "send", "conn", "ts", "data"}``: a frame the client sent (OKX, Bybit captures).

The header may carry ``"format"`` (the version of this layout, :data:`CAPTURE_FORMAT`); a file
of another format is refused as a whole (:class:`UnsupportedCaptureFormat`). A line that is not a
record (cut short, not JSON, a field missing) is a :class:`CaptureFormatError`;
:func:`read_capture_file` can skip and count such lines instead.

In the files the REST answers are written before the frames although many frames arrived
earlier; :func:`read_capture` therefore returns the records in time order (stable), which is the
order a live client saw them in: frames that precede a snapshot's answer must be buffered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec

RecordKind = Literal["header", "http", "connect", "recv", "send"]

CAPTURE_FORMAT = 2
"""The capture layout this reader understands (``connectorkit record`` writes it; the public
captures were converted to it). A header without ``format`` is read as this one."""


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
    format: int | str | None = None


class CaptureFormatError(ValueError):
    """A line of a capture file that does not follow the format."""


class UnsupportedCaptureFormat(CaptureFormatError):
    """The header declares a capture format this reader does not know: the whole file is refused."""


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
    if raw.t in ("http", "recv", "send") and raw.data is None:
        raise CaptureFormatError(f"line {line_number}: {raw.t} record without data")
    if raw.t == "header" and raw.format is not None and raw.format != CAPTURE_FORMAT:
        raise UnsupportedCaptureFormat(
            f"line {line_number}: capture format {raw.format} is unknown (this version reads format "
            f"{CAPTURE_FORMAT})"
        )
    return CaptureRecord(
        kind=raw.t,
        ts=ts,
        conn=raw.conn,
        url=raw.url if raw.t != "connect" else raw.addr,
        data=raw.data,
        exchange=raw.exchange,
        config=raw.config,
    )


@dataclass
class CaptureFile:
    """What :func:`read_capture_file` read: the records (header first, then in time order), the
    number of non-blank lines, and the errors of the lines it skipped."""

    records: list[CaptureRecord]
    lines: int
    skipped: list[CaptureFormatError] = field(default_factory=list)


def read_capture_file(path: str | Path, *, strict: bool = True) -> CaptureFile:
    """Read a capture file. ``strict``: the first bad line raises its :class:`CaptureFormatError`;
    otherwise bad lines are skipped and kept in :attr:`CaptureFile.skipped`. An unknown format
    raises :class:`UnsupportedCaptureFormat` either way."""
    records: list[CaptureRecord] = []
    skipped: list[CaptureFormatError] = []
    count = 0
    with Path(path).open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            count += 1
            try:
                records.append(parse_capture_line(line, number))
            except UnsupportedCaptureFormat:
                raise
            except CaptureFormatError as exc:
                if strict:
                    raise
                skipped.append(exc)
    headers = [r for r in records if r.kind == "header"]
    events = sorted((r for r in records if r.kind != "header"), key=lambda r: r.ts)
    return CaptureFile(headers + events, count, skipped)


def read_capture(path: str | Path) -> list[CaptureRecord]:
    """All records of a capture file, header first, then in time order (ties keep file order);
    the first bad line raises :class:`CaptureFormatError`."""
    return read_capture_file(path).records
