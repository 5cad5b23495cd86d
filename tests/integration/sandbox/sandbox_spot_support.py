"""Helpers for the spot sandbox integration tests: a raw signed aiohttp client and doc-shape checks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from connectorkit.sandbox import Market, Sandbox, SandboxConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "binance_spot"
BTC = Market(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.00001"),
    min_qty=Decimal("0.00001"),
    min_notional=Decimal("5"),
    mid=Decimal("30000"),
)
#: A resting LIMIT BUY well below the market: the common order of these tests (REST parameters).
LIMIT_BUY = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "20000",
}
FAST = SandboxConfig(
    listen_key_validity_ms=3_600_000,
    listen_key_sweep_s=0.05,
    depth_fast_ms=20,
    depth_slow_ms=100,
    simulator_interval_s=0.02,
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def assert_same_shape(
    actual: Any, example: Any, path: str = "$", optional: frozenset[str] = frozenset()
) -> None:
    """``actual`` has every key of the doc ``example`` with the same JSON type, recursively.

    Keys in ``optional`` are conditional in the docs (present only in some cases) and may be absent.
    """
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{path}: expected object, got {actual!r}"
        missing = set(example) - set(actual) - optional
        assert not missing, f"{path}: missing keys {sorted(missing)}"
        for key, value in example.items():
            if key in actual:
                assert_same_shape(actual[key], value, f"{path}.{key}", optional)
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{path}: expected array, got {actual!r}"
        if example and actual:
            # Same length: item by item (e.g. the filters list); else every item like the first example.
            pairs = (
                zip(actual, example, strict=True)
                if len(actual) == len(example)
                else ((item, example[0]) for item in actual)
            )
            for i, (item, ex) in enumerate(pairs):
                assert_same_shape(item, ex, f"{path}[{i}]", optional)
    elif example is None:
        pass  # null in the example: the type depends on the case (e.g. commission asset)
    elif isinstance(example, bool):
        assert isinstance(actual, bool), f"{path}: expected bool, got {actual!r}"
    elif isinstance(example, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), (
            f"{path}: expected int, got {actual!r}"
        )
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{path}: expected string, got {actual!r}"
        if _is_decimal(example):
            assert _is_decimal(actual), f"{path}: expected a decimal string, got {actual!r}"


def assert_same_key_order(actual: dict[str, Any], example: dict[str, Any]) -> None:
    """The keys both objects have appear in the same order (answers list fields as the docs do)."""
    shared = [k for k in example if k in actual]
    assert [k for k in actual if k in example] == shared, f"key order {list(actual)} != docs {shared}"


def _is_decimal(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text.replace(".", "", 1).isdigit()


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class Client:
    """A deliberately raw client: builds the query string, signs it, sends it with aiohttp."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str = "", secret: str = "") -> None:
        self.session = session
        self.base = base
        self.key = key
        self.secret = secret

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        signed: bool = False,
        key: bool | str = False,
        in_body: bool = False,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        params = dict(params or {})
        if signed:
            params["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        payload = urlencode(params)
        if signed:
            payload += "&signature=" + (signature or sign(self.secret, payload))
        headers = {}
        if key:
            headers["X-MBX-APIKEY"] = key if isinstance(key, str) else self.key
        elif signed:
            headers["X-MBX-APIKEY"] = self.key
        url = self.base + path
        kwargs: dict[str, Any] = {"headers": headers}
        if in_body:
            kwargs["data"] = payload
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload:
            url += "?" + payload
        async with self.session.request(method, url, **kwargs) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body, dict(resp.headers)

    async def ok(self, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        status, body, _ = await self.request(method, path, params, **kw)
        assert status == 200, body
        return body


@contextlib.asynccontextmanager
async def running(
    *, simulate: bool = False, config: SandboxConfig = FAST, markets: list[Market] | None = None, **kw: Any
) -> AsyncIterator[tuple[Sandbox, Client]]:
    async with Sandbox(
        seed=7, markets=markets or [BTC], futures_markets=[], simulate=simulate, config=config, **kw
    ) as sb:
        key, secret = sb.create_account({"USDT": Decimal("100000"), "BTC": Decimal("2")})
        async with aiohttp.ClientSession() as session:
            yield sb, Client(session, sb.rest_url, key, secret)


async def seed_book(sb: Sandbox) -> tuple[str, str]:
    """A second account resting one ask and one bid; returns its keys."""
    key, secret = sb.create_account({"USDT": Decimal("100000"), "BTC": Decimal("2")})
    account = sb.accounts.by_key(key)
    assert account is not None
    ex = sb.spot.exchange
    common = {"symbol": "BTCUSDT", "order_type": "LIMIT", "time_in_force": "GTC"}
    ex.new_order(account, side="SELL", quantity=Decimal("0.5"), price=Decimal("30010"), **common)
    ex.new_order(account, side="BUY", quantity=Decimal("0.5"), price=Decimal("29990"), **common)
    return key, secret
