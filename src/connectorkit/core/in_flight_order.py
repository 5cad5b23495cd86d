"""The state of one order placed through a connector, and the updates that move it.

An :class:`InFlightOrder` is created *before* the placement request is sent, so that a fill that
arrives on the user stream before the REST answer still finds its order. It then receives
:class:`OrderUpdate` (status) and :class:`TradeUpdate` (fill) messages from two independent
paths, the user stream and REST polling, in any order and possibly more than once. The rules
below make the result independent of that order:

* a trade id is counted once, and executed amounts only grow;
* states only move forward (``PENDING_CREATE < OPEN < PARTIALLY_FILLED < PENDING_CANCEL <
  final``) and a final state (FILLED, CANCELED, FAILED) is never left, with one exception: an
  order failed locally because the exchange kept answering "order not found" (``is_lost``) may
  be corrected to FILLED or CANCELED when the exchange reports that;
* a fill proves the order exists: it moves PENDING_CREATE/OPEN to PARTIALLY_FILLED, and a fill
  that completes the amount moves any live (or lost) order to FILLED.

Nothing here emits events: the :class:`~connectorkit.connector.client_order_tracker.ClientOrderTracker`
compares states before and after an update and emits them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypedDict, TypeVar

from connectorkit.core.decimal_utils import (
    InvalidFieldError,
    require_bool,
    require_str,
    split_trading_pair,
    to_decimal,
)
from connectorkit.core.enums import OrderState, OrderType, PositionAction, TradeType
from connectorkit.core.rate_source import RateSource
from connectorkit.core.trade_fee import TradeFeeBase, TradeFeeJson

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)

_RANK: dict[OrderState, int] = {
    OrderState.PENDING_CREATE: 0,
    OrderState.OPEN: 1,
    OrderState.PARTIALLY_FILLED: 2,
    OrderState.PENDING_CANCEL: 3,
    OrderState.CANCELED: 4,
    OrderState.FILLED: 4,
    OrderState.FAILED: 4,
}
"""Forward order of states. A transition is allowed only to a strictly higher rank."""


class ExchangeOrderIdUnavailableError(RuntimeError):
    """The order reached a final state before the exchange assigned it an id."""

    def __init__(self, client_order_id: str, state: OrderState) -> None:
        super().__init__(f"order {client_order_id} is {state.name} and has no exchange order id")
        self.client_order_id = client_order_id


# ---------------------------------------------------------------------------------------------
# Validation helpers (public constructors reject bad input with InvalidFieldError).
# ---------------------------------------------------------------------------------------------


def _money(value: object, field: str, *, positive: bool = False) -> Decimal:
    """A finite, non-negative Decimal instance (floats are refused: money is Decimal end to end)."""
    if not isinstance(value, Decimal):
        raise InvalidFieldError(field, f"expected a Decimal, got {type(value).__name__} {value!r}")
    result = to_decimal(value, field)
    if positive and result == 0:
        raise InvalidFieldError(field, "must be positive, got 0")
    return result


def _timestamp(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFieldError(field, f"expected seconds as a number, got {value!r}")
    return float(value)


def _optional_id(value: object, field: str) -> str | None:
    return None if value is None else require_str(value, field)


def _decimal_string(data: Mapping[str, Any], field: str) -> Decimal:
    value = data.get(field)
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"expected a decimal string, got {value!r}")
    return to_decimal(value, field)


_E = TypeVar("_E", OrderType, TradeType, PositionAction)


def _enum_member(enum: type[_E], value: object, field: str) -> _E:
    if isinstance(value, str) and value in enum.__members__:
        return enum.__members__[value]
    raise InvalidFieldError(field, f"expected one of {list(enum.__members__)}, got {value!r}")


# ---------------------------------------------------------------------------------------------
# Updates.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A status report for one order. At least one of the two ids must be given.

    ``misc_updates`` carries optional extras the tracker understands: ``"error_type"`` and
    ``"error_message"`` for FAILED, ``"expired": True`` with CANCELED when the exchange expired
    the order (reported as OrderExpired instead of OrderCancelled).
    """

    trading_pair: str
    update_timestamp: float
    new_state: OrderState
    client_order_id: str | None = None
    exchange_order_id: str | None = None
    misc_updates: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        split_trading_pair(self.trading_pair)
        _timestamp(self.update_timestamp, "update_timestamp")
        if not isinstance(self.new_state, OrderState):
            raise InvalidFieldError("new_state", f"expected an OrderState, got {self.new_state!r}")
        _optional_id(self.client_order_id, "client_order_id")
        _optional_id(self.exchange_order_id, "exchange_order_id")
        if self.client_order_id is None and self.exchange_order_id is None:
            raise InvalidFieldError("client_order_id", "an order update needs a client or exchange order id")
        if self.misc_updates is not None:
            if not isinstance(self.misc_updates, Mapping):
                raise InvalidFieldError("misc_updates", f"expected a mapping, got {self.misc_updates!r}")
            # A read-only copy: the caller's dict may be reused or changed after the update is queued.
            object.__setattr__(self, "misc_updates", MappingProxyType(dict(self.misc_updates)))


class TradeUpdateJson(TypedDict):
    trade_id: str
    client_order_id: str | None
    exchange_order_id: str | None
    trading_pair: str
    fill_timestamp: float
    fill_price: str
    fill_base_amount: str
    fill_quote_amount: str
    fee: TradeFeeJson
    is_taker: bool


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One fill of an order. ``fill_quote_amount`` is what the exchange reports (normally
    ``fill_price * fill_base_amount``); it is not recomputed so exchange rounding is kept."""

    trade_id: str
    client_order_id: str | None
    exchange_order_id: str | None
    trading_pair: str
    fill_timestamp: float
    fill_price: Decimal
    fill_base_amount: Decimal
    fill_quote_amount: Decimal
    fee: TradeFeeBase
    is_taker: bool = True

    def __post_init__(self) -> None:
        require_str(self.trade_id, "trade_id")
        _optional_id(self.client_order_id, "client_order_id")
        _optional_id(self.exchange_order_id, "exchange_order_id")
        if self.client_order_id is None and self.exchange_order_id is None:
            raise InvalidFieldError("client_order_id", "a trade update needs a client or exchange order id")
        split_trading_pair(self.trading_pair)
        _timestamp(self.fill_timestamp, "fill_timestamp")
        _money(self.fill_price, "fill_price")
        _money(self.fill_base_amount, "fill_base_amount", positive=True)
        _money(self.fill_quote_amount, "fill_quote_amount")
        if not isinstance(self.fee, TradeFeeBase):
            raise InvalidFieldError("fee", f"expected a TradeFeeBase, got {type(self.fee).__name__}")
        require_bool(self.is_taker, "is_taker")

    def to_json(self) -> TradeUpdateJson:
        return {
            "trade_id": self.trade_id,
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "trading_pair": self.trading_pair,
            "fill_timestamp": self.fill_timestamp,
            "fill_price": str(self.fill_price),
            "fill_base_amount": str(self.fill_base_amount),
            "fill_quote_amount": str(self.fill_quote_amount),
            "fee": self.fee.to_json(),
            "is_taker": self.is_taker,
        }

    @classmethod
    def from_json(cls, data: object) -> TradeUpdate:
        if not isinstance(data, Mapping):
            raise InvalidFieldError("trade_update", f"expected an object, got {data!r}")
        return cls(
            trade_id=require_str(data.get("trade_id"), "trade_id"),
            client_order_id=_optional_id(data.get("client_order_id"), "client_order_id"),
            exchange_order_id=_optional_id(data.get("exchange_order_id"), "exchange_order_id"),
            trading_pair=require_str(data.get("trading_pair"), "trading_pair"),
            fill_timestamp=_timestamp(data.get("fill_timestamp"), "fill_timestamp"),
            fill_price=_decimal_string(data, "fill_price"),
            fill_base_amount=_decimal_string(data, "fill_base_amount"),
            fill_quote_amount=_decimal_string(data, "fill_quote_amount"),
            fee=TradeFeeBase.from_json(data.get("fee")),
            is_taker=data.get("is_taker", True),
        )


# ---------------------------------------------------------------------------------------------
# The order.
# ---------------------------------------------------------------------------------------------


class InFlightOrderJson(TypedDict):
    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    order_type: str
    trade_type: str
    amount: str
    price: str | None
    creation_timestamp: float
    leverage: int
    position: str
    current_state: int
    is_lost: bool
    executed_amount_base: str
    executed_amount_quote: str
    last_update_timestamp: float
    order_fills: dict[str, TradeUpdateJson]


class InFlightOrder:
    """One order from the moment it is created locally until it is final.

    ``amount`` is in the base asset; ``price`` is None for market orders. Runtime fields:
    ``current_state``, ``executed_amount_base``, ``executed_amount_quote``,
    ``last_update_timestamp`` (seconds; starts at ``creation_timestamp``), ``order_fills``
    (trade id -> TradeUpdate) and ``is_lost`` (failed locally as not found; see module doc).
    """

    def __init__(
        self,
        client_order_id: str,
        trading_pair: str,
        order_type: OrderType,
        trade_type: TradeType,
        amount: Decimal,
        creation_timestamp: float,
        price: Decimal | None = None,
        exchange_order_id: str | None = None,
        initial_state: OrderState = OrderState.PENDING_CREATE,
        leverage: int = 1,
        position: PositionAction = PositionAction.NIL,
    ) -> None:
        self.client_order_id = require_str(client_order_id, "client_order_id")
        split_trading_pair(trading_pair)
        self.trading_pair = trading_pair
        if not isinstance(order_type, OrderType):
            raise InvalidFieldError("order_type", f"expected an OrderType, got {order_type!r}")
        if not isinstance(trade_type, TradeType):
            raise InvalidFieldError("trade_type", f"expected a TradeType, got {trade_type!r}")
        if not isinstance(initial_state, OrderState):
            raise InvalidFieldError("initial_state", f"expected an OrderState, got {initial_state!r}")
        if not isinstance(position, PositionAction):
            raise InvalidFieldError("position", f"expected a PositionAction, got {position!r}")
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise InvalidFieldError("leverage", f"expected an int >= 1, got {leverage!r}")
        self.order_type = order_type
        self.trade_type = trade_type
        self.amount = _money(amount, "amount", positive=True)
        self.price = None if price is None else _money(price, "price")
        self.creation_timestamp = _timestamp(creation_timestamp, "creation_timestamp")
        self.exchange_order_id = _optional_id(exchange_order_id, "exchange_order_id")
        self.leverage = leverage
        self.position = position

        self.current_state = initial_state
        self.is_lost = False
        self.executed_amount_base = _ZERO
        self.executed_amount_quote = _ZERO
        self.last_update_timestamp = self.creation_timestamp
        self.order_fills: dict[str, TradeUpdate] = {}
        self._exchange_order_id_future: asyncio.Future[str | None] | None = None

    def __repr__(self) -> str:
        return (
            f"InFlightOrder(client_order_id={self.client_order_id!r}, "
            f"exchange_order_id={self.exchange_order_id!r}, trading_pair={self.trading_pair!r}, "
            f"{self.trade_type.name} {self.order_type.name} {self.amount} @ {self.price}, "
            f"state={self.current_state.name}, executed={self.executed_amount_base})"
        )

    # -- derived values -----------------------------------------------------------------------

    @property
    def base_asset(self) -> str:
        return split_trading_pair(self.trading_pair)[0]

    @property
    def quote_asset(self) -> str:
        return split_trading_pair(self.trading_pair)[1]

    @property
    def average_executed_price(self) -> Decimal | None:
        """Fill-weighted average price (executed quote / executed base); None before any fill."""
        if self.executed_amount_base == 0:
            return None
        return self.executed_amount_quote / self.executed_amount_base

    def cumulative_fee_paid(self, token: str, rate_source: RateSource | None = None) -> Decimal:
        """Sum of every fill's fee valued in ``token`` (each at its own fill price).

        Raises :class:`~connectorkit.core.rate_source.FeeConversionError` when a fee is in a token
        that cannot be converted without a rate the caller did not supply.
        """
        total = _ZERO
        for fill in self.order_fills.values():
            total += fill.fee.fee_amount_in_token(
                self.trading_pair, fill.fill_price, fill.fill_base_amount, token, rate_source
            )
        return total

    # -- predicates -----------------------------------------------------------------------------

    @property
    def is_pending_create(self) -> bool:
        return self.current_state is OrderState.PENDING_CREATE

    @property
    def is_done(self) -> bool:
        """Final state, or the whole amount executed (whatever the last status said)."""
        return self.current_state.is_final or self.executed_amount_base >= self.amount

    @property
    def is_open(self) -> bool:
        """PENDING_CREATE, OPEN, PARTIALLY_FILLED or PENDING_CANCEL, and not fully executed."""
        return not self.is_done

    @property
    def is_filled(self) -> bool:
        return self.current_state is OrderState.FILLED or self.executed_amount_base >= self.amount

    @property
    def is_cancelled(self) -> bool:
        return self.current_state is OrderState.CANCELED

    @property
    def is_failure(self) -> bool:
        return self.current_state is OrderState.FAILED

    # -- exchange order id -------------------------------------------------------------------

    async def get_exchange_order_id(self) -> str:
        """Wait until the exchange assigns an id (returns at once if it is known).

        Raises :class:`ExchangeOrderIdUnavailableError` if the order ends without one (e.g. the
        placement was rejected). Bound the wait with ``asyncio.timeout``; cancelling one waiter
        does not disturb the others.
        """
        if self.exchange_order_id is not None:
            return self.exchange_order_id
        if self.is_done:
            raise ExchangeOrderIdUnavailableError(self.client_order_id, self.current_state)
        loop = asyncio.get_running_loop()
        future = self._exchange_order_id_future
        if future is None or future.get_loop() is not loop:
            # Created lazily, inside a running loop: orders are also built outside one (tests,
            # restore from JSON) and a future belongs to the loop it was created on.
            future = loop.create_future()
            self._exchange_order_id_future = future
        result = await asyncio.shield(future)
        if result is None:
            raise ExchangeOrderIdUnavailableError(self.client_order_id, self.current_state)
        return result

    def _resolve_exchange_order_id_waiters(self, value: str | None) -> None:
        future = self._exchange_order_id_future
        if future is None or future.done() or future.get_loop().is_closed():
            return
        future.set_result(value)
        self._exchange_order_id_future = None

    def _record_exchange_order_id(self, exchange_order_id: str | None) -> bool:
        if exchange_order_id is None or self.exchange_order_id is not None:
            return False
        self.exchange_order_id = exchange_order_id
        self._resolve_exchange_order_id_waiters(exchange_order_id)
        return True

    def _set_state(self, state: OrderState) -> None:
        if self.current_state.is_final:
            self.is_lost = False  # the only way out of a final state is correcting a lost order
        self.current_state = state
        if state.is_final and self.exchange_order_id is None:
            self._resolve_exchange_order_id_waiters(None)

    # -- updates -----------------------------------------------------------------------------

    def _matches(self, client_order_id: str | None, exchange_order_id: str | None, what: str) -> bool:
        """An update applies when its client id matches, or its exchange id matches the known one.

        An update naming our client id with a different exchange id is contradictory and refused.
        One naming another client id with our exchange id applies: the exchange's id is the
        stronger proof (e.g. a cancel report that carries the cancel request's own client id).
        """
        known_exchange_id = exchange_order_id is not None and self.exchange_order_id is not None
        if client_order_id == self.client_order_id:
            if known_exchange_id and exchange_order_id != self.exchange_order_id:
                logger.warning(
                    "%s for %s names exchange id %s but the order has %s; ignored",
                    what, self.client_order_id, exchange_order_id, self.exchange_order_id,
                )
                return False
            return True
        if known_exchange_id and exchange_order_id == self.exchange_order_id:
            if client_order_id is not None:
                logger.debug(
                    "%s names client id %s for exchange id %s of order %s; applied by exchange id",
                    what, client_order_id, exchange_order_id, self.client_order_id,
                )
            return True
        return False

    def can_transition_to(self, new_state: OrderState) -> bool:
        """Whether a status report of ``new_state`` would move this order forward."""
        current = self.current_state
        if new_state is current:
            return False
        if current.is_final:
            return self.is_lost and new_state in (OrderState.FILLED, OrderState.CANCELED)
        if current is OrderState.PENDING_CREATE and new_state is OrderState.PENDING_CANCEL:
            # Cancelling needs the exchange to know the order; wait for the placement answer.
            return False
        return _RANK[new_state] > _RANK[current]

    def update_with_order_update(self, update: OrderUpdate) -> bool:
        """Apply a status report; True if the order changed (state advanced or exchange id learned).

        A report that would move the state backwards or out of a final state changes nothing but
        may still teach the exchange id. Updates for another order or pair return False.
        """
        if not self._matches(update.client_order_id, update.exchange_order_id, "order update"):
            return False
        if update.trading_pair != self.trading_pair:
            logger.warning(
                "order update for %s names pair %s, order is %s; ignored",
                self.client_order_id, update.trading_pair, self.trading_pair,
            )
            return False
        changed = self._record_exchange_order_id(update.exchange_order_id)
        if self.can_transition_to(update.new_state):
            self._set_state(update.new_state)
            changed = True
        elif update.new_state is not self.current_state:
            logger.debug(
                "order %s: ignored %s -> %s (states only move forward)",
                self.client_order_id, self.current_state.name, update.new_state.name,
            )
        if changed:
            self.last_update_timestamp = max(self.last_update_timestamp, float(update.update_timestamp))
        return changed

    def update_with_trade_update(self, trade: TradeUpdate) -> bool:
        """Apply a fill; True only if this trade id is new for the order.

        A repeated trade id changes no amount (it may still teach the exchange id). Fills are
        applied in any state, including final ones: a late fill of a cancelled order is real.
        """
        if not self._matches(trade.client_order_id, trade.exchange_order_id, "trade update"):
            return False
        if trade.trading_pair != self.trading_pair:
            logger.warning(
                "trade %s for %s names pair %s, order is %s; ignored",
                trade.trade_id, self.client_order_id, trade.trading_pair, self.trading_pair,
            )
            return False
        self._record_exchange_order_id(trade.exchange_order_id)
        if trade.trade_id in self.order_fills:
            logger.debug("order %s: trade %s already counted", self.client_order_id, trade.trade_id)
            return False
        self.order_fills[trade.trade_id] = trade
        self.executed_amount_base += trade.fill_base_amount
        self.executed_amount_quote += trade.fill_quote_amount
        self.last_update_timestamp = max(self.last_update_timestamp, float(trade.fill_timestamp))
        if self.executed_amount_base > self.amount:
            logger.warning(
                "order %s over-filled: executed %s of %s (exchange report kept as is)",
                self.client_order_id, self.executed_amount_base, self.amount,
            )
        if self.executed_amount_base >= self.amount:
            if not self.current_state.is_final or self.is_lost:
                self._set_state(OrderState.FILLED)
        elif self.current_state in (OrderState.PENDING_CREATE, OrderState.OPEN):
            self._set_state(OrderState.PARTIALLY_FILLED)
        return True

    def mark_lost(self, timestamp: float) -> bool:
        """Fail the order locally because the exchange repeatedly did not know it.

        Returns False (and changes nothing) if the order is already final.
        """
        if self.current_state.is_final:
            return False
        self._set_state(OrderState.FAILED)
        self.is_lost = True
        self.last_update_timestamp = max(self.last_update_timestamp, float(timestamp))
        return True

    # -- persistence -------------------------------------------------------------------------

    def to_json(self) -> InFlightOrderJson:
        """Everything needed to restore this order exactly: Decimals as strings, state as int."""
        return {
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "trading_pair": self.trading_pair,
            "order_type": self.order_type.name,
            "trade_type": self.trade_type.name,
            "amount": str(self.amount),
            "price": None if self.price is None else str(self.price),
            "creation_timestamp": self.creation_timestamp,
            "leverage": self.leverage,
            "position": self.position.name,
            "current_state": int(self.current_state),
            "is_lost": self.is_lost,
            "executed_amount_base": str(self.executed_amount_base),
            "executed_amount_quote": str(self.executed_amount_quote),
            "last_update_timestamp": self.last_update_timestamp,
            "order_fills": {trade_id: fill.to_json() for trade_id, fill in self.order_fills.items()},
        }

    @classmethod
    def from_json(cls, data: object) -> InFlightOrder:
        """Inverse of :meth:`to_json`; malformed input raises InvalidFieldError naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidFieldError("order", f"expected an object, got {data!r}")
        price = data.get("price")
        state_value = data.get("current_state")
        if isinstance(state_value, bool) or state_value not in {int(s) for s in OrderState}:
            raise InvalidFieldError("current_state", f"expected an OrderState value, got {state_value!r}")
        order = cls(
            client_order_id=require_str(data.get("client_order_id"), "client_order_id"),
            trading_pair=require_str(data.get("trading_pair"), "trading_pair"),
            order_type=_enum_member(OrderType, data.get("order_type"), "order_type"),
            trade_type=_enum_member(TradeType, data.get("trade_type"), "trade_type"),
            amount=_decimal_string(data, "amount"),
            creation_timestamp=_timestamp(data.get("creation_timestamp"), "creation_timestamp"),
            price=None if price is None else _decimal_string(data, "price"),
            exchange_order_id=_optional_id(data.get("exchange_order_id"), "exchange_order_id"),
            initial_state=OrderState(state_value),
            leverage=data.get("leverage", 1),
            position=_enum_member(PositionAction, data.get("position", "NIL"), "position"),
        )
        order.is_lost = require_bool(data.get("is_lost", False), "is_lost")
        if order.is_lost and order.current_state is not OrderState.FAILED:
            raise InvalidFieldError("is_lost", f"a lost order is FAILED, got {order.current_state.name}")
        order.executed_amount_base = _decimal_string(data, "executed_amount_base")
        order.executed_amount_quote = _decimal_string(data, "executed_amount_quote")
        order.last_update_timestamp = _timestamp(data.get("last_update_timestamp"), "last_update_timestamp")
        fills = data.get("order_fills", {})
        if not isinstance(fills, Mapping):
            raise InvalidFieldError("order_fills", f"expected an object, got {fills!r}")
        for trade_id, fill_data in fills.items():
            fill = TradeUpdate.from_json(fill_data)
            if fill.trade_id != trade_id:
                raise InvalidFieldError("order_fills", f"key {trade_id!r} holds trade {fill.trade_id!r}")
            order.order_fills[trade_id] = fill
        # Executed amounts only ever come from fills, so they must add up (also with no fills).
        filled_base = sum((f.fill_base_amount for f in order.order_fills.values()), _ZERO)
        filled_quote = sum((f.fill_quote_amount for f in order.order_fills.values()), _ZERO)
        if (filled_base, filled_quote) != (order.executed_amount_base, order.executed_amount_quote):
            raise InvalidFieldError(
                "executed_amount_base",
                f"executed {order.executed_amount_base}/{order.executed_amount_quote} does not match "
                f"the fills' {filled_base}/{filled_quote}",
            )
        return order
