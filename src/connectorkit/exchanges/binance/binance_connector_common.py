"""What the Binance Spot and USDⓈ-M connectors share, as a mixin placed before the template base.

Both products sign requests the same way, answer failures with the same error codes (the "Error
Codes" pages of both docs: -2013/-2011 not found, -1000/-1006/-1007 status unknown, -1021
timestamp), publish exchangeInfo with the same ``symbols[].filters`` layout (PRICE_FILTER,
LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL/NOTIONAL) and serve ``{"serverTime": ms}``. A connector
names its product's differences: :attr:`SERVER_TIME_PATH`, :meth:`_is_tradable` and
:meth:`_rules_of`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from connectorkit.core.enums import OrderType
from connectorkit.core.in_flight_order import InFlightOrder
from connectorkit.core.trading_rule import TradingRule
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.exchanges.binance import binance_web_utils as web_utils
from connectorkit.exchanges.binance.binance_utils import trading_pair
from connectorkit.net.errors import RateLimitConfigError
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.typed_request import typed_request

if TYPE_CHECKING:
    from connectorkit.connector.exchange_py_base import ExchangePyBase

    _Base = ExchangePyBase
else:
    _Base = object

logger = logging.getLogger(__name__)

T = TypeVar("T")


class BinanceConnectorMixin(_Base):
    """Typed REST calls, instruments, order checks and error classification for Binance products.

    Use it first in the bases: ``class BinanceExchange(BinanceConnectorMixin, ExchangePyBase)``.
    """

    SERVER_TIME_PATH: ClassVar[str]
    ADVERTISED_LIMIT_POOLS: ClassVar[Mapping[tuple[str, int], str]]
    """exchangeInfo ``rateLimits`` entry (rateLimitType, window seconds) -> the throttler pool it is."""
    _rest_url: str
    _symbol_rules: dict[str, wire.SymbolRules]
    _unpooled_rate_limits: set[tuple[str, str, int]]  # advertised limits already warned about

    # ---- what a product defines -----------------------------------------------------------------
    def _is_tradable(self, symbol: wire.SymbolInfo) -> bool:
        """Whether ``symbol`` is a live instrument of this product."""
        raise NotImplementedError

    def _rules_of(self, symbol: wire.SymbolInfo) -> wire.SymbolRules:
        """The trading rules of a tradable ``symbol`` (raises ``WireFormatError`` if it has none)."""
        raise NotImplementedError

    # ---- REST -----------------------------------------------------------------------------------
    async def _typed_request(
        self,
        path: str,
        response_type: type[T],
        *,
        method: RESTMethod = RESTMethod.GET,
        params: Mapping[str, Any] | None = None,
        signed: bool = False,
        limit_id: str | None = None,
    ) -> T:
        """One call under ``rest_url``, decoded straight into ``response_type`` (signed calls are
        retried once after a clock resync when the exchange answers -1021)."""
        return await typed_request(
            self._web_assistants_factory, web_utils.rest_url(path, self._rest_url), response_type,
            method=method, params=params, limit_id=limit_id or path, signed=signed,
            synchronizer=self._time_synchronizer, time_provider=self._request_server_time,
            is_timestamp_error=self._is_time_synchronizer_related_error,
        )

    async def _request_server_time(self) -> float:
        url = web_utils.rest_url(self.SERVER_TIME_PATH, self._rest_url)
        answer = await self._api_get(url, limit_id=self.SERVER_TIME_PATH)
        return web_utils.parse_server_time(answer)

    # ---- instruments ----------------------------------------------------------------------------
    def _apply_advertised_rate_limits(self, rate_limits: Sequence[wire.RateLimitInfo]) -> None:
        """Enforce the limits exchangeInfo advertises where they are lower than the documented ones
        the throttler starts with (an account or a period with reduced limits). A limit with no
        pool here is logged once and left unenforced."""
        for advertised in rate_limits:
            seconds = CONSTANTS.RATE_LIMIT_INTERVAL_S.get(advertised.interval)
            pool = None if seconds is None else self.ADVERTISED_LIMIT_POOLS.get(
                (advertised.rateLimitType, seconds * advertised.intervalNum)
            )
            if pool is None:
                key = (advertised.rateLimitType, advertised.interval, advertised.intervalNum)
                if key in self._unpooled_rate_limits:
                    continue
                self._unpooled_rate_limits.add(key)
                logger.warning(
                    "%s: exchangeInfo advertises %s %d per %d %s, which this connector has no pool for",
                    self.name, advertised.rateLimitType, advertised.limit, advertised.intervalNum,
                    advertised.interval,
                )
                continue
            try:
                self._throttler.apply_advertised_limit(pool, advertised.limit)
            except RateLimitConfigError as exc:
                logger.warning("%s: advertised rate limit ignored: %s", self.name, exc)

    def _format_trading_pair_symbol_map(self, exchange_info: Any) -> Mapping[str, str]:
        info: wire.ExchangeInfo = exchange_info
        return {
            s.symbol: trading_pair(s.baseAsset, s.quoteAsset) for s in info.symbols if self._is_tradable(s)
        }

    def _format_trading_rules(self, exchange_info: Any) -> list[TradingRule]:
        info: wire.ExchangeInfo = exchange_info
        rules: dict[str, wire.SymbolRules] = {}
        for symbol in info.symbols:
            if not self._is_tradable(symbol):
                continue
            try:
                parsed = self._rules_of(symbol)
            except wire.WireFormatError as exc:
                logger.warning("%s: no trading rule for %s: %s", self.name, symbol.symbol, exc)
                continue
            rules[parsed.rule.trading_pair] = parsed
        self._symbol_rules = rules
        return [parsed.rule for parsed in rules.values()]

    def _validate_order(self, order: InFlightOrder, quantized_amount: Decimal) -> str | None:
        """The template's checks, plus the MARKET_LOT_SIZE filter for market orders (both products
        publish it: "Filters > MARKET_LOT_SIZE" of the Spot docs, "Exchange Information" of USDⓈ-M)."""
        reason = super()._validate_order(order, quantized_amount)
        if reason is not None or order.order_type is not OrderType.MARKET:
            return reason
        rules = self._symbol_rules.get(order.trading_pair)
        if rules is None:
            return None
        if rules.market_min_qty is not None and quantized_amount < rules.market_min_qty:
            return f"amount {quantized_amount} is below the market minimum {rules.market_min_qty}"
        if rules.market_max_qty is not None and quantized_amount > rules.market_max_qty:
            return f"amount {quantized_amount} is above the market maximum {rules.market_max_qty}"
        if rules.market_step_size is not None and quantized_amount % rules.market_step_size != 0:
            return f"amount {quantized_amount} is not a multiple of the market step {rules.market_step_size}"
        return None

    # ---- error classification -------------------------------------------------------------------
    def _is_order_not_found_error(self, exception: BaseException) -> bool:
        return web_utils.is_order_not_found(exception)

    def _is_request_exception_unknown_status(self, exception: BaseException) -> bool:
        return web_utils.is_execution_status_unknown(exception)

    def _is_time_synchronizer_related_error(self, exception: BaseException) -> bool:
        return web_utils.is_timestamp_error(exception)
