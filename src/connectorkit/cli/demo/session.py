"""The demo's world: an in-process sandbox with a simulated market, one funded account, and the
Binance Spot and USD-M Perpetual connectors built by ``create_connector`` and pointed at it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectorkit.connector.settings import create_connector
from connectorkit.sandbox import Market, Sandbox, SandboxConfig
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket

logger = logging.getLogger(__name__)

PAIR = "BTC-USDT"
SYMBOL = "BTCUSDT"
SPOT_FUNDS = {"USDT": Decimal("100000"), "BTC": Decimal("1")}
FUTURES_FUNDS = {"USDT": Decimal("100000")}
FUNDING_INTERVAL_MS = 5_000
"""Funding every 5 s instead of Binance's 8 h, so a short demo sees a funding payment."""

CONNECTOR_INTERVALS: dict[str, Any] = {
    "short_poll_interval": 1.0,
    "long_poll_interval": 10.0,
    "funding_payment_poll_interval": 1.0,
    "request_timeout": 5.0,
}
"""Faster background loops than the production defaults: the demo runs for seconds, not days."""


class DemoStartupError(RuntimeError):
    """The sandbox or a connector did not come up in time."""


@dataclass
class DemoSession:
    """Everything the strategy, the view and the summary look at."""

    sandbox: Sandbox
    spot: Any
    perp: Any
    account_id: int


async def _wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``predicate`` (the sandbox and the connectors update state from their own tasks)."""
    try:
        async with asyncio.timeout(seconds):
            while not predicate():  # noqa: ASYNC110 - state changes have no event to wait on
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise DemoStartupError(f"{what} not reached within {seconds:g}s") from None


def build_sandbox(seed: int | None) -> Sandbox:
    """Spot BTCUSDT and a BTCUSDT perpetual with accelerated funding, both with simulated traders."""
    return Sandbox(
        seed=seed,
        markets=[Market(SYMBOL, "BTC", "USDT")],
        futures_markets=[
            FuturesMarket(
                SYMBOL, "BTC", funding_interval_ms=FUNDING_INTERVAL_MS, funding_rate=Decimal("0.0001")
            )
        ],
        simulate=True,
        config=SandboxConfig(simulator_interval_s=0.2),
    )


async def open_session(sandbox: Sandbox, *, ready_timeout: float = 15.0) -> DemoSession:
    """Fund an account on the started ``sandbox``, build both connectors and wait until ``ready``.

    The connectors start once the simulated books have both sides, so their first snapshot is a
    real book rather than an empty one.
    """
    spot_book = sandbox.spot.exchange.engine.book(SYMBOL)
    perp_book = sandbox.futures.exchange.engine.book(SYMBOL)
    await _wait_for(
        lambda: None not in (
            spot_book.best_bid(), spot_book.best_ask(), perp_book.best_bid(), perp_book.best_ask()
        ),
        ready_timeout, "simulated market with both sides quoted",
    )
    api_key, secret = sandbox.create_account(SPOT_FUNDS, futures_balances=FUTURES_FUNDS, label="demo")
    spot: Any = create_connector(
        "binance", trading_pairs=[PAIR], api_key=api_key, api_secret=secret, rest_url=sandbox.rest_url,
        ws_url=sandbox.ws_url, ws_api_url=sandbox.ws_api_url, **CONNECTOR_INTERVALS,
    )
    perp: Any = create_connector(
        "binance_perpetual", trading_pairs=[PAIR], api_key=api_key, api_secret=secret,
        rest_url=sandbox.futures_rest_url, ws_url=sandbox.futures_ws_url, **CONNECTOR_INTERVALS,
    )
    session = DemoSession(sandbox, spot, perp, sandbox.account_id(api_key))
    try:
        await spot.start_network()
        await perp.start_network()
        await _wait_for(lambda: spot.ready and perp.ready, ready_timeout, "both connectors ready")
    except BaseException:
        await close_session(session)
        raise
    return session


async def close_session(session: DemoSession) -> None:
    await asyncio.gather(session.spot.stop_network(), session.perp.stop_network())
