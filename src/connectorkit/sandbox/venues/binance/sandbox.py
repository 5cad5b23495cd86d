"""``Sandbox``: the local exchange, in-process (tests) or standalone (``connectorkit sandbox``).

Two HTTP servers on 127.0.0.1: the main one (spot and futures REST, spot streams, spot WS-API, admin)
and the futures stream server (like fstream.binance.com: ``/ws``, ``/stream``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from connectorkit.sandbox.accounts import AccountRegistry
from connectorkit.sandbox.admin import AdminApi, admin_token_for
from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.markets import DEFAULT_MARKETS, Market
from connectorkit.sandbox.persistence import SandboxStateError, load_state, save_state
from connectorkit.sandbox.product import Product, SandboxConfig, SandboxContext
from connectorkit.sandbox.venues.binance.http import json_errors_middleware
from connectorkit.sandbox.venues.binance.spot.product import SpotProduct

log = logging.getLogger(__name__)


class Sandbox:
    """A local Binance-compatible exchange.

    ``futures_markets=None`` serves the futures product with its default markets; ``[]`` disables it.
    ``simulate`` starts background traders so books and trades move.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        markets: Sequence[Market] | None = None,
        futures_markets: Sequence[Any] | None = None,
        simulate: bool = True,
        state_file: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        futures_stream_port: int = 0,
        config: SandboxConfig | None = None,
        admin_token: str | None = None,
    ) -> None:
        """``admin_token``: required (``Authorization: Bearer``) on every ``/sandbox/...`` admin
        route. On a ``host`` that is not a loopback address one is always required: a random one
        is made if none is given (read it from :attr:`admin_token`)."""
        self.host = host
        self._port = port
        self._futures_port = futures_stream_port
        self.state_file = Path(state_file) if state_file is not None else None
        self.config = config or SandboxConfig()
        self.clock = SandboxClock()
        self.accounts = AccountRegistry()
        self.faults = FaultInjector(self.clock)
        self.ctx = SandboxContext(
            clock=self.clock,
            accounts=self.accounts,
            faults=self.faults,
            config=self.config,
            seed=seed,
            simulate=simulate,
        )
        self.spot = SpotProduct(self.ctx, list(markets) if markets is not None else list(DEFAULT_MARKETS))
        self.futures: Any = None
        if futures_markets is None or len(futures_markets) > 0:
            futures_module = importlib.import_module("connectorkit.sandbox.venues.binance.futures")
            self.futures = futures_module.create_product(self.ctx, futures_markets)
        self.products: list[Product] = [self.spot] + ([self.futures] if self.futures is not None else [])
        self._runners: list[web.AppRunner] = []
        self._ports: tuple[int, int] | None = None
        self.admin = AdminApi(self, admin_token_for(host, admin_token))

    @property
    def admin_token(self) -> str | None:
        """The token the admin routes require, or None if they are open (loopback, none given)."""
        return self.admin.token

    # ---- URLs ------------------------------------------------------------------------------------
    def _require_ports(self) -> tuple[int, int]:
        if self._ports is None:
            raise RuntimeError("Sandbox is not started")
        return self._ports

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self._require_ports()[0]}"

    @property
    def ws_url(self) -> str:
        """Spot stream base: append ``/ws/<stream>`` or ``/stream?streams=`` as on stream.binance.com."""
        return f"ws://{self.host}:{self._require_ports()[0]}"

    @property
    def ws_api_url(self) -> str:
        return f"ws://{self.host}:{self._require_ports()[0]}/ws-api/v3"

    @property
    def futures_rest_url(self) -> str:
        return self.rest_url

    @property
    def futures_ws_url(self) -> str:
        """Futures stream base (like fstream.binance.com): append ``/ws`` or ``/stream``."""
        return f"ws://{self.host}:{self._require_ports()[1]}"

    # ---- accounts --------------------------------------------------------------------------------
    def create_account(
        self,
        balances: dict[str, Decimal] | None = None,
        *,
        futures_balances: dict[str, Decimal] | None = None,
        maker_commission: Decimal = Decimal("0.001"),
        taker_commission: Decimal = Decimal("0.001"),
        label: str = "",
    ) -> tuple[str, str]:
        """Create an account funded with spot ``balances`` (and futures wallet ones) → (api_key, secret)."""
        account = self.accounts.create(
            maker_commission=maker_commission, taker_commission=taker_commission, label=label
        )
        for asset, amount in (balances or {}).items():
            self.spot.exchange.deposit(account.account_id, asset, Decimal(amount))
        if futures_balances:
            if self.futures is None:
                raise RuntimeError("futures product disabled: no futures balances possible")
            for asset, amount in futures_balances.items():
                self.futures.deposit(account.account_id, asset, Decimal(amount))
        return account.api_key, account.secret

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Credit (or, negative, debit) a spot balance: the ``balanceUpdate`` event of an admin deposit."""
        self.spot.exchange.deposit(account_id, asset, amount)

    def account_id(self, api_key: str) -> int:
        account = self.accounts.by_key(api_key)
        if account is None:
            raise KeyError("unknown api key")
        return account.account_id

    def state(self) -> dict[str, Any]:
        """True state of every product (JSON-able), plus accounts without their secrets."""
        return {
            "accounts": [
                {"accountId": a.account_id, "label": a.label, "apiKey": a.api_key} for a in self.accounts
            ],
            **{p.name: p.dump_state() for p in self.products},
        }

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.state_file is not None:
            saved = await load_state(self.state_file)
            if saved:
                try:
                    self.accounts.load(saved.get("accounts", []))
                    for product in self.products:
                        if product.name in saved:
                            product.load_state(saved[product.name])
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise SandboxStateError(
                        f"{self.state_file} holds state the sandbox cannot load ({type(exc).__name__}: {exc})"
                    ) from exc
                log.info("sandbox state loaded from %s", self.state_file)
        main_app = web.Application(middlewares=[json_errors_middleware])
        futures_streams = web.Application(middlewares=[json_errors_middleware])
        for product in self.products:
            product.mount(main_app, main_app if product is self.spot else futures_streams)
        self.admin.mount(main_app)
        ports = []
        try:
            for app, port in ((main_app, self._port), (futures_streams, self._futures_port)):
                runner = web.AppRunner(app, handle_signals=False)
                await runner.setup()
                self._runners.append(runner)
                site = web.TCPSite(runner, self.host, port)
                await site.start()
                server = site._server
                assert server is not None
                ports.append(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        except BaseException:  # e.g. the second port is taken: release the first one
            for runner in reversed(self._runners):
                await runner.cleanup()
            self._runners.clear()
            raise
        self._ports = (ports[0], ports[1])
        for product in self.products:
            await product.start()
        log.info("sandbox listening: rest %s, futures streams %s", self.rest_url, self.futures_ws_url)

    async def stop(self) -> None:
        await self.ctx.cancel_tasks()
        for product in self.products:
            await product.stop()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.state_file is not None:
            parts: dict[str, Any] = {"accounts": self.accounts.dump()}
            parts.update({p.name: p.dump_state() for p in self.products})
            await save_state(self.state_file, parts)
        self._ports = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
