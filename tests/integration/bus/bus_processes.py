"""Gateway and consumer child processes for the bus tests, and the true-book comparison."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectorkit.sandbox import Sandbox
from support.paths import REPO_ROOT

CHILD = str(REPO_ROOT / "tests" / "support" / "bus_consumer_child.py")
PAIRS = ("BTC-USDT", "ETH-USDT")
LINE_TIMEOUT_S = 30.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


class _Child:
    def __init__(self, name: str) -> None:
        self.name = name
        self.process: asyncio.subprocess.Process | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()

    async def _spawn(self, *args: str) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr, env=_env(),
        )

    async def readline(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), LINE_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no output for {LINE_TIMEOUT_S}s; stderr: {self.stderr()}"
            ) from None
        if not line:
            raise AssertionError(f"{self.name} exited ({self.process.returncode}); stderr: {self.stderr()}")
        return line.decode()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                await self.kill()
        self._stderr.close()


class GatewayProcess(_Child):
    """``connectorkit gateway binance PAIR... --bus URL`` against the sandbox."""

    def __init__(self, sb: Sandbox, bus_url: str, *extra: str, pairs: tuple[str, ...] = PAIRS) -> None:
        super().__init__("gateway")
        self.args = ["-m", "connectorkit.cli.main", "gateway", "binance", *pairs, "--bus", bus_url,
                     "--rest-url", sb.rest_url, "--ws-url", sb.ws_url,
                     "--option", f"ws_api_url={sb.ws_api_url}", "--heartbeat-ttl", "1.5", *extra]

    async def start(self) -> str:
        await self._spawn(*self.args)
        line = await self.readline()
        assert line.startswith("gateway: publishing"), line
        return line


class ConsumerProcess(_Child):
    """``support/bus_consumer_child.py``: a binance connector with ``market_data_bus``."""

    def __init__(self, index: int, sb: Sandbox, bus_url: str, pairs: tuple[str, ...] = PAIRS) -> None:
        super().__init__(f"consumer {index}")
        self.args = [CHILD, "binance", bus_url, sb.rest_url, *pairs]

    async def start(self) -> None:
        await self._spawn(*self.args)
        assert json.loads(await self.readline()) == {"event": "started"}

    async def dump(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"dump\n")
        await self.process.stdin.drain()
        result: dict[str, Any] = json.loads(await self.readline())
        return result

    async def stop(self) -> None:
        if self.process is not None and self.process.stdin is not None and self.process.returncode is None:
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
        await super().stop()


def _decimal_levels(levels: list[list[str]]) -> Levels:
    return [(Decimal(price), Decimal(amount)) for price, amount in levels]


Levels = list[tuple[Decimal, Decimal]]


def true_state(sb: Sandbox, pair: str) -> tuple[int, Levels, Levels]:
    book = sb.spot.engine.book(pair.replace("-", ""))
    bids, asks = book.depth()
    return book.update_id, [(p, q) for p, q in bids], [(p, q) for p, q in asks]


def matches_true_books(sb: Sandbox, dumped: dict[str, Any]) -> bool:
    """Every pair ready, at the sandbox's update id, with exactly the sandbox's levels."""
    for pair, state in dumped["pairs"].items():
        uid, bids, asks = true_state(sb, pair)
        if not state["ready"] or state["uid"] != uid:
            return False
        if _decimal_levels(state["bids"]) != bids or _decimal_levels(state["asks"]) != asks:
            return False
    return True


async def wait_for_consumers(
    consumers: list[ConsumerProcess], predicate: Callable[[dict[str, Any]], bool], what: str,
    seconds: float = 30.0,
) -> list[dict[str, Any]]:
    """Ask every consumer for its state until ``predicate`` holds for all (bounded; fails loudly).
    Each round trip is an event (the child's answer), not a sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        dumps = [await consumer.dump() for consumer in consumers]
        if all(predicate(d) for d in dumps):
            return dumps
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {json.dumps(dumps)[:3000]}")
        await asyncio.sleep(0.02)  # let the sandbox's own tasks run between round trips


async def step_market(sb: Sandbox, steps: int = 1) -> None:
    """Move the sandbox's simulated market ``steps`` times, each once its depth diff went out."""
    simulator = sb.spot.simulator
    assert simulator is not None
    for _ in range(steps):
        before = {pair: true_state(sb, pair)[0] for pair in PAIRS}
        simulator.step()
        assert any(true_state(sb, pair)[0] != before[pair] for pair in PAIRS)
