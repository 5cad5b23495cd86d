"""The README's quickstart and the examples/ scripts, run against the sandbox."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from connectorkit import Sandbox

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


async def test_readme_quickstart_runs_as_written() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- quickstart -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match is not None, "README.md lost its quickstart block"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", match.group(1), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    out = stdout.decode()
    assert process.returncode == 0, stderr.decode()[-3000:]
    bid, ask = re.search(r"best bid (\S+) best ask (\S+)", out).groups()  # type: ignore[union-attr]
    assert Decimal(bid) < Decimal(ask)
    created = re.search(r"created (\S+)", out)
    assert created is not None and f"cancelled {created.group(1)}" in out


def _example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the examples import their _endpoint helper
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=3) as sb:
        yield sb


def _endpoint(sb: Sandbox, *, futures: bool, funded: bool = True) -> Any:
    from _endpoint import Endpoint  # type: ignore[import-not-found]

    key, secret = sb.create_account({"USDT": Decimal(10_000)}, futures_balances={"USDT": Decimal(10_000)})
    if futures:
        return Endpoint({"rest_url": sb.futures_rest_url, "ws_url": sb.futures_ws_url}, key, secret)
    urls = {"rest_url": sb.rest_url, "ws_url": sb.ws_url, "ws_api_url": sb.ws_api_url}
    return Endpoint(urls, key if funded else "", secret if funded else "")


async def test_market_data_example(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example("market_data", monkeypatch)
    lines = await example.main(_endpoint(sandbox, futures=False, funded=False), seconds=1.0)
    tops = [line for line in lines if line.startswith("BTC-USDT bid")]
    assert len(tops) == 2
    bid, ask = re.search(r"bid (\S+) ask (\S+)", tops[-1]).groups()  # type: ignore[union-attr]
    assert Decimal(bid) < Decimal(ask)


async def test_place_and_cancel_example(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example("place_and_cancel", monkeypatch)
    where = _endpoint(sandbox, futures=False)
    seen = await example.main(where)
    assert [line.split()[0] for line in seen] == ["BuyOrderCreated", "OrderCancelled"]
    assert seen[0].split()[1] == seen[1].split()[1]
    account = sandbox.accounts.by_id(sandbox.account_id(where.api_key))
    assert sandbox.spot.exchange.open_orders(account) == []
    assert sandbox.spot.exchange.ledger.balance(account.account_id, "USDT").locked == 0


async def test_perpetual_position_example(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example("perpetual_position", monkeypatch)
    where = _endpoint(sandbox, futures=True)
    lines = await example.main(where)
    assert lines[1] == "leverage 5"
    assert re.match(r"position 0\.010 @ \d", lines[2]), lines
    assert lines[3].startswith("closed; wallet ")
    account = sandbox.futures.exchange.account(sandbox.account_id(where.api_key))
    assert account.leverage_of("BTCUSDT") == 5 and account.open_positions() == []
    assert Decimal(lines[3].split()[2]) == account.balance("USDT") < Decimal(10_000)  # fees were paid
