"""Fault injection: arm a fault here (or via ``/sandbox/faults/<kind>``); the server layers consult it.

Each fault, when it actually happens, appends a :class:`FaultRecord` to :attr:`FaultInjector.log` and is
logged at WARNING, so tests can assert both that the sandbox did it and that the client coped.

The kinds are venue-neutral and listed once in :class:`FaultKind`; a protocol skin decides what each one
looks like on its wire and declares that in a :data:`FaultMapping` (every kind mapped, checked by
tests). A sequence gap, for instance, is a skipped ``U`` on Binance spot and a lost event (``pu`` that
does not chain) on USD-M; an OKX skin maps it to a skipped ``seqId`` (``prevSeqId`` that does not
chain), a Bybit skin to a skipped ``u``. The skin's publisher consumes the armed fault with the
``take_*`` method (e.g. :meth:`FaultInjector.take_depth_skip`) and applies it its own way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectorkit.sandbox.clock import SandboxClock

log = logging.getLogger(__name__)


class FaultKind(StrEnum):
    """Every fault the core arms. The value is the :class:`FaultInjector` method (and admin route)."""

    DROP_WEBSOCKETS = "drop_websockets"
    PAUSE_STREAM = "pause_stream"
    RESUME_STREAM = "resume_stream"
    SEQUENCE_GAP = "skip_depth_updates"
    DUPLICATE_USER_EVENTS = "duplicate_user_events"
    REORDER_USER_EVENTS = "reorder_user_events"
    DELAY_REST = "delay_rest"
    FAIL_NEXT_REQUESTS = "fail_next_requests"
    UNKNOWN_STATUS = "unknown_status_next_orders"
    FORCE_429 = "force_429"
    EXPIRE_USER_STREAM = "expire_listen_key"
    CLOCK_SKEW = "clock_skew"


#: A skin's answer to "what does this fault look like on my wire", one line per kind (all kinds).
FaultMapping = Mapping[FaultKind, str]


def unmapped_kinds(mapping: FaultMapping) -> set[FaultKind]:
    """The kinds a skin's mapping leaves out (empty for a complete skin)."""
    return set(FaultKind) - set(mapping)


@dataclass(frozen=True, slots=True)
class FaultRecord:
    kind: str
    time_ms: int
    detail: dict[str, Any] = field(default_factory=dict)


class FaultInjector:
    def __init__(self, clock: SandboxClock) -> None:
        self._clock = clock
        self.log: list[FaultRecord] = []
        self._ws_droppers: list[Callable[[], int]] = []
        self._listen_key_expirers: list[Callable[[str | None], list[str]]] = []
        self._ws_countdown: int | None = None
        self._paused: set[str] = set()
        self._depth_skips: dict[str, int] = {}
        self._user_dup = 0
        self._user_reorder = 0
        self._delays: list[float] = []
        self._fail_status: list[int] = []
        self._unknown_status = 0
        self._forced_429 = 0

    # ---- wiring (server side) -------------------------------------------------------------------
    def register_ws_dropper(self, dropper: Callable[[], int]) -> None:
        """``dropper()`` closes every socket it owns and returns how many it closed."""
        self._ws_droppers.append(dropper)

    def register_listen_key_expirer(self, expirer: Callable[[str | None], list[str]]) -> None:
        """``expirer(key or None)`` expires that key (or all) and returns the keys it expired."""
        self._listen_key_expirers.append(expirer)

    def record(self, kind: str, **detail: Any) -> None:
        rec = FaultRecord(kind, self._clock.now_ms(), detail)
        self.log.append(rec)
        log.warning("sandbox fault injected: %s %s", kind, detail)

    def kinds(self) -> list[str]:
        return [r.kind for r in self.log]

    # ---- arming (public) ------------------------------------------------------------------------
    def drop_websockets(self, after_messages: int = 0) -> int:
        """Close every WebSocket now (``after_messages=0``) or once N more messages were sent."""
        if after_messages > 0:
            self._ws_countdown = after_messages
            return 0
        return self._drop_all()

    def _drop_all(self) -> int:
        closed = sum(dropper() for dropper in self._ws_droppers)
        self.record("drop_websockets", closed=closed)
        return closed

    def pause_stream(self, stream: str) -> None:
        """Stop sending ``stream`` (messages are lost) until :meth:`resume_stream`."""
        self._paused.add(stream)
        self.record("pause_stream", stream=stream)

    def resume_stream(self, stream: str) -> None:
        self._paused.discard(stream)
        self.record("resume_stream", stream=stream)

    def skip_depth_updates(self, symbol: str, count: int = 1) -> None:
        """The next diff-depth event of ``symbol`` jumps ``count`` update ids (a sequence gap)."""
        self._depth_skips[symbol.upper()] = self._depth_skips.get(symbol.upper(), 0) + count

    def duplicate_user_events(self, count: int = 1) -> None:
        self._user_dup += count

    def reorder_user_events(self, count: int = 1) -> None:
        """Each of the next ``count`` user events is held back and sent after the one that follows it."""
        self._user_reorder += count

    def delay_rest(self, seconds: float, count: int = 1) -> None:
        self._delays.extend([seconds] * count)

    def fail_next_requests(self, n: int = 1, status: int = 500) -> None:
        self._fail_status.extend([status] * n)

    def unknown_status_next_orders(self, n: int = 1) -> None:
        """The next ``n`` order placements ARE executed, but answered 503 -1007 (status unknown)."""
        self._unknown_status += n

    def force_429(self, n: int = 1) -> None:
        self._forced_429 += n

    def expire_listen_key(self, key: str | None = None) -> list[str]:
        expired = [k for expirer in self._listen_key_expirers for k in expirer(key)]
        self.record("expire_listen_key", keys=len(expired))
        return expired

    def clock_skew(self, ms: int) -> None:
        """Shift the server clock by ``ms``: client timestamps fall outside recvWindow until resynced."""
        self._clock.skew_ms = ms
        self.record("clock_skew", ms=ms)

    def clear(self) -> None:
        """Disarm everything still pending (the log is kept)."""
        self._ws_countdown = None
        self._paused.clear()
        self._depth_skips.clear()
        self._user_dup = self._user_reorder = self._unknown_status = self._forced_429 = 0
        self._delays.clear()
        self._fail_status.clear()
        self._clock.skew_ms = 0

    # ---- consumption (server side) --------------------------------------------------------------
    def on_ws_message_sent(self) -> None:
        if self._ws_countdown is None:
            return
        self._ws_countdown -= 1
        if self._ws_countdown <= 0:
            self._ws_countdown = None
            self._drop_all()

    def is_paused(self, stream: str) -> bool:
        return stream in self._paused

    def take_depth_skip(self, symbol: str) -> int:
        skip = self._depth_skips.pop(symbol.upper(), 0)
        if skip:
            self.record("skip_depth_updates", symbol=symbol.upper(), skipped=skip)
        return skip

    def take_user_event_fault(self) -> str | None:
        if self._user_dup:
            self._user_dup -= 1
            self.record("duplicate_user_event")
            return "duplicate"
        if self._user_reorder:
            self._user_reorder -= 1
            self.record("reorder_user_event")
            return "reorder"
        return None

    def take_rest_delay(self, path: str) -> float:
        if not self._delays:
            return 0.0
        delay = self._delays.pop(0)
        self.record("delay_rest", path=path, seconds=delay)
        return delay

    def take_rest_failure(self, path: str) -> int | None:
        if not self._fail_status:
            return None
        status = self._fail_status.pop(0)
        self.record("fail_request", path=path, status=status)
        return status

    def take_forced_429(self, path: str) -> bool:
        if not self._forced_429:
            return False
        self._forced_429 -= 1
        self.record("force_429", path=path)
        return True

    def take_unknown_status(self, path: str) -> bool:
        if not self._unknown_status:
            return False
        self._unknown_status -= 1
        self.record("unknown_status", path=path)
        return True
