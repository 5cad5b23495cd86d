"""The USD-M futures account model of the sandbox: pure code, no I/O, exact ``Decimal``.

One :class:`FuturesAccount` per API account holds what Binance keeps for a USDⓈ-M futures
wallet in cross-margin mode:

* wallet balance per margin asset (USDT by default), changed only through income records
  (REALIZED_PNL, COMMISSION, FUNDING_FEE, TRANSFER, INSURANCE_CLEAR), so ``wallet == deposits + sum(income)``
  holds exactly at all times (simulated traders keep no income rows: ``keep_income=False``);
* leverage per symbol (default 20, 1..the contract's maximum) and the account-wide position
  mode (``dualSidePosition``: one-way positions on ``BOTH``, hedge positions on ``LONG``/``SHORT``);
* positions per ``(symbol, positionSide)`` with a signed amount (SHORT is negative, as the
  API reports it), a weighted-average entry price and the accumulated pre-fee realized PnL;
* the initial margin reserved by open orders, and a simple maintenance-margin check.

The order checks raise :class:`~.errors.ApiError` with the documented Binance codes
(-2019, -2022, -4061, -4028, -4059, -4067, -4068).

Rounding: all money arithmetic runs in :data:`EXACT`, a decimal context that raises instead of
rounding. Only two quotients are rounded, explicitly: the average entry price (to
:data:`ENTRY_PRICE_QUANTUM`, half-even; Binance too publishes a rounded ``entryPrice``) and
initial margin = notional / leverage (to :data:`MARGIN_QUANTUM`, rounded up so the check never
under-reserves).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

from connectorkit.core.enums import PositionSide, TradeType

from . import errors

ZERO = Decimal(0)
EXACT = Context(prec=80, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
_ROUNDING = Context(prec=80)
ENTRY_PRICE_QUANTUM = Decimal("1e-12")
MARGIN_QUANTUM = Decimal("1e-8")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _exact(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` in the :data:`EXACT` context: any silent rounding becomes an error."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(EXACT):
            return fn(*args, **kwargs)

    return wrapper


def average_entry_price(old_qty: Decimal, old_price: Decimal, qty: Decimal, price: Decimal) -> Decimal:
    """Quantity-weighted average of two prices, rounded half-even to ENTRY_PRICE_QUANTUM."""
    total = _ROUNDING.add(old_qty, qty)
    notional = _ROUNDING.add(_ROUNDING.multiply(old_qty, old_price), _ROUNDING.multiply(qty, price))
    return _ROUNDING.divide(notional, total).quantize(
        ENTRY_PRICE_QUANTUM, rounding=ROUND_HALF_EVEN, context=_ROUNDING
    )


def initial_margin(notional: Decimal, leverage: int) -> Decimal:
    """|notional| / leverage, rounded up to MARGIN_QUANTUM."""
    return _ROUNDING.divide(abs(notional), Decimal(leverage)).quantize(
        MARGIN_QUANTUM, rounding=ROUND_UP, context=_ROUNDING
    )

DEFAULT_LEVERAGE = 20
# USDⓈ-M futures regular-user commission (VIP 0): maker 0.0200 %, taker 0.0500 %.
DEFAULT_MAKER_FEE = Decimal("0.0002")
DEFAULT_TAKER_FEE = Decimal("0.0005")

INCOME_TRANSFER = "TRANSFER"
INCOME_REALIZED_PNL = "REALIZED_PNL"
INCOME_COMMISSION = "COMMISSION"
INCOME_FUNDING_FEE = "FUNDING_FEE"
INCOME_INSURANCE_CLEAR = "INSURANCE_CLEAR"


@dataclass(frozen=True)
class FuturesContract:
    """Static facts about a perpetual contract that the account model needs."""

    symbol: str
    base_asset: str
    margin_asset: str = "USDT"
    max_leverage: int = 125
    maint_margin_rate: Decimal = Decimal("0.004")
    # "maxNotionalValue" answered by the leverage endpoints; a single bracket is modelled.
    max_notional: Decimal = Decimal("1000000")


@dataclass
class Position:
    symbol: str
    side: PositionSide
    amount: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # accumulated, before fees ("cr" in ACCOUNT_UPDATE)
    update_time: int = 0

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        return (mark_price - self.entry_price) * self.amount if self.amount else ZERO

    def notional(self, mark_price: Decimal) -> Decimal:
        return self.amount * mark_price


@dataclass(frozen=True)
class IncomeRecord:
    """One row of ``GET /fapi/v1/income``; every wallet change is one of these."""

    symbol: str
    income_type: str
    income: Decimal
    asset: str
    info: str
    time: int
    tran_id: int
    trade_id: str


@dataclass(frozen=True)
class FillResult:
    realized_pnl: Decimal
    commission: Decimal
    commission_asset: str
    position: Position  # a copy of the position after the fill
    income: tuple[IncomeRecord, ...]


@dataclass
class _Reservation:
    """An open order's claim on margin (or on position, for closing orders)."""

    order_id: int
    symbol: str
    side: TradeType
    position_side: PositionSide
    price: Decimal
    remaining: Decimal
    reduce_only: bool


def _sign(side: TradeType) -> int:
    return 1 if side is TradeType.BUY else -1


@dataclass
class FuturesAccount:
    """Cross-margin USD-M futures account. See the module docstring for the invariants."""

    contracts: Mapping[str, FuturesContract]
    maker_fee: Decimal = DEFAULT_MAKER_FEE
    taker_fee: Decimal = DEFAULT_TAKER_FEE
    default_leverage: int = DEFAULT_LEVERAGE
    tran_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    dual_side_position: bool = False
    wallet: dict[str, Decimal] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)
    income: list[IncomeRecord] = field(default_factory=list)
    wallet_update_time: dict[str, int] = field(default_factory=dict)
    #: False for the simulated traders: income is still booked into the wallet, not kept as rows.
    keep_income: bool = True
    _orders: dict[int, _Reservation] = field(default_factory=dict)

    # ----------------------------------------------------------------- lookups
    def contract(self, symbol: str) -> FuturesContract:
        try:
            return self.contracts[symbol]
        except KeyError:
            raise errors.bad_symbol() from None

    def leverage_of(self, symbol: str) -> int:
        self.contract(symbol)
        return self.leverage.get(symbol, self.default_leverage)

    def position_sides(self) -> tuple[PositionSide, ...]:
        """The sides the current mode uses (what positionRisk/account list)."""
        if self.dual_side_position:
            return (PositionSide.LONG, PositionSide.SHORT)
        return (PositionSide.BOTH,)

    def position(self, symbol: str, side: PositionSide) -> Position:
        self.contract(symbol)
        key = (symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(symbol, side)
        return pos

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.amount]

    def balance(self, asset: str) -> Decimal:
        return self.wallet.get(asset, ZERO)

    def has_open_orders(self, symbol: str | None = None) -> bool:
        return any(symbol is None or r.symbol == symbol for r in self._orders.values())

    # ---------------------------------------------------------------- transfers
    def deposit(self, asset: str, amount: Decimal, time_ms: int) -> IncomeRecord:
        """Credit (or, negative, debit) the wallet as a TRANSFER income record."""
        return self._book("", INCOME_TRANSFER, amount, asset, time_ms, "")

    @_exact
    def insurance_clear(self, asset: str, time_ms: int) -> IncomeRecord | None:
        """After a liquidation, the insurance fund absorbs a negative wallet (INSURANCE_CLEAR income)."""
        deficit = self.balance(asset)
        if deficit >= 0:
            return None
        return self._book("", INCOME_INSURANCE_CLEAR, -deficit, asset, time_ms, "")

    def _book(
        self, symbol: str, income_type: str, amount: Decimal, asset: str, time_ms: int, trade_id: str
    ) -> IncomeRecord:
        record = IncomeRecord(
            symbol=symbol,
            income_type=income_type,
            income=amount,
            asset=asset,
            info=income_type,
            time=time_ms,
            tran_id=next(self.tran_ids),
            trade_id=trade_id,
        )
        self.wallet[asset] = self.balance(asset) + amount
        self.wallet_update_time[asset] = time_ms
        if self.keep_income:
            self.income.append(record)
        return record

    # ----------------------------------------------------------------- settings
    @_exact
    def set_leverage(self, symbol: str, leverage: int, marks: Mapping[str, Decimal]) -> None:
        """POST /fapi/v1/leverage semantics: 1..max, and the margin must still suffice."""
        contract = self.contract(symbol)
        if not 1 <= leverage <= contract.max_leverage:
            raise errors.invalid_leverage(leverage)
        previous = self.leverage_of(symbol)
        self.leverage[symbol] = leverage
        if leverage < previous and self.available_balance(contract.margin_asset, marks) < 0:
            self.leverage[symbol] = previous
            raise errors.ApiError(
                errors.MIN_LEVERAGE_RATIO, "Leverage is smaller than permitted: insufficient margin balance."
            )

    def set_dual_side_position(self, dual: bool) -> None:
        """POST /fapi/v1/positionSide/dual: refused while any order or position exists."""
        if dual == self.dual_side_position:
            raise errors.no_need_to_change_position_side()
        if self._orders:
            raise errors.position_side_change_open_orders()
        if any(p.amount for p in self.positions.values()):
            raise errors.position_side_change_quantity()
        self.dual_side_position = dual

    def resolve_position_side(self, requested: str | None) -> PositionSide:
        """Map the ``positionSide`` parameter to a side valid in the current mode (-4061 if not)."""
        if requested is None or requested == "":
            side = PositionSide.BOTH
        else:
            try:
                side = PositionSide(requested)
            except ValueError:
                raise errors.invalid_position_side() from None
        if self.dual_side_position == (side is PositionSide.BOTH):
            raise errors.position_side_mismatch()
        return side

    # ------------------------------------------------------------ order checks
    def _closes(self, side: TradeType, position_side: PositionSide) -> bool:
        """In hedge mode, SELL on LONG and BUY on SHORT only ever reduce."""
        return (position_side is PositionSide.LONG and side is TradeType.SELL) or (
            position_side is PositionSide.SHORT and side is TradeType.BUY
        )

    @_exact
    def _reducible(self, symbol: str, side: TradeType, position_side: PositionSide) -> Decimal:
        """How much an order of ``side`` can still reduce, net of other closing orders."""
        amount = self.position(symbol, position_side).amount
        if _sign(side) * amount >= 0:
            return ZERO
        claimed = sum(
            (
                r.remaining
                for r in self._orders.values()
                if r.symbol == symbol
                and r.side is side
                and r.position_side is position_side
                and (r.reduce_only or self._closes(r.side, r.position_side))
            ),
            ZERO,
        )
        return max(ZERO, abs(amount) - claimed)

    @_exact
    def check_new_order(
        self,
        symbol: str,
        side: TradeType,
        position_side: PositionSide,
        quantity: Decimal,
        price: Decimal,
        reduce_only: bool,
        marks: Mapping[str, Decimal],
    ) -> None:
        """Validate an order before it reaches the book (position side already resolved).

        * reduce-only (one-way) and closing orders (hedge) may not exceed what the position
          still has to close after other closing orders: -2022;
        * an account whose margin balance no longer covers its maintenance margin may only
          reduce: -2023;
        * the initial margin the order adds (its opening part at ``price`` / leverage) must be
          covered by the available balance: -2019.
        """
        contract = self.contract(symbol)
        if reduce_only or self._closes(side, position_side):
            if quantity > self._reducible(symbol, side, position_side):
                raise errors.reduce_only_rejected()
            return
        probe = _Reservation(-1, symbol, side, position_side, price, quantity, reduce_only)
        before = self.open_order_initial_margin(contract.margin_asset)
        added = self.open_order_initial_margin(contract.margin_asset, extra=probe) - before
        if added == 0:
            return  # it only reduces the position: always allowed
        if self.below_maintenance(contract.margin_asset, marks):
            # Until the ticker liquidates it, an account past its maintenance margin may only reduce.
            raise errors.ApiError(errors.USER_IN_LIQUIDATION, "User in liquidation mode now.")
        if added > self.available_balance(contract.margin_asset, marks):
            raise errors.margin_insufficient()

    # -------------------------------------------------------- order lifecycle
    def reserve_order(
        self,
        order_id: int,
        symbol: str,
        side: TradeType,
        position_side: PositionSide,
        price: Decimal,
        quantity: Decimal,
        reduce_only: bool,
    ) -> None:
        """Record a resting order so its margin (or closing claim) counts."""
        self.contract(symbol)
        self._orders[order_id] = _Reservation(
            order_id, symbol, side, position_side, price, quantity, reduce_only
        )

    @_exact
    def order_filled(self, order_id: int, quantity: Decimal) -> None:
        res = self._orders.get(order_id)
        if res is None:
            return
        res.remaining -= quantity
        if res.remaining <= 0:
            del self._orders[order_id]

    def release_order(self, order_id: int) -> None:
        self._orders.pop(order_id, None)

    @_exact
    def closable(self, symbol: str, side: TradeType, position_side: PositionSide) -> Decimal:
        """How much a fill of ``side`` could reduce right now (ignoring other orders' claims).

        The product layer caps reduce-only / hedge-closing fills to this, as Binance never lets
        such an order open or flip a position.
        """
        amount = self.position(symbol, position_side).amount
        return abs(amount) if _sign(side) * amount < 0 else ZERO

    # ------------------------------------------------------------------ fills
    @_exact
    def apply_fill(
        self,
        symbol: str,
        side: TradeType,
        position_side: PositionSide,
        quantity: Decimal,
        price: Decimal,
        *,
        is_maker: bool,
        trade_id: int,
        time_ms: int,
    ) -> FillResult:
        """Book one fill: position change, realized PnL and commission, each as income."""
        if quantity <= 0:
            raise ValueError("fill quantity must be positive")
        contract = self.contract(symbol)
        asset = contract.margin_asset
        pos = self.position(symbol, position_side)
        delta = quantity * _sign(side)
        old = pos.amount
        realized = ZERO
        if old == 0 or (old > 0) == (delta > 0):
            pos.entry_price = average_entry_price(abs(old), pos.entry_price, quantity, price)
            pos.amount = old + delta
        else:
            closing = min(quantity, abs(old))
            realized = (price - pos.entry_price) * closing * (1 if old > 0 else -1)
            new = old + delta
            if position_side is not PositionSide.BOTH and (new > 0) != (old > 0) and new != 0:
                raise ValueError(f"a hedge-mode {position_side.value} position cannot change sign")
            pos.amount = new
            if new == 0:
                pos.entry_price = ZERO
            elif (new > 0) != (old > 0):
                pos.entry_price = price  # flipped: the remainder opened at this price
        pos.realized_pnl += realized
        pos.update_time = time_ms
        booked: list[IncomeRecord] = []
        tid = str(trade_id)
        if realized:
            booked.append(self._book(symbol, INCOME_REALIZED_PNL, realized, asset, time_ms, tid))
        commission = quantity * price * (self.maker_fee if is_maker else self.taker_fee)
        if commission:
            booked.append(self._book(symbol, INCOME_COMMISSION, -commission, asset, time_ms, tid))
        return FillResult(realized, commission, asset, replace(pos), tuple(booked))

    # ----------------------------------------------------------------- funding
    @_exact
    def apply_funding(
        self, symbol: str, mark_price: Decimal, funding_rate: Decimal, time_ms: int
    ) -> list[IncomeRecord]:
        """Pay/receive funding on every open position of ``symbol``.

        A positive rate makes longs pay shorts: payment = -amount * mark * rate.
        """
        asset = self.contract(symbol).margin_asset
        booked = []
        for pos in list(self.positions.values()):
            if pos.symbol != symbol or not pos.amount:
                continue
            payment = -pos.amount * mark_price * funding_rate
            if payment:
                booked.append(self._book(symbol, INCOME_FUNDING_FEE, payment, asset, time_ms, ""))
        return booked

    # -------------------------------------------------------------- valuation
    def _positions_in(self, asset: str) -> Iterable[tuple[Position, FuturesContract]]:
        for pos in self.positions.values():
            contract = self.contracts[pos.symbol]
            if contract.margin_asset == asset and pos.amount:
                yield pos, contract

    @_exact
    def unrealized_pnl(self, asset: str, marks: Mapping[str, Decimal]) -> Decimal:
        return sum((p.unrealized_pnl(marks[p.symbol]) for p, _ in self._positions_in(asset)), ZERO)

    @_exact
    def position_initial_margin(self, asset: str, marks: Mapping[str, Decimal]) -> Decimal:
        return sum(
            (
                initial_margin(p.notional(marks[p.symbol]), self.leverage_of(p.symbol))
                for p, _ in self._positions_in(asset)
            ),
            ZERO,
        )

    @_exact
    def maint_margin(self, asset: str, marks: Mapping[str, Decimal]) -> Decimal:
        return sum(
            (abs(p.notional(marks[p.symbol])) * c.maint_margin_rate for p, c in self._positions_in(asset)),
            ZERO,
        )

    @_exact
    def open_order_initial_margin(
        self,
        asset: str,
        extra: _Reservation | None = None,
        *,
        symbol: str | None = None,
        position_side: PositionSide | None = None,
    ) -> Decimal:
        """Initial margin of the opening part of open orders, at their limit price.

        Closing orders need none. In one-way mode an order on the side opposite to the
        position first consumes what is left of the position to reduce (earliest order first)
        and only the rest opens; that rest is margined. ``symbol`` / ``position_side`` restrict
        the sum to one position (per-position rows of the account endpoints).
        """
        reservations = list(self._orders.values())
        if extra is not None:
            reservations.append(extra)
        left_to_reduce: dict[tuple[str, PositionSide, TradeType], Decimal] = {}
        total = ZERO
        for res in reservations:
            if self.contracts[res.symbol].margin_asset != asset:
                continue
            if res.reduce_only or self._closes(res.side, res.position_side):
                continue
            opening = res.remaining
            if res.position_side is PositionSide.BOTH:
                key = (res.symbol, res.position_side, res.side)
                if key not in left_to_reduce:
                    amount = self.position(res.symbol, res.position_side).amount
                    left_to_reduce[key] = abs(amount) if _sign(res.side) * amount < 0 else ZERO
                used = min(opening, left_to_reduce[key])
                left_to_reduce[key] -= used
                opening -= used
            if (symbol is None or res.symbol == symbol) and (
                position_side is None or res.position_side is position_side
            ):
                total += initial_margin(opening * res.price, self.leverage_of(res.symbol))
        return total

    @_exact
    def margin_balance(self, asset: str, marks: Mapping[str, Decimal]) -> Decimal:
        return self.balance(asset) + self.unrealized_pnl(asset, marks)

    @_exact
    def available_balance(self, asset: str, marks: Mapping[str, Decimal]) -> Decimal:
        """Margin balance minus position and open-order initial margin."""
        return (
            self.margin_balance(asset, marks)
            - self.position_initial_margin(asset, marks)
            - self.open_order_initial_margin(asset)
        )

    @_exact
    def below_maintenance(self, asset: str, marks: Mapping[str, Decimal]) -> bool:
        """True when the margin balance no longer covers the maintenance margin (liquidation zone)."""
        mm = self.maint_margin(asset, marks)
        return mm > 0 and self.margin_balance(asset, marks) <= mm

    def assets(self) -> list[str]:
        seen = dict.fromkeys(self.wallet)
        for c in self.contracts.values():
            seen.setdefault(c.margin_asset, None)
        return list(seen)


def new_account(
    contracts: Mapping[str, FuturesContract],
    balances: Mapping[str, Decimal],
    time_ms: int,
    *,
    maker_fee: Decimal = DEFAULT_MAKER_FEE,
    taker_fee: Decimal = DEFAULT_TAKER_FEE,
    default_leverage: int = DEFAULT_LEVERAGE,
    tran_ids: Iterator[int] | None = None,
) -> FuturesAccount:
    """Create an account and book the initial balances as TRANSFER income."""
    account = FuturesAccount(
        contracts, maker_fee=maker_fee, taker_fee=taker_fee, default_leverage=default_leverage
    )
    if tran_ids is not None:
        account.tran_ids = tran_ids
    for asset, amount in balances.items():
        account.deposit(asset, Decimal(amount), time_ms)
    return account
