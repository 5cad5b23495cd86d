"""Background traders that make books and trades move: a market maker quoting around a seeded random-walk
mid, and a taker that sometimes crosses the spread. Works on any product through :class:`SimVenue`.

Deterministic for a given seed as long as nobody else trades (other orders change what the bots hit).
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Protocol

from connectorkit.sandbox.engine import Side
from connectorkit.sandbox.errors import ApiError
from connectorkit.sandbox.product import Repeater

log = logging.getLogger(__name__)


class SimVenue(Protocol):
    def sim_quote(self, account_id: int, symbol: str, side: Side, price: Decimal, qty: Decimal) -> int | None:
        """Place a resting limit order; return its id (None if refused)."""
        ...

    def sim_cancel(self, account_id: int, symbol: str, order_id: int) -> None: ...

    def sim_take(self, account_id: int, symbol: str, side: Side, qty: Decimal) -> None:
        """Send a market order."""


@dataclass(slots=True)
class SimMarket:
    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    mid: Decimal
    volatility: Decimal


def _to_multiple(value: Decimal, unit: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    return (value / unit).to_integral_value(rounding=rounding) * unit


class MarketSimulator:
    def __init__(
        self,
        venue: SimVenue,
        markets: list[SimMarket],
        rng: random.Random,
        maker_account: int,
        taker_account: int,
        *,
        levels: int = 5,
        take_probability: float = 0.3,
    ) -> None:
        self.venue = venue
        self.markets = markets
        self.rng = rng
        self.maker_account = maker_account
        self.taker_account = taker_account
        self.levels = levels
        self.take_probability = take_probability
        self._quotes: dict[str, list[int]] = {m.symbol: [] for m in markets}
        self.steps = 0

    def step(self) -> None:
        """One round: move every mid, requote, maybe take."""
        self.steps += 1
        for m in self.markets:
            shock = self.rng.gauss(0.0, float(m.volatility))
            m.mid = max(m.tick, _to_multiple(m.mid * Decimal(repr(math.exp(shock))), m.tick))
            for oid in self._quotes[m.symbol]:
                with contextlib.suppress(ApiError):  # already filled
                    self.venue.sim_cancel(self.maker_account, m.symbol, oid)
            self._quotes[m.symbol] = []
            base_qty = max(m.min_qty, _to_multiple(m.min_notional * 4 / m.mid, m.step, ROUND_DOWN) + m.step)
            for i in range(1, self.levels + 1):
                for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                    price = m.mid + sign * m.tick * i * max(1, self.rng.randint(1, 3))
                    if price <= 0:
                        continue
                    qty = base_qty * self.rng.randint(1, 10)
                    try:
                        new_id = self.venue.sim_quote(self.maker_account, m.symbol, side, price, qty)
                    except ApiError as err:
                        log.debug("simulated quote refused: %s", err)
                        continue
                    if new_id is not None:
                        self._quotes[m.symbol].append(new_id)
            if self.rng.random() < self.take_probability:
                side = Side.BUY if self.rng.random() < 0.5 else Side.SELL
                try:
                    self.venue.sim_take(self.taker_account, m.symbol, side, base_qty * self.rng.randint(1, 3))
                except ApiError as err:
                    log.debug("simulated take refused: %s", err)

    async def run(self, interval_s: float) -> None:
        await Repeater("market simulator", interval_s, self.step).run()
