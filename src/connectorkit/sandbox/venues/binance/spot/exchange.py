"""Spot exchange logic without HTTP: order validation, placement, queries, trade history, events.

REST (``spot.rest``) and the WebSocket API (``spot.wsapi``) both call into this.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Required, TypedDict, Unpack

from connectorkit.sandbox.accounts import Account
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.engine import (
    ZERO,
    Fill,
    MatchingEngine,
    Order,
    Side,
    TimeInForce,
    UnknownOrder,
    WouldTake,
)
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.persistence import order_from_json, order_to_json
from connectorkit.sandbox.venue import Execution, PlaceResult, Venue
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.spot import events, filters
from connectorkit.sandbox.venues.binance.spot.ledger import SpotLedger

_CLIENT_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")
_SYMBOL_RE = re.compile(r"^[A-Z0-9-_.]{1,20}$")
_ALNUM = string.ascii_letters + string.digits
SPOT_ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
SPOT_TIFS = ("GTC", "IOC", "FOK")


def random_client_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(22))


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One account's side of one fill (GET /api/v3/myTrades)."""

    symbol: str
    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool


UserSink = Callable[[int, dict[str, Any]], None]


class NewOrderParams(TypedDict, total=False):
    """The parameters of a new spot order (REST names in snake case); ``None`` = not sent."""

    symbol: Required[str | None]
    side: Required[str | None]
    order_type: Required[str | None]
    time_in_force: str | None
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    client_order_id: str | None


_ORDER_PARAM_NAMES = NewOrderParams.__required_keys__ | NewOrderParams.__optional_keys__


class SpotExchange:
    def __init__(self, markets: Sequence[Market], clock: SandboxClock, accounts: Any) -> None:
        self.clock = clock
        self.markets: dict[str, Market] = {m.symbol: m for m in markets}
        self.engine = MatchingEngine()
        for m in markets:
            self.engine.add_symbol(m.symbol, m.step_size)
        self.ledger = SpotLedger(accounts, self.markets)
        self.venue = Venue(self.engine, self.ledger, clock)
        self.venue.listeners.append(self)
        self.orders: dict[int, Order] = {}
        self._client_ids: dict[tuple[int, str, str], int] = {}
        self.trades: dict[int, list[TradeRecord]] = defaultdict(list)
        self._exec_ids = itertools.count(1)
        #: ``user_sink(account_id, event)`` delivers user-data events (set by the product).
        self.user_sink: UserSink | None = None
        #: Called with the fills of each taker order, in order (market-data trade streams).
        self.trade_listeners: list[Callable[[list[Fill]], None]] = []
        #: Accounts whose finished orders and trades are not kept (the simulator's bots).
        self.ephemeral_accounts: set[int] = set()

    # ---- helpers ---------------------------------------------------------------------------------
    def market(self, symbol: str | None) -> Market:
        if symbol is None:
            raise errors.mandatory_param("symbol")
        if not _SYMBOL_RE.fullmatch(symbol):
            raise errors.illegal_chars("symbol", _SYMBOL_RE.pattern)  # Binance does not upper-case it
        market = self.markets.get(symbol)
        if market is None:
            raise errors.invalid_symbol()
        return market

    def _emit(self, account_id: int, event: dict[str, Any]) -> None:
        if self.user_sink is not None:
            self.user_sink(account_id, event)

    def _flush_positions(self) -> None:
        now = self.clock.now_ms()
        for account_id, assets in self.ledger.drain_touched().items():
            if account_id in self.ephemeral_accounts:
                continue
            self._emit(account_id, events.account_position(self.ledger.balances[account_id], assets, now))

    # ---- VenueListener ---------------------------------------------------------------------------
    def on_executions(self, executions: list[Execution]) -> None:
        now = self.clock.now_ms()
        taker_fills = [ex.fill for ex in executions if ex.fill is not None and not ex.is_maker]
        for ex in executions:
            order = ex.order
            if order.account_id in self.ephemeral_accounts:
                # Simulator bots: nobody listens to them, and their history is not kept.
                if ex.status.is_final:
                    self.orders.pop(order.order_id, None)
                    self._client_ids.pop((order.account_id, order.symbol, order.client_order_id), None)
                continue
            if ex.fill is not None and ex.charge is not None:
                fill = ex.fill
                self.trades[order.account_id].append(
                    TradeRecord(
                        fill.symbol,
                        fill.trade_id,
                        order.order_id,
                        fill.price,
                        fill.qty,
                        fill.quote_qty,
                        ex.charge.commission,
                        ex.charge.commission_asset,
                        fill.time,
                        order.side is Side.BUY,
                        ex.is_maker,
                    )
                )
            self._emit(order.account_id, events.execution_report(ex, now, next(self._exec_ids)))
        self._flush_positions()
        if taker_fills:
            for listener in self.trade_listeners:
                listener(taker_fills)

    # ---- commands --------------------------------------------------------------------------------
    def new_order(self, account: Account, **params: Unpack[NewOrderParams]) -> PlaceResult:
        """Validate as Binance does (Spot docs "New order (TRADE)") and place the order."""
        market, tif = self.validate_order(**params)
        side, order_type = params["side"], params["order_type"]
        quantity, quote_order_qty = params.get("quantity"), params.get("quote_order_qty")
        price, client_order_id = params.get("price"), params.get("client_order_id")
        assert side is not None and order_type is not None
        if quote_order_qty is not None:
            self._check_quote_order_liquidity(market, Side(side))
        cid = client_order_id or random_client_id()
        key = (account.account_id, market.symbol, cid)
        previous = self._client_ids.get(key)
        if previous is not None and self.orders[previous].is_open:
            raise errors.duplicate_order()
        now = self.clock.now_ms()
        order = Order(
            order_id=self.engine.next_order_id(),
            symbol=market.symbol,
            account_id=account.account_id,
            client_order_id=cid,
            side=Side(side),
            type=order_type,
            time_in_force=tif,
            price=price,
            orig_qty=quantity if quantity is not None else ZERO,
            orig_quote_qty=quote_order_qty,
            time=now,
            update_time=now,
        )
        try:
            result = self.venue.place(order)
        except WouldTake:
            # Refused before it existed: the reservation was undone, so no balance event is due. Every
            # other change is flushed as it happens, so these marks are this order's alone.
            self.ledger.touched.pop(account.account_id, None)
            raise errors.would_take() from None
        if order.is_open or account.account_id not in self.ephemeral_accounts:
            self.orders[order.order_id] = order
            self._client_ids[key] = order.order_id
        return result

    def validate_order(self, **params: Unpack[NewOrderParams]) -> tuple[Market, TimeInForce | None]:
        """Parameter and filter checks of a new order, without touching the book or balances (also
        what "Test new order (TRADE)" runs). Returns the market and the time in force."""
        unknown = params.keys() - _ORDER_PARAM_NAMES
        if unknown:  # a misspelt keyword from an untyped caller must not be silently ignored
            raise TypeError(f"unexpected order parameters: {sorted(unknown)}")
        symbol, side, order_type = params["symbol"], params["side"], params["order_type"]
        time_in_force, client_order_id = params.get("time_in_force"), params.get("client_order_id")
        quantity, quote_order_qty = params.get("quantity"), params.get("quote_order_qty")
        price = params.get("price")
        market = self.market(symbol)
        if side is None:
            raise errors.mandatory_param("side")
        if side not in ("BUY", "SELL"):
            raise errors.invalid_side()
        if order_type is None:
            raise errors.mandatory_param("type")
        if order_type not in SPOT_ORDER_TYPES:
            raise errors.invalid_order_type()
        if client_order_id is not None and not _CLIENT_ID_RE.match(client_order_id):
            raise errors.illegal_chars("newClientOrderId", "^[a-zA-Z0-9-_]{1,36}$")
        tif: TimeInForce | None = None
        if order_type == "LIMIT":
            if time_in_force is None:
                raise errors.mandatory_param("timeInForce")
            if time_in_force not in SPOT_TIFS:
                raise errors.invalid_tif()
            tif = TimeInForce(time_in_force)
        elif time_in_force is not None:
            raise errors.not_required("timeInForce")
        if order_type == "MARKET":
            if price is not None:
                raise errors.not_required("price")
            if quantity is None and quote_order_qty is None:
                raise errors.one_of_params("quantity", "quoteOrderQty")
            if quantity is not None and quote_order_qty is not None:
                raise errors.bad_combo()
        else:
            if quote_order_qty is not None:
                raise errors.not_required("quoteOrderQty")
            if quantity is None:
                raise errors.mandatory_param("quantity")
            if price is None:
                raise errors.mandatory_param("price")
            filters.check_price(market, price)
        if quantity is not None:
            filters.check_qty(market, quantity)
        if price is not None and quantity is not None:
            filters.check_notional(market, price * quantity, is_market=False)
        elif quote_order_qty is not None:
            filters.check_notional(market, quote_order_qty, is_market=True)
        elif quantity is not None:
            ref = self.reference_price(market.symbol)
            if ref is not None:
                filters.check_notional(market, ref * quantity, is_market=True)
        return market, tif

    def _check_quote_order_liquidity(self, market: Market, side: Side) -> None:
        """Spot docs "Error codes", messages for -2010: a MARKET order by ``quoteOrderQty`` is refused
        when the opposite side of the book is empty or holds less than the LOT_SIZE minimum quantity."""
        bids, asks = self.engine.book(market.symbol).depth()
        levels = asks if side is Side.BUY else bids
        if not levels:
            raise errors.no_book_liquidity()
        if sum((qty for _, qty in levels), ZERO) < market.min_qty:
            raise errors.book_liquidity_below_lot_size()

    def reference_price(self, symbol: str) -> Decimal | None:
        """Last trade price, else the mid of the book (stands in for the average price)."""
        book = self.engine.book(symbol)
        if book.last_trade is not None:
            return book.last_trade.price
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask:
            return (bid[0] + ask[0]) / 2
        return None

    def find_order(
        self, account: Account, symbol: str | None, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        market = self.market(symbol)
        if order_id is not None:
            order = self.orders.get(order_id)
        elif client_order_id is not None:
            oid = self._client_ids.get((account.account_id, market.symbol, client_order_id))
            order = self.orders.get(oid) if oid is not None else None
        else:
            raise errors.one_of_params("orderId", "origClientOrderId")
        if order is None or order.account_id != account.account_id or order.symbol != market.symbol:
            return None
        if client_order_id is not None and order.client_order_id != client_order_id:
            raise errors.client_order_id_mismatch()
        return order

    def query_order(
        self, account: Account, symbol: str | None, order_id: int | None, client_order_id: str | None
    ) -> Order:
        order = self.find_order(account, symbol, order_id, client_order_id)
        if order is None:
            raise errors.no_such_order()
        return order

    def cancel_order(
        self,
        account: Account,
        symbol: str | None,
        order_id: int | None,
        client_order_id: str | None,
        new_client_order_id: str | None = None,
    ) -> Order:
        order = self.find_order(account, symbol, order_id, client_order_id)
        if order is None or not order.is_open:
            raise errors.cancel_unknown_order()
        order.extra["cancel_client_order_id"] = new_client_order_id or random_client_id()
        try:
            self.venue.cancel(order.symbol, order.order_id)
        except UnknownOrder:
            raise errors.cancel_unknown_order() from None
        return order

    def open_orders(self, account: Account, symbol: str | None = None) -> list[Order]:
        symbols = [self.market(symbol).symbol] if symbol is not None else list(self.markets)
        return [o for s in symbols for o in self.engine.book(s).open_orders(account.account_id)]

    def cancel_all(self, account: Account, symbol: str | None) -> list[Order]:
        market = self.market(symbol)
        orders = self.engine.book(market.symbol).open_orders(account.account_id)
        if not orders:
            raise errors.cancel_unknown_order()
        for order in orders:
            order.extra["cancel_client_order_id"] = random_client_id()
            self.venue.cancel(order.symbol, order.order_id)
        return orders

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Admin deposit/withdrawal: balanceUpdate + outboundAccountPosition, as a real deposit sends."""
        self.ledger.deposit(account_id, asset, amount)
        self._emit(account_id, events.balance_update(asset, amount, self.clock.now_ms()))
        self._flush_positions()

    # ---- persistence -----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger.dump(),
            "orders": [order_to_json(o) for o in self.orders.values()],
            "open": {s: [o.order_id for o in b.open_orders()] for s, b in self.engine.books.items()},
            "trade_ids": {s: b.next_trade_id for s, b in self.engine.books.items()},
            "update_ids": {s: b.update_id for s, b in self.engine.books.items()},
            "order_id_seq": self.engine.order_id_seq,
            "trades": {str(a): [_trade_to_json(t) for t in ts] for a, ts in self.trades.items()},
        }

    def load(self, state: dict[str, Any]) -> None:
        self.ledger.load(state["ledger"])
        self.orders = {o.order_id: o for o in (order_from_json(r) for r in state["orders"])}
        self._client_ids = {
            (o.account_id, o.symbol, o.client_order_id): o.order_id for o in self.orders.values()
        }
        for symbol, ids in state["open"].items():
            book = self.engine.books.get(symbol)
            if book is None:
                continue
            for oid in ids:
                book.restore(self.orders[oid])
            book.next_trade_id = int(state["trade_ids"][symbol])
            book.update_id = max(book.update_id, int(state["update_ids"][symbol]))
            book.drain_changes()
        self.engine.order_id_seq = int(state["order_id_seq"])
        self.trades = defaultdict(list)
        for acct, rows in state["trades"].items():
            self.trades[int(acct)] = [_trade_from_json(r) for r in rows]


def _trade_to_json(t: TradeRecord) -> list[Any]:
    return [
        t.symbol, t.trade_id, t.order_id, str(t.price), str(t.qty), str(t.quote_qty),
        str(t.commission), t.commission_asset, t.time, t.is_buyer, t.is_maker,
    ]  # fmt: skip


def _trade_from_json(r: list[Any]) -> TradeRecord:
    return TradeRecord(
        r[0], int(r[1]), int(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]),
        Decimal(r[6]), r[7], int(r[8]), bool(r[9]), bool(r[10]),
    )  # fmt: skip
