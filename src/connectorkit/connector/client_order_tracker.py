"""ClientOrderTracker: the one place that turns order and trade reports into order events.

The connector feeds it every :class:`OrderUpdate` and :class:`TradeUpdate` it gets, from the user
stream and from REST polling alike, in whatever order they arrive. The tracker merges them into
the :class:`InFlightOrder` (see the rules there) and emits exactly one event per transition, in
the order the transitions really happened on the exchange:

* ``BuyOrderCreated``/``SellOrderCreated`` when the order leaves PENDING_CREATE for a live or
  filled state (OPEN, PARTIALLY_FILLED, FILLED; issue 4). A fill or a FILLED status that arrives
  before the placement answer proves the exchange accepted the order, so "created" is emitted
  first, then the rest. An order that goes straight to CANCELED (e.g. an IOC order that expired
  unfilled) or FAILED was never live: it emits only OrderCancelled/OrderExpired or OrderFailure.
* ``OrderFilled`` once per new trade id (its timestamp is the exchange's fill time).
* ``BuyOrderCompleted``/``SellOrderCompleted`` when the executed amount reaches the order amount.
  A FILLED status that arrives before its trades waits ``fill_grace_period`` seconds for them
  (an owned, named task per order); if they do not all come, the order completes with what
  arrived and a warning is logged. Trades arriving later still emit ``OrderFilled``.
* ``OrderCancelled`` (or ``OrderExpired`` when the update's ``misc_updates["expired"]`` is true).
* ``OrderFailure`` for FAILED, with ``misc_updates["error_type"]``/``["error_message"]``.

Finished orders stay in a bounded "recently finished" set (by age and count) so that late fills
still land; a late fill of a cancelled order is emitted as ``OrderFilled`` after the cancel,
because the exchange only revealed it then.

Lost orders: the connector calls :meth:`ClientOrderTracker.process_order_not_found` only when
the exchange answered "order not found" (never for timeouts, network errors or 5xx, which say
nothing about the order). After ``lost_order_count_limit`` such answers in a row (any update from
the exchange resets the count) the order is failed locally, reported with ``OrderFailure`` and
kept in :attr:`ClientOrderTracker.lost_orders`, where it still receives fills and from which it
leaves when the exchange reports it FILLED or CANCELED.

All processing is synchronous and runs on the event loop thread; no locks are needed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from connectorkit.core.decimal_utils import InvalidFieldError, split_trading_pair
from connectorkit.core.enums import OrderState, TradeType
from connectorkit.core.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    MarketEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFailureEvent,
    OrderFilledEvent,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connectorkit.core.in_flight_order import InFlightOrder, InFlightOrderJson, OrderUpdate, TradeUpdate

logger = logging.getLogger(__name__)

_LIVE_OR_FILLED = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.FILLED})
"""Leaving PENDING_CREATE for one of these states is what "created" reports."""

ORDER_NOT_FOUND_ERROR_TYPE = "OrderNotFound"
"""``error_type`` of the OrderFailure event emitted for a lost order."""


def _check_setting(value: object, field: str, minimum: int, *, integer: bool) -> None:
    """Reject a tracker setting that is not a number >= ``minimum`` (or not an int when it must be)."""
    allowed = int if integer else int | float
    if isinstance(value, allowed) and not isinstance(value, bool) and minimum <= value < math.inf:
        return
    kind = "an int" if integer else "a finite number"
    raise InvalidFieldError(field, f"expected {kind} >= {minimum}, got {value!r}")


class OrderEventSink(Protocol):
    """What the tracker needs from its owner: somewhere to send events (an EventPublisher or a
    connector). If no ``clock`` is given to the tracker, the owner must also have a
    ``current_timestamp`` (seconds, float) attribute or property."""

    def trigger_event(self, event: MarketEvent, payload: Any, /) -> None: ...


class ClientOrderTracker:
    """Active, recently finished and lost orders of one connector, and their events."""

    def __init__(
        self,
        connector: OrderEventSink,
        *,
        clock: Callable[[], float] | None = None,
        lost_order_count_limit: int = 3,
        fill_grace_period: float = 5.0,
        finished_order_retention: float = 120.0,
        finished_order_max_count: int = 1000,
    ) -> None:
        if not callable(getattr(connector, "trigger_event", None)):
            raise TypeError("connector must have a trigger_event(event, payload) method")
        if clock is None:
            if not hasattr(connector, "current_timestamp"):
                raise TypeError("pass clock=... or give the connector a current_timestamp attribute")
            owner: Any = connector

            def clock() -> float:
                return float(owner.current_timestamp)

        _check_setting(lost_order_count_limit, "lost_order_count_limit", 1, integer=True)
        _check_setting(finished_order_max_count, "finished_order_max_count", 0, integer=True)
        _check_setting(fill_grace_period, "fill_grace_period", 0, integer=False)
        _check_setting(finished_order_retention, "finished_order_retention", 0, integer=False)
        self._connector = connector
        self._clock: Callable[[], float] = clock
        self._lost_order_count_limit = lost_order_count_limit
        self._fill_grace_period = fill_grace_period
        self._finished_retention = finished_order_retention
        self._finished_max_count = finished_order_max_count

        self._active: dict[str, InFlightOrder] = {}
        self._lost: dict[str, InFlightOrder] = {}
        self._finished: OrderedDict[str, tuple[float, InFlightOrder]] = OrderedDict()
        self._by_exchange_id: dict[str, str] = {}
        self._not_found_counts: dict[str, int] = {}
        self._awaiting_trades: set[str] = set()
        self._grace_tasks: dict[str, asyncio.Task[None]] = {}

        self.unknown_update_count = 0
        """Updates for orders this tracker does not know (another process's orders, or pruned)."""
        self.event_error_count = 0
        """Times the owner's trigger_event raised (the tracker's state stays consistent)."""
        self.restore_error_count = 0
        """Entries of restore_tracking_states that were malformed and skipped."""

    # -- views -----------------------------------------------------------------------------------

    @property
    def active_orders(self) -> dict[str, InFlightOrder]:
        """Orders being worked: not yet final, or FILLED and still waiting for their trades."""
        return dict(self._active)

    @property
    def lost_orders(self) -> dict[str, InFlightOrder]:
        return dict(self._lost)

    @property
    def recently_finished_orders(self) -> dict[str, InFlightOrder]:
        self._prune_finished()
        return {cid: order for cid, (_, order) in self._finished.items()}

    @property
    def all_fillable_orders(self) -> dict[str, InFlightOrder]:
        """Orders whose fills may still be missing: poll their trades.

        Active and lost orders, plus finished orders that completed without all their trades.
        """
        self._prune_finished()
        result = {
            cid: order
            for cid, (_, order) in self._finished.items()
            if order.current_state is OrderState.FILLED and order.executed_amount_base < order.amount
        }
        result.update(self._lost)
        result.update(self._active)
        return result

    @property
    def all_updatable_orders(self) -> dict[str, InFlightOrder]:
        """Orders whose status should be polled: active ones not yet final, and lost ones."""
        result = {cid: order for cid, order in self._active.items() if not order.current_state.is_final}
        result.update(self._lost)
        return result

    @property
    def tracking_states(self) -> dict[str, InFlightOrderJson]:
        """JSON of the active and lost orders, for :meth:`restore_tracking_states` after a restart."""
        states = {cid: order.to_json() for cid, order in self._lost.items()}
        states.update({cid: order.to_json() for cid, order in self._active.items()})
        return states

    def fetch_order(
        self, client_order_id: str | None = None, exchange_order_id: str | None = None
    ) -> InFlightOrder | None:
        """Find an active, lost or recently finished order by client id, else by exchange id."""
        if client_order_id is not None:
            order = self._active.get(client_order_id) or self._lost.get(client_order_id)
            if order is not None:
                return order
            entry = self._finished.get(client_order_id)
            if entry is not None:
                return entry[1]
        if exchange_order_id is not None:
            cid = self._by_exchange_id.get(exchange_order_id)
            if cid is not None and cid != client_order_id:
                return self.fetch_order(client_order_id=cid)
        return None

    # -- tracking ----------------------------------------------------------------------------------

    def start_tracking_order(self, order: InFlightOrder) -> None:
        """Track ``order``; call it before sending the placement request."""
        cid = order.client_order_id
        if self.fetch_order(client_order_id=cid) is not None:
            raise ValueError(f"order {cid} is already tracked")
        self._active[cid] = order
        self._index_exchange_id(order)

    def stop_tracking_order(self, client_order_id: str) -> None:
        """Stop working an order without emitting anything; it stays findable (and receives late
        fills) for the retention period."""
        order = self._active.get(client_order_id) or self._lost.get(client_order_id)
        if order is not None:
            self._finish(order)

    def restore_tracking_states(self, states: Mapping[str, Any]) -> int:
        """Re-create orders from :attr:`tracking_states` JSON; returns how many were restored.

        Malformed entries are logged, counted and skipped; orders already tracked are kept as
        they are. No events are emitted. A FILLED order still missing trades waits again.
        """
        restored = 0
        for key, data in states.items():
            try:
                order = InFlightOrder.from_json(data)
            except (ValueError, TypeError) as exc:
                self.restore_error_count += 1
                logger.warning("skipping malformed tracking state %r: %s", key, exc)
                continue
            cid = order.client_order_id
            if cid != key:
                self.restore_error_count += 1
                logger.warning("skipping tracking state %r: it holds order %r", key, cid)
                continue
            if self.fetch_order(client_order_id=cid) is not None:
                logger.debug("order %s already tracked; restored state ignored", cid)
                continue
            if order.is_lost:
                self._lost[cid] = order
            elif self._needs_trades(order):
                self._active[cid] = order
                self._awaiting_trades.add(cid)
            elif order.is_done:
                self._finished[cid] = (self._clock(), order)
            else:
                self._active[cid] = order
            self._index_exchange_id(order)
            restored += 1
        self._prune_finished()
        self._arm_pending_grace_timers()
        return restored

    # -- processing ----------------------------------------------------------------------------------

    def process_order_update(self, update: OrderUpdate) -> bool:
        """Merge a status report and emit the events of the transition; True if the order changed."""
        self._arm_pending_grace_timers()
        order = self.fetch_order(update.client_order_id, update.exchange_order_id)
        if order is None:
            self._count_unknown("order update", update.client_order_id, update.exchange_order_id)
            return False
        # The exchange knows the order, even if this report changes nothing (a repeated OPEN from
        # polling): "not found" answers only count toward the lost limit when they come in a row.
        self._not_found_counts.pop(order.client_order_id, None)
        previous = order.current_state
        if not order.update_with_order_update(update):
            return False
        self._index_exchange_id(order)
        if self._is_tracked(order.client_order_id) and order.current_state is not previous:
            self._on_state_change(order, previous, update.misc_updates or {})
        return True

    def process_trade_update(self, trade: TradeUpdate) -> bool:
        """Merge a fill; emits OrderFilled (and created/completed as due) if the trade id is new."""
        self._arm_pending_grace_timers()
        order = self.fetch_order(trade.client_order_id, trade.exchange_order_id)
        if order is None:
            self._count_unknown("trade " + trade.trade_id, trade.client_order_id, trade.exchange_order_id)
            return False
        self._not_found_counts.pop(order.client_order_id, None)  # a fill, even a repeated one, proves it
        previous = order.current_state
        applied = order.update_with_trade_update(trade)
        self._index_exchange_id(order)
        if not applied:
            return False
        cid = order.client_order_id
        tracked = self._is_tracked(cid)
        if tracked and previous is OrderState.PENDING_CREATE and order.current_state in _LIVE_OR_FILLED:
            self._emit_created(order)
        self._emit(
            MarketEvent.OrderFilled,
            OrderFilledEvent(
                timestamp=trade.fill_timestamp,
                order_id=cid,
                exchange_order_id=order.exchange_order_id,
                trading_pair=order.trading_pair,
                trade_type=order.trade_type,
                order_type=order.order_type,
                price=trade.fill_price,
                amount=trade.fill_base_amount,
                trade_fee=trade.fee,
                exchange_trade_id=trade.trade_id,
                leverage=order.leverage,
                position=order.position,
                is_taker=trade.is_taker,
            ),
        )
        if tracked and order.is_filled:
            self._complete_or_wait(order)
        return True

    def process_order_not_found(self, client_order_id: str) -> bool:
        """Count one "order not found" answer; True when it made the order lost.

        Call it only for errors classified as "order not found". For Binance (Spot API docs,
        "Error codes"): -2013 NO_SUCH_ORDER "Order does not exist." on a status query, and -2011
        CANCEL_REJECTED with the message "Unknown order sent." on a cancel. Never report timeouts,
        network errors, 5xx or -1006/-1007 ("execution status unknown"): they say nothing about
        whether the order exists.
        """
        order = self._active.get(client_order_id)
        if order is None or order.current_state.is_final:
            return False
        count = self._not_found_counts.get(client_order_id, 0) + 1
        if count < self._lost_order_count_limit:
            self._not_found_counts[client_order_id] = count
            return False
        self._not_found_counts.pop(client_order_id, None)
        order.mark_lost(self._clock())
        del self._active[client_order_id]
        self._lost[client_order_id] = order
        logger.warning("order %s is lost: the exchange did not find it %d times", client_order_id, count)
        self._emit_failure(
            order, ORDER_NOT_FOUND_ERROR_TYPE, f"the exchange did not find the order {count} times in a row"
        )
        return True

    async def stop(self) -> None:
        """Cancel and await the grace-period tasks. Orders waiting for trades keep waiting: the
        next update processed inside a running loop re-arms their timers."""
        tasks = list(self._grace_tasks.values())
        self._grace_tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- transitions ---------------------------------------------------------------------------------

    def _on_state_change(self, order: InFlightOrder, previous: OrderState, misc: Mapping[str, Any]) -> None:
        new = order.current_state
        cid = order.client_order_id
        if cid in self._lost and not order.is_lost:
            # The exchange reported a final state: no longer lost, even while FILLED waits for trades.
            self._active[cid] = self._lost.pop(cid)
        if previous is OrderState.PENDING_CREATE and new in _LIVE_OR_FILLED:
            self._emit_created(order)
        if new is OrderState.CANCELED:
            # timestamp, order_id, exchange_order_id, trading_pair
            fields = (self._clock(), order.client_order_id, order.exchange_order_id, order.trading_pair)
            if misc.get("expired") is True:
                self._emit(MarketEvent.OrderExpired, OrderExpiredEvent(*fields))
            else:
                self._emit(MarketEvent.OrderCancelled, OrderCancelledEvent(*fields))
            self._finish(order)
        elif new is OrderState.FAILED:
            self._emit_failure(
                order, str(misc.get("error_type", "OrderFailed")), str(misc.get("error_message", ""))
            )
            self._finish(order)
        elif order.is_filled:
            self._complete_or_wait(order)

    @staticmethod
    def _needs_trades(order: InFlightOrder) -> bool:
        return order.current_state is OrderState.FILLED and order.executed_amount_base < order.amount

    def _complete_or_wait(self, order: InFlightOrder) -> None:
        if self._needs_trades(order):
            self._awaiting_trades.add(order.client_order_id)
            self._arm_grace_timer(order.client_order_id)
        else:
            self._complete(order)

    def _complete(self, order: InFlightOrder) -> None:
        base, quote = split_trading_pair(order.trading_pair)
        is_buy = order.trade_type is TradeType.BUY
        event_cls = BuyOrderCompletedEvent if is_buy else SellOrderCompletedEvent
        tag = MarketEvent.BuyOrderCompleted if is_buy else MarketEvent.SellOrderCompleted
        self._emit(
            tag,
            event_cls(
                timestamp=self._clock(),
                order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id,
                trading_pair=order.trading_pair,
                base_asset=base,
                quote_asset=quote,
                base_asset_amount=order.executed_amount_base,
                quote_asset_amount=order.executed_amount_quote,
                order_type=order.order_type,
            ),
        )
        self._finish(order)

    def _finish(self, order: InFlightOrder) -> None:
        cid = order.client_order_id
        self._active.pop(cid, None)
        self._lost.pop(cid, None)
        self._awaiting_trades.discard(cid)
        self._not_found_counts.pop(cid, None)
        task = self._grace_tasks.pop(cid, None)
        if task is not None:
            task.cancel()
        self._finished[cid] = (self._clock(), order)
        self._finished.move_to_end(cid)
        self._prune_finished()

    # -- fill grace period ---------------------------------------------------------------------------

    def _arm_grace_timer(self, client_order_id: str) -> None:
        if client_order_id in self._grace_tasks:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: armed by the next update processed inside one
        task = asyncio.create_task(
            self._complete_after_grace(client_order_id),
            name=f"ClientOrderTracker:fill-grace:{client_order_id}",
        )
        self._grace_tasks[client_order_id] = task
        task.add_done_callback(self._on_grace_task_done)

    def _arm_pending_grace_timers(self) -> None:
        for cid in self._awaiting_trades - self._grace_tasks.keys():
            self._arm_grace_timer(cid)

    async def _complete_after_grace(self, client_order_id: str) -> None:
        await asyncio.sleep(self._fill_grace_period)
        if self._grace_tasks.get(client_order_id) is asyncio.current_task():
            del self._grace_tasks[client_order_id]  # so that completing does not cancel this task
        order = self._active.get(client_order_id) or self._lost.get(client_order_id)
        if order is None or client_order_id not in self._awaiting_trades:
            return
        logger.warning(
            "order %s was reported FILLED but only %s of %s arrived in %.1fs; completing with what arrived",
            client_order_id, order.executed_amount_base, order.amount, self._fill_grace_period,
        )
        self._complete(order)

    def _on_grace_task_done(self, task: asyncio.Task[None]) -> None:
        for cid, owned in list(self._grace_tasks.items()):
            if owned is task:
                del self._grace_tasks[cid]
        if not task.cancelled() and task.exception() is not None:
            logger.error("task %s died", task.get_name(), exc_info=task.exception())

    # -- helpers -----------------------------------------------------------------------------------------

    def _is_tracked(self, client_order_id: str) -> bool:
        return client_order_id in self._active or client_order_id in self._lost

    def _index_exchange_id(self, order: InFlightOrder) -> None:
        if order.exchange_order_id is not None:
            self._by_exchange_id[order.exchange_order_id] = order.client_order_id

    def _prune_finished(self) -> None:
        horizon = self._clock() - self._finished_retention
        while self._finished:
            cid, (finished_at, order) = next(iter(self._finished.items()))
            if finished_at >= horizon and len(self._finished) <= self._finished_max_count:
                break
            del self._finished[cid]
            exchange_id = order.exchange_order_id
            if exchange_id is not None and self._by_exchange_id.get(exchange_id) == cid:
                del self._by_exchange_id[exchange_id]

    def _count_unknown(self, what: str, client_order_id: str | None, exchange_order_id: str | None) -> None:
        self.unknown_update_count += 1
        logger.debug("%s for unknown order (client id %s, exchange id %s) ignored",
                     what, client_order_id, exchange_order_id)

    def _emit_created(self, order: InFlightOrder) -> None:
        is_buy = order.trade_type is TradeType.BUY
        event_cls = BuyOrderCreatedEvent if is_buy else SellOrderCreatedEvent
        self._emit(
            MarketEvent.BuyOrderCreated if is_buy else MarketEvent.SellOrderCreated,
            event_cls(
                timestamp=self._clock(),
                order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id,
                trading_pair=order.trading_pair,
                order_type=order.order_type,
                amount=order.amount,
                price=order.price,
                creation_timestamp=order.creation_timestamp,
                leverage=order.leverage,
                position=order.position,
            ),
        )

    def _emit_failure(self, order: InFlightOrder, error_type: str, error_message: str) -> None:
        self._emit(
            MarketEvent.OrderFailure,
            OrderFailureEvent(
                timestamp=self._clock(),
                order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id,
                trading_pair=order.trading_pair,
                order_type=order.order_type,
                error_type=error_type,
                error_message=error_message,
            ),
        )

    def _emit(self, tag: MarketEvent, payload: object) -> None:
        try:
            self._connector.trigger_event(tag, payload)
        except Exception:
            self.event_error_count += 1
            logger.exception("trigger_event(%s) raised; tracker state is unaffected", tag.name)
