"""ExchangePyBase: the template a spot connector fills in.

Everything generic -- order placement and cancellation, quantization and validation, the order,
fill, balance and trading-rule polling, the user stream listener, time sync, reconnect
reconciliation and readiness -- lives here, once. A connector author writes only this:

==========================================  ===========================================================
Member                                      What the connector provides
==========================================  ===========================================================
``name`` (property)                         the registry name, e.g. ``"binance"``
``DEFAULT_FEES`` (class attribute)          the venue's standard ``TradeFeeSchema`` (``<name>_utils``)
``CLIENT_ORDER_ID_PREFIX`` /                prefix and maximum length of the client order ids the
``CLIENT_ORDER_ID_MAX_LENGTH``              exchange accepts (ids are generated here)
``_rate_limits()``                          the exchange's ``RateLimit`` list for the throttler
``_create_auth()``                          the ``AuthBase`` for the account (``None`` without keys)
``_create_order_book_data_source()``        the ``OrderBookTrackerDataSource`` (snapshots, diffs; for
                                            perpetuals also funding info)
``_create_user_stream_data_source()``       the ``UserStreamTrackerDataSource``
``_request_exchange_info()``                fetch the instruments document (e.g. ``GET exchangeInfo``)
``_format_trading_pair_symbol_map(info)``   exchange symbol -> ``BASE-QUOTE`` pair, from that document
``_format_trading_rules(info)``             the ``TradingRule`` of every pair, from that document
``_place_order(order, options=)``           send the order with its ``OrderOptions`` (time in force,
                                            reduce-only); return ``(exchange_order_id, timestamp)``
``_place_cancel(order)``                    cancel it; return True when the exchange confirms
``_request_order_status(order)``            an ``OrderUpdate`` for the order (by client order id)
``_all_trade_updates_for_order(order)``     every fill of the order as ``TradeUpdate`` s
``_fetch_balances()``                       ``{asset: (total, available)}`` for the whole account
``_process_user_stream_event(event)``       turn one user-stream event into ``OrderUpdate`` /
                                            ``TradeUpdate`` (-> ``self.order_tracker``) and balance
                                            updates (-> ``self._set_balance``)
``_is_order_not_found_error(exc)``          the exchange said "no such order" (Binance -2013/-2011)
``_is_request_exception_unknown_status(e)`` the exchange cannot say whether it executed the request
                                            (Binance -1007); 5xx, timeouts and connection errors are
                                            already treated so here
``_is_time_synchronizer_related_error(e)``  the exchange rejected our timestamp (Binance -1021)
==========================================  ===========================================================

Optional overrides with sensible defaults: ``_request_server_time()`` (seconds; default: local
clock, i.e. no offset), ``_create_web_assistants_factory()`` (add pre/post processors or an error
parser), ``SUPPORTED_ORDER_TYPES``, ``SUPPORTED_TIME_IN_FORCE`` / ``SUPPORTS_REDUCE_ONLY`` /
``CLIENT_ORDER_ID_PATTERN`` (the order options the connector sends; anything else a caller passes
is refused before sending), ``_validate_order(order, quantized_amount)`` (extend the generic
trading-rule checks; return a reason to refuse), ``_reference_price()`` (price used for the
min-notional check of market orders).

Tunables (polling intervals, user-stream silence threshold, rate-limit share, fee overrides, request
timeout, snapshot refresh) come from :class:`~connectorkit.connector.settings.ConnectorSettings`.

The ``_create_*`` and ``_rate_limits`` factories run inside ``__init__``: set any attribute they need
before calling ``super().__init__``. REST calls go through :meth:`_api_request` (or ``_api_get`` /
``_api_post`` / ``_api_put`` / ``_api_delete``): throttled, signed when ``is_auth_required``, and retried
once after a clock resync when the exchange rejects the timestamp.

Placement never guesses. The order is tracked (PENDING_CREATE) before the request is sent; a
definite rejection fails it (OrderFailure with the exchange's reason); an answer that leaves the
outcome unknown (5xx, timeout, lost connection, an undecodable success answer, or what
``_is_request_exception_unknown_status`` says) keeps it tracked until status polling finds it or,
after repeated "not found" answers, the order tracker declares it lost.

Placement and cancellation requests (everything ``_place_order`` and ``_place_cancel`` send) have
HIGH priority in the throttler: they pass ahead of queued background requests (polling, snapshots),
so a poll-saturated budget never delays an order behind a heavy poll.

Pre-send hooks (:meth:`ExchangePyBase.add_pre_send_hook`) run in the placement task after the order
is tracked and validated, right before the request: e.g. a journal makes the order durable there.
A hook that raises or exceeds ``PRE_SEND_HOOK_TIMEOUT`` fails the order (OrderFailure,
``PreSendHookError``) and nothing is sent -- an order its journal could not record is never placed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from connectorkit.connector.background_tasks import BackgroundTasks
from connectorkit.connector.exchange_base import ExchangeBase, UnknownTradingPairError
from connectorkit.connector.order_book_tracker import OrderBookTracker
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.order_options import (
    OrderOptions,
    UnsupportedOrderOptionError,
    check_client_order_id,
    check_order_options,
)
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.connector.user_stream_tracker import UserStreamTracker
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.core.budget_checker import BudgetChecker
from connectorkit.core.cancellation_result import CancellationResult
from connectorkit.core.decimal_utils import split_trading_pair
from connectorkit.core.enums import OrderState, OrderType, PositionAction, TimeInForce, TradeType
from connectorkit.core.in_flight_order import (
    ExchangeOrderIdUnavailableError,
    InFlightOrder,
    OrderUpdate,
    TradeUpdate,
)
from connectorkit.core.order_book import OrderBook
from connectorkit.core.trading_rule import TradingRule
from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import (
    ExchangeConnectionError,
    ExchangeRequestError,
    RequestTimeoutError,
    ResponseDecodeError,
)
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import AsyncThrottler, RateLimit, RequestPriority, request_priority
from connectorkit.net.time_synchronizer import TimeSynchronizer, call_with_time_resync
from connectorkit.net.web_assistants_factory import WebAssistantsFactory

logger = logging.getLogger(__name__)

_NAN = Decimal("NaN")

_STATES_WITH_EXECUTIONS = frozenset({OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELED})
"""Polled statuses that may carry executions we have not seen (a cancel can follow a partial fill):
the order's trades are fetched before such a status is applied."""

LOST_ORDER_MAX_EXTRA_CHECKS = 10
"""Lost-order cleanup: a lost order the exchange still does not know after this many further status
checks is dropped from tracking (it stays findable among the recently finished orders); one the
exchange reports live after all is cancelled."""


PreSendHook = Callable[[InFlightOrder], Awaitable[None]]
"""Awaited with the tracked, validated order right before its placement request is sent."""


class UnlistedTradingPairError(UnknownTradingPairError):
    """Configured trading pairs that the exchange's instrument list does not have."""

    def __init__(self, connector: str, pairs: Sequence[str]) -> None:
        super().__init__(connector, list(pairs))
        self.connector = connector
        self.pairs = list(pairs)

    def __str__(self) -> str:  # a KeyError would show its argument quoted
        return f"not listed on {self.connector}: {', '.join(self.pairs)}"


class ExchangePyBase(ExchangeBase):
    """The spot connector template (see the module docstring for what a connector writes)."""

    PRE_SEND_HOOK_TIMEOUT: ClassVar[float] = 5.0
    """Seconds each pre-send hook may take before the order is failed unsent."""

    CLIENT_ORDER_ID_PREFIX: ClassVar[str] = ""
    CLIENT_ORDER_ID_MAX_LENGTH: ClassVar[int] = 36
    CLIENT_ORDER_ID_PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9_-]+")
    """Characters a caller's ``client_order_id`` may use (full match; length checked separately)."""
    SUPPORTED_TIME_IN_FORCE: ClassVar[frozenset[TimeInForce]] = frozenset({TimeInForce.GTC})
    """Time-in-force values the connector sends for LIMIT orders (GTC is what LIMIT means here)."""
    SUPPORTS_REDUCE_ONLY: ClassVar[bool] = False
    """Whether the connector sends ``reduce_only`` orders to the venue."""
    SUPPORTED_ORDER_TYPES: ClassVar[tuple[OrderType, ...]] = (
        OrderType.LIMIT,
        OrderType.MARKET,
        OrderType.LIMIT_MAKER,
    )

    def __init__(
        self, settings: ConnectorSettings, *, time_provider: Callable[[], float] = time.time
    ) -> None:
        super().__init__(settings, time_provider=time_provider)
        if self.CLIENT_ORDER_ID_MAX_LENGTH - len(self.CLIENT_ORDER_ID_PREFIX) - 1 < 16:
            raise ValueError("client order ids need room for at least 16 random characters")
        self._time_synchronizer = TimeSynchronizer()
        self._throttler = self._create_throttler()
        self._auth = self._create_auth()
        if self._trading_required and self._auth is None:
            raise ValueError(
                f"{self.name}: trading_required=True needs api_key and api_secret "
                "(pass trading_required=False for public market data only)"
            )
        self._web_assistants_factory = self._create_web_assistants_factory()
        self._order_book_data_source = self._create_market_data_source()
        self._order_book_tracker = OrderBookTracker(
            self._order_book_data_source, self._trading_pairs,
            snapshot_refresh_interval=settings.order_book_snapshot_refresh_interval,
        )
        self._user_stream_tracker: UserStreamTracker | None = None
        if self._trading_required:
            data_source = self._create_user_stream_data_source()
            data_source.add_connection_listener(self._on_user_stream_connected)
            self._user_stream_tracker = UserStreamTracker(data_source)
        self._loops = BackgroundTasks(f"{self.name}", logger)
        self._order_tasks = BackgroundTasks(f"{self.name}:orders", logger)
        self._placing: set[str] = set()  # placement task not finished yet: polling leaves them alone
        self._unsent: set[str] = set()  # tracked, placement request not sent (yet)
        self._lost_not_found_counts: dict[str, int] = {}
        self._cancelling_lost: set[str] = set()
        self._pre_send_hooks: list[PreSendHook] = []
        self._budget_checker = BudgetChecker(self)
        self._poll_now = asyncio.Event()
        self._last_poll_time = 0.0
        self._balances_initialized = False
        self._network_started = False
        self._logged_unlisted: list[str] = []
        self.user_stream_event_error_count = 0

    # ==================================================================================================
    # What a connector writes (see the table in the module docstring).
    # ==================================================================================================
    @abstractmethod
    def _rate_limits(self) -> Sequence[RateLimit]: ...

    @abstractmethod
    def _create_auth(self) -> AuthBase | None: ...

    @abstractmethod
    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource: ...

    @abstractmethod
    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource: ...

    @abstractmethod
    async def _request_exchange_info(self) -> Any: ...

    @abstractmethod
    def _format_trading_pair_symbol_map(self, exchange_info: Any) -> Mapping[str, str]: ...

    @abstractmethod
    def _format_trading_rules(self, exchange_info: Any) -> list[TradingRule]: ...

    @abstractmethod
    async def _place_order(self, order: InFlightOrder, *, options: OrderOptions) -> tuple[str, float]: ...

    @abstractmethod
    async def _place_cancel(self, order: InFlightOrder) -> bool: ...

    @abstractmethod
    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate: ...

    @abstractmethod
    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> list[TradeUpdate]: ...

    @abstractmethod
    async def _fetch_balances(self) -> Mapping[str, tuple[Decimal, Decimal]]: ...

    @abstractmethod
    async def _process_user_stream_event(self, event: Any) -> None: ...

    @abstractmethod
    def _is_order_not_found_error(self, exception: BaseException) -> bool: ...

    @abstractmethod
    def _is_request_exception_unknown_status(self, exception: BaseException) -> bool: ...

    @abstractmethod
    def _is_time_synchronizer_related_error(self, exception: BaseException) -> bool: ...

    def _create_throttler(self) -> AsyncThrottler:
        """The throttler of this connector's limits; with ``rate_limit_store`` set, one whose windows
        are shared through Redis by every process using the same API key."""
        settings = self._settings
        store = settings.rate_limit_store
        share = settings.rate_limits_share_pct
        if store is None:
            return AsyncThrottler(self._rate_limits(), limits_share_percentage=share, name=self.name)
        from connectorkit.bus.rate_limit_store import SharedBudgetThrottler, account_namespace

        namespace = account_namespace(self.name, settings.api_key.get_secret_value())
        return SharedBudgetThrottler(self._rate_limits(), store.get_secret_value(), namespace,
                                     limits_share_percentage=share, name=self.name)

    def _create_market_data_source(self) -> OrderBookTrackerDataSource:
        """The connector's own data source or, with ``market_data_bus`` set, the bus's (books,
        trades and funding info from a ``connectorkit gateway``; see :mod:`connectorkit.bus`)."""
        bus = self._settings.market_data_bus
        if bus is None:
            return self._create_order_book_data_source()
        from connectorkit.bus.consumer import BusOrderBookDataSource
        from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase

        return BusOrderBookDataSource(self.name, self._trading_pairs, bus.get_secret_value(),
                                      perpetual=isinstance(self, PerpetualDerivativePyBase))

    # ---- optional overrides -----------------------------------------------------------------------
    async def _request_server_time(self) -> float:
        """The exchange's clock in seconds. Default: the local clock (no offset correction)."""
        return self._time_provider()

    def _create_web_assistants_factory(self) -> WebAssistantsFactory:
        return WebAssistantsFactory(
            self._throttler, self._auth, request_timeout=self._settings.request_timeout
        )

    def _reference_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        """Price used to value a market order for the min-notional check (NaN if unknown)."""
        book = self._order_book_tracker.order_books.get(trading_pair)
        return book.get_price(is_buy) if book is not None else _NAN

    # ==================================================================================================
    # Public surface.
    # ==================================================================================================
    @property
    def order_books(self) -> Mapping[str, OrderBook]:
        return self._order_book_tracker.order_books

    @property
    def budget_checker(self) -> BudgetChecker:
        """A budget checker over this connector's balances and fees."""
        return self._budget_checker

    @property
    def order_book_tracker(self) -> OrderBookTracker:
        return self._order_book_tracker

    @property
    def user_stream_tracker(self) -> UserStreamTracker | None:
        return self._user_stream_tracker

    @property
    def time_synchronizer(self) -> TimeSynchronizer:
        return self._time_synchronizer

    @property
    def throttler(self) -> AsyncThrottler:
        return self._throttler

    @property
    def status_dict(self) -> dict[str, bool]:
        """Live readiness: a book resyncing or a user stream reconnecting makes the connector not
        ready until it is back (without trading, balances and the user stream are not required)."""
        return {
            "symbols_mapping_initialized": self.trading_pair_symbol_map_ready(),
            "order_books_initialized": self._order_book_tracker.ready,
            "account_balance": not self._trading_required or self._balances_initialized,
            "trading_rule_initialized": all(pair in self._trading_rules for pair in self._trading_pairs),
            "user_stream_initialized": self._user_stream_tracker is None
            or self._user_stream_tracker.data_source.connected,
        }

    def buy(
        self,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType = OrderType.LIMIT,
        price: Decimal = _NAN,
        *,
        position_action: PositionAction | None = None,
        time_in_force: TimeInForce | str | None = None,
        reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> str:
        """Place a buy order in the background; returns its client order id at once.

        Options (keyword only; what the connector does not support is an
        :class:`~connectorkit.connector.order_options.UnsupportedOrderOptionError`, raised here,
        before anything is tracked or sent): ``position_action`` (perpetuals: OPEN or CLOSE),
        ``time_in_force`` for LIMIT orders (:attr:`SUPPORTED_TIME_IN_FORCE`; default GTC),
        ``reduce_only`` (:attr:`SUPPORTS_REDUCE_ONLY`), and ``client_order_id`` (your own id,
        checked against the exchange's rules and the orders tracked; default: a generated one).
        """
        return self._submit(
            TradeType.BUY, trading_pair, amount, order_type, price, position_action=position_action,
            time_in_force=time_in_force, reduce_only=reduce_only, client_order_id=client_order_id,
        )

    def sell(
        self,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType = OrderType.LIMIT,
        price: Decimal = _NAN,
        *,
        position_action: PositionAction | None = None,
        time_in_force: TimeInForce | str | None = None,
        reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> str:
        """Place a sell order in the background; returns its client order id at once (options as
        for :meth:`buy`)."""
        return self._submit(
            TradeType.SELL, trading_pair, amount, order_type, price, position_action=position_action,
            time_in_force=time_in_force, reduce_only=reduce_only, client_order_id=client_order_id,
        )

    def cancel(self, trading_pair: str, client_order_id: str) -> str:
        """Cancel an order in the background; returns the client order id at once."""
        self._order_tasks.spawn(
            self._execute_cancel(trading_pair, client_order_id), f"cancel-{client_order_id}"
        )
        return client_order_id

    async def cancel_all(self, timeout_seconds: float) -> list[CancellationResult]:
        """Cancel every order being worked (and every lost order, which may still exist on the
        exchange); wait at most ``timeout_seconds``. Unconfirmed cancellations are unsuccessful."""
        orders = list(self._order_tracker.all_updatable_orders.values())
        outcome: dict[str, bool] = {}

        async def cancel_one(order: InFlightOrder) -> None:
            outcome[order.client_order_id] = await self._execute_cancel(
                order.trading_pair, order.client_order_id
            )

        try:
            async with asyncio.timeout(timeout_seconds):
                await asyncio.gather(*(cancel_one(order) for order in orders))
        except TimeoutError:
            logger.warning(
                "cancel_all: %d of %d cancellations unconfirmed after %ss",
                len(orders) - sum(outcome.values()), len(orders), timeout_seconds,
            )
        return [CancellationResult(o.client_order_id, outcome.get(o.client_order_id, False)) for o in orders]

    async def start_network(self) -> None:
        """Start the trackers and every background loop (idempotent)."""
        if self._network_started:
            return
        self._network_started = True
        await self._order_book_tracker.start()
        self._loops.spawn(self._trading_rules_polling_loop(), "trading-rules")
        if self._user_stream_tracker is not None:
            self._loops.spawn(self._time_sync_loop(), "time-sync")
            self._loops.spawn(self._status_polling_loop(), "status-polling")
            await self._user_stream_tracker.start()
            self._loops.spawn(self._user_stream_event_listener(), "user-stream-listener")

    async def stop_network(self) -> None:
        """Stop every loop and tracker and close the HTTP session. An order whose placement request
        was already sent stays tracked (persist :attr:`tracking_states`) and is resolved after the
        next start; one not sent yet is failed (``OrderNotSent``), as is any order placed while the
        network is not running."""
        self._network_started = False
        await self._loops.cancel_all()
        await self._order_tasks.cancel_all()
        if self._user_stream_tracker is not None:
            await self._user_stream_tracker.stop()
        await self._order_book_tracker.stop()
        await self._order_tracker.stop()
        await self._web_assistants_factory.close()
        await self._throttler.close()

    @property
    def background_task_names(self) -> list[str]:
        """Names of the running background tasks (diagnostics)."""
        return self._loops.names + self._order_tasks.names

    # ==================================================================================================
    # REST helpers for connector code.
    # ==================================================================================================
    async def _api_request(
        self,
        url: str,
        *,
        method: RESTMethod = RESTMethod.GET,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        is_auth_required: bool = False,
        limit_id: str | None = None,
        response_type: Any = Any,
    ) -> Any:
        """One REST call, JSON-decoded (into ``response_type``, e.g. a msgspec Struct, when given).
        A signed call is retried once after a clock resync if the exchange rejects its timestamp
        (the retry is signed anew)."""
        rest = await self._web_assistants_factory.get_rest_assistant()

        async def call() -> Any:
            return await rest.execute_request(
                url, method=method, params=params, data=data, headers=headers,
                is_auth_required=is_auth_required, throttler_limit_id=limit_id, response_type=response_type,
            )

        if not is_auth_required:
            return await call()
        return await call_with_time_resync(
            call,
            synchronizer=self._time_synchronizer,
            time_provider=self._request_server_time,
            is_timestamp_error=self._is_time_synchronizer_related_error,
        )

    async def _api_get(self, url: str, **kwargs: Any) -> Any:
        return await self._api_request(url, method=RESTMethod.GET, **kwargs)

    async def _api_post(self, url: str, **kwargs: Any) -> Any:
        return await self._api_request(url, method=RESTMethod.POST, **kwargs)

    async def _api_put(self, url: str, **kwargs: Any) -> Any:
        return await self._api_request(url, method=RESTMethod.PUT, **kwargs)

    async def _api_delete(self, url: str, **kwargs: Any) -> Any:
        return await self._api_request(url, method=RESTMethod.DELETE, **kwargs)

    # ==================================================================================================
    # Order placement.
    # ==================================================================================================
    def add_pre_send_hook(self, hook: PreSendHook) -> None:
        """Await ``hook(order)`` before every placement request from now on (in the order added)."""
        self._pre_send_hooks.append(hook)

    def remove_pre_send_hook(self, hook: PreSendHook) -> bool:
        """Stop calling ``hook``; False if it was not registered."""
        try:
            self._pre_send_hooks.remove(hook)
        except ValueError:
            return False
        return True

    async def _run_pre_send_hooks(self, order: InFlightOrder) -> str | None:
        """Await every hook; the reason to fail the order unsent if one raised or timed out."""
        for hook in list(self._pre_send_hooks):
            try:
                async with asyncio.timeout(self.PRE_SEND_HOOK_TIMEOUT):
                    await hook(order)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception(
                    "order %s: pre-send hook %r failed; nothing sent", order.client_order_id, hook
                )
                kind = "timed out" if isinstance(exc, TimeoutError) else f"raised {type(exc).__name__}: {exc}"
                return f"pre-send hook {kind}"
        return None

    def _submit(
        self,
        trade_type: TradeType,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType,
        price: Decimal,
        *,
        position_action: PositionAction | None,
        time_in_force: TimeInForce | str | None,
        reduce_only: bool,
        client_order_id: str | None,
    ) -> str:
        """Check the arguments and options, issue the id, quantize and track the order now; validate
        and send it in an owned task.

        Tracking before the task starts means a ``cancel`` issued right after ``buy`` finds the
        order, and a task cancelled before its first step (``stop_network``) still leaves an order
        that :meth:`_on_placement_task_done` can fail instead of an id that never hears back.
        """
        _check_order_arguments(trading_pair, amount, order_type, price)
        options = check_order_options(
            self.name, order_type, time_in_force, reduce_only,
            supported_time_in_force=self.SUPPORTED_TIME_IN_FORCE,
            supports_reduce_only=self.SUPPORTS_REDUCE_ONLY,
        )
        action = self._position_action(position_action, options)
        if client_order_id is None:
            order_id = self._new_client_order_id(trade_type)
        else:
            order_id = self._callers_client_order_id(client_order_id)
        order, quantized_amount = self._build_order(
            trade_type, order_id, trading_pair, amount, order_type, price, action
        )
        # Spawned first: without a running loop this raises with nothing tracked. The task cannot
        # start before this method returns, so the order is still tracked before it is sent.
        placement = self._create_order(order, quantized_amount, options)
        try:
            task = self._order_tasks.spawn(placement, f"place-{order_id}")
        except RuntimeError:  # no running event loop
            placement.close()
            raise
        self._order_tracker.start_tracking_order(order)
        self._placing.add(order_id)
        self._unsent.add(order_id)
        task.add_done_callback(lambda _: self._on_placement_task_done(order))
        return order_id

    def _position_action(
        self, position_action: PositionAction | None, options: OrderOptions
    ) -> PositionAction:
        """The order's position action (spot: none; perpetual connectors override)."""
        if position_action is not None and position_action is not PositionAction.NIL:
            raise UnsupportedOrderOptionError(
                f"{self.name} has no positions: position_action applies to perpetual connectors, "
                f"got {position_action!r}"
            )
        return PositionAction.NIL

    def _callers_client_order_id(self, client_order_id: object) -> str:
        """The caller's id, if the exchange accepts it and no tracked order already has it."""
        order_id = check_client_order_id(
            self.name, client_order_id, self.CLIENT_ORDER_ID_PATTERN, self.CLIENT_ORDER_ID_MAX_LENGTH
        )
        if self._order_tracker.fetch_order(order_id) is not None or order_id in self._placing:
            raise ValueError(f"client_order_id {order_id!r} is already used by a tracked order")
        return order_id

    def _new_client_order_id(self, trade_type: TradeType) -> str:
        """Prefix, side letter and random hex, cut to the exchange's maximum length (which keeps at
        least 16 random hex characters, i.e. 64 bits); collisions with tracked ids are retried."""
        side = "B" if trade_type is TradeType.BUY else "S"
        while True:
            candidate = (self.CLIENT_ORDER_ID_PREFIX + side + uuid.uuid4().hex)[
                : self.CLIENT_ORDER_ID_MAX_LENGTH
            ]
            if self._order_tracker.fetch_order(candidate) is None and candidate not in self._placing:
                return candidate

    def _order_leverage(self, trading_pair: str) -> int:
        """Leverage recorded on new orders (spot: 1; perpetuals override)."""
        return 1

    async def _create_order(
        self, order: InFlightOrder, quantized_amount: Decimal, options: OrderOptions
    ) -> None:
        """Validate the tracked order against the trading rule and send it (the placement task)."""
        order_id = order.client_order_id
        try:
            refusal = self._refusal(order, quantized_amount)
            if refusal is not None:
                error_type, reason = refusal
                logger.warning("order %s refused locally, nothing sent: %s", order_id, reason)
                self._unsent.discard(order_id)
                self._fail_order(order, error_type, reason)
                return
            hook_failure = await self._run_pre_send_hooks(order) if self._pre_send_hooks else None
            if hook_failure is not None:
                self._unsent.discard(order_id)
                self._fail_order(order, "PreSendHookError", hook_failure)
                return
            self._unsent.discard(order_id)
            try:
                with request_priority(RequestPriority.HIGH):  # ahead of any background request
                    exchange_order_id, timestamp = await self._place_order(order, options=options)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._on_placement_error(order, exc)
                return
            self._order_tracker.process_order_update(
                OrderUpdate(
                    order.trading_pair, timestamp, OrderState.OPEN,
                    client_order_id=order_id, exchange_order_id=exchange_order_id,
                )
            )
        finally:
            self._placing.discard(order_id)

    def _refusal(self, order: InFlightOrder, quantized_amount: Decimal) -> tuple[str, str] | None:
        """``(error_type, reason)`` when the order must not be sent, else None."""
        if not self._network_started:
            return "OrderNotSent", f"{self.name} is not running (start_network first, or it is stopping)"
        try:
            reason = self._validate_order(order, quantized_amount)
        except Exception as exc:  # a bug in a connector's checks must not leave the order hanging
            logger.exception("order %s: validation raised", order.client_order_id)
            reason = f"validation raised {type(exc).__name__}: {exc}"
        return None if reason is None else ("OrderValidationError", reason)

    def _on_placement_task_done(self, order: InFlightOrder) -> None:
        """A placement task that ended before sending anything -- cancelled before its first step
        by ``stop_network`` -- fails its order: nothing was sent, so there is nothing to resolve."""
        order_id = order.client_order_id
        self._placing.discard(order_id)
        if order_id not in self._unsent:
            return
        self._unsent.discard(order_id)
        if order.is_pending_create:
            logger.warning("order %s: placement cancelled before sending; nothing sent", order_id)
            self._fail_order(order, "OrderNotSent", f"{self.name} stopped before the order was sent")

    def _build_order(
        self,
        trade_type: TradeType,
        order_id: str,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType,
        price: Decimal,
        position_action: PositionAction,
    ) -> tuple[InFlightOrder, Decimal]:
        """The order to track, with amount and price floored to the trading rule (logged when that
        changes them). An amount that floors to zero keeps the requested amount on the order, so
        the order can be tracked and failed with a reason."""
        quantized_amount = self.quantize_order_amount(trading_pair, amount)
        if quantized_amount != amount:
            logger.info(
                "order %s: amount %s floored to %s (the pair's size step)", order_id, amount, quantized_amount
            )
        order_price: Decimal | None = None
        if order_type.is_limit_type() and price.is_finite():
            order_price = self.quantize_order_price(trading_pair, price)
            if order_price != price:
                logger.info(
                    "order %s: price %s floored to %s (the pair's tick size)", order_id, price, order_price
                )
        order = InFlightOrder(
            client_order_id=order_id,
            trading_pair=trading_pair,
            order_type=order_type,
            trade_type=trade_type,
            amount=quantized_amount if quantized_amount > 0 else amount,
            creation_timestamp=self.current_timestamp,
            price=order_price,
            leverage=self._order_leverage(trading_pair),
            position=position_action,
        )
        return order, quantized_amount

    def _validate_order(self, order: InFlightOrder, quantized_amount: Decimal) -> str | None:
        """Why the order cannot be sent under the pair's trading rule, or None if it can."""
        pair = order.trading_pair
        rule = self._trading_rules.get(pair)
        if rule is None:
            return f"no trading rule for {pair} yet (exchange info not loaded, or the pair is not listed)"
        order_type = order.order_type
        if order_type not in self.SUPPORTED_ORDER_TYPES:
            return f"{order_type.name} orders are not supported by {self.name}"
        if order_type.is_limit_type() and not rule.supports_limit_orders:
            return f"{pair} does not accept limit orders"
        if order_type is OrderType.MARKET and not rule.supports_market_orders:
            return f"{pair} does not accept market orders"
        if order_type.is_limit_type() and (order.price is None or order.price <= 0):
            return f"a {order_type.name} order needs a positive price at tick size {rule.min_price_increment}"
        if quantized_amount <= 0 or quantized_amount < rule.min_order_size:
            return (
                f"amount {quantized_amount} (floored to step {rule.min_base_amount_increment}) is below "
                f"the minimum order size {rule.min_order_size}"
            )
        if quantized_amount > rule.max_order_size:
            return f"amount {quantized_amount} is above the maximum order size {rule.max_order_size}"
        price = order.price if order.price is not None else self._reference_price(
            pair, order.trade_type is TradeType.BUY
        )
        if rule.min_notional_size > 0 and price.is_finite():
            notional = quantized_amount * price
            if notional < rule.min_notional_size:
                return f"notional {notional} is below the minimum notional {rule.min_notional_size}"
        return None

    def _is_unknown_status(self, exc: BaseException) -> bool:
        """Whether a failed request may still have been executed by the exchange.

        Binance Spot API docs, "General API Information": "HTTP 5XX return codes are used for
        internal errors; the issue is on Binance's side. It is important to NOT treat this as a
        failure operation; the execution status is UNKNOWN and could have been a success." The same
        holds for a timeout or a connection lost after the request went out, and for a success
        (2xx) answer whose body cannot be decoded: the exchange accepted the request.
        """
        if isinstance(exc, RequestTimeoutError | ExchangeConnectionError | TimeoutError):
            return True
        if isinstance(exc, ResponseDecodeError):
            return True
        if isinstance(exc, ExchangeRequestError) and exc.is_server_error:
            return True
        return self._is_request_exception_unknown_status(exc)

    def _on_placement_error(self, order: InFlightOrder, exc: Exception) -> None:
        if self._is_unknown_status(exc):
            logger.warning(
                "order %s: placement outcome unknown (%s); it stays tracked until status polling resolves it",
                order.client_order_id, exc,
            )
            self._poll_now.set()
            return
        logger.warning("order %s rejected by %s: %s", order.client_order_id, self.name, exc)
        self._fail_order(order, type(exc).__name__, str(exc))

    def _fail_order(self, order: InFlightOrder, error_type: str, message: str) -> None:
        self._order_tracker.process_order_update(
            OrderUpdate(
                order.trading_pair, self.current_timestamp, OrderState.FAILED,
                client_order_id=order.client_order_id,
                misc_updates={"error_type": error_type, "error_message": message},
            )
        )

    # ==================================================================================================
    # Cancellation.
    # ==================================================================================================
    async def _execute_cancel(self, trading_pair: str, client_order_id: str) -> bool:
        """Cancel one order; True when the exchange confirmed it (or it is already cancelled)."""
        order = self._order_tracker.fetch_order(client_order_id=client_order_id)
        if order is None:
            logger.warning("cancel %s: not a tracked order", client_order_id)
            return False
        if order.is_done and not order.is_lost:
            return order.is_cancelled
        if order.is_pending_create and client_order_id in self._placing:
            # Let the placement answer arrive first, so the cancel cannot overtake it.
            try:
                async with asyncio.timeout(self._settings.request_timeout):
                    await order.get_exchange_order_id()
            except ExchangeOrderIdUnavailableError:
                return order.is_cancelled
            except TimeoutError:
                logger.info("cancel %s: placement still unanswered; cancelling by client id", client_order_id)
        try:
            with request_priority(RequestPriority.HIGH):  # ahead of any background request
                cancelled = await self._place_cancel(order)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._is_order_not_found_error(exc):
                logger.warning("cancel %s: the exchange does not know the order (%s)", client_order_id, exc)
                self._order_tracker.process_order_not_found(client_order_id)
                self._poll_now.set()  # it may have filled meanwhile: ask for its status now
            else:
                logger.warning("cancel %s failed: %s", client_order_id, exc)
            return False
        if cancelled:
            self._order_tracker.process_order_update(
                OrderUpdate(
                    order.trading_pair, self.current_timestamp, OrderState.CANCELED,
                    client_order_id=client_order_id,
                )
            )
        return cancelled

    # ==================================================================================================
    # Background loops.
    # ==================================================================================================
    async def _trading_rules_polling_loop(self) -> None:
        while True:
            try:
                if self.trading_pair_symbol_map_ready():
                    await self._update_trading_rules()
                else:  # shares the one initial fetch with early symbol lookups
                    await self._ensure_trading_pair_symbol_map()
                delay = self._settings.trading_rules_refresh_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s: cannot refresh trading rules: %s", self.name, exc)
                delay = self._settings.short_poll_interval
            await asyncio.sleep(delay)

    async def _update_trading_rules(self) -> None:
        exchange_info = await self._request_exchange_info()
        self._set_trading_pair_symbol_map(self._format_trading_pair_symbol_map(exchange_info))
        rules = self._format_trading_rules(exchange_info)
        self._trading_rules.clear()
        self._trading_rules.update({rule.trading_pair: rule for rule in rules})
        unlisted = self.unlisted_trading_pairs()
        if unlisted != self._logged_unlisted:
            self._logged_unlisted = unlisted
            if unlisted:
                logger.error("%s; they get no book and no trading",
                             UnlistedTradingPairError(self.name, unlisted))

    def unlisted_trading_pairs(self) -> list[str]:
        """The configured pairs missing from the exchange's instruments as last loaded (none
        before the trading rules first load)."""
        listed = self.trading_pair_symbol_map()
        if not listed:
            return []
        pairs = set(listed.values())
        return [pair for pair in self._trading_pairs if pair not in pairs]

    async def require_listed_trading_pairs(self) -> None:
        """Load the instruments if they have not loaded yet (their request errors propagate), then
        raise :class:`UnlistedTradingPairError` naming every configured pair the exchange does
        not list."""
        await self._ensure_trading_pair_symbol_map()
        unlisted = self.unlisted_trading_pairs()
        if unlisted:
            raise UnlistedTradingPairError(self.name, unlisted)

    async def _initialize_trading_pair_symbol_map(self) -> None:
        await self._update_trading_rules()

    async def _time_sync_loop(self) -> None:
        while True:
            try:
                await self._time_synchronizer.update_server_time_offset_with_time_provider(
                    self._request_server_time()
                )
                delay = self._settings.time_sync_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s: time sync failed: %s", self.name, exc)
                delay = self._settings.short_poll_interval
            await asyncio.sleep(delay)

    def _user_stream_is_silent(self) -> bool:
        """Whether REST is the only source: no user stream, the stream is down (reconnecting), or
        it sent nothing for ``user_stream_silence_threshold`` seconds."""
        tracker = self._user_stream_tracker
        if tracker is None or not tracker.data_source.connected:
            return True
        return time.time() - tracker.last_recv_time > self._settings.user_stream_silence_threshold

    def _poll_interval(self) -> float:
        """Short while the user stream is silent (REST is then the only source), long while it flows."""
        if self._user_stream_is_silent():
            return self._settings.short_poll_interval
        return self._settings.long_poll_interval

    async def _status_polling_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._reconcile_from_rest()
            self._last_poll_time = loop.time()
            while not self._poll_now.is_set():
                remaining = self._last_poll_time + self._poll_interval() - loop.time()
                if remaining <= 0:
                    break
                # Wake at least every short interval to notice the user stream going silent.
                wait = min(remaining, self._settings.short_poll_interval)
                try:
                    async with asyncio.timeout(wait):
                        await self._poll_now.wait()
                except TimeoutError:
                    pass
            self._poll_now.clear()

    async def _reconcile_from_rest(self) -> None:
        """Bring balances, orders and fills up to date from REST (also right after a user-stream
        (re)connection, so nothing that happened while disconnected is lost)."""
        await asyncio.gather(
            self._guarded(self._update_balances, "balances"),
            self._guarded(self._update_orders_and_fills, "orders"),
        )

    async def _guarded(self, update: Callable[[], Awaitable[None]], what: str) -> None:
        """Run one REST update; a failure is logged and does not stop the others. (It takes the
        coroutine function, not a coroutine, so a cancelled poll leaves no un-awaited coroutine.)"""
        try:
            await update()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s: cannot update %s: %s", self.name, what, exc)

    async def _update_balances(self) -> None:
        as_of = self._balance_version
        balances = await self._fetch_balances()
        self._replace_balances(balances, as_of_version=as_of)
        self._balances_initialized = True

    async def _update_orders_and_fills(self) -> None:
        """Status first, then fills, then apply: one consistent reconcile of every tracked order.

        The fills of an order are fetched *after* its status, and before that status is applied.
        So every execution a status reveals (PARTIALLY_FILLED, FILLED, or CANCELED after a partial
        fill) has its trades merged first, and the tracker never holds a FILLED order with nothing
        executed because it filled between two requests of one poll. When the fills request fails,
        that order's status waits for the next poll rather than be applied without its trades.
        Fills that land after the status request are seen by the next poll.
        """
        lost = self._order_tracker.lost_orders
        for cid in self._lost_not_found_counts.keys() - lost.keys():
            del self._lost_not_found_counts[cid]  # no longer lost: resolved meanwhile (user stream)
        polled = [
            order
            for cid, order in self._order_tracker.all_updatable_orders.items()
            if cid not in self._placing
        ]
        statuses = await asyncio.gather(
            *(self._request_order_status(order) for order in polled), return_exceptions=True
        )
        updates: list[tuple[InFlightOrder, OrderUpdate]] = []
        for order, result in zip(polled, statuses, strict=True):
            cid = order.client_order_id
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                if self._is_order_not_found_error(result):
                    self._on_status_not_found(order)
                else:
                    logger.warning("%s: cannot fetch status of %s: %s", self.name, cid, result)
                continue
            updates.append((order, result))
        polled_ids = {order.client_order_id for order in polled}
        # Orders not status-polled whose trades may still be missing (FILLED, waiting for trades).
        fill_targets = [
            order for cid, order in self._order_tracker.all_fillable_orders.items()
            if cid not in polled_ids and cid not in self._placing and order.exchange_order_id is not None
        ]
        for order, update in updates:
            if update.new_state in _STATES_WITH_EXECUTIONS:
                if order.exchange_order_id is None and update.exchange_order_id is not None:
                    # Learn the exchange id (needed to ask for the trades) without applying the state.
                    self._order_tracker.process_order_update(
                        dataclasses.replace(update, new_state=order.current_state)
                    )
                if order.exchange_order_id is not None:
                    fill_targets.append(order)
        failed = await self._update_order_fills(fill_targets)
        for order, update in updates:
            cid = order.client_order_id
            self._lost_not_found_counts.pop(cid, None)
            if cid in failed:
                continue
            if order.is_lost and not update.new_state.is_final:
                self._cancel_live_lost_order(order)
            self._order_tracker.process_order_update(update)

    async def _update_order_fills(self, orders: Sequence[InFlightOrder]) -> set[str]:
        """Merge every fill of these orders; returns the client ids whose fills could not be fetched."""
        results = await asyncio.gather(
            *(self._all_trade_updates_for_order(order) for order in orders), return_exceptions=True
        )
        failed: set[str] = set()
        for order, result in zip(orders, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                logger.warning("%s: cannot fetch fills of %s: %s", self.name, order.client_order_id, result)
                failed.add(order.client_order_id)
                continue
            for trade in result:
                self._order_tracker.process_trade_update(trade)
        return failed

    def _cancel_live_lost_order(self, order: InFlightOrder) -> None:
        """A lost order was already reported failed to the strategy, so nobody manages it: if the
        exchange turns out to hold it live after all, cancel it rather than leave it working."""
        cid = order.client_order_id
        if cid in self._cancelling_lost:
            return
        logger.warning("lost order %s is live on %s after all; cancelling it", cid, self.name)
        self._cancelling_lost.add(cid)

        async def cancel() -> None:
            try:
                await self._execute_cancel(order.trading_pair, cid)
            finally:
                self._cancelling_lost.discard(cid)

        self._order_tasks.spawn(cancel(), f"cancel-lost-{cid}")

    def _on_status_not_found(self, order: InFlightOrder) -> None:
        cid = order.client_order_id
        if not order.is_lost:
            self._order_tracker.process_order_not_found(cid)
            return
        count = self._lost_not_found_counts.get(cid, 0) + 1
        if count < LOST_ORDER_MAX_EXTRA_CHECKS:
            self._lost_not_found_counts[cid] = count
            return
        del self._lost_not_found_counts[cid]
        logger.warning("lost order %s still unknown to the exchange after %d checks; dropped", cid, count)
        self._order_tracker.stop_tracking_order(cid)

    async def _user_stream_event_listener(self) -> None:
        assert self._user_stream_tracker is not None
        queue = self._user_stream_tracker.user_stream
        while True:
            event = await queue.get()
            try:
                await self._process_user_stream_event(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.user_stream_event_error_count += 1
                logger.exception("%s: user stream event skipped (%s)", self.name, type(event).__name__)

    def _on_user_stream_connected(self, connection_number: int) -> None:
        if connection_number > 1:
            logger.info("%s: user stream reconnected; reconciling orders and balances from REST", self.name)
        self._poll_now.set()


def _check_order_arguments(trading_pair: str, amount: Decimal, order_type: OrderType, price: Decimal) -> None:
    """Reject malformed arguments at the call site, before any id is issued."""
    split_trading_pair(trading_pair)
    if not isinstance(order_type, OrderType):
        raise TypeError(f"order_type must be an OrderType, got {order_type!r}")
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be a positive finite Decimal, got {amount}")
    if not isinstance(price, Decimal):
        raise TypeError(f"price must be a Decimal (NaN for none), got {type(price).__name__}")
    if not price.is_nan() and (not price.is_finite() or price <= 0):
        raise ValueError(f"price must be a positive finite Decimal or NaN (none), got {price}")
