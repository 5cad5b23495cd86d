"""Property test: random snapshot/diff streams, every query compared with a plain reference model."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectorkit.core.order_book import OrderBook

NaN = Decimal("NaN")


class ReferenceBook:
    """Decimal dicts, sorted on every read: slow and obviously right."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def snapshot(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.bids, self.asks = {}, {}
        self._set(self.bids, bids)
        self._set(self.asks, asks)

    @staticmethod
    def _set(side: dict[Decimal, Decimal], rows: list[tuple[str, str]]) -> None:
        for price, amount in rows:
            if Decimal(amount) == 0:
                side.pop(Decimal(price), None)
            else:
                side[Decimal(price)] = Decimal(amount)

    def diff(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self._set(self.bids, bids)
        self._set(self.asks, asks)
        if self.bids and self.asks and max(self.bids) >= min(self.asks):
            if asks and not bids:  # the untouched bids lose what crosses the new asks
                best_ask = min(self.asks)
                self.bids = {p: q for p, q in self.bids.items() if p < best_ask}
            else:
                best_bid = max(self.bids)
                self.asks = {p: q for p, q in self.asks.items() if p > best_bid}

    def side(self, is_bid: bool) -> list[tuple[Decimal, Decimal]]:
        if is_bid:
            return sorted(self.bids.items(), reverse=True)
        return sorted(self.asks.items())

    def price_for_volume(self, is_buy: bool, volume: Decimal) -> tuple[Decimal, Decimal]:
        total = Decimal(0)
        for price, amount in self.side(not is_buy):
            total += amount
            if total >= volume:
                return price, total
        return NaN, total

    def vwap(self, is_buy: bool, volume: Decimal) -> tuple[Decimal, Decimal]:
        taken, cost = Decimal(0), Decimal(0)
        for price, amount in self.side(not is_buy):
            take = min(amount, volume - taken)
            taken += take
            cost += take * price
            if taken == volume:
                return cost / volume, volume
        return NaN, taken

    def volume_for_price(self, is_buy: bool, limit: Decimal, quote: bool) -> tuple[Decimal, Decimal]:
        ok = [(p, q) for p, q in self.side(not is_buy) if (p <= limit if is_buy else p >= limit)]
        total = sum((p * q if quote else q for p, q in ok), Decimal(0))
        return (ok[-1][0] if ok else NaN), total

    def price_for_quote_volume(self, is_buy: bool, quote: Decimal) -> tuple[Decimal, Decimal]:
        total = Decimal(0)
        for price, amount in self.side(not is_buy):
            total += price * amount
            if total >= quote:
                return price, total
        return NaN, total


def same(a: Decimal, b: Decimal) -> bool:
    return (a.is_nan() and b.is_nan()) or a == b


def assert_queries_match(
    book: OrderBook, ref: ReferenceBook, volumes: list[Decimal], price_per_volume: Decimal,
    quote_per_volume: Decimal,
) -> None:
    """Every depth query, both ways, for each volume (and the price ``volume / price_per_volume``,
    passed as a string once), equals the reference's answer."""
    for is_buy in (True, False):
        for v in volumes:
            r = book.get_price_for_volume(is_buy, v)
            p, total = ref.price_for_volume(is_buy, v)
            assert same(r.result_price, p) and r.result_volume == total
            r = book.get_vwap_for_volume(is_buy, v)
            p, total = ref.vwap(is_buy, v)
            assert same(r.result_price, p) and r.result_volume == total
            limit = v / price_per_volume
            r = book.get_volume_for_price(is_buy, limit)
            p, total = ref.volume_for_price(is_buy, limit, quote=False)
            assert same(r.result_price, p) and r.result_volume == total
            r = book.get_quote_volume_for_price(is_buy, str(limit))
            p, total = ref.volume_for_price(is_buy, limit, quote=True)
            assert same(r.result_price, p) and r.result_volume == total
            r = book.get_price_for_quote_volume(is_buy, v / quote_per_volume)
            p, total = ref.price_for_quote_volume(is_buy, v / quote_per_volume)
            assert same(r.result_price, p) and r.result_volume == total


ticks = st.integers(min_value=1, max_value=40)
spellings = st.sampled_from(["{:.2f}", "{:.8f}", "{}"])
amount = st.one_of(
    st.sampled_from(["0", "0.00000000", "0.0"]),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(50), places=3).map(str),
)


@st.composite
def level(draw: st.DrawFn) -> tuple[str, str]:
    price = Decimal(draw(ticks)) / 100
    text = draw(spellings).format(price if draw(spellings) != "{}" else price.normalize())
    return text, draw(amount)


levels = st.lists(level(), max_size=8)
query = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(60), places=3)


@settings(max_examples=150, deadline=None)
@given(
    snapshot=st.tuples(levels, levels),
    diffs=st.lists(st.tuples(levels, levels), max_size=25),
    volumes=st.lists(query, min_size=1, max_size=3),
)
def test_every_query_matches_the_reference(
    snapshot: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    diffs: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
    volumes: list[Decimal],
) -> None:
    # A snapshot from an exchange is never crossed: keep bids below 0.20 and asks above.
    snap_bids = [(p, q) for p, q in snapshot[0] if Decimal(p) < Decimal("0.2")]
    snap_asks = [(p, q) for p, q in snapshot[1] if Decimal(p) >= Decimal("0.2")]
    book, ref = OrderBook(), ReferenceBook()
    book.apply_snapshot(snap_bids, snap_asks, 1)
    ref.snapshot(snap_bids, snap_asks)
    for uid, (bids, asks) in enumerate([([], []), *diffs], start=2):
        if uid > 2:
            book.apply_diffs(bids, asks, uid)
            ref.diff(bids, asks)
        assert [(r.price, r.amount) for r in book.bid_entries()] == ref.side(True)
        assert [(r.price, r.amount) for r in book.ask_entries()] == ref.side(False)
        best_bid = ref.side(True)[0][0] if ref.bids else NaN
        best_ask = ref.side(False)[0][0] if ref.asks else NaN
        assert same(book.best_bid, best_bid) and same(book.best_ask, best_ask)
        assert same(book.mid_price, (best_bid + best_ask) / 2)
        assert_queries_match(book, ref, volumes, price_per_volume=Decimal(100), quote_per_volume=Decimal(10))


# ---------------------------------------------------------------------------------------------
# Issue 15: the book keeps prices as integer ticks and walks in integers. The same comparison
# with a Decimal reference, on what stresses that representation: deep sides (walks past the
# first block of levels the book sums at once), amounts and prices with more decimals than the
# snapshot's (the scales grow), spellings of one price with and without trailing zeros, query
# volumes finer than any amount, and a query after every update (nothing a walk kept survives).

deep_ticks = st.integers(min_value=1, max_value=400)
fine_amount = st.one_of(
    st.sampled_from(["0", "0.00", "0.000000000"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(9), places=2).map(str),
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(2), places=6).map(lambda d: f"{d:.9f}"),
)
price_spellings = st.sampled_from(["{:.3f}", "{:.5f}", "{}", "{:.7f}"])


@st.composite
def deep_level(draw: st.DrawFn) -> tuple[str, str]:
    price = Decimal(draw(deep_ticks)) / 1000
    spelling = draw(price_spellings)
    text = spelling.format(price.normalize() if spelling == "{}" else price)
    return text, draw(fine_amount)


deep_levels = st.lists(deep_level(), max_size=60)
fine_query = st.decimals(min_value=Decimal("0.0000001"), max_value=Decimal(200), places=7)


@settings(max_examples=120, deadline=None)
@given(
    snapshot=st.tuples(deep_levels, deep_levels),
    diffs=st.lists(st.tuples(deep_levels, deep_levels), max_size=12),
    volumes=st.lists(fine_query, min_size=1, max_size=3),
)
def test_integer_walks_match_the_decimal_reference_on_deep_finely_spelled_books(
    snapshot: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    diffs: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
    volumes: list[Decimal],
) -> None:
    # The snapshot has the coarsest spellings (2 amount decimals, 3 price decimals): whatever
    # finer arrives later makes the book grow its scales.
    def coarse(rows: list[tuple[str, str]], bids: bool) -> list[tuple[str, str]]:
        below = Decimal("0.2")
        return [(f"{Decimal(p):.3f}", f"{Decimal(q):.2f}") for p, q in rows if (Decimal(p) < below) == bids]

    snap_bids, snap_asks = coarse(snapshot[0], True), coarse(snapshot[1], False)
    book, ref = OrderBook(), ReferenceBook()
    book.apply_snapshot(snap_bids, snap_asks, 1)
    ref.snapshot(snap_bids, snap_asks)
    spelled: dict[tuple[bool, Decimal], tuple[str, str]] = {}
    for is_bid, rows in ((True, snap_bids), (False, snap_asks)):
        for p, q in rows:
            if Decimal(q):
                spelled[is_bid, Decimal(p)] = (p, q)
    for uid, (bids, asks) in enumerate(diffs, start=2):
        book.apply_diffs(bids, asks, uid)
        ref.diff(bids, asks)
        for is_bid, rows in ((True, bids), (False, asks)):
            for p, q in rows:
                if Decimal(q):
                    spelled[is_bid, Decimal(p)] = (p, q)
                else:
                    spelled.pop((is_bid, Decimal(p)), None)
        for is_bid in (True, False):
            expected = ref.side(is_bid)
            entries = book.bid_entries() if is_bid else book.ask_entries()
            assert [(r.price, r.amount) for r in entries] == expected
            # the exchange's strings of every level, exactly, in book order
            assert book.raw_levels(is_bid) == [spelled[is_bid, p] for p, _ in expected]
        assert_queries_match(book, ref, volumes, price_per_volume=Decimal(500), quote_per_volume=Decimal(50))
