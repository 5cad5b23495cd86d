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
        for is_buy in (True, False):
            for v in volumes:
                r = book.get_price_for_volume(is_buy, v)
                p, total = ref.price_for_volume(is_buy, v)
                assert same(r.result_price, p) and r.result_volume == total
                r = book.get_vwap_for_volume(is_buy, v)
                p, total = ref.vwap(is_buy, v)
                assert same(r.result_price, p) and r.result_volume == total
                limit = v / 100
                r = book.get_volume_for_price(is_buy, limit)
                p, total = ref.volume_for_price(is_buy, limit, quote=False)
                assert same(r.result_price, p) and r.result_volume == total
                r = book.get_quote_volume_for_price(is_buy, limit)
                p, total = ref.volume_for_price(is_buy, limit, quote=True)
                assert same(r.result_price, p) and r.result_volume == total
                r = book.get_price_for_quote_volume(is_buy, v / 10)
                p, total = ref.price_for_quote_volume(is_buy, v / 10)
                assert same(r.result_price, p) and r.result_volume == total
