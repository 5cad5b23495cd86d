"""Mark price, index price, funding rate and funding times: pure code; times are passed in (ms).

Binance settles USDⓈ-M perpetual funding every 8 hours at 00:00, 08:00 and 16:00 UTC, i.e. at
multiples of the funding interval since the epoch ("Mark Price" in the USDⓈ-M market-data docs:
``nextFundingTime``). The sandbox keeps that rule but lets the interval be configured, so a test
that sets ``interval_ms=1000`` sees a payment every second on the ordinary wall clock (server
time, signatures and ``recvWindow`` stay real). Nothing here reads a clock: the caller passes
``now_ms`` (the sandbox's :class:`~connectorkit.sandbox.clock.SandboxClock`, or plain integers in tests).

The funding rate follows Binance's published formula
``F = P + clamp(I - P, -0.05 %, +0.05 %)`` with premium ``P = (mark - index) / index`` and the
interest rate ``I`` (0.01 % per interval), capped at ``±cap``; or a fixed rate when configured.
The rate is published with 8 decimals, so it is quantized (explicitly) to 1e-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

EIGHT_HOURS_MS = 8 * 60 * 60 * 1000
DEFAULT_INTEREST_RATE = Decimal("0.0001")
INTEREST_CLAMP = Decimal("0.0005")
DEFAULT_RATE_CAP = Decimal("0.0075")
RATE_QUANTUM = Decimal("0.00000001")


def next_funding_time(now_ms: int, interval_ms: int) -> int:
    """The first funding time strictly after ``now_ms`` (multiples of the interval)."""
    return (now_ms // interval_ms + 1) * interval_ms


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


def funding_rate(
    mark: Decimal,
    index: Decimal,
    interest_rate: Decimal = DEFAULT_INTEREST_RATE,
    cap: Decimal = DEFAULT_RATE_CAP,
) -> Decimal:
    """Binance's funding-rate formula (see module docstring), quantized to 1e-8."""
    if index <= 0:
        raise ValueError("index price must be positive")
    premium = (mark - index) / index
    rate = premium + clamp(interest_rate - premium, -INTEREST_CLAMP, INTEREST_CLAMP)
    return clamp(rate, -cap, cap).quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One settled funding period (USDⓈ-M Market Data REST, "Get Funding Rate History")."""

    funding_time: int
    rate: Decimal
    mark_price: Decimal


@dataclass
class MarkState:
    """What ``GET /fapi/v1/premiumIndex`` and ``<symbol>@markPrice`` publish for one symbol."""

    symbol: str
    mark_price: Decimal
    index_price: Decimal
    next_funding_time: int
    interval_ms: int = EIGHT_HOURS_MS
    interest_rate: Decimal = DEFAULT_INTEREST_RATE
    fixed_rate: Decimal | None = None
    last_funding_rate: Decimal = Decimal(0)
    time: int = 0

    @classmethod
    def start(
        cls,
        symbol: str,
        price: Decimal,
        now_ms: int,
        *,
        interval_ms: int = EIGHT_HOURS_MS,
        fixed_rate: Decimal | None = None,
    ) -> MarkState:
        state = cls(
            symbol=symbol,
            mark_price=price,
            index_price=price,
            next_funding_time=next_funding_time(now_ms, interval_ms),
            interval_ms=interval_ms,
            fixed_rate=fixed_rate,
            time=now_ms,
        )
        state.last_funding_rate = state.current_rate()
        return state

    def current_rate(self) -> Decimal:
        """The rate that will be charged at the next funding time (Binance's ``r``)."""
        if self.fixed_rate is not None:
            return self.fixed_rate
        return funding_rate(self.mark_price, self.index_price, self.interest_rate)

    def update_prices(self, mark: Decimal, index: Decimal, now_ms: int) -> None:
        if mark <= 0 or index <= 0:
            raise ValueError("mark and index prices must be positive")
        self.mark_price = mark
        self.index_price = index
        self.time = now_ms
        self.last_funding_rate = self.current_rate()

    def due(self, now_ms: int) -> bool:
        return now_ms >= self.next_funding_time

    def settle(self, now_ms: int) -> tuple[int, Decimal]:
        """Close the funding period that is due; return (funding time, rate charged).

        Periods missed while nobody looked are collapsed into the latest one (one payment),
        as an exchange that was down would not charge twice.
        """
        if not self.due(now_ms):
            raise ValueError("no funding is due")
        funding_time = now_ms - (now_ms - self.next_funding_time) % self.interval_ms
        rate = self.current_rate()
        self.next_funding_time = funding_time + self.interval_ms
        return funding_time, rate
