"""A price-level order book built for the hot path, exact at its surface, walked in integers.

Each book reads prices as exact integer *ticks* of its own fixed-point scale (the decimals the
exchange writes: ``"0.35130000"`` is 35,130,000 ticks at scale 8), parsed once per price string
and cached. A side is a dict of signed price keys (``-ticks`` for bids, ``ticks`` for asks, so
the best level is the smallest key) to the amount exactly as the exchange sent it: the common
update (a new amount on a known price) is a cache hit, one ``float()`` to validate the amount,
and one dict store. A lazily cleaned heap gives the best key in amortised O(1); a sorted key list
is brought up to date only when a depth query walks the side.

A depth walk is integer work: when the side has changed since the last walk, the top levels'
amounts become integer *lots* (memoised per string) and their cumulative lots and costs are
built with C-level ``accumulate``; a query is then a ``bisect`` and one ``Decimal`` at the end.

Nothing is a float, nothing is rounded: a price or an amount with more decimals than the scale
makes the book grow it (every key times a power of ten), so any decimal the exchange sends is
held exactly. Two spellings of one price ("0.3513", "0.35130000") are the same level.

The exchange's strings stay available (:meth:`OrderBook.raw_levels`, for checksums): amounts as
stored; a price in canonical form at the scale (its decimals, no sign or leading zero: how
Binance writes them) is rendered back from its ticks, identical, and a price sent in any other
spelling keeps that spelling beside its key.

Queries never raise on an empty or shallow book: a missing price is ``Decimal("NaN")`` and a
volume is what the book could provide (see :class:`OrderBookQueryResult`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from heapq import heapify, heappop, heappush
from itertools import accumulate, islice
from operator import mul, neg
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from connectorkit.core.order_book_message import OrderBookMessage

NaN = Decimal("NaN")
_INF = float("inf")
_INF_KEY = 1 << 256  # larger than any key: "no best level"
MAX_SCALE = 30
"""The most decimals a price or amount may have (a string with more is malformed)."""
_POW10 = [10**i for i in range(2 * MAX_SCALE + 2)]
_CACHE_LIMIT = 256  # entries of a memo before it is cleared (what is near the touch recurs)
_WALK_START = 16  # levels whose cumulative sums a walk builds first (doubled when it needs more)

Row = Sequence[object]
"""An input level: ``(price, amount)`` as strings (fast path), ``Decimal`` or ``float``."""
RawLevel = Sequence[str]
Prepared = tuple[list[int], list[str | None], list[int]]
"""A side's validated update: keys, amounts (None deletes), rows with another price spelling."""


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


_QueryResult = OrderBookQueryResult
_result = tuple.__new__  # _result(_QueryResult, (a, b, c, d)): skips the NamedTuple's Python __new__
_ZERO = Decimal(0)


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


class _Rescale(Exception):
    """A string needs more decimals than the book's scale (the book rescales and retries)."""

    def __init__(self, price_scale: int, amount_scale: int) -> None:
        super().__init__(price_scale, amount_scale)
        self.price_scale = price_scale
        self.amount_scale = amount_scale


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


def _decimals(text: object) -> int:
    """How many decimals a number string is written with (0 for anything unparsable: the
    validation that follows rejects it)."""
    if not isinstance(text, str):
        return 0
    dot = text.find(".")
    if dot >= 0 and "e" not in text and "E" not in text:
        return len(text) - dot - 1
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return 0
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def render(value: int, scale: int) -> str:
    """The canonical string of ``value`` at ``scale``: ``render(35130000, 8) == "0.35130000"``."""
    if not scale:
        return str(value)
    digits = str(value).rjust(scale + 1, "0")
    return f"{digits[:-scale]}.{digits[-scale:]}"


def to_decimal(value: int, scale: int) -> Decimal:
    """``value * 10**-scale`` as an exact Decimal without insignificant trailing zeros (the
    form :func:`exact_decimal` gives)."""
    if not scale:
        return Decimal(value)
    text = str(value)
    if len(text) <= scale:
        text = "0" * (scale + 1 - len(text)) + text
    text = f"{text[:-scale]}.{text[-scale:]}".rstrip("0")
    return Decimal(text[:-1] if text[-1] == "." else text)


_EXACT_SCALEB = 10**27  # an integer below this has fewer digits than the default context's 28


def _exact(value: int, scale: int) -> Decimal:
    """``value * 10**-scale`` exactly, for arithmetic (trailing zeros kept: not for display)."""
    if value < _EXACT_SCALEB:
        return Decimal(value).scaleb(-scale)
    return to_decimal(value, scale)


def scaled_int(value: Decimal, scale: int, ceiling: bool) -> int:
    """``value * 10**scale`` rounded down, or up with ``ceiling``, computed exactly (no context
    rounding); an infinity is a number beyond every key."""
    if value.is_infinite():
        return -_INF_KEY if value < 0 else _INF_KEY
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    number = int("".join(map(str, digits))) if digits else 0
    if sign:
        number = -number
    shift = exponent + scale
    factor: int = 10 ** abs(shift)
    if shift >= 0:
        return number * factor
    whole, rest = divmod(number, factor)  # floors
    return whole + 1 if ceiling and rest else whole


class _Scale:
    """A book's fixed-point scale for one kind of number (prices, amounts, or their product),
    with the tables the hot path checks a string against.

    A string is in canonical form when it has exactly ``scale`` decimals and no sign, padding or
    leading zero; its integer then has ``len(text) - scale - 1`` integer digits, so its value
    lies in ``[low[k], high[k])`` for that digit count ``k``: one range check, no rendering.
    """

    __slots__ = ("ceilings", "decimals", "dot", "exacts", "floors", "high", "integers", "low", "scale")

    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.dot = -(scale + 1) if scale else 0  # index of the "." in a canonical string
        self.low = [0, 0] + [_POW10[scale + k - 1] for k in range(2, 40)]
        self.high = [0] + [_POW10[scale + k] for k in range(1, 40)]
        # Memos of the conversions at the query surface (bounded): integer -> Decimal, and
        # Decimal -> integer rounded down / up.
        self.decimals: dict[int, Decimal] = {}
        self.floors: dict[Decimal, int] = {}
        self.ceilings: dict[Decimal, int] = {}
        self.integers: dict[str, int] = {}  # a (validated) amount string -> its lots
        self.exacts: dict[int, Decimal] = {}  # integer -> Decimal for arithmetic (see _exact)

    def exact(self, value: int) -> Decimal:
        """:func:`_exact` at this scale, memoised."""
        memo = self.exacts
        if len(memo) > _CACHE_LIMIT:
            memo.clear()
        result = memo[value] = _exact(value, self.scale)
        return result

    def lots(self, text: str) -> int:
        """A validated amount string as an integer at this scale, memoised; raises _Rescale
        when it has more decimals."""
        value = self.integers.get(text)
        if value is None:
            try:
                if (text[self.dot] == ".") if self.dot else text.isdigit():
                    value = int(text.replace(".", "", 1))
            except (ValueError, IndexError):
                pass
            if value is None or value < 0:  # fewer decimals, an exponent, ...: exactly, slowly
                value, _ = self.parse(text, "amount", positive=False)
            if len(self.integers) > _CACHE_LIMIT:
                self.integers.clear()
            self.integers[text] = value
        return value

    def decimal(self, value: int) -> Decimal:
        """:func:`to_decimal` at this scale, memoised."""
        memo = self.decimals
        result = memo.get(value)
        if result is None:
            if len(memo) > _CACHE_LIMIT:
                memo.clear()
            result = memo[value] = to_decimal(value, self.scale)
        return result

    def integer(self, value: Decimal, ceiling: bool) -> int:
        """:func:`scaled_int` at this scale, memoised."""
        memo = self.ceilings if ceiling else self.floors
        result = memo.get(value)
        if result is None:
            if len(memo) > _CACHE_LIMIT:
                memo.clear()
            result = memo[value] = scaled_int(value, self.scale, ceiling)
        return result

    def digits(self, text: str) -> int:
        """Integer digits of a canonical string of this scale."""
        return len(text) - self.scale - 1 if self.scale else len(text)

    def parse(self, text: object, what: str, positive: bool) -> tuple[int, bool]:
        """``(integer, canonical)`` for any valid spelling (the slow path); raises
        OrderBookDataError, _NotText, or _Rescale when the text needs more decimals."""
        if not isinstance(text, str):
            raise _NotText(f"{what} {text!r} is not a string")
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            raise OrderBookDataError(f"invalid {what} {text!r}") from None
        if not number.is_finite() or number.is_signed() or (positive and not number):
            raise OrderBookDataError(f"invalid {what} {text!r}")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > self.scale:
            if -exponent > MAX_SCALE:
                raise OrderBookDataError(f"{what} {text!r} has more than {MAX_SCALE} decimals")
            raise _Rescale(-exponent, 0) if what == "price" else _Rescale(0, -exponent)
        value = scaled_int(number, self.scale, ceiling=False)
        return value, render(value, self.scale) == text


class BookSide:
    """One side of the book.

    - ``amounts``: signed price key -> the amount as the exchange sent it (``-ticks`` for bids,
      ``ticks`` for asks, so the best level has the smallest key); an amount change on a known
      price is one dict store, its string is made an integer only when a walk reads it;
    - ``heap``: a min-heap of keys with lazy deletion: the best level is ``heap[0]`` once entries
      of removed levels are popped off the top (amortised O(1));
    - ``ordered`` + ``touched``: the keys in ascending order, brought up to date only when a depth
      query walks the side (once ``touched`` outgrows an eighth of the side, the order is
      simply rebuilt: ``touched`` is then dropped and ``ordered`` emptied, bounding both);
    - ``spelled``: key -> the exchange's price string, only for prices sent in a spelling other
      than the canonical one (see the module doc);
    - ``key_cache``: price string -> key, so a price string near the market is parsed once
      (bounded: cleared when it holds ``2 * _CACHE_LIMIT``);
    - ``top`` / ``top_key``: the exact best price (``NaN`` when empty) and its key, cached for the
      read a strategy makes after every update; ``top`` is None when stale;
    - ``version`` and the walk cache (``walk_*``): the cumulative lots and costs of the top
      levels, valid while ``version`` (bumped by every update) is unchanged.
    """

    __slots__ = (
        "amounts",
        "heap",
        "key_cache",
        "ordered",
        "sign",
        "spelled",
        "top",
        "top_key",
        "touched",
        "version",
        "walk_cost",
        "walk_keys",
        "walk_lots",
        "walk_version",
    )

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.amounts: dict[int, str] = {}
        self.heap: list[int] = []
        self.ordered: list[int] = []
        self.touched: set[int] = set()
        self.spelled: dict[int, str] = {}
        self.key_cache: dict[str, int] = {}
        self.top: Decimal | None = None
        self.top_key = _INF_KEY
        self.version = 0
        self.walk_version = -1
        self.walk_keys: list[int] = []
        self.walk_lots: list[int] = []
        self.walk_cost: list[int] = []

    def __len__(self) -> int:
        return len(self.amounts)

    # ------------------------------------------------------------------ input
    def prepare(self, rows: Sequence[RawLevel], prices: _Scale) -> Prepared:
        """Validate ``rows`` and give their ``(keys, amounts, odd)`` without changing anything:
        a zero amount (a delete) is None, ``odd`` the rows whose price is not spelled canonically.

        A valid level is a pair of strings: a positive finite price and an amount that is zero
        (recognised textually: "0", "0.00000000") or positive and finite. "NaN", "sNaN",
        "Infinity", "-5", "-0", "abc" and "" are all rejected (OrderBookDataError). The common
        case costs a dict lookup for the price and one ``float()`` for the amount; amounts are
        kept as the exchange's strings and made integers (lots) only when a walk reads them.
        """
        key_cache = self.key_cache
        keys: list[int] = []
        texts: list[str | None] = []
        add_key = keys.append
        add_text = texts.append
        odd: list[int] = []
        try:
            for price, amount in rows:
                key = key_cache.get(price)
                if key is None:
                    key, canonical = self._key(price, prices)
                    if not canonical:
                        odd.append(len(keys))
                if not 0.0 < float(amount) < _INF:
                    if amount[0] != "0" or amount.lstrip("0."):  # not "0", "0.000", ...
                        raise OrderBookDataError(f"invalid amount {amount!r} at price {price!r}")
                    add_text(None)
                elif amount.__class__ is not str:
                    raise TypeError(f"amount {amount!r} is not a string")
                else:
                    add_text(amount)
                add_key(key)
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            if isinstance(exc, OrderBookDataError):
                raise
            if rows and not _is_text_row(rows[0]):
                raise _NotText from None
            raise OrderBookDataError(f"invalid price level in {rows!r}: {exc}") from None
        return keys, texts, odd

    def _key(self, price: object, scale: _Scale) -> tuple[int, bool]:
        """``(key, canonical)`` of a price not in ``key_cache``; canonical ones are cached."""
        if not isinstance(price, str):
            raise _NotText(f"price {price!r} is not a string")
        text = price
        try:
            if (text[scale.dot] == ".") if scale.dot else text.isdigit():
                ticks = int(text.replace(".", "", 1))
                k = scale.digits(text)
                if ticks and scale.low[k] <= ticks < scale.high[k]:
                    key = ticks * self.sign
                    cache = self.key_cache
                    if len(cache) > 2 * _CACHE_LIMIT:
                        cache.clear()
                    cache[text] = key
                    return key, True
        except (ValueError, IndexError):
            pass
        ticks, canonical = scale.parse(text, "price", positive=True)
        return ticks * self.sign, canonical

    def apply(self, rows: Sequence[RawLevel], keys: list[int], texts: list[str | None],
              odd: list[int]) -> None:
        """Set the levels :meth:`prepare` gave: a None amount deletes; deleting a missing level
        is fine."""
        amounts = self.amounts  # the rest is looked up only on the rarer new/removed-level paths
        for key, amount in zip(keys, texts):  # noqa: B905 - prepare() made them equally long
            if amount is not None:
                if key in amounts:
                    amounts[key] = amount
                else:
                    amounts[key] = amount
                    heappush(self.heap, key)
                    self.touched.add(key)
                    if key < self.top_key:  # a new best level
                        self.top = None
            elif amounts.pop(key, None) is not None:
                self.touched.add(key)
                if key == self.top_key:  # the best level is gone
                    self.top = None
                heap = self.heap
                if len(heap) > 2 * len(amounts) + 64:  # drop removed levels' heap entries
                    heap[:] = amounts
                    heapify(heap)
        touched = self.touched
        if len(touched) > (len(amounts) >> 3) + 64:  # sorted_keys() will re-sort: stop tracking
            touched.clear()
            self.ordered = []
            touched.add(_INF_KEY)  # "not up to date" (never a key)
        spelled = self.spelled
        if odd:  # in row order: the last spelling of a price in this update is the one kept
            odd_rows = set(odd)
            for index, key in enumerate(keys):
                if index in odd_rows and texts[index] is not None:
                    spelled[key] = rows[index][0]
                else:
                    spelled.pop(key, None)
        elif spelled:  # the levels of this update drop an older spelling of their price
            for key in keys:
                spelled.pop(key, None)
        self.version += 1

    def rescale(self, factor: int, prices: _Scale) -> None:
        """Multiply every key by ``factor`` (a finer price scale); canonical prices at the old
        scale keep their old spelling."""
        sign = self.sign
        self.spelled = {
            key * factor: self.spelled.get(key) or render(key * sign, prices.scale) for key in self.amounts
        }
        self.amounts = {key * factor: amount for key, amount in self.amounts.items()}
        self.key_cache.clear()
        self.reindex()

    def reindex(self) -> None:
        """Rebuild heap and order from ``amounts`` (after a bulk load)."""
        self.heap = list(self.amounts)
        heapify(self.heap)
        self.ordered = sorted(self.amounts)
        self.touched.clear()
        self.top = None
        self.top_key = _INF_KEY
        self.version += 1

    # ------------------------------------------------------------------ reads
    def best_key(self) -> int | None:
        heap = self.heap
        amounts = self.amounts
        while heap:
            key = heap[0]
            if key in amounts:
                return key
            heappop(heap)
        return None

    def refresh_top(self, prices: _Scale) -> Decimal:
        """Recompute the cached exact best price (``NaN`` for an empty side) and return it."""
        key = self.best_key()
        if key is None:
            self.top_key = _INF_KEY  # any new level is better: it makes the cache stale
            top = NaN
        else:
            self.top_key = key
            top = prices.decimal(key * self.sign)
        self.top = top
        return top

    def pop_best(self) -> None:
        key = self.best_key()
        if key is not None:
            del self.amounts[key]
            self.spelled.pop(key, None)
            self.touched.add(key)
            heappop(self.heap)
            self.top = None
            self.version += 1

    def truncate(self, depth: int) -> int:
        """Drop every level beyond the best ``depth``; the number dropped. The best levels stay,
        so the cached top stays valid; removed keys leave the heap lazily, as on any delete."""
        if len(self.amounts) <= depth:
            return 0
        keys = self.sorted_keys()
        dropped = keys[depth:]
        amounts = self.amounts
        spelled = self.spelled
        for key in dropped:
            del amounts[key]
            spelled.pop(key, None)
        del keys[depth:]
        self.version += 1
        return len(dropped)

    def sorted_keys(self) -> list[int]:
        """The keys, best first (the order list brought up to date)."""
        touched = self.touched
        if touched:
            amounts = self.amounts
            ordered = self.ordered
            if len(touched) * 8 > len(ordered) or _INF_KEY in touched:
                self.ordered = ordered = sorted(amounts)
            else:
                for key in touched:
                    i = bisect_left(ordered, key)
                    found = i < len(ordered) and ordered[i] == key
                    if key in amounts:
                        if not found:
                            ordered.insert(i, key)
                    elif found:
                        del ordered[i]
            touched.clear()
        return self.ordered

    def walk(self, levels: int, amounts: _Scale) -> tuple[list[int], list[int], list[int]]:
        """``(keys, cumulative lots, cumulative |key| * lots)`` of at least the best ``levels``
        levels (all, if the side has fewer), kept until the side changes and extended in place
        when a walk needs more. Raises _Rescale when an amount has more decimals than
        ``amounts``."""
        keys = self.walk_keys
        if self.walk_version == self.version:
            if len(keys) >= levels or len(keys) == len(self.amounts):
                return keys, self.walk_lots, self.walk_cost
            start = len(keys)
        else:
            start = 0
        more = self.sorted_keys()[start : max(levels, _WALK_START)]
        memo = amounts.integers
        to_lots = amounts.lots
        lots = [memo.get(text) or to_lots(text) for text in map(self.amounts.__getitem__, more)]
        ticks = more if self.sign > 0 else map(neg, more)
        if start:
            costs = map(mul, ticks, lots)
            self.walk_keys = keys + more
            self.walk_lots = self.walk_lots + list(accumulate(lots, initial=self.walk_lots[-1]))[1:]
            self.walk_cost = self.walk_cost + list(accumulate(costs, initial=self.walk_cost[-1]))[1:]
        else:
            self.walk_keys = more
            self.walk_lots = list(accumulate(lots))
            self.walk_cost = list(accumulate(map(mul, ticks, lots)))
            self.walk_version = self.version
        return self.walk_keys, self.walk_lots, self.walk_cost


class OrderBook:
    """Two sides of price levels, one amount per price, with exact queries.

    Not thread-safe; owned by one tracker on one event loop.
    """

    __slots__ = (
        "_amount_scale",
        "_asks",
        "_bids",
        "_crossed_count",
        "_last_diff_uid",
        "_last_trade_price",
        "_price_scale",
        "_quote_scale",
        "_snapshot_uid",
    )

    def __init__(self) -> None:
        self._bids = BookSide(-1)
        self._asks = BookSide(1)
        self._price_scale = _Scale(0)
        self._amount_scale = _Scale(0)
        self._quote_scale = _Scale(0)  # price x amount: the scale of a quote volume
        self._snapshot_uid = 0
        self._last_diff_uid = 0
        self._last_trade_price = NaN
        self._crossed_count = 0

    # ------------------------------------------------------------------ updates
    def apply_snapshot(self, bids: Sequence[Row], asks: Sequence[Row], update_id: int) -> None:
        """Replace the whole book. Levels with amount 0 are ignored.

        On bad input the book is left unchanged and :class:`OrderBookDataError` is raised.
        """
        bid_rows = _as_raw_rows(bids)
        ask_rows = _as_raw_rows(asks)
        rows = bid_rows + ask_rows
        # The scales are the snapshot's own (its decimals), so that its strings are canonical.
        price_decimals = max((_decimals(p) for p, _ in rows), default=self._price_scale.scale)
        amount_decimals = max((_decimals(a) for _, a in rows), default=self._amount_scale.scale)
        prices = _Scale(min(price_decimals, MAX_SCALE))
        amounts = _Scale(min(amount_decimals, MAX_SCALE))
        new_bids = BookSide(-1)
        new_asks = BookSide(1)
        try:
            prepared_bids = new_bids.prepare(bid_rows, prices)
            prepared_asks = new_asks.prepare(ask_rows, prices)
        except _Rescale:  # only a string with more than MAX_SCALE decimals gets here
            raise OrderBookDataError(f"a level has more than {MAX_SCALE} decimals") from None
        new_bids.apply(bid_rows, *prepared_bids)
        new_asks.apply(ask_rows, *prepared_asks)
        new_bids.reindex()
        new_asks.reindex()
        self._bids, self._asks = new_bids, new_asks
        self._set_scales(prices, amounts)
        self._snapshot_uid = update_id
        self._last_diff_uid = update_id

    def apply_diffs(self, bids: Sequence[Row], asks: Sequence[Row], update_id: int) -> int:
        """Set levels to the given absolute amounts (0 deletes); return the crossed levels removed.

        If afterwards the best bid >= the best ask, the side this update did not touch loses the
        levels that cross (the newest information wins); see :meth:`_uncross`. An update with any
        bad level (see :meth:`BookSide.prepare`) raises :class:`OrderBookDataError` and changes
        nothing: the tracker then resyncs the book from a snapshot.
        """
        bid_side = self._bids
        ask_side = self._asks
        while True:
            prices = self._price_scale
            try:
                prepared_bids = bid_side.prepare(bids, prices) if bids else None  # type: ignore[arg-type]
                prepared_asks = ask_side.prepare(asks, prices) if asks else None  # type: ignore[arg-type]
                break
            except _NotText:  # Decimal/float rows: render them as strings (the slow path)
                bids = _as_raw_rows(bids)
                asks = _as_raw_rows(asks)
            except _Rescale as more:  # a price with more decimals than the scale
                self._rescale(more.price_scale, 0)
        if prepared_bids is not None:
            bid_side.apply(bids, *prepared_bids)  # type: ignore[arg-type]
        if prepared_asks is not None:
            ask_side.apply(asks, *prepared_asks)  # type: ignore[arg-type]
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

    def _rescale(self, price_scale: int, amount_scale: int) -> None:
        """Grow the scales to at least the given decimals: every key times a power of ten for
        prices; for amounts (kept as strings) only the scale their integers are made at."""
        old_prices = self._price_scale
        prices = _Scale(max(price_scale, old_prices.scale))
        amounts = _Scale(max(amount_scale, self._amount_scale.scale))
        if prices.scale != old_prices.scale:
            for side in (self._bids, self._asks):
                side.rescale(_POW10[prices.scale - old_prices.scale], old_prices)
        for side in (self._bids, self._asks):
            side.version += 1  # the walk lists are at the old scales
        self._set_scales(prices, amounts)


    def _set_scales(self, prices: _Scale, amounts: _Scale) -> None:
        if prices.scale != self._price_scale.scale or amounts.scale != self._amount_scale.scale:
            self._quote_scale = _Scale(prices.scale + amounts.scale)
        else:  # the same scales: keep the memos
            prices, amounts = self._price_scale, self._amount_scale
        self._price_scale, self._amount_scale = prices, amounts

    def truncate(self, depth: int) -> int:
        """Keep only the best ``depth`` levels of each side (a depth-limited feed sends no delete
        for a level pushed out of its top ``depth``); returns how many levels were dropped."""
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        return self._bids.truncate(depth) + self._asks.truncate(depth)

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
        return self._bids.refresh_top(self._price_scale) if top is None else top

    @property
    def best_ask(self) -> Decimal:
        """Lowest ask price, ``Decimal("NaN")`` if there are no asks."""
        top = self._asks.top
        return self._asks.refresh_top(self._price_scale) if top is None else top

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
    def _side(self, is_bid: bool) -> Iterator[OrderBookRow]:
        side = self._bids if is_bid else self._asks
        amounts = side.amounts
        sign = side.sign
        prices = self._price_scale
        for key in side.sorted_keys():
            yield OrderBookRow(prices.decimal(key * sign), exact_decimal(amounts[key]))

    def bid_entries(self) -> Iterator[OrderBookRow]:
        """Bids, best (highest) first."""
        return self._side(True)

    def ask_entries(self) -> Iterator[OrderBookRow]:
        """Asks, best (lowest) first."""
        return self._side(False)

    def snapshot(self, depth: int | None = None) -> tuple[list[OrderBookRow], list[OrderBookRow]]:
        """``(bids, asks)``, best first, at most ``depth`` levels a side (all if None)."""
        return list(islice(self._side(True), depth)), list(islice(self._side(False), depth))

    def raw_levels(self, is_bid: bool, depth: int | None = None) -> list[tuple[str, str]]:
        """The top levels exactly as the exchange sent them, best first (for checksums)."""
        side = self._bids if is_bid else self._asks
        amounts = side.amounts
        spelled = side.spelled
        sign = side.sign
        price_scale = self._price_scale.scale
        return [
            (spelled.get(key) or render(key * sign, price_scale), amounts[key])
            for key in islice(side.sorted_keys(), depth)
        ]

    # ------------------------------------------------------------------ queries
    # The walks are the code a market maker runs on every quote: the common case (a Decimal
    # argument, the walk lists and the conversions already at hand) is inlined in each.
    def _walk_to(
        self, side: BookSide, cumulative: int, use_cost: bool
    ) -> tuple[list[int], list[int], list[int], int]:
        """The walk lists of ``side`` and the index of the first level whose cumulative lots
        (cost) reach ``cumulative``; the index equals the list length when the side is short."""
        levels = _WALK_START
        while True:
            keys, lots, cost = side.walk(levels, self._amount_scale)
            index = bisect_left(cost if use_cost else lots, cumulative)
            if index < len(keys) or len(keys) == len(side.amounts):
                return keys, lots, cost, index
            levels = 2 * len(keys)

    def get_price_for_volume(self, is_buy: bool, volume: QueryNumber) -> OrderBookQueryResult:
        """Price of the level at which a market order of ``volume`` base would complete.

        ``result_volume`` is the cumulative volume up to and including that level. With
        ``volume <= 0`` the answer is the best price and volume 0. Every query takes its volume
        or price as a ``Decimal``, ``int`` or ``str`` (exact); a float or NaN raises
        TypeError / ValueError naming the argument.
        """
        if not isinstance(volume, Decimal) or volume.is_nan():
            volume = _query_decimal(volume, "volume")
        if volume <= 0:
            return _result(_QueryResult, (NaN, volume, self.get_price(is_buy), _ZERO))
        while True:  # an amount with more decimals than the scale: rescale, walk again
            try:
                amounts = self._amount_scale
                target = amounts.ceilings.get(volume) or amounts.integer(volume, True)
                side = self._asks if is_buy else self._bids
                if side.walk_version == side.version:
                    keys, lots = side.walk_keys, side.walk_lots
                else:
                    keys, lots, _ = side.walk(_WALK_START, self._amount_scale)
                index = bisect_left(lots, target)
                if index == len(keys):
                    keys, lots, _, index = self._walk_to(side, target, use_cost=False)
                    if index == len(keys):
                        total = amounts.decimal(lots[-1]) if lots else _ZERO
                        return _result(_QueryResult, (NaN, volume, NaN, total))
                ticks = keys[index] * side.sign
                prices = self._price_scale
                price = prices.decimals.get(ticks) or prices.decimal(ticks)
                total = amounts.decimals.get(lots[index]) or amounts.decimal(lots[index])
                return _result(_QueryResult, (NaN, volume, price, total))
            except _Rescale as more:
                self._rescale(0, more.amount_scale)

    def get_vwap_for_volume(self, is_buy: bool, volume: QueryNumber) -> OrderBookQueryResult:
        """Volume-weighted average price of taking ``volume`` base from the book.

        ``result_volume`` is ``volume`` when the book is deep enough; otherwise the price is NaN
        and ``result_volume`` is all the side holds. With ``volume <= 0`` the answer is the best
        price (the limit of the average as the volume shrinks) and volume 0.
        """
        if not isinstance(volume, Decimal) or volume.is_nan():
            volume = _query_decimal(volume, "volume")
        if volume <= 0:
            return _result(_QueryResult, (NaN, volume, self.get_price(is_buy), _ZERO))
        while True:  # an amount with more decimals than the scale: rescale, walk again
            try:
                amounts = self._amount_scale
                target = amounts.ceilings.get(volume) or amounts.integer(volume, True)
                side = self._asks if is_buy else self._bids
                if side.walk_version == side.version:
                    keys, lots, cost = side.walk_keys, side.walk_lots, side.walk_cost
                else:
                    keys, lots, cost = side.walk(_WALK_START, self._amount_scale)
                index = bisect_left(lots, target)
                if index == len(keys):
                    keys, lots, cost, index = self._walk_to(side, target, use_cost=False)
                    if index == len(keys):
                        total = amounts.decimal(lots[-1]) if lots else _ZERO
                        return _result(_QueryResult, (NaN, volume, NaN, total))
                ticks = keys[index] * side.sign
                prices = self._price_scale
                price = prices.decimals.get(ticks) or prices.decimal(ticks)
                # Exact: the levels before ``index`` are taken whole (integer sums), the rest at its
                # price, then one division, as a Decimal walk would do it.
                if index:
                    taken = lots[index - 1]
                    quotes = self._quote_scale
                    spent = quotes.exacts.get(cost[index - 1]) or quotes.exact(cost[index - 1])
                    spent += price * (volume - (amounts.exacts.get(taken) or amounts.exact(taken)))
                else:
                    spent = price * volume
                return _result(_QueryResult, (NaN, volume, spent / volume, volume))
            except _Rescale as more:
                self._rescale(0, more.amount_scale)

    def _take_to_price(self, is_buy: bool, limit: Decimal, quote: bool) -> OrderBookQueryResult:
        while True:  # an amount with more decimals than the scale: rescale, walk again
            try:
                side = self._asks if is_buy else self._bids
                prices = self._price_scale
                # a buy takes asks with ticks <= limit; a sell takes bids with ticks >= limit, i.e.
                # keys (-ticks) <= -ceil(limit)
                if is_buy:
                    bound = prices.floors.get(limit) or prices.integer(limit, False)
                else:
                    bound = -(prices.ceilings.get(limit) or prices.integer(limit, True))
                if side.walk_version == side.version:
                    keys, lots, cost = side.walk_keys, side.walk_lots, side.walk_cost
                else:
                    keys, lots, cost = side.walk(_WALK_START, self._amount_scale)
                count = bisect_right(keys, bound)
                levels = len(keys)
                while count == len(keys) and len(keys) < len(side.amounts):
                    levels *= 2
                    keys, lots, cost = side.walk(levels, self._amount_scale)
                    count = bisect_right(keys, bound)
                if not count:
                    return _result(_QueryResult, (limit, NaN, NaN, _ZERO))
                ticks = keys[count - 1] * side.sign
                last_price = prices.decimals.get(ticks) or prices.decimal(ticks)
                if quote:
                    quotes = self._quote_scale
                    total = quotes.decimals.get(cost[count - 1]) or quotes.decimal(cost[count - 1])
                else:
                    amounts = self._amount_scale
                    total = amounts.decimals.get(lots[count - 1]) or amounts.decimal(lots[count - 1])
                return _result(_QueryResult, (limit, NaN, last_price, total))
            except _Rescale as more:
                self._rescale(0, more.amount_scale)

    def get_volume_for_price(self, is_buy: bool, price: QueryNumber) -> OrderBookQueryResult:
        """Base volume available at ``price`` or better (asks <= price for a buy, bids >= for a sell).

        ``result_price`` is the worst level included, NaN when no level qualifies.
        """
        if not isinstance(price, Decimal) or price.is_nan():
            price = _query_decimal(price, "price")
        return self._take_to_price(is_buy, price, quote=False)

    def get_quote_volume_for_price(self, is_buy: bool, price: QueryNumber) -> OrderBookQueryResult:
        """Like :meth:`get_volume_for_price`, summing ``price * amount`` (quote volume)."""
        if not isinstance(price, Decimal) or price.is_nan():
            price = _query_decimal(price, "price")
        return self._take_to_price(is_buy, price, quote=True)

    def get_price_for_quote_volume(self, is_buy: bool, quote_volume: QueryNumber) -> OrderBookQueryResult:
        """Price of the level at which spending/receiving ``quote_volume`` quote completes.

        ``result_volume`` is the cumulative quote volume up to and including that level; NaN
        price and the whole side's quote volume when the book is too shallow.
        """
        quote_volume = _query_decimal(quote_volume, "quote_volume")
        if quote_volume <= 0:
            return OrderBookQueryResult(NaN, quote_volume, self.get_price(is_buy), Decimal(0))
        while True:  # an amount with more decimals than the scale: rescale, walk again
            try:
                quotes = self._quote_scale
                side = self._asks if is_buy else self._bids
                keys, _, cost, index = self._walk_to(side, quotes.integer(quote_volume, True), use_cost=True)
                if index == len(keys):
                    total = quotes.decimal(cost[-1]) if cost else Decimal(0)
                    return OrderBookQueryResult(NaN, quote_volume, NaN, total)
                price = self._price_scale.decimal(keys[index] * side.sign)
                return OrderBookQueryResult(NaN, quote_volume, price, quotes.decimal(cost[index]))
            except _Rescale as more:
                self._rescale(0, more.amount_scale)

    def __repr__(self) -> str:
        return (
            f"OrderBook(bids={len(self._bids)}, asks={len(self._asks)}, "
            f"best_bid={self.best_bid}, best_ask={self.best_ask}, last_diff_uid={self._last_diff_uid})"
        )
