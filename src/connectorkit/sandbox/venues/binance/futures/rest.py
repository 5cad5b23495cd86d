"""``/fapi`` REST routes: parameter parsing, weights and answers (USDⓈ-M Futures docs).

Each handler names its documentation page; the weights are the documented "Request Weight".
Security and rate limits are applied by the shared
:class:`~connectorkit.sandbox.venues.binance.http.ApiGateway`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from connectorkit.sandbox.venues.binance import errors as core_errors
from connectorkit.sandbox.venues.binance.http import ApiGateway, ApiRequest
from connectorkit.sandbox.venues.binance.ratelimit import rate_limit_json

from . import errors, wire
from .exchange import OrderRequest

if TYPE_CHECKING:
    from .product import FuturesProduct

DEPTH_WEIGHTS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
MAX_USER_TRADES = 1000
MAX_INCOME_ROWS = 1000


def _depth_limit(req: ApiRequest) -> int:
    limit = req.integer("limit")
    limit = 500 if limit is None else limit
    if limit not in DEPTH_WEIGHTS:
        raise core_errors.ApiError(errors.INVALID_DEPTH_LIMIT, f"'{limit}' is not valid depth limit.")
    return limit


def _depth_weight(req: ApiRequest) -> int:
    try:
        return DEPTH_WEIGHTS[_depth_limit(req)]
    except core_errors.ApiError:
        return 2


def mount_rest(app: web.Application, product: FuturesProduct, gw: ApiGateway) -> None:
    ex = product.exchange
    clock = product.ctx.clock

    def now() -> int:
        return clock.now_ms()

    # ---- market data -----------------------------------------------------------------------------
    @gw.endpoint(weight=1)
    async def ping(req: ApiRequest) -> Any:
        """Market Data REST, "Test Connectivity": GET /fapi/v1/ping -> {}."""
        return {}

    @gw.endpoint(weight=1)
    async def server_time(req: ApiRequest) -> Any:
        """Market Data REST, "Check Server Time": GET /fapi/v1/time."""
        return {"serverTime": now()}

    @gw.endpoint(weight=1)
    async def exchange_info(req: ApiRequest) -> Any:
        """Market Data REST, "Exchange Information": GET /fapi/v1/exchangeInfo."""
        limits = [rate_limit_json(r) for r in product.limiter.rules if r.rate_limit_type != "RAW_REQUESTS"]
        return wire.exchange_info(ex.markets.values(), limits, now(), product.started_ms)

    @gw.endpoint(weight=_depth_weight)
    async def depth(req: ApiRequest) -> Any:
        """Market Data REST, "Order Book": GET /fapi/v1/depth (lastUpdateId, E, T)."""
        market = ex.market(req.require("symbol"))
        limit = _depth_limit(req)
        book = ex.engine.book(market.symbol)
        bids, asks = book.depth(limit)
        t = book.last_trade.time if book.last_trade is not None else now()
        return wire.depth_snapshot(book.update_id, bids, asks, now(), t)

    @gw.endpoint(weight=lambda r: 1 if r.get("symbol") else 10)
    async def premium_index(req: ApiRequest) -> Any:
        """Market Data REST, "Mark Price": GET /fapi/v1/premiumIndex (object with symbol, list without)."""
        symbol = req.get("symbol")
        if symbol is not None:
            return wire.premium_index(ex.marks[ex.market(symbol).symbol])
        return [wire.premium_index(st) for st in ex.marks.values()]

    def _symbols(req: ApiRequest) -> list[str]:
        symbol = req.get("symbol")
        return [ex.market(symbol).symbol] if symbol is not None else list(ex.markets)

    @gw.endpoint(weight=lambda r: 1 if r.get("symbol") else 2)
    async def ticker_price(req: ApiRequest) -> Any:
        """Market Data REST, "Symbol Price Ticker" (and V2): GET /fapi/v1|v2/ticker/price.

        The price is the last trade's; before the first trade, the contract's mark price.
        """
        rows = []
        for symbol in _symbols(req):
            last = ex.engine.book(symbol).last_trade
            if last is not None:
                rows.append(wire.price_ticker(symbol, last.price, last.time))
            else:
                rows.append(wire.price_ticker(symbol, ex.marks[symbol].mark_price, now()))
        return rows[0] if req.get("symbol") else rows

    @gw.endpoint(weight=lambda r: 2 if r.get("symbol") else 5)
    async def ticker_book(req: ApiRequest) -> Any:
        """Market Data REST, "Symbol Order Book Ticker": GET /fapi/v1/ticker/bookTicker."""
        rows = []
        for symbol in _symbols(req):
            book = ex.engine.book(symbol)
            rows.append(wire.book_ticker_rest(symbol, book.best_bid(), book.best_ask(), now()))
        return rows[0] if req.get("symbol") else rows

    # ---- trade -----------------------------------------------------------------------------------
    @gw.endpoint(weight=0, security="SIGNED", order=True)
    async def new_order(req: ApiRequest) -> Any:
        """Trade REST, "New Order (TRADE)": POST /fapi/v1/order (weight 0 on IP, 1 on order count)."""
        request = OrderRequest(
            symbol=req.require("symbol"),
            side=req.require("side"),
            type=req.require("type"),
            quantity=req.decimal("quantity"),
            price=req.decimal("price"),
            time_in_force=req.get("timeInForce"),
            position_side=req.get("positionSide"),
            reduce_only=req.boolean("reduceOnly"),
            new_client_order_id=req.get("newClientOrderId"),
            resp_type=req.get("newOrderRespType") or "ACK",
        )
        return ex.new_order(req.acct.account_id, request)

    @gw.endpoint(weight=1, security="SIGNED")
    async def cancel_order(req: ApiRequest) -> Any:
        """Trade REST, "Cancel Order (TRADE)": DELETE /fapi/v1/order."""
        order = ex.cancel_order(
            req.acct.account_id, req.require("symbol"), req.integer("orderId"), req.get("origClientOrderId")
        )
        return wire.order_json(order, with_time=False)

    @gw.endpoint(weight=1, security="SIGNED")
    async def query_order(req: ApiRequest) -> Any:
        """Trade REST, "Query Order (USER_DATA)": GET /fapi/v1/order."""
        order = ex.find_order(
            req.acct.account_id, req.require("symbol"), req.integer("orderId"), req.get("origClientOrderId")
        )
        return wire.order_json(order, with_time=True)

    @gw.endpoint(weight=lambda r: 1 if r.get("symbol") else 40, security="SIGNED")
    async def open_orders(req: ApiRequest) -> Any:
        """Trade REST, "Current All Open Orders (USER_DATA)": GET /fapi/v1/openOrders."""
        symbol = req.get("symbol")
        if symbol is not None:
            ex.market(symbol)
        return [wire.order_json(o, with_time=True) for o in ex.open_orders(req.acct.account_id, symbol)]

    @gw.endpoint(weight=1, security="SIGNED")
    async def cancel_all(req: ApiRequest) -> Any:
        """Trade REST, "Cancel All Open Orders (TRADE)": DELETE /fapi/v1/allOpenOrders."""
        ex.cancel_all(req.acct.account_id, req.require("symbol"))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    @gw.endpoint(weight=5, security="SIGNED")
    async def user_trades(req: ApiRequest) -> Any:
        """Trade REST, "Account Trade List (USER_DATA)": GET /fapi/v1/userTrades."""
        symbol = ex.market(req.require("symbol")).symbol
        order_id = req.integer("orderId")
        start, end, from_id = req.integer("startTime"), req.integer("endTime"), req.integer("fromId")
        if from_id is not None and (start is not None or end is not None):
            raise core_errors.bad_combo()
        limit = min(req.integer("limit") or 500, MAX_USER_TRADES)
        legs = [
            leg
            for leg in ex.ledger.trades.get(req.acct.account_id, [])
            if leg.symbol == symbol
            and (order_id is None or leg.order_id == order_id)
            and (start is None or leg.time >= start)
            and (end is None or leg.time <= end)
            and (from_id is None or leg.trade_id >= from_id)
        ]
        legs = legs[:limit] if from_id is not None else legs[-limit:]
        return [
            wire.user_trade(
                symbol=leg.symbol,
                trade_id=leg.trade_id,
                order_id=leg.order_id,
                side=leg.side,
                position_side=leg.position_side,
                price=leg.price,
                qty=leg.qty,
                commission=leg.commission,
                commission_asset=leg.commission_asset,
                realized_pnl=leg.realized_pnl,
                is_maker=leg.is_maker,
                time=leg.time,
            )
            for leg in legs
        ]

    @gw.endpoint(weight=1, security="SIGNED")
    async def leverage(req: ApiRequest) -> Any:
        """Trade REST, "Change Initial Leverage (TRADE)": POST /fapi/v1/leverage."""
        value = req.integer("leverage", required=True)
        assert value is not None
        return ex.set_leverage(req.acct.account_id, req.require("symbol"), value)

    @gw.endpoint(weight=1, security="SIGNED")
    async def change_position_mode(req: ApiRequest) -> Any:
        """Trade REST, "Change Position Mode (TRADE)": POST /fapi/v1/positionSide/dual."""
        req.require("dualSidePosition")
        dual = req.boolean("dualSidePosition")
        assert dual is not None
        ex.set_dual_side(req.acct.account_id, dual)
        return {"code": 200, "msg": "success"}

    @gw.endpoint(weight=30, security="SIGNED")
    async def get_position_mode(req: ApiRequest) -> Any:
        """Account REST, "Get Current Position Mode (USER_DATA)": GET /fapi/v1/positionSide/dual."""
        return {"dualSidePosition": ex.account(req.acct.account_id).dual_side_position}

    # ---- account ---------------------------------------------------------------------------------
    @gw.endpoint(weight=5, security="SIGNED")
    async def account_v2(req: ApiRequest) -> Any:
        """Account REST, "Account Information V2 (USER_DATA)": GET /fapi/v2/account."""
        aid = req.acct.account_id
        return wire.account_v2(ex.account(aid), ex.markets, ex.mark_prices(), ex.open_orders(aid))

    @gw.endpoint(weight=5, security="SIGNED")
    async def account_v3(req: ApiRequest) -> Any:
        """Account REST, "Account Information V3 (USER_DATA)": GET /fapi/v3/account."""
        aid = req.acct.account_id
        return wire.account_v3(ex.account(aid), ex.markets, ex.mark_prices(), ex.open_orders(aid))

    @gw.endpoint(weight=5, security="SIGNED")
    async def balance_v2(req: ApiRequest) -> Any:
        """Account REST, "Futures Account Balance V2 (USER_DATA)": GET /fapi/v2/balance."""
        acct = ex.account(req.acct.account_id)
        return wire.balance_v2(acct, ex.mark_prices(), f"sb{req.acct.account_id}")

    @gw.endpoint(weight=5, security="SIGNED")
    async def position_risk_v2(req: ApiRequest) -> Any:
        """Trade REST, "Position Information V2 (USER_DATA)": GET /fapi/v2/positionRisk."""
        acct = ex.account(req.acct.account_id)
        symbol = req.get("symbol")
        markets = [ex.market(symbol)] if symbol is not None else list(ex.markets.values())
        marks = ex.mark_prices()
        return [
            wire.position_risk_v2(acct, acct.position(m.symbol, side), m, marks[m.symbol])
            for m in markets
            for side in acct.position_sides()
        ]

    @gw.endpoint(weight=20, security="SIGNED")
    async def commission_rate(req: ApiRequest) -> Any:
        """Account REST, "User Commission Rate (USER_DATA)": GET /fapi/v1/commissionRate.

        The sandbox has no RPI orders; ``rpiCommissionRate`` is reported as 0.
        """
        symbol = ex.market(req.require("symbol")).symbol
        acct = ex.account(req.acct.account_id)
        return {
            "symbol": symbol,
            "makerCommissionRate": wire.fmt(acct.maker_fee),
            "takerCommissionRate": wire.fmt(acct.taker_fee),
            "rpiCommissionRate": "0",
        }

    @gw.endpoint(weight=5, security="SIGNED")
    async def position_risk_v3(req: ApiRequest) -> Any:
        """Trade REST, "Position Information V3 (USER_DATA)": GET /fapi/v3/positionRisk."""
        aid = req.acct.account_id
        symbol = req.get("symbol")
        if symbol is not None:
            ex.market(symbol)
        acct, orders = ex.account(aid), ex.open_orders(aid)
        return wire.position_risk_v3(acct, ex.markets, ex.mark_prices(), orders, symbol)

    @gw.endpoint(weight=30, security="SIGNED")
    async def income(req: ApiRequest) -> Any:
        """Account REST, "Get Income History (USER_DATA)": GET /fapi/v1/income."""
        symbol = req.get("symbol")
        if symbol is not None:
            ex.market(symbol)
        start, end = req.integer("startTime"), req.integer("endTime")
        if start is not None and end is not None and start > end:
            raise core_errors.ApiError(-1023, "Start time is greater than end time.")
        limit = min(req.integer("limit") or 100, MAX_INCOME_ROWS)
        rows = ex.income(
            req.acct.account_id,
            symbol=symbol,
            income_type=req.get("incomeType"),
            start=start,
            end=end,
            limit=limit,
        )
        return [wire.income_row(r) for r in rows]

    # ---- user data stream ------------------------------------------------------------------------
    @gw.endpoint(weight=1, security="USER_STREAM")
    async def listen_key_create(req: ApiRequest) -> Any:
        """User Data Streams, "Start User Data Stream (USER_STREAM)": POST /fapi/v1/listenKey."""
        return {"listenKey": product.listen_keys.create(req.acct.account_id, now())}

    @gw.endpoint(weight=1, security="USER_STREAM")
    async def listen_key_keepalive(req: ApiRequest) -> Any:
        """User Data Streams, "Keepalive User Data Stream (USER_STREAM)": PUT /fapi/v1/listenKey."""
        aid = req.acct.account_id
        key = req.get("listenKey")
        if key is None:
            keys = product.listen_keys.keys_for(aid)
            if not keys:
                raise errors.invalid_listen_key()
            key = keys[0]
        try:
            product.listen_keys.keepalive(key, aid, now())
        except core_errors.ApiError:
            raise errors.invalid_listen_key() from None
        return {"listenKey": key}

    @gw.endpoint(weight=1, security="USER_STREAM")
    async def listen_key_close(req: ApiRequest) -> Any:
        """User Data Streams, "Close User Data Stream (USER_STREAM)": DELETE /fapi/v1/listenKey."""
        aid = req.acct.account_id
        for key in [req.get("listenKey")] if req.get("listenKey") else product.listen_keys.keys_for(aid):
            if key is not None:
                try:
                    product.listen_keys.close(key, aid)
                except core_errors.ApiError:
                    raise errors.invalid_listen_key() from None
        return {}

    r = app.router
    r.add_get("/fapi/v1/ping", ping)
    r.add_get("/fapi/v1/time", server_time)
    r.add_get("/fapi/v1/exchangeInfo", exchange_info)
    r.add_get("/fapi/v1/depth", depth)
    r.add_get("/fapi/v1/premiumIndex", premium_index)
    r.add_get("/fapi/v1/ticker/price", ticker_price)
    r.add_get("/fapi/v2/ticker/price", ticker_price)
    r.add_get("/fapi/v1/ticker/bookTicker", ticker_book)
    r.add_post("/fapi/v1/order", new_order)
    r.add_delete("/fapi/v1/order", cancel_order)
    r.add_get("/fapi/v1/order", query_order)
    r.add_get("/fapi/v1/openOrders", open_orders)
    r.add_delete("/fapi/v1/allOpenOrders", cancel_all)
    r.add_get("/fapi/v1/userTrades", user_trades)
    r.add_post("/fapi/v1/leverage", leverage)
    r.add_post("/fapi/v1/positionSide/dual", change_position_mode)
    r.add_get("/fapi/v1/positionSide/dual", get_position_mode)
    r.add_get("/fapi/v2/account", account_v2)
    r.add_get("/fapi/v2/balance", balance_v2)
    # "Futures Account Balance V3" answers exactly like V2.
    r.add_get("/fapi/v3/balance", balance_v2)
    r.add_get("/fapi/v3/account", account_v3)
    r.add_get("/fapi/v3/positionRisk", position_risk_v3)
    r.add_get("/fapi/v2/positionRisk", position_risk_v2)
    r.add_get("/fapi/v1/income", income)
    r.add_get("/fapi/v1/commissionRate", commission_rate)
    r.add_post("/fapi/v1/listenKey", listen_key_create)
    r.add_put("/fapi/v1/listenKey", listen_key_keepalive)
    r.add_delete("/fapi/v1/listenKey", listen_key_close)
