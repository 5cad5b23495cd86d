"""BinanceExchange: the Binance Spot connector on the ``ExchangePyBase`` template.

Orders: LIMIT (GTC, or IOC / FOK as the caller asks), LIMIT_MAKER (Binance's post-only type) and
MARKET (by base quantity), sent
to ``POST /api/v3/order`` with our client order id and ``newOrderRespType=FULL`` so immediate
fills (with their commissions) are known from the answer. Amounts and prices are quantized to the
exchangeInfo filters and validated (LOT_SIZE, MARKET_LOT_SIZE, PRICE_FILTER, NOTIONAL) before
anything is sent. Cancels go by ``origClientOrderId``. Status comes from the WebSocket-API user
stream and from REST polling, merged idempotently by the order tracker; an answer that leaves the
outcome unknown (5xx such as 503 -1007, timeouts) keeps the order tracked until polling resolves
it. Error classification uses the documented codes: -2013 "Order does not exist." and -2011
"Unknown order sent." mean not found; -1021 is a timestamp outside recvWindow (the clock is then
resynchronised and the call signed anew).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.order_options import OrderOptions
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.core.enums import OrderType, TimeInForce, TradeType
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate, TradeUpdate
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.exchanges.binance import binance_utils as utils
from connectorkit.exchanges.binance import binance_web_utils as web_utils
from connectorkit.exchanges.binance.binance_api_order_book_data_source import BinanceAPIOrderBookDataSource
from connectorkit.exchanges.binance.binance_api_user_stream_data_source import BinanceAPIUserStreamDataSource
from connectorkit.exchanges.binance.binance_auth import BinanceAuth
from connectorkit.exchanges.binance.binance_connector_common import BinanceConnectorMixin
from connectorkit.exchanges.binance.binance_utils import BinanceSettings
from connectorkit.net.auth import AuthBase
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import RateLimit

logger = logging.getLogger(__name__)

class BinanceExchange(BinanceConnectorMixin, ExchangePyBase):
    """Binance Spot (``binance``)."""

    DEFAULT_FEES = utils.DEFAULT_FEES
    SERVER_TIME_PATH: ClassVar[str] = CONSTANTS.SERVER_TIME_PATH
    ADVERTISED_LIMIT_POOLS: ClassVar[Mapping[tuple[str, int], str]] = CONSTANTS.ADVERTISED_LIMIT_POOLS
    CLIENT_ORDER_ID_PREFIX: ClassVar[str] = CONSTANTS.CLIENT_ORDER_ID_PREFIX
    CLIENT_ORDER_ID_MAX_LENGTH: ClassVar[int] = CONSTANTS.CLIENT_ORDER_ID_MAX_LENGTH
    CLIENT_ORDER_ID_PATTERN: ClassVar[re.Pattern[str]] = re.compile(CONSTANTS.CLIENT_ORDER_ID_PATTERN)
    SUPPORTED_TIME_IN_FORCE: ClassVar[frozenset[TimeInForce]] = frozenset(CONSTANTS.TIME_IN_FORCE)

    _ORDER_TYPE: ClassVar[dict[OrderType, str]] = {
        OrderType.LIMIT: "LIMIT",
        OrderType.LIMIT_MAKER: "LIMIT_MAKER",
        OrderType.MARKET: "MARKET",
    }

    def __init__(self, settings: BinanceSettings, *, time_provider: Callable[[], float] = time.time) -> None:
        self._binance_settings = settings
        self._rest_url = settings.rest_url
        self._symbol_rules: dict[str, wire.SymbolRules] = {}
        self._unpooled_rate_limits: set[tuple[str, str, int]] = set()
        super().__init__(settings, time_provider=time_provider)

    @property
    def name(self) -> str:
        return CONSTANTS.EXCHANGE_NAME

    # ---- factories ------------------------------------------------------------------------------
    def _rate_limits(self) -> Sequence[RateLimit]:
        return web_utils.build_rate_limits(depth_limit=self._binance_settings.depth_snapshot_limit)

    def _create_auth(self) -> AuthBase | None:
        key = self._settings.api_key.get_secret_value()
        secret = self._settings.api_secret.get_secret_value()
        if not key or not secret:
            return None
        return BinanceAuth(key, secret, self._time_synchronizer, self._binance_settings.recv_window_ms)

    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return BinanceAPIOrderBookDataSource(
            self._trading_pairs,
            self._web_assistants_factory,
            symbol_resolver=self.exchange_symbol_associated_to_pair,
            rest_url=self._binance_settings.rest_url,
            ws_url=self._binance_settings.ws_url,
            snapshot_limit=self._binance_settings.depth_snapshot_limit,
        )

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        return BinanceAPIUserStreamDataSource(self._web_assistants_factory, self._binance_settings.ws_api_url)

    # ---- instruments ----------------------------------------------------------------------------
    async def _request_exchange_info(self) -> wire.ExchangeInfo:
        info = await self._typed_request(CONSTANTS.EXCHANGE_INFO_PATH, wire.ExchangeInfo)
        self._apply_advertised_rate_limits(info.rateLimits)
        return info

    def _is_tradable(self, symbol: wire.SymbolInfo) -> bool:
        return wire.is_spot_symbol_tradable(symbol)

    def _rules_of(self, symbol: wire.SymbolInfo) -> wire.SymbolRules:
        return wire.symbol_rules(symbol)

    # ---- orders ---------------------------------------------------------------------------------
    async def _place_order(self, order: InFlightOrder, *, options: OrderOptions) -> tuple[str, float]:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        params: dict[str, Any] = {
            "symbol": symbol,
            "side": CONSTANTS.SIDE_BUY if order.trade_type is TradeType.BUY else CONSTANTS.SIDE_SELL,
            "type": self._ORDER_TYPE[order.order_type],
            "quantity": order.amount,
            "newClientOrderId": order.client_order_id,
            "newOrderRespType": CONSTANTS.ORDER_RESP_TYPE_FULL,
        }
        if order.order_type.is_limit_type():
            params["price"] = order.price
        if order.order_type is OrderType.LIMIT:
            params["timeInForce"] = CONSTANTS.TIME_IN_FORCE[options.time_in_force or TimeInForce.GTC]
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.OrderResponse, method=RESTMethod.POST, params=params, signed=True
        )
        # Fills first, then the status they led to: the tracker emits fill events before completion.
        fees = self.trade_fee_schema_for(order.trading_pair)
        for trade in wire.trade_updates_from_response(answer, order.trading_pair, fees):
            self._order_tracker.process_trade_update(trade)
        update = wire.order_update_from_response(answer, order.trading_pair, self.current_timestamp)
        self._order_tracker.process_order_update(update)
        return str(answer.order_id), update.update_timestamp

    async def _place_cancel(self, order: InFlightOrder) -> bool:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.OrderResponse, method=RESTMethod.DELETE,
            params={"symbol": symbol, "origClientOrderId": order.client_order_id}, signed=True,
            limit_id="DELETE " + CONSTANTS.ORDER_PATH,
        )
        update = wire.order_update_from_response(answer, order.trading_pair, self.current_timestamp)
        self._order_tracker.process_order_update(update)
        return answer.status == "CANCELED"

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.OrderResponse,
            params={"symbol": symbol, "origClientOrderId": order.client_order_id}, signed=True,
            limit_id="GET " + CONSTANTS.ORDER_PATH,
        )
        return wire.order_update_from_response(answer, order.trading_pair, self.current_timestamp)

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> list[TradeUpdate]:
        if order.exchange_order_id is None:
            return []
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        trades = await self._typed_request(
            CONSTANTS.MY_TRADES_PATH, list[wire.AccountTrade],
            params={"symbol": symbol, "orderId": order.exchange_order_id}, signed=True,
        )
        fees = self.trade_fee_schema_for(order.trading_pair)
        return [
            wire.trade_update_from_account_trade(trade, order.trading_pair, fees, order.client_order_id)
            for trade in trades
            if str(trade.order_id) == order.exchange_order_id
        ]

    async def _fetch_balances(self) -> Mapping[str, tuple[Decimal, Decimal]]:
        account = await self._typed_request(
            CONSTANTS.ACCOUNT_PATH, wire.AccountInfo, params={"omitZeroBalances": "true"}, signed=True
        )
        snapshot = wire.balances_from_account(account)
        return {asset: (total, snapshot.available[asset]) for asset, total in snapshot.total.items()}

    # ---- user stream ----------------------------------------------------------------------------
    async def _process_user_stream_event(self, event: Any) -> None:
        if isinstance(event, wire.ExecutionReport):
            pair = await self.trading_pair_associated_to_exchange_symbol(event.symbol)
            trade = wire.trade_update_from_execution_report(event, pair, self.trade_fee_schema_for(pair))
            if trade is not None:
                self._order_tracker.process_trade_update(trade)
            self._order_tracker.process_order_update(wire.order_update_from_execution_report(event, pair))
        elif isinstance(event, wire.OutboundAccountPosition):
            snapshot = wire.balances_from_account_position(event)
            for asset, total in snapshot.total.items():
                self._set_balance(asset, total, snapshot.available[asset])
        elif isinstance(event, wire.BalanceUpdate):
            # Deposits/withdrawals/transfers: an outboundAccountPosition with the new balance
            # follows, which is what we apply; the delta alone is only logged.
            logger.info("binance: balance of %s changed by %s outside trading", event.asset, event.delta)
