"""JSON shapes of the USD-M futures API: pure functions from sandbox state to wire dicts.

Every function names the documentation section whose example it reproduces (USDⓈ-M Futures docs,
https://developers.binance.com/docs/derivatives/usds-margined-futures/...). Decimals are written as
plain strings (never exponents), times as int milliseconds, as the API does.

Fields the sandbox does not model carry a neutral value of the documented type: cross margin only
(``marginType`` "cross", isolated figures "0"), ``liquidationPrice`` "0" (not estimated),
``breakEvenPrice`` / ``bep`` = the entry price (fees not folded in), ``adl`` 0, no conditional-order
fields (``stopPrice`` "0", ``workingType`` CONTRACT_PRICE, ``priceMatch`` NONE).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from connectorkit.core.enums import PositionSide
from connectorkit.sandbox.engine import Fill, Order, Side

from .account import FuturesAccount, IncomeRecord, Position, initial_margin
from .funding import MarkState
from .markets import FuturesMarket

Json = dict[str, Any]
AVG_PRICE_QUANTUM = Decimal("1e-8")
ZERO = Decimal(0)


def fmt(value: Decimal) -> str:
    """Plain decimal string: ``Decimal("1E+1")`` -> ``"10"``, ``Decimal("0E-8")`` -> ``"0.00000000"``."""
    return format(value, "f")


def money(value: Decimal, places: int = 8) -> str:
    """Exact plain string with at least ``places`` decimals, as the API prints balances and PnL.

    Never rounds: digits beyond ``places`` are kept; only trailing zeros past ``places`` are dropped.
    """
    text = format(abs(value) if value == 0 else value, "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(places, "0")
    return f"{whole}.{frac}" if frac else whole


def position_amount(pos: Position, market: FuturesMarket) -> str:
    """Position size with the contract's ``quantityPrecision`` decimals (``"0.000"``), never rounded."""
    return money(pos.amount, market.quantity_precision)


def avg_price(order: Order) -> str:
    """Average fill price; a quotient, so rounded half-even to 8 decimals (Binance shows it rounded)."""
    if order.executed_qty <= 0:
        return "0.00"
    return fmt((order.cum_quote_qty / order.executed_qty).quantize(AVG_PRICE_QUANTUM, ROUND_HALF_EVEN))


def position_side(order: Order) -> PositionSide:
    side = order.extra.get("positionSide", PositionSide.BOTH)
    assert isinstance(side, PositionSide)
    return side


def order_json(order: Order, *, with_time: bool) -> Json:
    """Trade REST "New Order" / "Cancel Order" answers (``with_time=False``) and "Query Order" /
    "Current All Open Orders" rows (``with_time=True``, they add ``time``)."""
    data: Json = {
        "avgPrice": avg_price(order),
        "clientOrderId": order.client_order_id,
        "cumQuote": fmt(order.cum_quote_qty),
        "executedQty": fmt(order.executed_qty),
        "orderId": order.order_id,
        "origQty": fmt(order.orig_qty),
        "origType": order.extra.get("origType", order.type),
        "price": fmt(order.price) if order.price is not None else "0",
        "reduceOnly": bool(order.extra.get("reduceOnly", False)),
        "side": order.side.value,
        "positionSide": position_side(order).value,
        "status": order.status.value,
        "stopPrice": "0",
        "closePosition": False,
        "symbol": order.symbol,
        "timeInForce": order.time_in_force.value if order.time_in_force is not None else "GTC",
        "type": order.type,
        "updateTime": order.update_time,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": order.extra.get("selfTradePreventionMode", "NONE"),
        "goodTillDate": 0,
    }
    if with_time:
        data["time"] = order.time
    else:
        data["cumQty"] = fmt(order.executed_qty)
    return data


def order_trade_update(
    order: Order,
    *,
    exec_type: str,
    status: str,
    executed_qty: Decimal,
    cum_quote_qty: Decimal,
    last_qty: Decimal,
    last_price: Decimal,
    commission: Decimal,
    commission_asset: str,
    trade_time: int,
    trade_id: int,
    is_maker: bool,
    realized_pnl: Decimal,
    bids_notional: Decimal,
    asks_notional: Decimal,
    event_time: int,
    expiry_reason: int = 0,
) -> Json:
    """User Data Streams, "Event: Order Update" (``ORDER_TRADE_UPDATE``)."""
    ap = "0" if executed_qty <= 0 else fmt((cum_quote_qty / executed_qty).quantize(AVG_PRICE_QUANTUM))
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": event_time,
        "T": trade_time,
        "o": {
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side.value,
            "o": order.type,
            "f": order.time_in_force.value if order.time_in_force is not None else "GTC",
            "q": fmt(order.orig_qty),
            "p": fmt(order.price) if order.price is not None else "0",
            "ap": ap,
            "sp": "0",
            "x": exec_type,
            "X": status,
            "i": order.order_id,
            "l": fmt(last_qty),
            "z": fmt(executed_qty),
            "L": fmt(last_price),
            "N": commission_asset,
            "n": money(commission),
            "T": trade_time,
            "t": trade_id,
            "b": fmt(bids_notional),
            "a": fmt(asks_notional),
            "m": is_maker,
            "R": bool(order.extra.get("reduceOnly", False)),
            "wt": "CONTRACT_PRICE",
            "ot": order.extra.get("origType", order.type),
            "ps": position_side(order).value,
            "cp": False,
            "rp": money(realized_pnl),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": order.extra.get("selfTradePreventionMode", "NONE"),
            "pm": "NONE",
            "gtd": 0,
            "er": str(expiry_reason),
        },
    }


def account_config_update(symbol: str, leverage: int, event_time: int) -> Json:
    """User Data Streams, "Event: Account Configuration Update previous Leverage Update"."""
    return {
        "e": "ACCOUNT_CONFIG_UPDATE",
        "E": event_time,
        "T": event_time,
        "ac": {"s": symbol, "l": leverage},
    }


def position_update(pos: Position, market: FuturesMarket, mark: Decimal) -> Json:
    """One entry of ``P`` in "Event: Balance and Position Update"."""
    return {
        "s": pos.symbol,
        "pa": position_amount(pos, market),
        "ep": money(pos.entry_price),
        "bep": money(pos.entry_price),
        "cr": money(pos.realized_pnl),
        "up": money(pos.unrealized_pnl(mark)),
        "mt": "cross",
        "iw": "0",
        "ps": pos.side.value,
    }


def margin_call(
    cross_wallet: Decimal,
    positions: Iterable[tuple[Position, FuturesMarket, Decimal]],
    event_time: int,
) -> Json:
    """User Data Streams, "Event: Margin Call" (``MARGIN_CALL``).

    ``positions`` are ``(position, market, mark price)`` of the positions in the called margin asset.
    """
    return {
        "e": "MARGIN_CALL",
        "E": event_time,
        "cw": money(cross_wallet),
        "p": [
            {
                "s": pos.symbol,
                "ps": pos.side.value,
                "pa": position_amount(pos, market),
                "mt": "CROSSED",
                "iw": "0",
                "mp": money(mark),
                "up": money(pos.unrealized_pnl(mark)),
                "mm": money(abs(pos.notional(mark)) * market.maint_margin_rate),
            }
            for pos, market, mark in positions
        ],
    }


def account_update(
    *,
    reason: str,
    balances: Iterable[tuple[str, Decimal, Decimal]],
    positions: Iterable[Json],
    event_time: int,
    transaction_time: int,
) -> Json:
    """User Data Streams, "Event: Balance and Position Update" (``ACCOUNT_UPDATE``).

    ``balances`` are ``(asset, wallet balance, balance change except PnL and commission)``; in cross
    margin the cross wallet balance equals the wallet balance.
    """
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_time,
        "T": transaction_time,
        "a": {
            "m": reason,
            "B": [{"a": a, "wb": money(wb), "cw": money(wb), "bc": money(bc)} for a, wb, bc in balances],
            "P": list(positions),
        },
    }


def position_risk_v2(
    acct: FuturesAccount, pos: Position, market: FuturesMarket, mark: Decimal
) -> Json:
    """Trade REST, "Position Information V2" (``GET /fapi/v2/positionRisk``) row; cross margin only."""
    return {
        "symbol": pos.symbol,
        "positionAmt": position_amount(pos, market),
        "entryPrice": money(pos.entry_price),
        "breakEvenPrice": money(pos.entry_price),
        "markPrice": fmt(mark),
        "unRealizedProfit": money(pos.unrealized_pnl(mark)),
        "liquidationPrice": "0",
        "leverage": str(acct.leverage_of(pos.symbol)),
        "maxNotionalValue": fmt(market.max_notional),
        "marginType": "cross",
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": pos.side.value,
        "notional": money(pos.notional(mark)),
        "isolatedWallet": "0",
        "updateTime": pos.update_time,
    }


def _side_notional(orders: Iterable[Order], side: Side) -> Decimal:
    return sum(
        ((o.price or ZERO) * o.remaining for o in orders if o.side is side),
        ZERO,
    )


def _asset_rows(acct: FuturesAccount, marks: dict[str, Decimal], *, v2: bool) -> list[Json]:
    """``assets`` of "Account Information V2/V3" (V3 drops ``marginAvailable``)."""
    rows = []
    for asset in acct.assets():
        wallet = acct.balance(asset)
        upnl = acct.unrealized_pnl(asset, marks)
        pim = acct.position_initial_margin(asset, marks)
        oim = acct.open_order_initial_margin(asset)
        avail = acct.available_balance(asset, marks)
        row: Json = {
            "asset": asset,
            "walletBalance": money(wallet),
            "unrealizedProfit": money(upnl),
            "marginBalance": money(wallet + upnl),
            "maintMargin": money(acct.maint_margin(asset, marks)),
            "initialMargin": money(pim + oim),
            "positionInitialMargin": money(pim),
            "openOrderInitialMargin": money(oim),
            "crossWalletBalance": money(wallet),
            "crossUnPnl": money(upnl),
            "availableBalance": money(avail),
            "maxWithdrawAmount": money(max(ZERO, min(wallet, avail))),
            "marginAvailable": True,
            "updateTime": acct.wallet_update_time.get(asset, 0),
        }
        if not v2:
            del row["marginAvailable"]
        rows.append(row)
    return rows


_TOTALS = {
    "totalInitialMargin": "initialMargin",
    "totalMaintMargin": "maintMargin",
    "totalWalletBalance": "walletBalance",
    "totalUnrealizedProfit": "unrealizedProfit",
    "totalMarginBalance": "marginBalance",
    "totalPositionInitialMargin": "positionInitialMargin",
    "totalOpenOrderInitialMargin": "openOrderInitialMargin",
    "totalCrossWalletBalance": "crossWalletBalance",
    "totalCrossUnPnl": "crossUnPnl",
    "availableBalance": "availableBalance",
    "maxWithdrawAmount": "maxWithdrawAmount",
}


def _totals(assets: list[Json]) -> Json:
    """Single-asset mode: the account totals are the USDT asset's figures."""
    usdt = next((a for a in assets if a["asset"] == "USDT"), None)
    return {k: (usdt[v] if usdt is not None else "0.00000000") for k, v in _TOTALS.items()}


def _position_margins(
    acct: FuturesAccount, market: FuturesMarket, pos: Position, mark: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(position initial margin, open-order initial margin, maintenance margin) of one position."""
    pim = initial_margin(pos.notional(mark), acct.leverage_of(pos.symbol)) if pos.amount else ZERO
    oim = acct.open_order_initial_margin(market.margin_asset, symbol=pos.symbol, position_side=pos.side)
    return pim, oim, abs(pos.notional(mark)) * market.maint_margin_rate


def account_v2(
    acct: FuturesAccount,
    markets: dict[str, FuturesMarket],
    marks: dict[str, Decimal],
    open_orders: list[Order],
) -> Json:
    """Account REST, "Account Information V2" (``GET /fapi/v2/account``), single-asset mode.

    ``positions`` lists every symbol, on the sides of the current position mode.
    """
    assets = _asset_rows(acct, marks, v2=True)
    positions = []
    for symbol, market in markets.items():
        mark = marks[symbol]
        sym_orders = [o for o in open_orders if o.symbol == symbol]
        for side in acct.position_sides():
            pos = acct.position(symbol, side)
            pim, oim, mm = _position_margins(acct, market, pos, mark)
            positions.append(
                {
                    "symbol": symbol,
                    "initialMargin": money(pim + oim),
                    "maintMargin": money(mm),
                    "unrealizedProfit": money(pos.unrealized_pnl(mark)),
                    "positionInitialMargin": money(pim),
                    "openOrderInitialMargin": money(oim),
                    "leverage": str(acct.leverage_of(symbol)),
                    "isolated": False,
                    "entryPrice": money(pos.entry_price),
                    "maxNotional": fmt(market.max_notional),
                    "bidNotional": fmt(_side_notional(sym_orders, Side.BUY)),
                    "askNotional": fmt(_side_notional(sym_orders, Side.SELL)),
                    "positionSide": side.value,
                    "positionAmt": position_amount(pos, market),
                    "updateTime": pos.update_time,
                }
            )
    return {
        "feeTier": 0,
        "feeBurn": False,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        **_totals(assets),
        "assets": assets,
        "positions": positions,
    }


def _active_positions(
    acct: FuturesAccount, markets: dict[str, FuturesMarket], open_orders: list[Order], symbol: str | None
) -> list[tuple[FuturesMarket, Position, list[Order]]]:
    """Positions the V3 endpoints list: only symbols with a position or open orders."""
    out = []
    for sym, market in markets.items():
        if symbol is not None and sym != symbol:
            continue
        sym_orders = [o for o in open_orders if o.symbol == sym]
        for side in acct.position_sides():
            pos = acct.position(sym, side)
            if pos.amount or any(position_side(o) is side for o in sym_orders):
                out.append((market, pos, sym_orders))
    return out


def account_v3(
    acct: FuturesAccount,
    markets: dict[str, FuturesMarket],
    marks: dict[str, Decimal],
    open_orders: list[Order],
) -> Json:
    """Account REST, "Account Information V3" (``GET /fapi/v3/account``), single-asset mode."""
    assets = _asset_rows(acct, marks, v2=False)
    positions = []
    for market, pos, _ in _active_positions(acct, markets, open_orders, None):
        mark = marks[market.symbol]
        pim, oim, mm = _position_margins(acct, market, pos, mark)
        positions.append(
            {
                "symbol": pos.symbol,
                "positionSide": pos.side.value,
                "positionAmt": position_amount(pos, market),
                "unrealizedProfit": money(pos.unrealized_pnl(mark)),
                "isolatedMargin": "0.00000000",
                "notional": money(pos.notional(mark)),
                "isolatedWallet": "0",
                "initialMargin": money(pim + oim),
                "maintMargin": money(mm),
                "updateTime": pos.update_time,
            }
        )
    return {**_totals(assets), "assets": assets, "positions": positions}


def position_risk_v3(
    acct: FuturesAccount,
    markets: dict[str, FuturesMarket],
    marks: dict[str, Decimal],
    open_orders: list[Order],
    symbol: str | None,
) -> list[Json]:
    """Trade REST, "Position Information V3" (``GET /fapi/v3/positionRisk``): positions or open orders."""
    rows = []
    for market, pos, sym_orders in _active_positions(acct, markets, open_orders, symbol):
        mark = marks[market.symbol]
        pim, oim, mm = _position_margins(acct, market, pos, mark)
        side_orders = [o for o in sym_orders if position_side(o) is pos.side]
        rows.append(
            {
                "symbol": pos.symbol,
                "positionSide": pos.side.value,
                "positionAmt": position_amount(pos, market),
                "entryPrice": money(pos.entry_price),
                "breakEvenPrice": money(pos.entry_price),
                "markPrice": money(mark),
                "unRealizedProfit": money(pos.unrealized_pnl(mark)),
                "liquidationPrice": "0",
                "isolatedMargin": "0",
                "notional": money(pos.notional(mark)),
                "marginAsset": market.margin_asset,
                "isolatedWallet": "0",
                "initialMargin": money(pim + oim),
                "maintMargin": money(mm),
                "positionInitialMargin": money(pim),
                "openOrderInitialMargin": money(oim),
                "adl": 0,
                "bidNotional": fmt(_side_notional(side_orders, Side.BUY)),
                "askNotional": fmt(_side_notional(side_orders, Side.SELL)),
                "updateTime": pos.update_time,
            }
        )
    return rows


def balance_v2(acct: FuturesAccount, marks: dict[str, Decimal], alias: str) -> list[Json]:
    """Account REST, "Futures Account Balance V2" (``GET /fapi/v2/balance``)."""
    rows = []
    for asset in acct.assets():
        wallet = acct.balance(asset)
        avail = acct.available_balance(asset, marks)
        rows.append(
            {
                "accountAlias": alias,
                "asset": asset,
                "balance": money(wallet),
                "crossWalletBalance": money(wallet),
                "crossUnPnl": money(acct.unrealized_pnl(asset, marks)),
                "availableBalance": money(avail),
                "maxWithdrawAmount": money(max(ZERO, min(wallet, avail))),
                "marginAvailable": True,
                "updateTime": acct.wallet_update_time.get(asset, 0),
            }
        )
    return rows


def income_row(rec: IncomeRecord) -> Json:
    """Account REST, "Get Income History" (``GET /fapi/v1/income``) row."""
    return {
        "symbol": rec.symbol,
        "incomeType": rec.income_type,
        "income": money(rec.income),
        "asset": rec.asset,
        "info": rec.info,
        "time": rec.time,
        "tranId": rec.tran_id,
        "tradeId": rec.trade_id,
    }


def user_trade(
    *,
    symbol: str,
    trade_id: int,
    order_id: int,
    side: Side,
    position_side: PositionSide,
    price: Decimal,
    qty: Decimal,
    commission: Decimal,
    commission_asset: str,
    realized_pnl: Decimal,
    is_maker: bool,
    time: int,
) -> Json:
    """Trade REST, "Account Trade List" (``GET /fapi/v1/userTrades``) row."""
    return {
        "buyer": side is Side.BUY,
        "commission": money(commission),
        "commissionAsset": commission_asset,
        "id": trade_id,
        "maker": is_maker,
        "orderId": order_id,
        "price": fmt(price),
        "qty": fmt(qty),
        "quoteQty": fmt(price * qty),
        "realizedPnl": money(realized_pnl),
        "side": side.value,
        "positionSide": position_side.value,
        "symbol": symbol,
        "time": time,
    }


def price_ticker(symbol: str, price: Decimal, time: int) -> Json:
    """Market Data REST, "Symbol Price Ticker" (``GET /fapi/v1/ticker/price``, also V2)."""
    return {"symbol": symbol, "price": fmt(price), "time": time}


def book_ticker_rest(
    symbol: str, bid: tuple[Decimal, Decimal] | None, ask: tuple[Decimal, Decimal] | None, time: int
) -> Json:
    """Market Data REST, "Symbol Order Book Ticker" (``GET /fapi/v1/ticker/bookTicker``)."""
    bp, bq = bid if bid is not None else (ZERO, ZERO)
    ap, aq = ask if ask is not None else (ZERO, ZERO)
    return {
        "symbol": symbol,
        "bidPrice": fmt(bp),
        "bidQty": fmt(bq),
        "askPrice": fmt(ap),
        "askQty": fmt(aq),
        "time": time,
    }


def premium_index(state: MarkState) -> Json:
    """Market Data REST, "Mark Price" (``GET /fapi/v1/premiumIndex``)."""
    return {
        "symbol": state.symbol,
        "markPrice": fmt(state.mark_price),
        "indexPrice": fmt(state.index_price),
        "estimatedSettlePrice": fmt(state.index_price),
        "lastFundingRate": fmt(state.last_funding_rate),
        "interestRate": fmt(state.interest_rate),
        "nextFundingTime": state.next_funding_time,
        "time": state.time,
    }


def mark_price_update(state: MarkState, event_time: int) -> Json:
    """WebSocket Market Streams, "Mark Price Stream" (``markPriceUpdate``)."""
    return {
        "e": "markPriceUpdate",
        "E": event_time,
        "s": state.symbol,
        "p": fmt(state.mark_price),
        "ap": fmt(state.mark_price),
        "i": fmt(state.index_price),
        "P": fmt(state.index_price),
        "r": fmt(state.last_funding_rate),
        "T": state.next_funding_time,
    }


def levels(rows: Iterable[tuple[Decimal, Decimal]]) -> list[list[str]]:
    return [[fmt(p), fmt(q)] for p, q in rows]


def depth_snapshot(
    last_update_id: int,
    bids: Iterable[tuple[Decimal, Decimal]],
    asks: Iterable[tuple[Decimal, Decimal]],
    event_time: int,
    transaction_time: int,
) -> Json:
    """Market Data REST, "Order Book" (``GET /fapi/v1/depth``)."""
    return {
        "lastUpdateId": last_update_id,
        "E": event_time,
        "T": transaction_time,
        "bids": levels(bids),
        "asks": levels(asks),
    }


def depth_update(
    symbol: str,
    first_id: int,
    final_id: int,
    prev_final_id: int,
    bids: Iterable[tuple[Decimal, Decimal]],
    asks: Iterable[tuple[Decimal, Decimal]],
    event_time: int,
    transaction_time: int,
) -> Json:
    """WebSocket Market Streams, "Diff. Book Depth Streams" (``depthUpdate`` with ``U``/``u``/``pu``)."""
    return {
        "e": "depthUpdate",
        "E": event_time,
        "T": transaction_time,
        "s": symbol,
        "U": first_id,
        "u": final_id,
        "pu": prev_final_id,
        "b": levels(bids),
        "a": levels(asks),
    }


def trade(fill: Fill, event_time: int) -> Json:
    """``<symbol>@trade`` (served on the /public route; ``X`` is the trade's type, MARKET here)."""
    return {
        "e": "trade",
        "E": event_time,
        "T": fill.time,
        "s": fill.symbol,
        "t": fill.trade_id,
        "p": fmt(fill.price),
        "q": fmt(fill.qty),
        "X": "MARKET",
        "m": fill.is_buyer_maker,
    }


def agg_trade(
    symbol: str,
    agg_id: int,
    price: Decimal,
    qty: Decimal,
    first_trade_id: int,
    last_trade_id: int,
    trade_time: int,
    buyer_is_maker: bool,
    event_time: int,
) -> Json:
    """WebSocket Market Streams, "Aggregate Trade Streams" (``aggTrade``)."""
    return {
        "e": "aggTrade",
        "E": event_time,
        "s": symbol,
        "a": agg_id,
        "p": fmt(price),
        "q": fmt(qty),
        "nq": fmt(qty),
        "f": first_trade_id,
        "l": last_trade_id,
        "T": trade_time,
        "m": buyer_is_maker,
    }


def book_ticker(
    symbol: str,
    update_id: int,
    bid: tuple[Decimal, Decimal] | None,
    ask: tuple[Decimal, Decimal] | None,
    event_time: int,
    transaction_time: int,
) -> Json:
    """WebSocket Market Streams, "Individual Symbol Book Ticker Streams" (``bookTicker``)."""
    bp, bq = bid if bid is not None else (ZERO, ZERO)
    ap, aq = ask if ask is not None else (ZERO, ZERO)
    return {
        "e": "bookTicker",
        "u": update_id,
        "E": event_time,
        "T": transaction_time,
        "s": symbol,
        "b": fmt(bp),
        "B": fmt(bq),
        "a": fmt(ap),
        "A": fmt(aq),
    }


def symbol_info(market: FuturesMarket, onboard_ms: int) -> Json:
    """One ``symbols`` entry of Market Data REST, "Exchange Information"."""
    return {
        "symbol": market.symbol,
        "pair": market.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": onboard_ms,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": market.base,
        "quoteAsset": market.quote,
        "marginAsset": market.margin_asset,
        "pricePrecision": market.price_precision,
        "quantityPrecision": market.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "maxPrice": fmt(market.max_price),
                "minPrice": fmt(market.min_price),
                "tickSize": fmt(market.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "maxQty": fmt(market.max_qty),
                "minQty": fmt(market.min_qty),
                "stepSize": fmt(market.step_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "maxQty": fmt(market.market_max_qty),
                "minQty": fmt(market.min_qty),
                "stepSize": fmt(market.step_size),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": market.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": money(market.min_notional)},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
    }


def exchange_info(
    markets: Iterable[FuturesMarket], rate_limits: list[Json], server_time: int, onboard_ms: int
) -> Json:
    """Market Data REST, "Exchange Information" (``GET /fapi/v1/exchangeInfo``)."""
    markets = list(markets)
    assets = dict.fromkeys(a for m in markets for a in (m.margin_asset, m.base))
    return {
        "exchangeFilters": [],
        "rateLimits": rate_limits,
        "serverTime": server_time,
        "assets": [
            {
                "asset": a,
                "marginAvailable": a == "USDT",
                "autoAssetExchange": "0" if a == "USDT" else None,
            }
            for a in assets
        ],
        "symbols": [symbol_info(m, onboard_ms) for m in markets],
        "timezone": "UTC",
    }
