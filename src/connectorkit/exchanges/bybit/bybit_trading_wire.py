"""Bybit v5 trading and account wire formats (spot and linear): schemas, pure mappers, builders.

No I/O. Every REST answer is the envelope ``{"retCode", "retMsg", "result", "retExtInfo",
"time"}`` (docs: v5/intro "Response"): it is decoded once, ``result`` kept as ``msgspec.Raw`` and
decoded by its endpoint's schema only when ``retCode`` is 0; any other code raises
:class:`BybitAPIError` classified from the v5/error tables. Private socket pushes
``{"id", "topic", "creationTime", "data": [...]}`` reuse the REST row schemas (the docs give the
same fields). Numbers are strings on the wire; those that may be empty are kept as strings and
converted where used. Unknown fields are ignored, so additive API changes never break decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Generic, NamedTuple, TypeVar

import msgspec

from connectorkit.core.enums import OrderState, OrderType, PositionAction, PositionSide, TradeType
from connectorkit.core.in_flight_order import OrderUpdate, TradeUpdate
from connectorkit.core.position import Position
from connectorkit.core.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from connectorkit.core.trading_rule import TradingRule
from connectorkit.exchanges.bybit import bybit_constants as CONSTANTS
from connectorkit.exchanges.bybit.bybit_market_wire import (
    BybitWireError,
    ControlAnswer,
    control_answer,
    decimal_or_none,
    decode_frame,
)
from connectorkit.exchanges.bybit.bybit_utils import is_valid_client_order_id, trading_pair

T = TypeVar("T")
R = TypeVar("R")
_ZERO: Final = Decimal(0)


class BybitErrorKind(Enum):
    ORDER_NOT_FOUND = "order_not_found"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    RATE_LIMIT = "rate_limit"
    TIMESTAMP = "timestamp_out_of_window"
    AUTH = "auth"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    STATUS_UNKNOWN = "execution_status_unknown"
    OTHER = "other"


_KINDS: Final = (
    (CONSTANTS.ORDER_NOT_FOUND_CODES, BybitErrorKind.ORDER_NOT_FOUND),
    (CONSTANTS.INSUFFICIENT_BALANCE_CODES, BybitErrorKind.INSUFFICIENT_BALANCE),
    (CONSTANTS.POST_ONLY_WOULD_TAKE_CODES, BybitErrorKind.POST_ONLY_WOULD_TAKE),
    (CONSTANTS.RATE_LIMIT_CODES, BybitErrorKind.RATE_LIMIT),
    (CONSTANTS.TIMESTAMP_CODES, BybitErrorKind.TIMESTAMP),
    (CONSTANTS.AUTH_CODES, BybitErrorKind.AUTH),
    (CONSTANTS.DUPLICATE_ORDER_ID_CODES, BybitErrorKind.DUPLICATE_ORDER_ID),
    (CONSTANTS.EXECUTION_STATUS_UNKNOWN_CODES, BybitErrorKind.STATUS_UNKNOWN),
)


def classify_ret_code(code: int) -> BybitErrorKind:
    """The kind of a non-zero ``retCode`` (docs: v5/error)."""
    for codes, kind in _KINDS:
        if code in codes:
            return kind
    return BybitErrorKind.OTHER


class BybitAPIError(Exception):
    """A well-formed answer with a non-zero ``retCode``. ``kind`` is its classification."""

    def __init__(self, what: str, code: int, message: str) -> None:
        super().__init__(f"{what}: retCode {code}: {message}")
        self.code = code
        self.message = message
        self.kind = classify_ret_code(code)


def error_kind(exc: BaseException) -> BybitErrorKind | None:
    """The classification of a Bybit answer error, None for anything else (e.g. a predicate for
    ``call_with_time_resync``: ``error_kind(e) is BybitErrorKind.TIMESTAMP``)."""
    return exc.kind if isinstance(exc, BybitAPIError) else None


class RateLimitStatus(NamedTuple):
    """The per-UID limit state Bybit reports on every answer (docs: v5/rate-limit)."""

    limit: int
    remaining: int
    reset_ms: int


def rate_limit_status(headers: Mapping[str, str]) -> RateLimitStatus | None:
    """``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and ``X-Bapi-Limit-Reset-Timestamp`` (matched
    case-insensitively), or None when an answer lacks any of them or one is not an integer."""
    lowered = {key.lower(): value for key, value in headers.items()}
    values = [lowered.get(name.lower(), "") for name in (
        CONSTANTS.LIMIT_HEADER, CONSTANTS.LIMIT_STATUS_HEADER, CONSTANTS.LIMIT_RESET_HEADER)]
    if not all(value.isdigit() for value in values):
        return None
    return RateLimitStatus(*(int(value) for value in values))


class _Envelope(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    time: int | None = None


_envelope_decoder: Final = msgspec.json.Decoder(_Envelope)


class Page(msgspec.Struct, Generic[R], frozen=True):
    """A list answer ``{"category", "list": [...], "nextPageCursor"}``."""

    rows: list[R] = msgspec.field(name="list")
    nextPageCursor: str = ""
    category: str = ""


def decode_result(decoder: msgspec.json.Decoder[T], data: bytes | str, what: str) -> T:
    """``result`` of a successful answer decoded by ``decoder``; a non-zero retCode raises
    :class:`BybitAPIError`, anything not matching the schema :class:`BybitWireError`."""
    try:
        envelope = _envelope_decoder.decode(data)
        if envelope.retCode != CONSTANTS.RET_OK:
            raise BybitAPIError(what, envelope.retCode, envelope.retMsg)
        return decoder.decode(envelope.result)
    except msgspec.MsgspecError as exc:
        raise BybitWireError(f"{what}: {exc}") from None


def _decimal(value: str, field: str) -> Decimal:
    result = decimal_or_none(value, field)
    if result is None:
        raise BybitWireError(f"{field} is empty")
    return result


def _ms(value: str, field: str) -> int:
    if not value.isdigit():
        raise BybitWireError(f"{field} is not a millisecond timestamp: {value!r}")
    return int(value)


# --- Server time (docs: v5/market/time) --------------------------------------------------------


class _ServerTime(msgspec.Struct):
    timeSecond: str
    timeNano: str


_server_time_decoder: Final = msgspec.json.Decoder(_ServerTime)


def server_time_s(data: bytes | str) -> float:
    """Seconds since the epoch from ``GET /v5/market/time`` (``timeNano``, the finest field)."""
    result = decode_result(_server_time_decoder, data, "server time")
    return _ms(result.timeNano, "timeNano") / 1e9


# --- Instruments (docs: v5/market/instrument) -----------------------------------------------


class LotSizeFilter(msgspec.Struct, frozen=True):
    """Spot: basePrecision, quotePrecision, minOrderQty, maxOrderQty, minOrderAmt, maxLimitOrderQty,
    maxMarketOrderQty (maxOrderAmt is "deprecated, no longer check"); linear: qtyStep, minOrderQty,
    maxOrderQty, maxMktOrderQty, minNotionalValue."""

    minOrderQty: Decimal
    maxOrderQty: Decimal
    basePrecision: Decimal | None = None
    quotePrecision: Decimal | None = None
    minOrderAmt: Decimal | None = None
    maxLimitOrderQty: Decimal | None = None
    maxMarketOrderQty: Decimal | None = None
    qtyStep: Decimal | None = None
    maxMktOrderQty: Decimal | None = None
    minNotionalValue: Decimal | None = None


class PriceFilter(msgspec.Struct, frozen=True):
    tickSize: Decimal
    minPrice: Decimal | None = None
    maxPrice: Decimal | None = None


class Instrument(msgspec.Struct, frozen=True):
    symbol: str
    baseCoin: str
    quoteCoin: str
    status: str
    lotSizeFilter: LotSizeFilter
    priceFilter: PriceFilter
    contractType: str | None = None  # linear: LinearPerpetual / LinearFutures
    settleCoin: str | None = None


_instruments_decoder: Final = msgspec.json.Decoder(Page[Instrument])


def decode_instruments(data: bytes | str) -> Page[Instrument]:
    return decode_result(_instruments_decoder, data, "instruments-info")


@dataclass(frozen=True, slots=True)
class BybitSymbolRules:
    """A symbol's ``TradingRule`` plus what TradingRule has no field for."""

    symbol: str
    base: str
    quote: str
    rule: TradingRule
    max_market_order_qty: Decimal | None = None


def is_tradable(instrument: Instrument) -> bool:
    return instrument.status == "Trading"


def _positive(value: Decimal | None, field: str, symbol: str) -> Decimal:
    if value is None or not value > 0:
        raise BybitWireError(f"{symbol}: {field} missing or not positive")
    return value


def spot_symbol_rules(instrument: Instrument) -> BybitSymbolRules:
    """basePrecision is the base quantity step, quotePrecision the quote amount step, minOrderAmt
    the minimum order value, maxLimitOrderQty (older answers: maxOrderQty) the largest limit order
    (docs: v5/market/instrument, spot tab)."""
    lot, symbol = instrument.lotSizeFilter, instrument.symbol
    rule = TradingRule(
        trading_pair=trading_pair(instrument.baseCoin, instrument.quoteCoin),
        min_order_size=lot.minOrderQty,
        max_order_size=lot.maxLimitOrderQty or lot.maxOrderQty,
        min_price_increment=_positive(instrument.priceFilter.tickSize, "tickSize", symbol),
        min_base_amount_increment=_positive(lot.basePrecision, "basePrecision", symbol),
        min_quote_amount_increment=_positive(lot.quotePrecision, "quotePrecision", symbol),
        min_notional_size=lot.minOrderAmt or _ZERO,
    )
    return BybitSymbolRules(symbol, instrument.baseCoin, instrument.quoteCoin, rule, lot.maxMarketOrderQty)


def linear_symbol_rules(instrument: Instrument) -> BybitSymbolRules:
    """qtyStep is the quantity step, minNotionalValue the minimum order value, maxMktOrderQty the
    largest market order; both sides lock the settle coin (docs: v5/market/instrument, linear)."""
    lot, symbol = instrument.lotSizeFilter, instrument.symbol
    settle = instrument.settleCoin or instrument.quoteCoin
    rule = TradingRule(
        trading_pair=trading_pair(instrument.baseCoin, instrument.quoteCoin),
        min_order_size=lot.minOrderQty,
        max_order_size=lot.maxOrderQty,
        min_price_increment=_positive(instrument.priceFilter.tickSize, "tickSize", symbol),
        min_base_amount_increment=_positive(lot.qtyStep, "qtyStep", symbol),
        min_notional_size=lot.minNotionalValue or _ZERO,
        buy_order_collateral_token=settle,
        sell_order_collateral_token=settle,
    )
    return BybitSymbolRules(symbol, instrument.baseCoin, instrument.quoteCoin, rule, lot.maxMktOrderQty)


# --- Orders (docs: v5/order/create-order, cancel-order, open-order, order-list;
# v5/websocket/private/order) --------------------------------------------------------------------


class OrderAck(msgspec.Struct, frozen=True):
    """create/cancel answer: "please use websocket order stream to confirm the order status"."""

    orderId: str
    orderLinkId: str = ""


class BybitOrder(msgspec.Struct, frozen=True):
    orderId: str
    symbol: str
    side: str
    orderStatus: str
    orderLinkId: str = ""
    orderType: str = ""
    price: str = ""
    qty: str = ""
    cumExecQty: str = ""
    cumExecValue: str = ""
    avgPrice: str = ""
    timeInForce: str = ""
    reduceOnly: bool = False
    positionIdx: int = 0
    rejectReason: str = ""
    createdTime: str = ""
    updatedTime: str = ""
    category: str = ""


_ack_decoder: Final = msgspec.json.Decoder(OrderAck)
_orders_decoder: Final = msgspec.json.Decoder(Page[BybitOrder])


def decode_order_ack(data: bytes | str, what: str = "order") -> OrderAck:
    return decode_result(_ack_decoder, data, what)


def decode_orders(data: bytes | str) -> Page[BybitOrder]:
    return decode_result(_orders_decoder, data, "orders")


def order_state(status: str) -> OrderState:
    try:
        return CONSTANTS.ORDER_STATE[status]
    except KeyError:
        raise BybitWireError(f"unknown orderStatus {status!r}") from None


def order_update(order: BybitOrder, trading_pair: str) -> OrderUpdate:
    """Our view of an order row. A PostOnly order that would have taken is cancelled by Bybit with
    rejectReason ``EC_PostOnlyWillTakeLiquidity``: it never rested, so it is a failed placement."""
    state = order_state(order.orderStatus)
    misc: dict[str, object] | None = None
    if order.rejectReason == CONSTANTS.REJECT_POST_ONLY_WOULD_TAKE and not decimal_or_none(
        order.cumExecQty, "cumExecQty"
    ):
        state = OrderState.FAILED
        misc = {"error_type": BybitErrorKind.POST_ONLY_WOULD_TAKE.value, "error_message": order.rejectReason}
    elif state is OrderState.FAILED:
        misc = {"error_type": "Rejected", "error_message": order.rejectReason or "order rejected by Bybit"}
    return OrderUpdate(
        trading_pair=trading_pair,
        update_timestamp=_ms(order.updatedTime or order.createdTime, "updatedTime") / 1000.0,
        new_state=state,
        client_order_id=order.orderLinkId or None,
        exchange_order_id=order.orderId,
        misc_updates=misc,
    )


def trade_type_of(side: str) -> TradeType:
    if side == CONSTANTS.SIDE_BUY:
        return TradeType.BUY
    if side == CONSTANTS.SIDE_SELL:
        return TradeType.SELL
    raise BybitWireError(f"unknown side {side!r}")


# --- Executions (docs: v5/order/execution, v5/websocket/private/execution) ---------------------


class BybitExecution(msgspec.Struct, frozen=True):
    execId: str
    orderId: str
    symbol: str
    side: str
    execType: str
    execTime: str
    orderLinkId: str = ""
    execPrice: str = ""
    execQty: str = ""
    execValue: str = ""
    execFee: str = ""
    feeCurrency: str = ""
    isMaker: bool = False
    category: str = ""


_executions_decoder: Final = msgspec.json.Decoder(Page[BybitExecution])


def decode_executions(data: bytes | str) -> Page[BybitExecution]:
    return decode_result(_executions_decoder, data, "executions")


def _fee(
    schema: TradeFeeSchema, ex: BybitExecution, fee_asset: str, action: PositionAction | None
) -> TradeFeeBase:
    """``execFee`` in ``feeCurrency`` (``fee_asset`` when the row has none: linear pays in the
    settle coin). A negative fee on a maker fill is a rebate: money received, which a TradeFeeBase
    cannot hold, so the fill carries no fee (as binance_perpetual books rebates); the rebate is
    exact in the wallet balance. A taker always pays: its fee is charged at its magnitude."""
    amount = decimal_or_none(ex.execFee, "execFee") or _ZERO
    flat: list[TokenAmount] = []
    if not (amount < 0 and ex.isMaker) and amount != 0:
        flat = [TokenAmount(ex.feeCurrency or fee_asset, abs(amount))]
    if action is None:
        return TradeFeeBase.new_spot_fee(schema, trade_type_of(ex.side), flat_fees=flat)
    return TradeFeeBase.new_perpetual_fee(schema, action, flat_fees=flat)


def trade_update(
    ex: BybitExecution,
    trading_pair: str,
    fee_schema: TradeFeeSchema,
    fee_asset: str,
    position_action: PositionAction | None = None,
) -> TradeUpdate | None:
    """The fill of an execution row (``execType`` Trade), else None (Funding, AdlTrade, ...).
    ``position_action`` is given for linear fills (the tracked order's), None on spot."""
    if ex.execType != CONSTANTS.EXEC_TYPE_TRADE:
        return None
    price = _decimal(ex.execPrice, "execPrice")
    qty = _decimal(ex.execQty, "execQty")
    if price <= 0 or qty <= 0:
        raise BybitWireError(f"execution {ex.execId}: non-positive price/qty {ex.execPrice}/{ex.execQty}")
    return TradeUpdate(
        trade_id=ex.execId,
        client_order_id=ex.orderLinkId or None,
        exchange_order_id=ex.orderId,
        trading_pair=trading_pair,
        fill_timestamp=_ms(ex.execTime, "execTime") / 1000.0,
        fill_price=price,
        fill_base_amount=qty,
        fill_quote_amount=decimal_or_none(ex.execValue, "execValue") or price * qty,
        fee=_fee(fee_schema, ex, fee_asset, position_action),
        is_taker=not ex.isMaker,
    )


# --- Wallet (docs: v5/account/wallet-balance, v5/websocket/private/wallet) ---------------------


class WalletCoin(msgspec.Struct, frozen=True):
    coin: str
    walletBalance: str = ""
    locked: str = ""
    totalOrderIM: str = ""
    totalPositionIM: str = ""


class WalletAccount(msgspec.Struct, frozen=True):
    accountType: str
    coin: list[WalletCoin] = []


_wallet_decoder: Final = msgspec.json.Decoder(Page[WalletAccount])


def decode_wallet(data: bytes | str) -> Page[WalletAccount]:
    return decode_result(_wallet_decoder, data, "wallet-balance")


@dataclass(frozen=True, slots=True)
class Balances:
    total: dict[str, Decimal]
    available: dict[str, Decimal]


def balances(accounts: list[WalletAccount]) -> Balances:
    """Total = ``walletBalance``; available = walletBalance minus what spot orders lock
    (``locked``) and what derivative orders and positions hold as initial margin
    (``totalOrderIM``, ``totalPositionIM``), never below 0: a unified account margins in USD
    across coins, so one coin's margin can exceed its own balance (the v5/websocket/private/wallet
    example: USDT walletBalance 106.03 under 8718.78 of IM). Empty fields count as 0."""
    total: dict[str, Decimal] = {}
    available: dict[str, Decimal] = {}
    for account in accounts:
        for row in account.coin:
            wallet = decimal_or_none(row.walletBalance, "walletBalance") or _ZERO
            held = sum(
                (decimal_or_none(v, f) or _ZERO for v, f in ((row.locked, "locked"),
                 (row.totalOrderIM, "totalOrderIM"), (row.totalPositionIM, "totalPositionIM"))),
                _ZERO,
            )
            total[row.coin] = wallet
            available[row.coin] = max(wallet - held, _ZERO)
    return Balances(total, available)


# --- Positions (docs: v5/position, v5/websocket/private/position) ------------------------------


class BybitPosition(msgspec.Struct, frozen=True):
    symbol: str
    side: str  # Buy, Sell, or "" for an empty one-way position
    size: str
    positionIdx: int = 0
    avgPrice: str = ""  # REST
    entryPrice: str = ""  # WebSocket
    leverage: str = ""
    unrealisedPnl: str = ""
    updatedTime: str = ""


_positions_decoder: Final = msgspec.json.Decoder(Page[BybitPosition])
_POSITION_SIDES: Final = {CONSTANTS.POSITION_IDX_ONE_WAY: PositionSide.BOTH,
                          CONSTANTS.POSITION_IDX_HEDGE_BUY: PositionSide.LONG,
                          CONSTANTS.POSITION_IDX_HEDGE_SELL: PositionSide.SHORT}


def decode_positions(data: bytes | str) -> Page[BybitPosition]:
    return decode_result(_positions_decoder, data, "positions")


def position(row: BybitPosition, trading_pair: str, default_leverage: Decimal) -> Position | None:
    """An open position (amount negative when short), or None for a zero-size row."""
    size = _decimal(row.size, "size")
    if size == 0:
        return None
    side = _POSITION_SIDES.get(row.positionIdx)
    if side is None:
        raise BybitWireError(f"unknown positionIdx {row.positionIdx}")
    sign = -1 if trade_type_of(row.side) is TradeType.SELL else 1
    entry = row.avgPrice or row.entryPrice
    return Position(
        trading_pair=trading_pair,
        position_side=side,
        unrealized_pnl=decimal_or_none(row.unrealisedPnl, "unrealisedPnl") or _ZERO,
        entry_price=_decimal(entry, "avgPrice"),
        amount=sign * size,
        leverage=decimal_or_none(row.leverage, "leverage") or default_leverage,
    )


# --- Funding payments (docs: v5/account/transaction-log, type SETTLEMENT) -----------------------


class TransactionLogRow(msgspec.Struct, frozen=True):
    id: str
    type: str
    transactionTime: str
    symbol: str = ""
    currency: str = ""
    funding: str = ""  # "Positive value means receiving funding fee"


_transaction_log_decoder: Final = msgspec.json.Decoder(Page[TransactionLogRow])


def decode_transaction_log(data: bytes | str) -> Page[TransactionLogRow]:
    return decode_result(_transaction_log_decoder, data, "transaction-log")


class FundingPayment(NamedTuple):
    """One funding settlement: ``amount`` signed (positive received). ``key`` identifies it: the
    docs' example gives a SETTLEMENT and a TRADE row the same ``id``, so the id alone is not."""

    trading_pair: str
    amount: Decimal
    asset: str
    timestamp: float
    key: str


def funding_payments(
    rows: list[TransactionLogRow], pairs_by_symbol: Mapping[str, str]
) -> list[FundingPayment]:
    """The SETTLEMENT rows of symbols we trade, oldest first."""
    payments = [
        FundingPayment(
            pairs_by_symbol[row.symbol], _decimal(row.funding, "funding"), row.currency,
            _ms(row.transactionTime, "transactionTime") / 1000.0,
            f"{row.id}:{row.type}:{row.transactionTime}",
        )
        for row in rows
        if row.type == "SETTLEMENT" and row.symbol in pairs_by_symbol and row.funding
    ]
    payments.sort(key=lambda p: p.timestamp)
    return payments


# --- Private socket pushes (docs: v5/websocket/private/{order,execution,wallet,position}) -------


class OrderEvent(NamedTuple):
    creation_ms: int
    orders: list[BybitOrder]


class ExecutionEvent(NamedTuple):
    creation_ms: int
    executions: list[BybitExecution]


class WalletEvent(NamedTuple):
    creation_ms: int
    accounts: list[WalletAccount]


class PositionEvent(NamedTuple):
    creation_ms: int
    positions: list[BybitPosition]


PrivateEvent = OrderEvent | ExecutionEvent | WalletEvent | PositionEvent
_PRIVATE: Final[dict[str, tuple[type[Any], msgspec.json.Decoder[Any]]]] = {
    CONSTANTS.PRIVATE_ORDER_TOPIC: (OrderEvent, msgspec.json.Decoder(list[BybitOrder])),
    CONSTANTS.PRIVATE_EXECUTION_TOPIC: (ExecutionEvent, msgspec.json.Decoder(list[BybitExecution])),
    CONSTANTS.PRIVATE_WALLET_TOPIC: (WalletEvent, msgspec.json.Decoder(list[WalletAccount])),
    CONSTANTS.PRIVATE_POSITION_TOPIC: (PositionEvent, msgspec.json.Decoder(list[BybitPosition])),
}


def parse_private_frame(raw: bytes | str) -> PrivateEvent | ControlAnswer:
    """One private-socket frame -> a typed event or an operation answer (auth, subscribe, pong).
    Category-scoped topics (``order.linear``) are the same event as ``order``."""
    frame = decode_frame(raw)
    if frame.topic is None:
        return control_answer(frame)
    entry = _PRIVATE.get(frame.topic.partition(".")[0])
    if entry is None:
        raise BybitWireError(f"unknown private topic {frame.topic!r}")
    if frame.creationTime is None:
        raise BybitWireError(f"{frame.topic}: no creationTime")
    event_type, decoder = entry
    try:
        rows = decoder.decode(frame.data)
    except msgspec.MsgspecError as exc:
        raise BybitWireError(f"{frame.topic}: {exc}") from None
    event: PrivateEvent = event_type(frame.creationTime, rows)
    return event


# --- Request builders (docs: v5/order/create-order, cancel-order; v5/position/leverage,
# position-mode) ---------------------------------------------------------------------------------


def json_body(params: Mapping[str, Any]) -> str:
    """The exact JSON text sent as a POST body (and signed): compact, keys in insertion order."""
    return msgspec.json.encode(params).decode("utf-8")


def _plain(value: Decimal) -> str:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"an order amount or price must be a positive finite Decimal, got {value}")
    return format(value, "f")


def order_create_params(
    *,
    category: str,
    symbol: str,
    trade_type: TradeType,
    order_type: OrderType,
    amount: Decimal,
    order_link_id: str,
    price: Decimal | None = None,
    time_in_force: str | None = None,
    reduce_only: bool = False,
    position_idx: int | None = None,
) -> dict[str, Any]:
    """Body of ``POST /v5/order/create``. LIMIT -> Limit/GTC, LIMIT_MAKER -> Limit/PostOnly,
    MARKET -> Market; a spot market order is sized in base (``marketUnit=baseCoin``; by default a
    spot market buy is sized in quote). ``reduceOnly``/``positionIdx`` exist only for linear."""
    if not is_valid_client_order_id(order_link_id):
        raise ValueError(f"orderLinkId {order_link_id!r} breaks Bybit's charset or 36-character limit")
    params: dict[str, Any] = {
        "category": category,
        "symbol": symbol,
        "side": CONSTANTS.SIDE_BUY if trade_type is TradeType.BUY else CONSTANTS.SIDE_SELL,
        "orderType": (
            CONSTANTS.ORDER_TYPE_MARKET if order_type is OrderType.MARKET else CONSTANTS.ORDER_TYPE_LIMIT
        ),
        "qty": _plain(amount),
        "orderLinkId": order_link_id,
    }
    if order_type is OrderType.MARKET:
        if category == CONSTANTS.CATEGORY_SPOT:
            params["marketUnit"] = CONSTANTS.MARKET_UNIT_BASE
    else:
        if price is None:
            raise ValueError("a limit order needs a price")
        params["price"] = _plain(price)
        params["timeInForce"] = "PostOnly" if order_type is OrderType.LIMIT_MAKER else time_in_force or "GTC"
    if time_in_force is not None and time_in_force not in CONSTANTS.TIME_IN_FORCES:
        raise ValueError(f"unknown timeInForce {time_in_force!r}")
    if category == CONSTANTS.CATEGORY_LINEAR:
        params["reduceOnly"] = reduce_only
        if position_idx is not None:
            if position_idx not in _POSITION_SIDES:
                raise ValueError(f"positionIdx must be 0, 1 or 2, got {position_idx}")
            params["positionIdx"] = position_idx
    elif reduce_only or position_idx is not None:
        raise ValueError("reduceOnly and positionIdx apply to linear orders only")
    return params


def order_by_link_id_params(category: str, symbol: str, order_link_id: str) -> dict[str, str]:
    """Body of ``POST /v5/order/cancel``, and the query of ``GET /v5/order/realtime`` and
    ``/v5/order/history`` and ``/v5/execution/list`` for one order."""
    return {"category": category, "symbol": symbol, "orderLinkId": order_link_id}


def set_leverage_params(symbol: str, leverage: Decimal) -> dict[str, str]:
    """Body of ``POST /v5/position/set-leverage``: the same leverage for both sides."""
    value = _plain(leverage)
    return {"category": CONSTANTS.CATEGORY_LINEAR, "symbol": symbol, "buyLeverage": value,
            "sellLeverage": value}


def switch_mode_params(symbol: str, hedge: bool) -> dict[str, Any]:
    """Body of ``POST /v5/position/switch-mode``: mode 0 merged single (one-way), 3 both sides."""
    return {"category": CONSTANTS.CATEGORY_LINEAR, "symbol": symbol, "mode": 3 if hedge else 0}

