"""ConnectorBase: what every connector offers, whatever its venue.

Event pub/sub, balances, trading rules and quantization, fees, the in-flight orders (through the
:class:`~connectorkit.connector.client_order_tracker.ClientOrderTracker`) and readiness. It performs
no I/O itself; :class:`~connectorkit.connector.exchange_py_base.ExchangePyBase` adds the network.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from decimal import ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import Any, ClassVar

from connectorkit.connector.client_order_tracker import ClientOrderTracker
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.core.decimal_utils import split_trading_pair
from connectorkit.core.enums import OrderType, PositionAction, TradeType
from connectorkit.core.events import BalanceUpdateEvent, EventPublisher, Listener, MarketEvent
from connectorkit.core.in_flight_order import InFlightOrder
from connectorkit.core.trade_fee import TradeFeeBase, TradeFeeSchema, build_trade_fee
from connectorkit.core.trading_rule import TradingRule

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)


def floor_to_increment(value: Decimal, increment: Decimal) -> Decimal:
    """The largest multiple of ``increment`` that is <= ``value`` (exact Decimal arithmetic)."""
    if increment <= 0:
        return value
    return (value / increment).to_integral_value(rounding=ROUND_FLOOR) * increment


def fee_pair(base_currency: str, quote_currency: str) -> str:
    """``BASE-QUOTE`` from the two currencies of a fee query (each a non-empty str without '-')."""
    for field, value in (("base_currency", base_currency), ("quote_currency", quote_currency)):
        if not isinstance(value, str):
            raise TypeError(f"{field} must be a str, got {type(value).__name__}")
        if not value or "-" in value:
            raise ValueError(f"{field} must be a currency such as 'BTC', got {value!r}")
    return f"{base_currency}-{quote_currency}"


class ConnectorBase(ABC):
    """Base of every connector.

    :param settings: the validated user settings (see :mod:`connectorkit.connector.settings`).
    :param time_provider: wall-clock seconds; injectable so tests can control timestamps.
    """

    DEFAULT_FEES: ClassVar[TradeFeeSchema] = TradeFeeSchema()
    """The venue's standard fees; a connector overrides this with its ``<name>_utils.DEFAULT_FEES``."""

    def __init__(
        self, settings: ConnectorSettings, *, time_provider: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._trading_pairs: list[str] = list(settings.trading_pairs)
        self._trading_required = settings.trading_required
        self._time_provider = time_provider
        self._event_publisher = EventPublisher()
        self._account_balances: dict[str, Decimal] = {}
        self._account_available_balances: dict[str, Decimal] = {}
        self._balance_counter = 0
        self._asset_versions: dict[str, int] = {}
        self._trading_rules: dict[str, TradingRule] = {}
        self._trade_fee_schema = settings.resolve_trade_fee_schema(self.DEFAULT_FEES)
        self._pair_fee_schemas: dict[str, TradeFeeSchema] = {}
        self._order_tracker = ClientOrderTracker(self)

    # ---- identity and settings --------------------------------------------------------------------
    @property
    @abstractmethod
    def name(self) -> str:
        """The registry name of the connector (``binance``, ``binance_perpetual``...)."""

    @property
    def settings(self) -> ConnectorSettings:
        return self._settings

    @property
    def trading_pairs(self) -> list[str]:
        return list(self._trading_pairs)

    @property
    def trading_required(self) -> bool:
        return self._trading_required

    @property
    def current_timestamp(self) -> float:
        """Seconds since the epoch on the connector's clock (stamps events and orders)."""
        return self._time_provider()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, trading_pairs={self._trading_pairs!r})"

    # ---- events -----------------------------------------------------------------------------------
    def add_listener(self, event: MarketEvent, listener: Listener) -> None:
        self._event_publisher.add_listener(event, listener)

    def remove_listener(self, event: MarketEvent, listener: Listener) -> bool:
        return self._event_publisher.remove_listener(event, listener)

    def trigger_event(self, event: MarketEvent, payload: object) -> None:
        self._event_publisher.trigger_event(event, payload)

    # ---- balances ---------------------------------------------------------------------------------
    def get_balance(self, currency: str) -> Decimal:
        """Total balance of ``currency`` (0 when the account holds none)."""
        return self._account_balances.get(currency, _ZERO)

    def get_available_balance(self, currency: str) -> Decimal:
        """Balance of ``currency`` not locked by open orders (0 when none)."""
        return self._account_available_balances.get(currency, _ZERO)

    def get_all_balances(self) -> dict[str, Decimal]:
        return dict(self._account_balances)

    def get_all_available_balances(self) -> dict[str, Decimal]:
        return dict(self._account_available_balances)

    @property
    def _balance_version(self) -> int:
        """Increases with every balance report; take it before a REST balance request."""
        return self._balance_counter

    def _set_balance(self, asset: str, total: Decimal, available: Decimal) -> None:
        """Record one asset's balances; emits BalanceUpdate when either value changed."""
        self._balance_counter += 1
        self._asset_versions[asset] = self._balance_counter
        if total == self._account_balances.get(asset) and available == self._account_available_balances.get(
            asset
        ):
            return
        self._account_balances[asset] = total
        self._account_available_balances[asset] = available
        self.trigger_event(
            MarketEvent.BalanceUpdate, BalanceUpdateEvent(self.current_timestamp, asset, total, available)
        )

    def _replace_balances(
        self, balances: Mapping[str, tuple[Decimal, Decimal]], as_of_version: int | None = None
    ) -> None:
        """Apply a full account snapshot (asset -> (total, available)); assets it omits are zeroed.

        ``as_of_version`` is :attr:`_balance_version` taken when the snapshot was requested: an
        asset reported again since then (a user-stream update that overtook the REST answer) keeps
        that newer value instead of being reset to the older snapshot.
        """
        newer: set[str] = set()
        if as_of_version is not None:
            newer = {asset for asset, version in self._asset_versions.items() if version > as_of_version}
        for asset, (total, available) in balances.items():
            if asset not in newer:
                self._set_balance(asset, total, available)
        for asset in set(self._account_balances) - set(balances) - newer:
            self._set_balance(asset, _ZERO, _ZERO)
            del self._account_balances[asset]
            del self._account_available_balances[asset]
            del self._asset_versions[asset]

    # ---- trading rules and quantization -----------------------------------------------------------
    @property
    def trading_rules(self) -> Mapping[str, TradingRule]:
        return MappingProxyType(self._trading_rules)

    def quantize_order_price(self, trading_pair: str, price: Decimal) -> Decimal:
        """``price`` floored to the pair's price increment (unchanged while no rule is known)."""
        rule = self._trading_rules.get(trading_pair)
        if rule is None or not price.is_finite():
            return price
        return floor_to_increment(price, rule.min_price_increment)

    def quantize_order_amount(
        self, trading_pair: str, amount: Decimal, price: Decimal | None = None
    ) -> Decimal:
        """``amount`` floored to the pair's base amount increment (unchanged while no rule is known).

        ``price`` is accepted for venues whose size step depends on the price; the base rule
        ignores it.
        """
        rule = self._trading_rules.get(trading_pair)
        if rule is None:
            return amount
        return floor_to_increment(amount, rule.min_base_amount_increment)

    # ---- fees -------------------------------------------------------------------------------------
    @property
    def trade_fee_schema(self) -> TradeFeeSchema:
        """The connector's DEFAULT_FEES with the user's overrides applied (every pair without a
        schema of its own pays these)."""
        return self._trade_fee_schema

    def trade_fee_schema_for(self, trading_pair: str) -> TradeFeeSchema:
        """The fees ``trading_pair`` pays: its own schema if one was set, else :attr:`trade_fee_schema`."""
        split_trading_pair(trading_pair)
        return self._pair_fee_schemas.get(trading_pair, self._trade_fee_schema)

    def set_trading_pair_fee_schema(self, trading_pair: str, schema: TradeFeeSchema | None) -> None:
        """Give ``trading_pair`` fees of its own (``None``: back to :attr:`trade_fee_schema`).

        Exchanges charge some pairs differently (promotional zero-fee pairs, per-symbol commission
        rates an account is granted); a connector that learns them, or a user who knows them, sets
        them here, and :meth:`get_fee`, the budget checker and fill fees then use them.
        """
        split_trading_pair(trading_pair)
        if schema is None:
            self._pair_fee_schemas.pop(trading_pair, None)
            return
        if not isinstance(schema, TradeFeeSchema):
            raise TypeError(f"schema must be a TradeFeeSchema or None, got {type(schema).__name__}")
        self._pair_fee_schemas[trading_pair] = schema

    def get_fee(
        self,
        base_currency: str,
        quote_currency: str,
        order_type: OrderType,
        order_side: TradeType,
        amount: Decimal,
        price: Decimal = Decimal("NaN"),
        is_maker: bool | None = None,
        position_action: PositionAction = PositionAction.NIL,
    ) -> TradeFeeBase:
        """The fee estimate for an order on ``base_currency-quote_currency``, from that pair's
        schema (:meth:`trade_fee_schema_for`). A LIMIT_MAKER order is a maker; other orders are
        takers unless ``is_maker`` says otherwise."""
        schema = self.trade_fee_schema_for(fee_pair(base_currency, quote_currency))
        maker = order_type is OrderType.LIMIT_MAKER if is_maker is None else is_maker
        return build_trade_fee(schema, maker, order_side)

    # ---- orders -----------------------------------------------------------------------------------
    @property
    def in_flight_orders(self) -> dict[str, InFlightOrder]:
        """The orders not yet final, by client order id."""
        return dict(self._order_tracker.active_orders)

    @property
    def order_tracker(self) -> ClientOrderTracker:
        return self._order_tracker

    @property
    def tracking_states(self) -> dict[str, Any]:
        """JSON-serialisable state of the in-flight (and lost) orders, to persist across restarts."""
        return dict(self._order_tracker.tracking_states)

    def restore_tracking_states(self, saved_states: Mapping[str, Any]) -> int:
        """Resume tracking orders saved by :attr:`tracking_states`; returns how many were restored.
        The next status poll reconciles them with the exchange."""
        return self._order_tracker.restore_tracking_states(saved_states)

    # ---- readiness --------------------------------------------------------------------------------
    @property
    @abstractmethod
    def status_dict(self) -> dict[str, bool]:
        """Readiness of each component; the connector is :attr:`ready` when all are True."""

    @property
    def ready(self) -> bool:
        return all(self.status_dict.values())
