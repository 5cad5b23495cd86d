"""Funding information of a perpetual contract, kept live by the order book data source."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class FundingInfo:
    """The funding state of one perpetual trading pair.

    ``next_funding_utc_timestamp`` is in seconds since the epoch (UTC); ``rate`` is the funding rate
    of the current period as a fraction (``Decimal("0.0001")`` is 0.01 %).
    """

    trading_pair: str
    index_price: Decimal
    mark_price: Decimal
    next_funding_utc_timestamp: int
    rate: Decimal

    def updated(self, update: FundingInfoUpdate) -> FundingInfo:
        """A copy with every field that ``update`` carries replaced; absent fields are kept."""
        if update.trading_pair != self.trading_pair:
            raise ValueError(
                f"funding update for {update.trading_pair} applied to {self.trading_pair}"
            )
        return replace(
            self,
            index_price=self.index_price if update.index_price is None else update.index_price,
            mark_price=self.mark_price if update.mark_price is None else update.mark_price,
            next_funding_utc_timestamp=(
                self.next_funding_utc_timestamp
                if update.next_funding_utc_timestamp is None
                else update.next_funding_utc_timestamp
            ),
            rate=self.rate if update.rate is None else update.rate,
        )


@dataclass(frozen=True, slots=True)
class FundingInfoUpdate:
    """A partial funding update from a stream: ``None`` means "not carried by this message".

    Delivery (non-perpetual) contracts have no funding: Binance sends an empty rate and a next
    funding time of 0 for them, which the parsers map to ``None``.
    """

    trading_pair: str
    index_price: Decimal | None = None
    mark_price: Decimal | None = None
    next_funding_utc_timestamp: int | None = None
    rate: Decimal | None = None
