"""What a connector author describes so the conformance suite can run against a venue's sandbox.

A :class:`ConformanceTarget` answers, for one connector and its sandbox skin: how to start the
sandbox in-process (:meth:`~ConformanceTarget.open_sandbox`), fund an account, build the connector
against it (URL overrides, keys), and what the sandbox itself says is true (its book, an order's
state, balances, the rate limiter's rejections). The suite never reaches into a sandbox except
through these methods, so the same checks run against any venue skin. Perpetual connectors use
:class:`PerpetualConformanceTarget`, which adds positions, leverage, position mode and funding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from connectorkit.core.decimal_utils import split_trading_pair
from connectorkit.core.enums import OrderState, PositionAction, PositionMode, PositionSide

if TYPE_CHECKING:
    from connectorkit.connector.exchange_py_base import ExchangePyBase
    from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
    from connectorkit.sandbox.faults import FaultInjector

Levels = list[tuple[Decimal, Decimal]]


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """How one check wants its sandbox.

    ``simulate``: background traders move the book (the books check); otherwise the book holds only
    what the check's own accounts place. ``rate_limit_share_pct``: the venue's advertised rate
    limits scaled to this percentage (the throttling check scales the connector's
    ``rate_limits_share_pct`` the same way, so a burst crosses a window in seconds, not minutes).
    ``funding_interval_ms``: perpetuals settle funding this often (``None``: the venue's default).
    """

    seed: int
    simulate: bool = False
    rate_limit_share_pct: Decimal = Decimal(100)
    funding_interval_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """A funded sandbox account: the keys the connector signs with, and the sandbox's own handle
    (``account``) that the target's true-state methods take."""

    api_key: str
    api_secret: str = field(repr=False)
    account: Any = None

    def __repr__(self) -> str:  # keys are secrets, even in a test report
        return f"Credentials(account={self.account!r})"


@dataclass(frozen=True, slots=True)
class TrueBook:
    """The sandbox's book: ``update_id`` in the units of the connector book's ``last_diff_uid``."""

    update_id: int
    bids: Levels
    asks: Levels


@dataclass(frozen=True, slots=True)
class TrueOrder:
    """An order as the sandbox holds it, mapped to connectorkit's states (an exchange-side expiry
    is CANCELED, as the connector reports it); ``trade_ids`` are the sandbox's fill ids, in the form
    the connector's ``OrderFilledEvent.exchange_trade_id`` carries them."""

    state: OrderState
    executed: Decimal
    trade_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TrueFunding:
    """The sandbox's funding state of the target's pair."""

    mark_price: Decimal
    rate: Decimal


class ConformanceTarget(ABC):
    """One connector against its venue's sandbox (see the module docstring).

    Class attributes to set:

    * ``connector_name``: the registry name (``create_connector(connector_name, ...)``);
    * ``trading_pair``: a pair the sandbox lists, ``BASE-QUOTE``;
    * ``reference_price``: where the sandbox's market of that pair starts; the checks quote around it;
    * ``insufficient_balance_error``: text of the venue's own rejection of an order the account
      cannot pay for (it must appear in the ``OrderFailure`` event's ``error_message``);
    * ``post_only_rejection_error``: the venue's rejection of a post-only order that would take, or
      ``None`` when the venue accepts such an order and then expires it unfilled;
    * ``account_notional``: the value, in the quote asset, each trader account is funded with (as
      much again in the base asset on spot; the market maker gets ten times as much). The rejection
      check sends a buy for 50 times this notional, which must be within the venue's order limits;
    * ``server_logger_prefixes``: loggers of the sandbox itself, left out of the secrets check (the
      suite checks what the *connector* logs).
    """

    connector_name: ClassVar[str]
    trading_pair: ClassVar[str]
    reference_price: ClassVar[Decimal]
    insufficient_balance_error: ClassVar[str]
    post_only_rejection_error: ClassVar[str | None]
    account_notional: ClassVar[Decimal] = Decimal(10_000)
    server_logger_prefixes: ClassVar[tuple[str, ...]] = (
        "connectorkit.sandbox", "aiohttp.access", "aiohttp.server", "aiohttp.web",
    )

    @property
    def base_asset(self) -> str:
        return split_trading_pair(self.trading_pair)[0]

    @property
    def quote_asset(self) -> str:
        return split_trading_pair(self.trading_pair)[1]

    @abstractmethod
    def open_sandbox(self, spec: SandboxSpec) -> AbstractAsyncContextManager[Any]:
        """An async context manager that runs the venue's sandbox in-process on loopback, with the
        target's pair listed at ``reference_price``, and yields it (the handle the other methods
        take)."""

    @abstractmethod
    def create_account(self, sandbox: Any, base: Decimal, quote: Decimal) -> Credentials:
        """A new account holding ``base`` and ``quote`` (a perpetual: ``quote`` as margin)."""

    @abstractmethod
    def build_connector(
        self, sandbox: Any, credentials: Credentials | None, **settings: Any
    ) -> ExchangePyBase:
        """The connector for ``[trading_pair]`` pointed at the sandbox (every endpoint overridden),
        signed with ``credentials`` (``None``: public data only, ``trading_required=False``), with the
        given ``ConnectorSettings`` fields."""

    @abstractmethod
    def true_book(self, sandbox: Any) -> TrueBook:
        """The sandbox's book of ``trading_pair``: top 20 levels each side, best first."""

    @abstractmethod
    def true_order(self, sandbox: Any, credentials: Credentials, client_order_id: str) -> TrueOrder | None:
        """The sandbox's record of the account's order, or ``None`` if the venue never accepted it."""

    @abstractmethod
    def true_balances(self, sandbox: Any, credentials: Credentials) -> dict[str, tuple[Decimal, Decimal]]:
        """``{asset: (total, available)}`` as the sandbox holds them, for the assets it holds."""

    @abstractmethod
    def faults(self, sandbox: Any) -> FaultInjector:
        """The sandbox's fault injector (the venue-neutral core; each skin maps the faults)."""

    @abstractmethod
    def rate_limit_rejections(self, sandbox: Any) -> int:
        """How many requests the sandbox's rate limiter has refused (429/418) so far."""

    @abstractmethod
    def order_rate_limit(self, sandbox: Any) -> int:
        """How many orders the sandbox accepts in its shortest order-count window, as advertised
        (after the spec's scaling): the throttling check bursts just past it."""

    def order_options(self, action: PositionAction = PositionAction.OPEN) -> dict[str, Any]:
        """Keyword arguments every ``buy``/``sell`` of the checks carries (perpetuals: the position
        action)."""
        return {}


class PerpetualConformanceTarget(ConformanceTarget):
    """A perpetual connector's target: also positions, leverage, position mode and funding.

    ``leverage``: a leverage the venue accepts for ``trading_pair`` that differs from its default
    (the check sets it and reads it back).
    """

    leverage: ClassVar[int] = 10

    @abstractmethod
    def build_connector(
        self, sandbox: Any, credentials: Credentials | None, **settings: Any
    ) -> PerpetualDerivativePyBase: ...

    def order_options(self, action: PositionAction = PositionAction.OPEN) -> dict[str, Any]:
        return {"position_action": action}

    @abstractmethod
    def true_leverage(self, sandbox: Any, credentials: Credentials) -> int:
        """The account's leverage for ``trading_pair``."""

    @abstractmethod
    def true_position_mode(self, sandbox: Any, credentials: Credentials) -> PositionMode:
        """The account's position mode."""

    @abstractmethod
    def true_positions(self, sandbox: Any, credentials: Credentials) -> dict[PositionSide, Decimal]:
        """Open positions of ``trading_pair`` by side (``BOTH`` in one-way mode), signed amounts."""

    @abstractmethod
    def true_funding(self, sandbox: Any) -> TrueFunding:
        """The sandbox's current mark price and funding rate of ``trading_pair``."""

    @abstractmethod
    def true_funding_payments(self, sandbox: Any, credentials: Credentials) -> list[Decimal]:
        """Every funding payment booked to the account so far (signed: positive = received)."""
