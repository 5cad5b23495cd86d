"""Gateway and consumers in separate processes, over a real Redis-protocol server, against the sandbox.

The sandbox's simulated market is stepped by the test (its own timer is an hour), so after each
step the true books stand still until every consumer has caught up; then each consumer's whole
book must equal the sandbox's true book at the same exchange update id.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import msgspec
import pytest
from bus_processes import (
    PAIRS,
    ConsumerProcess,
    GatewayProcess,
    matches_true_books,
    step_market,
    wait_for_consumers,
)

from connectorkit.bus import keys, wire
from connectorkit.sandbox import Sandbox, SandboxConfig
from support.redis_server import RedisServer, default_binary

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=16, futures_markets=[], config=SandboxConfig(simulator_interval_s=3600)) as sb:
        simulator = sb.spot.simulator
        assert simulator is not None
        simulator.step()  # books with levels before anyone connects
        yield sb


async def _start(sb: Sandbox, server: RedisServer, consumers: int, *gateway_args: str
                 ) -> tuple[GatewayProcess, list[ConsumerProcess]]:
    gateway = GatewayProcess(sb, server.url, *gateway_args)
    await gateway.start()
    children = [ConsumerProcess(i, sb, server.url) for i in range(consumers)]
    await asyncio.gather(*(child.start() for child in children))
    return gateway, children


async def _stop(gateway: GatewayProcess, consumers: list[ConsumerProcess]) -> None:
    await asyncio.gather(gateway.stop(), *(consumer.stop() for consumer in consumers))


def _all_equal(sb: Sandbox) -> object:
    return lambda dumped: matches_true_books(sb, dumped)


def _not_ready(dumped: dict[str, object]) -> bool:
    pairs = dumped["pairs"]
    assert isinstance(pairs, dict)
    return not any(state["ready"] for state in pairs.values())


async def test_every_consumer_book_equals_the_true_book(sandbox: Sandbox, redis_server: RedisServer) -> None:
    gateway, consumers = await _start(sandbox, redis_server, 3)
    try:
        for _ in range(6):
            await step_market(sandbox)
            dumps = await wait_for_consumers(consumers, _all_equal(sandbox), "books equal to the true books")
        assert all(d["breaks"] == 0 and d["malformed"] == 0 for d in dumps)
        assert all(state["resyncs"] == 0 for d in dumps for state in d["pairs"].values())
    finally:
        await _stop(gateway, consumers)


async def test_gateway_killed_and_restarted_mid_stream(sandbox: Sandbox, redis_server: RedisServer) -> None:
    gateway, consumers = await _start(sandbox, redis_server, 2)
    try:
        await step_market(sandbox)
        await wait_for_consumers(consumers, _all_equal(sandbox), "books equal before the kill")
        await gateway.kill()
        await step_market(sandbox, 2)  # the market moves on while no gateway publishes
        dumps = await wait_for_consumers(consumers, _not_ready, "books not ready once the heartbeat expired")
        assert all(d["heartbeat_expiries"] >= 1 for d in dumps)
        gateway = GatewayProcess(sandbox, redis_server.url)
        await gateway.start()
        dumps = await wait_for_consumers(consumers, _all_equal(sandbox), "books equal after the restart")
        await step_market(sandbox)
        dumps = await wait_for_consumers(consumers, _all_equal(sandbox), "books follow the new gateway")
        assert all(d["breaks"] >= len(PAIRS) for d in dumps)
    finally:
        await _stop(gateway, consumers)


async def test_redis_restarted_mid_stream(sandbox: Sandbox, redis_server: RedisServer) -> None:
    gateway, consumers = await _start(sandbox, redis_server, 2)
    try:
        await step_market(sandbox)
        await wait_for_consumers(consumers, _all_equal(sandbox), "books equal before the restart")
        redis_server.restart()  # an empty server on the same port: every stream and key is gone
        await step_market(sandbox)
        dumps = await wait_for_consumers(consumers, _all_equal(sandbox), "books equal after the restart")
        assert all(d["connection_losses"] >= 1 and d["breaks"] >= len(PAIRS) for d in dumps)
        assert all(state["resyncs"] >= 1 for d in dumps for state in d["pairs"].values())
        await step_market(sandbox)
        await wait_for_consumers(consumers, _all_equal(sandbox), "books follow after the restart")
    finally:
        await _stop(gateway, consumers)


def _book_seqs(server: RedisServer, pair: str) -> tuple[int, int]:
    """Gateway sequence numbers of the oldest and newest entries kept in the pair's book stream."""
    client = server.client()
    try:
        stream = keys.book_stream("binance", pair)
        first = client.xrange(stream, count=1)
        last = client.xrevrange(stream, count=1)
    finally:
        client.close()
    decode = msgspec.msgpack.Decoder(wire.BookEntry).decode
    return decode(first[0][1][keys.ENTRY_FIELD]).seq, decode(last[0][1][keys.ENTRY_FIELD]).seq


async def test_entries_trimmed_under_a_slow_consumer(sandbox: Sandbox) -> None:
    # Approximate trimming (MAXLEN ~) removes whole stream nodes: small nodes make it trim early.
    server = RedisServer(default_binary(), extra_args=("--stream-node-max-entries", "4"))
    server.start()
    gateway, consumers = await _start(sandbox, server, 2, "--maxlen", "8", "--snapshot-interval", "0.5")
    slow = consumers[0]
    try:
        await step_market(sandbox)
        await wait_for_consumers(consumers, _all_equal(sandbox), "books equal before the pause")
        slow.signal(signal.SIGSTOP)
        _, newest_seen = _book_seqs(server, "BTC-USDT")
        # A read blocked when the consumer stopped may still deliver the next entry or so: trim
        # well past that, so what it asks for next is gone whatever it holds.
        while _book_seqs(server, "BTC-USDT")[0] <= newest_seen + 10:
            before = _book_seqs(server, "BTC-USDT")[1]
            await step_market(sandbox)
            for _ in range(500):  # the gateway's entry for this step, bounded
                if _book_seqs(server, "BTC-USDT")[1] > before:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the gateway published nothing for a market step")
        slow.signal(signal.SIGCONT)
        dumps = await wait_for_consumers(consumers, _all_equal(sandbox), "books equal after the trim")
        assert dumps[0]["breaks"] >= 1  # the slow one saw the gap and reloaded
        assert dumps[0]["pairs"]["BTC-USDT"]["resyncs"] >= 1
    finally:
        await _stop(gateway, consumers)
        server.close()
