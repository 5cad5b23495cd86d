"""State survives a clean restart (--state FILE); the CLI entry prints URLs and a funded account."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from sandbox_spot_support import BTC, FAST, LIMIT_BUY, Client

from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.cli import add_parser, run
from support.waiting import wait_until


async def test_state_survives_a_clean_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite"
    async with Sandbox(
        markets=[BTC], futures_markets=[], simulate=False, config=FAST, state_file=state
    ) as sb:
        key, secret = sb.create_account({"USDT": Decimal("1000")})
        async with aiohttp.ClientSession() as session:
            client = Client(session, sb.rest_url, key, secret)
            placed = await client.ok(
                "POST",
                "/api/v3/order",
                {**LIMIT_BUY, "newClientOrderId": "keepme"},
                signed=True,
            )
        update_id = sb.spot.engine.book("BTCUSDT").update_id
    assert state.exists()
    async with (
        Sandbox(markets=[BTC], futures_markets=[], simulate=False, config=FAST, state_file=state) as sb2,
        aiohttp.ClientSession() as session,
    ):
        client = Client(session, sb2.rest_url, key, secret)  # same keys still work
        open_orders = await client.ok("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
        assert [(o["orderId"], o["clientOrderId"]) for o in open_orders] == [(placed["orderId"], "keepme")]
        account = await client.ok("GET", "/api/v3/account", signed=True)
        usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
        assert (usdt["free"], usdt["locked"]) == ("800.00000000", "200.00000000")
        depth = await client.ok("GET", "/api/v3/depth", {"symbol": "BTCUSDT"})
        assert depth["bids"] == [["20000.00000000", "0.01000000"]]
        assert depth["lastUpdateId"] >= update_id
        new = await client.ok(
            "POST",
            "/api/v3/order",
            LIMIT_BUY,
            signed=True,
        )
        assert new["orderId"] > placed["orderId"]  # ids continue, never reused
        await client.ok(
            "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "keepme"}, signed=True
        )


def test_cli_parser() -> None:
    parser = argparse.ArgumentParser(prog="connectorkit")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    args = parser.parse_args(["sandbox", "--port", "0", "--seed", "3", "--state", "x.db", "--no-futures"])
    assert (args.command, args.port, args.seed, args.state, args.no_futures) == (
        "sandbox",
        0,
        3,
        "x.db",
        True,
    )


async def test_cli_run_prints_urls_and_working_keys(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="connectorkit")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "--seed", "1", "--no-futures", "--state", str(tmp_path / "s.db")])
    lines: list[str] = []
    task = asyncio.create_task(run(args, out=lines.append), name="cli-sandbox")
    try:
        await wait_until(lambda: any(line.startswith("secret:") for line in lines), 5, "the keys printed")
        info = {line.split(":", 1)[0]: line.split(":", 1)[1].split()[0] for line in lines if ":" in line}
        async with aiohttp.ClientSession() as session:
            client = Client(session, info["rest"], info["api key"], info["secret"])
            account = await client.ok("GET", "/api/v3/account", signed=True)
            assert {b["asset"]: b["free"] for b in account["balances"]}["USDT"] == "100000.00000000"
    finally:
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
    assert results == [0]  # Ctrl-C is a clean stop
    assert lines[-1] == "sandbox stopping"
    assert (tmp_path / "s.db").exists()


async def test_simulated_quotes_of_a_previous_run_do_not_linger(tmp_path: Path) -> None:
    # The simulator requotes every round; after a restart its old quotes (restored with the book) would
    # stay forever at stale prices, since the new run does not know them.
    state = tmp_path / "sandbox.sqlite"
    slow = dataclasses.replace(FAST, simulator_interval_s=60)
    async with Sandbox(seed=3, markets=[BTC], futures_markets=[], config=slow, state_file=state) as sb:
        assert sb.spot.simulator is not None
        sb.spot.simulator.step()
        assert sb.spot.engine.book("BTCUSDT").open_orders()
    async with Sandbox(seed=3, markets=[BTC], futures_markets=[], config=slow, state_file=state) as sb2:
        sim = sb2.spot.simulator
        assert sim is not None
        assert sb2.spot.engine.book("BTCUSDT").open_orders() == []  # nothing quoted yet in this run
        sim.step()
        live = {o.order_id for o in sb2.spot.engine.book("BTCUSDT").open_orders()}
        assert live and live <= set(sim._quotes["BTCUSDT"])


async def test_agg_trade_ids_continue_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite"
    frames: list[dict[str, Any]] = []
    for _ in range(2):
        async with Sandbox(
            markets=[BTC], futures_markets=[], simulate=False, config=FAST, state_file=state
        ) as sb:
            sb.spot.hub.publish = lambda stream, payload: frames.append(payload)  # type: ignore[method-assign]
            key, _ = sb.create_account({"USDT": Decimal("1000"), "BTC": Decimal("1")})
            account = sb.accounts.by_key(key)
            assert account is not None
            order: dict[str, Any] = {
                "symbol": "BTCUSDT", "order_type": "LIMIT", "time_in_force": "GTC",
                "quantity": Decimal("0.01"), "price": Decimal("20000"),
            }  # fmt: skip
            sb.spot.exchange.new_order(account, side="SELL", **order)
            sb.spot.exchange.new_order(account, side="BUY", **order)
    ids = [f["a"] for f in frames if f.get("e") == "aggTrade"]
    assert ids == [1, 2]  # not [1, 1]: aggregate trade ids keep increasing across a restart
