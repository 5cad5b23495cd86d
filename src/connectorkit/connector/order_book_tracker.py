"""OrderBookTracker: keeps one correct live :class:`OrderBook` per trading pair.

The tracker owns these background tasks (all named, all cancelled by :meth:`stop`, and any
exception that ends one is logged):

- ``order-book-tracker:subscriptions`` runs the data source's WebSocket loop (restarted with
  backoff if it ever returns or fails);
- ``order-book-tracker:diffs`` / ``:trades`` / ``:ws-snapshots`` consume the data source's channel
  queues and hand each message to its pair's :class:`BookSynchronizer` (they mark each item done,
  so ``await data_source.diff_queue.join()`` waits until everything routed has been applied);
- ``order-book-tracker:refresh`` starts the periodic snapshot refresh (default every hour);
- ``order-book-tracker:snapshot:<pair>`` fetches one REST snapshot (retried with backoff), then
  installs it. While it runs the pair keeps buffering its diffs, so none is lost. A pair's first
  snapshot waits for its first diff (the stream is live) or ``first_diff_wait`` seconds.

A book is ready when its snapshot is applied and bridged AND the stream that updates it is
connected and subscribed (the data source reports that, :meth:`OrderBookTrackerDataSource.
report_book_stream`). When that stream drops, the book stops being ready at once and buffers;
when it is back, the book is resynced from a fresh snapshot (taken once the stream delivers). A
snapshot installed while the stream was not yet live is kept: the first diff must bridge it.

Everything that touches a book runs synchronously on the event loop, so one pair's messages are
processed strictly in arrival order. Per-pair isolation: an exception while handling one message
is logged and counted for that pair only; a failing snapshot fetch only delays that pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from connectorkit.connector.order_book_sync import BookSynchronizer, PairMetrics
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage

_LOG = logging.getLogger(__name__)

TradeListener = Callable[[OrderBookMessage], None]
BookListener = Callable[[str, OrderBook], None]
MessageHandler = Callable[[OrderBookMessage, BookSynchronizer], None]


class OrderBookTracker:
    """Maintains the order books of ``trading_pairs`` from ``data_source``.

    ``snapshot_refresh_interval``: seconds between periodic snapshot refreshes (the safety net
    for venues without sequence numbers; also bounds any undetected drift elsewhere).
    ``first_diff_wait``: a pair's first snapshot is fetched once its stream has delivered a diff
    (Binance: "open a stream, buffer the events, then get a depth snapshot"; a snapshot taken
    before the stream is live may not bridge and costs a resync), or after this many seconds
    of a silent stream.
    ``snapshot_retry_delay`` / ``max_snapshot_retry_delay``: backoff between failed snapshot
    fetches. ``on_trade`` is called with every TRADE message of a tracked pair;
    ``on_book_update`` with ``(trading_pair, order_book)`` after each applied snapshot or diff
    batch. Listener exceptions are logged and never stop the tracker.
    """

    def __init__(
        self,
        data_source: OrderBookTrackerDataSource,
        trading_pairs: Iterable[str],
        *,
        snapshot_refresh_interval: float = 3600.0,
        first_diff_wait: float = 1.0,
        snapshot_retry_delay: float = 1.0,
        max_snapshot_retry_delay: float = 30.0,
        max_buffer: int = 100_000,
        on_trade: TradeListener | None = None,
        on_book_update: BookListener | None = None,
    ) -> None:
        if snapshot_refresh_interval <= 0:
            raise ValueError("snapshot_refresh_interval must be positive")
        self._data_source = data_source
        self._refresh_interval = snapshot_refresh_interval
        self._first_diff_wait = first_diff_wait
        self._stream_seen: dict[str, asyncio.Event] = {}
        self._retry_delay = snapshot_retry_delay
        self._max_retry_delay = max_snapshot_retry_delay
        self._max_buffer = max_buffer
        self._trade_listeners: list[TradeListener] = [] if on_trade is None else [on_trade]
        self._book_listener = on_book_update
        self._syncs: dict[str, BookSynchronizer] = {}
        self._books: dict[str, OrderBook] = {}  # pair -> its synchroniser's (permanent) book
        self._books_view = MappingProxyType(self._books)
        self._last_snapshot_at: dict[str, float] = {}
        self._fetch_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._snapshot_failures: dict[str, int] = {}
        self._snapshot_installed = asyncio.Event()
        self.unknown_pair_messages = 0
        self._running = False
        for pair in trading_pairs:
            self._add_sync(pair)
            if pair not in data_source.trading_pairs:  # streamed, so that its book can be ready
                data_source.trading_pairs.append(pair)
        data_source.add_book_stream_listener(self._on_book_stream)

    # ------------------------------------------------------------------ public state
    @property
    def data_source(self) -> OrderBookTrackerDataSource:
        return self._data_source

    @property
    def order_books(self) -> Mapping[str, OrderBook]:
        """The tracked books by pair: a read-only live view (no copy per call; price queries go
        through it on every call). Copy it (``dict(...)``) to iterate across an ``await``."""
        return self._books_view

    @property
    def trading_pairs(self) -> list[str]:
        return list(self._syncs)

    @property
    def ready(self) -> bool:
        """True when every tracked book is ready (see :meth:`is_ready`), and there is one."""
        return bool(self._syncs) and all(self.is_ready(pair) for pair in self._syncs)

    def is_ready(self, trading_pair: str) -> bool:
        """True when the pair's book holds a synchronised snapshot and its stream is live."""
        sync = self._syncs.get(trading_pair)
        return sync is not None and sync.ready and self._data_source.book_stream_live(trading_pair)

    def metrics(self, trading_pair: str) -> PairMetrics:
        """A consistent copy of the pair's counters (KeyError for an untracked pair)."""
        return self._syncs[trading_pair].metrics_snapshot()

    def snapshot_failures(self, trading_pair: str) -> int:
        return self._snapshot_failures.get(trading_pair, 0)

    def last_trade_price(self, trading_pair: str) -> Decimal:
        return self._syncs[trading_pair].order_book.last_trade_price

    def add_trade_listener(self, listener: TradeListener) -> None:
        self._trade_listeners.append(listener)

    def remove_trade_listener(self, listener: TradeListener) -> None:
        self._trade_listeners.remove(listener)

    async def wait_ready(self) -> None:
        """Return once :attr:`ready` (wrap in ``asyncio.wait_for`` for a deadline)."""
        while not self.ready:
            self._snapshot_installed.clear()
            await self._snapshot_installed.wait()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._spawn(self._run_subscriptions(), "order-book-tracker:subscriptions")
        self._spawn(self._diff_loop(), "order-book-tracker:diffs")
        source = self._data_source
        trades = self._consume(source.trade_queue, self._handle_trade, "trade")
        self._spawn(trades, "order-book-tracker:trades")
        self._spawn(
            self._consume(source.snapshot_queue, self._handle_ws_snapshot, "snapshot"),
            "order-book-tracker:ws-snapshots",
        )
        self._spawn(self._refresh_loop(), "order-book-tracker:refresh")
        for pair in self._syncs:
            self._request_snapshot(pair, initial=True)

    async def stop(self) -> None:
        """Cancel every task the tracker owns and wait for them to finish."""
        self._running = False
        tasks = list(self._tasks)  # the snapshot fetches included
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._fetch_tasks.clear()

    async def add_trading_pair(self, trading_pair: str) -> bool:
        """Start tracking a pair at runtime; False if it is already tracked or subscribing fails."""
        if trading_pair in self._syncs:
            return False
        self._add_sync(trading_pair)  # buffer from now on, before any frame can arrive
        if trading_pair not in self._data_source.trading_pairs:
            self._data_source.trading_pairs.append(trading_pair)
        if self._running:
            if not await self._data_source.subscribe_to_trading_pair(trading_pair):
                _LOG.warning("%s: subscription failed; not tracked", trading_pair)
                self._drop_pair(trading_pair)
                return False
            self._request_snapshot(trading_pair, initial=True)
        return True

    async def remove_trading_pair(self, trading_pair: str) -> bool:
        """Stop tracking a pair; False if it was not tracked."""
        if trading_pair not in self._syncs:
            return False
        self._drop_pair(trading_pair)
        if self._running:
            await self._data_source.unsubscribe_from_trading_pair(trading_pair)
        return True

    def request_resync(self, trading_pair: str, reason: str) -> None:
        """Resync one book from a fresh snapshot (e.g. after a reconnect)."""
        sync = self._syncs.get(trading_pair)
        if sync is not None and sync.request_resync(reason) and self._running:
            self._request_snapshot(trading_pair)

    # ------------------------------------------------------------------ internals
    def _on_book_stream(self, pair: str, live: bool) -> None:
        """The data source's report that ``pair``'s book stream went up or down."""
        sync = self._syncs.get(pair)
        if sync is None or not self._running:
            return  # untracked, or stopping: connections closing on stop are not a failure
        if not live:
            # Whatever arrives from now on may have a hole behind it: not ready, buffer, and take
            # the next snapshot only once the stream is back (a snapshot now could not be bridged).
            seen = self._stream_seen.get(pair)
            if seen is not None:
                seen.clear()
            sync.request_resync("book stream down")
            return
        # A snapshot installed while the stream was down needs nothing more: until a diff bridges
        # it, the first diff that arrives must (the continuity rule), or the book resyncs.
        if sync.awaiting_snapshot:
            self._request_snapshot(pair, initial=True)  # no-op while a fetch is running
        self._snapshot_installed.set()  # wake wait_ready: the pair may be ready now

    def _add_sync(self, pair: str) -> None:
        self._stream_seen[pair] = asyncio.Event()
        sync = self._syncs[pair] = BookSynchronizer(
            pair,
            self._data_source.book_sync_rule,
            verify_checksum=self._data_source.verify_checksum,
            max_buffer=self._max_buffer,
        )
        self._books[pair] = sync.order_book

    def _drop_pair(self, pair: str) -> None:
        self._syncs.pop(pair, None)
        self._books.pop(pair, None)
        self._stream_seen.pop(pair, None)
        self._last_snapshot_at.pop(pair, None)
        task = self._fetch_tasks.pop(pair, None)
        if task is not None:
            task.cancel()
        if pair in self._data_source.trading_pairs:
            self._data_source.trading_pairs.remove(pair)
        self._snapshot_installed.set()  # the remaining pairs may all be ready now: wake wait_ready

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOG.error("task %s died", task.get_name(), exc_info=task.exception())

    def _request_snapshot(self, pair: str, initial: bool = False) -> None:
        if pair in self._fetch_tasks or pair not in self._syncs:
            return
        # In _tasks too, so that stop() also awaits a fetch cancelled by remove_trading_pair.
        self._fetch_tasks[pair] = self._spawn(
            self._fetch_snapshot(pair, initial), f"order-book-tracker:snapshot:{pair}"
        )

    async def _fetch_snapshot(self, pair: str, initial: bool) -> None:
        try:
            seen = self._stream_seen.get(pair)
            if initial and seen is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(seen.wait(), self._first_diff_wait)
            await self._fetch_until_synced(pair)
        finally:
            # Deregister here, not in a done callback: a gap detected right after this returns
            # must be able to start a new fetch at once.
            if self._fetch_tasks.get(pair) is asyncio.current_task():
                del self._fetch_tasks[pair]

    async def _fetch_until_synced(self, pair: str) -> None:
        """Fetch and install snapshots until the pair is synchronised (backoff on failure)."""
        delay = self._retry_delay
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await self._data_source.fetch_snapshot(pair)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._snapshot_failures[pair] = self._snapshot_failures.get(pair, 0) + 1
                _LOG.warning("%s: snapshot fetch failed (%r); retrying in %.2fs", pair, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_delay)
                continue
            sync = self._syncs.get(pair)
            if sync is None:
                return  # removed while fetching
            self._last_snapshot_at[pair] = loop.time()
            try:
                still_needed = sync.on_snapshot(message)
            except Exception:  # a bug or an unexpected message shape: retry, never stall the pair
                sync.metrics.malformed += 1
                _LOG.exception("%s: snapshot could not be installed; fetching another", pair)
                still_needed = True
            else:
                self._snapshot_applied(pair, sync)
            if not still_needed:
                return
            await asyncio.sleep(delay)  # the snapshot was too old for the buffered diffs
            delay = min(delay * 2, self._max_retry_delay)

    def _snapshot_applied(self, pair: str, sync: BookSynchronizer) -> None:
        self._snapshot_installed.set()
        self._notify_book(pair, sync)

    def _notify_book(self, pair: str, sync: BookSynchronizer) -> None:
        listener = self._book_listener
        if listener is not None and sync.ready:
            try:
                listener(pair, sync.order_book)
            except Exception:
                _LOG.exception("%s: order book listener failed", pair)

    def _handle_diff(self, message: OrderBookMessage) -> None:
        sync = self._syncs.get(message.trading_pair)
        if sync is None:
            self.unknown_pair_messages += 1
            return
        if sync.awaiting_snapshot:
            seen = self._stream_seen.get(message.trading_pair)
            if seen is not None:
                seen.set()
        try:
            if sync.on_diff(message) and self._running:
                self._request_snapshot(message.trading_pair)
        except Exception:
            sync.metrics.malformed += 1
            _LOG.exception("%s: diff could not be processed; skipped", message.trading_pair)
            return
        self._notify_book(message.trading_pair, sync)

    async def _diff_loop(self) -> None:
        queue = self._data_source.diff_queue
        while True:
            self._handle_diff(await queue.get())
            queue.task_done()
            while not queue.empty():  # drain what is already there without yielding per item
                self._handle_diff(queue.get_nowait())
                queue.task_done()

    async def _consume(
        self, queue: asyncio.Queue[OrderBookMessage], handle: MessageHandler, what: str
    ) -> None:
        """Hand each message of ``queue`` to ``handle`` with its pair's synchroniser."""
        while True:
            message = await queue.get()
            queue.task_done()  # processed synchronously below: join() returns once it is done
            sync = self._syncs.get(message.trading_pair)
            if sync is None:
                self.unknown_pair_messages += 1
                continue
            try:
                handle(message, sync)
            except Exception:
                sync.metrics.malformed += 1
                _LOG.exception("%s: %s could not be processed; skipped", message.trading_pair, what)

    def _handle_trade(self, message: OrderBookMessage, sync: BookSynchronizer) -> None:
        sync.order_book.apply_trade(message)
        sync.note_trade()
        for listener in list(self._trade_listeners):
            try:
                listener(message)
            except Exception:
                _LOG.exception("%s: trade listener failed", message.trading_pair)

    def _handle_ws_snapshot(self, message: OrderBookMessage, sync: BookSynchronizer) -> None:
        """A snapshot pushed by the venue over the WebSocket (some venues send them)."""
        pair = message.trading_pair
        if sync.on_snapshot(message) and self._running:
            self._request_snapshot(pair)
        else:
            self._last_snapshot_at[pair] = asyncio.get_running_loop().time()
        self._snapshot_applied(pair, sync)

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        period = min(max(self._refresh_interval / 4, 0.005), 60.0)
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for pair, sync in list(self._syncs.items()):
                last = self._last_snapshot_at.get(pair)
                if last is None or pair in self._fetch_tasks or now - last < self._refresh_interval:
                    continue
                if sync.begin_refresh():
                    self._request_snapshot(pair)

    async def _run_subscriptions(self) -> None:
        delay = self._retry_delay
        while True:
            try:
                await self._data_source.listen_for_subscriptions()
                _LOG.warning("subscription loop returned; restarting in %.2fs", delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOG.exception("subscription loop failed; restarting in %.2fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_delay)
            for pair in list(self._syncs):
                self.request_resync(pair, "subscription loop restarted")
