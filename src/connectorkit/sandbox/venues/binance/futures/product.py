"""The USD-M futures product: REST routes, market streams, user data stream, marks and funding.

Streams are served on the futures stream app like fstream.binance.com, in both layouts:

* routed (current; USDⓈ-M docs "Important WebSocket Change Notice — Base URL Split & Migration"):
  ``/public/ws/<streams>`` and ``/public/stream?streams=`` for ``<symbol>@depth@100ms`` / ``@depth``
  (250 ms) / ``@depth@500ms`` (``U``/``u``/``pu``) and ``@bookTicker``; ``/market/...`` for
  ``@aggTrade`` and ``@markPrice`` (3 s) / ``@markPrice@1s``; ``/private/ws?listenKey=&events=``,
  ``/private/stream?...`` and ``/private/ws/<listenKey>`` for user data. A stream asked for on the
  wrong route receives nothing, as on Binance.
* legacy: ``/ws/<streams>``, ``/stream?streams=`` and ``/ws/<listenKey>`` carry every stream (kept so
  older clients and the brief's "append /ws" rule keep working).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from connectorkit.sandbox.engine import Side
from connectorkit.sandbox.history import FUTURES_INTERVALS, MAX_BACKFILL_VOLATILITY, BackfillSpec, backfill
from connectorkit.sandbox.product import SandboxContext
from connectorkit.sandbox.ratelimit import RateLimitRule
from connectorkit.sandbox.simulator import MarketSimulator, SimMarket
from connectorkit.sandbox.venues.binance.http import ApiGateway
from connectorkit.sandbox.venues.binance.listenkeys import ListenKeyRegistry
from connectorkit.sandbox.venues.binance.ratelimit import BinanceRateLimiter
from connectorkit.sandbox.venues.binance.stats_streams import FUTURES_SPEEDS, StatsStreams, StreamNames
from connectorkit.sandbox.venues.binance.streams import StreamHub
from connectorkit.sandbox.venues.binance.userstream import UserEventBus

from . import wire
from .errors import USDM_TOO_MANY_REQUESTS
from .exchange import FuturesExchange, OrderRequest
from .funding import FundingRecord, next_funding_time
from .market_rest import MarginTypes, mount_market_rest
from .markets import DEFAULT_FUTURES_MARKETS, FuturesMarket
from .private import PrivateStreams
from .rest import mount_rest
from .state import dump_exchange, load_exchange

log = logging.getLogger(__name__)

# USDⓈ-M "Exchange Information" rateLimits (REQUEST_WEIGHT 2400/min, ORDERS 1200/min and 300/10 s).
FUTURES_RATE_LIMITS = (
    RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 2400),
    RateLimitRule("ORDERS", "MINUTE", 1, 1200),
    RateLimitRule("ORDERS", "SECOND", 10, 300),
)
# "Diff. Book Depth Streams": pushed every 250 ms (default), 500 ms or 100 ms.
DEPTH_SPEEDS_MS = {"@depth@100ms": 100, "@depth": 250, "@depth@500ms": 500}
# "Partial Book Depth Streams": <symbol>@depth<levels>, every 250 ms, 500 ms or 100 ms.
PARTIAL_DEPTH_SPEEDS_MS = {
    f"@depth{n}{speed}": every
    for n in (5, 10, 20)
    for speed, every in (("", 250), ("@500ms", 500), ("@100ms", 100))
}
# "Mark Price Stream": every 3 s, or every second with @1s.
MARK_SPEEDS_MS = {"@markPrice": 3000, "@markPrice@1s": 1000}


MAKER_LABEL = "futures-simulated-market-maker"
TAKER_LABEL = "futures-simulated-taker"
_BOT_FUNDS = Decimal("1000000000")


class FuturesSimAdapter:
    """Lets the shared market simulator trade futures through the normal order path (one-way mode)."""

    def __init__(self, exchange: FuturesExchange) -> None:
        self.exchange = exchange

    def sim_quote(self, account_id: int, symbol: str, side: Side, price: Decimal, qty: Decimal) -> int | None:
        req = OrderRequest(symbol, side.value, "LIMIT", qty, price, time_in_force="GTC", resp_type="RESULT")
        answer = self.exchange.new_order(account_id, req)
        return int(answer["orderId"]) if answer["status"] in ("NEW", "PARTIALLY_FILLED") else None

    def sim_cancel(self, account_id: int, symbol: str, order_id: int) -> None:
        self.exchange.cancel_order(account_id, symbol, order_id, None)

    def sim_take(self, account_id: int, symbol: str, side: Side, qty: Decimal) -> None:
        self.exchange.new_order(account_id, OrderRequest(symbol, side.value, "MARKET", qty))


@dataclass
class _DepthStream:
    """Changes accumulated for one ``<symbol>@depth...`` stream between two pushes."""

    last_final: int = 0
    first: int | None = None
    final: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    next_push_ms: int = 0


class FuturesProduct:
    name = "futures"

    def __init__(
        self,
        ctx: SandboxContext,
        markets: Sequence[FuturesMarket] = DEFAULT_FUTURES_MARKETS,
        *,
        tick_s: float = 0.05,
    ) -> None:
        self.ctx = ctx
        self.tick_s = tick_s
        self.started_ms = ctx.clock.now_ms()
        cfg = ctx.config
        self.limiter = BinanceRateLimiter(
            cfg.futures_rate_limits or FUTURES_RATE_LIMITS,
            ban_after_violations=cfg.rate_limit_ban_after,
            ban_ms=cfg.rate_limit_ban_ms,
            too_many_requests=USDM_TOO_MANY_REQUESTS,
        )
        self.gateway = ApiGateway(ctx.accounts, ctx.clock, ctx.faults, self.limiter)
        names = futures_stream_names(markets)
        self.hub = StreamHub(ctx.faults, name="futures", heartbeat=cfg.ws_heartbeat_s, serves=names)
        self.public_hub = StreamHub(
            ctx.faults, name="futures-public", heartbeat=cfg.ws_heartbeat_s, serves=names
        )
        self.market_hub = StreamHub(
            ctx.faults, name="futures-market", heartbeat=cfg.ws_heartbeat_s, serves=names
        )
        self.listen_keys = ListenKeyRegistry(cfg.listen_key_validity_ms)
        self.bus = UserEventBus(ctx.faults, self.hub, self.listen_keys, ctx.clock)
        self.private = PrivateStreams(ctx.faults, self.bus, self.listen_keys, cfg.ws_heartbeat_s)
        ctx.faults.register_listen_key_expirer(lambda key: self.listen_keys.expire(key, ctx.clock.now_ms()))
        self.exchange = FuturesExchange(
            markets, ctx.clock, self.bus.push, self.publish, ctx.rng("futures-client-order-ids")
        )
        self._depth: dict[tuple[str, str], _DepthStream] = {
            (m.symbol, suffix): _DepthStream() for m in markets for suffix in DEPTH_SPEEDS_MS
        }
        self._depth_skips = dict.fromkeys(self.exchange.markets, 0)
        # Partial depth: (symbol, suffix) -> (next push time, last pushed final update id).
        self._partial: dict[tuple[str, str], tuple[int, int]] = {}
        self.stats_streams = StatsStreams(
            self.exchange.history,
            publish=self.publish,
            has_subscribers=self._has_subscribers,
            fmt=wire.fmt,
            intervals=FUTURES_INTERVALS,
            speeds=FUTURES_SPEEDS,
            top=None,
            rolling_windows=False,
            continuous_klines=True,
        )
        self._next_mark_push = dict.fromkeys(MARK_SPEEDS_MS, 0)
        self._next_sweep_ms = 0
        self.margin_types = MarginTypes()
        self.simulator: MarketSimulator | None = None
        self.tick_errors = 0

    # ---- Product protocol ------------------------------------------------------------------------
    def mount(self, rest_app: web.Application, stream_app: web.Application) -> None:
        mount_rest(rest_app, self, self.gateway)
        mount_market_rest(rest_app, self, self.gateway)
        self.hub.mount(stream_app)
        self.private.mount(stream_app)
        for prefix, hub in (("/public", self.public_hub), ("/market", self.market_hub)):
            routed = web.Application()
            hub.mount(routed)
            stream_app.add_subapp(prefix, routed)

    def publish(self, stream: str, payload: dict[str, Any]) -> None:
        """Send a market event on the legacy endpoint and on its route (/public or /market)."""
        self.hub.publish(stream, payload)
        public = "@depth" in stream or stream.endswith(("@bookTicker", "@trade"))
        route = self.public_hub if public else self.market_hub
        route.publish(stream, payload)

    def set_commission(self, account_id: int, maker: Decimal, taker: Decimal) -> None:
        """Per-account futures commission rates (default VIP 0: maker 0.02 %, taker 0.05 %)."""
        acct = self.exchange.account(account_id)
        acct.maker_fee, acct.taker_fee = maker, taker

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Credit the account's futures wallet (TRANSFER income; ACCOUNT_UPDATE reason DEPOSIT)."""
        self.exchange.transfer_in(account_id, asset, amount)

    async def start(self) -> None:
        self.ctx.spawn(self._run(), name="sandbox-futures-ticker")
        if self.ctx.simulate and self.exchange.markets:
            self._backfill_history()
            self.simulator = self._build_simulator()
            interval = self.ctx.config.simulator_interval_s
            self.ctx.spawn(self.simulator.run(interval), "sandbox-futures-simulator")

    def _bot(self, label: str) -> int:
        """The simulated trader's account (reused after a restart): fee-free, history not kept."""
        account = next((a for a in self.ctx.accounts if a.label == label), None)
        created = account is None
        if account is None:
            account = self.ctx.accounts.create(label=label)
        acct = self.exchange.account(account.account_id)
        acct.maker_fee = acct.taker_fee = Decimal(0)
        acct.keep_income = False
        self.exchange.ephemeral_accounts.add(account.account_id)
        if created:
            for asset in sorted({m.margin_asset for m in self.exchange.markets.values()}):
                self.deposit(account.account_id, asset, _BOT_FUNDS)
        return account.account_id

    def _backfill_history(self) -> None:
        """Synthetic trades and settled funding periods before start-up (see
        :mod:`connectorkit.sandbox.history`), for a contract that never traded."""
        steps_per_minute = 60 / self.ctx.config.simulator_interval_s
        now = self.ctx.clock.now_ms()
        rng = self.ctx.rng("futures-history")
        for m in self.exchange.markets.values():
            book = self.exchange.engine.book(m.symbol)
            if book.next_trade_id != 1:
                continue
            volatility = min(float(m.volatility) * math.sqrt(steps_per_minute), MAX_BACKFILL_VOLATILITY)
            spec = BackfillSpec(m.tick_size, m.step_size, m.min_qty, m.min_notional, m.mid, volatility)
            history = self.exchange.history[m.symbol]
            next_trade, next_agg = backfill(
                history, spec, now, rng, first_agg_id=self.exchange.agg_ids[m.symbol] + 1
            )
            book.next_trade_id = next_trade
            self.exchange.agg_ids[m.symbol] = next_agg - 1
            mark = self.exchange.marks[m.symbol]
            first = history.trades[0].time if history.trades else now
            t = next_funding_time(first, m.funding_interval_ms)
            while t <= now:
                price = history.window_stats(now - t, now, minute_aligned=False).open
                self.exchange.funding_history[m.symbol].append(FundingRecord(t, mark.current_rate(), price))
                t += m.funding_interval_ms

    def _build_simulator(self) -> MarketSimulator:
        maker, taker = self._bot(MAKER_LABEL), self._bot(TAKER_LABEL)
        sim_markets = [
            SimMarket(m.symbol, m.tick_size, m.step_size, m.min_qty, m.min_notional, m.mid, m.volatility)
            for m in self.exchange.markets.values()
        ]
        return MarketSimulator(
            FuturesSimAdapter(self.exchange), sim_markets, self.ctx.rng("futures-simulator"), maker, taker
        )

    async def stop(self) -> None:
        await self.private.close()
        for hub in (self.hub, self.public_hub, self.market_hub):
            await hub.close()

    def dump_state(self) -> dict[str, Any]:
        return {
            "exchange": dump_exchange(self.exchange),
            "listen_keys": self.listen_keys.dump(),
            "margin_types": self.margin_types.dump(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        load_exchange(self.exchange, state["exchange"])
        self.listen_keys.load(state.get("listen_keys", []))
        self.margin_types.load(state.get("margin_types", []))

    # ---- background work -------------------------------------------------------------------------
    async def _run(self) -> None:
        """One loop for marks, funding, margin calls, liquidations, depth and mark pushes, key expiry."""
        while True:
            try:
                self.tick()
            except Exception:
                # One bad tick must not stop funding and streams for good: log, count, go on.
                self.tick_errors += 1
                log.exception("futures ticker: tick failed (%d so far)", self.tick_errors)
            await asyncio.sleep(self.tick_s)

    def tick(self) -> None:
        now = self.ctx.clock.now_ms()
        self.exchange.refresh_marks()
        self.exchange.settle_funding()
        self.exchange.check_margin_calls()
        self.exchange.liquidate()
        self._push_depth(now)
        self._push_partial_depth(now)
        self._push_marks(now)
        self.stats_streams.tick(now)
        if now >= self._next_sweep_ms:
            self.listen_keys.sweep(now)
            self.exchange.prune_orders(now)
            self._next_sweep_ms = now + int(self.ctx.config.listen_key_sweep_s * 1000)

    def _has_subscribers(self, stream: str) -> bool:
        return any(h.has_subscribers(stream) for h in (self.hub, self.public_hub, self.market_hub))

    def _push_marks(self, now: int) -> None:
        for suffix, every in MARK_SPEEDS_MS.items():
            if now < self._next_mark_push[suffix]:
                continue
            self._next_mark_push[suffix] = now + every
            for symbol, state in self.exchange.marks.items():
                self.publish(f"{symbol.lower()}{suffix}", wire.mark_price_update(state, now))

    def _push_partial_depth(self, now: int) -> None:
        """ "Partial Book Depth Streams": the top levels with ``U``/``u``/``pu`` like the diff stream."""
        for symbol in self.exchange.markets:
            book = self.exchange.engine.book(symbol)
            for suffix, every in PARTIAL_DEPTH_SPEEDS_MS.items():
                name = f"{symbol.lower()}{suffix}"
                due, last_final = self._partial.get((symbol, suffix), (0, book.update_id))
                if now < due or not self._has_subscribers(name):
                    continue
                levels = int(suffix[len("@depth") :].split("@")[0])
                bids, asks = book.depth(levels)
                final = book.update_id
                event = wire.depth_update(
                    symbol, min(last_final + 1, final), final, last_final, bids, asks, now, now
                )
                self._partial[(symbol, suffix)] = (now + every, final)
                self.publish(name, event)

    def _push_depth(self, now: int) -> None:
        for symbol in self.exchange.markets:
            self._depth_skips[symbol] += self.ctx.faults.take_depth_skip(symbol)
            changes = self.exchange.engine.book(symbol).drain_changes()
            for suffix, every in DEPTH_SPEEDS_MS.items():
                stream = self._depth[(symbol, suffix)]
                name = f"{symbol.lower()}{suffix}"
                if changes is not None:
                    if not self._has_subscribers(name):
                        stream.last_final = changes.final_update_id
                        stream.first = None
                        stream.bids.clear()
                        stream.asks.clear()
                        continue
                    if stream.first is None:
                        stream.first = changes.first_update_id
                        if stream.last_final == 0:
                            stream.last_final = changes.first_update_id - 1
                    stream.final = changes.final_update_id
                    stream.bids.update(changes.bids)
                    stream.asks.update(changes.asks)
                if stream.first is None or now < stream.next_push_ms:
                    continue
                stream.next_push_ms = now + every
                event = wire.depth_update(
                    symbol,
                    stream.first,
                    stream.final,
                    stream.last_final,
                    sorted(stream.bids.items(), reverse=True),
                    sorted(stream.asks.items()),
                    now,
                    now,
                )
                stream.last_final = stream.final
                stream.first = None
                stream.bids.clear()
                stream.asks.clear()
                if self._depth_skips[symbol] > 0:
                    # Sequence-gap fault: the update is lost, so the next one's pu won't match.
                    self._depth_skips[symbol] -= 1
                    continue
                self.publish(name, event)


def futures_stream_names(markets: Sequence[FuturesMarket]) -> StreamNames:
    """USDⓈ-M "Websocket Market Streams" that the sandbox produces."""
    intervals = "|".join(FUTURES_INTERVALS)
    per_symbol = [
        "aggTrade", "trade", "bookTicker", "depth(?:@100ms|@500ms)?", "depth(?:5|10|20)(?:@100ms|@500ms)?",
        "markPrice(?:@1s)?", "ticker", "miniTicker", f"kline_(?:{intervals})",
    ]  # fmt: skip
    per_pair = [f"continuousKline_(?:{intervals})"]
    return StreamNames([m.symbol for m in markets], per_symbol, ["!ticker@arr", "!miniTicker@arr"], per_pair)


def create_product(ctx: SandboxContext, markets: Sequence[FuturesMarket] | None = None) -> FuturesProduct:
    """Factory used by :class:`~connectorkit.sandbox.Sandbox` (see ARCHITECTURE.md)."""
    return FuturesProduct(ctx, DEFAULT_FUTURES_MARKETS if markets is None else markets)
