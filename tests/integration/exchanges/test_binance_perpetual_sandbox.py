"""BinancePerpetualDerivative end to end against the in-process sandbox (routed fstream paths)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from binance_e2e_support import EventLog, assert_book_tracks, perpetual_connector, wait_until

from connectorkit.core.enums import OrderState, OrderType, PositionAction, PositionMode, PositionSide
from connectorkit.core.events import MarketEvent
from connectorkit.sandbox import Sandbox, SandboxConfig
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket

PAIR = "BTC-USDT"
OPEN, CLOSE = PositionAction.OPEN, PositionAction.CLOSE


def _market(**kwargs: Any) -> FuturesMarket:
    return FuturesMarket("BTCUSDT", "BTC", **kwargs)


async def test_public_book_and_funding_info_follow_the_sandbox() -> None:
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=21, markets=[], futures_markets=[_market()], config=config) as sb:
        connector = perpetual_connector(sb)
        log = EventLog(connector)
        await connector.start_network()
        try:
            await wait_until(lambda: connector.ready, what="connector ready")
            await assert_book_tracks(connector, PAIR, sb.futures.exchange.engine.book("BTCUSDT"))
            # premiumIndex at start, then the markPrice@1s stream keeps it live.
            await wait_until(lambda: len(log.of(MarketEvent.FundingInfo)) >= 2, what="mark price updates")
            mark = sb.futures.exchange.marks["BTCUSDT"]
            await wait_until(lambda: connector.get_funding_info(PAIR).mark_price == mark.mark_price,
                             what="mark price equal to the sandbox's")
        finally:
            await connector.stop_network()


class _Perp:
    def __init__(self, sb: Sandbox, mm: Any, us: Any, account: int) -> None:
        self.sb, self.mm, self.us, self.account = sb, mm, us, account
        self.log = EventLog(us)

    @property
    def true_account(self) -> Any:
        return self.sb.futures.exchange.account(self.account)

    def true_positions(self) -> dict[PositionSide, Decimal]:
        return {p.side: p.amount for p in self.true_account.open_positions()}

    def our_positions(self) -> dict[PositionSide, Decimal]:
        return {p.position_side: p.amount for p in self.us.account_positions.values() if p.amount}

    async def quote(self, bid: str, ask: str, amount: str = "1") -> None:
        before = len(self.mm.in_flight_orders)
        self.mm.buy(PAIR, Decimal(amount), OrderType.LIMIT, Decimal(bid), position_action=OPEN)
        self.mm.sell(PAIR, Decimal(amount), OrderType.LIMIT, Decimal(ask), position_action=OPEN)
        await wait_until(lambda: len(self.mm.in_flight_orders) == before + 2 and all(
            o.current_state is OrderState.OPEN for o in self.mm.in_flight_orders.values()), what="quotes")

    async def done(self, order_id: str) -> Any:
        def finished() -> bool:
            order = self.us.order_tracker.fetch_order(client_order_id=order_id)
            return order is not None and order.is_done

        await wait_until(finished, what=f"{order_id} done")
        return self.us.order_tracker.fetch_order(client_order_id=order_id)

    async def balances_match(self) -> None:
        def same() -> bool:
            exchange = self.sb.futures.exchange
            wallet = self.true_account.balance("USDT")
            available = self.true_account.available_balance("USDT", exchange.mark_prices())
            return (self.us.get_balance("USDT"), self.us.get_available_balance("USDT")) == (wallet, available)

        await wait_until(same, what="wallet and available balances equal to the sandbox's")


async def _start(sb: Sandbox) -> tuple[Any, Any, int]:
    mm_key, mm_secret = sb.create_account(futures_balances={"USDT": Decimal("10000000")})
    key, secret = sb.create_account(futures_balances={"USDT": Decimal("100000")})
    mm, us = perpetual_connector(sb, mm_key, mm_secret), perpetual_connector(sb, key, secret)
    await mm.start_network()
    await us.start_network()
    await wait_until(lambda: mm.ready and us.ready, what="connectors ready")
    return mm, us, sb.account_id(key)


async def test_one_way_leverage_open_close_fees_and_funding() -> None:
    market = _market(funding_interval_ms=1000, funding_rate=Decimal("0.0001"))
    async with Sandbox(seed=22, markets=[], futures_markets=[market], simulate=False) as sb:
        mm, us, account = await _start(sb)
        env = _Perp(sb, mm, us, account)
        try:
            await env.quote("29990", "30010")
            assert await us.set_leverage_async(PAIR, 10)
            assert us.get_leverage(PAIR) == 10 and env.true_account.leverage_of("BTCUSDT") == 10

            opened = us.buy(PAIR, Decimal("0.05"), OrderType.MARKET, position_action=OPEN)
            order = await env.done(opened)
            assert order.current_state is OrderState.FILLED
            (fill,) = env.log.of(MarketEvent.OrderFilled, opened)
            kinds = [kind for kind, event in env.log.events if getattr(event, "order_id", None) == opened]
            assert kinds.index(MarketEvent.OrderFilled) < kinds.index(MarketEvent.BuyOrderCompleted)
            assert (fill.price, fill.amount, fill.leverage) == (Decimal("30010"), Decimal("0.05"), 10)
            # The funding period is 1 s, so a FUNDING_FEE row may already follow the fill's row:
            # find the commission by the fill's trade id, not by position.
            (commission,) = [r for r in env.true_account.income
                             if r.income_type == "COMMISSION" and r.trade_id == fill.exchange_trade_id]
            assert fill.trade_fee.flat_fees[0].amount == -commission.income
            await wait_until(lambda: env.our_positions() == env.true_positions() == {
                PositionSide.BOTH: Decimal("0.05")}, what="long position")
            position = us.get_position(PAIR)
            assert position.entry_price == Decimal("30010") and position.leverage == Decimal(10)

            # A funding period passes with the position open: one FundingPaymentCompleted event
            # with the amount the sandbox booked.
            await wait_until(lambda: env.log.of(MarketEvent.FundingPaymentCompleted), what="funding paid")
            payment = env.log.of(MarketEvent.FundingPaymentCompleted)[0]
            booked = [r for r in env.true_account.income if r.income_type == "FUNDING_FEE"]
            assert payment.amount in {r.income for r in booked} and payment.amount < 0
            assert payment.funding_rate == Decimal("0.0001")

            # Post-only that would take is expired by the exchange (GTX).
            gtx = us.sell(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, Decimal("29990"),
                          position_action=OPEN)
            await env.done(gtx)
            assert env.log.of(MarketEvent.OrderExpired, gtx) or env.log.of(MarketEvent.OrderFailure, gtx)

            closed = us.sell(PAIR, Decimal("0.05"), OrderType.MARKET, position_action=CLOSE)
            assert (await env.done(closed)).current_state is OrderState.FILLED
            await wait_until(lambda: env.our_positions() == env.true_positions() == {}, what="flat")
            # Closing more than the position is refused by reduceOnly (nothing left to close).
            refused = us.sell(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=CLOSE)
            assert (await env.done(refused)).current_state is OrderState.FAILED
            await env.balances_match()
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_hedge_mode_partial_fills_and_both_sides() -> None:
    async with Sandbox(seed=23, markets=[], futures_markets=[_market()], simulate=False) as sb:
        mm, us, account = await _start(sb)
        env = _Perp(sb, mm, us, account)
        try:
            assert await us.set_position_mode_async(PositionMode.HEDGE)
            assert us.position_mode is PositionMode.HEDGE and env.true_account.dual_side_position
            assert env.log.of(MarketEvent.PositionModeChangeSucceeded)
            await env.quote("29990", "30010")

            long_id = us.buy(PAIR, Decimal("0.02"), OrderType.MARKET, position_action=OPEN)
            await env.done(long_id)
            # A resting short that the market maker fills partly.
            short_id = us.sell(PAIR, Decimal("0.03"), OrderType.LIMIT, Decimal("30005"), position_action=OPEN)
            await wait_until(lambda: env.log.of(MarketEvent.SellOrderCreated, short_id), what="short rests")
            mm.buy(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=CLOSE)
            await wait_until(lambda: env.log.of(MarketEvent.OrderFilled, short_id), what="partial fill")
            short = us.order_tracker.fetch_order(client_order_id=short_id)
            assert short.current_state is OrderState.PARTIALLY_FILLED
            assert short.executed_amount_base == Decimal("0.01")
            (maker_fill,) = env.log.of(MarketEvent.OrderFilled, short_id)
            assert not maker_fill.is_taker
            await wait_until(lambda: env.our_positions() == env.true_positions() == {
                PositionSide.LONG: Decimal("0.02"), PositionSide.SHORT: Decimal("-0.01")}, what="both sides")

            us.cancel(PAIR, short_id)
            await wait_until(lambda: env.log.of(MarketEvent.OrderCancelled, short_id), what="rest cancelled")
            close_long = us.sell(PAIR, Decimal("0.02"), OrderType.MARKET, position_action=CLOSE)
            await env.done(close_long)
            await wait_until(lambda: env.our_positions() == env.true_positions() == {
                PositionSide.SHORT: Decimal("-0.01")}, what="long closed, short kept")
            await env.balances_match()
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_expired_listen_key_and_dropped_sockets_are_recovered() -> None:
    async with Sandbox(seed=24, markets=[], futures_markets=[_market()], simulate=False) as sb:
        mm, us, account = await _start(sb)
        env = _Perp(sb, mm, us, account)
        try:
            await env.quote("29990", "30010")
            source = us.user_stream_tracker.data_source
            sb.faults.expire_listen_key()
            await wait_until(lambda: source.connection_count >= 2 and source.connected, what="new listen key")
            opened = us.buy(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=OPEN)
            await env.done(opened)
            sb.faults.drop_websockets()
            # Placed while the user stream is down: the fill comes from REST trade history and is
            # counted before the order is seen FILLED (never FILLED with nothing executed).
            closed = us.sell(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=CLOSE)
            order = await env.done(closed)
            assert order.current_state is OrderState.FILLED
            assert order.executed_amount_base == Decimal("0.01")
            assert len(env.log.of(MarketEvent.OrderFilled, closed)) == 1
            await wait_until(lambda: env.our_positions() == env.true_positions() == {}, what="flat")
            assert len(env.log.of(MarketEvent.OrderFilled, closed)) == 1
            await env.balances_match()
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_fill_while_user_stream_down_is_counted_before_a_poll_reports_filled() -> None:
    """Regression: a market order placed while the user stream is down, during a REST reconcile
    already under way, used to be reported FILLED by a status poll before any of its fills were
    known (done, with nothing executed). The fills of an answer that already executed are now read
    from userTrades before the status is applied, and a reconcile reads an order's fills after its
    status and before applying it."""
    async with Sandbox(seed=26, markets=[], futures_markets=[_market()], simulate=False) as sb:
        mm, us, account = await _start(sb)
        env = _Perp(sb, mm, us, account)
        try:
            await env.quote("29990", "30010")
            opened = us.buy(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=OPEN)
            await env.done(opened)
            resting = us.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal("20000"), position_action=OPEN)
            await wait_until(lambda: env.log.of(MarketEvent.BuyOrderCreated, resting), what="resting")

            # Hold the reconcile's status step (of the resting order) until the close is placed.
            gate, held = asyncio.Event(), asyncio.Event()
            request_status = us._request_order_status

            async def gated(order: Any) -> Any:
                if order.client_order_id == resting and not gate.is_set():
                    held.set()
                    await gate.wait()
                return await request_status(order)

            us._request_order_status = gated
            # Every FILLED report of the close, with what was executed when it was applied.
            seen: list[Decimal] = []
            process_order_update = us.order_tracker.process_order_update

            def spy(update: Any) -> bool:
                changed = process_order_update(update)
                order = us.order_tracker.fetch_order(client_order_id=update.client_order_id)
                if order is not None and order.client_order_id != resting and order.is_filled:
                    seen.append(order.executed_amount_base)
                return bool(changed)

            us.order_tracker.process_order_update = spy
            sb.faults.drop_websockets()
            us._poll_now.set()
            await wait_until(held.is_set, what="reconcile holding its status step")
            closed = us.sell(PAIR, Decimal("0.01"), OrderType.MARKET, position_action=CLOSE)
            await wait_until(lambda: closed not in us._placing, what="close placed")
            gate.set()
            order = await env.done(closed)
            await wait_until(lambda: env.our_positions() == env.true_positions() == {}, what="flat")
            assert order.current_state is OrderState.FILLED
            assert seen and all(executed == Decimal("0.01") for executed in seen)
            assert len(env.log.of(MarketEvent.OrderFilled, closed)) == 1
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_depth_gap_503_and_duplicated_events_on_futures() -> None:
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=25, markets=[], futures_markets=[_market()], config=config) as sb:
        mm, us, account = await _start(sb)
        env = _Perp(sb, mm, us, account)
        try:
            tracker = us.order_book_tracker
            await wait_until(lambda: tracker.metrics(PAIR).diffs_applied > 5, what="live diffs")
            sb.faults.skip_depth_updates("BTCUSDT", 1)
            await wait_until(lambda: tracker.metrics(PAIR).gaps >= 1 and tracker.is_ready(PAIR),
                             what="pu chain break detected and resynced")

            sb.faults.unknown_status_next_orders(1)
            resting = us.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal("20000"), position_action=OPEN)

            def resolved() -> bool:
                order = us.order_tracker.fetch_order(client_order_id=resting)
                if order is None or not order.exchange_order_id:
                    return False
                return bool(order.current_state is OrderState.OPEN)

            await wait_until(resolved, what="503-answered order found open")
            assert "unknown_status" in sb.faults.kinds() and not env.log.of(MarketEvent.OrderFailure)
            us.cancel(PAIR, resting)
            await wait_until(lambda: env.log.of(MarketEvent.OrderCancelled, resting), what="cancelled")

            sb.faults.duplicate_user_events(3)
            taker = us.buy(PAIR, Decimal("0.02"), OrderType.MARKET, position_action=OPEN)
            order = await env.done(taker)
            fills = env.log.of(MarketEvent.OrderFilled, taker)
            assert sum((f.amount for f in fills), Decimal(0)) == order.executed_amount_base
            true = sb.futures.exchange.find_order(account, "BTCUSDT", None, taker)
            assert order.executed_amount_base == true.executed_qty
            assert len({f.exchange_trade_id for f in fills}) == len(fills)
            assert "duplicate_user_event" in sb.faults.kinds()
            await wait_until(lambda: env.our_positions() == env.true_positions(), what="positions equal")
        finally:
            await us.stop_network()
            await mm.stop_network()
