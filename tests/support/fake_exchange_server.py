"""A tiny in-process exchange for testing the connector template.

It speaks a small Binance-like REST + WebSocket API on 127.0.0.1 (ephemeral port). Signed endpoints
require the ``X-FAKE-APIKEY`` header and an HMAC-SHA256 ``signature`` over the query string, and
reject a ``timestamp`` outside the receive window with code -1021 (so time-sync retries are real).
Tests drive it directly: script the outcome of the next placements (reject, unknown status), fill
orders, drop or mute the user stream, and inspect what the connector actually sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

API_KEY_HEADER = "X-FAKE-APIKEY"
RECV_WINDOW_MS = 5000


@dataclass
class FakeOrder:
    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    update_time_ms: int = 0
    trades: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "clientOrderId": self.client_order_id,
            "side": self.side,
            "type": self.type,
            "origQty": str(self.quantity),
            "price": str(self.price or 0),
            "executedQty": str(self.executed),
            "status": self.status,
            "updateTime": self.update_time_ms,
        }


@dataclass(frozen=True)
class SymbolSpec:
    symbol: str
    base: str
    quote: str
    tick_size: str = "0.01"
    step_size: str = "0.001"
    min_qty: str = "0.001"
    min_notional: str = "10"
    order_types: tuple[str, ...] = ("LIMIT", "MARKET")


class FakeExchangeServer:
    """Start with ``await server.start()``; ``server.url`` is then the REST/WS base URL."""

    def __init__(self, api_key: str, api_secret: str, symbols: list[SymbolSpec]) -> None:
        self.api_key = api_key
        self._secret = api_secret.encode()
        self.symbols = {s.symbol: s for s in symbols}
        self.balances: dict[str, tuple[Decimal, Decimal]] = {}
        self.orders: dict[str, FakeOrder] = {}
        self.server_time_offset_ms = 0
        self.placement_outcomes: deque[str] = deque()
        self.cancel_outcomes: deque[str] = deque()
        self.user_stream_muted = False
        self.hidden_orders: set[str] = set()  # client ids the status endpoint pretends not to know
        # Runs with the client order id when a status request arrives, before it is answered (e.g.
        # to fill the order exactly between a poll's requests).
        self.before_status: Callable[[str], Awaitable[None]] | None = None
        self.trades_failures = 0  # the next this many myTrades requests answer 500
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.listen_keys: list[str] = []
        self.user_ws_connections = 0
        self._user_sockets: set[web.WebSocketResponse] = set()
        self._user_connected = asyncio.Event()
        self._market_sockets: set[web.WebSocketResponse] = set()
        self._ids = itertools.count(1000)
        self._trade_ids = itertools.count(1)
        self._update_id = 100
        self.book: dict[str, tuple[list[list[str]], list[list[str]]]] = {
            s.symbol: ([["99.00", "1.0"], ["98.00", "2.0"]], [["101.00", "1.5"], ["102.00", "3.0"]])
            for s in symbols
        }
        # Perpetual state: positions by (symbol, side), leverage by symbol, funding by symbol.
        self.positions: dict[tuple[str, str], dict[str, str]] = {}
        self.leverage: dict[str, int] = {}
        self.dual_side = False
        self.funding: dict[str, dict[str, Any]] = {
            s.symbol: {"markPrice": "100.5", "indexPrice": "100.4", "lastFundingRate": "0.0001",
                       "nextFundingTime": 1_700_000_000_000}
            for s in symbols
        }
        self.income: dict[str, list[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/time", self._time)
        app.router.add_get("/api/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/depth", self._depth)
        app.router.add_post("/api/order", self._place)
        app.router.add_delete("/api/order", self._cancel)
        app.router.add_get("/api/order", self._order_status)
        app.router.add_get("/api/myTrades", self._my_trades)
        app.router.add_get("/api/account", self._account)
        app.router.add_post("/api/userDataStream", self._new_listen_key)
        app.router.add_get("/api/premiumIndex", self._premium_index)
        app.router.add_get("/api/positions", self._positions)
        app.router.add_post("/api/leverage", self._leverage)
        app.router.add_post("/api/positionSide", self._position_side)
        app.router.add_get("/api/income", self._income)
        app.router.add_get("/ws/user/{listen_key}", self._user_ws)
        app.router.add_get("/ws/market", self._market_ws)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for ws in [*self._user_sockets, *self._market_sockets]:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test controls -----------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.server_time_offset_ms

    async def drop_user_streams(self) -> None:
        """Close every user-stream socket as a network failure would (code 1006-like abort)."""
        for ws in list(self._user_sockets):
            await ws.close(code=1011, message=b"server restart")

    async def fill(self, client_order_id: str, amount: str, price: str) -> dict[str, Any]:
        """Fill part of an order; pushes an execution report unless the user stream is muted."""
        order = self.orders[client_order_id]
        qty = Decimal(amount)
        order.executed += qty
        order.status = "FILLED" if order.executed >= order.quantity else "PARTIALLY_FILLED"
        order.update_time_ms = self.now_ms()
        trade = {
            "symbol": order.symbol,
            "id": next(self._trade_ids),
            "orderId": order.order_id,
            "price": price,
            "qty": amount,
            "quoteQty": str(qty * Decimal(price)),
            "commission": str(qty * Decimal("0.001")),
            "commissionAsset": self.symbols[order.symbol].base,
            "time": order.update_time_ms,
            "isMaker": False,
        }
        order.trades.append(trade)
        await self._push_execution_report(order, trade)
        return trade

    async def push_balance(self, asset: str, free: str, locked: str) -> None:
        self.balances[asset] = (Decimal(free) + Decimal(locked), Decimal(free))
        await self._push_user({"e": "balance", "a": asset, "f": free, "l": locked})

    async def push_depth_diff(self, symbol: str, bids: list[list[str]], asks: list[list[str]]) -> None:
        self._update_id += 1
        message = {"e": "depth", "s": symbol, "u": self._update_id, "b": bids, "a": asks}
        for ws in list(self._market_sockets):
            await ws.send_str(json.dumps(message))

    async def push_mark_price(self, symbol: str, mark_price: str, rate: str) -> None:
        self.funding[symbol].update(markPrice=mark_price, lastFundingRate=rate)
        message = {"e": "markPriceUpdate", "s": symbol, "p": mark_price, "r": rate}
        for ws in list(self._market_sockets):
            await ws.send_str(json.dumps(message))

    async def push_position(self, symbol: str, side: str, amount: str, entry: str) -> None:
        position = {"symbol": symbol, "positionSide": side, "positionAmt": amount, "entryPrice": entry,
                    "unRealizedProfit": "0", "leverage": str(self.leverage.get(symbol, 1))}
        self.positions[(symbol, side)] = position
        await self._push_user({"e": "position", **position})

    # ---- helpers -----------------------------------------------------------------------------------
    def _error(self, status: int, code: int, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg}, status=status)

    def _check_signed(self, request: web.Request) -> web.Response | None:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            return self._error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        query = request.query_string
        payload, _, signature = query.rpartition("&signature=")
        expected = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return self._error(400, -1022, "Signature for this request is not valid.")
        timestamp = int(request.query.get("timestamp", "0"))
        if abs(timestamp - self.now_ms()) > RECV_WINDOW_MS:
            return self._error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    def _record(self, request: web.Request) -> None:
        params = {k: v for k, v in request.query.items() if k != "signature"}
        self.requests.append((request.method, request.path, params))

    async def _push_user(self, event: dict[str, Any]) -> None:
        if self.user_stream_muted:
            return
        for ws in list(self._user_sockets):
            await ws.send_str(json.dumps(event))

    async def _push_execution_report(self, order: FakeOrder, trade: dict[str, Any] | None) -> None:
        event: dict[str, Any] = {"e": "executionReport", "E": self.now_ms(), **order.to_json()}
        if trade is not None:
            event["trade"] = trade
        await self._push_user(event)

    # ---- public endpoints --------------------------------------------------------------------------
    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.now_ms()})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        symbols = [
            {"symbol": s.symbol, "baseAsset": s.base, "quoteAsset": s.quote, "tickSize": s.tick_size,
             "stepSize": s.step_size, "minQty": s.min_qty, "minNotional": s.min_notional,
             "orderTypes": list(s.order_types)}
            for s in self.symbols.values()
        ]
        return web.json_response({"symbols": symbols})

    async def _depth(self, request: web.Request) -> web.Response:
        bids, asks = self.book[request.query["symbol"]]
        return web.json_response({"lastUpdateId": self._update_id, "bids": bids, "asks": asks})

    async def _new_listen_key(self, request: web.Request) -> web.Response:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            return self._error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        key = f"lk{len(self.listen_keys)}"
        self.listen_keys.append(key)
        return web.json_response({"listenKey": key})

    # ---- signed endpoints --------------------------------------------------------------------------
    async def _place(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        q = request.query
        outcome = self.placement_outcomes.popleft() if self.placement_outcomes else "accept"
        if outcome == "reject":
            return self._error(400, -2010, "Account has insufficient balance for requested action.")
        order = FakeOrder(
            order_id=next(self._ids), client_order_id=q["newClientOrderId"], symbol=q["symbol"],
            side=q["side"], type=q["type"], quantity=Decimal(q["quantity"]),
            price=Decimal(q["price"]) if "price" in q else None, update_time_ms=self.now_ms(),
        )
        if outcome == "unknown_drop":  # the exchange did not create it but cannot say so
            return self._error(503, -1007, "Timeout waiting for response from backend server.")
        self.orders[order.client_order_id] = order
        if outcome == "unknown_accept":  # created, but the answer is "unknown status"
            return self._error(503, -1007, "Timeout waiting for response from backend server.")
        if outcome == "garbled_accept":  # created and answered 200, but the body is cut short
            return web.Response(status=200, text='{"orderId": ', content_type="application/json")
        await self._push_execution_report(order, None)
        return web.json_response({**order.to_json(), "transactTime": order.update_time_ms})

    async def _cancel(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        order = self.orders.get(request.query["origClientOrderId"])
        outcome = self.cancel_outcomes.popleft() if self.cancel_outcomes else "accept"
        if outcome == "fail":
            return self._error(500, -1000, "An unknown error occurred while processing the request.")
        if order is None or order.status in ("FILLED", "CANCELED"):
            return self._error(400, -2011, "Unknown order sent.")
        order.status = "CANCELED"
        order.update_time_ms = self.now_ms()
        await self._push_execution_report(order, None)
        return web.json_response(order.to_json())

    async def _order_status(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        if self.before_status is not None:
            await self.before_status(request.query["origClientOrderId"])
        order = self.orders.get(request.query["origClientOrderId"])
        if order is None or order.client_order_id in self.hidden_orders:
            return self._error(400, -2013, "Order does not exist.")
        return web.json_response(order.to_json())

    async def _my_trades(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        if self.trades_failures > 0:
            self.trades_failures -= 1
            return self._error(500, -1000, "An unknown error occurred while processing the request.")
        order_id = int(request.query["orderId"])
        trades = [t for o in self.orders.values() if o.order_id == order_id for t in o.trades]
        return web.json_response(trades)

    async def _account(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        balances = [
            {"asset": asset, "free": str(available), "locked": str(total - available)}
            for asset, (total, available) in self.balances.items()
        ]
        return web.json_response({"balances": balances})

    async def _premium_index(self, request: web.Request) -> web.Response:
        symbol = request.query["symbol"]
        return web.json_response({"symbol": symbol, **self.funding[symbol]})

    async def _positions(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        return web.json_response([p for p in self.positions.values() if Decimal(p["positionAmt"]) != 0])

    async def _leverage(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        leverage = int(request.query["leverage"])
        if not 1 <= leverage <= 125:
            return self._error(400, -4028, f"Leverage {leverage} is not valid")
        self.leverage[request.query["symbol"]] = leverage
        return web.json_response({"symbol": request.query["symbol"], "leverage": leverage})

    async def _position_side(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        if any(Decimal(p["positionAmt"]) != 0 for p in self.positions.values()):
            return self._error(400, -4068, "Position side cannot be changed if there exists position.")
        self.dual_side = request.query["dualSidePosition"] == "true"
        return web.json_response({"code": 200, "msg": "success"})

    async def _income(self, request: web.Request) -> web.Response:
        if (denied := self._check_signed(request)) is not None:
            return denied
        self._record(request)
        start = int(request.query.get("startTime", "0"))  # inclusive, as Binance's income history
        rows = [row for row in self.income.get(request.query["symbol"], []) if row["time"] >= start]
        return web.json_response(rows)

    # ---- websockets --------------------------------------------------------------------------------
    async def _user_ws(self, request: web.Request) -> web.WebSocketResponse:
        if request.match_info["listen_key"] not in self.listen_keys:
            raise web.HTTPUnauthorized()
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.user_ws_connections += 1
        self._user_sockets.add(ws)
        self._user_connected.set()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._user_sockets.discard(ws)
        return ws

    async def _market_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._market_sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._market_sockets.discard(ws)
        return ws

    async def wait_for_user_connections(self, count: int) -> None:
        """Wait until ``count`` user-stream connections have been made and one is open."""
        while self.user_ws_connections < count or not self._user_sockets:
            self._user_connected.clear()
            await self._user_connected.wait()
