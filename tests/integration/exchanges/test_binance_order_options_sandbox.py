"""Order options (time in force, reduce-only, the caller's client order id) on both Binance
connectors, and the rate limits exchangeInfo advertises, end to end against the in-process sandbox
(issue 17 items 7 and 10).

The issue's case: ``buy(..., reduce_only=True, time_in_force="IOC")`` returned an order that rested
OPEN, both options silently dropped. Each option is now either sent as Binance's own parameter
(and the sandbox's matching engine shows its effect) or refused before anything is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from binance_e2e_support import EventLog, perpetual_connector, spot_connector, wait_until

from connectorkit.connector.order_options import UnsupportedOrderOptionError
from connectorkit.core.enums import OrderState, OrderType, PositionAction, TimeInForce
from connectorkit.core.events import MarketEvent
from connectorkit.sandbox import Market, Sandbox, SandboxConfig
from connectorkit.sandbox.ratelimit import RateLimitRule
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket

PAIR = "BTC-USDT"
OPEN = PositionAction.OPEN


async def _done(connector: Any, order_id: str) -> Any:
    def finished() -> bool:
        order = connector.order_tracker.fetch_order(client_order_id=order_id)
        return order is not None and order.is_done

    await wait_until(finished, what=f"{order_id} done")
    return connector.order_tracker.fetch_order(client_order_id=order_id)


async def test_spot_time_in_force_and_client_order_id() -> None:
    async with Sandbox(seed=31, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        mm_key, mm_secret = sb.create_account({"BTC": Decimal("10"), "USDT": Decimal("1000000")})
        key, secret = sb.create_account({"USDT": Decimal("100000")})
        account = sb.accounts.by_id(sb.account_id(key))
        mm, us = spot_connector(sb, mm_key, mm_secret), spot_connector(sb, key, secret)
        log = EventLog(us)
        await mm.start_network()
        await us.start_network()
        try:
            await wait_until(lambda: mm.ready and us.ready, what="connectors ready")
            ask = mm.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal("30010"))
            await wait_until(lambda: mm.in_flight_orders[ask].current_state is OrderState.OPEN, what="ask")

            # The case on spot: reduce_only is not a spot concept; refused, nothing sent.
            with pytest.raises(UnsupportedOrderOptionError, match="reduce_only"):
                us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"), reduce_only=True,
                       time_in_force="IOC")
            assert us.in_flight_orders == {}

            # IOC below the ask: nothing to match, so it expires at once instead of resting OPEN.
            ioc = us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"), time_in_force="IOC")
            order = await _done(us, ioc)
            assert order.current_state is OrderState.CANCELED and order.executed_amount_base == 0
            assert sb.spot.exchange.open_orders(account) == []
            true_ioc = sb.spot.exchange.find_order(account, "BTCUSDT", None, ioc)
            assert true_ioc.time_in_force.value == "IOC" and true_ioc.status.value == "EXPIRED"

            # FOK for more than the level holds: nothing fills (all or nothing), it expires.
            fok = us.buy(PAIR, Decimal("0.7"), OrderType.LIMIT, Decimal("30010"),
                         time_in_force=TimeInForce.FOK)
            order = await _done(us, fok)
            assert order.current_state is OrderState.CANCELED and log.of(MarketEvent.OrderFilled, fok) == []
            assert mm.in_flight_orders[ask].executed_amount_base == 0

            # IOC for more than the level holds: takes the 0.5 there, the remaining 0.2 expires.
            partial = us.buy(PAIR, Decimal("0.7"), OrderType.LIMIT, Decimal("30010"),
                             time_in_force=TimeInForce.IOC, client_order_id="my-ioc_1")
            assert partial == "my-ioc_1"
            order = await _done(us, partial)
            assert order.current_state is OrderState.CANCELED
            assert order.executed_amount_base == Decimal("0.5")
            assert [f.amount for f in log.of(MarketEvent.OrderFilled, partial)] == [Decimal("0.5")]
            assert sb.spot.exchange.find_order(account, "BTCUSDT", None, "my-ioc_1") is not None

            # Spot's legal range for newClientOrderId has no '.': refused here, not by the exchange.
            with pytest.raises(ValueError, match="does not accept"):
                us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"), client_order_id="my.order")
            with pytest.raises(ValueError, match="already used"):
                us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"), client_order_id="my-ioc_1")
            # GTC is still the default: the order rests.
            gtc = us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"))
            await wait_until(lambda: log.of(MarketEvent.BuyOrderCreated, gtc), what="GTC rests")
            assert [o.client_order_id for o in sb.spot.exchange.open_orders(account)] == [gtc]
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_perpetual_reduce_only_time_in_force_and_client_order_id() -> None:
    async with Sandbox(seed=32, markets=[], futures_markets=[FuturesMarket("BTCUSDT", "BTC")],
                       simulate=False) as sb:
        mm_key, mm_secret = sb.create_account(futures_balances={"USDT": Decimal("10000000")})
        key, secret = sb.create_account(futures_balances={"USDT": Decimal("100000")})
        account = sb.futures.exchange.account(sb.account_id(key))
        mm, us = perpetual_connector(sb, mm_key, mm_secret), perpetual_connector(sb, key, secret)
        log = EventLog(us)
        await mm.start_network()
        await us.start_network()
        try:
            await wait_until(lambda: mm.ready and us.ready, what="connectors ready")
            mm.buy(PAIR, Decimal("1"), OrderType.LIMIT, Decimal("29990"), position_action=OPEN)
            mm.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal("30010"), position_action=OPEN)
            await wait_until(lambda: len(mm.in_flight_orders) == 2 and all(
                o.current_state is OrderState.OPEN for o in mm.in_flight_orders.values()), what="quotes")

            # The exact call, with no position to reduce: sent as reduceOnly + IOC, and the
            # exchange refuses it (-2022) instead of it resting OPEN.
            rejected = us.sell(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29990"), reduce_only=True,
                               time_in_force="IOC")
            (failure,) = await _failures(log, rejected)
            assert "ReduceOnly Order is rejected" in failure.error_message
            assert us.in_flight_orders == {}

            # FOK for more than the ask holds: rejected by the exchange (-5021), nothing fills.
            fok = us.buy(PAIR, Decimal("0.7"), OrderType.LIMIT, Decimal("30010"), time_in_force="FOK",
                         position_action=OPEN)
            (failure,) = await _failures(log, fok)
            assert "FOK order has been rejected" in failure.error_message

            # IOC: 0.5 fills at the ask, the rest expires; the position is opened by what filled.
            ioc = us.buy(PAIR, Decimal("0.7"), OrderType.LIMIT, Decimal("30010"), time_in_force="IOC",
                         position_action=OPEN, client_order_id="perp.ioc:1/a")  # '.', ':' and '/' are legal
            order = await _done(us, ioc)
            assert order.current_state is OrderState.CANCELED and order.executed_amount_base == Decimal("0.5")
            await wait_until(lambda: [p.amount for p in account.open_positions()] == [Decimal("0.5")],
                             what="long 0.5 on the sandbox")

            # reduce_only alone makes the order a CLOSE (reduceOnly=true in one-way mode).
            closing = us.sell(PAIR, Decimal("0.5"), OrderType.MARKET, reduce_only=True)
            order = await _done(us, closing)
            assert order.position is PositionAction.CLOSE
            assert order.executed_amount_base == Decimal("0.5")
            await wait_until(lambda: account.open_positions() == [], what="flat on the sandbox")
            with pytest.raises(ValueError, match="contradicts position_action=OPEN"):
                us.sell(PAIR, Decimal("0.1"), OrderType.MARKET, reduce_only=True, position_action=OPEN)
        finally:
            await us.stop_network()
            await mm.stop_network()


async def _failures(log: EventLog, order_id: str) -> list[Any]:
    await wait_until(lambda: log.of(MarketEvent.OrderFailure, order_id), what=f"{order_id} failed")
    return log.of(MarketEvent.OrderFailure, order_id)


async def test_spot_enforces_the_lower_limits_the_exchange_advertises() -> None:
    """Issue 17 item 10: exchangeInfo.rateLimits replace the built-in limits when lower."""
    rules = (
        RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 1200),
        RateLimitRule("ORDERS", "SECOND", 10, 50),
        RateLimitRule("ORDERS", "DAY", 1, 200_000),
        RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 61_000),
        RateLimitRule("ORDERS", "SECOND", 1, 5),  # a limit the connector has no pool for
    )
    async with Sandbox(seed=33, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False, config=SandboxConfig(spot_rate_limits=rules)) as sb:
        connector = spot_connector(sb)
        await connector.start_network()
        try:
            await wait_until(lambda: connector.ready, what="connector ready")
            throttler = connector.throttler
            weight = (throttler.limit("REQUEST_WEIGHT"), throttler.usable_limit("REQUEST_WEIGHT"))
            assert weight == (1200, 1140)
            assert (throttler.limit("ORDERS_10S"), throttler.usable_limit("ORDERS_10S")) == (50, 47)
            assert throttler.limit("ORDERS_1D") == 200_000 and throttler.limit("RAW_REQUESTS") == 61_000
            assert connector._unpooled_rate_limits == {("ORDERS", "SECOND", 1)}
        finally:
            await connector.stop_network()
