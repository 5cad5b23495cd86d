"""BinancePerpetualDerivative: Binance USDⓈ-M perpetuals on ``PerpetualDerivativePyBase``.

Orders (docs: "Trade > New Order"): LIMIT (GTC, or IOC / FOK as the caller asks), LIMIT_MAKER as
``LIMIT`` + ``timeInForce=GTX`` (post-only: an order that would take is expired by the exchange)
and MARKET. In one-way mode a closing order (``reduce_only=True`` is one) carries
``reduceOnly=true``; in hedge mode ``positionSide`` says which side is opened
or closed (BUY opens LONG / closes SHORT, SELL opens SHORT / closes LONG) and ``reduceOnly`` is not
sent (Binance rejects it in hedge mode). Positions come from ``GET /fapi/v2/positionRisk`` (which
also reports each symbol's leverage) and from ``ACCOUNT_UPDATE``; fills and their commissions from
``ORDER_TRADE_UPDATE`` and ``GET /fapi/v1/userTrades``; funding payments from ``GET /fapi/v1/income``
(``incomeType=FUNDING_FEE``, every row since the last one reported), each with the funding rate
that was announced for its funding time (the income row itself carries no rate).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.order_options import OrderOptions
from connectorkit.connector.perpetual_derivative_py_base import FundingPayment, PerpetualDerivativePyBase
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.core.enums import (
    OrderType,
    PositionAction,
    PositionMode,
    PositionSide,
    TimeInForce,
    TradeType,
)
from connectorkit.core.funding_info import FundingInfo
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate, TradeUpdate
from connectorkit.core.position import Position
from connectorkit.exchanges.binance.binance_connector_common import BinanceConnectorMixin
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS
from connectorkit.exchanges.binance_perpetual import binance_perpetual_utils as utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils as web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as wire
from connectorkit.exchanges.binance_perpetual.binance_perpetual_api_order_book_data_source import (
    BinancePerpetualAPIOrderBookDataSource,
)
from connectorkit.exchanges.binance_perpetual.binance_perpetual_api_user_stream_data_source import (
    BinancePerpetualAPIUserStreamDataSource,
)
from connectorkit.exchanges.binance_perpetual.binance_perpetual_auth import BinancePerpetualAuth
from connectorkit.exchanges.binance_perpetual.binance_perpetual_utils import BinancePerpetualSettings
from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import ExchangeRequestError
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.throttler import RateLimit

logger = logging.getLogger(__name__)

#: How far an income row's time may be from the funding time it settles (Binance books the
#: payment at the funding time; a few seconds of slack absorb clock differences).
_FUNDING_TIME_TOLERANCE_S = 60.0
#: Delay before re-reading balances after an ACCOUNT_UPDATE, so a burst of fills costs one call.
_BALANCE_REFRESH_DELAY_S = 0.2


class BinancePerpetualDerivative(BinanceConnectorMixin, PerpetualDerivativePyBase):
    """Binance USDⓈ-M perpetual futures (``binance_perpetual``)."""

    DEFAULT_FEES = utils.DEFAULT_FEES
    SERVER_TIME_PATH: ClassVar[str] = CONSTANTS.SERVER_TIME_PATH
    ADVERTISED_LIMIT_POOLS: ClassVar[Mapping[tuple[str, int], str]] = CONSTANTS.ADVERTISED_LIMIT_POOLS
    CLIENT_ORDER_ID_PREFIX: ClassVar[str] = CONSTANTS.CLIENT_ORDER_ID_PREFIX
    CLIENT_ORDER_ID_MAX_LENGTH: ClassVar[int] = CONSTANTS.CLIENT_ORDER_ID_MAX_LENGTH
    SUPPORTED_POSITION_MODES: ClassVar[tuple[PositionMode, ...]] = (PositionMode.ONEWAY, PositionMode.HEDGE)
    CLIENT_ORDER_ID_PATTERN: ClassVar[re.Pattern[str]] = re.compile(CONSTANTS.CLIENT_ORDER_ID_PATTERN)
    SUPPORTED_TIME_IN_FORCE: ClassVar[frozenset[TimeInForce]] = frozenset(CONSTANTS.TIME_IN_FORCE)
    SUPPORTS_REDUCE_ONLY: ClassVar[bool] = True

    def __init__(
        self, settings: BinancePerpetualSettings, *, time_provider: Callable[[], float] = time.time
    ) -> None:
        self._perp_settings = settings
        self._rest_url = settings.rest_url
        self._symbol_rules: dict[str, wire.SymbolRules] = {}
        self._unpooled_rate_limits: set[tuple[str, str, int]] = set()
        self._position_mode_known = False
        self._balance_refresh_pending = False
        #: asset -> ``cw`` of the last ACCOUNT_UPDATE since the last REST balance refresh
        self._cross_wallet_balances: dict[str, Decimal] = {}
        #: funding time (s) -> last rate announced for it, to label funding payments
        self._rate_by_funding_time: dict[int, Decimal] = {}
        super().__init__(settings, time_provider=time_provider)

    @property
    def name(self) -> str:
        return CONSTANTS.EXCHANGE_NAME

    # ---- factories ------------------------------------------------------------------------------
    def _rate_limits(self) -> Sequence[RateLimit]:
        return web_utils.build_rate_limits(depth_limit=self._perp_settings.depth_snapshot_limit)

    def _create_auth(self) -> AuthBase | None:
        key = self._settings.api_key.get_secret_value()
        secret = self._settings.api_secret.get_secret_value()
        if not key or not secret:
            return None
        return BinancePerpetualAuth(key, secret, self._time_synchronizer, self._perp_settings.recv_window_ms)

    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return BinancePerpetualAPIOrderBookDataSource(
            self._trading_pairs,
            self._web_assistants_factory,
            symbol_resolver=self.exchange_symbol_associated_to_pair,
            rest_url=self._perp_settings.rest_url,
            ws_url=self._perp_settings.ws_url,
            routed_paths=self._perp_settings.ws_routed_paths,
            snapshot_limit=self._perp_settings.depth_snapshot_limit,
        )

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        return BinancePerpetualAPIUserStreamDataSource(
            self._web_assistants_factory,
            rest_url=self._perp_settings.rest_url,
            ws_url=self._perp_settings.ws_url,
            keep_alive_interval=self._perp_settings.listen_key_keepalive_interval,
            routed_paths=self._perp_settings.ws_routed_paths,
        )

    # ---- instruments ----------------------------------------------------------------------------
    async def _request_exchange_info(self) -> wire.ExchangeInfo:
        info = await self._typed_request(CONSTANTS.EXCHANGE_INFO_PATH, wire.ExchangeInfo)
        self._apply_advertised_rate_limits(info.rateLimits)
        return info

    def _is_tradable(self, symbol: wire.SymbolInfo) -> bool:
        return wire.is_perpetual_symbol_tradable(symbol)

    def _rules_of(self, symbol: wire.SymbolInfo) -> wire.SymbolRules:
        return wire.perpetual_symbol_rules(symbol)

    # ---- orders ---------------------------------------------------------------------------------
    def _position_side(self, order: InFlightOrder) -> str:
        if self.position_mode is PositionMode.ONEWAY:
            return "BOTH"
        opens = order.position is PositionAction.OPEN
        is_buy = order.trade_type is TradeType.BUY
        return "LONG" if opens == is_buy else "SHORT"

    async def _place_order(self, order: InFlightOrder, *, options: OrderOptions) -> tuple[str, float]:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        params: dict[str, Any] = {
            "symbol": symbol,
            "side": CONSTANTS.SIDE_BUY if order.trade_type is TradeType.BUY else CONSTANTS.SIDE_SELL,
            "type": "MARKET" if order.order_type is OrderType.MARKET else "LIMIT",
            "quantity": order.amount,
            "newClientOrderId": order.client_order_id,
            "newOrderRespType": CONSTANTS.ORDER_RESP_TYPE_RESULT,
        }
        if order.order_type.is_limit_type():
            params["price"] = order.price
            params["timeInForce"] = (
                CONSTANTS.TIME_IN_FORCE_GTX if order.order_type is OrderType.LIMIT_MAKER
                else CONSTANTS.TIME_IN_FORCE[options.time_in_force or TimeInForce.GTC]
            )
        position_side = self._position_side(order)
        params["positionSide"] = position_side
        # "New Order": reduceOnly "Cannot be sent in Hedge Mode", where positionSide already says
        # which side a CLOSE reduces. ``options.reduce_only`` made the order a CLOSE (template).
        if position_side == "BOTH" and order.position is PositionAction.CLOSE:
            params["reduceOnly"] = True
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.FuturesOrder, method=RESTMethod.POST, params=params, signed=True
        )
        update = wire.order_update_from_order(answer, order.trading_pair, self.current_timestamp)
        if answer.executed_qty == 0 or await self._process_fills_of_placed_order(order, answer):
            self._order_tracker.process_order_update(update)
        return str(answer.order_id), update.update_timestamp

    async def _process_fills_of_placed_order(self, order: InFlightOrder, answer: wire.FuturesOrder) -> bool:
        """An answer that already executed carries no fills ("New Order" response): read them from
        ``GET /fapi/v1/userTrades`` now, so each fill is counted before the status it led to,
        whether or not the user stream is up. False (status left to the stream/poll) if that fails."""
        try:
            trades = await self._trade_updates(order, str(answer.order_id))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("binance_perpetual: cannot read the fills of %s yet (%s); polling",
                           order.client_order_id, exc)
            self._poll_now.set()
            return False
        for trade in trades:
            self._order_tracker.process_trade_update(trade)
        return True

    async def _place_cancel(self, order: InFlightOrder) -> bool:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.FuturesOrder, method=RESTMethod.DELETE,
            params={"symbol": symbol, "origClientOrderId": order.client_order_id}, signed=True,
            limit_id="DELETE " + CONSTANTS.ORDER_PATH,
        )
        self._order_tracker.process_order_update(
            wire.order_update_from_order(answer, order.trading_pair, self.current_timestamp)
        )
        return answer.status == "CANCELED"

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        answer = await self._typed_request(
            CONSTANTS.ORDER_PATH, wire.FuturesOrder,
            params={"symbol": symbol, "origClientOrderId": order.client_order_id}, signed=True,
            limit_id="GET " + CONSTANTS.ORDER_PATH,
        )
        return wire.order_update_from_order(answer, order.trading_pair, self.current_timestamp)

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> list[TradeUpdate]:
        if order.exchange_order_id is None:
            return []
        return await self._trade_updates(order, order.exchange_order_id)

    async def _trade_updates(self, order: InFlightOrder, exchange_order_id: str) -> list[TradeUpdate]:
        symbol = await self.exchange_symbol_associated_to_pair(order.trading_pair)
        trades = await self._typed_request(
            CONSTANTS.USER_TRADES_PATH, list[wire.UserTrade],
            params={"symbol": symbol, "orderId": exchange_order_id}, signed=True,
        )
        action = order.position if order.position is not PositionAction.NIL else PositionAction.OPEN
        fees = self.trade_fee_schema_for(order.trading_pair)
        return [
            wire.trade_update_from_user_trade(trade, order.trading_pair, fees, action, order.client_order_id)
            for trade in trades
            if str(trade.order_id) == exchange_order_id
        ]

    async def _fetch_balances(self) -> Mapping[str, tuple[Decimal, Decimal]]:
        rows = await self._typed_request(CONSTANTS.BALANCE_PATH, list[wire.FuturesBalance], signed=True)
        # Available balances now come from REST: later ACCOUNT_UPDATEs start a new ``cw`` chain.
        self._cross_wallet_balances.clear()
        snapshot = wire.balances_from_rows(rows)
        return {asset: (total, snapshot.available[asset]) for asset, total in snapshot.total.items()}

    # ---- positions, leverage, position mode -----------------------------------------------------
    async def _sync_position_mode(self) -> None:
        answer = await self._typed_request(
            CONSTANTS.POSITION_SIDE_PATH, wire.PositionModeAnswer, signed=True,
            limit_id="GET " + CONSTANTS.POSITION_SIDE_PATH,
        )
        mode = PositionMode.HEDGE if answer.dualSidePosition else PositionMode.ONEWAY
        if mode is not self.position_mode:
            logger.info("binance_perpetual: the account is in %s position mode", mode.value)
            self._perpetual_trading.set_position_mode(mode)
        self._position_mode_known = True

    async def _fetch_positions(self) -> list[Position]:
        if not self._position_mode_known:
            await self._sync_position_mode()
        rows = await self._typed_request(CONSTANTS.POSITION_RISK_PATH, list[wire.PositionRisk], signed=True)
        pairs = self.trading_pair_symbol_map()
        positions: list[Position] = []
        for row in rows:
            pair = pairs.get(row.symbol)
            if pair is None:
                continue
            if row.leverage is not None:
                self._perpetual_trading.set_leverage(pair, int(row.leverage))
            position = wire.position_from_risk(row, pair, Decimal(self.get_leverage(pair)))
            if position is not None:
                positions.append(position)
        return positions

    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> None:
        symbol = await self.exchange_symbol_associated_to_pair(trading_pair)
        answer = await self._typed_request(
            CONSTANTS.LEVERAGE_PATH, wire.LeverageAnswer, method=RESTMethod.POST,
            params={"symbol": symbol, "leverage": leverage}, signed=True,
        )
        if answer.leverage != leverage:
            raise ValueError(f"the exchange set leverage {answer.leverage}, not {leverage}")

    async def _set_position_mode_on_exchange(self, mode: PositionMode) -> None:
        try:
            await self._api_post(
                web_utils.rest_url(CONSTANTS.POSITION_SIDE_PATH, self._rest_url),
                params={"dualSidePosition": CONSTANTS.DUAL_SIDE_POSITION[mode]},
                is_auth_required=True, limit_id=CONSTANTS.POSITION_SIDE_PATH,
            )
        except ExchangeRequestError as exc:
            # -4059 "No need to change position side.": the account is already in that mode.
            if web_utils.exchange_error_code(exc) != CONSTANTS.ERR_NO_NEED_TO_CHANGE_POSITION_SIDE:
                raise
        self._position_mode_known = True

    # ---- funding ----------------------------------------------------------------------------------
    def _emit_funding_info(self, info: FundingInfo) -> None:
        self._rate_by_funding_time[info.next_funding_utc_timestamp] = info.rate
        if len(self._rate_by_funding_time) > 64:
            del self._rate_by_funding_time[min(self._rate_by_funding_time)]
        super()._emit_funding_info(info)

    def _funding_rate_at(self, trading_pair: str, timestamp: float) -> Decimal:
        """The rate announced for the funding time closest to ``timestamp`` (else the current one)."""
        if self._rate_by_funding_time:
            closest = min(self._rate_by_funding_time, key=lambda t: abs(t - timestamp))
            if abs(closest - timestamp) <= _FUNDING_TIME_TOLERANCE_S:
                return self._rate_by_funding_time[closest]
        try:
            return self.get_funding_info(trading_pair).rate
        except KeyError:
            return Decimal("NaN")

    async def _fetch_funding_payments(self, trading_pair: str, since: float) -> list[FundingPayment]:
        """Every FUNDING_FEE income row of the pair from ``since`` on.

        Docs ("Account > Get Income History", ``GET /fapi/v1/income``): ``startTime`` is inclusive,
        rows come oldest first, at most ``limit`` (max 1000) per call. A full page is followed by
        the next one starting at the time of its last row -- inclusive, so rows sharing that
        millisecond are not skipped; the repeats are dropped by ``tranId`` ("unique in the same
        incomeType for a user"). (The ``page`` parameter is listed without a defined page order,
        so the documented ``startTime`` semantics are used instead.)
        """
        symbol = await self.exchange_symbol_associated_to_pair(trading_pair)
        start_ms = int(since * 1000)
        by_id: dict[str, wire.FundingPayment] = {}
        while True:
            records = await self._typed_request(
                CONSTANTS.INCOME_PATH, list[wire.IncomeRecord],
                params={"symbol": symbol, "incomeType": CONSTANTS.INCOME_TYPE_FUNDING_FEE,
                        "startTime": start_ms, "limit": CONSTANTS.INCOME_LIMIT_MAX},
                signed=True,
            )
            for payment in wire.funding_payments(records, {symbol: trading_pair}):
                by_id.setdefault(payment.transaction_id, payment)
            if len(records) < CONSTANTS.INCOME_LIMIT_MAX:
                break
            last_ms = max(record.time for record in records)
            # A full page inside one millisecond cannot be paged by time: move past it (logged).
            if last_ms <= start_ms:
                logger.warning("binance_perpetual: %d income rows of %s at %d ms; paging past them",
                               len(records), symbol, start_ms)
                last_ms = start_ms + 1
            start_ms = last_ms
        return [
            FundingPayment(p.timestamp, self._funding_rate_at(trading_pair, p.timestamp), p.amount,
                           p.transaction_id)
            for p in by_id.values()
        ]

    # ---- user stream ----------------------------------------------------------------------------
    async def _process_user_stream_event(self, event: Any) -> None:
        if isinstance(event, wire.OrderTradeUpdate):
            pair = await self.trading_pair_associated_to_exchange_symbol(event.order.symbol)
            trade = wire.trade_update_from_event(event, pair, self.trade_fee_schema_for(pair))
            if trade is not None:
                self._order_tracker.process_trade_update(trade)
            self._order_tracker.process_order_update(wire.order_update_from_event(event, pair))
        elif isinstance(event, wire.AccountUpdate):
            await self._apply_account_update(event)
        elif isinstance(event, wire.AccountConfigUpdate) and event.leverage_config is not None:
            config = event.leverage_config
            pair = await self.trading_pair_associated_to_exchange_symbol(config.symbol)
            self._perpetual_trading.set_leverage(pair, config.leverage)

    async def _apply_account_update(self, event: wire.AccountUpdate) -> None:
        """Wallet balances and positions as pushed, then a REST balance refresh shortly after (one
        call for a burst of updates).

        Docs ("User Data Streams > Event: Balance and Position Update"): each balance carries the
        wallet balance ``wb`` (our total), the cross wallet balance ``cw`` (wallet minus isolated
        margin) and ``bc``, the balance change *except* PnL and commission -- but no available
        balance. Available is ``availableBalance`` of "Futures Account Balance V2": what new orders
        may use, i.e. cross wallet + cross unrealized PnL - initial margin of positions and open
        orders, none of which ACCOUNT_UPDATE carries. So until the REST refresh the available
        balance is derived as:

        * moved by the change of ``cw`` since the previous ACCOUNT_UPDATE (deposits, withdrawals,
          funding, commission, realized PnL and isolated-margin transfers all move it one for one;
          margin held by a changed position is only known after the refresh);
        * without a previous ``cw`` (the first update, or after a REST refresh), moved by ``bc``;
        * never above the new wallet balance: the stream cannot show unrealized profit, so a
          derived value is kept conservative (only REST may report more).
        """
        for balance in event.account.balances:
            asset = balance.asset
            cw = balance.cross_wallet_balance
            previous_cw = self._cross_wallet_balances.get(asset)
            change = balance.balance_change if previous_cw is None else cw - previous_cw
            self._cross_wallet_balances[asset] = cw
            available = min(self.get_available_balance(asset) + change, balance.wallet_balance)
            self._set_balance(asset, balance.wallet_balance, available)
        for entry in event.account.positions:
            pair = self.trading_pair_symbol_map().get(entry.symbol)
            if pair is None:
                continue
            side = wire.position_side_of(entry.position_side)
            if self.position_mode is PositionMode.ONEWAY and side is not PositionSide.BOTH:
                continue
            self._set_position(wire.position_from_entry(entry, pair, Decimal(self.get_leverage(pair))))
        if event.account.balances and not self._balance_refresh_pending:
            self._balance_refresh_pending = True
            self._order_tasks.spawn(self._refresh_balances_soon(), "refresh-available-balance")

    async def _refresh_balances_soon(self) -> None:
        try:
            await asyncio.sleep(_BALANCE_REFRESH_DELAY_S)
            await self._update_balances()
        except Exception as exc:  # the next poll retries; a failed refresh must not kill anything
            logger.warning("binance_perpetual: cannot refresh balances after ACCOUNT_UPDATE: %s", exc)
        finally:
            self._balance_refresh_pending = False
