"""``net.typed_request`` against an in-process aiohttp server on 127.0.0.1: typed decoding, the
limit id it is throttled under, and the one retry of a signed call after a clock resync."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import ExchangeRequestError, ResponseDecodeError
from connectorkit.net.rest_request import RESTMethod, RESTRequest
from connectorkit.net.throttler import AsyncThrottler, LinkedLimitWeightPair, RateLimit
from connectorkit.net.time_synchronizer import TimeSynchronizer
from connectorkit.net.typed_request import typed_request
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_request import WSJSONRequest
from support.clocks import SkipClock
from support.local_server import local_server

BAD_TIMESTAMP = -1021
WALL_CLOCK = 1_700_000_000.0
SERVER_AHEAD_S = 5.0  # the exchange's clock runs this much ahead of ours
STALE_OFFSET_S = 100.0  # the offset sample the synchronizer starts with (wrong)


class Ticker(msgspec.Struct):
    symbol: str
    price: Decimal


class Account(msgspec.Struct):
    balance: Decimal


class TimestampAuth(AuthBase):
    """Signs with the exchange time the synchronizer believes, in milliseconds."""

    def __init__(self, synchronizer: TimeSynchronizer) -> None:
        self._synchronizer = synchronizer

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        params = {**(request.params or {}), "timestamp": int(self._synchronizer.time() * 1000)}
        return dataclasses.replace(request, params=params)

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        return request

    def secret_values(self) -> tuple[str, ...]:
        return ()


TIMESTAMPS = web.AppKey("timestamps", list[int])
REJECTIONS = web.AppKey("rejections", list[int])  # how many timestamps to refuse before accepting


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status, content_type="application/json")


def build_app() -> web.Application:
    app = web.Application()
    app[TIMESTAMPS] = []
    app[REJECTIONS] = [1]

    async def ticker(request: web.Request) -> web.Response:
        return _json({"symbol": request.query["symbol"], "price": "0.00001234"})

    async def account(request: web.Request) -> web.Response:
        app[TIMESTAMPS].append(int(request.query.get("timestamp", "0")))  # 0: sent unsigned
        if app[REJECTIONS][0] > 0:
            app[REJECTIONS][0] -= 1
            msg = "Timestamp for this request is outside of the recvWindow."
            return _json({"code": BAD_TIMESTAMP, "msg": msg}, status=400)
        return _json({"balance": "12.5"})

    async def refused(request: web.Request) -> web.Response:
        app[TIMESTAMPS].append(int(request.query.get("timestamp", "0")))
        return _json({"code": -2015, "msg": "Invalid API-key, IP, or permissions."}, status=401)

    async def wrong_shape(request: web.Request) -> web.Response:
        return _json({"symbol": 7})

    app.router.add_get("/ticker", ticker)
    app.router.add_get("/account", account)
    app.router.add_post("/refused", refused)
    app.router.add_get("/wrong_shape", wrong_shape)
    return app


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async with local_server(build_app()) as srv:
        yield srv


@pytest.fixture
def synchronizer() -> TimeSynchronizer:
    sync = TimeSynchronizer(wall_clock=lambda: WALL_CLOCK)
    sync.add_time_offset_sample(STALE_OFFSET_S)
    return sync


@pytest.fixture
async def factory(synchronizer: TimeSynchronizer) -> AsyncIterator[WebAssistantsFactory]:
    limits = [
        RateLimit("WEIGHT", 1000, 60),
        *(RateLimit(i, 1000, 60, linked_limits=[LinkedLimitWeightPair("WEIGHT", 3)])
          for i in ("TICKER", "ACCOUNT", "/refused", "/wrong_shape")),
    ]
    factory = WebAssistantsFactory(AsyncThrottler(limits, clock=SkipClock()), TimestampAuth(synchronizer))
    yield factory
    await factory.close()


def is_timestamp_error(exc: BaseException) -> bool:
    return isinstance(exc, ExchangeRequestError) and exc.code == BAD_TIMESTAMP


async def server_time() -> float:
    return WALL_CLOCK + SERVER_AHEAD_S


def timestamps(server: TestServer) -> list[int]:
    return server.app[TIMESTAMPS]


async def test_an_unsigned_call_is_decoded_into_its_type_under_the_limit_id_given(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    url = str(server.make_url("/ticker"))
    answer = await typed_request(factory, url, Ticker, params={"symbol": "ETHUSDT"}, limit_id="TICKER")
    assert answer == Ticker("ETHUSDT", Decimal("0.00001234"))
    assert factory.throttler.used_weight("TICKER") == 1
    assert factory.throttler.used_weight("WEIGHT") == 3


async def test_a_rejected_timestamp_is_resynced_and_the_call_signed_anew_once(
    server: TestServer, factory: WebAssistantsFactory, synchronizer: TimeSynchronizer
) -> None:
    answer = await typed_request(
        factory, str(server.make_url("/account")), Account, limit_id="ACCOUNT", signed=True,
        synchronizer=synchronizer, time_provider=server_time, is_timestamp_error=is_timestamp_error,
    )
    assert answer == Account(Decimal("12.5"))
    # First signed with the stale offset, then with the offset measured from the server's clock.
    stale, fresh = (int((WALL_CLOCK + offset) * 1000) for offset in (STALE_OFFSET_S, SERVER_AHEAD_S))
    assert timestamps(server) == [stale, fresh]
    assert synchronizer.time_offset == SERVER_AHEAD_S  # the stale sample was replaced, not averaged
    assert factory.throttler.used_weight("ACCOUNT") == 2  # the retry is throttled like any call


async def test_a_second_timestamp_rejection_is_raised(
    server: TestServer, factory: WebAssistantsFactory, synchronizer: TimeSynchronizer
) -> None:
    server.app[REJECTIONS][0] = 2
    with pytest.raises(ExchangeRequestError) as caught:
        await typed_request(
            factory, str(server.make_url("/account")), Account, limit_id="ACCOUNT", signed=True,
            synchronizer=synchronizer, time_provider=server_time, is_timestamp_error=is_timestamp_error,
        )
    assert caught.value.code == BAD_TIMESTAMP
    assert len(timestamps(server)) == 2


async def test_other_errors_and_unsigned_calls_are_never_retried(
    server: TestServer, factory: WebAssistantsFactory, synchronizer: TimeSynchronizer
) -> None:
    with pytest.raises(ExchangeRequestError) as caught:
        await typed_request(
            factory, str(server.make_url("/refused")), Account, method=RESTMethod.POST, limit_id="/refused",
            signed=True, synchronizer=synchronizer, time_provider=server_time,
            is_timestamp_error=is_timestamp_error,
        )
    assert caught.value.code == -2015
    assert len(timestamps(server)) == 1
    assert synchronizer.time_offset == STALE_OFFSET_S  # no resync for an error that is not the clock's

    with pytest.raises(ExchangeRequestError) as caught:  # unsigned: a timestamp error is just raised
        await typed_request(factory, str(server.make_url("/account")), Account, limit_id="ACCOUNT")
    assert caught.value.code == BAD_TIMESTAMP
    assert timestamps(server)[1:] == [0]  # sent once, unsigned
    assert synchronizer.time_offset == STALE_OFFSET_S


async def test_a_signed_call_without_its_clock_hooks_is_refused_before_sending(
    server: TestServer, factory: WebAssistantsFactory, synchronizer: TimeSynchronizer
) -> None:
    with pytest.raises(ValueError, match="synchronizer, time provider and timestamp error test"):
        await typed_request(factory, str(server.make_url("/account")), Account, limit_id="ACCOUNT",
                            signed=True, synchronizer=synchronizer, time_provider=server_time)
    assert timestamps(server) == []
    assert factory.throttler.used_weight("ACCOUNT") == 0


async def test_an_answer_that_breaks_the_schema_is_a_decode_error(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    with pytest.raises(ResponseDecodeError, match=r"Expected `str`, got `int` - at `\$.symbol`"):
        await typed_request(factory, str(server.make_url("/wrong_shape")), Ticker, limit_id="/wrong_shape")
