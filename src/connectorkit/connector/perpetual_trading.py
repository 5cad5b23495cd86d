"""Perpetual account state: positions, leverage, position mode and funding info.

``PerpetualTrading`` holds state only (no I/O). ``PerpetualDerivativePyBase`` owns one instance and
feeds it from REST polling, the user stream and the order book data source's funding feed; strategies
read it through the derivative connector.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from connectorkit.core.enums import PositionMode, PositionSide
from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.position import Position

logger = logging.getLogger(__name__)


class PerpetualTrading:
    """Positions keyed by pair (ONEWAY) or pair and side (HEDGE), leverage per pair, funding per pair."""

    def __init__(self, trading_pairs: Iterable[str], default_leverage: int = 1) -> None:
        self._trading_pairs: list[str] = list(trading_pairs)
        self._default_leverage = default_leverage
        self._positions: dict[str, Position] = {}
        self._leverage: dict[str, int] = {}
        self._position_mode: PositionMode = PositionMode.ONEWAY
        self._funding_info: dict[str, FundingInfo] = {}

    @property
    def trading_pairs(self) -> list[str]:
        return list(self._trading_pairs)

    # ---- positions ------------------------------------------------------------------------------
    @property
    def position_mode(self) -> PositionMode:
        return self._position_mode

    def set_position_mode(self, mode: PositionMode) -> None:
        """Record the account's position mode. Existing positions are keyed for the old mode, so
        they are dropped; the connector re-reads positions from the exchange after a change."""
        if mode is not self._position_mode:
            self._positions.clear()
        self._position_mode = mode

    def position_key(self, trading_pair: str, side: PositionSide | None = None) -> str:
        """``BTC-USDT`` in ONEWAY mode, ``BTC-USDTLONG`` / ``BTC-USDTSHORT`` in HEDGE mode."""
        if self._position_mode is PositionMode.HEDGE:
            if side is None or side is PositionSide.BOTH:
                raise ValueError(f"HEDGE mode needs a LONG or SHORT side for {trading_pair}")
            return f"{trading_pair}{side.value}"
        return trading_pair

    @property
    def account_positions(self) -> Mapping[str, Position]:
        """Read-only view of the open positions, keyed by :meth:`position_key`."""
        return MappingProxyType(self._positions)

    def get_position(self, trading_pair: str, side: PositionSide | None = None) -> Position | None:
        return self._positions.get(self.position_key(trading_pair, side))

    def set_position(self, position: Position) -> None:
        """Store or replace a position; a zero amount removes it (the exchange closed it)."""
        side = None if self._position_mode is PositionMode.ONEWAY else position.position_side
        key = self.position_key(position.trading_pair, side)
        if position.amount == 0:
            self._positions.pop(key, None)
        else:
            self._positions[key] = position

    # ---- leverage -------------------------------------------------------------------------------
    def get_leverage(self, trading_pair: str) -> int:
        return self._leverage.get(trading_pair, self._default_leverage)

    def set_leverage(self, trading_pair: str, leverage: int) -> None:
        if leverage < 1:
            raise ValueError(f"leverage must be >= 1, got {leverage}")
        self._leverage[trading_pair] = leverage

    # ---- funding --------------------------------------------------------------------------------
    def get_funding_info(self, trading_pair: str) -> FundingInfo:
        try:
            return self._funding_info[trading_pair]
        except KeyError:
            raise KeyError(f"no funding info yet for {trading_pair}") from None

    def initialize_funding_info(self, funding_info: FundingInfo) -> None:
        self._funding_info[funding_info.trading_pair] = funding_info

    def apply_funding_info_update(self, update: FundingInfoUpdate) -> bool:
        """Merge an update into the pair's funding info. Returns False (and logs) when the pair has
        no initial funding info yet, since a partial update cannot stand alone."""
        current = self._funding_info.get(update.trading_pair)
        if current is None:
            logger.debug("funding update for %s before its initial funding info; ignored",
                         update.trading_pair)
            return False
        self._funding_info[update.trading_pair] = current.updated(update)
        return True

    def has_funding_info(self, trading_pair: str) -> bool:
        return trading_pair in self._funding_info

    def is_funding_info_initialized(self) -> bool:
        return all(pair in self._funding_info for pair in self._trading_pairs)
