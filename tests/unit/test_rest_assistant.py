"""RESTAssistant against an in-process aiohttp server on 127.0.0.1: signing, typed errors, timeouts,
429/418 pauses and that no secret reaches an exception or a log line."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import (
    ExchangeConnectionError,
    ExchangeRequestError,
    RateLimitedError,
    RequestTimeoutError,
    ResponseDecodeError,
    UnknownRateLimitIdError,
)
from connectorkit.net.rest_assistant import (
    AuthNotConfiguredError,
    RESTPostProcessorBase,
    RESTPreProcessorBase,
    parse_code_msg_error,
    parse_retry_after,
)
from connectorkit.net.rest_request import RESTMethod, RESTRequest, RESTResponse, encode_query
from connectorkit.net.throttler import AsyncThrottler, LinkedLimitWeightPair, RateLimit
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_request import WSJSONRequest
from support.clocks import SkipClock
from support.local_server import local_server

API_KEY = "kX9mQ2vL7pR4tY8wZ1aB3cD5eF6gH0jK2lM4nP6qR8sT0uV2wX4yZ6aB8cD0eF2g"
SECRET = "sS3cr3tV4lu3Th4tMustN3v3rL34kAnywh3r3xYz0123456789abcdefABCDEF01"


class HmacAuth(AuthBase):
    """Binance-style: API key header, ``timestamp`` + HMAC-SHA256 ``signature`` of the query string."""

    def __init__(self, api_key: str, secret: str) -> None:
        self._api_key = api_key
        self._secret = secret

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        params = {**(request.params or {}), "timestamp": 1_700_000_000_000}
        params["signature"] = sign(self._secret, encode_query(params))
        return dataclasses.replace(request, params=params,
                                   headers={**(request.headers or {}), "X-MBX-APIKEY": self._api_key})

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        return request

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key, self._secret)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status, headers=headers,
                        content_type="application/json")


HITS = web.AppKey("hits", list[str])
SIGNATURES = web.AppKey("signatures", list[str])
REDIRECT_TO = web.AppKey("redirect_to", list[str])


def build_app() -> web.Application:
    app = web.Application()
    app[HITS] = []
    app[SIGNATURES] = []
    app[REDIRECT_TO] = []

    async def ticker(request: web.Request) -> web.Response:
        app[HITS].append(request.path_qs)
        return _json({"symbol": request.query.get("symbol"), "price": "0.00001234"})

    async def signed(request: web.Request) -> web.Response:
        raw = request.query_string
        payload, _, signature = raw.rpartition("&signature=")
        app[SIGNATURES].append(signature)
        valid = hmac.compare_digest(signature, sign(SECRET, payload))
        if request.headers.get("X-MBX-APIKEY") != API_KEY or not valid:
            return _json({"code": -1022, "msg": "Signature for this request is not valid."}, status=401)
        if request.query.get("symbol") == "NOPE":
            return _json({"code": -1121, "msg": "Invalid symbol."}, status=400)
        if request.query.get("symbol") == "ECHO":  # an exchange that echoes the key back
            message = f"Invalid API-key {API_KEY}, IP, or permissions."
            return _json({"code": -2015, "msg": message}, status=401)
        return _json({"ok": True, "query": raw})

    async def echo_form(request: web.Request) -> web.Response:
        return _json({"body": (await request.read()).decode(), "content_type": request.content_type,
                      "query": request.query_string, "custom": request.headers.get("X-Custom")})

    async def server_error(request: web.Request) -> web.Response:
        return web.Response(status=503, text="Service Unavailable.")

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return _json({})

    async def limited(request: web.Request) -> web.Response:
        app[HITS].append(request.path_qs)
        status = int(request.query.get("status", "429"))
        headers = {"Retry-After": request.query["retry_after"]} if "retry_after" in request.query else {}
        return _json({"code": -1003, "msg": "Too many requests."}, status=status, headers=headers)

    async def rejected(request: web.Request) -> web.Response:
        return _json({"code": -1125, "msg": "This listenKey does not exist."}, status=400)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(app[REDIRECT_TO][-1])

    app.router.add_get("/api/v3/moved", moved)
    app.router.add_put("/api/v3/userDataStream", rejected)
    app.router.add_post("/api/v3/rejected", rejected)
    app.router.add_get("/api/v3/ticker/price", ticker)
    app.router.add_get("/api/v3/account", signed)
    app.router.add_post("/api/v3/order", echo_form)
    app.router.add_get("/api/v3/unavailable", server_error)
    app.router.add_get("/api/v3/maintenance", not_json)
    app.router.add_get("/api/v3/slow", slow)
    app.router.add_get("/api/v3/limited", limited)
    return app


RATE_LIMITS = [
    RateLimit("REQUEST_WEIGHT", 6000, 60),
    *(RateLimit(path, 6000, 60, linked_limits=[LinkedLimitWeightPair("REQUEST_WEIGHT", 2)])
      for path in ["/api/v3/ticker/price", "/api/v3/account", "/api/v3/order", "/api/v3/unavailable",
                   "/api/v3/maintenance", "/api/v3/slow", "/api/v3/limited", "/api/v3/userDataStream",
                   "/api/v3/rejected"]),
    RateLimit("ORDERS", 10, 1, linked_limits=[LinkedLimitWeightPair("REQUEST_WEIGHT", 1)]),
]


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async with local_server(build_app()) as srv:
        yield srv


@pytest.fixture
def clock() -> SkipClock:
    return SkipClock()


@pytest.fixture
async def factory(clock: SkipClock) -> AsyncIterator[WebAssistantsFactory]:
    throttler = AsyncThrottler(RATE_LIMITS, clock=clock)
    factory = WebAssistantsFactory(throttler, HmacAuth(API_KEY, SECRET), request_timeout=5)
    yield factory
    await factory.close()


def url(server: TestServer, path: str) -> str:
    return str(server.make_url(path))


class Ticker(msgspec.Struct):
    symbol: str
    price: Decimal


async def test_get_decodes_json_and_typed_structs(server: TestServer, factory: WebAssistantsFactory) -> None:
    rest = await factory.get_rest_assistant()
    raw = await rest.execute_request(url(server, "/api/v3/ticker/price"), params={"symbol": "BTCUSDT"})
    assert raw == {"symbol": "BTCUSDT", "price": "0.00001234"}
    typed = await rest.execute_request(url(server, "/api/v3/ticker/price"), params={"symbol": "ETHUSDT"},
                                       response_type=Ticker)
    assert typed == Ticker("ETHUSDT", Decimal("0.00001234"))
    # The throttler was consumed under the URL path (the default limit id) and its linked pool.
    assert factory.throttler.used_weight("/api/v3/ticker/price") == 2
    assert factory.throttler.used_weight("REQUEST_WEIGHT") == 4


async def test_auth_is_applied_only_when_required(server: TestServer, factory: WebAssistantsFactory) -> None:
    rest = await factory.get_rest_assistant()
    answer = await rest.execute_request(url(server, "/api/v3/account"), params={"symbol": "BTCUSDT"},
                                        is_auth_required=True)
    assert answer["ok"] is True
    assert answer["query"].startswith("symbol=BTCUSDT&timestamp=1700000000000&signature=")
    with pytest.raises(ExchangeRequestError) as info:
        await rest.execute_request(url(server, "/api/v3/account"), params={"symbol": "BTCUSDT"})
    assert (info.value.status, info.value.code) == (401, -1022)


async def test_auth_required_without_auth_is_a_typed_error(server: TestServer) -> None:
    factory = WebAssistantsFactory(AsyncThrottler(RATE_LIMITS))
    try:
        rest = await factory.get_rest_assistant()
        with pytest.raises(AuthNotConfiguredError):
            await rest.execute_request(url(server, "/api/v3/account"), is_auth_required=True)
        assert factory.throttler.used_weight("/api/v3/account") == 0  # refused before consuming capacity
    finally:
        await factory.close()


async def test_form_body_processors_and_explicit_limit_id(server: TestServer, clock: SkipClock) -> None:
    seen: list[int] = []

    class AddHeader(RESTPreProcessorBase):
        async def pre_process(self, request: RESTRequest) -> RESTRequest:
            return dataclasses.replace(request, headers={**(request.headers or {}), "X-Custom": "yes"})

    class RecordStatus(RESTPostProcessorBase):
        async def post_process(self, response: RESTResponse) -> RESTResponse:
            seen.append(response.status)
            return response

    throttler = AsyncThrottler(RATE_LIMITS, clock=clock)
    factory = WebAssistantsFactory(
        throttler, rest_pre_processors=[AddHeader()], rest_post_processors=[RecordStatus()]
    )
    try:
        rest = await factory.get_rest_assistant()
        answer = await rest.execute_request(
            url(server, "/api/v3/order"), method=RESTMethod.POST,
            data={"symbol": "BTCUSDT", "quantity": Decimal("1E-8"), "price": Decimal("30000.10"),
                  "test": True},
            throttler_limit_id="ORDERS",
        )
        with pytest.raises(ExchangeRequestError):
            await rest.execute_request(url(server, "/api/v3/unavailable"))
    finally:
        await factory.close()
    assert answer == {"body": "symbol=BTCUSDT&quantity=0.00000001&price=30000.10&test=true",
                      "content_type": "application/x-www-form-urlencoded", "query": "", "custom": "yes"}
    assert seen == [200, 503]  # post-processors see error answers too
    assert throttler.used_weight("ORDERS") == 1 and throttler.used_weight("/api/v3/order") == 0


async def test_http_errors_are_typed_with_exchange_code_and_message(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    rest = await factory.get_rest_assistant()
    with pytest.raises(ExchangeRequestError) as info:
        await rest.execute_request(
            url(server, "/api/v3/account"), params={"symbol": "NOPE"}, is_auth_required=True
        )
    error = info.value
    assert (error.status, error.code, error.message, error.method) == (400, -1121, "Invalid symbol.", "GET")
    assert not error.is_server_error and not isinstance(error, RateLimitedError)
    assert error.url == url(server, "/api/v3/account") + "?symbol=NOPE&timestamp=1700000000000"

    with pytest.raises(ExchangeRequestError) as info:
        await rest.execute_request(url(server, "/api/v3/unavailable"))
    assert (info.value.status, info.value.code, info.value.message) == (503, None, "Service Unavailable.")
    assert info.value.is_server_error

    with pytest.raises(ResponseDecodeError):
        await rest.execute_request(url(server, "/api/v3/maintenance"))


async def test_request_timeout_is_typed(server: TestServer, factory: WebAssistantsFactory) -> None:
    rest = await factory.get_rest_assistant()
    with pytest.raises(RequestTimeoutError) as info:
        await rest.execute_request(url(server, "/api/v3/slow"), request_timeout=0.05)
    assert info.value.timeout == 0.05 and "/api/v3/slow" in str(info.value)
    assert isinstance(info.value, TimeoutError)


async def test_connection_errors_are_typed(factory: WebAssistantsFactory) -> None:
    rest = await factory.get_rest_assistant()
    with socket.socket() as probe:  # a port that was just free: connecting to it is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ExchangeConnectionError) as info:
        await rest.execute_request(f"http://127.0.0.1:{port}/api/v3/account", params={"symbol": "BTCUSDT"},
                                   is_auth_required=True, throttler_limit_id="/api/v3/account")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "signature" not in str(info.value) and SECRET not in str(info.value)


async def test_unknown_limit_id_is_refused_before_sending(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    rest = await factory.get_rest_assistant()
    with pytest.raises(UnknownRateLimitIdError):
        await rest.execute_request(url(server, "/api/v3/ticker/price"), throttler_limit_id="nope")


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limited_answer_pauses_every_request_for_retry_after(
    server: TestServer, factory: WebAssistantsFactory, clock: SkipClock, status: int
) -> None:
    rest = await factory.get_rest_assistant()
    with pytest.raises(RateLimitedError) as info:
        await rest.execute_request(
            url(server, "/api/v3/limited"), params={"retry_after": "7", "status": status}
        )
    assert (info.value.status, info.value.code, info.value.retry_after) == (status, -1003, 7.0)
    assert factory.throttler.pause_remaining() == 7.0
    assert clock.sleeps == []
    # The next request, to another endpoint, waits out the pause before it is sent.
    await rest.execute_request(url(server, "/api/v3/ticker/price"), params={"symbol": "BTCUSDT"})
    assert clock.sleeps == [7.0]
    assert clock.now == 7.0
    assert server.app[HITS][-1] == "/api/v3/ticker/price?symbol=BTCUSDT"


async def test_rate_limited_without_retry_after_backs_off_exponentially(
    server: TestServer, factory: WebAssistantsFactory, clock: SkipClock
) -> None:
    rest = await factory.get_rest_assistant()
    for _ in range(2):
        with pytest.raises(RateLimitedError) as info:
            await rest.execute_request(url(server, "/api/v3/limited"))
        assert info.value.retry_after is None
    # First 429: 1 s pause; the second request waited it out, was limited again: 2 s.
    assert clock.sleeps == [1.0]
    assert factory.throttler.pause_remaining() == 2.0
    await rest.execute_request(url(server, "/api/v3/ticker/price"))
    assert clock.sleeps == [1.0, 2.0]
    # An accepted request resets the backoff.
    with pytest.raises(RateLimitedError):
        await rest.execute_request(url(server, "/api/v3/limited"))
    assert factory.throttler.pause_remaining() == 1.0


async def test_no_secret_in_errors_reprs_or_logs(
    server: TestServer, factory: WebAssistantsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rest = await factory.get_rest_assistant()
    errors: list[BaseException] = []
    await rest.execute_request(
        url(server, "/api/v3/account"), params={"symbol": "BTCUSDT"}, is_auth_required=True
    )
    for symbol in ("NOPE", "ECHO"):
        with pytest.raises(ExchangeRequestError) as info:
            await rest.execute_request(url(server, "/api/v3/account"), params={"symbol": symbol},
                                       is_auth_required=True)
        errors.append(info.value)
    with pytest.raises(RequestTimeoutError) as timeout_info:
        await rest.execute_request(
            url(server, "/api/v3/slow"), params={"apiKey": API_KEY, "signature": "f00d" * 16},
            request_timeout=0.05,
        )
    errors.append(timeout_info.value)
    signatures = server.app[SIGNATURES]
    assert len(signatures) == 3 and all(len(s) == 64 for s in signatures)
    texts = [caplog.text, repr(factory.auth)] + [f"{e} {e!r} {e.args}" for e in errors]
    assert "GET" in caplog.text and "/api/v3/account?symbol=BTCUSDT" in caplog.text  # something was logged
    for text in texts:
        for secret in (API_KEY, SECRET, "f00d" * 16, *signatures):
            assert secret not in text
    assert "Invalid API-key ***, IP, or permissions." in str(errors[1])


async def test_secrets_in_headers_bodies_and_listen_keys_stay_out_of_errors(
    server: TestServer, factory: WebAssistantsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rest = await factory.get_rest_assistant()
    listen_key = "pqjdkB7xw9R1v2UHFPSmYQuhrzZwXXf3n5fM2Jx0cVaA8ICdq6hCLrtBLYUt"
    with pytest.raises(ExchangeRequestError) as put_info:
        await rest.execute_request(url(server, "/api/v3/userDataStream"), method=RESTMethod.PUT,
                                   params={"listenKey": listen_key}, headers={"X-MBX-APIKEY": API_KEY})
    body_signature = "be" * 32
    with pytest.raises(ExchangeRequestError) as post_info:
        await rest.execute_request(
            url(server, "/api/v3/rejected"), method=RESTMethod.POST, headers={"X-MBX-APIKEY": API_KEY},
            data={"symbol": "BTCUSDT", "apiKey": API_KEY, "secretKey": SECRET, "signature": body_signature},
        )
    assert put_info.value.url == url(server, "/api/v3/userDataStream")
    assert (put_info.value.code, post_info.value.code) == (-1125, -1125)
    errors = (put_info.value, post_info.value)
    texts = [caplog.text] + [f"{e} {e!r} {e.args} {e.__reduce__()}" for e in errors]
    for text in texts:
        for secret in (listen_key, API_KEY, SECRET, body_signature):
            assert secret not in text


def test_error_parser_and_retry_after_parsing() -> None:
    assert parse_code_msg_error(b'{"code": -1121, "msg": "Invalid symbol."}') == (-1121, "Invalid symbol.")
    assert parse_code_msg_error(b'{"code": "50001", "message": "busy"}') == ("50001", "busy")
    assert parse_code_msg_error(b"Bad Gateway") == (None, "Bad Gateway")
    assert parse_code_msg_error(b"") == (None, None)
    assert parse_code_msg_error(b"[1, 2]") == (None, "[1, 2]")
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=lambda: 1445412480.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412500.0) == 0.0


async def test_factory_owns_one_session_and_reopens_after_close(factory: WebAssistantsFactory) -> None:
    assert not factory.session_open
    first = await factory.get_rest_assistant()
    assert factory.session_open and await factory.get_rest_assistant() is first
    ws_a, ws_b = await factory.get_ws_assistant(), await factory.get_ws_assistant()
    assert ws_a is not ws_b
    await factory.close()
    await factory.close()  # idempotent
    assert not factory.session_open
    assert await factory.get_rest_assistant() is not first
    assert factory.session_open


async def test_signed_requests_do_not_show_credentials_in_their_repr() -> None:
    """A signed request carries the API key header and the signature (a traceback or a debug log
    could print it); its repr masks every header value and every secret-named parameter."""
    auth = HmacAuth(API_KEY, SECRET)
    request = RESTRequest(
        RESTMethod.POST, "https://api.x.test/api/v3/order", params={"symbol": "BTCUSDT"},
        data={"quantity": "1", "apiKey": API_KEY}, is_auth_required=True,
    )
    signed = await auth.rest_authenticate(request)
    assert signed.params is not None and signed.headers is not None
    signature = signed.params["signature"]
    raw_body = RESTRequest(RESTMethod.POST, "https://api.x.test/x", data=f"signature={signature}")
    message = await WsAuth().ws_authenticate(WSJSONRequest(
        {"id": 1, "method": "order.place", "params": {"symbol": "BTCUSDT"}}, is_auth_required=True
    ))
    for text in (repr(signed), str(signed), repr(raw_body), repr(message)):
        for secret in (API_KEY, SECRET, signature):
            assert secret not in text, text
    assert "symbol" in repr(signed) and "BTCUSDT" in repr(signed)  # what is not secret stays readable
    assert "X-MBX-APIKEY" in repr(signed) and "order.place" in repr(message)
    assert signed == dataclasses.replace(signed)  # masking the repr does not change equality


class WsAuth(AuthBase):
    """Binance WS-API style: apiKey and signature inside the message's params."""

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        return request

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        params = {**request.payload["params"], "apiKey": API_KEY, "timestamp": 1}
        params["signature"] = sign(SECRET, encode_query(params))
        return dataclasses.replace(request, payload={**request.payload, "params": params})

    def secret_values(self) -> tuple[str, ...]:
        return (API_KEY, SECRET)


async def test_redirects_are_not_followed_so_credentials_never_reach_another_host(
    server: TestServer, factory: WebAssistantsFactory
) -> None:
    """aiohttp follows redirects by default and would resend the API key header (and the signed
    query) to wherever a 3xx points. An exchange API never redirects: a 3xx is an error."""
    stolen: list[dict[str, str]] = []

    async def steal(request: web.Request) -> web.Response:
        stolen.append(dict(request.headers))
        return _json({"ok": True})

    elsewhere = web.Application()
    elsewhere.router.add_get("/steal", steal)
    other = TestServer(elsewhere, host="127.0.0.1", port=0)
    await other.start_server(access_log=None)
    try:
        server.app[REDIRECT_TO].append(str(other.make_url("/steal")))
        rest = await factory.get_rest_assistant()
        with pytest.raises(ExchangeRequestError) as info:
            await rest.execute_request(url(server, "/api/v3/moved"), is_auth_required=True,
                                       throttler_limit_id="/api/v3/account")
    finally:
        await other.close()
    assert info.value.status == 302
    assert stolen == []
