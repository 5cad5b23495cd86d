"""Spot balances: free/locked per asset per account, reservations per order, commissions.

Binance Spot charges the commission in the asset received by default (no BNB discount here): the buyer
pays in the base asset, the seller in the quote asset (Spot docs "Account Commission", trade
``commission``/``commissionAsset``). Commissions are rounded UP to 8 decimals, the assets' precision.
A LIMIT BUY locks ``price * qty`` quote; a SELL locks its base qty; a MARKET BUY by quantity locks the
quote it would cost at the current book, by ``quoteOrderQty`` that amount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import Any

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.engine import ZERO, Fill, Order, Side, SymbolBook
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.venue import FillCharges, LegCharge
from connectorkit.sandbox.venues.binance import errors

_EIGHT = Decimal("0.00000001")


@dataclass(slots=True)
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


class SpotLedger:
    def __init__(self, accounts: AccountRegistry, markets: dict[str, Market]) -> None:
        self._accounts = accounts
        self._markets = markets
        self.balances: dict[int, dict[str, Balance]] = defaultdict(dict)
        self._reserved: dict[int, tuple[int, str, Decimal]] = {}  # order_id -> (account, asset, amount)
        self.fees_collected: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.touched: dict[int, set[str]] = defaultdict(set)

    # ---- balances --------------------------------------------------------------------------------
    def balance(self, account_id: int, asset: str) -> Balance:
        bal = self.balances[account_id].get(asset)
        if bal is None:
            bal = self.balances[account_id][asset] = Balance()
        return bal

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Credit (or, negative, debit) free balance: the admin API's deposits and withdrawals."""
        bal = self.balance(account_id, asset)
        if bal.free + amount < ZERO:
            raise errors.insufficient_balance()
        bal.free += amount
        self.touched[account_id].add(asset)

    def total(self, asset: str) -> Decimal:
        """All of ``asset`` held by every account plus the fees collected (conserved by trading)."""
        held = sum((b[asset].free + b[asset].locked for b in self.balances.values() if asset in b), ZERO)
        return held + self.fees_collected[asset]

    def drain_touched(self) -> dict[int, set[str]]:
        touched = dict(self.touched)
        self.touched.clear()
        return touched

    def _lock(self, account_id: int, asset: str, amount: Decimal) -> None:
        bal = self.balance(account_id, asset)
        if amount > bal.free:
            raise errors.insufficient_balance()
        bal.free -= amount
        bal.locked += amount
        self.touched[account_id].add(asset)

    def _unlock(self, account_id: int, asset: str, amount: Decimal) -> None:
        bal = self.balance(account_id, asset)
        bal.locked -= amount
        bal.free += amount
        self.touched[account_id].add(asset)

    # ---- Ledger protocol -------------------------------------------------------------------------
    def reserve(self, order: Order, book: SymbolBook) -> None:
        market = self._markets[order.symbol]
        if order.side is Side.SELL:
            if order.orig_quote_qty is not None:
                amount, _ = book.preview(order)
            else:
                amount = order.orig_qty
            asset = market.base
        else:
            asset = market.quote
            if order.orig_quote_qty is not None:
                amount = order.orig_quote_qty
            elif order.is_market:
                _, amount = book.preview(order)
            else:
                assert order.price is not None
                amount = order.price * order.orig_qty
        self._lock(order.account_id, asset, amount)
        self._reserved[order.order_id] = (order.account_id, asset, amount)

    def _commission(self, account_id: int, amount: Decimal, maker: bool) -> Decimal:
        account = self._accounts.by_id(account_id)
        rate = account.maker_commission if maker else account.taker_commission
        return (amount * rate).quantize(_EIGHT, rounding=ROUND_UP) if rate else ZERO

    def _consume(self, order: Order, spent: Decimal, budget: Decimal) -> None:
        """Take ``spent`` out of the order's reservation, which set aside ``budget`` for this fill.

        ``budget > spent`` only for a limit BUY that traded below its limit price: the difference
        (price improvement) goes back to free.
        """
        account_id, asset, reserved = self._reserved[order.order_id]
        bal = self.balance(account_id, asset)
        bal.locked -= budget
        bal.free += budget - spent
        self._reserved[order.order_id] = (account_id, asset, reserved - budget)
        self.touched[account_id].add(asset)

    def on_fill(self, fill: Fill) -> FillCharges:
        market = self._markets[fill.symbol]
        charges: dict[bool, LegCharge] = {}
        for order, is_maker in ((fill.maker, True), (fill.taker, False)):
            if order.side is Side.BUY:
                # A limit BUY reserved ``price * qty``; a market BUY reserved exactly what it spends.
                budget = fill.qty * order.price if order.price is not None else fill.quote_qty
                self._consume(order, fill.quote_qty, budget)
                fee = self._commission(order.account_id, fill.qty, is_maker)
                self.balance(order.account_id, market.base).free += fill.qty - fee
                fee_asset = market.base
            else:
                self._consume(order, fill.qty, fill.qty)
                fee = self._commission(order.account_id, fill.quote_qty, is_maker)
                self.balance(order.account_id, market.quote).free += fill.quote_qty - fee
                fee_asset = market.quote
            self.fees_collected[fee_asset] += fee
            self.touched[order.account_id].add(fee_asset)
            charges[is_maker] = LegCharge(fee, fee_asset)
        return FillCharges(maker=charges[True], taker=charges[False])

    def maker_limit(self, taker: Order, maker: Order, earlier: Sequence[tuple[Order, Decimal]]) -> None:
        """Spot has no reduce-only orders: a resting order may always trade its whole remainder."""
        return None

    def release(self, order: Order) -> None:
        entry = self._reserved.pop(order.order_id, None)
        if entry is None:
            return
        account_id, asset, amount = entry
        if amount:
            self._unlock(account_id, asset, amount)

    # ---- persistence -----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "balances": {
                str(acct): {a: [str(b.free), str(b.locked)] for a, b in assets.items()}
                for acct, assets in self.balances.items()
            },
            "reserved": {str(oid): [a, asset, str(amt)] for oid, (a, asset, amt) in self._reserved.items()},
            "fees": {a: str(v) for a, v in self.fees_collected.items()},
        }

    def load(self, state: dict[str, Any]) -> None:
        self.balances.clear()
        for acct, assets in state["balances"].items():
            for asset, (free, locked) in assets.items():
                self.balances[int(acct)][asset] = Balance(Decimal(free), Decimal(locked))
        self._reserved = {
            int(oid): (int(a), asset, Decimal(amt)) for oid, (a, asset, amt) in state["reserved"].items()
        }
        self.fees_collected.clear()
        self.fees_collected.update({a: Decimal(v) for a, v in state["fees"].items()})
