"""The order pipeline shared by every product: engine + ledger (accounting hook) + listeners."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.engine import ZERO, Fill, MatchingEngine, Order, OrderStatus, SymbolBook


@dataclass(frozen=True, slots=True)
class LegCharge:
    """What one side of a fill paid: commission (in ``commission_asset``) and, on futures, realized PnL."""

    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class FillCharges:
    maker: LegCharge
    taker: LegCharge


@dataclass(frozen=True, slots=True)
class Execution:
    """One change of one order, as an execution report describes it.

    ``exec_type`` is Binance's execution type: NEW, TRADE, CANCELED, EXPIRED, REJECTED.
    """

    order: Order
    exec_type: str
    fill: Fill | None = None
    charge: LegCharge | None = None
    is_maker: bool = False
    # Snapshot of the order's mutable fields at this event (the order object moves on).
    status: OrderStatus = OrderStatus.NEW
    executed_qty: Decimal = ZERO
    cum_quote_qty: Decimal = ZERO


class Ledger(Protocol):
    """Accounting hook: spot balances (spot.ledger.SpotLedger) or futures margin/positions."""

    def reserve(self, order: Order, book: SymbolBook) -> None:
        """Check and lock what ``order`` needs before it trades; raise ApiError to refuse it."""

    def on_fill(self, fill: Fill) -> FillCharges:
        """Move assets for one fill (both legs) and return what each leg was charged."""
        ...

    def maker_limit(
        self, taker: Order, maker: Order, earlier: Sequence[tuple[Order, Decimal]]
    ) -> Decimal | None:
        """The most ``maker`` may trade against ``taker`` now (engine ``MakerLimit``); None = no cap.

        A capped maker is expired by the engine after trading the cap (futures reduce-only orders).
        """
        ...

    def release(self, order: Order) -> None:
        """``order`` is final: unlock whatever is still reserved for it."""


class VenueListener(Protocol):
    def on_executions(self, executions: list[Execution]) -> None: ...


@dataclass(slots=True)
class PlaceResult:
    order: Order
    executions: list[Execution] = field(default_factory=list)

    @property
    def fills(self) -> list[Execution]:
        """The taker order's own TRADE executions."""
        return [e for e in self.executions if e.order is self.order and e.exec_type == "TRADE"]


def _snapshot(order: Order, exec_type: str) -> Execution:
    """An execution without a fill, carrying the order's current state."""
    return Execution(
        order,
        exec_type,
        status=order.status,
        executed_qty=order.executed_qty,
        cum_quote_qty=order.cum_quote_qty,
    )


class Venue:
    def __init__(self, engine: MatchingEngine, ledger: Ledger, clock: SandboxClock) -> None:
        self.engine = engine
        self.ledger = ledger
        self.clock = clock
        self.listeners: list[VenueListener] = []

    def _publish(self, executions: list[Execution]) -> None:
        for listener in self.listeners:
            listener.on_executions(executions)

    def place(self, order: Order) -> PlaceResult:
        """Reserve, match, settle. Engine refusals (WouldTake) propagate after nothing changed."""
        book = self.engine.book(order.symbol)
        now = self.clock.now_ms()
        self.ledger.reserve(order, book)
        try:
            sweep = book.sweep(order, now, self.ledger.maker_limit)
        except Exception:
            self.ledger.release(order)
            raise
        fills = sweep.fills
        knocked_out = iter(sweep.knocked_out)
        next_knock_out = next(knocked_out, None)
        result = PlaceResult(order)
        # Binance reports the taker's NEW first, then each trade for both sides. The order object already
        # holds its final state; the executions carry the state as of each event.
        final_status = order.status
        result.executions.append(Execution(order, "NEW", status=OrderStatus.NEW))
        executed = ZERO
        cum_quote = ZERO
        for i, fill in enumerate([*fills, None]):
            # Makers the ledger's cap expired before this fill (after their own capped trade, if any).
            while next_knock_out is not None and next_knock_out[0] == i:
                expired = next_knock_out[1]
                self.ledger.release(expired)
                result.executions.append(_snapshot(expired, "EXPIRED"))
                next_knock_out = next(knocked_out, None)
            if fill is None:
                break
            charges = self.ledger.on_fill(fill)
            executed += fill.qty
            cum_quote += fill.quote_qty
            maker = fill.maker  # each maker trades at most once per incoming order
            maker_status = OrderStatus.FILLED if maker.remaining <= ZERO else OrderStatus.PARTIALLY_FILLED
            result.executions.append(
                Execution(
                    maker,
                    "TRADE",
                    fill,
                    charges.maker,
                    True,
                    maker_status,
                    maker.executed_qty,
                    maker.cum_quote_qty,
                )
            )
            if maker_status is OrderStatus.FILLED:
                self.ledger.release(maker)
            last = i == len(fills) - 1
            taker_status = (
                OrderStatus.FILLED
                if last and final_status is OrderStatus.FILLED
                else (OrderStatus.PARTIALLY_FILLED)
            )
            result.executions.append(
                Execution(order, "TRADE", fill, charges.taker, False, taker_status, executed, cum_quote)
            )
        if order.status is OrderStatus.EXPIRED:
            result.executions.append(_snapshot(order, "EXPIRED"))
        if order.status.is_final:
            self.ledger.release(order)
        self._publish(result.executions)
        return result

    def cancel(self, symbol: str, order_id: int, status: OrderStatus = OrderStatus.CANCELED) -> Order:
        """Cancel (or expire) an open order; raises engine.UnknownOrder."""
        order = self.engine.book(symbol).cancel(order_id, self.clock.now_ms(), status)
        self.ledger.release(order)
        self._publish([_snapshot(order, "CANCELED" if status is OrderStatus.CANCELED else "EXPIRED")])
        return order
