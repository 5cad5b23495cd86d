"""The demo's closing summary and its reconciliation with the sandbox's true state.

Pure functions over connector events and two :class:`AccountView` s: one read from the connectors'
public API, one read from the sandbox's own books (:func:`sandbox_truth`, the only code here that
looks inside the sandbox). :func:`compare` lists every difference; the demo exits non-zero when
there is any.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectorkit.core.decimal_utils import split_trading_pair
from connectorkit.core.enums import TradeType
from connectorkit.core.events import FundingPaymentCompletedEvent, OrderFilledEvent
from connectorkit.core.rate_source import FeeConversionError

_ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------------- state
@dataclass
class AccountView:
    """One account as seen by one side (connectors or sandbox).

    ``spot_balances`` maps asset -> (total, available); ``perp_wallet`` asset -> wallet balance;
    ``*_open_orders`` are client order ids; ``positions`` maps trading pair -> signed amount.
    """

    spot_balances: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    spot_open_orders: set[str] = field(default_factory=set)
    perp_wallet: dict[str, Decimal] = field(default_factory=dict)
    perp_open_orders: set[str] = field(default_factory=set)
    positions: dict[str, Decimal] = field(default_factory=dict)


def connector_view(spot: Any, perp: Any) -> AccountView:
    """What the connectors believe, through their public API."""
    available = spot.get_all_available_balances()
    return AccountView(
        spot_balances={a: (t, available.get(a, _ZERO)) for a, t in spot.get_all_balances().items()},
        spot_open_orders={cid for cid, o in spot.in_flight_orders.items() if not o.is_done},
        perp_wallet=dict(perp.get_all_balances()),
        perp_open_orders={cid for cid, o in perp.in_flight_orders.items() if not o.is_done},
        positions={p.trading_pair: p.amount for p in perp.account_positions.values() if p.amount != 0},
    )


def sandbox_truth(sandbox: Any, account_id: int, pair_by_symbol: Mapping[str, str]) -> AccountView:
    """The sandbox's own books for ``account_id`` (spot ledger, futures account, both engines)."""
    ledger = sandbox.spot.exchange.ledger.balances.get(account_id, {})
    account = sandbox.accounts.by_id(account_id)
    futures = sandbox.futures.exchange
    perp_account = futures.account(account_id)
    return AccountView(
        spot_balances={a: (b.free + b.locked, b.free) for a, b in ledger.items()},
        spot_open_orders={o.client_order_id for o in sandbox.spot.exchange.open_orders(account)},
        perp_wallet=dict(perp_account.wallet),
        perp_open_orders={o.client_order_id for o in futures.open_orders(account_id)},
        positions={pair_by_symbol.get(p.symbol, p.symbol): p.amount for p in perp_account.open_positions()},
    )


def _nonzero(values: Mapping[str, Any], key: Any = None) -> dict[str, Any]:
    return {k: v for k, v in values.items() if (v if key is None else key(v)) != 0}


def compare(ours: AccountView, truth: AccountView) -> list[str]:
    """Every difference between the connectors' view and the truth, one line each (empty: equal).

    Assets with a zero balance count as absent on both sides (Binance omits them).
    """
    problems: list[str] = []

    def diff_map(label: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> None:
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                problems.append(f"{label} {key}: connector {a.get(key)} != sandbox {b.get(key)}")

    diff_map("spot balance", _nonzero(ours.spot_balances, lambda v: v[0]),
             _nonzero(truth.spot_balances, lambda v: v[0]))
    diff_map("perp wallet", _nonzero(ours.perp_wallet), _nonzero(truth.perp_wallet))
    diff_map("position", _nonzero(ours.positions), _nonzero(truth.positions))
    for label, a, b in (("spot", ours.spot_open_orders, truth.spot_open_orders),
                        ("perp", ours.perp_open_orders, truth.perp_open_orders)):
        if a != b:
            problems.append(f"{label} open orders: connector {sorted(a)} != sandbox {sorted(b)}")
    return problems


# ---------------------------------------------------------------------------------------------- money
def fees_in_quote(fills: Iterable[OrderFilledEvent]) -> dict[str, Decimal]:
    """Fees paid, each valued in its pair's quote asset at its own fill price (asset -> total).

    A fee charged in a third asset (e.g. BNB) has no price here; it is kept in its own asset
    rather than guessed.
    """
    totals: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    for fill in fills:
        pair, fee = fill.trading_pair, fill.trade_fee
        quote = split_trading_pair(pair)[1]
        try:
            totals[quote] += fee.fee_amount_in_quote(pair, fill.price, fill.amount)
            continue
        except FeeConversionError:  # some flat fee is in a third asset: convert the rest only
            pass
        totals[quote] += fill.price * fill.amount * fee.percent
        for flat in fee.flat_fees:
            part = type(fee)(flat_fees=[flat])
            try:
                totals[quote] += part.fee_amount_in_quote(pair, fill.price, fill.amount)
            except FeeConversionError:
                totals[flat.token] += flat.amount
    return dict(totals)


def realized_pnl(fills: Iterable[OrderFilledEvent]) -> dict[str, Decimal]:
    """Realized PnL per trading pair (in its quote asset, before fees), average-cost method.

    Only the fills given count (the demo's session). The cost basis is carried as a total, so a
    position closed completely realizes exactly ``sells - buys``; a partial close releases the
    proportional cost (one Decimal division, 28 significant digits).
    """
    qty: dict[str, Decimal] = defaultdict(lambda: _ZERO)  # signed position
    cost: dict[str, Decimal] = defaultdict(lambda: _ZERO)  # signed cost of that position
    pnl: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    for fill in fills:
        pair = fill.trading_pair
        signed = fill.amount if fill.trade_type is TradeType.BUY else -fill.amount
        notional = signed * fill.price
        held = qty[pair]
        if held == 0 or (held > 0) == (signed > 0):
            qty[pair] = held + signed
            cost[pair] += notional
            continue
        closing = min(abs(signed), abs(held))
        released = cost[pair] if closing == abs(held) else cost[pair] * closing / abs(held)
        direction = 1 if held > 0 else -1
        pnl[pair] += closing * fill.price * direction - released
        cost[pair] -= released
        qty[pair] = held + signed
        remainder = abs(signed) - closing
        if remainder > 0:  # the fill flipped the position: the rest opens at this price
            cost[pair] = (remainder if signed > 0 else -remainder) * fill.price
        elif qty[pair] == 0:
            cost[pair] = _ZERO
    return dict(pnl)


def _money(value: Decimal) -> str:
    """Exact when it has at most 8 decimals; otherwise shown to 8 decimals and marked ``~``."""
    shown = value.quantize(_DISPLAY)
    return f"{value.normalize():f}" if shown == value else f"~{shown:f}"


_DISPLAY = Decimal("1e-8")


# ---------------------------------------------------------------------------------------------- summary
def orders_line(created: int, filled: int, fills: int, cancelled: int, failed: int, expired: int) -> str:
    """The order counts, as the summary and the live view's last frame both show them."""
    return (f"orders: {created} placed, {filled} filled ({fills} fills), {cancelled} cancelled, "
            f"{failed} failed" + (f", {expired} expired" if expired else ""))


@dataclass
class DemoSummary:
    duration: float
    interrupted: bool
    orders_created: int
    orders_filled: int
    fills: int
    orders_cancelled: int
    orders_expired: int
    orders_failed: int
    fees: dict[str, Decimal]
    pnl: dict[str, dict[str, Decimal]]
    funding: list[FundingPaymentCompletedEvent]
    resyncs: dict[str, int]
    steps_completed: list[str]
    problems: list[str]
    mismatches: list[str]
    open_positions: dict[str, Decimal] = field(default_factory=dict)
    """Perpetual positions still open at the end (signed amounts, by trading pair)."""

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems

    def lines(self) -> list[str]:
        how = "interrupted" if self.interrupted else "completed"
        out = [
            f"== connectorkit demo summary ({how} after {self.duration:.1f}s) ==",
            orders_line(self.orders_created, self.orders_filled, self.fills, self.orders_cancelled,
                        self.orders_failed, self.orders_expired),
            "fees paid: "
            + (", ".join(f"{_money(v)} {k}" for k, v in sorted(self.fees.items())) or "none")
            + (" (valued at each fill's price)" if self.fees else ""),
        ]
        for label, per_pair in self.pnl.items():
            text = ", ".join(f"{pair} {_money(value)} {split_trading_pair(pair)[1]}"
                             for pair, value in sorted(per_pair.items()))
            out.append(f"realized PnL {label}: "
                       + (f"{text} (this run, before fees)" if text
                          else "none (no position reduced)"))
        funding: dict[str, Decimal] = defaultdict(lambda: _ZERO)
        for payment in self.funding:
            funding[split_trading_pair(payment.trading_pair)[1]] += payment.amount
        totals = ", ".join(f"{_money(v)} {asset}" for asset, v in sorted(funding.items()))
        out.append(f"funding payments: {len(self.funding)}" + (f" (total {totals})" if totals else ""))
        out.append("open positions at the end: " + (", ".join(
            f"perp {pair} {amount.normalize():f}" for pair, amount in sorted(self.open_positions.items())
        ) or "none"))
        out.append("book resyncs: " + ", ".join(f"{k} {v}" for k, v in self.resyncs.items()))
        out.append(f"strategy steps completed: {len(self.steps_completed)}")
        out.extend(f"problem: {p}" for p in self.problems)
        if self.mismatches:
            out.append("state check: FAILED, connector state differs from the sandbox:")
            out.extend(f"  {m}" for m in self.mismatches)
        else:
            out.append("state check: OK (balances, open orders and positions equal the sandbox's)")
        return out
