"""``BusOrderBookDataSource``: a connector's books, trades and funding info from a gateway on Redis.

A connector created with ``market_data_bus="redis://..."`` uses this data source instead of its
exchange's sockets, with the unchanged :class:`~connectorkit.connector.order_book_tracker.OrderBookTracker`
on top: readiness, buffering and resyncs follow the same rules as for a direct feed.

Per pair, :meth:`fetch_snapshot` loads the ``:snapshot`` hash (the whole book, the gateway
sequence ``seq`` it corresponds to and its book-stream entry id); the subscription loop then reads
the book stream from that entry id and checks every entry: same gateway run, ``seq`` exactly one
more than the previous. Anything else (entries trimmed under a slow consumer, entries lost while
Redis was away, a restarted gateway, a reset mark for an upstream resync, an expired gateway
heartbeat, a lost connection) *breaks* the pair: nothing more is read for it until the tracker
has reloaded the snapshot.

The tracker's update ids are bus positions, ``epoch * EPOCH_SPAN + seq``, under
:attr:`ContinuityRule.CONSECUTIVE`: each snapshot load starts a new epoch, so every diff routed
before it is stale for the tracker, and a break routes one empty diff of a newer epoch, which the
tracker sees as a sequence gap (book not ready, resync from :meth:`fetch_snapshot`).
:meth:`entry_info` maps a bus position back to the exchange's update id and the gateway's apply
time.

Malformed or foreign stream entries are counted (:attr:`malformed_frames`) and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import msgspec
from redis.exceptions import RedisError

from connectorkit.bus import connection, keys, wire
from connectorkit.connector.order_book_tracker_data_source import ContinuityRule, OrderBookTrackerDataSource
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

_LOG = logging.getLogger(__name__)

EPOCH_SPAN = 10**12
"""Bus positions per epoch: a gateway run would need 10^12 entries of one pair to overflow it."""

Entries = list[tuple[bytes, dict[bytes, bytes]]]
"""A stream read as redis-py returns it with bytes replies: ``[(entry id, {field: value}), ...]``."""

_DIFF = OrderBookMessageType.DIFF
_ENTRY = keys.ENTRY_FIELD


class GatewayUnavailableError(RuntimeError):
    """No live gateway serves the pair (heartbeat missing or without the pair, or no ready snapshot)."""


@dataclass(slots=True)
class BusConsumerStats:
    breaks: int = 0
    """Times a pair stopped applying and reloaded its snapshot (gap, restart, reset, heartbeat, loss)."""
    connection_losses: int = 0
    heartbeat_expiries: int = 0
    entries_read: int = 0


@dataclass(slots=True, eq=False)
class _Cursor:
    """Where the subscription loop stands in one pair's streams."""

    pair: str
    book_stream: str
    snapshot_key: str
    trades_stream: str
    funding_stream: str
    synced: bool = False
    catching_up: bool = False
    """True while :meth:`BusOrderBookDataSource.fetch_snapshot` reads the backlog (the loop waits)."""
    epoch: int = 0
    snapshot_epoch: int = 0
    generation: int = 0
    run: str = ""
    next_seq: int = 0
    uid: int = 0
    """The exchange's update id of the last book state read."""
    book_id: bytes = b"0-0"
    trades_id: bytes | None = None
    funding_id: bytes | None = None


class BusOrderBookDataSource(OrderBookTrackerDataSource):
    """Reads what a :class:`~connectorkit.bus.gateway.MarketDataGateway` publishes (module docstring)."""

    continuity = ContinuityRule.CONSECUTIVE

    BLOCK_MS = 100
    """Longest XREAD wait: also how soon a reloaded snapshot's position is picked up."""
    READ_COUNT = 1000
    HEARTBEAT_CHECK_INTERVAL = 0.5
    SNAPSHOT_WAIT = 10.0
    SNAPSHOT_POLL = 0.05
    RECONNECT_MIN_DELAY = 0.1
    RECONNECT_MAX_DELAY = 5.0
    POSITIONS_KEPT = 65_536
    """Bus positions remembered per pair for :meth:`entry_info`."""

    def __init__(
        self, connector_name: str, trading_pairs: Iterable[str], bus_url: str, *, perpetual: bool = False
    ) -> None:
        super().__init__(trading_pairs)
        self._connector = connector_name
        self._url = connection.validate_url(bus_url)
        self._perpetual = perpetual
        self._client = connection.client_for(bus_url)
        self._cursors: dict[str, _Cursor] = {}
        self._positions: dict[str, OrderedDict[int, tuple[int, float]]] = {}
        for pair in self.trading_pairs:
            self._add_cursor(pair)
        self._heartbeat_key = keys.heartbeat_key(connector_name)
        self.gateway_alive = False
        self.stats = BusConsumerStats()
        self._read_ok = False

    def __repr__(self) -> str:
        return (f"BusOrderBookDataSource({self._connector!r}, {self.trading_pairs!r}, "
                f"{connection.mask_url(self._url)})")

    # ---- bus positions --------------------------------------------------------------------------
    def entry_info(self, trading_pair: str, update_id: int) -> tuple[int, float] | None:
        """``(exchange update id, gateway apply time)`` of the book state at bus position
        ``update_id`` (an order book's ``last_diff_uid``); None if not (or no longer) known."""
        positions = self._positions.get(trading_pair)
        return None if positions is None else positions.get(update_id)

    def exchange_update_id(self, trading_pair: str, update_id: int) -> int | None:
        info = self.entry_info(trading_pair, update_id)
        return None if info is None else info[0]

    def _remember(self, pair: str, position: int, uid: int, gateway_time: float) -> None:
        positions = self._positions[pair]
        positions[position] = (uid, gateway_time)
        if len(positions) > self.POSITIONS_KEPT:
            positions.popitem(last=False)

    # ---- snapshots ------------------------------------------------------------------------------
    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        """The gateway's snapshot of the pair, brought up to the present: the stream entries after
        it are read and routed (as diffs of the new epoch) before it is returned, so the tracker
        installs it with them and the book is never ready behind the stream. Waits up to
        :attr:`SNAPSHOT_WAIT` for a ready snapshot that the stream still continues."""
        cursor = self._cursors[trading_pair]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.SNAPSHOT_WAIT
        while True:
            found = await self._load_snapshot(cursor)
            if found is not None:
                entry_id, doc = found
                self._position_at(cursor, entry_id, doc)
                await self._catch_up(cursor)
                if cursor.synced:
                    break
            if loop.time() >= deadline:
                raise GatewayUnavailableError(
                    f"no live gateway publishes a ready {self._connector} {trading_pair} book on "
                    f"{connection.mask_url(self._url)}"
                )
            await asyncio.sleep(self.SNAPSHOT_POLL)
        with contextlib.suppress(TimeoutError):  # the backlog is in the tracker's buffer then
            await asyncio.wait_for(self.diff_queue.join(), self.SNAPSHOT_WAIT)
        position = cursor.snapshot_epoch * EPOCH_SPAN + doc.seq
        return OrderBookMessage(
            OrderBookMessageType.SNAPSHOT, None, doc.ts, trading_pair, position, bids=doc.bids, asks=doc.asks
        )

    def _position_at(self, cursor: _Cursor, entry_id: bytes, doc: wire.BookSnapshot) -> None:
        """Start a new epoch at the snapshot: everything routed before is stale from now on."""
        cursor.epoch += 1
        cursor.snapshot_epoch = cursor.epoch
        cursor.generation += 1
        cursor.run = doc.run
        cursor.next_seq = doc.seq + 1
        cursor.uid = doc.uid
        cursor.book_id = entry_id
        cursor.synced = True
        cursor.catching_up = True
        self._remember(cursor.pair, cursor.epoch * EPOCH_SPAN + doc.seq, doc.uid, doc.gt)

    async def _catch_up(self, cursor: _Cursor) -> None:
        """Read and route the entries after the snapshot's; a gap or reset among them breaks the
        cursor (the snapshot cannot be continued: a newer one is needed)."""
        try:
            while cursor.synced:
                chunk = cast(Entries, await self._client.xrange(
                    cursor.book_stream, min=b"(" + cursor.book_id, max="+", count=self.READ_COUNT
                ))
                if chunk:
                    self._on_book_entries(cursor, chunk)
                if len(chunk) < self.READ_COUNT:
                    return
        finally:
            cursor.catching_up = False

    async def _load_snapshot(self, cursor: _Cursor) -> tuple[bytes, wire.BookSnapshot] | None:
        heartbeat = await self._heartbeat()
        if heartbeat is None or cursor.pair not in heartbeat.pairs:
            return None
        answer = await self._client.hmget(cursor.snapshot_key, ["id", "doc"])
        entry_id, raw = cast("list[bytes | None]", answer)
        if entry_id is None or raw is None:
            return None
        try:
            doc = wire.SNAPSHOT_DECODER.decode(raw)
        except msgspec.DecodeError:
            self.malformed_frames += 1
            _LOG.warning("%s: malformed snapshot at %s skipped", cursor.pair, cursor.snapshot_key)
            return None
        if not doc.ready or doc.run != heartbeat.run:
            return None
        return entry_id, doc

    async def _heartbeat(self) -> wire.Heartbeat | None:
        raw = await self._client.get(self._heartbeat_key)
        if raw is None:
            return None
        try:
            return wire.HEARTBEAT_DECODER.decode(raw)
        except msgspec.DecodeError:
            self.malformed_frames += 1
            return None

    # ---- the subscription loop ------------------------------------------------------------------
    async def listen_for_subscriptions(self) -> None:
        """Read the pairs' streams until cancelled; reconnect with backoff after any loss (the
        delay starts over once a read succeeds). The bus connections are closed when it ends."""
        delay = self.RECONNECT_MIN_DELAY
        try:
            while True:
                self._read_ok = False
                try:
                    await self._read_forever()
                except (RedisError, OSError) as exc:
                    self.stats.connection_losses += 1
                    self.gateway_alive = False
                    _LOG.warning("lost the market-data bus at %s (%s); books not ready until resynced",
                                 connection.mask_url(self._url), connection.describe(exc))
                    self._break_all("lost the market-data bus")
                    self.report_book_stream(list(self._cursors), live=False)
                failed_again = not self._read_ok
                delay = min(delay * 2, self.RECONNECT_MAX_DELAY) if failed_again else self.RECONNECT_MIN_DELAY
                await asyncio.sleep(delay)
        finally:
            await self._client.aclose()

    async def _read_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_heartbeat_check = 0.0
        client = self._client
        while True:
            if loop.time() >= next_heartbeat_check:
                await self._check_heartbeat()
                next_heartbeat_check = loop.time() + self.HEARTBEAT_CHECK_INTERVAL
            streams, routes = await self._read_plan()
            if not streams:
                await asyncio.sleep(self.BLOCK_MS / 1000)
                continue
            reply = await client.xread(streams, count=self.READ_COUNT, block=self.BLOCK_MS)  # type: ignore[arg-type]
            self._read_ok = True
            for stream, entries in cast("list[tuple[bytes, Entries]]", reply or []):
                route = routes.get(stream)
                if route is not None:
                    route(entries)

    async def _read_plan(self) -> tuple[dict[bytes, bytes], dict[bytes, Any]]:
        """The XREAD positions of every stream to read now, and the handler of each."""
        streams: dict[bytes, bytes] = {}
        routes: dict[bytes, Any] = {}
        for cursor in list(self._cursors.values()):
            if cursor.trades_id is None:
                cursor.trades_id = await self._last_id(cursor.trades_stream)
            streams[cursor.trades_stream.encode()] = cursor.trades_id
            routes[cursor.trades_stream.encode()] = self._trade_handler(cursor)
            if self._perpetual:
                if cursor.funding_id is None:
                    cursor.funding_id = await self._last_id(cursor.funding_stream)
                streams[cursor.funding_stream.encode()] = cursor.funding_id
                routes[cursor.funding_stream.encode()] = self._funding_handler(cursor)
            if cursor.synced and not cursor.catching_up:
                streams[cursor.book_stream.encode()] = cursor.book_id
                routes[cursor.book_stream.encode()] = self._book_handler(cursor, cursor.generation)
        return streams, routes

    async def _last_id(self, stream: str) -> bytes:
        """The id of the newest entry of ``stream`` (read what comes after it), ``0-0`` if empty."""
        last = cast(Entries, await self._client.xrevrange(stream, count=1))
        return last[0][0] if last else b"0-0"

    async def _check_heartbeat(self) -> None:
        heartbeat = await self._heartbeat()
        served = set() if heartbeat is None else set(heartbeat.pairs)
        alive = bool(served)
        if self.gateway_alive and not alive:
            self.stats.heartbeat_expiries += 1
            _LOG.warning("%s gateway heartbeat expired on %s; books not ready", self._connector,
                         connection.mask_url(self._url))
        self.gateway_alive = alive
        for cursor in list(self._cursors.values()):
            run = None if heartbeat is None else heartbeat.run
            if cursor.synced and (cursor.pair not in served or run != cursor.run):
                self._break(cursor, "gateway heartbeat expired or changed")
        # The bus is this source's stream: a pair's is live while Redis answers and a live gateway
        # serves the pair (the tracker makes a book ready only then).
        pairs = list(self._cursors)
        self.report_book_stream([p for p in pairs if p not in served], live=False)
        self.report_book_stream([p for p in pairs if p in served], live=True)

    # ---- entries --------------------------------------------------------------------------------
    def _book_handler(self, cursor: _Cursor, generation: int) -> Any:
        def handle(entries: Sequence[tuple[bytes, dict[bytes, bytes]]]) -> None:
            if cursor.generation == generation and cursor.synced:  # else repositioned meanwhile
                self._on_book_entries(cursor, entries)

        return handle

    def _on_book_entries(self, cursor: _Cursor, entries: Sequence[tuple[bytes, dict[bytes, bytes]]]) -> None:
        pair = cursor.pair
        decode = wire.BOOK_ENTRY_DECODER.decode
        put = self.diff_queue.put_nowait
        base = cursor.epoch * EPOCH_SPAN
        self.stats.entries_read += len(entries)
        for entry_id, fields in entries:
            cursor.book_id = entry_id
            try:
                entry = decode(fields[_ENTRY])
            except (KeyError, msgspec.DecodeError):
                self._malformed(pair, cursor.book_stream, entry_id)
                continue
            if entry.run != cursor.run:
                self._break(cursor, "the gateway restarted")
                return
            if entry.seq != cursor.next_seq:
                if entry.seq < cursor.next_seq:
                    continue  # read twice (a catch-up and the loop overlapping): already routed
                self._break(cursor, f"gateway sequence gap: expected {cursor.next_seq}, got {entry.seq}")
                return
            cursor.next_seq += 1
            position = base + entry.seq
            if isinstance(entry, wire.BookDiff):
                cursor.uid = entry.uid
                self._remember(pair, position, entry.uid, entry.gt)
                put(OrderBookMessage(
                    _DIFF, None, entry.ts, pair, position, position, None, entry.bids, entry.asks
                ))
            elif entry.reset or not entry.ready:
                self._break(cursor, f"gateway: {entry.reason}")
                return
            else:  # a checkpoint: the book is unchanged; an empty diff keeps the positions consecutive
                written = entry_time(entry_id)
                self._remember(pair, position, cursor.uid, written)
                put(OrderBookMessage(_DIFF, None, written, pair, position, position))

    def _trade_handler(self, cursor: _Cursor) -> Any:
        def handle(entries: Sequence[tuple[bytes, dict[bytes, bytes]]]) -> None:
            for entry_id, fields in entries:
                cursor.trades_id = entry_id
                try:
                    trade = wire.TRADE_DECODER.decode(fields[_ENTRY])
                    price, amount = _finite(trade.price), _finite(trade.amount)
                except (KeyError, msgspec.DecodeError, InvalidOperation):
                    self._malformed(cursor.pair, cursor.trades_stream, entry_id)
                    continue
                self.trade_queue.put_nowait(OrderBookMessage(
                    OrderBookMessageType.TRADE, None, trade.ts, cursor.pair, trade_id=trade.trade_id,
                    price=price, amount=amount, is_buy=trade.is_buy,
                ))

        return handle

    def _funding_handler(self, cursor: _Cursor) -> Any:
        def handle(entries: Sequence[tuple[bytes, dict[bytes, bytes]]]) -> None:
            for entry_id, fields in entries:
                cursor.funding_id = entry_id
                try:
                    info = _funding_info(cursor.pair, wire.FUNDING_DECODER.decode(fields[_ENTRY]))
                except (KeyError, msgspec.DecodeError, InvalidOperation):
                    self._malformed(cursor.pair, cursor.funding_stream, entry_id)
                    continue
                self.funding_info_queue.put_nowait(FundingInfoUpdate(
                    cursor.pair, info.index_price, info.mark_price, info.next_funding_utc_timestamp, info.rate
                ))

        return handle

    def _malformed(self, pair: str, stream: str, entry_id: bytes) -> None:
        self.malformed_frames += 1
        if self.malformed_frames <= 10 or self.malformed_frames % 1000 == 0:
            _LOG.warning("%s: malformed or foreign entry %s on %s skipped (%d so far)",
                         pair, entry_id.decode(errors="replace"), stream, self.malformed_frames)

    # ---- breaks ---------------------------------------------------------------------------------
    def _break(self, cursor: _Cursor, reason: str) -> None:
        """Stop applying the pair; the tracker resyncs it from :meth:`fetch_snapshot`."""
        cursor.synced = False
        cursor.epoch += 1
        cursor.generation += 1
        self.stats.breaks += 1
        _LOG.info("%s: %s; reloading the snapshot", cursor.pair, reason)
        position = cursor.epoch * EPOCH_SPAN
        # An empty diff of a newer epoch: a sequence gap for the tracker (stale after the reload).
        self.diff_queue.put_nowait(
            OrderBookMessage(_DIFF, None, time.time(), cursor.pair, position, position)
        )

    def _break_all(self, reason: str) -> None:
        for cursor in list(self._cursors.values()):
            if cursor.synced:
                self._break(cursor, reason)

    # ---- pairs ----------------------------------------------------------------------------------
    def _add_cursor(self, pair: str) -> None:
        c = self._connector
        self._cursors[pair] = _Cursor(
            pair, keys.book_stream(c, pair), keys.snapshot_key(c, pair), keys.trades_stream(c, pair),
            keys.funding_stream(c, pair),
        )
        self._positions[pair] = OrderedDict()

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        if trading_pair not in self._cursors:
            self._add_cursor(trading_pair)
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        self.report_book_stream([trading_pair], live=False)
        self._positions.pop(trading_pair, None)
        return self._cursors.pop(trading_pair, None) is not None

    # ---- REST-like queries, answered from the bus -----------------------------------------------
    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Decimal]:
        prices: dict[str, Decimal] = {}
        for pair in trading_pairs:
            stream = keys.trades_stream(self._connector, pair)
            last = cast(Entries, await self._client.xrevrange(stream, count=1))
            if last:
                try:
                    prices[pair] = _finite(wire.TRADE_DECODER.decode(last[0][1][_ENTRY]).price)
                except (KeyError, msgspec.DecodeError, InvalidOperation):
                    self.malformed_frames += 1
        return prices

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        if not self._perpetual:
            return await super().get_funding_info(trading_pair)
        stream = keys.funding_stream(self._connector, trading_pair)
        last = cast(Entries, await self._client.xrevrange(stream, count=1))
        if not last:
            raise GatewayUnavailableError(f"no funding info of {trading_pair} on the bus yet")
        return _funding_info(trading_pair, wire.FUNDING_DECODER.decode(last[0][1][_ENTRY]))


def entry_time(entry_id: bytes) -> float:
    """The time (s) Redis gave a stream entry: the milliseconds part of its id."""
    return int(entry_id.partition(b"-")[0]) / 1000


def _finite(text: str) -> Decimal:
    """A decimal string from the bus; NaN or an infinity is as malformed as text that is no number."""
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation(f"{text!r} is not a finite number")
    return value


def _funding_info(pair: str, entry: wire.FundingEntry) -> FundingInfo:
    return FundingInfo(
        pair, _finite(entry.index_price), _finite(entry.mark_price), entry.next_funding_utc_timestamp,
        _finite(entry.rate),
    )
