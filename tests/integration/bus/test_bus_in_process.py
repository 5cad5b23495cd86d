"""Gateway and consumer in one process over a real server: both server binaries, bad entries,
passwords, Redis down at start, perpetual funding and trades."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from connectorkit.bus import keys
from connectorkit.bus.connection import BusUnavailableError, BusUrlError
from connectorkit.bus.gateway import MarketDataGateway
from connectorkit.cli import gateway as gateway_command
from connectorkit.connector.settings import create_connector
from connectorkit.sandbox import Sandbox, SandboxConfig
from support.redis_server import RedisServer, available_binaries, free_port, tls_capable_binaries

PAIR = "BTC-USDT"
PASSWORD = "s3cr3t-bus-pw"


async def wait_until(predicate: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def spot(sb: Sandbox, **overrides: Any) -> Any:
    return create_connector("binance", [PAIR], trading_required=False, rest_url=sb.rest_url, ws_url=sb.ws_url,
                            ws_api_url=sb.ws_api_url, **overrides)


def perpetual(sb: Sandbox, **overrides: Any) -> Any:
    return create_connector("binance_perpetual", [PAIR], trading_required=False, rest_url=sb.futures_rest_url,
                            ws_url=sb.futures_ws_url, funding_payment_poll_interval=0.3, **overrides)


@asynccontextmanager
async def running(gateway: MarketDataGateway, consumer: Any) -> AsyncIterator[None]:
    await gateway.start()
    await consumer.start_network()
    try:
        yield
    finally:
        await consumer.stop_network()
        await gateway.stop()


def in_sync(consumer: Any, gateway: MarketDataGateway, pair: str = PAIR) -> bool:
    """The consumer's book is ready and at the gateway's book state, level for level."""
    tracker = consumer.order_book_tracker
    if not tracker.is_ready(pair) or not gateway.tracker.is_ready(pair):
        return False
    book, source = tracker.order_books[pair], tracker.data_source
    info = source.entry_info(pair, book.last_diff_uid)
    theirs = gateway.tracker.order_books[pair]
    return (info is not None and info[0] == theirs.last_diff_uid
            and book.raw_levels(True) == theirs.raw_levels(True)
            and book.raw_levels(False) == theirs.raw_levels(False))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=7, config=SandboxConfig(simulator_interval_s=0.05)) as sb:
        yield sb


@pytest.mark.parametrize("binary", list(available_binaries()))
async def test_books_over_each_server_binary(binary: str, sandbox: Sandbox) -> None:
    server = RedisServer(available_binaries()[binary])
    server.start()
    try:
        gateway = MarketDataGateway(spot(sandbox), server.url, snapshot_interval=0.2)
        consumer = spot(sandbox, market_data_bus=server.url)
        async with running(gateway, consumer):
            for _ in range(5):  # distinct book states, each equal to the gateway's
                seen = gateway.tracker.order_books[PAIR].last_diff_uid
                await wait_until(lambda seen=seen: gateway.tracker.order_books[PAIR].last_diff_uid > seen
                                 and in_sync(consumer, gateway), f"in sync over {binary}")
            assert gateway.publisher.stats.errors == 0 and gateway.publisher.stats.snapshots_written >= 2
            assert consumer.order_book_tracker.metrics(PAIR).resyncs == 0
    finally:
        server.close()


@pytest.mark.parametrize("binary", list(tls_capable_binaries()))
async def test_tls_with_a_password(binary: str, sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    server = RedisServer(tls_capable_binaries()[binary], password=PASSWORD, tls=True)
    server.start()
    caplog.set_level(logging.DEBUG)
    try:
        assert server.url.startswith(f"rediss://:{PASSWORD}@")
        gateway = MarketDataGateway(spot(sandbox), server.url)
        consumer = spot(sandbox, market_data_bus=server.url)
        async with running(gateway, consumer):
            await wait_until(lambda: in_sync(consumer, gateway), "in sync over TLS")
        plain = f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0"  # no TLS: the server hangs up
        with pytest.raises(BusUnavailableError):
            await MarketDataGateway(spot(sandbox), plain).start()
        with pytest.raises(BusUrlError):  # a TLS option on a plain URL is refused, not a crash
            await MarketDataGateway(spot(sandbox), f"{plain}?ssl_ca_certs={server.ca_file}").start()
        assert PASSWORD not in caplog.text
    finally:
        server.close()


async def test_malformed_and_foreign_entries_are_counted_and_skipped(sandbox: Sandbox,
                                                                     redis_server: RedisServer) -> None:
    gateway = MarketDataGateway(spot(sandbox), redis_server.url)
    consumer = spot(sandbox, market_data_bus=redis_server.url)
    async with running(gateway, consumer):
        await wait_until(lambda: in_sync(consumer, gateway), "first sync")
        stream = keys.book_stream("binance", PAIR)
        client = redis_server.client()
        try:
            client.xadd(stream, {"foreign": "not ours"})
            client.xadd(stream, {keys.ENTRY_FIELD: b"\xc1 not msgpack"})
            client.xadd(stream, {keys.ENTRY_FIELD: b"\x93\x01\x02\x03"})  # msgpack, not a book entry
            client.xadd(keys.trades_stream("binance", PAIR), {"foreign": "trade"})
        finally:
            client.close()
        source = consumer.order_book_tracker.data_source
        await wait_until(lambda: source.malformed_frames == 4, "the four bad entries counted")
        applied = consumer.order_book_tracker.metrics(PAIR).diffs_applied
        await wait_until(lambda: consumer.order_book_tracker.metrics(PAIR).diffs_applied > applied
                         and in_sync(consumer, gateway), "the book still following")
        assert source.stats.breaks == 0 and consumer.order_book_tracker.metrics(PAIR).resyncs == 0


async def test_password_in_the_url_works_and_is_never_logged_or_shown(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(next(iter(available_binaries().values())), password=PASSWORD)
    server.start()
    caplog.set_level(logging.DEBUG)
    try:
        assert PASSWORD in server.url
        gateway = MarketDataGateway(spot(sandbox), server.url)
        consumer = spot(sandbox, market_data_bus=server.url)
        async with running(gateway, consumer):
            await wait_until(lambda: in_sync(consumer, gateway), "in sync with a password")
            server.restart()  # reconnection paths log the URL too
            await wait_until(lambda: gateway.publisher.stats.reconnections >= 1
                             and consumer.order_book_tracker.data_source.stats.connection_losses >= 1,
                             "both reconnected")
            await wait_until(lambda: in_sync(consumer, gateway), "in sync after the restart")
            # The gateway kept its book through the outage: no resync, no snapshot from the exchange.
            metrics = gateway.tracker.metrics(PAIR)
            assert metrics.resyncs == 0 and metrics.snapshots_applied == 1
            texts = [repr(gateway), repr(gateway.publisher), repr(consumer.order_book_tracker.data_source),
                     repr(consumer.settings), str(consumer.settings.model_dump()), caplog.text]
        wrong = server.url.replace(PASSWORD, "wrong-password")
        with pytest.raises(BusUnavailableError) as caught:
            await MarketDataGateway(spot(sandbox), wrong).start()
        texts.append(str(caught.value))
        assert "redis://:***@127.0.0.1" in str(caught.value)
        assert all(PASSWORD not in text and "wrong-password" not in text for text in texts)
    finally:
        server.close()


async def test_redis_down_at_start_is_a_clear_error_naming_the_url(sandbox: Sandbox) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"  # nothing listens there
    connector = spot(sandbox)
    with pytest.raises(BusUnavailableError) as caught:
        await MarketDataGateway(connector, url).start()
    await connector.stop_network()
    message = str(caught.value)
    assert message.startswith(f"cannot reach Redis at redis://:***@127.0.0.1:{url.rsplit(':', 1)[1]}")
    assert PASSWORD not in message

    lines: list[str] = []
    args = gateway_command.add_parser(argparse.ArgumentParser().add_subparsers()).parse_args(
        ["binance", PAIR, "--bus", url, "--rest-url", sandbox.rest_url, "--ws-url", sandbox.ws_url])
    assert await gateway_command.run(args, out=lines.append) == 2
    assert lines == [f"gateway: {message}"]


async def test_perpetual_books_funding_and_trades_from_the_bus(redis_server: RedisServer) -> None:
    async with Sandbox(seed=9, config=SandboxConfig(simulator_interval_s=0.05)) as sb:
        gateway = MarketDataGateway(perpetual(sb), redis_server.url, perpetual=True)
        consumer = perpetual(sb, market_data_bus=redis_server.url)
        async with running(gateway, consumer):
            await wait_until(lambda: in_sync(consumer, gateway), "perpetual book in sync")
            await wait_until(lambda: consumer.get_order_book(PAIR).last_trade_price.is_finite(), "a trade")
            await wait_until(lambda: consumer.status_dict["funding_info"], "funding info")
            info = consumer.get_funding_info(PAIR)
            assert isinstance(info.mark_price, Decimal) and info.mark_price > 0
            assert info.next_funding_utc_timestamp > 0
            assert gateway.published_trades >= 1
            assert consumer.order_book_tracker.data_source.malformed_frames == 0


def _book_args(*argv: str) -> argparse.Namespace:
    from connectorkit.cli import book as book_command

    parser = argparse.ArgumentParser()
    book_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["book", *argv])


async def test_book_command_reads_the_book_from_the_bus(sandbox: Sandbox, redis_server: RedisServer) -> None:
    from connectorkit.cli import book as book_command

    gateway = MarketDataGateway(spot(sandbox), redis_server.url)
    await gateway.start()
    try:
        await wait_until(lambda: gateway.tracker.is_ready(PAIR), "gateway ready")
        lines: list[str] = []
        # The exchange URLs lead nowhere for books: they can only come from the bus.
        args = _book_args("binance", PAIR, "--bus", redis_server.url, "--duration", "1.5", "--plain",
                          "--rest-url", sandbox.rest_url, "--ws-url", "ws://127.0.0.1:9")
        assert await book_command.run(args, out=lines.append, interactive=False) == 0
        assert lines[0].startswith(f"{PAIR} bid ") and "| ready" in lines[-1]
        lines.clear()
        args = _book_args("binance", PAIR, "--bus", redis_server.url, "--json",
                          "--rest-url", sandbox.rest_url, "--ws-url", "ws://127.0.0.1:9")
        assert await book_command.run(args, out=lines.append, interactive=False) == 0
        shown = json.loads(lines[-1])
        assert shown["ready"] and shown["bids"] and shown["asks"]
        # The exchange's update id (not a bus position), one the gateway's book has been at.
        assert 0 < shown["update_id"] <= gateway.tracker.order_books[PAIR].last_diff_uid
    finally:
        await gateway.stop()

    down = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    lines = []
    args = _book_args("binance", PAIR, "--bus", down, "--rest-url", sandbox.rest_url,
                      "--ws-url", sandbox.ws_url)
    assert await book_command.run(args, out=print, err=lines.append, interactive=False) == 2
    assert len(lines) == 1 and PASSWORD not in lines[0]
    assert lines[0].startswith(f"book: cannot reach Redis at {down.replace(PASSWORD, '***')}: ")
