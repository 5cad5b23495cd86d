"""The futures accounting hook of the shared order pipeline (``venue.Ledger``).

``reserve`` runs the account checks (position side already resolved by the REST layer, reduce-only,
margin) and books the order's margin claim; ``on_fill`` books both legs of a fill on their accounts
(position, realized PnL, commission) and keeps one :class:`LegRecord` per leg for trade history and
the user-data events; ``release`` drops what a final order still claimed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connectorkit.core.enums import PositionSide, TradeType
from connectorkit.sandbox.engine import Fill, Order, Side, SymbolBook
from connectorkit.sandbox.venue import FillCharges, LegCharge

from .account import FillResult, FuturesAccount, Position, new_account
from .markets import FuturesMarket


def trade_type(side: Side) -> TradeType:
    return TradeType.BUY if side is Side.BUY else TradeType.SELL


def order_position_side(order: Order) -> PositionSide:
    side = order.extra.get("positionSide", PositionSide.BOTH)
    assert isinstance(side, PositionSide)
    return side


@dataclass(frozen=True, slots=True)
class LegRecord:
    """One account's side of one fill, with the account state right after it."""

    account_id: int
    symbol: str
    trade_id: int
    order_id: int
    side: Side
    position_side: PositionSide
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    is_maker: bool
    time: int
    position: Position
    wallet_balance: Decimal


class FuturesLedger:
    def __init__(
        self,
        markets: Mapping[str, FuturesMarket],
        marks: Callable[[], dict[str, Decimal]],
        now_ms: Callable[[], int],
    ) -> None:
        self.contracts = {s: m.contract() for s, m in markets.items()}
        self._marks = marks
        self._now_ms = now_ms
        self.accounts: dict[int, FuturesAccount] = {}
        self.trades: dict[int, list[LegRecord]] = {}
        self._legs: dict[tuple[int, int], LegRecord] = {}

    def account(self, account_id: int) -> FuturesAccount:
        """The account's futures wallet (created empty on first use)."""
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = self.accounts[account_id] = new_account(self.contracts, {}, self._now_ms())
        return acct

    # ---- venue.Ledger ----------------------------------------------------------------------------
    def reserve(self, order: Order, book: SymbolBook) -> None:
        acct = self.account(order.account_id)
        marks = self._marks()
        price = order.price if order.price is not None else marks[order.symbol]
        side = trade_type(order.side)
        ps = order_position_side(order)
        reduce_only = bool(order.extra.get("reduceOnly", False))
        acct.check_new_order(order.symbol, side, ps, order.orig_qty, price, reduce_only, marks)
        acct.reserve_order(order.order_id, order.symbol, side, ps, price, order.orig_qty, reduce_only)

    def on_fill(self, fill: Fill) -> FillCharges:
        maker = self._book_leg(fill, fill.maker, True)
        taker = self._book_leg(fill, fill.taker, False)
        return FillCharges(
            LegCharge(maker.commission, maker.commission_asset, maker.realized_pnl),
            LegCharge(taker.commission, taker.commission_asset, taker.realized_pnl),
        )

    def maker_limit(
        self, taker: Order, maker: Order, earlier: Sequence[tuple[Order, Decimal]]
    ) -> Decimal | None:
        """Cap a resting reduce-only (or hedge-closing) order at what its position can still close.

        USD-M "Event: Order Update", expiry reason 4: "Order has been canceled, as it's knocked out by
        another higher priority RO (market) order or reversed positions would be opened". So a resting
        reduce-only order never opens or flips a position, even when another order of the same account
        shrank that position earlier in the same taker sweep. The docs describe the knock-out, not the
        case of a position that can still take part of the order: the sandbox then fills that part
        and expires the rest (the engine expires any maker capped below its remaining quantity).
        Other resting orders are not capped (None).
        """
        ps = order_position_side(maker)
        closing = bool(maker.extra.get("reduceOnly", False)) or (
            (ps is PositionSide.LONG and maker.side is Side.SELL)
            or (ps is PositionSide.SHORT and maker.side is Side.BUY)
        )
        if not closing:
            return None
        amount = self.account(maker.account_id).position(maker.symbol, ps).amount
        # The accounts are booked after the sweep: add this sweep's earlier trades of the same position.
        for other, qty in earlier:
            for leg in (other, taker):
                if leg.account_id == maker.account_id and order_position_side(leg) is ps:
                    amount += qty if leg.side is Side.BUY else -qty
        reducing = amount < 0 if maker.side is Side.BUY else amount > 0
        return abs(amount) if reducing else Decimal(0)

    def release(self, order: Order) -> None:
        self.account(order.account_id).release_order(order.order_id)

    # ---- internals -------------------------------------------------------------------------------
    def _book_leg(self, fill: Fill, order: Order, is_maker: bool) -> LegRecord:
        acct = self.account(order.account_id)
        ps = order_position_side(order)
        result = acct.apply_fill(
            fill.symbol,
            trade_type(order.side),
            ps,
            fill.qty,
            fill.price,
            is_maker=is_maker,
            trade_id=fill.trade_id,
            time_ms=fill.time,
        )
        acct.order_filled(order.order_id, fill.qty)
        record = self.record_leg(order, fill.trade_id, fill.price, fill.qty, result, is_maker, fill.time)
        self._legs[(fill.trade_id, order.order_id)] = record
        return record

    def record_leg(
        self,
        order: Order,
        trade_id: int,
        price: Decimal,
        qty: Decimal,
        result: FillResult,
        is_maker: bool,
        time: int,
    ) -> LegRecord:
        """Keep one booked fill for ``GET /fapi/v1/userTrades`` (not for simulated traders)."""
        acct = self.account(order.account_id)
        record = LegRecord(
            account_id=order.account_id,
            symbol=order.symbol,
            trade_id=trade_id,
            order_id=order.order_id,
            side=order.side,
            position_side=order_position_side(order),
            price=price,
            qty=qty,
            commission=result.commission,
            commission_asset=result.commission_asset,
            realized_pnl=result.realized_pnl,
            is_maker=is_maker,
            time=time,
            position=result.position,
            wallet_balance=acct.balance(result.commission_asset),
        )
        if acct.keep_income:
            self.trades.setdefault(order.account_id, []).append(record)
        return record

    def take_leg(self, trade_id: int, order_id: int) -> LegRecord | None:
        """The record of one leg, once (the user-event builder consumes it)."""
        return self._legs.pop((trade_id, order_id), None)
