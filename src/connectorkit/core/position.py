"""An open perpetual position as reported by the exchange."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from connectorkit.core.enums import PositionSide


@dataclass(slots=True)
class Position:
    """One open position.

    ``amount`` is signed: positive for long exposure, negative for short (in HEDGE mode a SHORT
    position therefore has a negative amount, as Binance reports ``positionAmt``). ``leverage`` is
    the leverage the position was opened with.
    """

    trading_pair: str
    position_side: PositionSide
    unrealized_pnl: Decimal
    entry_price: Decimal
    amount: Decimal
    leverage: Decimal

    def __post_init__(self) -> None:
        for name in ("unrealized_pnl", "entry_price", "amount", "leverage"):
            if not isinstance(getattr(self, name), Decimal):
                raise TypeError(f"Position.{name} must be a Decimal")

    def update_position(
        self,
        position_side: PositionSide | None = None,
        unrealized_pnl: Decimal | None = None,
        entry_price: Decimal | None = None,
        amount: Decimal | None = None,
        leverage: Decimal | None = None,
    ) -> None:
        """Apply the fields an exchange update carries; ``None`` keeps the current value."""
        if position_side is not None:
            self.position_side = position_side
        if unrealized_pnl is not None:
            self.unrealized_pnl = unrealized_pnl
        if entry_price is not None:
            self.entry_price = entry_price
        if amount is not None:
            self.amount = amount
        if leverage is not None:
            self.leverage = leverage
