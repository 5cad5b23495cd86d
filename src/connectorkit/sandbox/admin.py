"""Admin and fault-control HTTP endpoints of the standalone sandbox (``/sandbox/...``). Not part of
the Binance API: JSON in, JSON out.

They can create funded accounts and break the exchange on purpose, so they are open only on a
loopback address. Bound anywhere else (``--host 0.0.0.0``, a LAN address), or whenever an admin token
is given, every ``/sandbox/...`` request must carry ``Authorization: Bearer <admin token>``; without
it the answer is 401. The Binance API itself keeps its own (API key) authentication.

* ``POST /sandbox/accounts`` ``{"balances": {"USDT": "1000"}, "futuresBalances": {...},
  "makerCommission": "0.001", "takerCommission": "0.001"}`` → ``{"accountId", "apiKey", "secretKey"}``
* ``POST /sandbox/deposit`` ``{"accountId", "asset", "amount"}`` (spot balance; balanceUpdate event)
* ``GET /sandbox/state`` → every product's true state; ``GET /sandbox/faults`` → the fault log
* ``POST /sandbox/faults/<kind>`` with the keyword arguments of ``FaultInjector.<kind>`` as JSON
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from aiohttp import web

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.errors import ApiError
from connectorkit.sandbox.faults import FaultInjector, FaultKind
from connectorkit.sandbox.responses import json_response


class AdminTarget(Protocol):
    """What the admin API needs of a skin's sandbox (the Binance one: ``venues/binance/sandbox.py``).

    ``futures_balances`` funds a second product's wallet; a skin with one product refuses it.
    """

    @property
    def accounts(self) -> AccountRegistry: ...

    @property
    def faults(self) -> FaultInjector: ...

    def create_account(
        self,
        balances: dict[str, Decimal] | None = None,
        *,
        futures_balances: dict[str, Decimal] | None = None,
        maker_commission: Decimal = ...,
        taker_commission: Decimal = ...,
        label: str = "",
    ) -> tuple[str, str]: ...

    def account_id(self, api_key: str) -> int: ...

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Credit the main (spot) balance; raise ApiError when a withdrawal exceeds it."""

    def state(self) -> dict[str, Any]: ...

FAULT_KINDS = (*(kind.value for kind in FaultKind), "clear")


ADMIN_PREFIX = "/sandbox"


def is_loopback(host: str) -> bool:
    """True if binding ``host`` reaches this machine only. ``0.0.0.0``/``::`` (every interface) and
    any name other than ``localhost`` count as reachable from the network."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def admin_token_for(host: str, token: str | None) -> str | None:
    """The token the admin routes require: ``token`` if given, a new random one if ``host`` is not
    a loopback address, else None (open, as on 127.0.0.1)."""
    if token is not None:
        if not token:
            raise ValueError("the admin token must not be empty")
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def _bad(msg: str) -> web.Response:
    return json_response({"error": msg}, 400)


def _amount(raw: Any) -> Decimal:
    value = Decimal(str(raw))
    if not value.is_finite():
        raise ValueError(f"amount must be a finite number, got {raw!r}")
    return value


def _decimals(raw: Any) -> dict[str, Decimal]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("balances must be an object of asset -> amount")
    return {str(k): _amount(v) for k, v in raw.items()}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminApi:
    def __init__(self, sandbox: AdminTarget, token: str | None = None) -> None:
        self.sb = sandbox
        self.token = token

    def mount(self, app: web.Application) -> None:
        if self.token is not None:
            app.middlewares.append(self._require_token)
        app.router.add_post("/sandbox/accounts", self.create_account)
        app.router.add_post("/sandbox/deposit", self.deposit)
        app.router.add_get("/sandbox/state", self.state)
        app.router.add_get("/sandbox/faults", self.fault_log)
        app.router.add_post("/sandbox/faults/{kind}", self.fault)

    @web.middleware
    async def _require_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every ``/sandbox`` path (unknown ones too) needs the bearer token; other paths pass."""
        path = request.path
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            assert self.token is not None
            valid = hmac.compare_digest(given.strip().encode(), self.token.encode())
            if scheme.lower() != "bearer" or not valid:
                response = json_response(
                    {"error": "admin token required: send 'Authorization: Bearer <admin token>'"}, 401
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="connectorkit sandbox admin"'
                return response
        return await handler(request)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        return body

    async def create_account(self, request: web.Request) -> web.Response:
        try:
            body = await self._json(request)
            kwargs: dict[str, Any] = {}
            for src, dst in (
                ("makerCommission", "maker_commission"),
                ("takerCommission", "taker_commission"),
            ):
                if src in body:
                    kwargs[dst] = Decimal(str(body[src]))
            api_key, secret = self.sb.create_account(
                _decimals(body.get("balances")),
                futures_balances=_decimals(body.get("futuresBalances")),
                **kwargs,
            )
        except (ValueError, InvalidOperation) as err:
            return _bad(str(err))
        return json_response(
            {"accountId": self.sb.account_id(api_key), "apiKey": api_key, "secretKey": secret}
        )

    async def deposit(self, request: web.Request) -> web.Response:
        try:
            body = await self._json(request)
            account_id = int(body["accountId"])
            self.sb.accounts.by_id(account_id)  # KeyError: no such account
            self.sb.deposit(account_id, str(body["asset"]), _amount(body["amount"]))
        except (ValueError, KeyError, InvalidOperation) as err:
            return _bad(f"bad deposit: {err}")
        except ApiError as err:  # a withdrawal larger than the free balance
            return _bad(f"bad deposit: {err.msg}")
        return json_response({})

    async def state(self, request: web.Request) -> web.Response:
        return json_response(self.sb.state())

    async def fault_log(self, request: web.Request) -> web.Response:
        return json_response(
            [{"kind": r.kind, "time": r.time_ms, "detail": r.detail} for r in self.sb.faults.log]
        )

    async def fault(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in FAULT_KINDS:
            return _bad(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        try:
            body = await self._json(request)
            result = getattr(self.sb.faults, kind)(**body)
        except (TypeError, ValueError) as err:
            return _bad(str(err))
        return json_response({"ok": True, "result": result})
