"""TimeSynchronizer: round-trip-corrected samples, median offset, resync-and-retry-once helper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectorkit.net.errors import ExchangeRequestError
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import AsyncThrottler, RateLimit
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from support.local_server import local_server


class SteppingClock:
    """Local wall clock that the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _server_time(clock: SteppingClock, server_time: float, round_trip: float) -> float:
    """The exchange answers ``server_time``; the answer arrives ``round_trip`` seconds later."""
    clock.now += round_trip
    await asyncio.sleep(0)
    return server_time


async def test_offset_is_round_trip_corrected() -> None:
    clock = SteppingClock(1000.0)
    sync = TimeSynchronizer(wall_clock=clock)
    assert not sync.has_samples and sync.time_offset == 0.0 and sync.time() == 1000.0
    # Sent at 1000.0, answered at 1000.4: the server read its clock at local 1000.2, when it said 1002.7.
    offset = await sync.update_server_time_offset_with_time_provider(_server_time(clock, 1002.7, 0.4))
    assert offset == pytest.approx(2.5)
    assert sync.time() == pytest.approx(1000.4 + 2.5)


async def test_median_of_the_last_samples_ignores_one_outlier_and_old_samples() -> None:
    clock = SteppingClock(0.0)
    sync = TimeSynchronizer(max_samples=3, wall_clock=clock)
    for offset in (-7.0, -7.0, 1.0):
        sync.add_time_offset_sample(offset)
    assert sync.time_offset == -7.0  # one delayed sample does not move the median
    for offset in (0.25, 0.5):  # the two oldest -7.0 samples fall out of the window
        sync.add_time_offset_sample(offset)
    assert sync.time_offset == 0.5
    sync.add_time_offset_sample(0.3)
    assert sync.time_offset == 0.3


async def test_clear_forgets_samples() -> None:
    sync = TimeSynchronizer(wall_clock=SteppingClock(10.0))
    sync.add_time_offset_sample(5.0)
    sync.clear_time_offset_samples()
    assert not sync.has_samples and sync.time() == 10.0


def test_max_samples_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_samples"):
        TimeSynchronizer(max_samples=0)


# --------------------------------------------------------- resync + retry once, against a server
SERVER_OFFSET = 3.0  # the exchange's clock runs 3 s ahead of ours
SIGNED_TIMESTAMPS = web.AppKey("signed_timestamps", list[int])


def build_app(clock: SteppingClock) -> web.Application:
    """Binance-like: /time gives serverTime in ms; /order rejects a timestamp more than 1 s off
    with code -1021 (Binance error code "INVALID_TIMESTAMP")."""
    app = web.Application()
    app[SIGNED_TIMESTAMPS] = []

    async def server_time(request: web.Request) -> web.Response:
        body = msgspec.json.encode({"serverTime": int((clock() + SERVER_OFFSET) * 1000)})
        return web.Response(body=body, content_type="application/json")

    async def order(request: web.Request) -> web.Response:
        timestamp = int(request.query["timestamp"])
        app[SIGNED_TIMESTAMPS].append(timestamp)
        if abs(timestamp / 1000 - (clock() + SERVER_OFFSET)) > 1.0:
            body = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
            return web.Response(status=400, body=msgspec.json.encode(body), content_type="application/json")
        return web.Response(body=b'{"orderId": 7}', content_type="application/json")

    app.router.add_get("/api/v3/time", server_time)
    app.router.add_post("/api/v3/order", order)
    return app


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(1_700_000_000.0)


@pytest.fixture
async def server(clock: SteppingClock) -> AsyncIterator[TestServer]:
    async with local_server(build_app(clock)) as srv:
        yield srv


async def test_rejected_timestamp_triggers_one_resync_and_retry(
    server: TestServer, clock: SteppingClock
) -> None:
    sync = TimeSynchronizer(wall_clock=clock)
    sync.add_time_offset_sample(0.0)  # a stale belief: our clock agrees with the exchange
    limits = [RateLimit("/api/v3/time", 10, 1), RateLimit("/api/v3/order", 10, 1)]
    factory = WebAssistantsFactory(AsyncThrottler(limits))
    calls = 0
    try:
        rest = await factory.get_rest_assistant()

        async def place_order() -> object:
            nonlocal calls
            calls += 1
            timestamp = int(sync.time() * 1000)  # signed anew on every attempt
            return await rest.execute_request(
                str(server.make_url("/api/v3/order")), method=RESTMethod.POST, params={"timestamp": timestamp}
            )

        async def fetch_server_time() -> float:
            answer = await rest.execute_request(str(server.make_url("/api/v3/time")))
            return float(answer["serverTime"]) / 1000

        def is_timestamp_error(exc: BaseException) -> bool:
            return isinstance(exc, ExchangeRequestError) and exc.code == -1021

        result = await call_with_time_resync(
            place_order, synchronizer=sync, time_provider=fetch_server_time,
            is_timestamp_error=is_timestamp_error,
        )
    finally:
        await factory.close()
    assert result == {"orderId": 7}
    assert calls == 2
    assert sync.time_offset == pytest.approx(SERVER_OFFSET, abs=0.01)
    first, second = server.app[SIGNED_TIMESTAMPS]
    assert second - first == pytest.approx(3000, abs=10)


async def test_other_errors_and_a_second_rejection_are_raised() -> None:
    sync = TimeSynchronizer(wall_clock=SteppingClock(0.0))
    resyncs = 0

    async def provider() -> float:
        nonlocal resyncs
        resyncs += 1
        return 0.0

    async def rejected() -> None:
        raise ExchangeRequestError(status=400, method="POST", url="/api/v3/order", code=-1021)

    async def other() -> None:
        raise ExchangeRequestError(status=400, method="POST", url="/api/v3/order", code=-2010)

    def is_ts(exc: BaseException) -> bool:
        return isinstance(exc, ExchangeRequestError) and exc.code == -1021

    options = {"synchronizer": sync, "time_provider": provider, "is_timestamp_error": is_ts}
    with pytest.raises(ExchangeRequestError) as info:
        await call_with_time_resync(other, **options)
    assert info.value.code == -2010 and resyncs == 0
    with pytest.raises(ExchangeRequestError) as info:
        await call_with_time_resync(rejected, **options)
    assert info.value.code == -1021 and resyncs == 1


async def test_a_failed_resync_keeps_the_previous_offset() -> None:
    """If the exchange rejects a timestamp and the server-time call then fails, the synchronizer keeps
    what it knew rather than falling back to an offset of 0."""
    sync = TimeSynchronizer(wall_clock=SteppingClock(0.0))
    for offset in (2.0, 2.1, 1.9):
        sync.add_time_offset_sample(offset)

    async def rejected() -> None:
        raise ExchangeRequestError(status=400, method="POST", url="/api/v3/order", code=-1021)

    async def unreachable() -> float:
        raise ConnectionError("server time unavailable")

    with pytest.raises(ConnectionError):
        await call_with_time_resync(
            rejected, synchronizer=sync, time_provider=unreachable,
            is_timestamp_error=lambda exc: isinstance(exc, ExchangeRequestError),
        )
    assert sync.time_offset == 2.0


async def test_a_successful_resync_replaces_the_old_samples() -> None:
    clock = SteppingClock(100.0)
    sync = TimeSynchronizer(wall_clock=clock)
    for offset in (0.0, 0.0, 0.0):
        sync.add_time_offset_sample(offset)
    attempts: list[float] = []

    async def call() -> str:
        attempts.append(sync.time_offset)
        if len(attempts) == 1:
            raise ExchangeRequestError(status=400, method="POST", url="/api/v3/order", code=-1021)
        return "ok"

    result = await call_with_time_resync(
        call, synchronizer=sync, time_provider=lambda: _server_time(clock, 105.2, 0.4),
        is_timestamp_error=lambda exc: isinstance(exc, ExchangeRequestError),
    )
    assert result == "ok"
    # One fresh sample, round-trip corrected: 105.2 - (100.0 + 100.4) / 2 = 5.0; the stale zeros are gone.
    assert attempts == [0.0, pytest.approx(5.0)]
