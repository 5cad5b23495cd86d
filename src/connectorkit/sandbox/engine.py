"""Pure price-time-priority matching engine (no I/O, no clock, no accounts).

Binance semantics that matter here (Spot API docs, "Enums" → order status / time in force):
* A taker matches the best opposite price first, FIFO inside a price level; trades happen at the
  resting (maker) order's price.
* LIMIT GTC rests its remainder; IOC expires its remainder; FOK trades fully or not at all (EXPIRED).
* MARKET trades until filled or the book is empty; a remainder is EXPIRED.
* LIMIT_MAKER (spot) / GTX (futures) never trade as taker: ``WouldTake`` is raised and the book is left
  untouched; the product decides the wire answer.

Accounting is not done here: see :mod:`connectorkit.sandbox.venue`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from sortedcontainers import SortedDict

ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # futures post-only


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})

MARKET_TYPES = frozenset({"MARKET"})


class EngineError(Exception):
    """Base class of engine refusals (the product maps them to wire errors)."""


class WouldTake(EngineError):
    """A post-only order (LIMIT_MAKER / GTX) would have traded immediately."""


class UnknownOrder(EngineError):
    """No open order with that id on this book."""


@dataclass(slots=True, eq=False)
class Order:
    """One order. Mutable: the engine updates fills and status in place."""

    order_id: int
    symbol: str
    account_id: int
    client_order_id: str
    side: Side
    type: str
    time_in_force: TimeInForce | None
    price: Decimal | None
    orig_qty: Decimal
    time: int
    orig_quote_qty: Decimal | None = None
    executed_qty: Decimal = ZERO
    cum_quote_qty: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    update_time: int = 0
    working_time: int = -1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_market(self) -> bool:
        return self.type in MARKET_TYPES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_final


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade between a resting maker order and an incoming taker order."""

    trade_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    maker: Order
    taker: Order

    @property
    def buyer(self) -> Order:
        return self.taker if self.taker.side is Side.BUY else self.maker

    @property
    def seller(self) -> Order:
        return self.taker if self.taker.side is Side.SELL else self.maker

    @property
    def is_buyer_maker(self) -> bool:
        return self.maker.side is Side.BUY


MakerLimit = Callable[["Order", "Order", Sequence[tuple["Order", Decimal]]], "Decimal | None"]
"""``(taker, maker, earlier) -> cap``: the most ``maker`` may trade now, or None for no cap.

``earlier`` lists the ``(maker, qty)`` trades this sweep already made, in order (the product's own
accounts are only updated after the sweep, so a cap that depends on them must add these). A maker
whose cap is below its remaining quantity trades at most the cap and is then expired: it leaves the
book with status EXPIRED (futures: a reduce-only order that would otherwise open a position).
"""


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one incoming order did: its fills, and the makers the ``MakerLimit`` expired.

    ``knocked_out`` holds ``(fills made before the expiry, maker)`` so that events can be emitted in
    execution order (a capped maker's own trade, if any, comes first).
    """

    fills: list[Fill]
    knocked_out: list[tuple[int, Order]]


@dataclass(frozen=True, slots=True)
class DepthChanges:
    """Price levels changed since the last drain; qty is the new level total (0 = level removed)."""

    first_update_id: int
    final_update_id: int
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


class _Level:
    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: deque[Order] = deque()
        self.total = ZERO


class SymbolBook:
    """Order book of one symbol. ``step_size`` is used to size MARKET orders given by quote qty."""

    def __init__(self, symbol: str, step_size: Decimal = Decimal("0.00000001")) -> None:
        self.symbol = symbol
        self.step_size = step_size
        # Bids keyed by negated price so that iteration order is best-first on both sides.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._orders: dict[int, Order] = {}
        self.update_id = 0
        self._next_trade_id = 1
        self._pending_first: int | None = None
        self._dirty_bids: set[Decimal] = set()
        self._dirty_asks: set[Decimal] = set()
        self.last_trade: Fill | None = None

    # ---- read side -------------------------------------------------------------------------------
    def _side(self, side: Side) -> SortedDict:
        return self._bids if side is Side.BUY else self._asks

    @staticmethod
    def _key(side: Side, price: Decimal) -> Decimal:
        return -price if side is Side.BUY else price

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        if not self._bids:
            return None
        key, level = self._bids.peekitem(0)
        return -key, level.total

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        if not self._asks:
            return None
        key, level = self._asks.peekitem(0)
        return key, level.total

    def depth(
        self, limit: int | None = None
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = [(-k, lv.total) for k, lv in self._bids.items()[:limit]]
        asks = [(k, lv.total) for k, lv in self._asks.items()[:limit]]
        return bids, asks

    def level_qty(self, side: Side, price: Decimal) -> Decimal:
        level = self._side(side).get(self._key(side, price))
        return level.total if level is not None else ZERO

    def get(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def open_orders(self, account_id: int | None = None) -> list[Order]:
        orders = sorted(self._orders.values(), key=lambda o: o.order_id)
        if account_id is None:
            return orders
        return [o for o in orders if o.account_id == account_id]

    @property
    def next_trade_id(self) -> int:
        return self._next_trade_id

    @next_trade_id.setter
    def next_trade_id(self, value: int) -> None:
        self._next_trade_id = value

    def _crosses(self, taker: Order, maker_price: Decimal) -> bool:
        if taker.is_market or taker.price is None:
            return True
        return maker_price <= taker.price if taker.side is Side.BUY else maker_price >= taker.price

    def _makers(self, taker: Order) -> Iterator[tuple[Decimal, _Level]]:
        book = self._side(taker.side.opposite)
        for key, level in book.items():
            price = -key if taker.side.opposite is Side.BUY else key
            if not self._crosses(taker, price):
                return
            yield price, level

    def resting(self, taker: Order) -> Iterator[Order]:
        """The resting orders ``taker`` would meet, in priority order (best price, then FIFO).

        Read-only: stops at the first price ``taker`` does not cross; do not change the book while
        iterating.
        """
        for _, level in self._makers(taker):
            yield from level.orders

    def would_take(self, order: Order) -> bool:
        return next(self._makers(order), None) is not None

    def preview(self, order: Order, maker_limit: MakerLimit | None = None) -> tuple[Decimal, Decimal]:
        """(base qty, quote qty) that ``order`` would trade right now, without changing anything.

        With ``maker_limit`` the walk is per resting order and applies the caps as :meth:`submit` would.
        """
        if maker_limit is not None:
            return self._preview_capped(order, maker_limit)
        qty_left = order.remaining
        quote_left = None if order.orig_quote_qty is None else order.orig_quote_qty - order.cum_quote_qty
        traded = ZERO
        quote = ZERO
        for price, level in self._makers(order):
            avail = level.total
            if quote_left is not None:
                take = min(avail, self._round_step(quote_left / price))
            else:
                take = min(avail, qty_left)
            if take <= ZERO:
                break
            traded += take
            quote += take * price
            if quote_left is not None:
                quote_left -= take * price
            else:
                qty_left -= take
                if qty_left <= ZERO:
                    break
        return traded, quote

    def _want(self, taker: Order, price: Decimal) -> Decimal:
        """What ``taker`` still wants at ``price``: its remaining qty, or (by quote) whole steps."""
        if taker.orig_quote_qty is None:
            return taker.remaining
        return self._round_step((taker.orig_quote_qty - taker.cum_quote_qty) / price)

    def _preview_capped(self, order: Order, maker_limit: MakerLimit) -> tuple[Decimal, Decimal]:
        qty_left = order.remaining
        quote_left = None if order.orig_quote_qty is None else order.orig_quote_qty - order.cum_quote_qty
        earlier: list[tuple[Order, Decimal]] = []
        traded = ZERO
        quote = ZERO
        for maker in self.resting(order):
            assert maker.price is not None
            want = self._round_step(quote_left / maker.price) if quote_left is not None else qty_left
            if want <= ZERO:
                break
            take = min(want, maker.remaining)
            cap = maker_limit(order, maker, earlier)
            if cap is not None and cap < maker.remaining:
                take = min(want, max(cap, ZERO))
            if take <= ZERO:
                continue
            earlier.append((maker, take))
            traded += take
            quote += take * maker.price
            if quote_left is not None:
                quote_left -= take * maker.price
            else:
                qty_left -= take
        return traded, quote

    def _round_step(self, qty: Decimal) -> Decimal:
        return (qty / self.step_size).to_integral_value(rounding=ROUND_DOWN) * self.step_size

    # ---- write side ------------------------------------------------------------------------------
    def _touch(self, side: Side, price: Decimal) -> None:
        self.update_id += 1
        if self._pending_first is None:
            self._pending_first = self.update_id
        (self._dirty_bids if side is Side.BUY else self._dirty_asks).add(price)

    def skip_update_ids(self, n: int) -> None:
        """Jump the update-id sequence by ``n`` (the sequence-gap fault)."""
        self.update_id += n
        if self._pending_first is not None:
            self._pending_first += n

    def drain_changes(self) -> DepthChanges | None:
        """Levels changed since the last call (for the diff-depth stream). Single consumer."""
        if self._pending_first is None:
            return None
        bids = sorted(((p, self.level_qty(Side.BUY, p)) for p in self._dirty_bids), reverse=True)
        asks = sorted((p, self.level_qty(Side.SELL, p)) for p in self._dirty_asks)
        changes = DepthChanges(self._pending_first, self.update_id, bids, asks)
        self._pending_first = None
        self._dirty_bids.clear()
        self._dirty_asks.clear()
        return changes

    def _rest(self, order: Order) -> None:
        assert order.price is not None
        book = self._side(order.side)
        key = self._key(order.side, order.price)
        level = book.get(key)
        if level is None:
            level = book[key] = _Level()
        level.orders.append(order)
        level.total += order.remaining
        self._orders[order.order_id] = order
        self._touch(order.side, order.price)

    def _remove(self, order: Order) -> None:
        assert order.price is not None
        book = self._side(order.side)
        key = self._key(order.side, order.price)
        level = book[key]
        level.orders.remove(order)
        level.total -= order.remaining
        if not level.orders:
            del book[key]
        del self._orders[order.order_id]
        self._touch(order.side, order.price)

    def submit(self, order: Order, now_ms: int) -> list[Fill]:
        """Match ``order`` as taker; rest, expire or fill it. Returns the fills in execution order."""
        return self.sweep(order, now_ms).fills

    def sweep(self, order: Order, now_ms: int, maker_limit: MakerLimit | None = None) -> Sweep:
        """:meth:`submit`, with per-maker caps (see :data:`MakerLimit`); also reports expired makers."""
        post_only = order.type == "LIMIT_MAKER" or order.time_in_force is TimeInForce.GTX
        if post_only and self.would_take(order):
            raise WouldTake(order.order_id)
        order.update_time = now_ms
        if order.time_in_force is TimeInForce.FOK:
            traded, _ = self.preview(order, maker_limit)
            if traded < order.orig_qty:
                order.status = OrderStatus.EXPIRED
                return Sweep([], [])
        fills, knocked_out = self._match(order, now_ms, maker_limit)
        if order.orig_quote_qty is not None:
            order.status = self._quote_order_status(order)
            # MARKET by quote qty: the order's quantity is what it bought/sold.
            order.orig_qty = order.executed_qty
        elif order.executed_qty > ZERO and order.remaining <= ZERO:
            order.status = OrderStatus.FILLED
        elif order.is_market or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            order.status = OrderStatus.EXPIRED
        else:
            order.status = OrderStatus.PARTIALLY_FILLED if order.executed_qty > ZERO else OrderStatus.NEW
            order.working_time = now_ms
            self._rest(order)
        return Sweep(fills, knocked_out)

    def _quote_order_status(self, order: Order) -> OrderStatus:
        """FILLED when the quote amount is spent down to less than one step at the next price."""
        assert order.orig_quote_qty is not None
        if order.executed_qty <= ZERO:
            return OrderStatus.EXPIRED
        quote_left = order.orig_quote_qty - order.cum_quote_qty
        if quote_left <= ZERO:
            return OrderStatus.FILLED
        best = self.best_ask() if order.side is Side.BUY else self.best_bid()
        if best is None:
            return OrderStatus.EXPIRED
        return OrderStatus.FILLED if quote_left < best[0] * self.step_size else OrderStatus.EXPIRED

    def _match(
        self, taker: Order, now_ms: int, maker_limit: MakerLimit | None
    ) -> tuple[list[Fill], list[tuple[int, Order]]]:
        fills: list[Fill] = []
        knocked_out: list[tuple[int, Order]] = []
        earlier: list[tuple[Order, Decimal]] = []
        maker_side = taker.side.opposite
        book = self._side(maker_side)
        while book:
            key, level = book.peekitem(0)
            price = -key if maker_side is Side.BUY else key
            if not self._crosses(taker, price):
                break
            want = self._want(taker, price)
            if want <= ZERO:
                break
            maker = level.orders[0]
            qty = min(want, maker.remaining)
            cap = maker_limit(taker, maker, earlier) if maker_limit is not None else None
            knock_out = cap is not None and cap < maker.remaining
            if knock_out:
                assert cap is not None
                qty = min(want, max(cap, ZERO))
            if qty > ZERO:
                fills.append(self._trade(taker, maker, level, price, qty, now_ms))
                earlier.append((maker, qty))
            if knock_out:
                self._remove(maker)
                maker.status = OrderStatus.EXPIRED
                maker.update_time = now_ms
                knocked_out.append((len(fills), maker))
            elif maker.remaining <= ZERO:
                level.orders.popleft()
                del self._orders[maker.order_id]
                if not level.orders:
                    del book[key]
        return fills, knocked_out

    def _trade(
        self, taker: Order, maker: Order, level: _Level, price: Decimal, qty: Decimal, now_ms: int
    ) -> Fill:
        """Book one trade on both orders and the level (the caller removes a filled maker)."""
        quote = qty * price
        for o in (maker, taker):
            o.executed_qty += qty
            o.cum_quote_qty += quote
            o.update_time = now_ms
        level.total -= qty
        maker.status = OrderStatus.FILLED if maker.remaining <= ZERO else OrderStatus.PARTIALLY_FILLED
        self._touch(maker.side, price)
        fill = Fill(self._next_trade_id, self.symbol, price, qty, quote, now_ms, maker, taker)
        self._next_trade_id += 1
        self.last_trade = fill
        return fill

    def cancel(self, order_id: int, now_ms: int, status: OrderStatus = OrderStatus.CANCELED) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise UnknownOrder(order_id)
        self._remove(order)
        order.status = status
        order.update_time = now_ms
        return order

    def restore(self, order: Order) -> None:
        """Put an open order back on the book as it was (state reload); keeps its queue position order."""
        self._rest(order)

    def assert_consistent(self) -> None:
        """Invariants used by tests: not crossed, level totals match their orders."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid[0] >= ask[0]:
            raise AssertionError(f"crossed book {bid} >= {ask}")
        for book in (self._bids, self._asks):
            for level in book.values():
                if level.total != sum((o.remaining for o in level.orders), ZERO):
                    raise AssertionError("level total mismatch")


class MatchingEngine:
    """All books of one product, with one order-id sequence."""

    def __init__(self) -> None:
        self.books: dict[str, SymbolBook] = {}
        self._next_order_id = 1

    def add_symbol(self, symbol: str, step_size: Decimal = Decimal("0.00000001")) -> SymbolBook:
        book = self.books[symbol] = SymbolBook(symbol, step_size)
        return book

    def book(self, symbol: str) -> SymbolBook:
        return self.books[symbol]

    def next_order_id(self) -> int:
        oid = self._next_order_id
        self._next_order_id += 1
        return oid

    @property
    def order_id_seq(self) -> int:
        return self._next_order_id

    @order_id_seq.setter
    def order_id_seq(self, value: int) -> None:
        self._next_order_id = value
