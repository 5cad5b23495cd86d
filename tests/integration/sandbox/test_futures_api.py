"""End-to-end: raw aiohttp requests and WebSockets against the in-process sandbox's USD-M futures API.

Everything runs on 127.0.0.1 with ephemeral ports; the funding interval is shrunk so funding is paid
within a fraction of a second. Answers are compared with the documentation examples in
tests/fixtures/binance_futures (same keys and JSON types).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal as D
from decimal import InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from yarl import URL

from connectorkit.sandbox import Sandbox, SandboxConfig
from connectorkit.sandbox.venues.binance.futures import FuturesMarket
from connectorkit.sandbox.venues.binance.futures.funding import EIGHT_HOURS_MS
from support.clocks import HeldSandboxClock
from support.waiting import assert_nothing_queued, subscribed, wait_until

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "binance_futures"
# Fields the docs' examples carry only for trailing-stop orders (REST order / ORDER_TRADE_UPDATE).
TRAILING_ONLY = frozenset({"activatePrice", "priceRate"})
TRAILING_ONLY_EVENT = frozenset({"AP", "cr"})
FUNDING_MS = 300
RATE = D("0.001")


def doc_example(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["example"]


def _is_decimal(text: str) -> bool:
    try:
        D(text)
    except InvalidOperation:
        return False
    return True


def assert_same_shape(ours: Any, doc: Any, path: str = "$", ignore: frozenset[str] = TRAILING_ONLY) -> None:
    """Same keys (minus ``ignore``), same JSON types, decimal strings where the docs have them."""
    if isinstance(doc, dict):
        assert isinstance(ours, dict), path
        assert set(ours) == set(doc) - ignore, f"{path}: {set(ours) ^ (set(doc) - ignore)}"
        for key in ours:
            assert_same_shape(ours[key], doc[key], f"{path}.{key}", ignore)
    elif isinstance(doc, list):
        assert isinstance(ours, list), path
        for item in ours:
            assert_same_shape(item, doc[0], f"{path}[]", ignore)
    else:
        assert type(ours) is type(doc), f"{path}: {ours!r} vs {doc!r}"
        if isinstance(doc, str) and _is_decimal(doc):
            assert _is_decimal(ours), f"{path}: {ours!r}"


class Client:
    """A bare signed client: HMAC-SHA256 over the exact query string, key in X-MBX-APIKEY."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str, secret: str) -> None:
        self.session, self.base, self.key, self.secret = session, base, key, secret

    async def signed(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        params.setdefault("timestamp", int(time.time() * 1000))
        query = urlencode(params)
        sig = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        # encoded=True: send the query byte for byte as signed (yarl would re-quote e.g. %21 to !)
        url = URL(f"{self.base}{path}?{query}&signature={sig}", encoded=True)
        async with self.session.request(method, url, headers={"X-MBX-APIKEY": self.key}) as resp:
            return resp.status, await resp.json()

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        status, body = await self.signed(method, path, **params)
        assert status == 200, body
        return body

    async def error(self, method: str, path: str, **params: Any) -> int:
        status, body = await self.signed(method, path, **params)
        assert status == 400, body
        return int(body["code"])

    async def keyed(self, method: str, path: str) -> Any:
        async with self.session.request(method, self.base + path, headers={"X-MBX-APIKEY": self.key}) as r:
            assert r.status == 200, await r.text()
            return await r.json()


def make_sandbox(funding_interval_ms: int = EIGHT_HOURS_MS) -> Sandbox:
    markets = [
        FuturesMarket("BTCUSDT", "BTC", funding_interval_ms=funding_interval_ms, funding_rate=RATE),
        FuturesMarket("ETHUSDT", "ETH", tick_size=D("0.01"), min_price=D("0.01"), mid=D(2000)),
    ]
    config = SandboxConfig(listen_key_sweep_s=0.05, ws_heartbeat_s=5.0)
    return Sandbox(seed=7, markets=[], futures_markets=markets, simulate=False, config=config)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """Funding every 8 h as on Binance, so balances only move by the test's own trades."""
    async with make_sandbox() as sb:
        yield sb


@pytest.fixture
async def fast_funding_sandbox() -> AsyncIterator[Sandbox]:
    """Funding every FUNDING_MS (the accelerated schedule)."""
    async with make_sandbox(FUNDING_MS) as sb:
        yield sb


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client(sb: Sandbox, session: aiohttp.ClientSession, usdt: str = "100000") -> Client:
    key, secret = sb.create_account({}, futures_balances={"USDT": D(usdt)})
    return Client(session, sb.futures_rest_url, key, secret)


async def next_event(
    ws: aiohttp.ClientWebSocketResponse, pred: Callable[[dict[str, Any]], bool], within_s: float = 3.0
) -> dict[str, Any]:
    async def scan() -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if pred(data):
                return data  # type: ignore[no-any-return]

    return await asyncio.wait_for(scan(), within_s)


async def private_connections(sandbox: Sandbox, count: int) -> None:
    """Wait until ``count`` private (listen-key) connections are registered with their event sinks."""
    await wait_until(lambda: sandbox.futures.private.open_connections >= count, 5, f"{count} private sockets")


async def limit(c: Client, side: str, qty: str, price: str, **extra: Any) -> Any:
    return await c.ok(
        "POST",
        "/fapi/v1/order",
        symbol="BTCUSDT",
        side=side,
        type="LIMIT",
        timeInForce="GTC",
        quantity=qty,
        price=price,
        **extra,
    )


async def market(c: Client, side: str, qty: str, **extra: Any) -> Any:
    return await c.ok(
        "POST",
        "/fapi/v1/order",
        symbol="BTCUSDT",
        side=side,
        type="MARKET",
        quantity=qty,
        newOrderRespType="RESULT",
        **extra,
    )


async def position(c: Client, side: str = "BOTH") -> dict[str, Any]:
    rows = await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")
    return next(r for r in rows if r["positionSide"] == side)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------
async def test_public_market_data_endpoints(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    base = sandbox.futures_rest_url
    async with session.get(base + "/fapi/v1/ping") as r:
        assert r.status == 200 and await r.json() == {}
        assert r.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    async with session.get(base + "/fapi/v1/time") as r:
        assert abs((await r.json())["serverTime"] - time.time() * 1000) < 5000
    async with session.get(base + "/fapi/v1/exchangeInfo") as r:
        info = await r.json()
    assert {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    assert {(x["rateLimitType"], x["limit"]) for x in info["rateLimits"]} == {
        ("REQUEST_WEIGHT", 2400),
        ("ORDERS", 1200),
        ("ORDERS", 300),
    }
    async with session.get(base + "/fapi/v1/premiumIndex?symbol=BTCUSDT") as r:
        prem = await r.json()
    assert_same_shape(prem, doc_example("market_rest_mark_price"))
    assert prem["lastFundingRate"] == "0.001"
    assert prem["nextFundingTime"] % EIGHT_HOURS_MS == 0  # 00:00, 08:00, 16:00 UTC
    async with session.get(base + "/fapi/v1/premiumIndex") as r:
        assert [p["symbol"] for p in await r.json()] == ["BTCUSDT", "ETHUSDT"]
        assert r.headers["X-MBX-USED-WEIGHT-1M"] == str(1 + 1 + 1 + 1 + 10)
    async with session.get(base + "/fapi/v1/depth?symbol=BTCUSDT&limit=7") as r:
        assert r.status == 400 and (await r.json())["code"] == -4021
    c = client(sandbox, session)
    await limit(c, "BUY", "0.010", "29990.0")
    async with session.get(base + "/fapi/v1/depth?symbol=BTCUSDT&limit=5") as r:
        depth = await r.json()
    assert_same_shape(depth, doc_example("market_rest_order_book"))
    assert depth["bids"] == [["29990.0", "0.010"]] and depth["asks"] == []
    assert depth["lastUpdateId"] >= 1


async def test_security_errors(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c = client(sandbox, session)
    bad = Client(session, c.base, c.key, "0" * 64)
    assert await bad.error("GET", "/fapi/v2/balance") == -1022
    assert await c.error("GET", "/fapi/v2/balance", timestamp=int(time.time() * 1000) - 120_000) == -1021
    async with session.get(c.base + "/fapi/v2/balance?timestamp=1") as r:
        assert r.status in (400, 401)
        assert (await r.json())["code"] in (-2014, -2015, -1102)
    stranger = Client(session, c.base, "x" * 64, c.secret)
    status, body = await stranger.signed("GET", "/fapi/v2/balance")
    assert status == 401 and body["code"] == -2015


async def test_one_way_open_close_realized_pnl_income_and_trades(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    maker, taker = client(sandbox, session), client(sandbox, session)
    placed = await limit(maker, "SELL", "0.100", "30000.0", newClientOrderId="mk-1")
    assert_same_shape(placed, doc_example("trade_rest_new_order"))
    assert (placed["status"], placed["clientOrderId"], placed["positionSide"]) == ("NEW", "mk-1", "BOTH")
    opened = await market(taker, "BUY", "0.100")
    assert (opened["status"], opened["executedQty"], opened["avgPrice"]) == (
        "FILLED",
        "0.100",
        "30000.00000000",
    )
    long_pos, short_pos = await position(taker), await position(maker)
    assert (long_pos["positionAmt"], long_pos["entryPrice"]) == ("0.100", "30000.00000000")
    assert short_pos["positionAmt"] == "-0.100"
    assert_same_shape([long_pos], doc_example("trade_rest_position_information_v2"))
    query = await maker.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="mk-1")
    # "Query Order" rows carry the same fields as "Current All Open Orders" rows (whose example is newer).
    assert_same_shape(query, doc_example("trade_rest_current_all_open_orders")[0])
    assert query["status"] == "FILLED"
    # close at a higher price: the long gains 0.1 * 100 = 10 USDT
    await limit(maker, "BUY", "0.100", "30100.0")
    closed = await market(taker, "SELL", "0.100", reduceOnly="true")
    assert closed["status"] == "FILLED" and closed["reduceOnly"] is True
    flat = await position(taker)
    assert (flat["positionAmt"], flat["entryPrice"], flat["unRealizedProfit"]) == (
        "0.000",
        "0.00000000",
        "0.00000000",
    )
    trades = await taker.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT")
    assert_same_shape(trades, doc_example("trade_rest_account_trade_list"))
    assert [(t["side"], t["realizedPnl"], t["maker"]) for t in trades] == [
        ("BUY", "0.00000000", False),
        ("SELL", "10.00000000", False),
    ]
    assert [t["commission"] for t in trades] == ["1.50000000", "1.50500000"]  # taker 0.05 %
    maker_trades = await maker.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT")
    assert [t["commission"] for t in maker_trades] == ["0.60000000", "0.60200000"]  # maker 0.02 %
    income = await taker.ok("GET", "/fapi/v1/income", symbol="BTCUSDT")
    assert_same_shape(income, doc_example("account_rest_get_income_history"))
    kinds = [(r["incomeType"], r["income"]) for r in income]
    assert kinds == [
        ("COMMISSION", "-1.50000000"),
        ("REALIZED_PNL", "10.00000000"),
        ("COMMISSION", "-1.50500000"),
    ]
    only_pnl = await taker.ok("GET", "/fapi/v1/income", incomeType="REALIZED_PNL")
    assert [r["income"] for r in only_pnl] == ["10.00000000"]
    balance = await taker.ok("GET", "/fapi/v2/balance")
    assert_same_shape(balance, doc_example("account_rest_futures_account_balance_v2"))
    assert balance[0]["balance"] == "100006.99500000"  # 100000 + 10 - 1.5 - 1.505
    account = await taker.ok("GET", "/fapi/v2/account")
    assert_same_shape(account, doc_example("account_rest_account_information_v2"))
    assert account["totalWalletBalance"] == "100006.99500000"


async def test_orders_open_cancel_and_validation_errors(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c = client(sandbox, session)
    a = await limit(c, "BUY", "0.010", "29000.0", newClientOrderId="a")
    await limit(c, "BUY", "0.020", "28000.0")
    opened = await c.ok("GET", "/fapi/v1/openOrders", symbol="BTCUSDT")
    assert_same_shape(opened, doc_example("trade_rest_current_all_open_orders"))
    assert [o["price"] for o in opened] == ["29000.0", "28000.0"]
    canceled = await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=a["orderId"])
    assert canceled["status"] == "CANCELED"
    assert await c.error("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=a["orderId"]) == -2011
    assert await c.error("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=999_999) == -2013
    done = await c.ok("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
    assert done == doc_example("trade_rest_cancel_all_open_orders")
    assert await c.ok("GET", "/fapi/v1/openOrders") == []
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    expect = [
        ({"quantity": "0.010", "price": "29000.05"}, -4014),  # tick 0.10
        ({"quantity": "0.0105", "price": "29000.0"}, -1111),  # quantityPrecision 3
        ({"quantity": "0.000", "price": "29000.0"}, -4003),  # zero
        ({"quantity": "0.010", "price": "29000.001"}, -1111),  # pricePrecision 2
        ({"quantity": "0.001", "price": "100.0"}, -4164),  # notional 0.1 < 5
        ({"quantity": "0.010", "price": "29000.0", "symbol": "NOPEUSDT"}, -1121),
        ({"quantity": "0.010", "price": "29000.0", "side": "UP"}, -1117),
        ({"quantity": "0.010", "price": "29000.0", "type": "STOP"}, -4120),
        ({"quantity": "0.010", "price": "29000.0", "timeInForce": "DAY"}, -1115),
        ({"quantity": "0.010", "price": "29000.0", "positionSide": "LONG"}, -4061),
        ({"quantity": "0.010", "price": "29000.0", "newClientOrderId": "bad id!"}, -4015),
        ({"quantity": "0.010"}, -1102),
    ]
    for params, code in expect:
        assert await c.error("POST", "/fapi/v1/order", **(order | params)) == code, params
    await limit(c, "BUY", "0.010", "29000.0", newClientOrderId="dup")
    assert (
        await c.error(
            "POST", "/fapi/v1/order", **order, quantity="0.01", price="29000.0", newClientOrderId="dup"
        )
        == -4116
    )
    # post-only that would take, FOK that cannot fill
    other = client(sandbox, session)
    await limit(other, "SELL", "0.010", "29500.0")
    assert (
        await c.error(
            "POST", "/fapi/v1/order", **order | {"timeInForce": "GTX"}, quantity="0.010", price="29600.0"
        )
        == -5022
    )
    assert (
        await c.error(
            "POST", "/fapi/v1/order", **order | {"timeInForce": "FOK"}, quantity="0.020", price="29600.0"
        )
        == -5021
    )
    ioc = await c.ok(
        "POST",
        "/fapi/v1/order",
        **order | {"timeInForce": "IOC"},
        quantity="0.020",
        price="29600.0",
        newOrderRespType="RESULT",
    )
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.010")


async def test_leverage_and_margin(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    poor = client(sandbox, session, usdt="100")
    resp = await poor.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=10)
    assert_same_shape(resp, doc_example("trade_rest_change_initial_leverage"))
    assert resp["leverage"] == 10
    assert await poor.error("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=0) == -4028
    assert await poor.error("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=126) == -4028
    # 10x: 100 USDT carries at most 1000 USDT of notional
    await limit(poor, "BUY", "0.033", "30000.0")  # 990 notional, 99 margin
    assert (
        await poor.error(
            "POST",
            "/fapi/v1/order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="30000.0",
        )
        == -2019
    )
    risk = await position(poor)
    assert risk["leverage"] == "10"
    account = await poor.ok("GET", "/fapi/v2/account")
    assert account["totalOpenOrderInitialMargin"] == "99.00000000"
    assert account["availableBalance"] == "1.00000000"


async def test_reduce_only_and_hedge_mode(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    assert (
        await c.error(
            "POST",
            "/fapi/v1/order",
            symbol="BTCUSDT",
            side="SELL",
            type="MARKET",
            quantity="0.010",
            reduceOnly="true",
        )
        == -2022
    )
    assert await c.ok("GET", "/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    assert await c.error("POST", "/fapi/v1/positionSide/dual", dualSidePosition="false") == -4059
    resting = await limit(c, "BUY", "0.010", "20000.0")
    assert await c.error("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true") == -4067
    await c.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=resting["orderId"])
    await limit(lp, "SELL", "0.010", "30000.0")
    await market(c, "BUY", "0.010")
    assert await c.error("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true") == -4068
    await limit(lp, "BUY", "0.010", "30000.0")
    await market(c, "SELL", "0.010", reduceOnly="true")
    changed = await c.ok("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    assert changed == doc_example("trade_rest_change_position_mode")
    assert await c.ok("GET", "/fapi/v1/positionSide/dual") == doc_example(
        "account_rest_get_current_position_mode"
    )
    base = {"symbol": "BTCUSDT", "type": "MARKET", "quantity": "0.010"}
    assert await c.error("POST", "/fapi/v1/order", **base, side="BUY") == -4061  # positionSide required
    assert await c.error("POST", "/fapi/v1/order", **base, side="BUY", positionSide="BOTH") == -4061
    assert (
        await c.error("POST", "/fapi/v1/order", **base, side="BUY", positionSide="LONG", reduceOnly="true")
        == -1106
    )
    # a long and a short side by side
    await limit(lp, "SELL", "0.020", "30000.0")
    await limit(lp, "BUY", "0.030", "29900.0")
    await market(c, "BUY", "0.020", positionSide="LONG")
    await market(c, "SELL", "0.030", positionSide="SHORT")
    rows = await c.ok("GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")
    assert {r["positionSide"]: r["positionAmt"] for r in rows} == {"LONG": "0.020", "SHORT": "-0.030"}
    # closing more than the LONG side holds is refused
    assert (
        await c.error(
            "POST", "/fapi/v1/order", **base | {"quantity": "0.021"}, side="SELL", positionSide="LONG"
        )
        == -2022
    )


async def test_user_data_stream_events(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    created = await c.keyed("POST", "/fapi/v1/listenKey")
    assert_same_shape(created, doc_example("uds_start_user_data_stream"))
    key = created["listenKey"]
    assert await c.keyed("POST", "/fapi/v1/listenKey") == created  # same active key
    async with session.ws_connect(f"{sandbox.futures_ws_url}/ws/{key}") as ws:
        await limit(lp, "SELL", "0.050", "30000.0")
        await market(c, "BUY", "0.050")
        seen: list[dict[str, Any]] = []

        def is_trade(e: dict[str, Any]) -> bool:
            seen.append(e)
            return e.get("e") == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE"

        trade = await next_event(ws, is_trade)
        new = next(e for e in seen if e.get("e") == "ORDER_TRADE_UPDATE")
        assert_same_shape(new, doc_example("uds_event_order_update"), ignore=TRAILING_ONLY_EVENT)
        assert (new["o"]["x"], new["o"]["X"], new["o"]["o"], new["o"]["S"]) == ("NEW", "NEW", "MARKET", "BUY")
        o = trade["o"]
        assert (o["X"], o["l"], o["L"], o["m"], o["n"], o["N"]) == (
            "FILLED",
            "0.050",
            "30000.0",
            False,
            "0.75000000",
            "USDT",
        )
        # the position/balance change of the fill comes with it, reason ORDER
        acct = next(e for e in seen if e.get("e") == "ACCOUNT_UPDATE" and e["a"]["m"] == "ORDER")
        assert_same_shape(acct, doc_example("uds_event_balance_and_position_update"))
        assert acct["a"]["P"][0]["pa"] == "0.050" and acct["a"]["P"][0]["ps"] == "BOTH"
        assert acct["a"]["B"][0]["wb"] == "99999.25000000"
        assert await c.keyed("PUT", "/fapi/v1/listenKey") == {"listenKey": key}
        sandbox.faults.expire_listen_key(key)
        expired = await next_event(ws, lambda e: e.get("e") == "listenKeyExpired")
        assert_same_shape(expired, doc_example("uds_event_user_data_stream_expired"))
        assert expired["listenKey"] == key
    # USDⓈ-M "Error Codes": -1125 INVALID_LISTEN_KEY, with the futures wording, whichever way it is hit.
    gone = "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`"
    status, body = await c.signed("PUT", "/fapi/v1/listenKey")
    assert (status, body) == (400, {"code": -1125, "msg": gone})
    for method in ("PUT", "DELETE"):
        status, body = await c.signed(method, "/fapi/v1/listenKey", listenKey=key)
        assert (status, body) == (400, {"code": -1125, "msg": gone}), method


async def test_funding_is_paid_within_seconds_and_booked_as_income(
    fast_funding_sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox = fast_funding_sandbox
    long_c, short_c = client(sandbox, session), client(sandbox, session)
    key = (await long_c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    async with session.ws_connect(f"{sandbox.futures_ws_url}/ws/{key}") as ws:
        await limit(short_c, "SELL", "0.100", "30000.0")
        await market(long_c, "BUY", "0.100")
        event = await next_event(
            ws, lambda e: e.get("e") == "ACCOUNT_UPDATE" and e["a"]["m"] == "FUNDING_FEE"
        )
    assert event["a"]["P"] == []
    paid = D(event["a"]["B"][0]["bc"])
    mark = sandbox.futures.exchange.marks["BTCUSDT"].mark_price
    assert paid < 0 and abs(paid) == D("0.1") * mark * RATE  # the long pays rate * notional
    assert event["T"] % FUNDING_MS == 0
    # close both sides against each other: no more funding after this
    await limit(short_c, "BUY", "0.100", "30000.0")
    await market(long_c, "SELL", "0.100", reduceOnly="true")
    long_income = await long_c.ok("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
    short_income = await short_c.ok("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
    assert long_income and len(long_income) == len(short_income)
    assert D(long_income[0]["income"]) == paid
    assert sum(D(r["income"]) for r in long_income + short_income) == 0  # zero-sum
    wallet = D((await long_c.ok("GET", "/fapi/v2/balance"))[0]["balance"])
    all_income = await long_c.ok("GET", "/fapi/v1/income", limit=1000)
    assert wallet == sum(D(r["income"]) for r in all_income)


async def test_market_streams_depth_sequence_trades_tickers_and_marks(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    streams = "btcusdt@depth@100ms/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@markPrice@1s"
    async with session.ws_connect(f"{sandbox.futures_ws_url}/stream?streams={streams}") as ws:
        await subscribed(sandbox.futures.hub, *streams.split("/"))
        await limit(lp, "SELL", "0.010", "30000.0")
        await limit(lp, "SELL", "0.010", "30000.0")
        ticker = await next_event(ws, lambda m: m["stream"] == "btcusdt@bookTicker")
        assert_same_shape(ticker["data"], doc_example("ws_market_individual_symbol_book_ticker_streams"))
        await market(c, "BUY", "0.015")
        agg = await next_event(ws, lambda m: m["stream"] == "btcusdt@aggTrade")
        assert_same_shape(agg["data"], doc_example("ws_market_aggregate_trade_streams"))
        assert (agg["data"]["q"], agg["data"]["p"], agg["data"]["m"]) == ("0.015", "30000.0", False)
        assert agg["data"]["l"] - agg["data"]["f"] == 1  # two fills against two resting orders
        first = await next_event(ws, lambda m: m["stream"] == "btcusdt@depth@100ms")
        assert_same_shape(first["data"], doc_example("ws_market_diff_book_depth_streams"))
        await limit(lp, "BUY", "0.010", "29000.0")
        chain = [first["data"]]

        def until_new_bid(m: dict[str, Any]) -> bool:
            if m["stream"] != "btcusdt@depth@100ms":
                return False
            chain.append(m["data"])
            return ["29000.0", "0.010"] in m["data"]["b"]

        second = await next_event(ws, until_new_bid)
        for prev, nxt in itertools.pairwise(chain):
            assert nxt["pu"] == prev["u"] and nxt["U"] == prev["u"] + 1
        sandbox.faults.skip_depth_updates("BTCUSDT", 1)
        await limit(lp, "BUY", "0.010", "28000.0")
        # the next depth push (the one carrying 28000) is the one the fault drops: wait for it to be
        # consumed, so that 27000 goes out in an event of its own
        def skip_taken() -> bool:
            taken = "skip_depth_updates" in sandbox.faults.kinds()
            return taken and not sandbox.futures._depth_skips["BTCUSDT"]

        await wait_until(skip_taken, 5, "the skipped depth update")
        await limit(lp, "BUY", "0.010", "27000.0")
        third = await next_event(ws, lambda m: m["stream"] == "btcusdt@depth@100ms")
        assert third["data"]["pu"] != second["data"]["u"]  # the gap a client must detect
        assert third["data"]["b"] == [["27000.0", "0.010"]]
        assert "skip_depth_updates" in sandbox.faults.kinds()
        mark = await next_event(ws, lambda m: m["stream"] == "btcusdt@markPrice@1s", within_s=3)
        assert_same_shape(mark["data"], doc_example("ws_market_mark_price_stream"))
        assert mark["data"]["r"] == "0.001"


async def test_state_survives_dump_and_load(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    await limit(lp, "SELL", "0.010", "30000.0")
    await market(c, "BUY", "0.010")
    await limit(c, "BUY", "0.020", "25000.0", newClientOrderId="rest")
    state = json.loads(json.dumps(sandbox.futures.dump_state()))
    before = sandbox.futures.exchange
    restored = Sandbox(markets=[], futures_markets=list(before.markets.values()), simulate=False)
    restored.futures.load_state(state)
    after = restored.futures.exchange
    aid = sandbox.account_id(c.key)
    assert after.account(aid).balance("USDT") == before.account(aid).balance("USDT")
    assert after.account(aid).income == before.account(aid).income
    assert after.account(aid).position("BTCUSDT", before.account(aid).position_sides()[0]).amount == D(
        "0.010"
    )
    [resting] = after.open_orders(aid, "BTCUSDT")
    assert (resting.client_order_id, resting.price) == ("rest", D("25000.0"))
    assert after.engine.book("BTCUSDT").best_bid() == (D("25000.0"), D("0.020"))
    assert after.account(aid).open_order_initial_margin("USDT") == D(25)  # 500 notional / 20x
    assert after.agg_ids["BTCUSDT"] == before.agg_ids["BTCUSDT"] == 1  # aggTrade ids go on, not restart


async def test_routed_public_and_market_endpoints(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    lp = client(sandbox, session)
    ws_base = sandbox.futures_ws_url
    both = "btcusdt@depth@100ms/btcusdt@markPrice@1s"
    async with (
        session.ws_connect(f"{ws_base}/public/stream?streams={both}") as public,
        session.ws_connect(f"{ws_base}/market/ws/btcusdt@markPrice@1s") as market_ws,
    ):
        await subscribed(sandbox.futures.public_hub, *both.split("/"))
        await subscribed(sandbox.futures.market_hub, "btcusdt@markPrice@1s")
        await limit(lp, "BUY", "0.010", "29000.0")
        depth = await next_event(public, lambda m: True)
        assert depth["stream"] == "btcusdt@depth@100ms"  # /public carries depth...
        mark = await next_event(market_ws, lambda m: True, within_s=3)
        assert mark["e"] == "markPriceUpdate"  # ...and /market the mark price (raw frames in ws mode)
        # that push went to every route carrying it at once; /public, though subscribed, got nothing
        await assert_nothing_queued(public)


async def test_routed_private_stream_with_event_filter(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    base = sandbox.futures_ws_url
    async with (
        session.ws_connect(f"{base}/private/ws?listenKey={key}&events=ACCOUNT_UPDATE") as only_account,
        session.ws_connect(f"{base}/private/stream?listenKey={key}&events=ORDER_TRADE_UPDATE") as combined,
        session.ws_connect(f"{base}/private/ws/{key}") as everything,
    ):
        await private_connections(sandbox, 3)
        await limit(lp, "SELL", "0.010", "30000.0")
        await market(c, "BUY", "0.010")
        account = await next_event(only_account, lambda e: True)
        assert account["e"] == "ACCOUNT_UPDATE"
        wrapped = await next_event(combined, lambda e: True)
        assert wrapped["stream"] == key and wrapped["data"]["e"] == "ORDER_TRADE_UPDATE"
        kinds = [(await next_event(everything, lambda e: True))["e"] for _ in range(3)]
        assert sorted(kinds) == ["ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE"]
        # The filter holds back order updates: a deposit's ACCOUNT_UPDATE, queued behind anything
        # else this socket was sent, is the next thing it reads.
        sandbox.futures.deposit(sandbox.account_id(c.key), "USDT", D(1))
        later = await next_event(only_account, lambda e: True)
        assert (later["e"], later["a"]["m"]) == ("ACCOUNT_UPDATE", "DEPOSIT")
        sandbox.faults.expire_listen_key(key)
        expired = await next_event(everything, lambda e: e.get("e") == "listenKeyExpired")
        assert expired["listenKey"] == key
        dropped = sandbox.faults.drop_websockets()
        assert dropped >= 3
        msg = await everything.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR)


async def test_futures_state_survives_a_clean_restart(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    state_file = tmp_path / "sandbox.sqlite"
    markets = [FuturesMarket("BTCUSDT", "BTC")]
    async with Sandbox(markets=[], futures_markets=markets, simulate=False, state_file=state_file) as sb:
        c, lp = client(sb, session), client(sb, session)
        await limit(lp, "SELL", "0.010", "30000.0")
        await market(c, "BUY", "0.010")
        await c.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=7)
        await limit(c, "BUY", "0.020", "25000.0", newClientOrderId="keep-me")
        key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
        before_income = await c.ok("GET", "/fapi/v1/income")
    async with Sandbox(markets=[], futures_markets=markets, simulate=False, state_file=state_file) as sb2:
        c2 = Client(session, sb2.futures_rest_url, c.key, c.secret)
        pos = await position(c2)
        assert (pos["positionAmt"], pos["entryPrice"], pos["leverage"]) == ("0.010", "30000.00000000", "7")
        [kept] = await c2.ok("GET", "/fapi/v1/openOrders", symbol="BTCUSDT")
        assert (kept["clientOrderId"], kept["price"], kept["status"]) == ("keep-me", "25000.0", "NEW")
        assert await c2.ok("GET", "/fapi/v1/income") == before_income
        assert await c2.keyed("PUT", "/fapi/v1/listenKey") == {"listenKey": key}
        # the restored book still trades: the kept bid fills
        lp2 = client(sb2, session)
        await market(lp2, "SELL", "0.020")
        assert (await position(c2))["positionAmt"] == "0.030"


async def test_v3_account_endpoints(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    assert await c.ok("GET", "/fapi/v3/positionRisk") == []  # nothing open yet
    await limit(lp, "SELL", "0.010", "30000.0")
    await market(c, "BUY", "0.010")
    rows = await c.ok("GET", "/fapi/v3/positionRisk")
    assert_same_shape(rows, doc_example("trade_rest_position_information_v3"))
    assert [(r["symbol"], r["positionAmt"], r["marginAsset"]) for r in rows] == [("BTCUSDT", "0.010", "USDT")]
    info = await c.ok("GET", "/fapi/v3/account")
    assert_same_shape(info, doc_example("account_rest_account_information_v3"))
    assert [p["symbol"] for p in info["positions"]] == ["BTCUSDT"]
    balance = await c.ok("GET", "/fapi/v3/balance")
    assert_same_shape(balance, doc_example("account_rest_futures_account_balance_v3"))
    # same rows as V2 (values may move between the two calls: BTCUSDT funds every 300 ms here)
    assert [b["asset"] for b in balance] == [b["asset"] for b in await c.ok("GET", "/fapi/v2/balance")]


async def test_slower_depth_streams_merge_changes_and_keep_the_pu_chain(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    lp = client(sandbox, session)
    streams = "btcusdt@depth/btcusdt@depth@500ms"
    async with session.ws_connect(f"{sandbox.futures_ws_url}/public/stream?streams={streams}") as ws:
        await subscribed(sandbox.futures.public_hub, *streams.split("/"))
        first = await limit(lp, "BUY", "0.010", "29000.0")
        await limit(lp, "BUY", "0.020", "29000.0")
        await lp.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=first["orderId"])
        await limit(lp, "SELL", "0.010", "31000.0")
        seen: dict[str, list[dict[str, Any]]] = {"btcusdt@depth": [], "btcusdt@depth@500ms": []}

        def collect(m: dict[str, Any]) -> bool:
            seen[m["stream"]].append(m["data"])
            return all(any(e["a"] for e in v) for v in seen.values())

        await next_event(ws, collect, within_s=3)
    for events in seen.values():
        # consecutive events chain: pu is the previous u, U follows it
        for prev, nxt in itertools.pairwise(events):
            assert nxt["pu"] == prev["u"] and nxt["U"] == prev["u"] + 1
        # four level changes in all; a level changed several times is sent once, with its last value
        assert events[-1]["u"] - events[0]["U"] == 3
        bids = {p: q for e in events for p, q in e["b"]}
        assert bids == {"29000.0": "0.020"}
        assert events[-1]["a"] == [["31000.0", "0.010"]]
    assert len(seen["btcusdt@depth@500ms"]) <= len(seen["btcusdt@depth"])


async def test_price_and_book_tickers(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    base = sandbox.futures_rest_url
    async with session.get(base + "/fapi/v1/ticker/price?symbol=BTCUSDT") as r:
        before = await r.json()
    assert_same_shape(before, doc_example("market_rest_symbol_price_ticker"))
    assert before["price"] == "30000"  # no trade yet: the mark price
    c, lp = client(sandbox, session), client(sandbox, session)
    await limit(lp, "SELL", "0.010", "30100.0")
    await limit(lp, "BUY", "0.020", "29900.0")
    await market(c, "BUY", "0.005")
    async with session.get(base + "/fapi/v2/ticker/price") as r:
        prices = await r.json()
        assert r.headers["X-MBX-USED-WEIGHT-1M"] == "3"
    assert [(p["symbol"], p["price"]) for p in prices] == [("BTCUSDT", "30100.0"), ("ETHUSDT", "2000")]
    async with session.get(base + "/fapi/v1/ticker/bookTicker?symbol=BTCUSDT") as r:
        book = await r.json()
    assert_same_shape(book, doc_example("market_rest_symbol_order_book_ticker"))
    assert (book["bidPrice"], book["bidQty"], book["askPrice"], book["askQty"]) == (
        "29900.0",
        "0.020",
        "30100.0",
        "0.005",
    )


async def test_request_weight_limit_429_then_418(
    sandbox: Sandbox, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sandbox.futures_rest_url + "/fapi/v1/depth?symbol=BTCUSDT&limit=1000"  # weight 20
    # the sandbox's clock held at the start of a minute: every request falls in one weight window
    HeldSandboxClock(sandbox.clock, monkeypatch, (int(time.time() * 1000) // 60_000 + 1) * 60_000)
    for n in range(1, 121):  # 120 * 20 = 2400, the documented REQUEST_WEIGHT per minute
        async with session.get(url) as r:
            assert r.status == 200
            assert r.headers["X-MBX-USED-WEIGHT-1M"] == str(20 * n)
    async with session.get(url) as r:
        assert r.status == 429
        assert int(r.headers["Retry-After"]) >= 1
        # USD-M "Error Codes" wording of -1003, not the spot one
        assert await r.json() == {
            "code": -1003,
            "msg": "Too many requests; current limit is 2400 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
        }
    answers = []
    for _ in range(4):
        async with session.get(url) as r:
            answers.append((r.status, await r.json()))
    status, body = answers[-1]
    assert status == 418  # banned after repeated violations
    assert body["code"] == -1003
    assert re.fullmatch(
        r"Way too many requests; IP banned until \d{13}\. "
        r"Please use the websocket for live updates to avoid bans\.",
        body["msg"],
    )


async def test_injected_faults_on_futures_rest(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    await limit(lp, "SELL", "0.010", "30000.0")
    sandbox.faults.unknown_status_next_orders(1)
    status, body = await c.signed(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010"
    )
    assert (status, body["code"]) == (503, -1007)
    assert (await position(c))["positionAmt"] == "0.010"  # the order was executed anyway
    sandbox.faults.force_429(1)
    status, body = await c.signed("GET", "/fapi/v2/balance")
    assert (status, body["code"]) == (429, -1003)
    assert body["msg"].startswith("Too many requests; current limit is 2400 requests per minute.")
    sandbox.faults.fail_next_requests(1, status=502)
    status, _ = await c.signed("GET", "/fapi/v2/balance")
    assert status == 502
    assert await c.ok("GET", "/fapi/v2/balance")  # and then it works again


async def test_duplicated_and_reordered_user_events(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    c = client(sandbox, session)
    key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    url = f"{sandbox.futures_ws_url}/private/ws?listenKey={key}&events=ORDER_TRADE_UPDATE"
    async with session.ws_connect(url) as ws:
        await private_connections(sandbox, 1)
        sandbox.faults.duplicate_user_events(1)
        first = await limit(c, "BUY", "0.010", "20000.0")
        a = await next_event(ws, lambda e: True)
        b = await next_event(ws, lambda e: True)
        assert a == b and a["o"]["i"] == first["orderId"]  # the same NEW event twice
        sandbox.faults.reorder_user_events(1)
        second = await limit(c, "BUY", "0.010", "20001.0")
        third = await limit(c, "BUY", "0.010", "20002.0")
        ids = [(await next_event(ws, lambda e: True))["o"]["i"] for _ in range(2)]
        assert ids == [third["orderId"], second["orderId"]]  # delivered out of order
    assert {"duplicate_user_event", "reorder_user_event"} <= set(sandbox.faults.kinds())  # logged


async def test_a_failing_tick_is_logged_counted_and_the_ticker_goes_on(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    product = sandbox.futures
    calls = 0
    ticked_again = asyncio.Event()
    real_refresh = product.exchange.refresh_marks

    def flaky_refresh() -> None:  # the first tick fails, the following ones work
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        real_refresh()
        if calls >= 3:
            ticked_again.set()

    product.exchange.refresh_marks = flaky_refresh
    await asyncio.wait_for(ticked_again.wait(), 2)
    assert product.tick_errors == 1
    assert "futures ticker: tick failed" in caplog.text


async def test_commission_rates_are_per_account_and_charged(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    rate = await c.ok("GET", "/fapi/v1/commissionRate", symbol="BTCUSDT")
    assert_same_shape(rate, doc_example("account_rest_user_commission_rate"))
    assert (rate["makerCommissionRate"], rate["takerCommissionRate"]) == ("0.0002", "0.0005")
    sandbox.futures.set_commission(sandbox.account_id(c.key), D("0.0001"), D("0.0003"))
    rate = await c.ok("GET", "/fapi/v1/commissionRate", symbol="BTCUSDT")
    assert (rate["makerCommissionRate"], rate["takerCommissionRate"]) == ("0.0001", "0.0003")
    await limit(lp, "SELL", "0.010", "30000.0")
    filled = await market(c, "BUY", "0.010")
    [trade] = await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT", orderId=filled["orderId"])
    assert trade["commission"] == "0.09000000"  # 300 * 0.0003


async def test_margin_call_then_liquidation_on_the_user_stream(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    poor, lp = client(sandbox, session, usdt="200"), client(sandbox, session)
    await poor.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=125)
    key = (await poor.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    async with session.ws_connect(f"{sandbox.futures_ws_url}/private/ws/{key}") as ws:
        await limit(lp, "SELL", "0.100", "30000.0")
        await market(poor, "BUY", "0.100")
        # the market moves: the mark (book mid) falls to 27005
        await limit(lp, "BUY", "0.010", "27000.0")
        await limit(lp, "SELL", "0.010", "27010.0")
        call = await next_event(ws, lambda e: e["e"] == "MARGIN_CALL")
        assert_same_shape(call, doc_example("uds_event_margin_call"))
        liquidated = await next_event(
            ws, lambda e: e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "CALCULATED"
        )
    assert (liquidated["o"]["o"], liquidated["o"]["X"], liquidated["o"]["L"]) == (
        "LIQUIDATION",
        "FILLED",
        "27005.0",
    )
    assert (await position(poor))["positionAmt"] == "0.000"
    income = await poor.ok("GET", "/fapi/v1/income", limit=1000)
    assert income[-1]["incomeType"] == "INSURANCE_CLEAR"
    assert (await poor.ok("GET", "/fapi/v2/balance"))[0]["balance"] == "0.00000000"


async def test_fills_lost_with_a_dropped_user_socket_are_in_query_order_and_user_trades(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """What a connector reconciles from after a reconnect: by the time ``POST /fapi/v1/order`` answers,
    ``GET /fapi/v1/order`` and ``GET /fapi/v1/userTrades?orderId=`` already hold the fill, with the
    trade id the lost ``ORDER_TRADE_UPDATE`` carried (``t`` = ``id``)."""
    c, lp = client(sandbox, session), client(sandbox, session)
    key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    async with session.ws_connect(f"{sandbox.futures_ws_url}/private/ws?listenKey={key}") as ws:
        await limit(lp, "SELL", "0.004", "30000.0")
        await limit(lp, "SELL", "0.006", "30000.5")
        assert sandbox.faults.drop_websockets() >= 1
        msg = await ws.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR)
        answer = await market(c, "BUY", "0.010", newClientOrderId="lost-1")
    assert (answer["status"], answer["executedQty"]) == ("FILLED", "0.010")
    queried = await c.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="lost-1")
    assert (queried["orderId"], queried["status"], queried["executedQty"]) == (
        answer["orderId"], "FILLED", "0.010"
    )
    trades = await c.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT", orderId=answer["orderId"])
    assert [(t["qty"], t["price"], t["maker"]) for t in trades] == [
        ("0.004", "30000.0", False),
        ("0.006", "30000.5", False),
    ]
    book = sandbox.futures.exchange.engine.book("BTCUSDT")
    assert [t["id"] for t in trades] == [book.next_trade_id - 2, book.next_trade_id - 1]
    assert sum(D(t["commission"]) for t in trades) == D("0.010") * D(answer["avgPrice"]) * D("0.0005")


async def test_a_private_client_that_stops_reading_is_dropped_not_queued_for_forever(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c = client(sandbox, session)
    key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    account_id = sandbox.account_id(c.key)
    private = sandbox.futures.private
    private.max_queued = 5
    async with session.ws_connect(f"{sandbox.futures_ws_url}/private/ws/{key}") as ws:
        await private_connections(sandbox, 1)
        # 20 events in one go: the writer gets no chance to send, so the 6th finds the queue full.
        for n in range(20):
            sandbox.futures.bus.push(account_id, {"e": "ACCOUNT_UPDATE", "E": n})
        assert private.slow_consumers_dropped == 1
        frames = []
        while (msg := await ws.receive(timeout=2)).type is aiohttp.WSMsgType.TEXT:
            frames.append(json.loads(msg.data)["E"])
    assert frames == list(range(len(frames))) and len(frames) <= 5
    await wait_for_no_private_connection(sandbox)


async def wait_for_no_private_connection(sandbox: Sandbox) -> None:
    await wait_until(lambda: not sandbox.futures.private.open_connections, 5, "the dropped connection to go")


async def test_pause_drop_after_n_and_clock_skew_faults_act_on_the_futures_paths(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    c, lp = client(sandbox, session), client(sandbox, session)
    key = (await c.keyed("POST", "/fapi/v1/listenKey"))["listenKey"]
    base = sandbox.futures_ws_url
    async with (
        session.ws_connect(f"{base}/private/ws?listenKey={key}") as private,
        session.ws_connect(f"{base}/market/ws/btcusdt@aggTrade") as trades,
    ):
        await private_connections(sandbox, 1)
        await subscribed(sandbox.futures.market_hub, "btcusdt@aggTrade")
        sandbox.faults.pause_stream(key)
        sandbox.faults.pause_stream("btcusdt@aggTrade")
        await limit(lp, "SELL", "0.020", "30000.0")
        await market(c, "BUY", "0.010")
        await assert_nothing_queued(trades)  # paused: that trade is lost
        sandbox.faults.resume_stream(key)
        sandbox.faults.resume_stream("btcusdt@aggTrade")
        after = await market(c, "BUY", "0.010")
        assert (await next_event(trades, lambda e: True))["q"] == "0.010"
        # the first order update on the private stream is the second order's: the first one's were lost
        first = await next_event(private, lambda e: e["e"] == "ORDER_TRADE_UPDATE")
        assert first["o"]["i"] == after["orderId"]
        sandbox.faults.drop_websockets(after_messages=1)
        await limit(c, "BUY", "0.010", "29000.0")  # NEW -> at least one more frame, then the drop
        closed = False
        for _ in range(10):
            msg = await private.receive(timeout=2)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                closed = True
                break
        assert closed
    sandbox.faults.clock_skew(-120_000)  # the server runs 2 min behind: our timestamps are "ahead"
    status, body = await c.signed("GET", "/fapi/v2/balance")
    assert (status, body["code"]) == (400, -1021)
    assert {"pause_stream", "drop_websockets", "clock_skew"} <= set(sandbox.faults.kinds())
