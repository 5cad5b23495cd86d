"""A minimal perpetual connector on PerpetualDerivativePyBase, for the fake exchange server.

It reuses the spot fake's order, balance and user-stream code and adds what a perpetual connector
writes: positions, leverage, position mode and funding payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from connectorkit.connector.perpetual_derivative_py_base import FundingPayment, PerpetualDerivativePyBase
from connectorkit.core.enums import PositionMode, PositionSide
from connectorkit.core.position import Position
from connectorkit.core.trading_rule import TradingRule
from support.fake_exchange import FakeExchange


class FakePerpetual(PerpetualDerivativePyBase, FakeExchange):
    """Both position modes; USDT margin for every pair."""

    SUPPORTED_POSITION_MODES: ClassVar[tuple[PositionMode, ...]] = (PositionMode.ONEWAY, PositionMode.HEDGE)

    @property
    def name(self) -> str:
        return "fake_perpetual"

    def _format_trading_rules(self, exchange_info: Any) -> list[TradingRule]:
        rules = FakeExchange._format_trading_rules(self, exchange_info)
        return [
            TradingRule(
                rule.trading_pair,
                min_order_size=rule.min_order_size,
                min_price_increment=rule.min_price_increment,
                min_base_amount_increment=rule.min_base_amount_increment,
                min_notional_size=rule.min_notional_size,
                buy_order_collateral_token=rule.quote_asset,
                sell_order_collateral_token=rule.quote_asset,
            )
            for rule in rules
        ]

    async def _fetch_positions(self) -> list[Position]:
        rows = await self._api_get(self.rest_url("/api/positions"), is_auth_required=True)
        return [self._position(row) for row in rows]

    def _position(self, row: dict[str, str]) -> Position:
        return Position(
            trading_pair=self.trading_pair_symbol_map()[row["symbol"]],
            position_side=PositionSide(row["positionSide"]),
            unrealized_pnl=Decimal(row["unRealizedProfit"]),
            entry_price=Decimal(row["entryPrice"]),
            amount=Decimal(row["positionAmt"]),
            leverage=Decimal(row["leverage"]),
        )

    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> None:
        await self._api_post(
            self.rest_url("/api/leverage"),
            params={
                "symbol": await self.exchange_symbol_associated_to_pair(trading_pair),
                "leverage": leverage,
            },
            is_auth_required=True,
        )

    async def _set_position_mode_on_exchange(self, mode: PositionMode) -> None:
        await self._api_post(
            self.rest_url("/api/positionSide"),
            params={"dualSidePosition": mode is PositionMode.HEDGE},
            is_auth_required=True,
        )

    async def _fetch_funding_payments(self, trading_pair: str, since: float) -> Sequence[FundingPayment]:
        rows = await self._api_get(
            self.rest_url("/api/income"),
            params={"symbol": await self.exchange_symbol_associated_to_pair(trading_pair),
                    "startTime": int(since * 1000)},
            is_auth_required=True,
        )
        return [
            FundingPayment(
                row["time"] / 1000, Decimal(row["rate"]), Decimal(row["income"]), str(row["tranId"])
            )
            for row in rows
        ]

    async def _process_user_stream_event(self, event: Any) -> None:
        if event["e"] == "position":
            self._set_position(self._position(event))
        else:
            await FakeExchange._process_user_stream_event(self, event)
