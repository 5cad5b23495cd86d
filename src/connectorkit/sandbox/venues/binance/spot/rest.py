"""Spot REST handlers (``/api/v3/...``). Each handler names its section of the official Binance Spot
API documentation ("REST API" pages: General endpoints, Market Data endpoints, Trading endpoints,
Account endpoints, User Data Stream endpoints). Weights are the documented request weights.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from connectorkit.sandbox.accounts import Account
from connectorkit.sandbox.engine import ZERO, Order
from connectorkit.sandbox.venue import PlaceResult
from connectorkit.sandbox.venues.binance import errors
from connectorkit.sandbox.venues.binance.http import ApiGateway, ApiRequest
from connectorkit.sandbox.venues.binance.listenkeys import ListenKeyRegistry
from connectorkit.sandbox.venues.binance.ratelimit import rate_limit_json
from connectorkit.sandbox.venues.binance.spot import filters
from connectorkit.sandbox.venues.binance.spot.events import levels
from connectorkit.sandbox.venues.binance.spot.exchange import NewOrderParams, SpotExchange, TradeRecord
from connectorkit.sandbox.venues.binance.spot.format import fmt

_ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET"]
_DAY_MS = 24 * 3_600_000


def order_json(o: Order) -> dict[str, Any]:
    """Query-order shape (Account endpoints → "Query order (USER_DATA)")."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": fmt(o.price or ZERO),
        "origQty": fmt(o.orig_qty),
        "executedQty": fmt(o.executed_qty),
        "cummulativeQuoteQty": fmt(o.cum_quote_qty),
        "status": o.status.value,
        "timeInForce": o.time_in_force.value if o.time_in_force else "GTC",
        "type": o.type,
        "side": o.side.value,
        "stopPrice": fmt(ZERO),
        "icebergQty": fmt(ZERO),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": o.working_time >= 0,
        "workingTime": o.working_time,
        "origQuoteOrderQty": fmt(o.orig_quote_qty or ZERO),
        "selfTradePreventionMode": "NONE",
    }


def _order_state(o: Order) -> dict[str, Any]:
    """The fields, in this order, that the new-order (RESULT/FULL) and cancel answers share."""
    return {
        "price": fmt(o.price or ZERO),
        "origQty": fmt(o.orig_qty),
        "executedQty": fmt(o.executed_qty),
        "origQuoteOrderQty": fmt(o.orig_quote_qty or ZERO),
        "cummulativeQuoteQty": fmt(o.cum_quote_qty),
        "status": o.status.value,
        "timeInForce": o.time_in_force.value if o.time_in_force else "GTC",
        "type": o.type,
        "side": o.side.value,
    }


def new_order_json(result: PlaceResult, resp_type: str) -> dict[str, Any]:
    """Trading endpoints → "New order (TRADE)": ACK, RESULT or FULL response."""
    o = result.order
    out: dict[str, Any] = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "transactTime": o.time,
    }
    if resp_type == "ACK":
        return out
    out.update(_order_state(o))
    out["workingTime"] = o.working_time if o.working_time >= 0 else o.time
    out["selfTradePreventionMode"] = "NONE"
    if resp_type == "FULL":
        out["fills"] = [
            {
                "price": fmt(ex.fill.price),
                "qty": fmt(ex.fill.qty),
                "commission": fmt(ex.charge.commission),
                "commissionAsset": ex.charge.commission_asset,
                "tradeId": ex.fill.trade_id,
            }
            for ex in result.fills
            if ex.fill is not None and ex.charge is not None
        ]
    return out


def cancel_json(o: Order) -> dict[str, Any]:
    """Trading endpoints → "Cancel order (TRADE)"."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_order_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.extra.get("cancel_client_order_id", ""),
        "transactTime": o.update_time,
        **_order_state(o),
        "selfTradePreventionMode": "NONE",
    }


def account_json(ex: SpotExchange, acct: Account, omit_zero: bool, now: int) -> dict[str, Any]:
    """Account endpoints → "Account information (USER_DATA)" (also the WS-API ``account.status``)."""
    balances = [
        {"asset": asset, "free": fmt(b.free), "locked": fmt(b.locked)}
        for asset, b in sorted(ex.ledger.balances[acct.account_id].items())
        if not (omit_zero and b.free == 0 and b.locked == 0)
    ]
    return {
        "makerCommission": int(acct.maker_commission * 10000),
        "takerCommission": int(acct.taker_commission * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(acct.maker_commission),
            "taker": fmt(acct.taker_commission),
            "buyer": fmt(ZERO),
            "seller": fmt(ZERO),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": acct.account_id,
    }


def trade_json(t: TradeRecord) -> dict[str, Any]:
    """Account endpoints → "Account trade list (USER_DATA)"."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": fmt(t.price),
        "qty": fmt(t.qty),
        "quoteQty": fmt(t.quote_qty),
        "commission": fmt(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": True,
    }


def depth_weight(req: ApiRequest) -> int:
    # Market Data endpoints → "Order book": weight by limit (a malformed limit is the handler's -1100).
    raw = req.params.get("limit") or "100"
    limit = int(raw) if raw.isascii() and raw.isdigit() else 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def _my_trades_weight(req: ApiRequest) -> int:
    # Account endpoints → "Account trade list": 20, or 5 with orderId.
    return 5 if req.params.get("orderId") else 20


# The pattern Binance reports for a malformed ``symbols`` list (a JSON array of upper-case symbols).
_SYMBOLS_LEGAL = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
_SYMBOLS_PATTERN = re.compile(_SYMBOLS_LEGAL)


def symbols_param(req: ApiRequest) -> list[str] | None:
    raw = req.get("symbols")
    if raw is None:
        return None
    if not _SYMBOLS_PATTERN.fullmatch(raw):
        raise errors.illegal_chars("symbols", _SYMBOLS_LEGAL)
    symbols: list[str] = msgspec.json.decode(raw)
    return symbols


def one_or_many_weight(single: int, many: int) -> Callable[[ApiRequest], int]:
    return lambda req: single if req.params.get("symbol") else many


class SpotRest:
    def __init__(self, exchange: SpotExchange, gateway: ApiGateway, listen_keys: ListenKeyRegistry) -> None:
        self.ex = exchange
        self.gw = gateway
        self.listen_keys = listen_keys

    def mount(self, app: web.Application) -> None:
        gw = self.gw
        r = app.router
        r.add_get("/api/v3/ping", gw.endpoint(weight=1)(self.ping))
        r.add_get("/api/v3/time", gw.endpoint(weight=1)(self.time))
        r.add_get("/api/v3/exchangeInfo", gw.endpoint(weight=20)(self.exchange_info))
        r.add_get("/api/v3/depth", gw.endpoint(weight=depth_weight)(self.depth))
        r.add_get("/api/v3/ticker/price", gw.endpoint(weight=one_or_many_weight(2, 4))(self.ticker_price))
        r.add_get("/api/v3/ticker/bookTicker", gw.endpoint(weight=one_or_many_weight(2, 4))(self.book_ticker))
        r.add_post("/api/v3/order", gw.endpoint(weight=1, security="SIGNED", order=True)(self.new_order))
        r.add_post("/api/v3/order/test", gw.endpoint(weight=1, security="SIGNED")(self.test_order))
        r.add_delete("/api/v3/order", gw.endpoint(weight=1, security="SIGNED")(self.cancel_order))
        r.add_get("/api/v3/order", gw.endpoint(weight=4, security="SIGNED")(self.query_order))
        r.add_get(
            "/api/v3/openOrders",
            gw.endpoint(weight=one_or_many_weight(6, 80), security="SIGNED")(self.open_orders),
        )
        r.add_delete("/api/v3/openOrders", gw.endpoint(weight=1, security="SIGNED")(self.cancel_all))
        r.add_get("/api/v3/account", gw.endpoint(weight=20, security="SIGNED")(self.account))
        r.add_get(
            "/api/v3/account/commission", gw.endpoint(weight=20, security="SIGNED")(self.account_commission)
        )
        r.add_get(
            "/api/v3/myTrades", gw.endpoint(weight=_my_trades_weight, security="SIGNED")(self.my_trades)
        )
        r.add_post("/api/v3/userDataStream", gw.endpoint(weight=2, security="USER_STREAM")(self.start_stream))
        r.add_put(
            "/api/v3/userDataStream", gw.endpoint(weight=2, security="USER_STREAM")(self.keepalive_stream)
        )
        r.add_delete(
            "/api/v3/userDataStream", gw.endpoint(weight=2, security="USER_STREAM")(self.close_stream)
        )

    # ---- General endpoints -----------------------------------------------------------------------
    async def ping(self, req: ApiRequest) -> Any:
        """General endpoints → "Test connectivity"."""
        return {}

    async def time(self, req: ApiRequest) -> Any:
        """General endpoints → "Check server time"."""
        return {"serverTime": self.ex.clock.now_ms()}

    async def exchange_info(self, req: ApiRequest) -> Any:
        """General endpoints → "Exchange information"."""
        wanted = symbols_param(req)
        single = req.get("symbol")
        if single is not None:
            wanted = [single]
        markets = (
            [self.ex.market(s) for s in wanted] if wanted is not None else list(self.ex.markets.values())
        )
        return {
            "timezone": "UTC",
            "serverTime": self.ex.clock.now_ms(),
            "rateLimits": [rate_limit_json(rule) for rule in self.gw.limiter.rules],
            "exchangeFilters": [],
            "symbols": [
                {
                    "symbol": m.symbol,
                    "status": "TRADING",
                    "baseAsset": m.base,
                    "baseAssetPrecision": m.base_precision,
                    "quoteAsset": m.quote,
                    "quotePrecision": m.quote_precision,
                    "quoteAssetPrecision": m.quote_precision,
                    "baseCommissionPrecision": m.base_precision,
                    "quoteCommissionPrecision": m.quote_precision,
                    "orderTypes": _ORDER_TYPES,
                    "icebergAllowed": False,
                    "ocoAllowed": False,
                    "otoAllowed": False,
                    "quoteOrderQtyMarketAllowed": True,
                    "allowTrailingStop": False,
                    "cancelReplaceAllowed": False,
                    "amendAllowed": False,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "filters": filters.exchange_info_filters(m),
                    "permissions": [],
                    "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": "NONE",
                    "allowedSelfTradePreventionModes": ["NONE"],
                }
                for m in markets
            ],
        }

    # ---- Market Data endpoints -------------------------------------------------------------------
    async def depth(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Order book" (limit default 100, max 5000)."""
        market = self.ex.market(req.require("symbol"))
        limit = min(req.integer("limit") or 100, 5000)
        book = self.ex.engine.book(market.symbol)
        bids, asks = book.depth(limit)
        return {"lastUpdateId": book.update_id, "bids": levels(bids), "asks": levels(asks)}

    def _selected(self, req: ApiRequest) -> tuple[list[str], bool]:
        symbol = req.get("symbol")
        if symbol is not None:
            return [self.ex.market(symbol).symbol], True
        symbols = symbols_param(req)
        if symbols is not None:
            return [self.ex.market(s).symbol for s in symbols], False
        return list(self.ex.markets), False

    async def ticker_price(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Symbol price ticker"."""
        symbols, single = self._selected(req)
        out = []
        for s in symbols:
            price = self.ex.reference_price(s)
            out.append({"symbol": s, "price": fmt(price if price is not None else ZERO)})
        return out[0] if single else out

    async def book_ticker(self, req: ApiRequest) -> Any:
        """Market Data endpoints → "Symbol order book ticker"."""
        symbols, single = self._selected(req)
        out = []
        for s in symbols:
            book = self.ex.engine.book(s)
            bp, bq = book.best_bid() or (ZERO, ZERO)
            ap, aq = book.best_ask() or (ZERO, ZERO)
            out.append(
                {"symbol": s, "bidPrice": fmt(bp), "bidQty": fmt(bq), "askPrice": fmt(ap), "askQty": fmt(aq)}
            )
        return out[0] if single else out

    # ---- Trading endpoints -----------------------------------------------------------------------
    @staticmethod
    def order_params(req: ApiRequest) -> NewOrderParams:
        return {
            "symbol": req.get("symbol"),
            "side": req.get("side"),
            "order_type": req.get("type"),
            "time_in_force": req.get("timeInForce"),
            "quantity": req.decimal("quantity"),
            "quote_order_qty": req.decimal("quoteOrderQty"),
            "price": req.decimal("price"),
            "client_order_id": req.get("newClientOrderId"),
        }

    def _place(self, req: ApiRequest) -> PlaceResult:
        return self.ex.new_order(req.acct, **self.order_params(req))

    async def new_order(self, req: ApiRequest) -> Any:
        """Trading endpoints → "New order (TRADE)"."""
        resp_type = req.get("newOrderRespType")
        if resp_type is not None and resp_type not in ("ACK", "RESULT", "FULL"):
            raise errors.ApiError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
        result = self._place(req)
        if resp_type is None:
            resp_type = "FULL" if result.order.type in ("MARKET", "LIMIT") else "ACK"
        return new_order_json(result, resp_type)

    async def test_order(self, req: ApiRequest) -> Any:
        """Trading endpoints → "Test new order (TRADE)": the checks of a new order; places nothing."""
        self.ex.validate_order(**self.order_params(req))
        return {}

    async def cancel_order(self, req: ApiRequest) -> Any:
        """Trading endpoints → "Cancel order (TRADE)"."""
        order = self.ex.cancel_order(
            req.acct,
            req.get("symbol"),
            req.integer("orderId"),
            req.get("origClientOrderId"),
            req.get("newClientOrderId"),
        )
        return cancel_json(order)

    async def cancel_all(self, req: ApiRequest) -> Any:
        """Trading endpoints → "Cancel All Open Orders on a Symbol (TRADE)"."""
        return [cancel_json(o) for o in self.ex.cancel_all(req.acct, req.require("symbol"))]

    # ---- Account endpoints -----------------------------------------------------------------------
    async def query_order(self, req: ApiRequest) -> Any:
        """Account endpoints → "Query order (USER_DATA)"."""
        order = self.ex.query_order(
            req.acct, req.get("symbol"), req.integer("orderId"), req.get("origClientOrderId")
        )
        return order_json(order)

    async def open_orders(self, req: ApiRequest) -> Any:
        """Account endpoints → "Current open orders (USER_DATA)"."""
        return [order_json(o) for o in self.ex.open_orders(req.acct, req.get("symbol"))]

    async def account(self, req: ApiRequest) -> Any:
        """Account endpoints → "Account information (USER_DATA)"."""
        return account_json(
            self.ex, req.acct, req.boolean("omitZeroBalances") or False, self.ex.clock.now_ms()
        )

    async def account_commission(self, req: ApiRequest) -> Any:
        """Account endpoints → "Query Commission Rates (USER_DATA)": the account's rates; no special,
        tax or BNB-discount rates in the sandbox (zeros, discount disabled)."""
        market = self.ex.market(req.require("symbol"))
        acct = req.acct
        zeros = {"maker": fmt(ZERO), "taker": fmt(ZERO), "buyer": fmt(ZERO), "seller": fmt(ZERO)}
        return {
            "symbol": market.symbol,
            "standardCommission": {
                "maker": fmt(acct.maker_commission),
                "taker": fmt(acct.taker_commission),
                "buyer": fmt(ZERO),
                "seller": fmt(ZERO),
            },
            "specialCommission": dict(zeros),
            "taxCommission": dict(zeros),
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": fmt(ZERO),
            },
        }

    async def my_trades(self, req: ApiRequest) -> Any:
        """Account endpoints → "Account trade list (USER_DATA)" (limit default 500, max 1000)."""
        market = self.ex.market(req.require("symbol"))
        order_id = req.integer("orderId")
        from_id = req.integer("fromId")
        start = req.integer("startTime")
        end = req.integer("endTime")
        limit = min(req.integer("limit") or 500, 1000)
        if start is not None and end is not None and end - start > _DAY_MS:
            raise errors.lookup_interval_too_big(24)
        trades = [t for t in self.ex.trades[req.acct.account_id] if t.symbol == market.symbol]
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        if from_id is not None:
            trades = [t for t in trades if t.trade_id >= from_id]
        if start is not None:
            trades = [t for t in trades if t.time >= start]
        if end is not None:
            trades = [t for t in trades if t.time <= end]
        if from_id is None and start is None:
            return [trade_json(t) for t in trades[-limit:]]  # the most recent trades by default
        return [trade_json(t) for t in trades[:limit]]

    # ---- User Data Stream endpoints (USER_STREAM: API key, no signature) ---------------------------
    async def start_stream(self, req: ApiRequest) -> Any:
        """User Data Stream endpoints → "Start user data stream (USER_STREAM)"."""
        return {"listenKey": self.listen_keys.create(req.acct.account_id, self.ex.clock.now_ms())}

    async def keepalive_stream(self, req: ApiRequest) -> Any:
        """User Data Stream endpoints → "Keepalive user data stream (USER_STREAM)"."""
        self.listen_keys.keepalive(req.require("listenKey"), req.acct.account_id, self.ex.clock.now_ms())
        return {}

    async def close_stream(self, req: ApiRequest) -> Any:
        """User Data Stream endpoints → "Close user data stream (USER_STREAM)"."""
        self.listen_keys.close(req.require("listenKey"), req.acct.account_id)
        return {}
