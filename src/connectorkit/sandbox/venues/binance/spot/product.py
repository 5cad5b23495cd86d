"""The spot product: wires exchange, REST, streams, user data, WS-API and background tasks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from connectorkit.sandbox.clock import SandboxClock
from connectorkit.sandbox.engine import Side
from connectorkit.sandbox.history import (
    MAX_BACKFILL_VOLATILITY,
    SPOT_INTERVALS,
    BackfillSpec,
    MarketHistory,
    backfill,
)
from connectorkit.sandbox.markets import Market
from connectorkit.sandbox.product import Repeater, SandboxContext
from connectorkit.sandbox.ratelimit import RateLimiter
from connectorkit.sandbox.simulator import MarketSimulator, SimMarket
from connectorkit.sandbox.venue import Execution
from connectorkit.sandbox.venues.binance.http import ApiGateway
from connectorkit.sandbox.venues.binance.listenkeys import ListenKeyRegistry
from connectorkit.sandbox.venues.binance.ratelimit import SPOT_RATE_LIMITS, BinanceRateLimiter
from connectorkit.sandbox.venues.binance.spot.exchange import SpotExchange
from connectorkit.sandbox.venues.binance.spot.format import fmt
from connectorkit.sandbox.venues.binance.spot.market_rest import SpotMarketRest
from connectorkit.sandbox.venues.binance.spot.marketdata import SpotMarketData
from connectorkit.sandbox.venues.binance.spot.rest import SpotRest
from connectorkit.sandbox.venues.binance.spot.sapi import SpotSapi
from connectorkit.sandbox.venues.binance.spot.wsapi import SpotWsApi
from connectorkit.sandbox.venues.binance.stats_streams import SPOT_SPEEDS, StatsStreams, StreamNames, Top
from connectorkit.sandbox.venues.binance.streams import StreamHub
from connectorkit.sandbox.venues.binance.userstream import UserEventBus


class SpotSimAdapter:
    """Lets the market simulator trade on the spot exchange through the normal order path."""

    def __init__(self, exchange: SpotExchange, accounts: Any) -> None:
        self.exchange = exchange
        self.accounts = accounts

    def sim_quote(self, account_id: int, symbol: str, side: Side, price: Decimal, qty: Decimal) -> int | None:
        result = self.exchange.new_order(
            self.accounts.by_id(account_id),
            symbol=symbol,
            side=side.value,
            order_type="LIMIT",
            time_in_force="GTC",
            quantity=qty,
            price=price,
        )
        return result.order.order_id if result.order.is_open else None

    def sim_cancel(self, account_id: int, symbol: str, order_id: int) -> None:
        self.exchange.cancel_order(self.accounts.by_id(account_id), symbol, order_id, None)

    def sim_take(self, account_id: int, symbol: str, side: Side, qty: Decimal) -> None:
        self.exchange.new_order(
            self.accounts.by_id(account_id), symbol=symbol, side=side.value, order_type="MARKET", quantity=qty
        )


class _UnfilledOrderCredit:
    """Spot FAQ "Spot Unfilled Order Count Rules": an order's first fill (as maker or taker) takes one off
    its account's unfilled order count."""

    def __init__(self, limiter: RateLimiter, clock: SandboxClock) -> None:
        self.limiter = limiter
        self.clock = clock

    def on_executions(self, executions: list[Execution]) -> None:
        for ex in executions:
            if ex.fill is not None and ex.executed_qty == ex.fill.qty:
                self.limiter.order_filled(ex.order.account_id, self.clock.now_ms())


CCXT_SPOT_STREAM_PATH = "/stream/ws"
MAKER_LABEL = "spot-simulated-market-maker"
TAKER_LABEL = "spot-simulated-taker"
_BOT_FUNDS = Decimal("1000000000")


class SpotProduct:
    name = "spot"

    def __init__(self, ctx: SandboxContext, markets: Sequence[Market]) -> None:
        cfg = ctx.config
        self.ctx = ctx
        self.exchange = SpotExchange(markets, ctx.clock, ctx.accounts)
        self.limiter = BinanceRateLimiter(
            cfg.spot_rate_limits or SPOT_RATE_LIMITS,
            ban_after_violations=cfg.rate_limit_ban_after,
            ban_ms=cfg.rate_limit_ban_ms,
            unfilled_order_count=True,
        )
        self.exchange.venue.listeners.append(_UnfilledOrderCredit(self.limiter, ctx.clock))
        self.gateway = ApiGateway(
            ctx.accounts, ctx.clock, ctx.faults, self.limiter, microsecond_timestamps=True
        )
        self.hub = StreamHub(
            ctx.faults, name="spot", heartbeat=cfg.ws_heartbeat_s, serves=spot_stream_names(markets)
        )
        self.listen_keys = ListenKeyRegistry(cfg.listen_key_validity_ms)
        ctx.faults.register_listen_key_expirer(lambda key: self.listen_keys.expire(key, ctx.clock.now_ms()))
        self.bus = UserEventBus(
            ctx.faults, self.hub, self.listen_keys, ctx.clock, expired_time_as_string=True
        )
        self.exchange.user_sink = self.bus.push
        self.history = MarketHistory(self.exchange.markets)
        self.market_data = SpotMarketData(self.exchange, self.hub, ctx.faults, self.history)
        self.stats_streams = StatsStreams(
            self.history,
            publish=self.hub.publish,
            has_subscribers=self.hub.has_subscribers,
            fmt=fmt,
            intervals=SPOT_INTERVALS,
            speeds=SPOT_SPEEDS,
            top=self._top,
            rolling_windows=True,
        )
        self.rest = SpotRest(self.exchange, self.gateway, self.listen_keys)
        self.market_rest = SpotMarketRest(self.exchange, self.gateway, self.history)
        self.sapi = SpotSapi(self.exchange, self.gateway)
        self.ws_api = SpotWsApi(
            ctx.accounts,
            ctx.clock,
            ctx.faults,
            self.limiter,
            self.bus,
            cfg.ws_heartbeat_s,
            rest=self.rest,
            market_rest=self.market_rest,
        )
        self.markets = list(markets)
        self.simulator: MarketSimulator | None = None

    # convenient views for tests
    @property
    def engine(self) -> Any:
        return self.exchange.engine

    @property
    def ledger(self) -> Any:
        return self.exchange.ledger

    @property
    def venue(self) -> Any:
        return self.exchange.venue

    def mount(self, rest_app: web.Application, stream_app: web.Application) -> None:
        self.rest.mount(rest_app)
        self.market_rest.mount(rest_app)
        self.sapi.mount(rest_app)
        self.ws_api.mount(rest_app)
        self.hub.mount(stream_app)
        # ccxt.pro tells a spot stream connection from a futures one by "/stream" in its URL (true of
        # stream.binance.com's); on 127.0.0.1 the raw endpoints are offered under /stream/ws for it.
        self.hub.mount_raw_alias(stream_app, CCXT_SPOT_STREAM_PATH)

    async def start(self) -> None:
        cfg = self.ctx.config
        self.ctx.spawn(self.market_data.run(cfg.depth_fast_ms, cfg.depth_slow_ms), "sandbox-spot-market-data")
        stats = Repeater("spot ticker/kline streams", cfg.depth_fast_ms / 1000, self._publish_stats)
        self.ctx.spawn(stats.run(), "sandbox-spot-stats-streams")
        sweeper = Repeater("spot listen-key sweep", cfg.listen_key_sweep_s, self._sweep_listen_keys)
        self.ctx.spawn(sweeper.run(), "sandbox-spot-listen-key-sweeper")
        if self.ctx.simulate and self.markets:
            self._backfill_history()
            self.simulator = self._build_simulator()
            self.ctx.spawn(self.simulator.run(cfg.simulator_interval_s), "sandbox-spot-simulator")

    def _bot(self, label: str) -> int:
        for account in self.ctx.accounts:
            if account.label == label:
                return account.account_id
        account = self.ctx.accounts.create(
            label=label, maker_commission=Decimal(0), taker_commission=Decimal(0)
        )
        for asset in sorted({m.base for m in self.markets} | {m.quote for m in self.markets}):
            self.exchange.deposit(account.account_id, asset, _BOT_FUNDS)
        return account.account_id

    def _build_simulator(self) -> MarketSimulator:
        maker, taker = self._bot(MAKER_LABEL), self._bot(TAKER_LABEL)
        self.exchange.ephemeral_accounts.update({maker, taker})
        # Quotes of a previous run (restored from --state) are unknown to this simulator: withdraw them.
        for book in self.exchange.engine.books.values():
            for order in book.open_orders(maker):
                self.exchange.venue.cancel(order.symbol, order.order_id)
        sim_markets = []
        for m in self.markets:
            ref = self.exchange.reference_price(m.symbol)
            sim_markets.append(
                SimMarket(
                    m.symbol, m.tick_size, m.step_size, m.min_qty, m.min_notional, ref or m.mid, m.volatility
                )
            )
        return MarketSimulator(
            SpotSimAdapter(self.exchange, self.ctx.accounts),
            sim_markets,
            self.ctx.rng("spot-simulator"),
            maker,
            taker,
        )

    def _top(self, symbol: str) -> Top:
        book = self.exchange.engine.book(symbol)
        return book.best_bid(), book.best_ask()

    def _publish_stats(self) -> None:
        self.stats_streams.tick(self.ctx.clock.now_ms())

    def _backfill_history(self) -> None:
        """Synthetic trades before start-up (see :mod:`connectorkit.sandbox.history`), for a fresh book only:
        the minute volatility is the simulator's per-step one scaled to a minute of steps."""
        steps_per_minute = 60 / self.ctx.config.simulator_interval_s
        now = self.ctx.clock.now_ms()
        rng = self.ctx.rng("spot-history")
        for m in self.markets:
            book = self.exchange.engine.book(m.symbol)
            if book.next_trade_id != 1:
                continue
            spec = BackfillSpec(
                m.tick_size, m.step_size, m.min_qty, m.min_notional, m.mid,
                min(float(m.volatility) * math.sqrt(steps_per_minute), MAX_BACKFILL_VOLATILITY),
            )  # fmt: skip
            next_trade, next_agg = backfill(self.history[m.symbol], spec, now, rng)
            book.next_trade_id = next_trade
            self.market_data.next_agg_ids[m.symbol] = next_agg

    def _sweep_listen_keys(self) -> None:
        self.listen_keys.sweep(self.ctx.clock.now_ms())

    async def stop(self) -> None:
        await self.hub.close()
        await self.ws_api.close()

    def dump_state(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange.dump(),
            "listen_keys": self.listen_keys.dump(),
            "agg_trade_ids": self.market_data.next_agg_ids,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.exchange.load(state["exchange"])
        self.listen_keys.load(state.get("listen_keys", []))
        for symbol, next_id in state.get("agg_trade_ids", {}).items():
            if symbol in self.market_data.next_agg_ids:
                self.market_data.next_agg_ids[symbol] = int(next_id)


def spot_stream_names(markets: Sequence[Market]) -> StreamNames:
    """Spot "WebSocket Streams": every market stream the sandbox produces."""
    intervals = "|".join(SPOT_INTERVALS)
    per_symbol = [
        "trade", "aggTrade", "bookTicker", "depth", "depth@100ms", "depth(?:5|10|20)(?:@100ms)?",
        "ticker", "miniTicker", "ticker_(?:1h|4h|1d)", f"kline_(?:{intervals})",
    ]  # fmt: skip
    return StreamNames([m.symbol for m in markets], per_symbol, ["!ticker@arr", "!miniTicker@arr"])


def create_product(ctx: SandboxContext, markets: Sequence[Market]) -> SpotProduct:
    return SpotProduct(ctx, markets)
