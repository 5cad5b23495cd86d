"""Spot WebSocket API subset (``/ws-api/v3``): market data, trading, account and user-data subscriptions.

Binance discontinued spot listen keys on 2026-02-20; the current way for HMAC keys is
``userDataStream.subscribe.signature`` (Spot docs "WebSocket API" → "User Data Stream requests").
Implemented methods: ``ping``, ``time``, ``userDataStream.subscribe.signature``,
``userDataStream.unsubscribe``, ``session.subscriptions``; and, answering exactly as their REST
twins (the same handlers run): "Market data requests" ``depth``, ``ticker.price``, ``ticker.24hr``,
``ticker``, ``klines``, ``uiKlines``, ``trades.recent``, ``trades.aggregate``, ``avgPrice``; "Trading
requests" ``order.place``, ``order.cancel``; "Account requests" ``order.status``,
``openOrders.status``, ``allOrders``, ``myTrades``, ``account.status``, ``account.commission``.
SIGNED methods carry ``apiKey``, ``timestamp`` and ``signature`` in their params ("Request security").
Responses are
``{"id", "status", "result", "rateLimits"}``; errors ``{"id", "status", "error": {"code", "msg"}}``;
events ``{"subscriptionId": n, "event": {...}}``. WS-API signatures are computed over the params
(except ``signature``) sorted by name, joined as ``key=value&...`` (docs "SIGNED request security").
``session.logon`` needs Ed25519 keys on Binance; the sandbox only issues HMAC keys, so it is absent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from connectorkit.sandbox.accounts import Account, AccountRegistry
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.ratelimit import RateLimiter
from connectorkit.sandbox.venues.binance import errors, security
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.http import ApiRequest
from connectorkit.sandbox.venues.binance.ratelimit import rate_limit_json
from connectorkit.sandbox.venues.binance.spot.market_rest import (
    SpotMarketRest,
    rolling_weight,
    ticker_24hr_weight,
)
from connectorkit.sandbox.venues.binance.spot.rest import SpotRest, depth_weight, one_or_many_weight
from connectorkit.sandbox.venues.binance.userstream import UserEventBus

log = logging.getLogger(__name__)
_session_ids = itertools.count(1)


def ws_api_payload(params: dict[str, Any]) -> str:
    """The string a WS-API request signs: params except ``signature``, sorted by name."""
    return "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items()) if k != "signature")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Session:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.session_id = next(_session_ids)
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.subscriptions: dict[int, tuple[int, int]] = {}  # subscriptionId -> (account_id, bus token)
        self.next_sub = 0


@dataclass(frozen=True, slots=True)
class _Method:
    handler: Callable[[ApiRequest], Awaitable[Any]]
    weight: Callable[[ApiRequest], int]
    signed: bool = False
    order: bool = False


def _fixed(weight: int) -> Callable[[ApiRequest], int]:
    return lambda req: weight


class SpotWsApi:
    def __init__(
        self,
        accounts: AccountRegistry,
        clock: SandboxClock,
        faults: FaultInjector,
        limiter: RateLimiter,
        bus: UserEventBus,
        heartbeat: float | None = 20.0,
        rest: SpotRest | None = None,
        market_rest: SpotMarketRest | None = None,
    ) -> None:
        """``rest`` / ``market_rest``: the REST handlers that the request/response methods reuse."""
        self.methods: dict[str, _Method] = {}
        if rest is not None:
            self.methods.update(
                {
                    # Weights: Spot "WebSocket API" → each request's "Weight" (as the REST twin's).
                    "depth": _Method(rest.depth, depth_weight),
                    "ticker.price": _Method(rest.ticker_price, one_or_many_weight(2, 4)),
                    "order.place": _Method(rest.new_order, _fixed(1), signed=True, order=True),
                    "order.cancel": _Method(rest.cancel_order, _fixed(1), signed=True),
                    "order.status": _Method(rest.query_order, _fixed(4), signed=True),
                    "openOrders.status": _Method(rest.open_orders, one_or_many_weight(6, 80), signed=True),
                    "account.status": _Method(rest.account, _fixed(20), signed=True),
                    "myTrades": _Method(rest.my_trades, _fixed(20), signed=True),
                    "account.commission": _Method(rest.account_commission, _fixed(20), signed=True),
                }
            )
        if market_rest is not None:
            self.methods.update(
                {
                    "ticker.24hr": _Method(market_rest.ticker_24hr, ticker_24hr_weight),
                    "ticker": _Method(market_rest.ticker_rolling, rolling_weight),
                    "klines": _Method(market_rest.klines, _fixed(2)),
                    "uiKlines": _Method(market_rest.klines, _fixed(2)),
                    "trades.recent": _Method(market_rest.trades, _fixed(25)),
                    "trades.aggregate": _Method(market_rest.agg_trades, _fixed(4)),
                    "avgPrice": _Method(market_rest.avg_price, _fixed(2)),
                    "allOrders": _Method(market_rest.all_orders, _fixed(20), signed=True),
                }
            )
        self.accounts = accounts
        self.clock = clock
        self.faults = faults
        self.limiter = limiter
        self.bus = bus
        self.heartbeat = heartbeat
        self._sessions: dict[int, tuple[_Session, asyncio.BaseTransport | None]] = {}
        faults.register_ws_dropper(self.drop_all)

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/ws-api/v3", self.handle)

    def drop_all(self) -> int:
        count = 0
        for _session, transport in list(self._sessions.values()):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
                count += 1
        return count

    async def close(self) -> None:
        for session, _ in list(self._sessions.values()):
            await session.ws.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=self.heartbeat)
        await ws.prepare(request)
        session = _Session(ws)
        self._sessions[session.session_id] = (session, request.transport)
        writer = asyncio.create_task(
            self._writer(session), name=f"sandbox-spot-wsapi-writer-{session.session_id}"
        )
        ip = request.remote or "?"
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    answer = await self._dispatch(session, ip, msg.data, request)
                    session.queue.put_nowait(msgspec.json.encode(answer).decode())
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            for _sub_id, (_acct, token) in session.subscriptions.items():
                self.bus.remove_sink(token)
            self._sessions.pop(session.session_id, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _writer(self, session: _Session) -> None:
        try:
            while True:
                frame = await session.queue.get()
                if session.ws.closed:
                    return
                await session.ws.send_str(frame)
                self.faults.on_ws_message_sent()
        except (ConnectionResetError, RuntimeError):
            return
        except Exception:
            log.exception("ws-api writer %s died", session.session_id)
            raise

    async def _dispatch(self, session: _Session, ip: str, text: str, request: web.Request) -> dict[str, Any]:
        req_id: Any = None
        now = self.clock.now_ms()
        try:
            msg = msgspec.json.decode(text)
            if not isinstance(msg, dict):
                raise ApiError(-1000, "Invalid JSON request")
            req_id = msg.get("id")
            method = msg.get("method")
            params = msg.get("params", {})
            if not isinstance(params, dict):
                raise ApiError(-1000, "Invalid JSON request")
            if not isinstance(method, str):
                raise ApiError(-1020, "This operation is not supported.")
            spec = self.methods.get(method)
            if spec is not None:
                result = await self._call_handler(spec, params, ip, now, request)
            else:
                self.limiter.charge_weight(ip, 2 if method.startswith("userDataStream") else 1, now)
                result = self._call(session, method, params)
            return {"id": req_id, "status": 200, "result": result, "rateLimits": self._rate_limits(ip, now)}
        except msgspec.DecodeError:
            return {"id": None, "status": 400, "error": {"code": -1000, "msg": "Invalid JSON request"}}
        except ApiError as err:
            return {
                "id": req_id,
                "status": err.http_status,
                "error": err.body(),
                "rateLimits": self._rate_limits(ip, now),
            }
        except Exception:
            # A sandbox bug answers -1000 (as the REST gateway does) instead of killing the session.
            log.exception("ws-api request %r failed", req_id)
            return {
                "id": req_id,
                "status": 500,
                "error": {"code": -1000, "msg": "An unknown error occurred while processing the request."},
                "rateLimits": self._rate_limits(ip, now),
            }

    async def _call_handler(
        self, spec: _Method, params: dict[str, Any], ip: str, now: int, request: web.Request
    ) -> Any:
        """Run a REST handler for a WS-API request: weight, then (SIGNED) key, signature, timestamp."""
        req = ApiRequest(request, {k: _text(v) for k, v in params.items()}, None)
        self.limiter.charge_weight(ip, spec.weight(req), now)
        if not spec.signed:
            return await spec.handler(req)
        req.account = self._authenticate(params)
        if not spec.order:
            return await spec.handler(req)
        account_id = req.account.account_id
        self.limiter.charge_order(account_id, now)
        try:
            return await spec.handler(req)
        except ApiError:
            self.limiter.order_rejected(account_id, now)
            raise

    def _authenticate(self, params: dict[str, Any]) -> Account:
        """Spot "WebSocket API" → "Request security" → "SIGNED request security": ``apiKey``, then the
        HMAC of the other params sorted by name, then ``timestamp`` / ``recvWindow``."""
        api_key = params.get("apiKey")
        if not isinstance(api_key, str):
            raise errors.bad_api_key_format()
        account = security.authenticate_key(self.accounts, api_key)
        signature = params.get("signature")
        if not signature:
            raise errors.mandatory_param("signature")
        expected = security.sign(account.secret, ws_api_payload(params))
        if not hmac.compare_digest(expected, str(signature).lower()):
            raise errors.bad_signature()
        security.check_timestamp(
            {k: _text(v) for k, v in params.items()}, self.clock.now_ms(), microseconds=True
        )
        return account

    def _rate_limits(self, ip: str, now: int) -> list[dict[str, Any]]:
        used = self.limiter.weight_headers(ip, now)
        out = []
        for rule in self.limiter.rules:
            if rule.rate_limit_type == "REQUEST_WEIGHT":
                entry = rate_limit_json(rule)
                entry["count"] = int(used[f"X-MBX-USED-WEIGHT-{rule.tag}"])
                out.append(entry)
        return out

    def _call(self, session: _Session, method: str, params: dict[str, Any]) -> Any:
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": self.clock.now_ms()}
        if method == "userDataStream.subscribe.signature":
            return self._subscribe_signature(session, params)
        if method == "userDataStream.unsubscribe":
            return self._unsubscribe(session, params)
        if method == "session.subscriptions":
            return [{"subscriptionId": s} for s in sorted(session.subscriptions)]
        raise ApiError(-1020, "This operation is not supported.")

    def _subscribe_signature(self, session: _Session, params: dict[str, Any]) -> Any:
        account = self._authenticate(params)
        if any(acct == account.account_id for acct, _ in session.subscriptions.values()):
            raise ApiError(-2035, "User Data Stream subscription already active.")
        sub_id = session.next_sub
        session.next_sub += 1

        def sink(event: dict[str, Any]) -> None:
            frame = msgspec.json.encode({"subscriptionId": sub_id, "event": event}).decode()
            session.queue.put_nowait(frame)

        token = self.bus.add_sink(account.account_id, sink)
        session.subscriptions[sub_id] = (account.account_id, token)
        return {"subscriptionId": sub_id}

    def _unsubscribe(self, session: _Session, params: dict[str, Any]) -> Any:
        sub_id = params.get("subscriptionId")
        if sub_id is not None and (not isinstance(sub_id, int) or isinstance(sub_id, bool)):
            raise errors.illegal_chars("subscriptionId", "^[0-9]{1,20}$")
        targets = list(session.subscriptions) if sub_id is None else [sub_id]
        for target in targets:
            entry = session.subscriptions.pop(target, None)
            if entry is None:
                raise ApiError(-2036, "User Data Stream subscription not active.")
            self.bus.remove_sink(entry[1])
            terminated = {"e": "eventStreamTerminated", "E": self.clock.now_ms()}
            session.queue.put_nowait(
                msgspec.json.encode({"subscriptionId": target, "event": terminated}).decode()
            )
        return {}
