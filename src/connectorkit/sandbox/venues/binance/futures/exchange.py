"""The USD-M futures exchange of the sandbox, without HTTP: orders, positions, marks, funding, events.

:class:`FuturesExchange` owns the matching engine, the futures ledger (accounts) and the shared
order pipeline (``Venue``). It validates orders the way ``POST /fapi/v1/order`` does (USDⓈ-M docs,
"New Order (TRADE)" and "Error Codes"), turns every execution into the user-data events
``ORDER_TRADE_UPDATE`` / ``ACCOUNT_UPDATE`` and the public ``aggTrade`` / ``bookTicker`` events, and
settles funding. The REST layer (:mod:`.rest`) only parses parameters and formats answers.
"""

from __future__ import annotations

import random
import re
import string
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectorkit.core.enums import PositionSide
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.engine import (
    MatchingEngine,
    Order,
    OrderStatus,
    Side,
    TimeInForce,
    UnknownOrder,
    WouldTake,
)
from connectorkit.sandbox.history import MarketHistory
from connectorkit.sandbox.venue import Execution, Venue
from connectorkit.sandbox.venues.binance import errors as core_errors

from . import errors, wire
from .account import FillResult, FuturesAccount, IncomeRecord
from .funding import FundingRecord, MarkState
from .ledger import FuturesLedger, order_position_side, trade_type
from .markets import FuturesMarket

Json = dict[str, Any]
EmitUser = Callable[[int, Json], None]
Publish = Callable[[str, Json], None]

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CONDITIONAL_TYPES = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
)
_ID_ALPHABET = string.ascii_letters + string.digits
# "Event: Order Update" expiry reasons.
EXPIRY_IOC = 2
EXPIRY_REDUCE_ONLY = 4
EXPIRY_LIQUIDATION = 5
EXPIRY_MARKET = 9
# Trade REST, "Query Order": these orders are no longer found — CANCELED or EXPIRED with no filled
# trade once created time + 3 days has passed, and any order created more than 90 days ago.
UNFILLED_ORDER_RETENTION_MS = 3 * 86_400_000
ORDER_RETENTION_MS = 90 * 86_400_000


def _decimals(value: Decimal) -> int:
    """Significant decimal places (``"0.0100"`` has 2), as the precision check counts them."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _default_expiry_reason(order: Order) -> int:
    """Expiry reason of an EXPIRED order whose expiry set none: MARKET 9, IOC 2; a resting GTC order
    expires on its own only when the ledger's maker cap knocked it out inside a sweep (reason 4)."""
    if order.is_market:
        return EXPIRY_MARKET
    if order.time_in_force is TimeInForce.GTC:
        return EXPIRY_REDUCE_ONLY
    return EXPIRY_IOC


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """``POST /fapi/v1/order`` parameters, parsed (strings checked for presence/format by REST)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None
    price: Decimal | None = None
    time_in_force: str | None = None
    position_side: str | None = None
    reduce_only: bool | None = None
    new_client_order_id: str | None = None
    resp_type: str = "ACK"


class FuturesExchange:
    def __init__(
        self,
        markets: Sequence[FuturesMarket],
        clock: SandboxClock,
        emit_user: EmitUser,
        publish: Publish,
        rng: random.Random | None = None,
    ) -> None:
        self.markets = {m.symbol: m for m in markets}
        # Draws the clientOrderId of orders sent without one; seeded by the product so that a
        # seeded sandbox replays the same ids (the simulated traders never send one).
        self._rng = rng if rng is not None else random.Random()
        self.clock = clock
        self._emit_user = emit_user
        self._publish = publish
        now = clock.now_ms()
        self.marks = {
            m.symbol: MarkState.start(
                m.symbol, m.mid, now, interval_ms=m.funding_interval_ms, fixed_rate=m.funding_rate
            )
            for m in markets
        }
        self.engine = MatchingEngine()
        for m in markets:
            self.engine.add_symbol(m.symbol, m.step_size)
        self.ledger = FuturesLedger(self.markets, self.mark_prices, clock.now_ms)
        self.venue = Venue(self.engine, self.ledger, clock)
        self.venue.listeners.append(self)
        self.orders: dict[int, Order] = {}  # orders accepted, for GET /fapi/v1/order (until pruned)
        self._by_age: deque[tuple[int, int]] = deque()  # (created, order id) of self.orders, oldest first
        self._unfilled_final: deque[tuple[int, int]] = deque()  # (created, id): ended with no fill
        # Accounts whose history is not kept (the simulated traders): only their state is.
        self.ephemeral_accounts: set[int] = set()
        self.agg_ids = dict.fromkeys(self.markets, 0)  # last aggTrade id per symbol
        # Public trades, klines and 24 h statistics (Market Data REST and streams).
        self.history = MarketHistory(self.markets)
        # Settled funding periods per symbol, oldest first (Market Data REST "Get Funding Rate History").
        self.funding_history: dict[str, list[FundingRecord]] = {s: [] for s in self.markets}
        self._margin_called: set[tuple[int, str]] = set()
        self._tickers: dict[str, tuple[Any, Any]] = {}

    # ---- lookups ---------------------------------------------------------------------------------
    def market(self, symbol: str | None) -> FuturesMarket:
        market = self.markets.get(symbol or "")
        if market is None:
            raise errors.bad_symbol()
        return market

    def mark_prices(self) -> dict[str, Decimal]:
        return {s: st.mark_price for s, st in self.marks.items()}

    def account(self, account_id: int) -> FuturesAccount:
        return self.ledger.account(account_id)

    def fund(self, account_id: int, balances: dict[str, Decimal]) -> None:
        """Credit futures wallet balances (a TRANSFER income record each)."""
        acct = self.account(account_id)
        for asset, amount in balances.items():
            acct.deposit(asset, Decimal(amount), self.clock.now_ms())

    def transfer_in(self, account_id: int, asset: str, amount: Decimal) -> None:
        """A transfer into (or, negative, out of) the futures wallet while the sandbox runs: TRANSFER
        income, pushed as ``ACCOUNT_UPDATE`` with reason DEPOSIT / WITHDRAW, balance change ``bc``
        ("Event: Balance and Position Update")."""
        acct = self.account(account_id)
        now = self.clock.now_ms()
        acct.deposit(asset, Decimal(amount), now)
        self._emit_user(
            account_id,
            wire.account_update(
                reason="DEPOSIT" if amount >= 0 else "WITHDRAW",
                balances=[(asset, acct.balance(asset), Decimal(amount))],
                positions=[],
                event_time=now,
                transaction_time=now,
            ),
        )

    def open_orders(self, account_id: int, symbol: str | None = None) -> list[Order]:
        books = [self.engine.book(symbol)] if symbol else list(self.engine.books.values())
        return [o for b in books for o in b.open_orders(account_id)]

    # ---- orders ----------------------------------------------------------------------------------
    def new_order(self, account_id: int, req: OrderRequest) -> Json:
        """Validate, place and answer like ``POST /fapi/v1/order`` (ACK or RESULT shape)."""
        market = self.market(req.symbol)
        acct = self.account(account_id)
        if req.side not in ("BUY", "SELL"):
            raise core_errors.invalid_side()
        if req.type in CONDITIONAL_TYPES:
            raise core_errors.ApiError(
                -4120,
                "Order type not supported for this endpoint. "
                "Please use the Algo Order API endpoints instead.",
            )
        if req.type not in ("LIMIT", "MARKET"):
            raise core_errors.invalid_order_type()
        if req.resp_type not in ("ACK", "RESULT"):
            raise core_errors.ApiError(-1136, "Invalid newOrderRespType.")
        ps = acct.resolve_position_side(req.position_side)
        if req.reduce_only and acct.dual_side_position:
            raise errors.not_required("reduceOnly")
        reduce_only = bool(req.reduce_only)
        if req.quantity is None:
            raise errors.mandatory("quantity")
        tif: TimeInForce | None = None
        if req.type == "LIMIT":
            if req.time_in_force is None:
                raise errors.mandatory("timeInForce")
            try:
                tif = TimeInForce(req.time_in_force)
            except ValueError:
                raise core_errors.invalid_tif() from None
            if req.price is None:
                raise errors.mandatory("price")
            self._check_price(market, req.price)
        elif req.price is not None:
            raise errors.not_required("price")
        self._check_quantity(market, req.quantity, is_market=req.type == "MARKET")
        ref_price = req.price if req.price is not None else self.marks[market.symbol].mark_price
        if not reduce_only and ref_price * req.quantity < market.min_notional:
            raise core_errors.ApiError(
                errors.MIN_NOTIONAL,
                f"Order's notional must be no smaller than {wire.fmt(market.min_notional)} "
                "(unless you choose reduce only)",
            )
        client_id = req.new_client_order_id
        if client_id is None:
            client_id = "".join(self._rng.choices(_ID_ALPHABET, k=22))
        elif not CLIENT_ID_RE.match(client_id):
            raise core_errors.ApiError(errors.INVALID_CL_ORD_ID_LEN, "Client order id is not valid.")
        if any(o.client_order_id == client_id for o in self.open_orders(account_id)):
            raise core_errors.ApiError(errors.DUPLICATED_CLIENT_ORDER_ID, "clientOrderId is duplicated")
        now = self.clock.now_ms()
        order = Order(
            order_id=self.engine.next_order_id(),
            symbol=market.symbol,
            account_id=account_id,
            client_order_id=client_id,
            side=Side(req.side),
            type=req.type,
            time_in_force=tif if tif is not None else TimeInForce.GTC,
            price=req.price,
            orig_qty=req.quantity,
            time=now,
            update_time=now,
            extra={"positionSide": ps, "reduceOnly": reduce_only, "origType": req.type},
        )
        book = self.engine.book(market.symbol)
        if tif is TimeInForce.FOK and book.preview(order, self.ledger.maker_limit)[0] < order.orig_qty:
            raise core_errors.ApiError(
                errors.FOK_ORDER_REJECT,
                "Due to the order could not be filled immediately, the FOK order has been rejected.",
            )
        ack = wire.order_json(order, with_time=False)
        try:
            self.venue.place(order)
        except WouldTake:
            raise core_errors.ApiError(
                errors.GTX_ORDER_REJECT,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            ) from None
        if account_id not in self.ephemeral_accounts:
            self.keep_order(order)
        self.expire_stale_closing_orders(market.symbol)
        return ack if req.resp_type == "ACK" else wire.order_json(order, with_time=False)

    @staticmethod
    def _check_price(market: FuturesMarket, price: Decimal) -> None:
        if _decimals(price) > market.price_precision:
            raise core_errors.ApiError(-1111, "Precision is over the maximum defined for this asset.")
        if price <= 0:
            raise core_errors.ApiError(-4001, "Price less than 0.")
        if price < market.min_price:
            raise core_errors.ApiError(-4013, "Price less than min price.")
        if price > market.max_price:
            raise core_errors.ApiError(-4002, "Price greater than max price.")
        if (price - market.min_price) % market.tick_size != 0:
            raise core_errors.ApiError(
                errors.PRICE_NOT_INCREASED_BY_TICK_SIZE, "Price not increased by tick size."
            )

    @staticmethod
    def _check_quantity(market: FuturesMarket, qty: Decimal, *, is_market: bool) -> None:
        if _decimals(qty) > market.quantity_precision:
            raise core_errors.ApiError(-1111, "Precision is over the maximum defined for this asset.")
        if qty <= 0:
            raise core_errors.ApiError(errors.QTY_LESS_THAN_ZERO, "Quantity less than zero.")
        if qty < market.min_qty:
            raise core_errors.ApiError(-4004, "Quantity less than min quantity.")
        if qty > (market.market_max_qty if is_market else market.max_qty):
            raise core_errors.ApiError(-4005, "Quantity greater than max quantity.")
        if (qty - market.min_qty) % market.step_size != 0:
            raise core_errors.ApiError(
                errors.QTY_NOT_INCREASED_BY_STEP_SIZE, "Qty not increased by step size."
            )

    def keep_order(self, order: Order) -> None:
        """Keep ``order`` for the order queries until :meth:`prune_orders` lets it go."""
        self.orders[order.order_id] = order
        self._by_age.append((order.time, order.order_id))
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and order.executed_qty == 0:
            self._unfilled_final.append((order.time, order.order_id))

    def prune_orders(self, now_ms: int) -> int:
        """Forget the orders "Query Order" no longer finds (see the retention constants)."""
        before = len(self.orders)
        while self._unfilled_final and self._unfilled_final[0][0] + UNFILLED_ORDER_RETENTION_MS < now_ms:
            self.orders.pop(self._unfilled_final.popleft()[1], None)
        while self._by_age and self._by_age[0][0] + ORDER_RETENTION_MS < now_ms:
            order_id = self._by_age.popleft()[1]
            order = self.orders.get(order_id)
            if order is not None and not order.is_open:
                del self.orders[order_id]
        return before - len(self.orders)

    def find_order(self, account_id: int, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        """Order by id or client id (``orderId`` wins); -2013 when unknown to this account."""
        self.market(symbol)
        if order_id is None and client_id is None:
            raise core_errors.one_of_params("orderId", "origClientOrderId")
        resting = self.engine.book(symbol).get(order_id) if order_id is not None else None
        if resting is not None and resting.account_id == account_id:
            return resting
        for order in reversed(self.orders.values()):
            if order.account_id != account_id or order.symbol != symbol:
                continue
            if (order_id is not None and order.order_id == order_id) or (
                order_id is None and order.client_order_id == client_id
            ):
                return order
        raise core_errors.ApiError(errors.NO_SUCH_ORDER, "Order does not exist.")

    def cancel_order(
        self, account_id: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> Order:
        """``DELETE /fapi/v1/order``; -2011 "Unknown order sent." for unknown or final orders."""
        try:
            order = self.find_order(account_id, symbol, order_id, client_id)
        except core_errors.ApiError as err:
            if err.code == errors.NO_SUCH_ORDER:
                raise core_errors.ApiError(errors.CANCEL_REJECTED, "Unknown order sent.") from None
            raise
        if not order.is_open:
            raise core_errors.ApiError(errors.CANCEL_REJECTED, "Unknown order sent.")
        try:
            return self.venue.cancel(symbol, order.order_id)
        except UnknownOrder:
            raise core_errors.ApiError(errors.CANCEL_REJECTED, "Unknown order sent.") from None

    def cancel_all(self, account_id: int, symbol: str) -> int:
        self.market(symbol)
        orders = self.open_orders(account_id, symbol)
        for order in orders:
            self.venue.cancel(symbol, order.order_id)
        return len(orders)

    def expire_stale_closing_orders(self, symbol: str) -> None:
        """Expire resting reduce-only / hedge-closing orders that could now open or flip a position.

        Binance does this with expiry reason 4 ("knocked out by another higher priority RO order or
        reversed positions would be opened").
        """
        for account_id, acct in self.ledger.accounts.items():
            claimed: dict[tuple[Side, PositionSide], Decimal] = {}
            for order in self.open_orders(account_id, symbol):
                ps = order_position_side(order)
                closing = order.extra.get("reduceOnly") or (
                    (ps is PositionSide.LONG and order.side is Side.SELL)
                    or (ps is PositionSide.SHORT and order.side is Side.BUY)
                )
                if not closing:
                    continue
                key = (order.side, ps)
                claimed[key] = claimed.get(key, Decimal(0)) + order.remaining
                if claimed[key] > acct.closable(symbol, trade_type(order.side), ps):
                    claimed[key] -= order.remaining
                    order.extra["expiryReason"] = EXPIRY_REDUCE_ONLY
                    self.venue.cancel(symbol, order.order_id, OrderStatus.EXPIRED)

    # ---- account settings ------------------------------------------------------------------------
    def set_leverage(self, account_id: int, symbol: str, leverage: int) -> Json:
        market = self.market(symbol)
        self.account(account_id).set_leverage(symbol, leverage, self.mark_prices())
        self._emit_user(account_id, wire.account_config_update(symbol, leverage, self.clock.now_ms()))
        # Trade REST, "Change Initial Leverage": {"leverage", "maxNotionalValue", "symbol"}.
        return {"leverage": leverage, "maxNotionalValue": wire.fmt(market.max_notional), "symbol": symbol}

    def set_dual_side(self, account_id: int, dual: bool) -> None:
        self.account(account_id).set_dual_side_position(dual)

    # ---- income ----------------------------------------------------------------------------------
    def income(
        self,
        account_id: int,
        *,
        symbol: str | None,
        income_type: str | None,
        start: int | None,
        end: int | None,
        limit: int,
    ) -> list[IncomeRecord]:
        """``GET /fapi/v1/income``: oldest first; the last 7 days when no time range is given."""
        now = self.clock.now_ms()
        if start is None and end is None:
            start = now - 7 * 86_400_000
        rows = [
            r
            for r in self.account(account_id).income
            if (symbol is None or r.symbol == symbol)
            and (income_type is None or r.income_type == income_type)
            and (start is None or r.time >= start)
            and (end is None or r.time <= end)
        ]
        return rows[:limit]

    # ---- marks and funding -----------------------------------------------------------------------
    def refresh_marks(self) -> None:
        """Mark = index = mid of the book (last trade, or the configured start, when one side is empty)."""
        now = self.clock.now_ms()
        for symbol, state in self.marks.items():
            book = self.engine.book(symbol)
            bid, ask = book.best_bid(), book.best_ask()
            if bid is not None and ask is not None:
                price = (bid[0] + ask[0]) / 2
            elif book.last_trade is not None:
                price = book.last_trade.price
            else:
                price = state.mark_price
            state.update_prices(price, price, now)

    def liquidate(self) -> int:
        """Liquidate every account whose margin balance fell to its maintenance margin.

        A deliberately simple model of Binance's cross-margin liquidation: the account's open orders
        in that margin asset expire (status EXPIRED, expiry reason 5 "Order has expired when the
        account was liquidated"), then each position is closed at the mark price by the
        insurance fund (order type LIQUIDATION, client id ``autoclose-<time>``, execution type
        CALCULATED, as "Event: Order Update" describes; taker commission, no extra liquidation fee;
        the book is not touched and no aggTrade is published, as for insurance-fund trades). A wallet
        left negative is reset to zero by an INSURANCE_CLEAR income. Returns positions closed.
        """
        now = self.clock.now_ms()
        marks = self.mark_prices()
        closed = 0
        for account_id, acct in list(self.ledger.accounts.items()):
            if account_id in self.ephemeral_accounts:
                continue
            for asset in acct.assets():
                if not acct.below_maintenance(asset, marks):
                    continue
                for symbol, market in self.markets.items():
                    if market.margin_asset == asset:
                        for order in self.open_orders(account_id, symbol):
                            order.extra["expiryReason"] = EXPIRY_LIQUIDATION
                            self.venue.cancel(symbol, order.order_id, OrderStatus.EXPIRED)
                for pos in acct.open_positions():
                    if self.markets[pos.symbol].margin_asset == asset:
                        mark = marks[pos.symbol]
                        self._liquidate_position(account_id, acct, pos.symbol, pos.side, mark, now)
                        closed += 1
                cleared = acct.insurance_clear(asset, now)
                if cleared is not None:
                    self._emit_user(
                        account_id,
                        wire.account_update(
                            reason="INSURANCE_CLEAR",
                            balances=[(asset, acct.balance(asset), cleared.income)],
                            positions=[],
                            event_time=now,
                            transaction_time=now,
                        ),
                    )
        return closed

    def _liquidate_position(
        self, account_id: int, acct: FuturesAccount, symbol: str, ps: PositionSide, mark: Decimal, now: int
    ) -> None:
        pos = acct.position(symbol, ps)
        side = Side.SELL if pos.amount > 0 else Side.BUY
        qty = abs(pos.amount)
        order = Order(
            order_id=self.engine.next_order_id(),
            symbol=symbol,
            account_id=account_id,
            client_order_id=f"autoclose-{now}",
            side=side,
            type="LIQUIDATION",
            time_in_force=TimeInForce.IOC,
            price=mark,
            orig_qty=qty,
            time=now,
            update_time=now,
            extra={"positionSide": ps, "reduceOnly": True, "origType": "LIQUIDATION"},
        )
        self.keep_order(order)
        book = self.engine.book(symbol)
        trade_id = book.next_trade_id
        book.next_trade_id = trade_id + 1
        market = self.markets[symbol]
        self._emit_user(account_id, self._liquidation_update(order, "NEW", Decimal(0), None, trade_id, now))
        result = acct.apply_fill(
            symbol, trade_type(side), ps, qty, mark, is_maker=False, trade_id=trade_id, time_ms=now
        )
        order.executed_qty, order.cum_quote_qty, order.status = qty, qty * mark, OrderStatus.FILLED
        leg = self.ledger.record_leg(order, trade_id, mark, qty, result, False, now)
        self._emit_user(
            account_id,
            wire.account_update(
                reason="ORDER",
                balances=[(leg.commission_asset, leg.wallet_balance, Decimal(0))],
                positions=[wire.position_update(leg.position, market, mark)],
                event_time=now,
                transaction_time=now,
            ),
        )
        self._emit_user(account_id, self._liquidation_update(order, "CALCULATED", qty, result, trade_id, now))

    def _liquidation_update(
        self, order: Order, exec_type: str, qty: Decimal, result: FillResult | None, trade_id: int, now: int
    ) -> Json:
        return wire.order_trade_update(
            order,
            exec_type=exec_type,
            status="FILLED" if qty else "NEW",
            executed_qty=qty,
            cum_quote_qty=qty * (order.price or Decimal(0)),
            last_qty=qty,
            last_price=order.price if qty and order.price is not None else Decimal(0),
            commission=result.commission if result is not None else Decimal(0),
            commission_asset=self.markets[order.symbol].margin_asset,
            trade_time=now,
            trade_id=trade_id if qty else 0,
            is_maker=False,
            realized_pnl=result.realized_pnl if result is not None else Decimal(0),
            bids_notional=Decimal(0),
            asks_notional=Decimal(0),
            event_time=now,
        )

    def check_margin_calls(self) -> int:
        """Push ``MARGIN_CALL`` once when an account's margin balance falls to its maintenance margin.

        The sandbox's "risk ratio too high" line is the maintenance margin itself; the ticker calls
        this just before :meth:`liquidate`, so the warning precedes the liquidation events.
        Returns the number of events sent.
        """
        now = self.clock.now_ms()
        marks = self.mark_prices()
        sent = 0
        for account_id, acct in self.ledger.accounts.items():
            if account_id in self.ephemeral_accounts:
                continue
            for asset in acct.assets():
                key = (account_id, asset)
                if not acct.below_maintenance(asset, marks):
                    self._margin_called.discard(key)
                    continue
                if key in self._margin_called:
                    continue
                self._margin_called.add(key)
                positions = [
                    (p, self.markets[p.symbol], marks[p.symbol])
                    for p in acct.open_positions()
                    if self.markets[p.symbol].margin_asset == asset
                ]
                self._emit_user(account_id, wire.margin_call(acct.balance(asset), positions, now))
                sent += 1
        return sent

    def settle_funding(self) -> int:
        """Charge every due funding period; returns the number of payments booked."""
        now = self.clock.now_ms()
        payments = 0
        for symbol, state in self.marks.items():
            if not state.due(now):
                continue
            funding_time, rate = state.settle(now)
            self.funding_history[symbol].append(FundingRecord(funding_time, rate, state.mark_price))
            for account_id, acct in self.ledger.accounts.items():
                booked = acct.apply_funding(symbol, state.mark_price, rate, funding_time)
                payments += len(booked)
                if not booked or account_id in self.ephemeral_accounts:
                    continue
                asset = booked[0].asset
                change = sum((r.income for r in booked), Decimal(0))
                # Crossed position: balances only, no "P" ("Event: Balance and Position Update").
                self._emit_user(
                    account_id,
                    wire.account_update(
                        reason="FUNDING_FEE",
                        balances=[(asset, acct.balance(asset), change)],
                        positions=[],
                        event_time=now,
                        transaction_time=funding_time,
                    ),
                )
        return payments

    # ---- venue listener: user-data and public trade events ---------------------------------------
    def on_executions(self, executions: list[Execution]) -> None:
        now = self.clock.now_ms()
        symbols: set[str] = set()
        for ex in executions:
            symbols.add(ex.order.symbol)
            self._emit_execution(ex, now)
            order = ex.order
            if (
                ex.exec_type in ("CANCELED", "EXPIRED")
                and order.executed_qty == 0
                and order.order_id in self.orders
            ):
                self._unfilled_final.append((order.time, order.order_id))
        takers = [ex for ex in executions if ex.exec_type == "TRADE" and not ex.is_maker]
        self._publish_agg_trades(takers, now)
        for symbol in symbols:
            self._publish_book_ticker(symbol, now)

    def _notional(self, account_id: int, symbol: str, side: Side) -> Decimal:
        orders = self.open_orders(account_id, symbol)
        return sum(((o.price or Decimal(0)) * o.remaining for o in orders if o.side is side), Decimal(0))

    def _emit_execution(self, ex: Execution, now: int) -> None:
        order = ex.order
        market = self.markets[order.symbol]
        fill, charge = ex.fill, ex.charge
        # Always consumed, so that the per-leg records never pile up.
        leg = self.ledger.take_leg(fill.trade_id, order.order_id) if fill is not None else None
        if order.account_id in self.ephemeral_accounts:
            # The simulated traders' own user data is never built: their API keys are never handed
            # out, and building it was a good part of what a busy simulated market cost.
            return
        if fill is not None and leg is not None:
            mark = self.marks[order.symbol].mark_price
            self._emit_user(
                order.account_id,
                wire.account_update(
                    reason="ORDER",
                    balances=[(leg.commission_asset, leg.wallet_balance, Decimal(0))],
                    positions=[wire.position_update(leg.position, market, mark)],
                    event_time=now,
                    transaction_time=fill.time,
                ),
            )
        expiry = 0
        if ex.exec_type == "EXPIRED":
            expiry = int(order.extra.get("expiryReason", _default_expiry_reason(order)))
        self._emit_user(
            order.account_id,
            wire.order_trade_update(
                order,
                exec_type=ex.exec_type,
                status=ex.status.value,
                executed_qty=ex.executed_qty,
                cum_quote_qty=ex.cum_quote_qty,
                last_qty=fill.qty if fill is not None else Decimal(0),
                last_price=fill.price if fill is not None else Decimal(0),
                commission=charge.commission if charge is not None else Decimal(0),
                commission_asset=charge.commission_asset if charge is not None else market.margin_asset,
                trade_time=fill.time if fill is not None else order.update_time,
                trade_id=fill.trade_id if fill is not None else 0,
                is_maker=ex.is_maker,
                realized_pnl=charge.realized_pnl if charge is not None else Decimal(0),
                bids_notional=self._notional(order.account_id, order.symbol, Side.BUY),
                asks_notional=self._notional(order.account_id, order.symbol, Side.SELL),
                event_time=now,
                expiry_reason=expiry,
            ),
        )

    def _publish_agg_trades(self, taker_trades: list[Execution], now: int) -> None:
        """One ``aggTrade`` per run of fills of the same taker at the same price."""
        run: list[Execution] = []
        for ex in [*taker_trades, None]:
            if run and (
                ex is None
                or ex.order is not run[0].order
                or ex.fill is None
                or run[0].fill is None
                or ex.fill.price != run[0].fill.price
            ):
                first, last = run[0].fill, run[-1].fill
                assert first is not None and last is not None
                symbol = first.symbol
                for e in run:
                    if e.fill is not None:
                        self._publish(f"{symbol.lower()}@trade", wire.trade(e.fill, now))
                self.agg_ids[symbol] += 1
                self.history[symbol].add_aggregate(
                    self.agg_ids[symbol], [e.fill for e in run if e.fill is not None]
                )
                self._publish(
                    f"{symbol.lower()}@aggTrade",
                    wire.agg_trade(
                        symbol,
                        self.agg_ids[symbol],
                        first.price,
                        sum((e.fill.qty for e in run if e.fill is not None), Decimal(0)),
                        first.trade_id,
                        last.trade_id,
                        first.time,
                        first.is_buyer_maker,
                        now,
                    ),
                )
                run = []
            if ex is not None:
                run.append(ex)

    def _publish_book_ticker(self, symbol: str, now: int) -> None:
        book = self.engine.book(symbol)
        top = (book.best_bid(), book.best_ask())
        if self._tickers.get(symbol) == top:
            return
        self._tickers[symbol] = top
        self._publish(
            f"{symbol.lower()}@bookTicker", wire.book_ticker(symbol, book.update_id, top[0], top[1], now, now)
        )
