"""Spot user-data and market-stream payloads (pure builders).

Shapes: Spot docs "User Data Stream" (executionReport, outboundAccountPosition, balanceUpdate) and
"WebSocket Streams" (Trade Streams, Aggregate Trade Streams, Diff. Depth Stream, Individual Symbol Book
Ticker Streams, Partial Book Depth Streams).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from connectorkit.sandbox.engine import ZERO, DepthChanges, Fill, Order, TimeInForce
from connectorkit.sandbox.venue import Execution
from connectorkit.sandbox.venues.binance.spot.format import fmt
from connectorkit.sandbox.venues.binance.spot.ledger import Balance


def _working(ex: Execution) -> bool:
    """``w``: is the order on the book after this event."""
    o = ex.order
    resting_tif = o.time_in_force not in (TimeInForce.IOC, TimeInForce.FOK)
    return not ex.status.is_final and not o.is_market and resting_tif


def execution_report(ex: Execution, event_time: int, exec_id: int) -> dict[str, Any]:
    o: Order = ex.order
    fill = ex.fill
    charge = ex.charge
    last_qty = fill.qty if fill else ZERO
    last_price = fill.price if fill else ZERO
    last_quote = fill.quote_qty if fill else ZERO
    return {
        "e": "executionReport",
        "E": event_time,
        "s": o.symbol,
        "c": o.extra.get("cancel_client_order_id", o.client_order_id)
        if ex.exec_type == "CANCELED"
        else o.client_order_id,
        "S": o.side.value,
        "o": o.type,
        "f": o.time_in_force.value if o.time_in_force else "GTC",
        "q": fmt(o.orig_qty),
        "p": fmt(o.price or ZERO),
        "P": fmt(ZERO),
        "F": fmt(ZERO),
        "g": -1,
        "C": o.client_order_id if ex.exec_type == "CANCELED" else "",
        "x": ex.exec_type,
        "X": ex.status.value,
        "r": "NONE",
        "i": o.order_id,
        "l": fmt(last_qty),
        "z": fmt(ex.executed_qty),
        "L": fmt(last_price),
        "n": fmt(charge.commission) if charge else "0",
        "N": charge.commission_asset if charge else None,
        "T": fill.time if fill else o.update_time,
        "t": fill.trade_id if fill else -1,
        "I": exec_id,
        "w": _working(ex),
        "m": ex.is_maker,
        "M": False,
        "O": o.time,
        "Z": fmt(ex.cum_quote_qty),
        "Y": fmt(last_quote),
        "Q": fmt(o.orig_quote_qty or ZERO),
        "W": o.working_time if o.working_time >= 0 else o.time,
        "V": "NONE",
    }


def account_position(balances: dict[str, Balance], assets: Iterable[str], event_time: int) -> dict[str, Any]:
    return {
        "e": "outboundAccountPosition",
        "E": event_time,
        "u": event_time,
        "B": [{"a": a, "f": fmt(balances[a].free), "l": fmt(balances[a].locked)} for a in sorted(assets)],
    }


def balance_update(asset: str, delta: Decimal, event_time: int) -> dict[str, Any]:
    return {"e": "balanceUpdate", "E": event_time, "a": asset, "d": fmt(delta), "T": event_time}


def trade(fill: Fill, event_time: int) -> dict[str, Any]:
    return {
        "e": "trade",
        "E": event_time,
        "s": fill.symbol,
        "t": fill.trade_id,
        "p": fmt(fill.price),
        "q": fmt(fill.qty),
        "T": fill.time,
        "m": fill.is_buyer_maker,
        "M": True,
    }


def agg_trade(agg_id: int, fills: list[Fill], event_time: int) -> dict[str, Any]:
    first, last = fills[0], fills[-1]
    return {
        "e": "aggTrade",
        "E": event_time,
        "s": first.symbol,
        "a": agg_id,
        "p": fmt(first.price),
        "q": fmt(sum((f.qty for f in fills), ZERO)),
        "f": first.trade_id,
        "l": last.trade_id,
        "T": first.time,
        "m": first.is_buyer_maker,
        "M": True,
    }


def levels(rows: list[tuple[Decimal, Decimal]]) -> list[list[str]]:
    return [[fmt(p), fmt(q)] for p, q in rows]


def depth_update(symbol: str, changes: DepthChanges, event_time: int) -> dict[str, Any]:
    return {
        "e": "depthUpdate",
        "E": event_time,
        "s": symbol,
        "U": changes.first_update_id,
        "u": changes.final_update_id,
        "b": levels(changes.bids),
        "a": levels(changes.asks),
    }


def book_ticker(
    symbol: str, update_id: int, bid: tuple[Decimal, Decimal] | None, ask: tuple[Decimal, Decimal] | None
) -> dict[str, Any]:
    bp, bq = bid or (ZERO, ZERO)
    ap, aq = ask or (ZERO, ZERO)
    return {"u": update_id, "s": symbol, "b": fmt(bp), "B": fmt(bq), "a": fmt(ap), "A": fmt(aq)}
