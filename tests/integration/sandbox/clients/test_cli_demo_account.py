"""``connectorkit sandbox`` prints an account funded on spot and USD-M futures, with its balances, and a
ccxt client configured from the printed lines sees exactly those balances."""

from __future__ import annotations

import argparse
import asyncio

import ccxt.pro as ccxtpro

from connectorkit.sandbox.cli import add_parser, run
from support.sandbox_clients import clients


def _parse_balances(line: str) -> dict[str, float]:
    pairs = line.split(":", 1)[1].split(",")
    return {asset: float(amount) for asset, amount in (p.split() for p in pairs)}


async def test_printed_account_is_funded_on_spot_and_futures() -> None:
    parser = argparse.ArgumentParser(prog="connectorkit")
    add_parser(parser.add_subparsers(dest="command"))
    lines: list[str] = []
    task = asyncio.create_task(
        run(parser.parse_args(["sandbox", "--seed", "3"]), out=lines.append), name="cli"
    )
    try:
        async with asyncio.timeout(10):
            while not any(line.startswith("futures wallet:") for line in lines):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        info = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines if ":" in line}
        spot_printed = _parse_balances(next(x for x in lines if x.startswith("spot balances:")))
        futures_printed = _parse_balances(next(x for x in lines if x.startswith("futures wallet:")))
        assert spot_printed == {"BTC": 1, "ETH": 10, "USDT": 100000}
        assert futures_printed == {"USDT": 100000}
        urls = {
            "rest": info["rest"],
            "spot_ws": info["spot streams"].split()[0],
            "futures_ws": info["futures streams"],
        }
        keys = {"apiKey": info["api key"], "secret": info["secret"]}
        spot = clients.point_ccxt(ccxtpro.binance(keys), **urls)
        usdm = clients.point_ccxt(ccxtpro.binanceusdm(keys), **urls)
        try:
            spot_balance = await spot.fetch_balance()
            assert {a: spot_balance[a]["total"] for a in spot_printed} == spot_printed
            usdm_balance = await usdm.fetch_balance()
            assert usdm_balance["USDT"]["total"] == futures_printed["USDT"]
        finally:
            await spot.close()
            await usdm.close()
    finally:
        task.cancel()
        assert await asyncio.gather(task, return_exceptions=True) == [0]
