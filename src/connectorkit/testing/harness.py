"""The machinery every conformance check runs in: a sandbox session, started connectors with their
event logs, bounded waits that fail loudly, and the secrets watch over all logging.

Nothing here sleeps to synchronise: :func:`wait_until` polls a condition (the code under test runs on
the same event loop meanwhile) and raises :class:`ConformanceError` naming what it waited for.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.core.enums import OrderType, PositionAction
from connectorkit.core.events import MarketEvent
from connectorkit.testing.target import ConformanceTarget, Credentials, SandboxSpec

if TYPE_CHECKING:
    from connectorkit.connector.exchange_py_base import ExchangePyBase
    from connectorkit.core.in_flight_order import InFlightOrder

#: Seconds a single condition may take on a loaded 2-core machine before the check fails.
DEFAULT_TIMEOUT = 20.0
_POLL_S = 0.01

#: Settings every trading check's connectors run with: short polling so that REST reconciliation
#: happens within a check's time, and a short request timeout so that a lost answer fails fast.
FAST_SETTINGS: dict[str, Any] = {
    "short_poll_interval": 0.2,
    "long_poll_interval": 1.0,
    "user_stream_silence_threshold": 5.0,
    "funding_payment_poll_interval": 0.3,
    "request_timeout": 5.0,
}


class ConformanceError(AssertionError):
    """A conformance check failed; the message says which rule and what was seen."""


async def wait_until(
    predicate: Callable[[], object], what: str | Callable[[], str], within: float = DEFAULT_TIMEOUT
) -> None:
    """Return once ``predicate()`` is truthy; raise :class:`ConformanceError` after ``within`` s,
    naming ``what`` (a callable is asked at the timeout, so it can describe the state then)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            described = what() if callable(what) else what
            raise ConformanceError(f"timed out after {within:g} s waiting for {described}")
        await asyncio.sleep(_POLL_S)


def expect(condition: object, message: str) -> None:
    """Raise :class:`ConformanceError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConformanceError(message)


class EventLog:
    """Every event one connector emits, in order, by kind."""

    def __init__(self, connector: ExchangePyBase) -> None:
        self.events: list[tuple[MarketEvent, Any]] = []
        # Listeners may be held weakly by the publisher: keep the bound callables alive here.
        self._listeners = [self._listener(kind) for kind in MarketEvent]
        for kind, listener in zip(MarketEvent, self._listeners, strict=True):
            connector.add_listener(kind, listener)

    def _listener(self, kind: MarketEvent) -> Callable[[Any], None]:
        def record(event: Any) -> None:
            self.events.append((kind, event))

        return record

    def of(self, kind: MarketEvent, order_id: str | None = None) -> list[Any]:
        return [e for k, e in self.events
                if k is kind and (order_id is None or getattr(e, "order_id", None) == order_id)]

    def kinds_for(self, order_id: str) -> list[MarketEvent]:
        return [k for k, e in self.events if getattr(e, "order_id", None) == order_id]


class SecretWatch(logging.Handler):
    """Captures every log record of the process (root logger at DEBUG while installed) and finds any
    registered secret in a message, its formatted exception or stack, or in texts given to
    :meth:`scan` (reprs, event fields). Records of ``ignored_prefixes`` loggers (the sandbox server's
    own) are not the connector's and are skipped."""

    def __init__(self, ignored_prefixes: tuple[str, ...]) -> None:
        super().__init__(logging.DEBUG)
        self._ignored = ignored_prefixes
        self._secrets: set[str] = set()
        self.records = 0
        self.leaks: list[str] = []
        self._saved_level = logging.WARNING

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s)

    def install(self) -> None:
        root = logging.getLogger()
        self._saved_level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)

    def uninstall(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._saved_level)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self._ignored):
            return
        self.records += 1
        parts = [self._message(record)]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
        if record.stack_info:
            parts.append(record.stack_info)
        self._check(f"log record of {record.name} ({record.levelname})", "\n".join(parts))

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        try:
            return record.getMessage()
        except Exception:  # a malformed record still gets its raw parts checked
            return f"{record.msg!r} % {record.args!r}"

    def _check(self, where: str, text: str) -> None:
        if any(secret in text for secret in self._secrets):
            for secret in self._secrets:  # the report itself must not spread what it found
                text = text.replace(secret, "<LEAKED>")
            self.leaks.append(f"{where}: {text[:300]!r}")

    def scan(self, where: str, text: str) -> None:
        self._check(where, text)

    def assert_clean(self) -> None:
        if self.leaks:
            raise ConformanceError(
                f"a key or secret appeared {len(self.leaks)} time(s); first: {self.leaks[0]}"
            )


@dataclass(frozen=True, slots=True)
class Quoting:
    """Prices and sizes valid under the pair's trading rules: ``price`` is the reference price on
    the tick, ``tick`` the price increment, ``unit`` the smallest amount on the step whose notional
    is at least twice the minimum at ``price``."""

    price: Decimal
    tick: Decimal
    unit: Decimal

    def at(self, ticks: int) -> Decimal:
        return self.price + self.tick * ticks

    def units(self, n: int | Decimal) -> Decimal:
        return self.unit * n


def _price(price: Decimal | None) -> Decimal:
    return price if price is not None else Decimal("NaN")  # the templates' "no price" (MARKET)


class Trader:
    """One started connector, its account and its event log."""

    def __init__(self, session: Session, connector: ExchangePyBase, credentials: Credentials | None) -> None:
        self.session = session
        self.connector = connector
        self.credentials = credentials
        self.log = EventLog(connector)

    @property
    def pair(self) -> str:
        return self.session.target.trading_pair

    def is_ready(self) -> bool:
        return self.connector.ready

    def describe_readiness(self) -> str:
        return f"{self.connector.name} ready (status {self.connector.status_dict})"

    @property
    def perpetual(self) -> PerpetualDerivativePyBase:
        """The connector, for the perpetual checks (which a spot connector never reaches)."""
        connector = self.connector
        if not isinstance(connector, PerpetualDerivativePyBase):
            raise ConformanceError(f"{connector.name} is not a PerpetualDerivativePyBase")
        return connector

    def buy(self, amount: Decimal, order_type: OrderType, price: Decimal | None = None,
            action: PositionAction = PositionAction.OPEN) -> str:
        return self.connector.buy(self.pair, amount, order_type, _price(price),
                                  **self.session.target.order_options(action))

    def sell(self, amount: Decimal, order_type: OrderType, price: Decimal | None = None,
             action: PositionAction = PositionAction.OPEN) -> str:
        return self.connector.sell(self.pair, amount, order_type, _price(price),
                                   **self.session.target.order_options(action))

    def order(self, client_order_id: str) -> InFlightOrder | None:
        return self.connector.order_tracker.fetch_order(client_order_id=client_order_id)

    def quoting(self) -> Quoting:
        rule = self.connector.trading_rules[self.pair]
        tick = rule.min_price_increment
        price = (self.session.target.reference_price / tick).to_integral_value(ROUND_FLOOR) * tick
        step = rule.min_base_amount_increment
        least = max(rule.min_order_size, step, 2 * rule.min_notional_size / price)
        unit = (least / step).to_integral_value(ROUND_CEILING) * step
        return Quoting(price, tick, unit)

    async def event(self, kind: MarketEvent, order_id: str) -> Any:
        """The first ``kind`` event of the order (waits for it)."""
        await wait_until(lambda: self.log.of(kind, order_id), f"{kind.name} of {order_id}")
        return self.log.of(kind, order_id)[0]

    async def done(self, order_id: str) -> InFlightOrder:
        def finished() -> bool:
            order = self.order(order_id)
            return order is not None and order.is_done

        await wait_until(finished, f"{order_id} done")
        order = self.order(order_id)
        assert order is not None
        return order

    async def live(self, order_id: str) -> None:
        """Wait until the exchange accepted the order and the connector knows it open."""
        def open_() -> bool:
            order = self.order(order_id)
            return order is not None and order.exchange_order_id is not None and order.is_open

        await wait_until(open_, f"{order_id} open")

    async def matches_sandbox(self, order_id: str) -> None:
        """Wait until the connector's order has the sandbox's state and executed amount."""
        target, sandbox = self.session.target, self.session.sandbox
        assert self.credentials is not None
        credentials = self.credentials
        seen: list[str] = []

        def same() -> bool:
            order = self.order(order_id)
            true = target.true_order(sandbox, credentials, order_id)
            seen[:] = [f"connector {order.current_state.name if order else None} "
                       f"{order.executed_amount_base if order else None}, "
                       f"sandbox {true.state.name if true else None} {true.executed if true else None}"]
            if order is None:
                return False
            if true is None:
                return order.current_state.name == "FAILED"
            return order.current_state is true.state and order.executed_amount_base == true.executed

        try:
            await wait_until(same, f"{order_id} in the sandbox's state")
        except ConformanceError as err:
            raise ConformanceError(f"{err} ({seen[0] if seen else 'never seen'})") from None

    async def balances_match(self) -> None:
        """Wait until the connector's total and available balances equal the sandbox's."""
        target, sandbox = self.session.target, self.session.sandbox
        assert self.credentials is not None
        credentials = self.credentials
        diff: list[str] = []

        def same() -> bool:
            true = target.true_balances(sandbox, credentials)
            ours = {asset: (self.connector.get_balance(asset), self.connector.get_available_balance(asset))
                    for asset in true}
            diff[:] = [f"{a}: connector {ours[a]} sandbox {true[a]}" for a in true if ours[a] != true[a]]
            return not diff

        try:
            await wait_until(same, "balances equal to the sandbox's")
        except ConformanceError as err:
            raise ConformanceError(f"{err}: {'; '.join(diff)}") from None


class Session:
    """One sandbox for one check, the connectors started on it, and the secrets watch.

    On exit every connector is stopped, the sandbox closed, and (if the check passed so far) every
    log record, connector repr, order repr and event of the session is checked for secrets.
    """

    def __init__(self, target: ConformanceTarget, spec: SandboxSpec) -> None:
        self.target = target
        self.spec = spec
        self.watch = SecretWatch(target.server_logger_prefixes)
        self.traders: list[Trader] = []
        self._sandbox_cm: AbstractAsyncContextManager[Any] | None = None
        self.sandbox: Any = None

    async def __aenter__(self) -> Session:
        self.watch.install()
        try:
            self._sandbox_cm = self.target.open_sandbox(self.spec)
            self.sandbox = await self._sandbox_cm.__aenter__()
        except BaseException:
            self.watch.uninstall()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stopped = await asyncio.gather(*(t.connector.stop_network() for t in self.traders),
                                       return_exceptions=True)
        try:
            if self._sandbox_cm is not None:
                await self._sandbox_cm.__aexit__(exc_type, exc, tb)
        finally:
            self.watch.uninstall()
        if exc is None:
            failed = [result for result in stopped if isinstance(result, BaseException)]
            if failed:
                raise ConformanceError(f"stop_network raised {failed[0]!r}") from failed[0]
            self._scan_objects()
            self.watch.assert_clean()

    def account(self, base: Decimal, quote: Decimal) -> Credentials:
        credentials = self.target.create_account(self.sandbox, base, quote)
        self.watch.add(credentials.api_key, credentials.api_secret)
        return credentials

    def build(self, credentials: Credentials | None, **settings: Any) -> ExchangePyBase:
        """A connector on the sandbox, not started."""
        return self.target.build_connector(self.sandbox, credentials, **settings)

    async def trader(self, credentials: Credentials | None, *, wait_ready: bool = True,
                     **settings: Any) -> Trader:
        """Build the connector (``FAST_SETTINGS`` unless overridden), start it and wait until ready."""
        (trader,) = await self.start_traders(credentials, wait_ready=wait_ready, **settings)
        return trader

    async def start_traders(self, *credentials: Credentials | None, wait_ready: bool = True,
                            **settings: Any) -> list[Trader]:
        """One connector per account, started together (startup dominates a check's time)."""
        traders = [Trader(self, self.build(c, **{**FAST_SETTINGS, **settings}), c) for c in credentials]
        self.traders.extend(traders)
        await asyncio.gather(*(t.connector.start_network() for t in traders))
        if wait_ready:
            for trader in traders:
                await wait_until(trader.is_ready, trader.describe_readiness)
        return traders

    def funded(self, scale: int = 1) -> Credentials:
        """An account funded with ``scale`` times the target's ``account_notional`` (quote) and as
        much again in the base asset at the reference price."""
        notional = self.target.account_notional * scale
        return self.account(notional / self.target.reference_price, notional)

    def _scan_objects(self) -> None:
        for trader in self.traders:
            connector = trader.connector
            self.watch.scan("connector repr", repr(connector))
            self.watch.scan("settings repr", repr(connector.settings))
            self.watch.scan("settings dump", str(connector.settings.model_dump()))
            for order in connector.order_tracker.all_fillable_orders.values():
                self.watch.scan("order repr", repr(order))
            for kind, event in trader.log.events:
                self.watch.scan(f"{kind.name} event", repr(event))
