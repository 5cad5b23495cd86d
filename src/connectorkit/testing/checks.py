"""The conformance checks: plain coroutines ``check_*(target)`` that raise :class:`ConformanceError`.

Each check opens its own sandbox (a fresh in-process sandbox starts in milliseconds, so checks never
share market or account state), starts the connectors it needs through the target, drives them,
and compares what the connector reports with what the sandbox holds. Every session also runs the
secrets watch (see :class:`~connectorkit.testing.harness.Session`), so "no key or secret in any log
line, repr or exception" is checked across the whole run, not only in :func:`check_no_secrets_leak`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectorkit.core.enums import OrderState, OrderType, PositionAction, PositionMode, PositionSide
from connectorkit.core.events import MarketEvent
from connectorkit.testing.harness import (
    Quoting,
    Session,
    Trader,
    expect,
    wait_until,
)
from connectorkit.testing.target import ConformanceTarget, PerpetualConformanceTarget, SandboxSpec

if TYPE_CHECKING:
    from connectorkit.core.order_book import OrderBook

OPEN, CLOSE = PositionAction.OPEN, PositionAction.CLOSE
BOOK_DEPTH = 20
#: ``OrderFailureEvent.error_type`` of an order the tracker declared lost (``client_order_tracker``).
LOST_ERROR_TYPE = "OrderNotFound"
#: Share of the advertised rate limits the throttling check runs at (see ``SandboxSpec``).
THROTTLE_SHARE_PCT = Decimal(10)
_COMPLETED = frozenset({MarketEvent.BuyOrderCompleted, MarketEvent.SellOrderCompleted})


# ---------------------------------------------------------------------------------------------------
# Shared helpers.
# ---------------------------------------------------------------------------------------------------
def _top(book: OrderBook) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    bids, asks = book.snapshot(BOOK_DEPTH)
    return [(r.price, r.amount) for r in bids], [(r.price, r.amount) for r in asks]


def _take(trader: Trader, buy: bool, amount: Decimal, through: Decimal,
          action: PositionAction = OPEN) -> str:
    """A taker order: MARKET when the connector declares it, else a LIMIT priced through the book."""
    market = OrderType.MARKET in trader.connector.SUPPORTED_ORDER_TYPES
    order_type, price = (OrderType.MARKET, None) if market else (OrderType.LIMIT, through)
    place = trader.buy if buy else trader.sell
    return place(amount, order_type, price, action)


async def _quote(maker: Trader, levels: list[tuple[bool, Decimal, Decimal]]) -> list[str]:
    """Resting maker orders ``(is_buy, price, amount)``, each confirmed open."""
    ids = [(maker.buy if is_buy else maker.sell)(amount, OrderType.LIMIT, price)
           for is_buy, price, amount in levels]
    for order_id in ids:
        await maker.live(order_id)
    return ids


async def _cancel(trader: Trader, order_id: str) -> None:
    trader.connector.cancel(trader.pair, order_id)
    await trader.event(MarketEvent.OrderCancelled, order_id)


def _fills(trader: Trader, order_id: str) -> list[Any]:
    return trader.log.of(MarketEvent.OrderFilled, order_id)


async def _filled_once(trader: Trader, order_id: str) -> None:
    """The order completed; each of the sandbox's trades was reported exactly once."""
    target, sandbox = trader.session.target, trader.session.sandbox
    assert trader.credentials is not None
    # Completion is emitted once every trade of the order is known: compare only then.
    await wait_until(lambda: any(k in _COMPLETED for k in trader.log.kinds_for(order_id)),
                     f"completion of {order_id}")
    order = await trader.done(order_id)
    await trader.matches_sandbox(order_id)
    true = target.true_order(sandbox, trader.credentials, order_id)
    expect(true is not None and true.state is OrderState.FILLED, f"{order_id}: the sandbox has {true}")
    assert true is not None
    fills = _fills(trader, order_id)
    ids = [f.exchange_trade_id for f in fills]
    expect(sorted(ids) == sorted(true.trade_ids),
           f"{order_id}: fill events {sorted(ids)} but the sandbox's trades are {sorted(true.trade_ids)}")
    total = sum((f.amount for f in fills), Decimal(0))
    expect(total == true.executed == order.executed_amount_base,
           f"{order_id}: fills sum to {total}, connector executed {order.executed_amount_base}, "
           f"sandbox {true.executed}")
    kinds = trader.log.kinds_for(order_id)
    completions = [i for i, k in enumerate(kinds) if k in _COMPLETED]
    expect(len(completions) == 1, f"{order_id}: {len(completions)} completion events in {kinds}")
    fill_positions = [i for i, k in enumerate(kinds) if k is MarketEvent.OrderFilled]
    expect(max(fill_positions) < completions[0], f"{order_id}: a fill was reported after completion: {kinds}")


# ---------------------------------------------------------------------------------------------------
# Market data.
# ---------------------------------------------------------------------------------------------------
async def check_books_track_true_book(target: ConformanceTarget, comparisons: int = 10) -> None:
    """While the simulated market trades, the connector's book (top 20) equals the sandbox's every
    time both are at the same update id; ``comparisons`` distinct update ids compared, no gap."""
    async with Session(target, SandboxSpec(seed=101, simulate=True)) as session:
        trader = await session.trader(None)
        book = trader.connector.get_order_book(target.trading_pair)
        compared: set[int] = set()
        mismatches: list[str] = []

        def sample() -> bool:
            true = target.true_book(session.sandbox)
            if book.last_diff_uid == true.update_id:  # same loop, no await: both at the same update
                ours = _top(book)
                if ours != (true.bids, true.asks):
                    mismatches.append(f"at update {true.update_id}: connector {ours}, sandbox "
                                      f"{(true.bids, true.asks)}")
                compared.add(true.update_id)
            return bool(mismatches) or len(compared) >= comparisons

        await wait_until(sample, lambda: f"{comparisons} book comparisons (made {len(compared)})", 40.0)
        expect(not mismatches, f"book differs from the sandbox's {mismatches[0] if mismatches else ''}")
        metrics = trader.connector.order_book_tracker.metrics(target.trading_pair)
        # One comparison may be at the snapshot itself; every other one follows at least one diff.
        expect(metrics.gaps == 0 and metrics.diffs_applied >= comparisons - 1,
               f"book metrics without any fault: {metrics}")


async def check_funding_info(target: PerpetualConformanceTarget) -> None:
    """Funding info is present at readiness, updates from the stream, and reaches the sandbox's."""
    async with Session(target, SandboxSpec(seed=102, simulate=True)) as session:
        trader = await session.trader(None)
        connector = trader.perpetual
        pair = target.trading_pair
        info = connector.get_funding_info(pair)
        expect(info.mark_price > 0 and info.rate.is_finite(), f"funding info at readiness: {info}")
        await wait_until(lambda: len({e.mark_price for e in trader.log.of(MarketEvent.FundingInfo)}) >= 2,
                         "funding info updates with two different mark prices")

        def equal() -> bool:
            true = target.true_funding(session.sandbox)
            ours = connector.get_funding_info(pair)
            return (ours.mark_price, ours.rate) == (true.mark_price, true.rate)

        await wait_until(equal, lambda: f"funding info {connector.get_funding_info(pair)} equal to the "
                                        f"sandbox's {target.true_funding(session.sandbox)}")


# ---------------------------------------------------------------------------------------------------
# Orders.
# ---------------------------------------------------------------------------------------------------
async def check_order_lifecycle(target: ConformanceTarget) -> None:
    """Every declared order type placed; resting orders cancelled; a partial fill then a cancel of the
    rest; a taker order filled over two levels; post-only that would take refused as the venue does;
    an order the account cannot pay for fails with the venue's error; balances equal the sandbox's."""
    async with Session(target, SandboxSpec(seed=103)) as session:
        maker, trader = await session.start_traders(session.funded(10), session.funded())
        q = trader.quoting()
        types = trader.connector.SUPPORTED_ORDER_TYPES
        expect(OrderType.LIMIT in types, f"LIMIT orders are required; the connector declares {types}")

        # LIMIT rests, then is cancelled.
        resting = trader.buy(q.unit, OrderType.LIMIT, q.at(-50))
        created = await trader.event(MarketEvent.BuyOrderCreated, resting)
        expect((created.amount, created.price) == (q.unit, q.at(-50)), f"created event {created}")
        await trader.matches_sandbox(resting)
        await _cancel(trader, resting)
        await trader.matches_sandbox(resting)

        # A resting LIMIT sell partly filled by the maker, then the rest cancelled.
        partial = trader.sell(q.units(3), OrderType.LIMIT, q.at(10))
        await trader.live(partial)
        maker.buy(q.unit, OrderType.LIMIT, q.at(10))
        fill = await trader.event(MarketEvent.OrderFilled, partial)
        expect((fill.price, fill.amount, fill.is_taker) == (q.at(10), q.unit, False),
               f"partial fill event {fill}")
        await trader.matches_sandbox(partial)
        order = trader.order(partial)
        expect(order is not None and order.current_state is OrderState.PARTIALLY_FILLED,
               f"after one of three units: {order}")
        await _cancel(trader, partial)
        await trader.matches_sandbox(partial)
        expect(len(_fills(trader, partial)) == 1, f"fills of {partial}: {_fills(trader, partial)}")

        # A taker order over two levels: one fill event per trade, completion after the fills.
        leftover = await _quote(maker, [(False, q.at(1), q.units(2)), (False, q.at(2), q.units(2))])
        taker = _take(trader, True, q.units(3), q.at(2))
        await _filled_once(trader, taker)
        fills = sorted((f.price, f.amount, f.is_taker) for f in _fills(trader, taker))
        expect(fills == [(q.at(1), q.units(2), True), (q.at(2), q.unit, True)], f"taker fills {fills}")
        await _cancel(maker, leftover[1])

        if OrderType.LIMIT_MAKER in types:
            maker_only = trader.buy(q.unit, OrderType.LIMIT_MAKER, q.at(-40))
            await trader.event(MarketEvent.BuyOrderCreated, maker_only)
            await _cancel(trader, maker_only)
            (ask,) = await _quote(maker, [(False, q.at(1), q.unit)])
            would_take = trader.buy(q.unit, OrderType.LIMIT_MAKER, q.at(1))
            await _post_only_refused(trader, would_take)
            await _cancel(maker, ask)

        # An order the account cannot pay for: the venue's own rejection, as OrderFailure.
        too_big = (50 * target.account_notional / q.price / q.unit).to_integral_value() * q.unit
        unaffordable = trader.buy(too_big, OrderType.LIMIT, q.at(-50))
        failure = await trader.event(MarketEvent.OrderFailure, unaffordable)
        expect(target.insufficient_balance_error in failure.error_message,
               f"expected the venue's {target.insufficient_balance_error!r}, got {failure}")
        expect(target.true_order(session.sandbox, _creds(trader), unaffordable) is None,
               "the sandbox accepted the unaffordable order")
        await trader.balances_match()


async def _post_only_refused(trader: Trader, order_id: str) -> None:
    target = trader.session.target
    if target.post_only_rejection_error is not None:
        failure = await trader.event(MarketEvent.OrderFailure, order_id)
        expect(target.post_only_rejection_error in failure.error_message,
               f"post-only that would take: expected {target.post_only_rejection_error!r}, got {failure}")
        return
    order = await trader.done(order_id)
    expect(order.current_state is OrderState.CANCELED and order.executed_amount_base == 0,
           f"post-only that would take must expire unfilled: {order}")
    await trader.matches_sandbox(order_id)
    expect(not _fills(trader, order_id), f"post-only order {order_id} traded")


def _creds(trader: Trader) -> Any:
    assert trader.credentials is not None
    return trader.credentials


async def check_fills_once_under_duplicated_and_reordered_events(target: ConformanceTarget) -> None:
    """With user events duplicated and reordered by the sandbox, each fill is counted once."""
    async with Session(target, SandboxSpec(seed=104)) as session:
        maker, trader = await session.start_traders(session.funded(10), session.funded())
        q = trader.quoting()
        await _quote(maker, [(False, q.at(i), q.unit) for i in (1, 2, 3)])
        faults = target.faults(session.sandbox)
        faults.duplicate_user_events(4)
        faults.reorder_user_events(3)
        taker = _take(trader, True, q.units(3), q.at(3))
        await _filled_once(trader, taker)
        kinds = faults.kinds()
        expect("duplicate_user_event" in kinds and "reorder_user_event" in kinds,
               f"the sandbox did not duplicate and reorder user events: {kinds}")
        await trader.balances_match()
        # By now the late copies have arrived too (balances are the account's last events).
        expect(len(_fills(trader, taker)) == 3, f"three trades, fills {_fills(trader, taker)}")
        expect(len(trader.log.kinds_for(taker)) == len(set(trader.log.kinds_for(taker))) + 2,
               f"each event of {taker} once, besides its three fills: {trader.log.kinds_for(taker)}")


async def check_reconciled_after_user_stream_drop(target: ConformanceTarget) -> None:
    """Sockets dropped, an order filled while the user stream reconnects: orders, fills and balances
    end as the sandbox has them (REST reconcile), each fill once."""
    async with Session(target, SandboxSpec(seed=105)) as session:
        maker, trader = await session.start_traders(session.funded(10), session.funded())
        q = trader.quoting()
        resting = trader.sell(q.units(2), OrderType.LIMIT, q.at(5))
        await trader.live(resting)
        dropped = target.faults(session.sandbox).drop_websockets()
        expect(dropped > 0, "the sandbox dropped no socket")
        maker.buy(q.units(2), OrderType.LIMIT, q.at(5))
        await _filled_once(trader, resting)
        also = trader.buy(q.unit, OrderType.LIMIT, q.at(-30))  # placed around the reconnect
        await trader.matches_sandbox(also)
        await wait_until(lambda: trader.connector.ready, "connector ready again after the drop")
        await trader.balances_match()


async def check_unknown_status_and_lost_orders(target: ConformanceTarget) -> None:
    """A placement answered 503 that the venue executed is found by polling, not failed; 5xx answers
    to status queries never make an order lost; a placement the venue never received is declared
    lost (OrderFailure) only after the venue's classified "not found" answers."""
    async with Session(target, SandboxSpec(seed=106)) as session:
        # Polls as often while the user stream flows as while it is silent: this check is about them.
        trader = await session.trader(session.funded(), long_poll_interval=0.2)
        q = trader.quoting()
        faults = target.faults(session.sandbox)

        faults.unknown_status_next_orders(1)
        executed = trader.buy(q.unit, OrderType.LIMIT, q.at(-50))
        await trader.live(executed)
        await trader.matches_sandbox(executed)
        expect("unknown_status" in faults.kinds(), f"no unknown-status answer was injected: {faults.kinds()}")
        expect(not trader.log.of(MarketEvent.OrderFailure), "an unknown-status placement was failed")

        failed_before = faults.kinds().count("fail_request")
        faults.fail_next_requests(8, status=500)
        await wait_until(lambda: faults.kinds().count("fail_request") >= failed_before + 8,
                         "eight REST requests answered 500")
        order = trader.order(executed)
        expect(order is not None and not order.is_lost and order.current_state is OrderState.OPEN,
               f"5xx answers must not make an order lost: {order}")
        expect(not trader.log.of(MarketEvent.OrderFailure), "a 5xx status answer failed an order")
        await trader.matches_sandbox(executed)

        # The placement itself answered 503 before the venue executed it: armed from the pre-send
        # hook, so no other request of the connector can take the fault first.
        lost_id: list[str] = []

        async def arm(order: Any) -> None:
            if order.client_order_id in lost_id:
                faults.fail_next_requests(1, status=503)

        trader.connector.add_pre_send_hook(arm)
        never = trader.buy(q.unit, OrderType.LIMIT, q.at(-60))
        lost_id.append(never)  # before the placement task runs: it starts at the next loop turn
        failure = await trader.event(MarketEvent.OrderFailure, never)
        expect(target.true_order(session.sandbox, _creds(trader), never) is None,
               "the 503 meant for the placement hit another request: the sandbox has the order")
        expect(failure.error_type == LOST_ERROR_TYPE, f"expected a lost order, got {failure}")
        lost = trader.order(never)
        expect(lost is not None and lost.is_lost, f"{never} not marked lost: {lost}")
        trader.connector.remove_pre_send_hook(arm)


# ---------------------------------------------------------------------------------------------------
# Rate limits and secrets.
# ---------------------------------------------------------------------------------------------------
async def check_throttler_keeps_within_advertised_limits(target: ConformanceTarget) -> None:
    """A burst of orders past the venue's shortest order window: the sandbox advertises limits
    lowered to ``THROTTLE_SHARE_PCT`` of the real ones, the connector must adopt what the venue
    advertises (never its larger built-in limits), space the burst, and the sandbox, which
    enforces what it advertises, refuses none; every order is placed."""
    spec = SandboxSpec(seed=107, rate_limit_share_pct=THROTTLE_SHARE_PCT)
    async with Session(target, spec) as session:
        # Default (slow) polling: the burst is the only traffic that counts against the limits.
        trader = await session.trader(session.funded(),
                                      short_poll_interval=5.0, long_poll_interval=120.0,
                                      funding_payment_poll_interval=120.0)
        q = trader.quoting()
        burst = target.order_rate_limit(session.sandbox) + 2
        refused_before = target.rate_limit_rejections(session.sandbox)
        ids = [trader.buy(q.unit, OrderType.LIMIT, q.at(-100 - i)) for i in range(burst)]
        window_s = 70.0  # the longest order window a venue uses is a minute
        def answered(order_id: str) -> bool:
            order = trader.order(order_id)
            return order is not None and (order.is_done or order.exchange_order_id is not None)

        await wait_until(lambda: all(answered(i) for i in ids), f"{burst} burst orders answered", window_s)
        failures = trader.log.of(MarketEvent.OrderFailure)
        expect(not failures, f"{len(failures)} burst orders failed, first: {failures[:1]}")
        refused = target.rate_limit_rejections(session.sandbox) - refused_before
        expect(refused == 0, f"the sandbox refused {refused} requests for exceeding its advertised limits")
        for order_id in ids:
            await trader.matches_sandbox(order_id)


async def check_no_secrets_leak(target: ConformanceTarget) -> None:
    """A connector whose secret the venue rejects fails its signed calls; neither key nor secret shows
    in any log record, exception, repr or event (the session's watch), nor do a good connector's."""
    async with Session(target, SandboxSpec(seed=108)) as session:
        good = session.funded()
        wrong = type(good)(good.api_key, good.api_secret[::-1], good.account)
        session.watch.add(wrong.api_secret)
        trader, impostor = await session.start_traders(good, wrong, wait_ready=False)
        await wait_until(trader.is_ready, trader.describe_readiness)
        q = trader.quoting()
        order_id = trader.buy(q.unit, OrderType.LIMIT, q.at(-50))
        await trader.live(order_id)
        await _cancel(trader, order_id)
        await wait_until(lambda: target.trading_pair in impostor.connector.trading_rules,
                         "trading rules of the connector with the wrong secret (public data)")
        refused = impostor.buy(q.unit, OrderType.LIMIT, q.at(-50))
        failure = await impostor.event(MarketEvent.OrderFailure, refused)
        expect(not impostor.connector.ready, "a connector whose signature the venue rejects became ready")
        expect(session.watch.records > 0, "no log record was captured")
        for text in (str(failure), repr(impostor.connector), repr(good), repr(wrong)):
            session.watch.scan("connector output", text)
        session.watch.assert_clean()


# ---------------------------------------------------------------------------------------------------
# Perpetuals.
# ---------------------------------------------------------------------------------------------------
def _positions(trader: Trader) -> dict[PositionSide, Decimal]:
    return {p.position_side: p.amount for p in trader.perpetual.account_positions.values() if p.amount}


async def _positions_match(trader: Trader, expected: dict[PositionSide, Decimal]) -> None:
    target = trader.session.target
    assert isinstance(target, PerpetualConformanceTarget)

    def same() -> bool:
        return _positions(trader) == target.true_positions(trader.session.sandbox, _creds(trader)) == expected

    await wait_until(same, lambda: f"positions {expected}: connector {_positions(trader)}, sandbox "
                                   f"{target.true_positions(trader.session.sandbox, _creds(trader))}")


async def check_leverage_positions_and_funding(target: PerpetualConformanceTarget) -> None:
    """Leverage set and read back; a position opened and closed with PositionAction (a CLOSE with
    nothing to close opens nothing); funding paid while it is open is emitted once per payment with
    the sandbox's amount; hedge mode (if declared) holds both sides; balances equal the sandbox's."""
    spec = SandboxSpec(seed=109, funding_interval_ms=1000)
    async with Session(target, spec) as session:
        maker, trader = await session.start_traders(session.funded(10), session.funded())
        connector = trader.perpetual
        pair, sandbox, creds = target.trading_pair, session.sandbox, _creds(trader)
        q = trader.quoting()

        expect(await connector.set_leverage_async(pair, target.leverage), "set_leverage_async refused")
        true_leverage = target.true_leverage(sandbox, creds)
        expect(connector.get_leverage(pair) == target.leverage == true_leverage,
               f"leverage: connector {connector.get_leverage(pair)}, sandbox {true_leverage}")
        expect(connector.position_mode is PositionMode.ONEWAY is target.true_position_mode(sandbox, creds),
               f"one-way mode at start: connector {connector.position_mode}, "
               f"sandbox {target.true_position_mode(sandbox, creds)}")

        await _quote(maker, [(True, q.at(-1), q.units(10)), (False, q.at(1), q.units(10))])
        opened = _take(trader, True, q.units(2), q.at(1), OPEN)
        await _filled_once(trader, opened)
        await _positions_match(trader, {PositionSide.BOTH: q.units(2)})

        paid = await _funding_paid(trader)
        booked = target.true_funding_payments(sandbox, creds)
        expect(paid.amount in booked, f"funding event {paid} not among the sandbox's payments {booked}")
        payments = trader.log.of(MarketEvent.FundingPaymentCompleted)
        expect(len(payments) <= len(booked), f"{len(payments)} funding events for {len(booked)} payments")

        closed = _take(trader, False, q.units(2), q.at(-1), CLOSE)
        await _filled_once(trader, closed)
        await _positions_match(trader, {})
        nothing = _take(trader, False, q.unit, q.at(-1), CLOSE)
        await trader.done(nothing)
        await trader.matches_sandbox(nothing)
        await _positions_match(trader, {})

        if PositionMode.HEDGE in connector.SUPPORTED_POSITION_MODES:
            await _hedge_round_trip(trader, q)
        await trader.balances_match()


async def _funding_paid(trader: Trader) -> Any:
    await wait_until(lambda: trader.log.of(MarketEvent.FundingPaymentCompleted),
                     "a funding payment while the position is open")
    return trader.log.of(MarketEvent.FundingPaymentCompleted)[0]


async def _hedge_round_trip(trader: Trader, q: Quoting) -> None:
    target = trader.session.target
    assert isinstance(target, PerpetualConformanceTarget)
    connector = trader.perpetual
    sandbox, creds = trader.session.sandbox, _creds(trader)
    expect(await connector.set_position_mode_async(PositionMode.HEDGE), "switch to hedge mode refused")
    expect(connector.position_mode is PositionMode.HEDGE is target.true_position_mode(sandbox, creds),
           f"hedge mode: sandbox {target.true_position_mode(sandbox, creds)}")
    expect(trader.log.of(MarketEvent.PositionModeChangeSucceeded), "no PositionModeChangeSucceeded event")
    long_id = _take(trader, True, q.unit, q.at(1), OPEN)
    short_id = _take(trader, False, q.unit, q.at(-1), OPEN)
    await _filled_once(trader, long_id)
    await _filled_once(trader, short_id)
    await _positions_match(trader, {PositionSide.LONG: q.unit, PositionSide.SHORT: -q.unit})
    await _filled_once(trader, _take(trader, False, q.unit, q.at(-1), CLOSE))
    await _positions_match(trader, {PositionSide.SHORT: -q.unit})
    await _filled_once(trader, _take(trader, True, q.unit, q.at(1), CLOSE))
    await _positions_match(trader, {})
    expect(await connector.set_position_mode_async(PositionMode.ONEWAY), "switch back to one-way refused")
    expect(target.true_position_mode(sandbox, creds) is PositionMode.ONEWAY, "sandbox still in hedge mode")
