"""BinanceExchange under injected faults: every order ends in the state the sandbox has, every fill
is counted once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from binance_e2e_support import EventLog, spot_connector, wait_until

from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.sandbox import Market, Sandbox

PAIR = "BTC-USDT"
_STATE = {"NEW": OrderState.OPEN, "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
          "FILLED": OrderState.FILLED, "CANCELED": OrderState.CANCELED, "EXPIRED": OrderState.CANCELED}


def _sandbox_order(sb: Sandbox, account: int, client_order_id: str) -> Any:
    return sb.spot.exchange.find_order(sb.accounts.by_id(account), "BTCUSDT", None, client_order_id)


class _Env:
    def __init__(self, sb: Sandbox, mm: Any, us: Any, account: int) -> None:
        self.sb, self.mm, self.us, self.account = sb, mm, us, account
        self.log = EventLog(us)

    def tracked(self, client_order_id: str) -> Any:
        return self.us.order_tracker.fetch_order(client_order_id=client_order_id)

    async def settles_like_the_sandbox(self, client_order_id: str) -> None:
        def same() -> bool:
            order = self.tracked(client_order_id)
            true = _sandbox_order(self.sb, self.account, client_order_id)
            if order is None:
                return False
            if true is None:
                return order.current_state is OrderState.FAILED
            return (order.current_state is _STATE[true.status.value]
                    and order.executed_amount_base == true.executed_qty)

        await wait_until(same, what=f"{client_order_id} in the sandbox's state")


@pytest.fixture
async def env() -> Any:
    async with Sandbox(seed=11, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        mm_key, mm_secret = sb.create_account({"BTC": Decimal("10"), "USDT": Decimal("1000000")})
        key, secret = sb.create_account({"BTC": Decimal("1"), "USDT": Decimal("100000")})
        mm, us = spot_connector(sb, mm_key, mm_secret), spot_connector(sb, key, secret)
        environment = _Env(sb, mm, us, sb.account_id(key))
        await mm.start_network()
        await us.start_network()
        try:
            await wait_until(lambda: mm.ready and us.ready, what="connectors ready")
            for price in ("30010", "30020", "30030"):
                mm.sell(PAIR, Decimal("0.2"), OrderType.LIMIT, Decimal(price))
            await wait_until(lambda: len(mm.in_flight_orders) == 3
                             and all(o.exchange_order_id for o in mm.in_flight_orders.values()),
                             what="quotes")
            yield environment
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_503_after_placement_keeps_the_order_and_resolves_it(env: _Env) -> None:
    env.sb.faults.unknown_status_next_orders(1)
    order_id = env.us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"))
    await env.settles_like_the_sandbox(order_id)
    assert env.tracked(order_id).current_state is OrderState.OPEN
    assert not env.log.of(MarketEvent.OrderFailure)
    assert "unknown_status" in env.sb.faults.kinds()
    env.us.cancel(PAIR, order_id)
    await wait_until(lambda: env.log.of(MarketEvent.OrderCancelled, order_id), what="cancelled")
    await env.settles_like_the_sandbox(order_id)


async def test_5xx_before_execution_is_never_guessed(env: _Env) -> None:
    env.sb.faults.fail_next_requests(1, status=502)
    order_id = env.us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29100"))
    # Whatever request took the 502, the order ends as the sandbox has it (placed or never placed).
    await env.settles_like_the_sandbox(order_id)
    assert "fail_request" in env.sb.faults.kinds()


async def test_429_pauses_and_the_order_outcome_matches_the_sandbox(env: _Env) -> None:
    env.sb.faults.force_429(1)
    order_id = env.us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29200"))
    await env.settles_like_the_sandbox(order_id)
    assert "force_429" in env.sb.faults.kinds()
    second = env.us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29300"))
    await env.settles_like_the_sandbox(second)
    assert env.tracked(second).current_state is OrderState.OPEN


async def test_duplicated_and_reordered_user_events_count_each_fill_once(env: _Env) -> None:
    env.sb.faults.duplicate_user_events(4)
    env.sb.faults.reorder_user_events(3)
    order_id = env.us.buy(PAIR, Decimal("0.5"), OrderType.MARKET)
    await wait_until(lambda: env.log.of(MarketEvent.BuyOrderCompleted, order_id), what="filled")
    await env.settles_like_the_sandbox(order_id)
    fills = env.log.of(MarketEvent.OrderFilled, order_id)
    assert len(fills) == 3  # 0.2 + 0.2 + 0.1 over three levels, each once
    assert sum((f.amount for f in fills), Decimal(0)) == Decimal("0.5")
    assert len(env.log.of(MarketEvent.BuyOrderCompleted, order_id)) == 1
    kinds = env.sb.faults.kinds()
    assert "duplicate_user_event" in kinds and "reorder_user_event" in kinds


async def test_clock_skew_is_corrected_by_resync(env: _Env) -> None:
    env.sb.faults.clock_skew(30_000)  # server 30 s ahead: our timestamps fall outside recvWindow
    order_id = env.us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29400"))
    await env.settles_like_the_sandbox(order_id)
    assert env.tracked(order_id).current_state is OrderState.OPEN
    assert env.us.time_synchronizer.time_offset > 25


async def test_user_stream_drop_is_reconciled_from_rest(env: _Env) -> None:
    order_id = env.us.sell(PAIR, Decimal("0.2"), OrderType.LIMIT, Decimal("30005"))
    await env.settles_like_the_sandbox(order_id)
    env.sb.faults.drop_websockets()
    env.mm.buy(PAIR, Decimal("0.2"), OrderType.MARKET)  # fills our order while streams reconnect
    await wait_until(lambda: env.log.of(MarketEvent.SellOrderCompleted, order_id), what="fill seen")
    await env.settles_like_the_sandbox(order_id)
    assert len(env.log.of(MarketEvent.OrderFilled, order_id)) == 1
