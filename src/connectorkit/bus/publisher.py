"""The gateway's single, ordered write path to Redis, with reconnection.

Every write (stream entries, snapshot hashes with their marks, the heartbeat) is queued in order
and sent by one writer task as a pipeline: whatever accumulated while the previous pipeline was in
flight goes in the next one, so batching grows with load and costs no latency when idle. Order is
preserved because one task writes over one connection at a time.

When Redis goes away, queued and new writes are dropped (and counted) rather than kept without
bound; the writer reconnects with exponential backoff and then calls ``on_reconnected``, on which
the gateway republishes every book as a reset snapshot. The sequence numbers of the dropped entries
are missing from the streams, so consumers see the gap and reload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from connectorkit.bus import connection
from connectorkit.bus.keys import ENTRY_FIELD

_LOG = logging.getLogger(__name__)

SNAPSHOT_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('HSET', KEYS[2], 'id', id, 'doc', ARGV[3])
return id
"""
"""Append the mark and store the snapshot with that mark's entry id, atomically (one script runs
alone on the server): a consumer never sees a snapshot and an entry id that disagree."""


@dataclass(slots=True)
class PublisherStats:
    entries_written: int = 0
    snapshots_written: int = 0
    dropped: int = 0
    overflows: int = 0
    errors: int = 0
    reconnections: int = 0


class StreamPublisher:
    """Queues writes and sends them in order; see the module docstring."""

    RECONNECT_MIN_DELAY = 0.1
    RECONNECT_MAX_DELAY = 5.0

    def __init__(
        self,
        url: str,
        *,
        maxlen: int,
        on_reconnected: Callable[[], None],
        max_pending: int = 200_000,
    ) -> None:
        self._url = url
        self._maxlen = maxlen
        self._on_reconnected = on_reconnected
        self._max_pending = max_pending
        self._client: aioredis.Redis | None = None
        self._pending: list[tuple[str, tuple[object, ...]]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._up = False
        self.stats = PublisherStats()

    def __repr__(self) -> str:
        return f"StreamPublisher({connection.mask_url(self._url)}, up={self._up})"

    @property
    def connected(self) -> bool:
        return self._up

    async def connect(self) -> None:
        """First connection: :class:`~connectorkit.bus.connection.BusUnavailableError` if Redis is down."""
        self._client = await connection.connect(self._url)
        self._up = True

    async def close(self) -> None:
        self._up = False
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- queueing (synchronous, called from the event loop's book handlers) ---------------------
    def add_entry(self, stream: str, payload: bytes) -> None:
        self._queue("xadd", (stream, payload))

    def add_snapshot(self, stream: str, key: str, mark: bytes, doc: bytes) -> None:
        self._queue("snapshot", (stream, key, mark, doc))

    def set_with_ttl(self, key: str, value: bytes, ttl_ms: int) -> None:
        self._queue("set", (key, value, ttl_ms))

    def delete(self, key: str) -> None:
        self._queue("delete", (key,))

    def _queue(self, op: str, args: tuple[object, ...]) -> None:
        if not self._up:
            self.stats.dropped += 1
            return
        pending = self._pending
        if len(pending) >= self._max_pending:
            # Redis cannot keep up: drop the backlog and start over from reset snapshots.
            self.stats.overflows += 1
            self.stats.dropped += len(pending)
            pending.clear()
            _LOG.warning("bus writes backlog over %d; dropped, books republished", self._max_pending)
            self._on_reconnected()
        pending.append((op, args))
        self._idle.clear()
        self._wake.set()

    async def flushed(self) -> None:
        """Return once everything queued so far has been sent (or dropped)."""
        await self._idle.wait()

    # ---- the writer task ----------------------------------------------------------------------
    async def run(self) -> None:
        """Send queued writes until cancelled (reconnecting after any loss)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    await self._send(batch)
                except (RedisError, OSError) as exc:
                    await self._recover(exc)
            if not self._pending:
                self._idle.set()

    async def _send(self, batch: list[tuple[str, tuple[object, ...]]]) -> None:
        client = self._client
        if client is None:
            raise ConnectionError("not connected")
        pipe = client.pipeline(transaction=False)
        maxlen = self._maxlen
        for op, args in batch:
            if op == "xadd":
                pipe.xadd(args[0], {ENTRY_FIELD: args[1]}, maxlen=maxlen, approximate=True)  # type: ignore[arg-type,dict-item]
            elif op == "snapshot":
                stream, key, mark, doc = args
                pipe.eval(SNAPSHOT_SCRIPT, 2, stream, key, maxlen, mark, doc)  # type: ignore[arg-type]
            elif op == "set":
                pipe.set(args[0], args[1], px=args[2])  # type: ignore[arg-type]
            else:
                pipe.delete(args[0])  # type: ignore[arg-type]
        results = await pipe.execute(raise_on_error=False)
        stats = self.stats
        for (op, _), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                if isinstance(result, OSError | RedisConnectionError):
                    raise result
                stats.errors += 1
                _LOG.error("bus write %s failed: %s", op, connection.describe(result))
            elif op == "xadd":
                stats.entries_written += 1
            elif op == "snapshot":
                stats.snapshots_written += 1

    async def _recover(self, exc: BaseException) -> None:
        self._up = False
        self.stats.dropped += len(self._pending)
        self._pending.clear()
        _LOG.warning("lost Redis at %s (%s); reconnecting, books kept", connection.mask_url(self._url),
                     connection.describe(exc))
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        delay = self.RECONNECT_MIN_DELAY
        while True:
            try:
                self._client = await connection.connect(self._url)
                break
            except connection.BusUnavailableError as err:
                _LOG.debug("still no Redis: %s; next try in %.2fs", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RECONNECT_MAX_DELAY)
        self._up = True
        self.stats.reconnections += 1
        _LOG.warning("reconnected to Redis at %s; republishing every book", connection.mask_url(self._url))
        self._on_reconnected()
