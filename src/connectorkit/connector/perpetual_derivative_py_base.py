"""PerpetualDerivativePyBase: the template a perpetual (derivative) connector fills in.

On top of everything :class:`~connectorkit.connector.exchange_py_base.ExchangePyBase` asks for, a
perpetual connector writes:

========================================  =============================================================
Member                                    What the connector provides
========================================  =============================================================
``SUPPORTED_POSITION_MODES``              the position modes the venue offers
``_fetch_positions()``                    every open position, as ``Position`` s (REST)
``_set_trading_pair_leverage(pair, n)``   set the pair's leverage on the exchange (raise on failure)
``_set_position_mode_on_exchange(mode)``  switch the account's position mode (raise on failure)
``_fetch_funding_payments(pair, since)``  every funding payment of the pair made at or after
                                          ``since`` (seconds), as ``FundingPayment`` s
========================================  =============================================================

Its order book data source must also provide funding info (``get_funding_info(pair)`` and the
``FundingInfoUpdate`` stream); this class keeps :meth:`get_funding_info` live from them.

Every order needs ``position_action=PositionAction.OPEN`` or ``CLOSE`` (``reduce_only=True`` implies
CLOSE). Positions are reconciled from
REST with orders and balances (also right after a user-stream reconnection); the connector's user
stream handler reports position changes through :meth:`_set_position`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from connectorkit.connector.connector_base import fee_pair
from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_options import OrderOptions
from connectorkit.connector.perpetual_trading import PerpetualTrading
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.budget_checker import PerpetualBudgetChecker
from connectorkit.core.enums import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from connectorkit.core.events import (
    FundingInfoEvent,
    FundingPaymentCompletedEvent,
    MarketEvent,
    PositionModeChangeEvent,
    PositionUpdateEvent,
)
from connectorkit.core.funding_info import FundingInfo
from connectorkit.core.position import Position
from connectorkit.core.trade_fee import TradeFeeBase, build_perpetual_trade_fee

logger = logging.getLogger(__name__)

_NAN = Decimal("NaN")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding payment of a pair, as a connector reports it to the template.

    ``amount`` is signed (negative = paid by the account); ``payment_id`` is the exchange's id of
    the payment (unique per account, e.g. Binance's income ``tranId``), so a payment returned by
    two polls is reported once.
    """

    timestamp: float
    rate: Decimal
    amount: Decimal
    payment_id: str


class PerpetualDerivativePyBase(ExchangePyBase):
    """The perpetual connector template (see the module docstring)."""

    SUPPORTED_POSITION_MODES: ClassVar[tuple[PositionMode, ...]] = (PositionMode.ONEWAY,)

    def __init__(
        self, settings: ConnectorSettings, *, time_provider: Callable[[], float] = time.time
    ) -> None:
        super().__init__(settings, time_provider=time_provider)
        self._perpetual_trading = PerpetualTrading(self._trading_pairs)
        self._perpetual_budget_checker = PerpetualBudgetChecker(self)
        self._last_funding_payment_ts: dict[str, float] = {}
        #: ids of the payments reported at exactly ``_last_funding_payment_ts`` (the next poll asks
        #: from that time inclusive, so that a payment sharing it is not lost)
        self._funding_ids_at_last_ts: dict[str, set[str]] = {}
        self._position_counter = 0
        self._position_versions: dict[str, int] = {}

    # ==================================================================================================
    # What a perpetual connector writes.
    # ==================================================================================================
    @abstractmethod
    async def _fetch_positions(self) -> list[Position]: ...

    @abstractmethod
    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> None: ...

    @abstractmethod
    async def _set_position_mode_on_exchange(self, mode: PositionMode) -> None: ...

    @abstractmethod
    async def _fetch_funding_payments(self, trading_pair: str, since: float) -> Sequence[FundingPayment]:
        """Every funding payment of ``trading_pair`` made at or after ``since`` (seconds), in any
        order, paging through the exchange's history as needed. Payments already reported may be
        returned again (the template reports each ``payment_id`` once)."""

    # ==================================================================================================
    # Public surface.
    # ==================================================================================================
    @property
    def budget_checker(self) -> PerpetualBudgetChecker:
        return self._perpetual_budget_checker

    @property
    def perpetual_trading(self) -> PerpetualTrading:
        return self._perpetual_trading

    @property
    def status_dict(self) -> dict[str, bool]:
        status = super().status_dict
        status["funding_info"] = self._perpetual_trading.is_funding_info_initialized()
        return status

    @property
    def account_positions(self) -> Mapping[str, Position]:
        return self._perpetual_trading.account_positions

    def get_position(self, trading_pair: str, side: PositionSide | None = None) -> Position | None:
        return self._perpetual_trading.get_position(trading_pair, side)

    @property
    def position_mode(self) -> PositionMode:
        return self._perpetual_trading.position_mode

    def get_leverage(self, trading_pair: str) -> int:
        return self._perpetual_trading.get_leverage(trading_pair)

    def get_funding_info(self, trading_pair: str) -> FundingInfo:
        return self._perpetual_trading.get_funding_info(trading_pair)

    def get_buy_collateral_token(self, trading_pair: str) -> str:
        rule = self._trading_rules.get(trading_pair)
        return rule.buy_collateral_token if rule is not None else trading_pair.split("-", 1)[1]

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        rule = self._trading_rules.get(trading_pair)
        # A perpetual sell locks margin too: without a rule that says otherwise, the quote asset.
        if rule is not None and rule.sell_order_collateral_token is not None:
            return rule.sell_order_collateral_token
        return trading_pair.split("-", 1)[1]

    def set_leverage(self, trading_pair: str, leverage: int) -> None:
        """Set the pair's leverage in the background (logged; see :meth:`set_leverage_async`)."""
        _check_leverage(leverage)
        self._order_tasks.spawn(self.set_leverage_async(trading_pair, leverage), f"leverage-{trading_pair}")

    async def set_leverage_async(self, trading_pair: str, leverage: int) -> bool:
        """Set the pair's leverage on the exchange; False (logged) if the exchange refuses."""
        _check_leverage(leverage)
        try:
            await self._set_trading_pair_leverage(trading_pair, leverage)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s: cannot set leverage of %s to %d: %s", self.name, trading_pair, leverage, exc)
            return False
        self._perpetual_trading.set_leverage(trading_pair, leverage)
        logger.info("%s: leverage of %s set to %d", self.name, trading_pair, leverage)
        return True

    def set_position_mode(self, mode: PositionMode) -> None:
        """Switch the position mode in the background; emits PositionModeChangeSucceeded or
        PositionModeChangeFailed for every trading pair."""
        if not isinstance(mode, PositionMode):
            raise TypeError(f"mode must be a PositionMode, got {mode!r}")
        self._order_tasks.spawn(self.set_position_mode_async(mode), f"position-mode-{mode.value}")

    async def set_position_mode_async(self, mode: PositionMode) -> bool:
        if mode not in self.SUPPORTED_POSITION_MODES:
            self._emit_position_mode(mode, False, f"{mode.value} is not supported by {self.name}")
            return False
        if mode is self._perpetual_trading.position_mode:
            self._emit_position_mode(mode, True, "already set")
            return True
        try:
            await self._set_position_mode_on_exchange(mode)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s: cannot switch to %s mode: %s", self.name, mode.value, exc)
            self._emit_position_mode(mode, False, str(exc))
            return False
        self._perpetual_trading.set_position_mode(mode)
        self._emit_position_mode(mode, True, "")
        self._poll_now.set()  # positions are keyed per mode: re-read them
        return True

    def _emit_position_mode(self, mode: PositionMode, success: bool, message: str) -> None:
        tag = MarketEvent.PositionModeChangeSucceeded if success else MarketEvent.PositionModeChangeFailed
        for pair in self._trading_pairs:
            self.trigger_event(tag, PositionModeChangeEvent(self.current_timestamp, pair, mode, message))

    def get_fee(
        self,
        base_currency: str,
        quote_currency: str,
        order_type: OrderType,
        order_side: TradeType,
        amount: Decimal,
        price: Decimal = _NAN,
        is_maker: bool | None = None,
        position_action: PositionAction = PositionAction.OPEN,
    ) -> TradeFeeBase:
        schema = self.trade_fee_schema_for(fee_pair(base_currency, quote_currency))
        maker = order_type is OrderType.LIMIT_MAKER if is_maker is None else is_maker
        return build_perpetual_trade_fee(schema, maker, position_action)

    # ==================================================================================================
    # Orders: position action required, leverage recorded.
    # ==================================================================================================
    def _position_action(
        self, position_action: PositionAction | None, options: OrderOptions
    ) -> PositionAction:
        """OPEN or CLOSE, required. ``reduce_only=True`` only ever closes: it implies CLOSE when no
        action is given and contradicts OPEN."""
        if options.reduce_only:
            if position_action is None:
                return PositionAction.CLOSE
            if position_action is PositionAction.OPEN:
                raise ValueError(
                    "reduce_only=True contradicts position_action=OPEN (a reduce-only order closes)"
                )
        if position_action not in (PositionAction.OPEN, PositionAction.CLOSE):
            raise ValueError(
                f"perpetual orders need position_action=PositionAction.OPEN or CLOSE, got {position_action!r}"
            )
        return position_action

    def _order_leverage(self, trading_pair: str) -> int:
        return self._perpetual_trading.get_leverage(trading_pair)

    # ==================================================================================================
    # Positions.
    # ==================================================================================================
    def _position_key(self, position: Position) -> str:
        side = None if self.position_mode is PositionMode.ONEWAY else position.position_side
        return self._perpetual_trading.position_key(position.trading_pair, side)

    def _set_position(self, position: Position) -> None:
        """Record a position change (zero amount: closed) and emit PositionUpdate if it changed.
        Pass a new ``Position`` object: the stored one is compared with it."""
        self._position_counter += 1
        self._position_versions[self._position_key(position)] = self._position_counter
        side = None if self.position_mode is PositionMode.ONEWAY else position.position_side
        previous = self._perpetual_trading.get_position(position.trading_pair, side)
        if previous is not None and previous == position:
            return
        if previous is None and position.amount == 0:
            return
        self._perpetual_trading.set_position(position)
        self._emit_position(position)

    def _emit_position(self, position: Position) -> None:
        self.trigger_event(
            MarketEvent.PositionUpdate,
            PositionUpdateEvent(
                self.current_timestamp, position.trading_pair, position.position_side,
                position.unrealized_pnl, position.entry_price, position.amount, position.leverage,
            ),
        )

    async def _update_positions(self) -> None:
        """Apply a full REST snapshot of the positions. A position reported again after the request
        went out (a user-stream update that overtook the answer) keeps its newer value."""
        as_of = self._position_counter
        positions = await self._fetch_positions()
        newer = {key for key, version in self._position_versions.items() if version > as_of}
        reported = set()
        for position in positions:
            key = self._position_key(position)
            reported.add(key)
            if key not in newer:
                self._set_position(position)
        for key, position in list(self._perpetual_trading.account_positions.items()):
            if key not in reported and key not in newer:  # closed while we were not looking
                closed = Position(
                    position.trading_pair, position.position_side, _ZERO, position.entry_price, _ZERO,
                    position.leverage,
                )
                self._set_position(closed)

    async def _reconcile_from_rest(self) -> None:
        await asyncio.gather(
            super()._reconcile_from_rest(), self._guarded(self._update_positions, "positions")
        )

    # ==================================================================================================
    # Funding.
    # ==================================================================================================
    async def start_network(self) -> None:
        if self._network_started:
            return
        await super().start_network()
        now = self.current_timestamp
        for pair in self._trading_pairs:
            self._last_funding_payment_ts.setdefault(pair, now)
        self._loops.spawn(self._funding_info_loop(), "funding-info")
        if self._trading_required:
            self._loops.spawn(self._funding_payment_polling_loop(), "funding-payments")

    async def _initialize_funding_info(self) -> None:
        data_source = self._order_book_data_source
        while not self._perpetual_trading.is_funding_info_initialized():
            for pair in self._trading_pairs:
                if self._perpetual_trading.has_funding_info(pair):
                    continue  # only the pairs still missing are fetched again
                try:
                    info = await data_source.get_funding_info(pair)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.warning("%s: cannot fetch funding info of %s: %s", self.name, pair, exc)
                    continue
                self._perpetual_trading.initialize_funding_info(info)
                self._emit_funding_info(info)
            if not self._perpetual_trading.is_funding_info_initialized():
                await asyncio.sleep(self._settings.short_poll_interval)

    async def _funding_info_loop(self) -> None:
        """Initial funding info from REST, then the ``FundingInfoUpdate`` s that the order book data
        source routes from its stream (updates queued before the initial info are applied after)."""
        await self._initialize_funding_info()
        queue = self._order_book_data_source.funding_info_queue
        while True:
            update = await queue.get()
            if self._perpetual_trading.apply_funding_info_update(update):
                self._emit_funding_info(self._perpetual_trading.get_funding_info(update.trading_pair))

    def _emit_funding_info(self, info: FundingInfo) -> None:
        self.trigger_event(
            MarketEvent.FundingInfo,
            FundingInfoEvent(
                self.current_timestamp, info.trading_pair, info.index_price, info.mark_price,
                info.next_funding_utc_timestamp, info.rate,
            ),
        )

    async def _funding_payment_polling_loop(self) -> None:
        while True:
            await asyncio.gather(*(
                self._guarded(functools.partial(self._check_funding_payment, pair), "funding payments")
                for pair in self._trading_pairs
            ))
            await asyncio.sleep(self._settings.funding_payment_poll_interval)

    async def _check_funding_payment(self, trading_pair: str) -> None:
        """Emit one FundingPaymentCompleted per payment made since the last one reported, oldest
        first, each once (payments made before the connector started are not reported)."""
        since = self._last_funding_payment_ts.get(trading_pair, self.current_timestamp)
        payments = await self._fetch_funding_payments(trading_pair, since)
        for payment in sorted(payments, key=lambda p: (p.timestamp, p.payment_id)):
            last = self._last_funding_payment_ts.get(trading_pair, since)
            seen_at_last = self._funding_ids_at_last_ts.setdefault(trading_pair, set())
            if payment.timestamp < last or (payment.timestamp == last and payment.payment_id in seen_at_last):
                continue
            if payment.timestamp > last:
                self._last_funding_payment_ts[trading_pair] = payment.timestamp
                seen_at_last.clear()
            seen_at_last.add(payment.payment_id)
            if payment.amount == 0:
                continue  # no money moved (no position at the funding time)
            self.trigger_event(
                MarketEvent.FundingPaymentCompleted,
                FundingPaymentCompletedEvent(payment.timestamp, trading_pair, payment.amount, payment.rate),
            )


def _check_leverage(leverage: int) -> None:
    if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
        raise ValueError(f"leverage must be an int >= 1, got {leverage!r}")
