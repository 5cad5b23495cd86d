"""JSON-able dump and restore of the futures exchange (``--state FILE`` survives a clean restart).

Decimals are stored as strings, enums by value. Open orders are put back on their books in their
original order-id order, which keeps their time priority.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectorkit.core.enums import PositionSide
from connectorkit.sandbox.engine import Order, Side
from connectorkit.sandbox.persistence import order_from_json, order_to_json

from .account import IncomeRecord, Position
from .ledger import LegRecord, order_position_side, trade_type

if TYPE_CHECKING:
    from .exchange import FuturesExchange

STATE_VERSION = 1


def _order_out(o: Order) -> dict[str, Any]:
    return {
        **order_to_json(o),
        "position_side": order_position_side(o).value,
        "reduce_only": bool(o.extra.get("reduceOnly", False)),
    }


def _order_in(r: dict[str, Any]) -> Order:
    extra = {
        "positionSide": PositionSide(r["position_side"]),
        "reduceOnly": bool(r["reduce_only"]),
        "origType": r["type"],
    }
    return order_from_json(r, extra)


def dump_exchange(ex: FuturesExchange) -> dict[str, Any]:
    accounts = []
    for aid, acct in ex.ledger.accounts.items():
        accounts.append(
            {
                "account_id": aid,
                "dual": acct.dual_side_position,
                "maker_fee": str(acct.maker_fee),
                "taker_fee": str(acct.taker_fee),
                "leverage": acct.leverage,
                "wallet": {a: str(v) for a, v in acct.wallet.items()},
                "wallet_update_time": acct.wallet_update_time,
                "positions": [
                    [p.symbol, p.side.value, str(p.amount), str(p.entry_price), str(p.realized_pnl),
                     p.update_time]
                    for p in acct.positions.values()
                ],
                "income": [
                    [r.symbol, r.income_type, str(r.income), r.asset, r.info, r.time, r.tran_id, r.trade_id]
                    for r in acct.income
                ],
                "trades": [
                    [
                        t.symbol, t.trade_id, t.order_id, t.side.value, t.position_side.value,
                        str(t.price), str(t.qty), str(t.commission), t.commission_asset,
                        str(t.realized_pnl), t.is_maker, t.time,
                    ]
                    for t in ex.ledger.trades.get(aid, [])
                ],
            }
        )
    return {
        "version": STATE_VERSION,
        "next_order_id": ex.engine.order_id_seq,
        "next_trade_ids": {s: b.next_trade_id for s, b in ex.engine.books.items()},
        # aggTrade ids ("a") keep increasing across a restart, as trade ids do.
        "agg_ids": dict(ex.agg_ids),
        "funding": {s: [st.next_funding_time, str(st.mark_price)] for s, st in ex.marks.items()},
        "orders": [_order_out(o) for o in ex.orders.values()],
        "accounts": accounts,
    }


def load_exchange(ex: FuturesExchange, state: dict[str, Any]) -> None:
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported futures state version {state.get('version')!r}")
    ex.engine.order_id_seq = int(state["next_order_id"])
    for symbol, next_id in state["next_trade_ids"].items():
        if symbol in ex.engine.books:
            ex.engine.book(symbol).next_trade_id = int(next_id)
    for symbol, agg_id in state.get("agg_ids", {}).items():
        if symbol in ex.agg_ids:
            ex.agg_ids[symbol] = int(agg_id)
    for symbol, (next_funding, mark) in state["funding"].items():
        if symbol in ex.marks:
            ex.marks[symbol].next_funding_time = int(next_funding)
            ex.marks[symbol].update_prices(Decimal(mark), Decimal(mark), ex.clock.now_ms())
    for row in state["accounts"]:
        aid = int(row["account_id"])
        acct = ex.ledger.account(aid)
        acct.dual_side_position = bool(row["dual"])
        acct.maker_fee = Decimal(row["maker_fee"])
        acct.taker_fee = Decimal(row["taker_fee"])
        acct.leverage = {s: int(v) for s, v in row["leverage"].items()}
        acct.wallet = {a: Decimal(v) for a, v in row["wallet"].items()}
        acct.wallet_update_time = {a: int(v) for a, v in row["wallet_update_time"].items()}
        acct.positions = {}
        for sym, side, amount, entry, realized, upd in row["positions"]:
            ps = PositionSide(side)
            acct.positions[(sym, ps)] = Position(
                sym, ps, Decimal(amount), Decimal(entry), Decimal(realized), upd
            )
        acct.income = [
            IncomeRecord(sym, kind, Decimal(inc), asset, info, t, tran, tid)
            for sym, kind, inc, asset, info, t, tran, tid in row["income"]
        ]
        acct.tran_ids = itertools.count(max((r.tran_id for r in acct.income), default=0) + 1)
        legs = []
        for sym, tid, oid, side, ps, price, qty, comm, asset, rpnl, maker, t in row["trades"]:
            pos = acct.position(sym, PositionSide(ps))
            legs.append(
                LegRecord(
                    aid, sym, tid, oid, Side(side), PositionSide(ps), Decimal(price), Decimal(qty),
                    Decimal(comm), asset, Decimal(rpnl), maker, t, pos, acct.balance(asset),
                )
            )
        ex.ledger.trades[aid] = legs
    for row in sorted(state["orders"], key=lambda r: int(r["order_id"])):
        order = _order_in(row)
        ex.keep_order(order)
        if order.is_open and order.price is not None:
            ex.engine.book(order.symbol).restore(order)
            ex.ledger.account(order.account_id).reserve_order(
                order.order_id,
                order.symbol,
                trade_type(order.side),
                order_position_side(order),
                order.price,
                order.remaining,
                bool(order.extra.get("reduceOnly", False)),
            )
