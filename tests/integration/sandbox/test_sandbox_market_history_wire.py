"""Every endpoint and stream added for general clients, against the docs' examples: same keys (in the
documented order where it matters), same JSON types, decimals as strings.

Fixtures: tests/fixtures/binance_spot (``<page>__<section>``) and tests/fixtures/binance_futures
(``{"doc", "example"}``), each the example printed in the Binance documentation section it names."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from sandbox_spot_support import Client, assert_same_key_order, assert_same_shape, fixture

from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.product import SandboxConfig

FUTURES_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "binance_futures"


def futures_example(name: str) -> Any:
    return json.loads((FUTURES_FIXTURES / f"{name}.json").read_text())["example"]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=21, config=config) as sb, aiohttp.ClientSession() as session:
        key, secret = sb.create_account({"USDT": Decimal(10000)}, futures_balances={"USDT": Decimal(10000)})
        c = Client(session, sb.rest_url, key, secret)
        c.sb = sb  # type: ignore[attr-defined]
        yield c


SPOT_REST = [
    (
        "/api/v3/klines",
        {"symbol": "BTCUSDT", "interval": "1m", "limit": 3},
        "kline_candlestick_data__response",
    ),
    ("/api/v3/uiKlines", {"symbol": "BTCUSDT", "interval": "1h", "limit": 3}, "uiklines__response"),
    ("/api/v3/trades", {"symbol": "BTCUSDT", "limit": 3}, "recent_trades_list__response"),
    ("/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 3}, "compressed_aggregate_trades_list__response"),
    ("/api/v3/avgPrice", {"symbol": "BTCUSDT"}, "current_average_price__response"),
    ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}, "24hr_ticker__response_full"),
    ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT", "type": "MINI"}, "24hr_ticker__response_mini"),
    ("/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "4h"}, "rolling_window_ticker__response_full"),
    ("/api/v3/ticker", {"symbol": "BTCUSDT", "type": "MINI"}, "rolling_window_ticker__response_mini"),
]


@pytest.mark.parametrize(("path", "params", "name"), SPOT_REST)
async def test_spot_market_data_matches_the_docs(
    client: Client, path: str, params: dict[str, Any], name: str
) -> None:
    body = await client.ok("GET", path, params)
    example = fixture(f"rest_api__market_data_endpoints__{name}")
    assert_same_shape(body, example)
    if isinstance(example, dict):
        assert_same_key_order(body, example)
        assert list(body) == list(example)
    else:
        assert len(body) == params.get("limit", len(body))
        if isinstance(example[0], list):
            assert all(len(row) == len(example[0]) for row in body)


async def test_spot_lists_and_all_symbols(client: Client) -> None:
    listed = await client.ok("GET", "/api/v3/ticker/24hr", {"symbols": '["ETHUSDT","BTCUSDT"]'})
    assert [t["symbol"] for t in listed] == ["ETHUSDT", "BTCUSDT"]
    every = await client.ok("GET", "/api/v3/ticker/24hr")
    assert {t["symbol"] for t in every} == {"BTCUSDT", "ETHUSDT"}
    status, body, headers = await client.request("GET", "/api/v3/ticker/24hr")
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == str(
        2 + 80 + 80
    )  # 2 for a short list, 80 for all
    status, body, _ = await client.request("GET", "/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "8d"})
    assert status == 400 and body["code"] == -1100
    status, body, _ = await client.request("GET", "/api/v3/ticker")
    assert status == 400 and body["code"] == -1102
    aggs = await client.ok("GET", "/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 5})
    page = await client.ok(
        "GET", "/api/v3/aggTrades", {"symbol": "BTCUSDT", "fromId": aggs[1]["a"], "limit": 2}
    )
    assert [a["a"] for a in page] == [aggs[1]["a"], aggs[2]["a"]]
    window = await client.ok(
        "GET", "/api/v3/aggTrades", {"symbol": "BTCUSDT", "startTime": aggs[0]["T"], "endTime": aggs[2]["T"]}
    )
    assert [a["a"] for a in window][:3] == [a["a"] for a in aggs[:3]]
    for interval in ("1s", "3m", "5m", "15m", "30m", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"):
        rows = await client.ok(
            "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": interval, "limit": 2}
        )
        assert rows and all(r[6] > r[0] for r in rows), interval


async def test_spot_all_orders_and_sapi(client: Client) -> None:
    placed = await client.ok(
        "POST",
        "/api/v3/order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "10000",
        },
        signed=True,
    )
    orders = await client.ok("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert [o["orderId"] for o in orders] == [placed["orderId"]]
    assert_same_shape(orders[0], fixture("rest_api__trading_endpoints__query_order__response"))
    status, body, _ = await client.request(
        "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "startTime": 0, "endTime": 90_000_000}, signed=True
    )
    assert status == 400 and body["code"] == -1127
    commission = await client.ok("GET", "/api/v3/account/commission", {"symbol": "BTCUSDT"}, signed=True)
    example = fixture("rest_api__account_endpoints__query_commission_rates__response")
    assert_same_shape(commission, example)
    assert_same_key_order(commission, example)
    coins = await client.ok("GET", "/sapi/v1/capital/config/getall", signed=True)
    assert_same_shape(coins, fixture("wallet__capital__all_coins_information__response"))
    assert {c["coin"] for c in coins} == {"BTC", "ETH", "USDT"}
    fees = await client.ok("GET", "/sapi/v1/asset/tradeFee", {"symbol": "BTCUSDT"}, signed=True)
    assert_same_shape(fees, fixture("wallet__account__trade_fee__response"))
    assert await client.ok("GET", "/sapi/v1/system/status") == fixture(
        "wallet__system__system_status__response"
    )
    assert await client.ok("GET", "/sapi/v1/margin/allPairs", key=True) == []


FUTURES_REST = [
    ("/fapi/v1/ticker/24hr", {"symbol": "BTCUSDT"}, "market_rest_24hr_ticker_price_change_statistics", False),
    (
        "/fapi/v1/klines",
        {"symbol": "BTCUSDT", "interval": "1m", "limit": 3},
        "market_rest_kline_candlestick_data",
        False,
    ),
    (
        "/fapi/v1/aggTrades",
        {"symbol": "BTCUSDT", "limit": 3},
        "market_rest_compressed_aggregate_trades_list",
        False,
    ),
    ("/fapi/v1/trades", {"symbol": "BTCUSDT", "limit": 3}, "market_rest_recent_trades_list", False),
    ("/fapi/v1/fundingRate", {"symbol": "BTCUSDT"}, "market_rest_get_funding_rate_history", False),
    ("/fapi/v1/leverageBracket", {"symbol": "ETHUSDT"}, "account_rest_notional_and_leverage_brackets", True),
    ("/fapi/v1/symbolConfig", {"symbol": "BTCUSDT"}, "account_rest_symbol_configuration", True),
]


@pytest.mark.parametrize(("path", "params", "name", "signed"), FUTURES_REST)
async def test_futures_market_data_matches_the_docs(
    client: Client, path: str, params: dict[str, Any], name: str, signed: bool
) -> None:
    body = await client.ok("GET", path, params, signed=signed)
    example = futures_example(name)
    # notionalCoef: "only appears when user's symbol bracket is adjusted" (never in the sandbox).
    assert_same_shape(body, example, optional=frozenset({"notionalCoef"}))
    if isinstance(example, dict):
        assert_same_key_order(body, example)
    else:
        assert body


async def test_futures_margin_type_and_all_orders(client: Client) -> None:
    answer = await client.ok(
        "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}, signed=True
    )
    assert answer == futures_example("trade_rest_change_margin_type")
    status, body, _ = await client.request(
        "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}, signed=True
    )
    assert (status, body) == (400, {"code": -4046, "msg": "No need to change margin type."})
    status, body, _ = await client.request(
        "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "SOMETIMES"}, signed=True
    )
    assert status == 400 and body["code"] == -1116
    config = await client.ok("GET", "/fapi/v1/symbolConfig", {"symbol": "BTCUSDT"}, signed=True)
    assert config[0]["marginType"] == "ISOLATED"
    placed = await client.ok(
        "POST",
        "/fapi/v1/order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": "1000",
        },
        signed=True,
    )
    status, body, _ = await client.request(
        "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "CROSSED"}, signed=True
    )
    assert (status, body["code"]) == (400, -4047)
    orders = await client.ok("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT"}, signed=True)
    assert [o["orderId"] for o in orders] == [placed["orderId"]]
    assert_same_shape(
        orders[0],
        futures_example("trade_rest_query_order"),
        optional=frozenset({"activatePrice", "priceRate"}),
    )


async def _first_frames(url: str, streams: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/stream") as ws:
        await ws.send_str(msgspec.json.encode({"method": "SUBSCRIBE", "params": streams, "id": 1}).decode())
        async with asyncio.timeout(20):
            while len(seen) < len(streams):
                frame = msgspec.json.decode((await ws.receive()).data)
                if "stream" in frame:
                    seen.setdefault(frame["stream"], frame["data"])
    return seen


async def test_stream_payloads_match_the_docs(client: Client) -> None:
    sb: Sandbox = client.sb  # type: ignore[attr-defined]
    spot = {
        "btcusdt@kline_1m": fixture("web_socket_streams__kline_candlestick_streams"),
        "btcusdt@miniTicker": fixture("web_socket_streams__individual_symbol_mini_ticker_stream"),
        "btcusdt@ticker": fixture("web_socket_streams__individual_symbol_ticker_streams"),
        "btcusdt@ticker_1h": fixture(
            "web_socket_streams__individual_symbol_rolling_window_statistics_streams"
        ),
    }
    for stream, payload in (await _first_frames(sb.ws_url, list(spot))).items():
        assert_same_shape(payload, spot[stream])
        assert_same_key_order(payload, spot[stream])
    futures = {
        "btcusdt@kline_1m": futures_example("ws_market_kline_candlestick_streams"),
        "btcusdt_perpetual@continuousKline_1m": futures_example(
            "ws_market_continuous_contract_kline_candlestick_streams"
        ),
        "btcusdt@ticker": futures_example("ws_market_individual_symbol_ticker_streams"),
        "btcusdt@miniTicker": futures_example("ws_market_individual_symbol_mini_ticker_stream"),
        "btcusdt@depth5@100ms": futures_example("ws_market_partial_book_depth_streams"),
    }
    for stream, payload in (await _first_frames(sb.futures_ws_url, list(futures))).items():
        assert_same_shape(payload, futures[stream])
        assert set(payload) == set(futures[stream]), stream


async def test_ws_api_market_data_results_match_the_docs(client: Client) -> None:
    sb: Sandbox = client.sb  # type: ignore[attr-defined]
    async with aiohttp.ClientSession() as session, session.ws_connect(sb.ws_api_url) as ws:
        await ws.send_json({"id": "d", "method": "depth", "params": {"symbol": "BTCUSDT", "limit": 5}})
        depth = await ws.receive_json()
        assert depth["status"] == 200
        assert_same_shape(depth["result"], fixture("websocket_api__market_data_requests__order_book__result"))
        await ws.send_json({"id": "p", "method": "ticker.price", "params": {"symbol": "BTCUSDT"}})
        price = await ws.receive_json()
        assert price["result"]["symbol"] == "BTCUSDT"
        assert_same_shape(
            price["result"], fixture("websocket_api__market_data_requests__symbol_price_ticker__result")
        )
        await ws.send_json({"id": "k", "method": "klines", "params": {"symbol": "BTCUSDT", "interval": "9m"}})
        bad = await ws.receive_json()
        assert (bad["status"], bad["error"]["code"]) == (400, -1120)
