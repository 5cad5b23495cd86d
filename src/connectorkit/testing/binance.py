"""Conformance targets of the Binance Spot (``binance``) and USD-M (``binance_perpetual``) connectors
against the sandbox's Binance skin.

Error texts are Binance's own: Spot API docs, "Error Codes", -2010 NEW_ORDER_REJECTED with the
messages "Account has insufficient balance for requested action." and "Order would immediately
match and take."; USD-M docs, "Error Codes", -2019 MARGIN_NOT_SUFFICIENT "Margin is insufficient."
and -5022 GTX_ORDER_REJECT "Due to the order could not be executed as maker, the Post Only order
will be rejected." (a post-only ``timeInForce=GTX`` order that would take).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any, ClassVar

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from connectorkit.connector.settings import create_connector
from connectorkit.core.enums import OrderState, PositionMode, PositionSide
from connectorkit.sandbox import Market, RateLimitRule, Sandbox, SandboxConfig
from connectorkit.sandbox.faults import FaultInjector
from connectorkit.sandbox.venues.binance.errors import ApiError
from connectorkit.sandbox.venues.binance.futures.markets import FuturesMarket
from connectorkit.sandbox.venues.binance.futures.product import FUTURES_RATE_LIMITS
from connectorkit.sandbox.venues.binance.ratelimit import SPOT_RATE_LIMITS
from connectorkit.testing.target import (
    ConformanceTarget,
    Credentials,
    PerpetualConformanceTarget,
    SandboxSpec,
    TrueBook,
    TrueFunding,
    TrueOrder,
)

SYMBOL = "BTCUSDT"
# The sandbox's order status in connectorkit's terms, written here rather than taken from the
# connectors' own ORDER_STATE maps: the suite's truth must not share a mistake with the code checked.
_STATES = {
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "EXPIRED": OrderState.CANCELED,  # the connectors report an exchange-side expiry as cancelled
    "REJECTED": OrderState.FAILED,
}
#: The simulated market trades this often in the books checks (a book that moves many times a second).
_SIMULATOR_INTERVAL_S = 0.05


def _scaled(rules: tuple[RateLimitRule, ...], share_pct: Decimal) -> tuple[RateLimitRule, ...]:
    """The advertised limits at ``share_pct`` percent (floored, at least 1)."""
    if share_pct == 100:
        return rules
    return tuple(
        replace(rule, limit=max(1, int((rule.limit * share_pct / 100).to_integral_value(ROUND_FLOOR))))
        for rule in rules
    )


def _shortest_order_window(rules: tuple[RateLimitRule, ...]) -> int:
    orders = [r for r in rules if r.rate_limit_type == "ORDERS"]
    return min(orders, key=lambda r: r.window_ms).limit


def _config(spec: SandboxSpec) -> SandboxConfig:
    return SandboxConfig(
        simulator_interval_s=_SIMULATOR_INTERVAL_S,
        spot_rate_limits=_scaled(SPOT_RATE_LIMITS, spec.rate_limit_share_pct),
        futures_rate_limits=_scaled(FUTURES_RATE_LIMITS, spec.rate_limit_share_pct),
    )


def _levels(levels: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    return [(price, qty) for price, qty in levels]


class BinanceSpotTarget(ConformanceTarget):
    connector_name: ClassVar[str] = "binance"
    trading_pair: ClassVar[str] = "BTC-USDT"
    reference_price: ClassVar[Decimal] = Decimal(30000)
    insufficient_balance_error: ClassVar[str] = "Account has insufficient balance for requested action."
    post_only_rejection_error: ClassVar[str | None] = "Order would immediately match and take."

    def open_sandbox(self, spec: SandboxSpec) -> AbstractAsyncContextManager[Sandbox]:
        market = Market(SYMBOL, "BTC", "USDT", mid=self.reference_price)
        return Sandbox(seed=spec.seed, markets=[market], futures_markets=[], simulate=spec.simulate,
                       config=_config(spec))

    def create_account(self, sandbox: Sandbox, base: Decimal, quote: Decimal) -> Credentials:
        key, secret = sandbox.create_account({self.base_asset: base, self.quote_asset: quote})
        return Credentials(key, secret, sandbox.account_id(key))

    def build_connector(
        self, sandbox: Sandbox, credentials: Credentials | None, **settings: Any
    ) -> ExchangePyBase:
        return create_connector(
            self.connector_name, [self.trading_pair],
            credentials.api_key if credentials else "", credentials.api_secret if credentials else "",
            trading_required=credentials is not None,
            rest_url=sandbox.rest_url, ws_url=sandbox.ws_url, ws_api_url=sandbox.ws_api_url, **settings,
        )

    def true_book(self, sandbox: Sandbox) -> TrueBook:
        book = sandbox.spot.engine.book(SYMBOL)
        bids, asks = book.depth(20)
        return TrueBook(book.update_id, _levels(bids), _levels(asks))

    def true_order(
        self, sandbox: Sandbox, credentials: Credentials, client_order_id: str
    ) -> TrueOrder | None:
        account = sandbox.accounts.by_id(credentials.account)
        order = sandbox.spot.exchange.find_order(account, SYMBOL, None, client_order_id)
        if order is None:
            return None
        trades = sandbox.spot.exchange.trades.get(credentials.account, [])
        ids = frozenset(str(t.trade_id) for t in trades if t.order_id == order.order_id)
        return TrueOrder(_STATES[order.status.value], order.executed_qty, ids)

    def true_balances(self, sandbox: Sandbox, credentials: Credentials) -> dict[str, tuple[Decimal, Decimal]]:
        balances = {}
        for asset in (self.base_asset, self.quote_asset):
            true = sandbox.spot.ledger.balance(credentials.account, asset)
            balances[asset] = (true.free + true.locked, true.free)
        return balances

    def faults(self, sandbox: Sandbox) -> FaultInjector:
        return sandbox.faults

    def rate_limit_rejections(self, sandbox: Sandbox) -> int:
        return sandbox.spot.limiter.rejections

    def order_rate_limit(self, sandbox: Sandbox) -> int:
        return _shortest_order_window(sandbox.spot.limiter.rules)


class BinancePerpetualTarget(PerpetualConformanceTarget):
    connector_name: ClassVar[str] = "binance_perpetual"
    trading_pair: ClassVar[str] = "BTC-USDT"
    reference_price: ClassVar[Decimal] = Decimal(30000)
    insufficient_balance_error: ClassVar[str] = "Margin is insufficient."
    post_only_rejection_error: ClassVar[str | None] = (
        "Due to the order could not be executed as maker, the Post Only order will be rejected."
    )
    #: A fixed funding rate, so that a payment is never zero (and so never skipped).
    funding_rate: ClassVar[Decimal] = Decimal("0.0001")

    def open_sandbox(self, spec: SandboxSpec) -> AbstractAsyncContextManager[Sandbox]:
        market = FuturesMarket(SYMBOL, "BTC", mid=self.reference_price)
        if spec.funding_interval_ms is not None:
            market = replace(
                market, funding_interval_ms=spec.funding_interval_ms, funding_rate=self.funding_rate
            )
        return Sandbox(seed=spec.seed, markets=[], futures_markets=[market], simulate=spec.simulate,
                       config=_config(spec))

    def create_account(self, sandbox: Sandbox, base: Decimal, quote: Decimal) -> Credentials:
        key, secret = sandbox.create_account(futures_balances={self.quote_asset: quote})
        return Credentials(key, secret, sandbox.account_id(key))

    def build_connector(
        self, sandbox: Sandbox, credentials: Credentials | None, **settings: Any
    ) -> PerpetualDerivativePyBase:
        connector = create_connector(
            self.connector_name, [self.trading_pair],
            credentials.api_key if credentials else "", credentials.api_secret if credentials else "",
            trading_required=credentials is not None,
            rest_url=sandbox.futures_rest_url, ws_url=sandbox.futures_ws_url, **settings,
        )
        assert isinstance(connector, PerpetualDerivativePyBase)
        return connector

    def _account(self, sandbox: Sandbox, credentials: Credentials) -> Any:
        return sandbox.futures.exchange.account(credentials.account)

    def true_book(self, sandbox: Sandbox) -> TrueBook:
        book = sandbox.futures.exchange.engine.book(SYMBOL)
        bids, asks = book.depth(20)
        return TrueBook(book.update_id, _levels(bids), _levels(asks))

    def true_order(
        self, sandbox: Sandbox, credentials: Credentials, client_order_id: str
    ) -> TrueOrder | None:
        try:
            order = sandbox.futures.exchange.find_order(credentials.account, SYMBOL, None, client_order_id)
        except ApiError:
            return None
        legs = sandbox.futures.exchange.ledger.trades.get(credentials.account, [])
        ids = frozenset(str(leg.trade_id) for leg in legs if leg.order_id == order.order_id)
        return TrueOrder(_STATES[order.status.value], order.executed_qty, ids)

    def true_balances(self, sandbox: Sandbox, credentials: Credentials) -> dict[str, tuple[Decimal, Decimal]]:
        account = self._account(sandbox, credentials)
        marks = sandbox.futures.exchange.mark_prices()
        asset = self.quote_asset
        return {asset: (account.balance(asset), account.available_balance(asset, marks))}

    def faults(self, sandbox: Sandbox) -> FaultInjector:
        return sandbox.faults

    def rate_limit_rejections(self, sandbox: Sandbox) -> int:
        rejections: int = sandbox.futures.limiter.rejections
        return rejections

    def order_rate_limit(self, sandbox: Sandbox) -> int:
        return _shortest_order_window(sandbox.futures.limiter.rules)

    def true_leverage(self, sandbox: Sandbox, credentials: Credentials) -> int:
        leverage: int = self._account(sandbox, credentials).leverage_of(SYMBOL)
        return leverage

    def true_position_mode(self, sandbox: Sandbox, credentials: Credentials) -> PositionMode:
        hedge = self._account(sandbox, credentials).dual_side_position
        return PositionMode.HEDGE if hedge else PositionMode.ONEWAY

    def true_positions(self, sandbox: Sandbox, credentials: Credentials) -> dict[PositionSide, Decimal]:
        return {p.side: p.amount for p in self._account(sandbox, credentials).open_positions()}

    def true_funding(self, sandbox: Sandbox) -> TrueFunding:
        mark = sandbox.futures.exchange.marks[SYMBOL]
        return TrueFunding(mark.mark_price, mark.current_rate())

    def true_funding_payments(self, sandbox: Sandbox, credentials: Credentials) -> list[Decimal]:
        income = self._account(sandbox, credentials).income
        return [r.income for r in income if r.income_type == "FUNDING_FEE"]

