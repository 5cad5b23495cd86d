"""A minimal connector on the ExchangePyBase template, for the fake exchange server.

It is what a connector author writes: the abstract methods and nothing else. Tests use it to run
the whole template (placement, cancel, polling, user stream, reconnect, readiness) end to end.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.connector.order_book_tracker_data_source import OrderBookTrackerDataSource
from connectorkit.connector.order_options import OrderOptions
from connectorkit.connector.settings import ConnectorSettings
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.core.enums import OrderState, OrderType
from connectorkit.core.in_flight_order import InFlightOrder, OrderUpdate, TradeUpdate
from connectorkit.core.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from connectorkit.core.trading_rule import TradingRule
from connectorkit.net.auth import AuthBase
from connectorkit.net.errors import ExchangeRequestError
from connectorkit.net.rest_request import RESTRequest, encode_query
from connectorkit.net.throttler import LinkedLimitWeightPair, RateLimit
from connectorkit.net.time_synchronizer import TimeSynchronizer
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant
from connectorkit.net.ws_request import WSJSONRequest
from support.fake_exchange_server import API_KEY_HEADER
from support.fake_order_book_data_source import FakeOrderBookDataSource

API_KEY = "fake-api-key-0123456789abcdef"
API_SECRET = "fake-api-secret-fedcba9876543210"

STATUS = {
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
}
PATHS = ("/api/time", "/api/exchangeInfo", "/api/depth", "/api/order", "/api/myTrades", "/api/account",
         "/api/userDataStream", "/api/premiumIndex", "/api/positions", "/api/leverage", "/api/positionSide",
         "/api/income")


class FakeSettings(ConnectorSettings):
    rest_url: str
    ws_url: str


class FakeAuth(AuthBase):
    def __init__(self, api_key: str, secret: str, time_synchronizer: TimeSynchronizer) -> None:
        self._api_key = api_key
        self._secret = secret
        self._time = time_synchronizer

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        params = dict(request.params or {})
        params["timestamp"] = int(self._time.time() * 1000)
        params["signature"] = hmac.new(
            self._secret.encode(), encode_query(params).encode(), hashlib.sha256
        ).hexdigest()
        headers = {**(request.headers or {}), API_KEY_HEADER: self._api_key}
        return replace(request, params=params, headers=headers)

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        return request

    def secret_values(self) -> tuple[str, ...]:
        return (self._api_key, self._secret)


class FakeUserStreamDataSource(UserStreamTrackerDataSource):
    RECONNECT_MIN_DELAY = 0.01
    RECONNECT_MAX_DELAY = 0.05

    def __init__(self, connector: FakeExchange, factory: WebAssistantsFactory) -> None:
        super().__init__()
        self._connector = connector
        self._factory = factory

    async def _connected_websocket_assistant(self) -> WSAssistant:
        answer = await self._connector._api_post(
            self._connector.rest_url("/api/userDataStream"),
            headers={API_KEY_HEADER: self._connector.settings.api_key.get_secret_value()},
        )
        ws = await self._factory.get_ws_assistant()
        await ws.connect(f"{self._connector.ws_base_url}/ws/user/{answer['listenKey']}",
                         display_url=f"{self._connector.ws_base_url}/ws/user/<listenKey>")
        return ws


class FakeExchange(ExchangePyBase):
    """The fake venue's connector."""

    DEFAULT_FEES = TradeFeeSchema(maker_percent_fee_decimal="0.001", taker_percent_fee_decimal="0.001")
    CLIENT_ORDER_ID_PREFIX = "fx-"
    CLIENT_ORDER_ID_MAX_LENGTH = 32

    def __init__(self, settings: FakeSettings, **kwargs: Any) -> None:
        self._rest_url = settings.rest_url
        self.ws_base_url = settings.ws_url
        super().__init__(settings, **kwargs)

    @property
    def name(self) -> str:
        return "fake_exchange"

    def rest_url(self, path: str) -> str:
        return self._rest_url + path

    # ---- factories --------------------------------------------------------------------------------
    def _rate_limits(self) -> Sequence[RateLimit]:
        return [
            RateLimit("ALL", limit=6000, time_interval=60),
            *(RateLimit(path, 1000, 1, linked_limits=[LinkedLimitWeightPair("ALL")]) for path in PATHS),
        ]

    def _create_auth(self) -> AuthBase | None:
        key = self._settings.api_key.get_secret_value()
        if not key:
            return None
        return FakeAuth(key, self._settings.api_secret.get_secret_value(), self._time_synchronizer)

    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return FakeOrderBookDataSource(self, self._web_assistants_factory)

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        return FakeUserStreamDataSource(self, self._web_assistants_factory)

    # ---- exchange info ----------------------------------------------------------------------------
    async def _request_server_time(self) -> float:
        answer = await self._api_get(self.rest_url("/api/time"))
        return float(answer["serverTime"]) / 1000

    async def _request_exchange_info(self) -> Any:
        return await self._api_get(self.rest_url("/api/exchangeInfo"))

    def _format_trading_pair_symbol_map(self, exchange_info: Any) -> Mapping[str, str]:
        return {s["symbol"]: f"{s['baseAsset']}-{s['quoteAsset']}" for s in exchange_info["symbols"]}

    def _format_trading_rules(self, exchange_info: Any) -> list[TradingRule]:
        return [
            TradingRule(
                f"{s['baseAsset']}-{s['quoteAsset']}",
                min_order_size=Decimal(s["minQty"]),
                min_price_increment=Decimal(s["tickSize"]),
                min_base_amount_increment=Decimal(s["stepSize"]),
                min_notional_size=Decimal(s["minNotional"]),
                supports_market_orders="MARKET" in s["orderTypes"],
                supports_limit_orders="LIMIT" in s["orderTypes"],
            )
            for s in exchange_info["symbols"]
        ]

    # ---- orders -----------------------------------------------------------------------------------
    async def _place_order(self, order: InFlightOrder, *, options: OrderOptions) -> tuple[str, float]:
        params: dict[str, Any] = {
            "symbol": await self.exchange_symbol_associated_to_pair(order.trading_pair),
            "side": order.trade_type.name,
            "type": "MARKET" if order.order_type is OrderType.MARKET else "LIMIT",
            "quantity": order.amount,
            "newClientOrderId": order.client_order_id,
        }
        if order.price is not None:
            params["price"] = order.price
        answer = await self._api_post(self.rest_url("/api/order"), params=params, is_auth_required=True)
        return str(answer["orderId"]), answer["transactTime"] / 1000

    async def _place_cancel(self, order: InFlightOrder) -> bool:
        answer = await self._api_delete(
            self.rest_url("/api/order"),
            params={"symbol": await self.exchange_symbol_associated_to_pair(order.trading_pair),
                    "origClientOrderId": order.client_order_id},
            is_auth_required=True,
        )
        return bool(answer["status"] == "CANCELED")

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate:
        answer = await self._api_get(
            self.rest_url("/api/order"),
            params={"symbol": await self.exchange_symbol_associated_to_pair(order.trading_pair),
                    "origClientOrderId": order.client_order_id},
            is_auth_required=True,
        )
        return self._order_update(answer)

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> list[TradeUpdate]:
        trades = await self._api_get(
            self.rest_url("/api/myTrades"),
            params={"symbol": await self.exchange_symbol_associated_to_pair(order.trading_pair),
                    "orderId": order.exchange_order_id},
            is_auth_required=True,
        )
        return [self._trade_update(order, trade) for trade in trades]

    async def _fetch_balances(self) -> Mapping[str, tuple[Decimal, Decimal]]:
        answer = await self._api_get(self.rest_url("/api/account"), is_auth_required=True)
        return {
            b["asset"]: (Decimal(b["free"]) + Decimal(b["locked"]), Decimal(b["free"]))
            for b in answer["balances"]
        }

    # ---- user stream ------------------------------------------------------------------------------
    async def _process_user_stream_event(self, event: Any) -> None:
        kind = event["e"]
        if kind == "balance":
            free, locked = Decimal(event["f"]), Decimal(event["l"])
            self._set_balance(event["a"], free + locked, free)
        elif kind == "executionReport":
            order = self._order_tracker.fetch_order(event["clientOrderId"])
            if "trade" in event and order is not None:
                self._order_tracker.process_trade_update(self._trade_update(order, event["trade"]))
            self._order_tracker.process_order_update(self._order_update(event))
        else:
            raise ValueError(f"unknown user event {kind!r}")

    def _order_update(self, data: Mapping[str, Any]) -> OrderUpdate:
        pair = self.trading_pair_symbol_map()[data["symbol"]]
        return OrderUpdate(
            pair, data["updateTime"] / 1000, STATUS[data["status"]],
            client_order_id=data["clientOrderId"], exchange_order_id=str(data["orderId"]),
        )

    def _trade_update(self, order: InFlightOrder, trade: Mapping[str, Any]) -> TradeUpdate:
        fee = TradeFeeBase.new_spot_fee(
            self.trade_fee_schema, order.trade_type,
            flat_fees=[TokenAmount(trade["commissionAsset"], Decimal(trade["commission"]))],
        )
        return TradeUpdate(
            trade_id=str(trade["id"]),
            client_order_id=order.client_order_id,
            exchange_order_id=str(trade["orderId"]),
            trading_pair=order.trading_pair,
            fill_timestamp=trade["time"] / 1000,
            fill_price=Decimal(trade["price"]),
            fill_base_amount=Decimal(trade["qty"]),
            fill_quote_amount=Decimal(trade["quoteQty"]),
            fee=fee,
            is_taker=not trade["isMaker"],
        )

    # ---- error classification ---------------------------------------------------------------------
    @staticmethod
    def _code(exception: BaseException) -> Any:
        return exception.code if isinstance(exception, ExchangeRequestError) else None

    def _is_order_not_found_error(self, exception: BaseException) -> bool:
        return self._code(exception) in (-2013, -2011)

    def _is_request_exception_unknown_status(self, exception: BaseException) -> bool:
        return self._code(exception) == -1007

    def _is_time_synchronizer_related_error(self, exception: BaseException) -> bool:
        return self._code(exception) == -1021

