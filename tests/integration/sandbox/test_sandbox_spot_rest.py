"""Spot REST endpoints over real HTTP, compared with the official documentation examples."""

from __future__ import annotations

from decimal import Decimal

from sandbox_spot_support import (
    LIMIT_BUY,
    assert_same_key_order,
    assert_same_shape,
    fixture,
    running,
    seed_book,
)

MARKET_BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}


async def test_general_and_market_data_endpoints_match_docs() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        assert await client.ok("GET", "/api/v3/ping") == fixture(
            "rest_api__general_endpoints__test_connectivity__response"
        )
        server_time = await client.ok("GET", "/api/v3/time")
        assert_same_shape(server_time, fixture("rest_api__general_endpoints__check_server_time__response"))
        info = await client.ok("GET", "/api/v3/exchangeInfo")
        assert_same_shape(info, fixture("rest_api__general_endpoints__exchange_information__response"))
        sym = info["symbols"][0]
        assert sym["symbol"] == "BTCUSDT"
        filters = {f["filterType"]: f for f in sym["filters"]}
        assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
        assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
        assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
        assert {r["rateLimitType"] for r in info["rateLimits"]} >= {"REQUEST_WEIGHT", "ORDERS"}
        depth = await client.ok("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
        assert_same_shape(depth, fixture("rest_api__market_data_endpoints__order_book__response"))
        assert depth["bids"] == [["29990.00000000", "0.50000000"]]
        assert depth["asks"] == [["30010.00000000", "0.50000000"]]
        assert depth["lastUpdateId"] == sb.spot.engine.book("BTCUSDT").update_id
        ticker = await client.ok("GET", "/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
        assert ticker == {
            "symbol": "BTCUSDT",
            "bidPrice": "29990.00000000",
            "bidQty": "0.50000000",
            "askPrice": "30010.00000000",
            "askQty": "0.50000000",
        }
        assert_same_shape(
            ticker, fixture("rest_api__market_data_endpoints__symbol_order_book_ticker__response")
        )
        price = await client.ok("GET", "/api/v3/ticker/price", {"symbol": "BTCUSDT"})
        assert_same_shape(price, fixture("rest_api__market_data_endpoints__symbol_price_ticker__response"))
        assert price["price"] == "30000.00000000"  # mid until the first trade
        all_prices = await client.ok("GET", "/api/v3/ticker/price")
        assert isinstance(all_prices, list) and all_prices[0]["symbol"] == "BTCUSDT"
        status, body, _ = await client.request("GET", "/api/v3/depth", {"symbol": "XXXYYY"})
        assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
        status, body, _ = await client.request("GET", "/api/v3/depth")
        assert status == 400 and body["code"] == -1102


async def test_order_lifecycle_matches_docs() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        full = await client.ok("POST", "/api/v3/order", {**MARKET_BUY, "quantity": "0.1"}, signed=True)
        assert_same_shape(full, fixture("rest_api__trading_endpoints__new_order__response_full"))
        assert full["status"] == "FILLED" and full["executedQty"] == "0.10000000"
        assert full["fills"][0]["price"] == "30010.00000000"
        assert full["fills"][0]["commission"] == "0.00010000" and full["fills"][0]["commissionAsset"] == "BTC"

        result = await client.ok(
            "POST",
            "/api/v3/order",
            {**LIMIT_BUY, "price": "29000", "newClientOrderId": "myOrder1", "newOrderRespType": "RESULT"},
            signed=True,
        )
        assert_same_shape(result, fixture("rest_api__trading_endpoints__new_order__response_result"))
        assert "fills" not in result and result["status"] == "NEW" and result["clientOrderId"] == "myOrder1"

        ack = await client.ok(
            "POST",
            "/api/v3/order",
            {
                "symbol": "BTCUSDT",
                "side": "SELL",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "31000",
                "newOrderRespType": "ACK",
            },
            signed=True,
        )
        assert set(ack) == set(fixture("rest_api__trading_endpoints__new_order__response_ack"))

        query = await client.ok(
            "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "myOrder1"}, signed=True
        )
        assert_same_shape(query, fixture("rest_api__trading_endpoints__query_order__response"))
        assert (
            query["orderId"] == result["orderId"] and query["status"] == "NEW" and query["isWorking"] is True
        )

        open_orders = await client.ok("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
        assert sorted(o["orderId"] for o in open_orders) == sorted([result["orderId"], ack["orderId"]])

        cancel = await client.ok(
            "DELETE",
            "/api/v3/order",
            {"symbol": "BTCUSDT", "orderId": result["orderId"], "newClientOrderId": "cancelMyOrder1"},
            signed=True,
        )
        assert_same_shape(cancel, fixture("rest_api__trading_endpoints__cancel_order__response"))
        assert cancel["status"] == "CANCELED"
        assert (cancel["origClientOrderId"], cancel["clientOrderId"]) == ("myOrder1", "cancelMyOrder1")
        status, body, _ = await client.request(
            "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": result["orderId"]}, signed=True
        )
        assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
        status, body, _ = await client.request(
            "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 999999}, signed=True
        )
        assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})

        cancelled = await client.ok("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, signed=True)
        assert [c["orderId"] for c in cancelled] == [ack["orderId"]]
        assert await client.ok("GET", "/api/v3/openOrders", signed=True) == []

        account = await client.ok("GET", "/api/v3/account", signed=True)
        assert_same_shape(account, fixture("rest_api__account_endpoints__account_information__response"))
        balances = {b["asset"]: b for b in account["balances"]}
        assert balances["BTC"] == {"asset": "BTC", "free": "2.09990000", "locked": "0.00000000"}
        assert balances["USDT"]["free"] == "96999.00000000" and balances["USDT"]["locked"] == "0.00000000"
        assert account["makerCommission"] == 10 and account["commissionRates"]["taker"] == "0.00100000"

        trades = await client.ok("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True)
        assert_same_shape(trades, fixture("rest_api__account_endpoints__account_trade_list__response"))
        for answer, doc in (
            (full, "rest_api__trading_endpoints__new_order__response_full"),
            (full["fills"][0], "rest_api__trading_endpoints__new_order__response_full"),
            (result, "rest_api__trading_endpoints__new_order__response_result"),
            (ack, "rest_api__trading_endpoints__new_order__response_ack"),
            (query, "rest_api__trading_endpoints__query_order__response"),
            (cancel, "rest_api__trading_endpoints__cancel_order__response"),
            (account, "rest_api__account_endpoints__account_information__response"),
            (trades[0], "rest_api__account_endpoints__account_trade_list__response"),
        ):
            example = fixture(doc)
            example = example[0] if isinstance(example, list) else example
            if answer is full["fills"][0]:
                example = example["fills"][0]
            assert_same_key_order(answer, example)
        assert len(trades) == 1
        assert trades[0]["orderId"] == full["orderId"] and trades[0]["isBuyer"] and not trades[0]["isMaker"]
        assert trades[0]["quoteQty"] == "3001.00000000"
        by_order = await client.ok(
            "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": 12345}, signed=True
        )
        assert by_order == []


async def test_error_answers_are_binance_json() -> None:
    async with running() as (sb, client):
        order = {**LIMIT_BUY, "price": "30000"}
        path = "/api/v3/order"
        status, body, _ = await client.request("POST", path, {**order, "quantity": "10"}, signed=True)
        assert status == 400
        assert body == fixture("errors__insufficient_balance")
        status, body, _ = await client.request("POST", path, {**order, "price": "30000.001"}, signed=True)
        assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: PRICE_FILTER"})
        # DECIMAL parameters must match ^([0-9]{1,20})(\.[0-9]{1,20})?$ (what Python's Decimal also
        # accepts, such as exponents, signs, spaces or underscores, is illegal on Binance).
        for bad in ("abc", "1e-2", "+0.01", " 0.01", "0_01", ".01", "0.01.", "-0.01", "0.01\n"):
            status, body, _ = await client.request("POST", path, {**order, "quantity": bad}, signed=True)
            assert (status, body["code"]) == (400, -1100), bad
            assert body["msg"] == (
                "Illegal characters found in parameter 'quantity'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."
            )
        for bad in ("+1", "1_0", "1\n", "0x1"):
            query = {"symbol": "BTCUSDT", "orderId": bad}
            status, body, _ = await client.request("GET", "/api/v3/order", query, signed=True)
            assert (status, body["code"]) == (400, -1100), bad
        assert sb.spot.exchange.orders == {}


async def test_test_order_endpoint_validates_without_placing() -> None:
    async with running() as (sb, client):
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.1",
            "price": "30000",
        }
        assert await client.ok("POST", "/api/v3/order/test", params, signed=True) == {}
        assert sb.spot.engine.book("BTCUSDT").best_bid() is None
        status, body, _ = await client.request(
            "POST", "/api/v3/order/test", {**params, "price": "1.001"}, signed=True
        )
        assert (status, body["msg"]) == (400, "Filter failure: PRICE_FILTER")
        # Same validation as "New order (TRADE)" (docs: "Creates and validates a new order").
        for bad, code, msg in (
            ({"side": "UP"}, -1117, "Invalid side."),
            ({"timeInForce": ""}, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, "
             "or malformed."),
            ({"quantity": "0.0001"}, -1013, "Filter failure: NOTIONAL"),
            ({"type": "MARKET", "timeInForce": ""}, -1106, "Parameter 'price' sent when not required."),
        ):
            path = "/api/v3/order/test"
            status, body, _ = await client.request("POST", path, {**params, **bad}, signed=True)
            assert (status, body) == (400, {"code": code, "msg": msg}), bad
        assert sb.spot.exchange.orders == {}


async def test_quote_order_qty_market_buy_over_http() -> None:
    async with running() as (sb, client):
        await seed_book(sb)
        body = await client.ok("POST", "/api/v3/order", {**MARKET_BUY, "quoteOrderQty": "100"}, signed=True)
        assert body["origQuoteOrderQty"] == "100.00000000"
        assert Decimal(body["cummulativeQuoteQty"]) <= Decimal("100")
        assert body["executedQty"] == "0.00333000" and body["status"] == "FILLED"


async def test_symbol_must_be_upper_case() -> None:
    # Binance answers a lower-case symbol with -1100 (legal range '^[A-Z0-9-_.]{1,20}$'), it does not
    # upper-case it: a connector that sends "btcusdt" must fail here as it would on the exchange.
    async with running() as (_sb, client):
        for path in ("/api/v3/depth", "/api/v3/ticker/price", "/api/v3/exchangeInfo"):
            status, body, _ = await client.request("GET", path, {"symbol": "btcusdt"})
            legal = "legal range is '^[A-Z0-9-_.]{1,20}$'."
            assert (status, body["code"]) == (400, -1100), path
            assert body["msg"] == "Illegal characters found in parameter 'symbol'; " + legal
        status, body, _ = await client.request("GET", "/api/v3/depth", {"symbol": "ETHBTC"})
        assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
        for symbols in ('["btcusdt"]', '["BTCUSDT",]', "BTCUSDT", '[1]'):
            status, body, _ = await client.request("GET", "/api/v3/ticker/price", {"symbols": symbols})
            assert (status, body["code"]) == (400, -1100), symbols
            assert body["msg"] == (
                "Illegal characters found in parameter 'symbols'; legal range is "
                '\'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.'
            )
        prices = await client.ok("GET", "/api/v3/ticker/price", {"symbols": '["BTCUSDT"]'})
        assert [p["symbol"] for p in prices] == ["BTCUSDT"]


async def test_malformed_limit_is_1100_not_a_server_error() -> None:
    async with running() as (_sb, client):
        for limit in ("abc", "-5", "1e3"):
            query = {"symbol": "BTCUSDT", "limit": limit}
            status, body, _ = await client.request("GET", "/api/v3/depth", query)
            assert (status, body["code"]) == (400, -1100), limit


async def test_my_trades_time_window_is_at_most_24_hours() -> None:
    # Account endpoints → "Account trade list": "The time between startTime and endTime can't be longer
    # than 24 hours." (-1127).
    async with running() as (_sb, client):
        day = 24 * 3_600_000
        query = {"symbol": "BTCUSDT", "startTime": 1_700_000_000_000, "endTime": 1_700_000_000_000 + day}
        assert await client.ok("GET", "/api/v3/myTrades", query, signed=True) == []
        query["endTime"] += 1
        status, body, _ = await client.request("GET", "/api/v3/myTrades", query, signed=True)
        assert (status, body["code"]) == (400, -1127)
        assert body["msg"] == "More than 24 hours between startTime and endTime."
