"""BinanceExchange end to end against the in-process sandbox, over real HTTP and WebSockets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from binance_e2e_support import (
    EventLog,
    assert_book_tracks,
    connector_top,
    spot_connector,
    true_top,
    wait_until,
)

from connectorkit.connector.order_book_sync import PairMetrics
from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.core.trade_fee import TokenAmount
from connectorkit.sandbox import Market, Sandbox, SandboxConfig

PAIR = "BTC-USDT"
MARKET = Market("BTCUSDT", "BTC", "USDT")


def _same_book(book: Any, true_book: Any) -> Callable[[], bool]:
    """True once the connector's book has applied the sandbox's latest change and matches it."""
    return lambda: book.last_diff_uid == true_book.update_id and connector_top(book) == true_top(true_book)


async def test_public_book_converges_to_the_true_book_under_simulated_trading() -> None:
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=7, markets=[MARKET], futures_markets=[], config=config) as sb:
        connector = spot_connector(sb)
        await connector.start_network()
        try:
            await wait_until(lambda: connector.ready, what="connector ready")
            await assert_book_tracks(connector, PAIR, sb.spot.engine.book("BTCUSDT"))
        finally:
            await connector.stop_network()


async def test_depth_gap_and_socket_drop_are_detected_and_resynced() -> None:
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=8, markets=[MARKET], futures_markets=[], config=config) as sb:
        connector = spot_connector(sb)
        await connector.start_network()
        try:
            await wait_until(lambda: connector.ready, what="connector ready")
            tracker = connector.order_book_tracker

            def metrics() -> PairMetrics:
                return tracker.metrics(PAIR)

            await wait_until(lambda: metrics().diffs_applied > 5, what="live diffs")
            sb.faults.skip_depth_updates("BTCUSDT", 1)
            await wait_until(lambda: metrics().gaps >= 1 and tracker.is_ready(PAIR),
                             what="gap detected and book resynced")
            sb.faults.drop_websockets()
            resyncs = metrics().resyncs
            await wait_until(lambda: metrics().resyncs > resyncs and tracker.is_ready(PAIR),
                             what="resync after reconnect")
            true_book = sb.spot.engine.book("BTCUSDT")
            book = connector.get_order_book(PAIR)
            await wait_until(lambda: book.last_diff_uid == true_book.update_id
                             and connector_top(book) == true_top(true_book), what="book equal again")
        finally:
            await connector.stop_network()


async def test_orders_fills_fees_and_balances_match_the_sandbox() -> None:
    async with Sandbox(seed=9, markets=[MARKET], futures_markets=[], simulate=False) as sb:
        mm_key, mm_secret = sb.create_account({"BTC": Decimal("10"), "USDT": Decimal("1000000")})
        key, secret = sb.create_account({"BTC": Decimal("1"), "USDT": Decimal("100000")},
                                        maker_commission=Decimal("0.001"), taker_commission=Decimal("0.002"))
        account = sb.account_id(key)
        mm = spot_connector(sb, mm_key, mm_secret)
        us = spot_connector(sb, key, secret)
        log = EventLog(us)
        await mm.start_network()
        await us.start_network()
        try:
            await wait_until(lambda: mm.ready and us.ready, what="connectors ready")
            for price in ("30010", "30020"):
                mm.sell(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal(price))
            mm.buy(PAIR, Decimal("0.5"), OrderType.LIMIT, Decimal("29990"))
            def quoted() -> bool:
                orders = mm.in_flight_orders.values()
                return len(orders) == 3 and all(o.current_state is OrderState.OPEN for o in orders)

            await wait_until(quoted, what="market maker quotes")

            # LIMIT: rests, then is cancelled; funds are released.
            limit_id = us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("29000"))
            await wait_until(lambda: log.of(MarketEvent.BuyOrderCreated, limit_id), what="limit created")
            await wait_until(lambda: us.get_available_balance("USDT") == Decimal("97100"), what="USDT locked")
            us.cancel(PAIR, limit_id)
            await wait_until(lambda: log.of(MarketEvent.OrderCancelled, limit_id), what="limit cancelled")
            await wait_until(lambda: us.get_available_balance("USDT") == Decimal("100000"), what="USDT freed")

            # LIMIT_MAKER that would take: the exchange rejects it, the order fails.
            maker_id = us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT_MAKER, Decimal("30010"))
            await wait_until(lambda: log.of(MarketEvent.OrderFailure, maker_id), what="post-only rejected")
            # LIMIT_MAKER that rests.
            resting_id = us.buy(PAIR, Decimal("0.1"), OrderType.LIMIT_MAKER, Decimal("29500"))
            await wait_until(lambda: log.of(MarketEvent.BuyOrderCreated, resting_id), what="maker created")
            assert [o.client_order_id for o in sb.spot.exchange.open_orders(sb.accounts.by_id(account))] == [
                resting_id]
            us.cancel(PAIR, resting_id)
            await wait_until(lambda: log.of(MarketEvent.OrderCancelled, resting_id), what="maker cancelled")

            # MARKET: sweeps two levels; one fill event per trade, fees in the base asset bought.
            market_id = us.buy(PAIR, Decimal("0.7"), OrderType.MARKET)
            await wait_until(lambda: log.of(MarketEvent.BuyOrderCompleted, market_id), what="market filled")
            fills = log.of(MarketEvent.OrderFilled, market_id)
            assert sorted((f.price, f.amount) for f in fills) == [
                (Decimal("30010"), Decimal("0.5")), (Decimal("30020"), Decimal("0.2"))]
            assert {f.trade_fee.flat_fees for f in fills} == {
                (TokenAmount("BTC", Decimal("0.001")),), (TokenAmount("BTC", Decimal("0.0004")),)}
            assert all(f.is_taker for f in fills)

            # Partial fill of a resting sell by the market maker, then cancel of the rest.
            sell_id = us.sell(PAIR, Decimal("0.3"), OrderType.LIMIT, Decimal("30015"))
            await wait_until(lambda: log.of(MarketEvent.SellOrderCreated, sell_id), what="sell created")
            mm.buy(PAIR, Decimal("0.1"), OrderType.MARKET)
            await wait_until(lambda: log.of(MarketEvent.OrderFilled, sell_id), what="partial fill")
            order = us.in_flight_orders[sell_id]
            assert order.current_state is OrderState.PARTIALLY_FILLED
            assert order.executed_amount_base == Decimal("0.1")
            (fill,) = log.of(MarketEvent.OrderFilled, sell_id)
            assert fill.trade_fee.flat_fees == (TokenAmount("USDT", Decimal("3.0015")),)  # maker, in quote
            assert not fill.is_taker
            us.cancel(PAIR, sell_id)
            await wait_until(lambda: log.of(MarketEvent.OrderCancelled, sell_id), what="rest cancelled")

            # Balances equal the sandbox's ledger, total and available.
            def balances_match() -> bool:
                for asset in ("BTC", "USDT"):
                    true = sb.spot.ledger.balance(account, asset)
                    if (us.get_balance(asset), us.get_available_balance(asset)) != (true.free + true.locked,
                                                                                  true.free):
                        return False
                return True

            await wait_until(balances_match, what="balances equal the sandbox")
            assert us.get_balance("BTC") == Decimal("1") + Decimal("0.7") - Decimal("0.0014") - Decimal("0.1")
        finally:
            await us.stop_network()
            await mm.stop_network()


async def test_pairs_added_and_removed_on_a_live_connection() -> None:
    markets = [MARKET, Market("ETHUSDT", "ETH", "USDT", mid=Decimal("2000"))]
    config = SandboxConfig(simulator_interval_s=0.05)
    async with Sandbox(seed=10, markets=markets, futures_markets=[], config=config) as sb:
        connector = spot_connector(sb)
        await connector.start_network()
        try:
            tracker = connector.order_book_tracker
            await wait_until(lambda: connector.ready, what="connector ready")
            connections = tracker.data_source.connection_count
            assert await tracker.add_trading_pair("ETH-USDT")
            await wait_until(
                lambda: tracker.is_ready("ETH-USDT") and tracker.metrics("ETH-USDT").diffs_applied > 3,
                what="ETH-USDT live",
            )
            assert tracker.data_source.connection_count == connections  # same socket, SUBSCRIBE
            true_book = sb.spot.engine.book("ETHUSDT")
            book = connector.get_order_book("ETH-USDT")
            await wait_until(lambda: book.last_diff_uid == true_book.update_id
                             and connector_top(book) == true_top(true_book), what="ETH book equal")
            assert await tracker.remove_trading_pair("ETH-USDT")
            assert "ETH-USDT" not in connector.order_books
        finally:
            await connector.stop_network()


async def test_an_unlisted_pair_does_not_stop_the_others() -> None:
    async with Sandbox(seed=12, markets=[MARKET], futures_markets=[],
                       config=SandboxConfig(simulator_interval_s=0.05)) as sb:
        connector = spot_connector(sb, pairs=("BTC-USDT", "NOPE-USDT"))
        await connector.start_network()
        try:
            tracker = connector.order_book_tracker
            await wait_until(lambda: tracker.is_ready(PAIR) and tracker.metrics(PAIR).diffs_applied > 3,
                             what="BTC-USDT live despite the unlisted pair")
            assert not tracker.is_ready("NOPE-USDT") and not connector.ready
        finally:
            await connector.stop_network()


async def test_orders_are_quantized_and_validated_before_sending() -> None:
    async with Sandbox(seed=13, markets=[MARKET], futures_markets=[], simulate=False) as sb:
        key, secret = sb.create_account({"USDT": Decimal("100000")})
        account = sb.account_id(key)
        us = spot_connector(sb, key, secret)
        log = EventLog(us)
        await us.start_network()
        try:
            await wait_until(lambda: us.ready, what="connector ready")
            tiny = us.buy(PAIR, Decimal("0.0001"), OrderType.LIMIT, Decimal("29000"))  # notional 2.9 < 5
            await wait_until(lambda: log.of(MarketEvent.OrderFailure, tiny), what="refused locally")
            (failure,) = log.of(MarketEvent.OrderFailure, tiny)
            assert failure.error_type == "OrderValidationError" and "notional" in failure.error_message
            assert sb.spot.exchange.find_order(sb.accounts.by_id(account), "BTCUSDT", None, tiny) is None

            odd = us.buy(PAIR, Decimal("0.123456789"), OrderType.LIMIT, Decimal("29000.129"))
            await wait_until(lambda: log.of(MarketEvent.BuyOrderCreated, odd), what="quantized order created")
            true = sb.spot.exchange.find_order(sb.accounts.by_id(account), "BTCUSDT", None, odd)
            assert (true.price, true.orig_qty) == (Decimal("29000.12"), Decimal("0.12345"))  # tick, step
            assert len(odd) <= 36 and odd.startswith("ckB")
        finally:
            await us.stop_network()


async def test_pairs_are_spread_over_connections_within_the_stream_limit() -> None:
    markets = [MARKET, Market("ETHUSDT", "ETH", "USDT", mid=Decimal("2000")),
               Market("BNBUSDT", "BNB", "USDT", mid=Decimal("500"))]
    async with Sandbox(seed=14, markets=markets, futures_markets=[],
                       config=SandboxConfig(simulator_interval_s=0.05)) as sb:
        connector = spot_connector(sb, pairs=("BTC-USDT", "ETH-USDT"))
        source = connector.order_book_tracker.data_source
        source.MAX_STREAMS_PER_CONNECTION = 2  # depth + trade: one pair per connection
        await connector.start_network()
        try:
            tracker = connector.order_book_tracker
            await wait_until(lambda: connector.ready and source.connection_count == 2,
                             what="two connections, one pair each")
            assert await tracker.add_trading_pair("BNB-USDT")
            await wait_until(lambda: tracker.is_ready("BNB-USDT") and source.connection_count == 3,
                             what="third pair on its own connection")
            for pair, symbol in (("BTC-USDT", "BTCUSDT"), ("ETH-USDT", "ETHUSDT"), ("BNB-USDT", "BNBUSDT")):
                await wait_until(_same_book(connector.get_order_book(pair), sb.spot.engine.book(symbol)),
                                 what=f"{pair} equal")
        finally:
            await connector.stop_network()
