"""A price-level order book built for the hot path, exact at its surface.

Levels are stored exactly as the exchange sent them, ``(price, amount)`` strings, in a dict keyed
by the price string, so the common update (a new amount on a known price) is one dict store: no
number parsing, no sorting work (see :class:`BookSide`). A float *key* per price, parsed once and
cached, orders the levels: a lazily cleaned heap gives the best level in amortised O(1), and a
sorted key list is brought up to date only when a depth query walks the side. Two spellings of
one price ("0.3513", "0.35130000") are the same level; prices with at most 15 significant digits
(every listed market) never share a key.

Nothing is a float at the surface: queries turn the stored strings into exact ``Decimal`` values
(``"0.35130000"`` comes out as ``Decimal("0.3513")``), only for the levels they read. The original
strings stay available (:meth:`OrderBook.raw_levels`) for exchange checksums.

Queries never raise on an empty or shallow book: a missing price is ``Decimal("NaN")`` and a
volume is what the book could provide (see :class:`OrderBookQueryResult`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from decimal import Decimal
from heapq import heapify, heappop, heappush
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from connectorkit.core.order_book_message import OrderBookMessage

NaN = Decimal("NaN")
_INF = float("inf")

Row = Sequence[object]
"""An input level: ``(price, amount)`` as strings (fast path), ``Decimal`` or ``float``."""
RawLevel = Sequence[str]


class OrderBookRow(NamedTuple):
    """One price level: exact price and amount."""

    price: Decimal
    amount: Decimal


class OrderBookQueryResult(NamedTuple):
    """The answer to a depth query.

    ``query_price`` / ``query_volume`` echo the question (``NaN`` for the one not asked).
    ``result_price`` is ``Decimal("NaN")`` when the book has not enough depth to answer;
    ``result_volume`` is then the whole volume (or quote volume) the side could provide.
    """

    query_price: Decimal
    query_volume: Decimal
    result_price: Decimal
    result_volume: Decimal


class OrderBookDataError(ValueError):
    """A price level that is not a positive finite price with a non-negative finite amount."""


def exact_decimal(text: str) -> Decimal:
    """Exchange number string -> exact Decimal without insignificant trailing zeros.

    ``"0.35130000"`` -> ``Decimal("0.3513")``, ``"100.00"`` -> ``Decimal("100")``; never an
    exponent form for plain decimal input.
    """
    if "." in text and "e" not in text and "E" not in text:
        text = text.rstrip("0")
        if text[-1] == ".":
            text = text[:-1]
    return Decimal(text)


QueryNumber = Decimal | int | str
"""What the depth queries accept for a volume or a price: exact values only."""


def _query_decimal(value: object, name: str) -> Decimal:
    """A query argument as an exact Decimal; a float, bool or NaN is the caller's error.

    ``int`` and ``str`` convert exactly. A float is a TypeError rather than converted: the
    binary value of ``1.1`` is not 1.1, and which decimal the caller meant is theirs to say
    (``Decimal(str(x))``). Raised here, naming the argument, never from the book's arithmetic.
    """
    if value.__class__ is Decimal:
        result: Decimal = value
    elif isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        hint = " (pass Decimal(str(x)) for the decimal you mean)" if isinstance(value, float) else ""
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__} {value!r}{hint}")
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"{name} is not a decimal number: {value!r}") from None
    else:
        result = Decimal(value)
    if result.is_nan():
        raise ValueError(f"{name} must be a number, not {value!r}")
    return result


class _NotText(OrderBookDataError):
    """Rows given as numbers, not strings: :meth:`OrderBook.apply_diffs` converts and retries."""


def _is_text_row(row: object) -> bool:
    return isinstance(row, Sequence) and all(isinstance(item, str) for item in row)


def _as_raw_rows(rows: Sequence[Row]) -> list[tuple[str, str]]:
    """Rows of strings, Decimals or floats -> ``(price, amount)`` string pairs (slow path)."""
    out: list[tuple[str, str]] = []
    for row in rows:
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) < 2:
            raise OrderBookDataError(f"invalid price level {row!r}")
        out.append((_to_text(row[0]), _to_text(row[1])))
    return out


def _to_text(value: object) -> str:
    """Render a number in plain positional notation (the book's string format has no exponent)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return format(Decimal(value), "f")
    raise OrderBookDataError(f"unsupported price/amount type {type(value).__name__}: {value!r}")


class BookSide:
    """One side of the book.

    Each price has a float *key* ordered best first: ``-price`` for bids, ``price`` for asks.

    - ``levels``: price string -> the level exactly as sent (``(price, amount)`` strings). An
      amount change on a known price is one dict store (the string caches its own hash);
    - ``names``: key -> the price string in use, so that a price sent in another spelling
      ("0.3513" after "0.35130000") replaces the old entry instead of duplicating the level;
    - ``heap``: a min-heap of keys with lazy deletion: the best level is ``heap[0]`` once entries
      of removed levels are popped off the top (amortised O(1));
    - ``ordered`` + ``touched``: the keys in ascending order, brought up to date only when a depth
      query walks the side;
    - ``key_cache``: price string -> key, so a price string is parsed once while it stays near
      the market (bounded: cleared when it outgrows the book);
    - ``top`` / ``top_key``: the exact best price (``NaN`` when empty) and its key, cached for the
      read a strategy makes after every update; ``top`` is None when stale. Only a new level
      better than the best, or the best's removal, makes it stale: amount changes never do.
    """

    __slots__ = ("heap", "key_cache", "levels", "names", "ordered", "sign", "top", "top_key", "touched")

    def __init__(self, sign: float, key_cache: dict[str, float] | None = None) -> None:
        self.sign = sign
        self.levels: dict[str, RawLevel] = {}
        self.names: dict[float, str] = {}
        self.heap: list[float] = []
        self.ordered: list[float] = []
        self.touched: set[float] = set()
        self.key_cache: dict[str, float] = {} if key_cache is None else key_cache
        self.top: Decimal | None = None
        self.top_key = _INF

    def __len__(self) -> int:
        return len(self.levels)

    def best_key(self) -> float | None:
        heap = self.heap
        names = self.names
        while heap:
            key = heap[0]
            if key in names:
                return key
            heappop(heap)
        return None

    def refresh_top(self) -> Decimal:
        """Recompute the cached exact best price (``NaN`` for an empty side) and return it."""
        key = self.best_key()
        if key is None:
            self.top_key = _INF  # any new level is better: it makes the cache stale
            top = NaN
        else:
            self.top_key = key
            top = exact_decimal(self.names[key])
        self.top = top
        return top

    def best(self) -> RawLevel | None:
        key = self.best_key()
        return None if key is None else self.levels[self.names[key]]

    def pop_best(self) -> None:
        key = self.best_key()
        if key is not None:
            del self.levels[self.names.pop(key)]
            self.touched.add(key)
            heappop(self.heap)
            self.top = None

    def iter_best_first(self) -> Iterator[RawLevel]:
        levels = self.levels
        names = self.names
        for key in self._sync_ordered():
            yield levels[names[key]]

    def reindex(self) -> None:
        """Rebuild heap and order from ``names`` (after a bulk load)."""
        self.heap = list(self.names)
        heapify(self.heap)
        self.ordered = sorted(self.names)
        self.touched.clear()
        self.top = None

    def _sync_ordered(self) -> list[float]:
        touched = self.touched
        if touched:
            names = self.names
            ordered = self.ordered
            if len(touched) * 8 > len(ordered):
                self.ordered = ordered = sorted(names)
            else:
                for key in touched:
                    i = bisect_left(ordered, key)
                    found = i < len(ordered) and ordered[i] == key
                    if key in names:
                        if not found:
                            ordered.insert(i, key)
                    elif found:
                        del ordered[i]
            touched.clear()
        return self.ordered

    def _key(self, price: str) -> float:
        """Parse a price string not yet in ``key_cache`` into its key (validated, then cached)."""
        if price.__class__ is not str:
            raise _NotText(f"price {price!r} is not a string")
        try:
            value = float(price)
        except (ValueError, TypeError):
            raise OrderBookDataError(f"invalid price {price!r}") from None
        if not 0.0 < value < _INF:
            raise OrderBookDataError(f"invalid price {price!r}")
        cache = self.key_cache
        if len(cache) > 4 * len(self.levels) + 4096:
            cache.clear()
        key = cache[price] = value * self.sign
        return key

    def validate(self, rows: Sequence[RawLevel]) -> None:
        """Raise OrderBookDataError unless every row is a valid level; change nothing.

        A valid level is a pair of strings: a positive finite price and an amount that is zero
        (recognised textually: "0", "0.00000000") or positive and finite. "NaN", "sNaN",
        "Infinity", "-5", "-0", "abc" and "" are all rejected. The checks are cheap: a price
        already in the book was checked when it arrived (one dict lookup), a new price is parsed
        once into its cached key, and a non-zero amount costs one ``float()`` (every string
        ``float()`` takes as positive and finite, ``Decimal`` takes too).
        """
        levels = self.levels
        try:
            for price, amount in rows:
                # float() first: a valid non-zero amount (the common case) costs nothing more
                if not 0.0 < float(amount) < _INF and (amount[0] != "0" or amount.lstrip("0.")):
                    raise OrderBookDataError(f"invalid amount {amount!r} at price {price!r}")
                if amount.__class__ is not str:
                    raise TypeError(f"amount {amount!r} is not a string")
                if price not in levels:
                    self._key(price)  # validated and cached for update()
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            if isinstance(exc, OrderBookDataError):
                raise
            if rows and not _is_text_row(rows[0]):
                raise _NotText from None
            raise OrderBookDataError(f"invalid price level in {rows!r}: {exc}") from None

    def update(self, rows: Sequence[RawLevel]) -> None:
        """Set absolute amounts; amount 0 deletes, deleting a missing level is fine.

        ``rows`` must have passed :meth:`validate` (the caller validates every side of an
        update before changing any, so a bad update is never partly applied). Zero is
        recognised textually, and the text is converted exactly when a query reads it.
        """
        levels = self.levels  # the rest is looked up only on the rarer new/removed-level paths
        for row in rows:
            price, amount = row
            if amount[0] != "0" or amount.lstrip("0."):  # not zero ("0", "0.000", ...)
                if price in levels:
                    levels[price] = row
                    continue
                key = self.key_cache.get(price)
                if key is None:
                    key = self._key(price)
                names = self.names
                old = names.get(key)
                if old is None:
                    heappush(self.heap, key)
                    self.touched.add(key)
                    if key < self.top_key:  # a new best level
                        self.top = None
                else:
                    del levels[old]
                names[key] = price
                levels[price] = row
            else:
                names = self.names
                if levels.pop(price, None) is None:
                    key = self.key_cache.get(price)
                    if key is None:
                        key = self._key(price)
                    old = names.get(key)
                    if old is None:
                        continue  # deleting an absent level is normal
                    del levels[old]
                else:
                    key = self.key_cache.get(price)
                    if key is None:
                        key = self._key(price)
                del names[key]
                self.touched.add(key)
                if key == self.top_key:  # the best level is gone
                    self.top = None
                heap = self.heap
                if len(heap) > 2 * len(names) + 64:  # drop removed levels' heap entries
                    heap[:] = names
                    heapify(heap)


class OrderBook:
    """Two sides of price levels, one amount per price, with exact queries.

    Not thread-safe; owned by one tracker on one event loop.
    """

    __slots__ = (
        "_asks",
        "_bids",
        "_crossed_count",
        "_last_diff_uid",
        "_last_trade_price",
        "_snapshot_uid",
    )

    def __init__(self) -> None:
        self._bids = BookSide(-1.0)
        self._asks = BookSide(1.0)
        self._snapshot_uid = 0
        self._last_diff_uid = 0
        self._last_trade_price = NaN
        self._crossed_count = 0

    # ------------------------------------------------------------------ updates
    def apply_snapshot(self, bids: Sequence[Row], asks: Sequence[Row], update_id: int) -> None:
        """Replace the whole book. Levels with amount 0 are ignored.

        On bad input the book is left unchanged and :class:`OrderBookDataError` is raised.
        """
        new_bids = BookSide(-1.0, self._bids.key_cache)
        new_asks = BookSide(1.0, self._asks.key_cache)
        bid_rows = _as_raw_rows(bids)
        ask_rows = _as_raw_rows(asks)
        new_bids.validate(bid_rows)
        new_asks.validate(ask_rows)
        new_bids.update(bid_rows)
        new_asks.update(ask_rows)
        new_bids.reindex()
        new_asks.reindex()
        self._bids, self._asks = new_bids, new_asks
        self._snapshot_uid = update_id
        self._last_diff_uid = update_id

    def apply_diffs(self, bids: Sequence[Row], asks: Sequence[Row], update_id: int) -> int:
        """Set levels to the given absolute amounts (0 deletes); return the crossed levels removed.

        If afterwards the best bid >= the best ask, the side this update did not touch loses the
        levels that cross (the newest information wins); see :meth:`_uncross`. An update with any
        bad level (see :meth:`BookSide.validate`) raises :class:`OrderBookDataError` and changes
        nothing: the tracker then resyncs the book from a snapshot.
        """
        bid_side = self._bids
        ask_side = self._asks
        try:
            if bids:
                bid_side.validate(bids)  # type: ignore[arg-type]
            if asks:
                ask_side.validate(asks)  # type: ignore[arg-type]
        except _NotText:  # Decimal/float rows: render them as strings (the slow path)
            bids = _as_raw_rows(bids)
            asks = _as_raw_rows(asks)
            bid_side.validate(bids)
            ask_side.validate(asks)
        if bids:
            bid_side.update(bids)  # type: ignore[arg-type]
        if asks:
            ask_side.update(asks)  # type: ignore[arg-type]
        self._last_diff_uid = update_id
        # bid key is -price, ask key is +price: crossed when best bid >= best ask. The heap tops
        # may be removed levels (lazy deletion), so a hit is confirmed on the exact best keys.
        bid_heap = bid_side.heap
        ask_heap = ask_side.heap
        if bid_heap and ask_heap and -bid_heap[0] >= ask_heap[0]:
            bid_key = bid_side.best_key()
            ask_key = ask_side.best_key()
            if bid_key is not None and ask_key is not None and -bid_key >= ask_key:
                return self._uncross(bool(bids), bool(asks))
        return 0

    def apply_trade(self, trade: OrderBookMessage) -> None:
        """Record a trade's price as the last trade price."""
        if trade.price is not None:
            self._last_trade_price = trade.price

    def _uncross(self, touched_bids: bool, touched_asks: bool) -> int:
        """Remove the crossed levels of the side the last update did not touch.

        When the update touched both sides the asks that cross the best bid are removed (the
        update's own levels are equally new; a venue whose single update crosses itself is
        inconsistent, and a tracker with a strict sequence resyncs on any crossing anyway).
        """
        removed = 0
        bids = self._bids
        asks = self._asks
        if touched_asks and not touched_bids:
            best_ask = asks.best_key()
            assert best_ask is not None
            # A bid crosses when its price (-key) >= the best ask.
            while (key := bids.best_key()) is not None and -key >= best_ask:
                bids.pop_best()
                removed += 1
        else:
            best_bid_key = bids.best_key()
            assert best_bid_key is not None
            while (key := asks.best_key()) is not None and key <= -best_bid_key:
                asks.pop_best()
                removed += 1
        self._crossed_count += removed
        return removed

    # ------------------------------------------------------------------ top of book
    @property
    def best_bid(self) -> Decimal:
        """Highest bid price, ``Decimal("NaN")`` if there are no bids."""
        top = self._bids.top
        return self._bids.refresh_top() if top is None else top

    @property
    def best_ask(self) -> Decimal:
        """Lowest ask price, ``Decimal("NaN")`` if there are no asks."""
        top = self._asks.top
        return self._asks.refresh_top() if top is None else top

    @property
    def mid_price(self) -> Decimal:
        """``(best_bid + best_ask) / 2``; NaN if a side is empty."""
        return (self.best_bid + self.best_ask) / 2

    def get_price(self, is_buy: bool) -> Decimal:
        """The price a buy (best ask) or a sell (best bid) would hit first."""
        return self.best_ask if is_buy else self.best_bid

    @property
    def last_trade_price(self) -> Decimal:
        return self._last_trade_price

    @property
    def snapshot_uid(self) -> int:
        """Update id of the last snapshot applied."""
        return self._snapshot_uid

    @property
    def last_diff_uid(self) -> int:
        """Update id of the last snapshot or diff applied."""
        return self._last_diff_uid

    @property
    def crossed_count(self) -> int:
        """How many crossed levels were removed since the book was created."""
        return self._crossed_count

    @property
    def bid_depth(self) -> int:
        return len(self._bids)

    @property
    def ask_depth(self) -> int:
        return len(self._asks)

    # ------------------------------------------------------------------ depth
    def _side(self, is_bid: bool) -> Iterator[tuple[Decimal, Decimal]]:
        for row in (self._bids if is_bid else self._asks).iter_best_first():
            yield exact_decimal(row[0]), exact_decimal(row[1])  # validated on the way in

    def bid_entries(self) -> Iterator[OrderBookRow]:
        """Bids, best (highest) first."""
        for price, amount in self._side(True):
            yield OrderBookRow(price, amount)

    def ask_entries(self) -> Iterator[OrderBookRow]:
        """Asks, best (lowest) first."""
        for price, amount in self._side(False):
            yield OrderBookRow(price, amount)

    def snapshot(self, depth: int | None = None) -> tuple[list[OrderBookRow], list[OrderBookRow]]:
        """``(bids, asks)``, best first, at most ``depth`` levels a side (all if None)."""
        return (
            [OrderBookRow(p, a) for p, a in islice(self._side(True), depth)],
            [OrderBookRow(p, a) for p, a in islice(self._side(False), depth)],
        )

    def raw_levels(self, is_bid: bool, depth: int | None = None) -> list[RawLevel]:
        """The top levels exactly as the exchange sent them, best first (for checksums)."""
        side = self._bids if is_bid else self._asks
        if depth is None:
            return list(side.iter_best_first())
        return list(islice(side.iter_best_first(), depth))

    # ------------------------------------------------------------------ queries
    def get_price_for_volume(self, is_buy: bool, volume: QueryNumber) -> OrderBookQueryResult:
        """Price of the level at which a market order of ``volume`` base would complete.

        ``result_volume`` is the cumulative volume up to and including that level. With
        ``volume <= 0`` the answer is the best price and volume 0. Every query takes its volume
        or price as a ``Decimal``, ``int`` or ``str`` (exact); a float or NaN raises
        TypeError / ValueError naming the argument.
        """
        volume = _query_decimal(volume, "volume")
        cumulative = Decimal(0)
        if volume <= 0:
            return OrderBookQueryResult(NaN, volume, self.get_price(is_buy), cumulative)
        for price, amount in self._side(not is_buy):
            cumulative += amount
            if cumulative >= volume:
                return OrderBookQueryResult(NaN, volume, price, cumulative)
        return OrderBookQueryResult(NaN, volume, NaN, cumulative)

    def get_vwap_for_volume(self, is_buy: bool, volume: QueryNumber) -> OrderBookQueryResult:
        """Volume-weighted average price of taking ``volume`` base from the book.

        ``result_volume`` is ``volume`` when the book is deep enough; otherwise the price is NaN
        and ``result_volume`` is all the side holds. With ``volume <= 0`` the answer is the best
        price (the limit of the average as the volume shrinks) and volume 0.
        """
        volume = _query_decimal(volume, "volume")
        if volume <= 0:
            return OrderBookQueryResult(NaN, volume, self.get_price(is_buy), Decimal(0))
        remaining = volume
        cost = Decimal(0)
        for price, amount in self._side(not is_buy):
            if amount >= remaining:
                cost += price * remaining
                return OrderBookQueryResult(NaN, volume, cost / volume, volume)
            cost += price * amount
            remaining -= amount
        return OrderBookQueryResult(NaN, volume, NaN, volume - remaining)

    def _take_to_price(self, is_buy: bool, limit: Decimal, quote: bool) -> OrderBookQueryResult:
        total = Decimal(0)
        last_price = NaN
        for price, amount in self._side(not is_buy):
            if (price > limit) if is_buy else (price < limit):
                break
            total += price * amount if quote else amount
            last_price = price
        return OrderBookQueryResult(limit, NaN, last_price, total)

    def get_volume_for_price(self, is_buy: bool, price: QueryNumber) -> OrderBookQueryResult:
        """Base volume available at ``price`` or better (asks <= price for a buy, bids >= for a sell).

        ``result_price`` is the worst level included, NaN when no level qualifies.
        """
        return self._take_to_price(is_buy, _query_decimal(price, "price"), quote=False)

    def get_quote_volume_for_price(self, is_buy: bool, price: QueryNumber) -> OrderBookQueryResult:
        """Like :meth:`get_volume_for_price`, summing ``price * amount`` (quote volume)."""
        return self._take_to_price(is_buy, _query_decimal(price, "price"), quote=True)

    def get_price_for_quote_volume(self, is_buy: bool, quote_volume: QueryNumber) -> OrderBookQueryResult:
        """Price of the level at which spending/receiving ``quote_volume`` quote completes.

        ``result_volume`` is the cumulative quote volume up to and including that level; NaN
        price and the whole side's quote volume when the book is too shallow.
        """
        quote_volume = _query_decimal(quote_volume, "quote_volume")
        cumulative = Decimal(0)
        if quote_volume <= 0:
            return OrderBookQueryResult(NaN, quote_volume, self.get_price(is_buy), cumulative)
        for price, amount in self._side(not is_buy):
            cumulative += price * amount
            if cumulative >= quote_volume:
                return OrderBookQueryResult(NaN, quote_volume, price, cumulative)
        return OrderBookQueryResult(NaN, quote_volume, NaN, cumulative)

    def __repr__(self) -> str:
        return (
            f"OrderBook(bids={len(self._bids)}, asks={len(self._asks)}, "
            f"best_bid={self.best_bid}, best_ask={self.best_ask}, last_diff_uid={self._last_diff_uid})"
        )
