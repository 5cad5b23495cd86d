"""Binance Spot trading and account wire formats: typed schemas and pure parse functions.

No I/O here. Each schema mirrors a documented JSON payload (docs section named on the class);
unknown fields are ignored so additive API changes never break decoding. Decimal fields are
decoded straight into ``Decimal`` by msgspec (exact, no float step). Conversion functions turn
the wire objects into connectorkit's domain types (``TradingRule``, ``OrderUpdate``,
``TradeUpdate``, balances); fees come from the exchange's own commission fields.

Market-data payloads (depth, trades) live in ``binance_market_wire``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeVar

import msgspec

from connectorkit.core.enums import OrderState, TradeType
from connectorkit.core.in_flight_order import OrderUpdate, TradeUpdate
from connectorkit.core.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from connectorkit.core.trading_rule import TradingRule
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance.binance_utils import trading_pair as make_pair

_ZERO: Final = Decimal(0)
_TINY: Final = Decimal("1e-20")  # TradingRule's "no constraint" increment


T = TypeVar("T")


class WireFormatError(ValueError):
    """A payload does not match its documented schema."""


def decode_with(decoder: msgspec.json.Decoder[T], data: bytes | str, what: str) -> T:
    """``decoder.decode(data)``; a payload that does not match the schema raises
    :class:`WireFormatError` naming ``what``."""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise WireFormatError(f"{what}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Exchange information (docs: "General endpoints > Exchange information", "Filters")
# ---------------------------------------------------------------------------------------------


class SymbolFilter(msgspec.Struct, frozen=True):
    """One entry of ``symbols[].filters``; only the fields of the filters we use are typed.

    PRICE_FILTER: minPrice/maxPrice/tickSize; LOT_SIZE and MARKET_LOT_SIZE: minQty/maxQty/stepSize;
    NOTIONAL: minNotional/maxNotional; MIN_NOTIONAL (legacy spot): minNotional; MIN_NOTIONAL
    (futures): notional. A value of 0 means the constraint is disabled ("Filters").
    """

    filterType: str
    minPrice: Decimal | None = None
    maxPrice: Decimal | None = None
    tickSize: Decimal | None = None
    minQty: Decimal | None = None
    maxQty: Decimal | None = None
    stepSize: Decimal | None = None
    minNotional: Decimal | None = None
    maxNotional: Decimal | None = None
    notional: Decimal | None = None


class SymbolInfo(msgspec.Struct, frozen=True):
    symbol: str
    status: str
    baseAsset: str
    quoteAsset: str
    filters: list[SymbolFilter] = []
    orderTypes: list[str] = []
    quoteAssetPrecision: int | None = None
    isSpotTradingAllowed: bool | None = None
    permissions: list[str] = []
    permissionSets: list[list[str]] = []
    # USDⓈ-M futures only (docs: "Exchange Information" of /fapi/v1/exchangeInfo)
    contractType: str | None = None
    marginAsset: str | None = None


class RateLimitInfo(msgspec.Struct, frozen=True):
    rateLimitType: str
    interval: str
    intervalNum: int
    limit: int


class ExchangeInfo(msgspec.Struct, frozen=True):
    symbols: list[SymbolInfo]
    rateLimits: list[RateLimitInfo] = []
    serverTime: int | None = None


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """A pair's ``TradingRule`` plus the Binance details that ``TradingRule`` has no field for:
    the MARKET_LOT_SIZE limits (``None`` where the filter is absent or disabled)."""

    symbol: str
    rule: TradingRule
    market_min_qty: Decimal | None = None
    market_max_qty: Decimal | None = None
    market_step_size: Decimal | None = None


def is_spot_symbol_tradable(info: SymbolInfo) -> bool:
    """TRADING status and spot trading permitted (``isSpotTradingAllowed``, or a SPOT permission
    in ``permissions``/``permissionSets`` on older answers that lack the flag)."""
    if info.status != "TRADING":
        return False
    if info.isSpotTradingAllowed is not None:
        return info.isSpotTradingAllowed
    return "SPOT" in info.permissions or any("SPOT" in group for group in info.permissionSets)


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def symbol_rules(info: SymbolInfo) -> SymbolRules:
    """Build the pair's rules from its filters (docs: "Filters").

    Raises :class:`WireFormatError` when PRICE_FILTER or LOT_SIZE is missing or has no positive
    increment: an order could not be quantized safely for such a symbol.
    """
    by_type = {f.filterType: f for f in info.filters}
    price = by_type.get("PRICE_FILTER")
    lot = by_type.get("LOT_SIZE")
    tick = _positive(price.tickSize) if price else None
    step = _positive(lot.stepSize) if lot else None
    if tick is None or lot is None or step is None:
        raise WireFormatError(f"{info.symbol}: PRICE_FILTER/LOT_SIZE missing or without increment")
    notional = by_type.get("NOTIONAL") or by_type.get("MIN_NOTIONAL")
    min_notional = _ZERO
    if notional is not None:
        min_notional = notional.minNotional or notional.notional or _ZERO
    market = by_type.get("MARKET_LOT_SIZE")
    quote_increment = (
        Decimal(1).scaleb(-info.quoteAssetPrecision) if info.quoteAssetPrecision is not None else _TINY
    )
    rule = TradingRule(
        trading_pair=make_pair(info.baseAsset, info.quoteAsset),
        min_order_size=lot.minQty or _ZERO,
        max_order_size=_positive(lot.maxQty) or Decimal("1e56"),
        min_price_increment=tick,
        min_base_amount_increment=step,
        min_notional_size=min_notional,
        supports_limit_orders="LIMIT" in info.orderTypes or not info.orderTypes,
        supports_market_orders="MARKET" in info.orderTypes or not info.orderTypes,
        min_quote_amount_increment=quote_increment,
    )
    return SymbolRules(
        symbol=info.symbol,
        rule=rule,
        market_min_qty=_positive(market.minQty) if market else None,
        market_max_qty=_positive(market.maxQty) if market else None,
        market_step_size=_positive(market.stepSize) if market else None,
    )


# ---------------------------------------------------------------------------------------------
# Orders (docs: "Trading endpoints > New order (ACK/RESULT/FULL)", "Query order", "Cancel order")
# ---------------------------------------------------------------------------------------------


class OrderFill(msgspec.Struct, frozen=True, rename="camel"):
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


class OrderResponse(msgspec.Struct, frozen=True, rename="camel"):
    """Any of: placement (ACK/RESULT/FULL), query, cancel. ACK carries no ``status``."""

    symbol: str
    order_id: int
    client_order_id: str
    orig_client_order_id: str | None = None  # cancel answers: the cancelled order's own id
    transact_time: int | None = None
    time: int | None = None
    update_time: int | None = None
    price: Decimal | None = None
    orig_qty: Decimal | None = None
    executed_qty: Decimal | None = None
    cummulative_quote_qty: Decimal | None = None
    status: str | None = None
    type: str | None = None
    side: str | None = None
    fills: list[OrderFill] = []

    @property
    def own_client_order_id(self) -> str:
        """The order's client id (a cancel answer's ``clientOrderId`` is the cancel's own id)."""
        return self.orig_client_order_id or self.client_order_id

    @property
    def timestamp_ms(self) -> int | None:
        return self.transact_time or self.update_time or self.time


def order_state(status: str, table: Mapping[str, OrderState] = CONSTANTS.ORDER_STATE) -> OrderState:
    """Our state for a Binance order ``status``; ``table`` is the product's (Spot's by default)."""
    try:
        return table[status]
    except KeyError:
        raise WireFormatError(f"unknown order status {status!r}") from None


def misc_updates(status: str, reason: str | None = None) -> dict[str, object] | None:
    """``OrderUpdate.misc_updates`` of a final status both products share: EXPIRED and
    EXPIRED_IN_MATCH mark the order expired, REJECTED carries the error (``reason`` if given)."""
    if status in ("EXPIRED", "EXPIRED_IN_MATCH"):
        return {"expired": True}
    if status == "REJECTED":
        return {"error_type": "REJECTED", "error_message": reason or "order rejected by the exchange"}
    return None


def order_update_from_response(
    response: OrderResponse, trading_pair: str, fallback_timestamp: float
) -> OrderUpdate:
    """Status of the order an answer describes. An ACK (no status) means the engine accepted it."""
    status = response.status or "NEW"
    ts = response.timestamp_ms
    return OrderUpdate(
        trading_pair=trading_pair,
        update_timestamp=ts / 1000.0 if ts else fallback_timestamp,
        new_state=order_state(status),
        client_order_id=response.own_client_order_id,
        exchange_order_id=str(response.order_id),
        misc_updates=misc_updates(status),
    )


def _fee(schema: TradeFeeSchema, trade_type: TradeType, asset: str | None, amount: Decimal) -> TradeFeeBase:
    flat = [TokenAmount(asset, amount)] if asset and amount > 0 else []
    return TradeFeeBase.new_spot_fee(schema, trade_type, flat_fees=flat)


def trade_type_of(side: str | None) -> TradeType:
    if side == CONSTANTS.SIDE_BUY:
        return TradeType.BUY
    if side == CONSTANTS.SIDE_SELL:
        return TradeType.SELL
    raise WireFormatError(f"unknown side {side!r}")


def trade_updates_from_response(
    response: OrderResponse, trading_pair: str, fee_schema: TradeFeeSchema
) -> list[TradeUpdate]:
    """The fills of a FULL placement answer; they are taker fills (they happened on placement)."""
    if not response.fills:
        return []
    trade_type = trade_type_of(response.side)
    ts = (response.timestamp_ms or 0) / 1000.0
    return [
        TradeUpdate(
            trade_id=str(fill.trade_id),
            client_order_id=response.own_client_order_id,
            exchange_order_id=str(response.order_id),
            trading_pair=trading_pair,
            fill_timestamp=ts,
            fill_price=fill.price,
            fill_base_amount=fill.qty,
            fill_quote_amount=fill.price * fill.qty,
            fee=_fee(fee_schema, trade_type, fill.commission_asset, fill.commission),
            is_taker=True,
        )
        for fill in response.fills
        if fill.qty > 0 and fill.trade_id >= 0
    ]


# ---------------------------------------------------------------------------------------------
# Account trades (docs: "Account Endpoints > Account trade list (USER_DATA)")
# ---------------------------------------------------------------------------------------------


class AccountTrade(msgspec.Struct, frozen=True, rename="camel"):
    symbol: str
    id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool


def trade_update_from_account_trade(
    trade: AccountTrade, trading_pair: str, fee_schema: TradeFeeSchema, client_order_id: str | None = None
) -> TradeUpdate:
    trade_type = TradeType.BUY if trade.is_buyer else TradeType.SELL
    return TradeUpdate(
        trade_id=str(trade.id),
        client_order_id=client_order_id,
        exchange_order_id=str(trade.order_id),
        trading_pair=trading_pair,
        fill_timestamp=trade.time / 1000.0,
        fill_price=trade.price,
        fill_base_amount=trade.qty,
        fill_quote_amount=trade.quote_qty,
        fee=_fee(fee_schema, trade_type, trade.commission_asset, trade.commission),
        is_taker=not trade.is_maker,
    )


# ---------------------------------------------------------------------------------------------
# Account (docs: "Account Endpoints > Account information (USER_DATA)")
# ---------------------------------------------------------------------------------------------


class AssetBalance(msgspec.Struct, frozen=True):
    asset: str
    free: Decimal
    locked: Decimal


class AccountInfo(msgspec.Struct, frozen=True, rename="camel"):
    balances: list[AssetBalance]
    can_trade: bool = True
    update_time: int | None = None


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """``total`` and ``available`` per asset (total = free + locked)."""

    total: dict[str, Decimal]
    available: dict[str, Decimal]


def balances_from_account(account: AccountInfo) -> BalanceSnapshot:
    return BalanceSnapshot(
        total={b.asset: b.free + b.locked for b in account.balances},
        available={b.asset: b.free for b in account.balances},
    )


# ---------------------------------------------------------------------------------------------
# User data events (docs: "User Data Streams": Account Update, Balance Update, Order Update,
# Listen Key Expired; "WebSocket API > User Data Stream requests": eventStreamTerminated)
# ---------------------------------------------------------------------------------------------


class ExecutionReport(msgspec.Struct, frozen=True, tag_field="e", tag="executionReport"):
    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    client_order_id: str = msgspec.field(name="c")
    side: str = msgspec.field(name="S")
    order_type: str = msgspec.field(name="o")
    quantity: Decimal = msgspec.field(name="q")
    price: Decimal = msgspec.field(name="p")
    orig_client_order_id: str = msgspec.field(name="C", default="")
    execution_type: str = msgspec.field(name="x", default="")
    order_status: str = msgspec.field(name="X", default="")
    reject_reason: str = msgspec.field(name="r", default="NONE")
    order_id: int = msgspec.field(name="i", default=0)
    last_qty: Decimal = msgspec.field(name="l", default=_ZERO)
    cumulative_qty: Decimal = msgspec.field(name="z", default=_ZERO)
    last_price: Decimal = msgspec.field(name="L", default=_ZERO)
    commission: Decimal = msgspec.field(name="n", default=_ZERO)
    commission_asset: str | None = msgspec.field(name="N", default=None)
    transaction_time: int = msgspec.field(name="T", default=0)
    trade_id: int = msgspec.field(name="t", default=-1)
    is_maker: bool = msgspec.field(name="m", default=False)
    last_quote_qty: Decimal | None = msgspec.field(name="Y", default=None)

    @property
    def own_client_order_id(self) -> str:
        """For a cancellation ``c`` is the cancel request's id and ``C`` the order's own id."""
        return self.orig_client_order_id or self.client_order_id


class AccountBalance(msgspec.Struct, frozen=True):
    asset: str = msgspec.field(name="a")
    free: Decimal = msgspec.field(name="f")
    locked: Decimal = msgspec.field(name="l")


class OutboundAccountPosition(msgspec.Struct, frozen=True, tag_field="e", tag="outboundAccountPosition"):
    event_time: int = msgspec.field(name="E")
    balances: list[AccountBalance] = msgspec.field(name="B")
    last_update_time: int = msgspec.field(name="u", default=0)


class BalanceUpdate(msgspec.Struct, frozen=True, tag_field="e", tag="balanceUpdate"):
    event_time: int = msgspec.field(name="E")
    asset: str = msgspec.field(name="a")
    delta: Decimal = msgspec.field(name="d")
    clear_time: int = msgspec.field(name="T", default=0)


class ListenKeyExpired(msgspec.Struct, frozen=True, tag_field="e", tag="listenKeyExpired"):
    # The docs' example sends E as a string ("1699596037418"); accept both.
    event_time: int | str = msgspec.field(name="E")
    listen_key: str = msgspec.field(name="listenKey", default="")


class EventStreamTerminated(msgspec.Struct, frozen=True, tag_field="e", tag="eventStreamTerminated"):
    event_time: int = msgspec.field(name="E")


class ServerShutdown(msgspec.Struct, frozen=True, tag_field="e", tag="serverShutdown"):
    """"WebSocket API > Connection events > Server Shutdown": the server is about to shut down;
    "establish a new connection as soon as possible". Pushed as ``{"event": {...}}`` with no
    ``subscriptionId``."""

    event_time: int = msgspec.field(name="E")


SpotUserEvent = (
    ExecutionReport | OutboundAccountPosition | BalanceUpdate | ListenKeyExpired | EventStreamTerminated
    | ServerShutdown
)

_user_event_decoder: Final[msgspec.json.Decoder[SpotUserEvent]] = msgspec.json.Decoder(SpotUserEvent)
_SPOT_EVENT_TYPES: Final = frozenset({
    "executionReport", "outboundAccountPosition", "balanceUpdate", "listenKeyExpired",
    "eventStreamTerminated", "serverShutdown",
})


class UnknownUserEventError(WireFormatError):
    """A well-formed user-data event of a type this connector does not use (Binance adds event
    types over time, e.g. spot ``externalLockUpdate``/``listStatus``, USDⓈ-M ``TRADE_LITE``):
    the stream skips it quietly instead of counting it as malformed."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"user event of unused type {event_type!r}")
        self.event_type = event_type


class _EventType(msgspec.Struct):
    e: str


_event_type_decoder: Final = msgspec.json.Decoder(_EventType)


def decode_tagged_event(
    decoder: msgspec.json.Decoder[T], data: bytes | str, known_types: frozenset[str], what: str
) -> T:
    """Decode one ``{"e": <type>, ...}`` event with ``decoder``; an event whose type is not in
    ``known_types`` raises :class:`UnknownUserEventError`, anything else that does not decode
    :class:`WireFormatError`. (The type is only read again on that error path.)"""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:
        try:
            event_type: str | None = _event_type_decoder.decode(data).e
        except msgspec.DecodeError:
            event_type = None
        if event_type is not None and event_type not in known_types:
            raise UnknownUserEventError(event_type) from None
        raise WireFormatError(f"{what}: {exc}") from exc


def decode_user_event(data: bytes | str) -> SpotUserEvent:
    """Decode one user-data event (unused types raise :class:`UnknownUserEventError`)."""
    return decode_tagged_event(_user_event_decoder, data, _SPOT_EVENT_TYPES, "user event")


class WsApiError(msgspec.Struct, frozen=True):
    code: int
    msg: str


class WsApiFrame(msgspec.Struct, frozen=True, rename="camel"):
    """Any frame of a WebSocket-API connection: a response (``id``/``status``/``result`` or
    ``error``) or a pushed user-data event (``subscriptionId`` + ``event``).

    ``result`` and ``event`` are kept raw (empty when absent) and decoded separately, so one
    unknown event type cannot hide the frame's routing fields.
    """

    id: str | int | None = None
    status: int | None = None
    result: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    error: WsApiError | None = None
    subscription_id: int | None = None
    event: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)

    @property
    def has_event(self) -> bool:
        return len(self.event) > 0


_ws_api_frame_decoder: Final = msgspec.json.Decoder(WsApiFrame)


def decode_ws_api_frame(data: bytes | str) -> WsApiFrame:
    return decode_with(_ws_api_frame_decoder, data, "WebSocket API frame")


class _SubscriptionResult(msgspec.Struct, frozen=True):
    subscriptionId: int


_subscription_result_decoder: Final = msgspec.json.Decoder(_SubscriptionResult)


def subscription_id_from_result(result: msgspec.Raw) -> int:
    """``subscriptionId`` of a successful ``userDataStream.subscribe.signature`` answer."""
    if len(result) == 0:
        raise WireFormatError("subscription answer without result")
    try:
        return _subscription_result_decoder.decode(result).subscriptionId
    except msgspec.DecodeError as exc:
        raise WireFormatError(f"subscription answer: {exc}") from exc


def order_update_from_execution_report(report: ExecutionReport, trading_pair: str) -> OrderUpdate:
    return OrderUpdate(
        trading_pair=trading_pair,
        update_timestamp=(report.transaction_time or report.event_time) / 1000.0,
        new_state=order_state(report.order_status),
        client_order_id=report.own_client_order_id,
        exchange_order_id=str(report.order_id),
        misc_updates=misc_updates(report.order_status, report.reject_reason),
    )


def trade_update_from_execution_report(
    report: ExecutionReport, trading_pair: str, fee_schema: TradeFeeSchema
) -> TradeUpdate | None:
    """The fill an execution report carries (execution type TRADE), else ``None``."""
    if report.execution_type != "TRADE" or report.last_qty <= 0:
        return None
    trade_type = trade_type_of(report.side)
    quote = report.last_quote_qty
    if quote is None:
        quote = report.last_price * report.last_qty
    return TradeUpdate(
        trade_id=str(report.trade_id),
        client_order_id=report.own_client_order_id,
        exchange_order_id=str(report.order_id),
        trading_pair=trading_pair,
        fill_timestamp=report.transaction_time / 1000.0,
        fill_price=report.last_price,
        fill_base_amount=report.last_qty,
        fill_quote_amount=quote,
        fee=_fee(fee_schema, trade_type, report.commission_asset, report.commission),
        is_taker=not report.is_maker,
    )


def balances_from_account_position(event: OutboundAccountPosition) -> BalanceSnapshot:
    return BalanceSnapshot(
        total={b.asset: b.free + b.locked for b in event.balances},
        available={b.asset: b.free for b in event.balances},
    )
