"""Binance USDⓈ-M Futures wire formats: typed schemas and pure parse functions (no I/O).

Each schema mirrors a documented payload of the USDⓈ-M Futures docs (section named on the class).
Exchange information reuses the spot schema (same ``symbols[].filters`` layout, plus
``contractType``/``marginAsset``). Conversions produce connectorkit domain types: ``TradingRule``,
``OrderUpdate``/``TradeUpdate`` (fees from the commission fields ``N``/``n``), ``Position``,
``FundingInfo`` and funding payments. REST answers are decoded into these schemas by the REST
assistant (``typed_request``); the mark price stream, like every market stream, is parsed by
``binance_market_wire.parse_stream_frame``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

from connectorkit.core.enums import OrderState, PositionAction, PositionSide
from connectorkit.core.funding_info import FundingInfo
from connectorkit.core.in_flight_order import OrderUpdate, TradeUpdate
from connectorkit.core.position import Position
from connectorkit.core.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from connectorkit.exchanges.binance import binance_trading_wire as spot_wire
from connectorkit.exchanges.binance.binance_trading_wire import (
    ExchangeInfo,
    SymbolInfo,
    SymbolRules,
    UnknownUserEventError,
    WireFormatError,
)
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS

__all__ = [
    "ExchangeInfo",
    "SymbolInfo",
    "SymbolRules",
    "UnknownUserEventError",
    "WireFormatError",
]

_ZERO: Final = Decimal(0)


# ---------------------------------------------------------------------------------------------
# Exchange information (docs: "Market Data Endpoints > Exchange Information")
# ---------------------------------------------------------------------------------------------


def is_perpetual_symbol_tradable(info: SymbolInfo) -> bool:
    return info.status == "TRADING" and info.contractType == "PERPETUAL"


def perpetual_symbol_rules(info: SymbolInfo) -> SymbolRules:
    """Rules from PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and MIN_NOTIONAL (``notional``); both
    sides of a perpetual order lock the margin asset."""
    rules = spot_wire.symbol_rules(info)
    margin = info.marginAsset or info.quoteAsset
    rule = dataclasses.replace(
        rules.rule, buy_order_collateral_token=margin, sell_order_collateral_token=margin
    )
    return dataclasses.replace(rules, rule=rule)


# ---------------------------------------------------------------------------------------------
# Orders (docs: "Trade > New Order", "Query Order", "Cancel Order")
# ---------------------------------------------------------------------------------------------


class FuturesOrder(msgspec.Struct, frozen=True, rename="camel"):
    symbol: str
    order_id: int
    client_order_id: str
    status: str
    side: str
    type: str
    orig_qty: Decimal
    executed_qty: Decimal = _ZERO
    price: Decimal = _ZERO
    avg_price: Decimal = _ZERO
    cum_quote: Decimal = _ZERO
    reduce_only: bool = False
    position_side: str = "BOTH"
    time_in_force: str = "GTC"
    update_time: int = 0
    time: int | None = None


def order_state(status: str) -> OrderState:
    return spot_wire.order_state(status, CONSTANTS.ORDER_STATE)


def order_update_from_order(order: FuturesOrder, trading_pair: str, fallback_timestamp: float) -> OrderUpdate:
    ts = order.update_time or order.time
    return OrderUpdate(
        trading_pair=trading_pair,
        update_timestamp=ts / 1000.0 if ts else fallback_timestamp,
        new_state=order_state(order.status),
        client_order_id=order.client_order_id,
        exchange_order_id=str(order.order_id),
        misc_updates=spot_wire.misc_updates(order.status),
    )


def position_action_of(side: str, position_side: str, reduce_only: bool) -> PositionAction:
    """Whether a fill opens or closes exposure.

    Hedge mode says it through ``positionSide`` (BUY on LONG opens, SELL on LONG closes, and the
    reverse on SHORT); one-way mode (``BOTH``) through ``reduceOnly``.
    """
    if position_side == "LONG":
        return PositionAction.OPEN if side == CONSTANTS.SIDE_BUY else PositionAction.CLOSE
    if position_side == "SHORT":
        return PositionAction.OPEN if side == CONSTANTS.SIDE_SELL else PositionAction.CLOSE
    return PositionAction.CLOSE if reduce_only else PositionAction.OPEN


def _fee(
    schema: TradeFeeSchema, action: PositionAction, asset: str | None, amount: Decimal, *, is_maker: bool
) -> TradeFeeBase:
    """The fee of one fill from its commission (``n`` of ORDER_TRADE_UPDATE, ``commission`` of
    "Trade > Account Trade List").

    The USD-M docs give the commission no sign convention: ORDER_TRADE_UPDATE's example has
    ``"n": "0"`` and the Account Trade List example shows a *taker* fill (``"maker": false``)
    charged ``"-0.07819010"``, while real answers (and the sandbox) give charges as positive
    numbers. A taker fill always pays, so a taker's commission is charged at its magnitude. A
    negative commission on a *maker* fill is a rebate (negative maker fee tiers): money received.
    Limitation: a TradeFeeBase cannot hold a negative fee (every core fee amount is >= 0), so such
    a fill is recorded with no fee at all -- never as a charge, never with the sign flipped. The
    rebate itself is exact in the wallet balance (ACCOUNT_UPDATE ``wb``, REST balance) and in the
    income history (a COMMISSION row with positive income).
    """
    if amount < 0 and is_maker:
        return TradeFeeBase.new_perpetual_fee(schema, action)
    amount = abs(amount)
    flat = [TokenAmount(asset, amount)] if asset and amount > 0 else []
    return TradeFeeBase.new_perpetual_fee(schema, action, flat_fees=flat)


# ---------------------------------------------------------------------------------------------
# Account trades (docs: "Trade > Account Trade List": GET /fapi/v1/userTrades)
# ---------------------------------------------------------------------------------------------


class UserTrade(msgspec.Struct, frozen=True, rename="camel"):
    symbol: str
    id: int
    order_id: int
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    maker: bool = False
    buyer: bool = False
    realized_pnl: Decimal = _ZERO
    position_side: str = "BOTH"


def trade_update_from_user_trade(
    trade: UserTrade,
    trading_pair: str,
    fee_schema: TradeFeeSchema,
    position_action: PositionAction,
    client_order_id: str | None = None,
) -> TradeUpdate:
    """``position_action`` is the tracked order's (userTrades rows do not say ``reduceOnly``)."""
    return TradeUpdate(
        trade_id=str(trade.id),
        client_order_id=client_order_id,
        exchange_order_id=str(trade.order_id),
        trading_pair=trading_pair,
        fill_timestamp=trade.time / 1000.0,
        fill_price=trade.price,
        fill_base_amount=trade.qty,
        fill_quote_amount=trade.quote_qty,
        fee=_fee(fee_schema, position_action, trade.commission_asset, trade.commission, is_maker=trade.maker),
        is_taker=not trade.maker,
    )


# ---------------------------------------------------------------------------------------------
# Balances and positions (docs: "Account > Futures Account Balance V2", "Trade > Position
# Information V2")
# ---------------------------------------------------------------------------------------------


class FuturesBalance(msgspec.Struct, frozen=True, rename="camel"):
    asset: str
    balance: Decimal  # wallet balance
    available_balance: Decimal
    cross_wallet_balance: Decimal = _ZERO
    cross_un_pnl: Decimal = _ZERO


def balances_from_rows(rows: list[FuturesBalance]) -> spot_wire.BalanceSnapshot:
    """Total = wallet balance, available = what new orders may use (``availableBalance``)."""
    return spot_wire.BalanceSnapshot(
        total={row.asset: row.balance for row in rows},
        available={row.asset: row.available_balance for row in rows},
    )


class PositionRisk(msgspec.Struct, frozen=True):
    symbol: str
    positionAmt: Decimal
    entryPrice: Decimal
    unRealizedProfit: Decimal
    positionSide: str = "BOTH"
    leverage: Decimal | None = None  # V2 has it, V3 does not
    markPrice: Decimal | None = None
    updateTime: int = 0


def position_side_of(value: str) -> PositionSide:
    try:
        return PositionSide[value]
    except KeyError:
        raise WireFormatError(f"unknown position side {value!r}") from None


def position_from_risk(row: PositionRisk, trading_pair: str, default_leverage: Decimal) -> Position | None:
    """An open position, or ``None`` for the zero rows Binance lists for every symbol."""
    if row.positionAmt == 0:
        return None
    return Position(
        trading_pair=trading_pair,
        position_side=position_side_of(row.positionSide),
        unrealized_pnl=row.unRealizedProfit,
        entry_price=row.entryPrice,
        amount=row.positionAmt,
        leverage=row.leverage if row.leverage is not None else default_leverage,
    )


# ---------------------------------------------------------------------------------------------
# Leverage and position mode (docs: "Trade > Change Initial Leverage", "Get Current Position Mode")
# ---------------------------------------------------------------------------------------------


class LeverageAnswer(msgspec.Struct, frozen=True):
    symbol: str
    leverage: int
    maxNotionalValue: str | None = None


class PositionModeAnswer(msgspec.Struct, frozen=True):
    dualSidePosition: bool


# ---------------------------------------------------------------------------------------------
# Funding (docs: "Market Data > Mark Price" (premiumIndex), "Account > Get Income History")
# ---------------------------------------------------------------------------------------------


def _optional_decimal(value: str, field: str) -> Decimal | None:
    if value == "":
        return None
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise WireFormatError(f"{field}: not a decimal: {value!r}") from None
    if not result.is_finite():
        raise WireFormatError(f"{field}: not finite: {value!r}")
    return result


class PremiumIndex(msgspec.Struct, frozen=True, rename="camel"):
    symbol: str
    mark_price: Decimal
    index_price: Decimal
    last_funding_rate: str  # "" for delivery contracts
    next_funding_time: int
    time: int = 0


def funding_info_from_premium_index(index: PremiumIndex, trading_pair: str) -> FundingInfo:
    rate = _optional_decimal(index.last_funding_rate, "lastFundingRate")
    if rate is None:
        raise WireFormatError(f"{index.symbol}: no funding rate (not a perpetual contract)")
    return FundingInfo(
        trading_pair=trading_pair,
        index_price=index.index_price,
        mark_price=index.mark_price,
        next_funding_utc_timestamp=index.next_funding_time // 1000,
        rate=rate,
    )


class IncomeRecord(msgspec.Struct, frozen=True, rename="camel"):
    symbol: str
    income_type: str
    income: Decimal
    asset: str
    time: int
    tran_id: int | str = 0
    info: str = ""


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One FUNDING_FEE income row: ``amount`` is signed (negative = paid)."""

    trading_pair: str
    amount: Decimal
    asset: str
    timestamp: float
    transaction_id: str


def funding_payments(
    records: list[IncomeRecord], pairs_by_symbol: Mapping[str, str]
) -> list[FundingPayment]:
    """The FUNDING_FEE rows of symbols we trade, oldest first."""
    payments = [
        FundingPayment(
            trading_pair=pairs_by_symbol[rec.symbol],
            amount=rec.income,
            asset=rec.asset,
            timestamp=rec.time / 1000.0,
            transaction_id=str(rec.tran_id),
        )
        for rec in records
        if rec.income_type == CONSTANTS.INCOME_TYPE_FUNDING_FEE and rec.symbol in pairs_by_symbol
    ]
    payments.sort(key=lambda p: p.timestamp)
    return payments


# ---------------------------------------------------------------------------------------------
# User data events (docs: "User Data Streams > Event: Order Update", "Event: Balance and Position
# Update", "Event: User Data Stream Expired", "Event: Account Configuration Update")
# ---------------------------------------------------------------------------------------------


class OrderTradeData(msgspec.Struct, frozen=True):
    symbol: str = msgspec.field(name="s")
    client_order_id: str = msgspec.field(name="c")
    side: str = msgspec.field(name="S")
    order_type: str = msgspec.field(name="o")
    quantity: Decimal = msgspec.field(name="q")
    price: Decimal = msgspec.field(name="p")
    execution_type: str = msgspec.field(name="x")
    order_status: str = msgspec.field(name="X")
    order_id: int = msgspec.field(name="i")
    last_qty: Decimal = msgspec.field(name="l", default=_ZERO)
    cumulative_qty: Decimal = msgspec.field(name="z", default=_ZERO)
    last_price: Decimal = msgspec.field(name="L", default=_ZERO)
    commission_asset: str | None = msgspec.field(name="N", default=None)
    commission: Decimal = msgspec.field(name="n", default=_ZERO)
    trade_time: int = msgspec.field(name="T", default=0)
    trade_id: int = msgspec.field(name="t", default=0)
    is_maker: bool = msgspec.field(name="m", default=False)
    reduce_only: bool = msgspec.field(name="R", default=False)
    position_side: str = msgspec.field(name="ps", default="BOTH")
    realized_profit: Decimal = msgspec.field(name="rp", default=_ZERO)


class OrderTradeUpdate(msgspec.Struct, frozen=True, tag_field="e", tag="ORDER_TRADE_UPDATE"):
    event_time: int = msgspec.field(name="E")
    transaction_time: int = msgspec.field(name="T")
    order: OrderTradeData = msgspec.field(name="o")


class BalanceEntry(msgspec.Struct, frozen=True):
    asset: str = msgspec.field(name="a")
    wallet_balance: Decimal = msgspec.field(name="wb")
    cross_wallet_balance: Decimal = msgspec.field(name="cw", default=_ZERO)
    balance_change: Decimal = msgspec.field(name="bc", default=_ZERO)


class PositionEntry(msgspec.Struct, frozen=True):
    symbol: str = msgspec.field(name="s")
    amount: Decimal = msgspec.field(name="pa")
    entry_price: Decimal = msgspec.field(name="ep")
    unrealized_pnl: Decimal = msgspec.field(name="up")
    position_side: str = msgspec.field(name="ps", default="BOTH")
    accumulated_realized: Decimal = msgspec.field(name="cr", default=_ZERO)


class AccountUpdateData(msgspec.Struct, frozen=True):
    reason: str = msgspec.field(name="m")
    balances: list[BalanceEntry] = msgspec.field(name="B", default_factory=list)
    positions: list[PositionEntry] = msgspec.field(name="P", default_factory=list)


class AccountUpdate(msgspec.Struct, frozen=True, tag_field="e", tag="ACCOUNT_UPDATE"):
    event_time: int = msgspec.field(name="E")
    transaction_time: int = msgspec.field(name="T")
    account: AccountUpdateData = msgspec.field(name="a")


class ListenKeyExpired(msgspec.Struct, frozen=True, tag_field="e", tag="listenKeyExpired"):
    event_time: int | str = msgspec.field(name="E")
    listen_key: str = msgspec.field(name="listenKey", default="")


class LeverageConfig(msgspec.Struct, frozen=True):
    symbol: str = msgspec.field(name="s")
    leverage: int = msgspec.field(name="l")


class AccountConfigUpdate(msgspec.Struct, frozen=True, tag_field="e", tag="ACCOUNT_CONFIG_UPDATE"):
    event_time: int = msgspec.field(name="E")
    leverage_config: LeverageConfig | None = msgspec.field(name="ac", default=None)


FuturesUserEvent = OrderTradeUpdate | AccountUpdate | ListenKeyExpired | AccountConfigUpdate

_user_event_decoder: Final[msgspec.json.Decoder[FuturesUserEvent]] = msgspec.json.Decoder(FuturesUserEvent)


_FUTURES_EVENT_TYPES: Final = frozenset(
    {"ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "listenKeyExpired", "ACCOUNT_CONFIG_UPDATE"}
)


def decode_user_event(data: bytes | str) -> FuturesUserEvent:
    """One user-data event; unused types (``TRADE_LITE``, ``MARGIN_CALL``...) raise
    :class:`UnknownUserEventError`, malformed events :class:`WireFormatError`."""
    return spot_wire.decode_tagged_event(_user_event_decoder, data, _FUTURES_EVENT_TYPES, "user event")


def order_update_from_event(event: OrderTradeUpdate, trading_pair: str) -> OrderUpdate:
    data = event.order
    return OrderUpdate(
        trading_pair=trading_pair,
        update_timestamp=(data.trade_time or event.transaction_time or event.event_time) / 1000.0,
        new_state=order_state(data.order_status),
        client_order_id=data.client_order_id,
        exchange_order_id=str(data.order_id),
        misc_updates=spot_wire.misc_updates(data.order_status),
    )


def trade_update_from_event(
    event: OrderTradeUpdate, trading_pair: str, fee_schema: TradeFeeSchema
) -> TradeUpdate | None:
    """The fill of an ORDER_TRADE_UPDATE with execution type TRADE, else ``None``."""
    data = event.order
    if data.execution_type != "TRADE" or data.last_qty <= 0:
        return None
    action = position_action_of(data.side, data.position_side, data.reduce_only)
    return TradeUpdate(
        trade_id=str(data.trade_id),
        client_order_id=data.client_order_id,
        exchange_order_id=str(data.order_id),
        trading_pair=trading_pair,
        fill_timestamp=(data.trade_time or event.transaction_time) / 1000.0,
        fill_price=data.last_price,
        fill_base_amount=data.last_qty,
        fill_quote_amount=data.last_price * data.last_qty,
        fee=_fee(fee_schema, action, data.commission_asset, data.commission, is_maker=data.is_maker),
        is_taker=not data.is_maker,
    )


def position_from_entry(entry: PositionEntry, trading_pair: str, leverage: Decimal) -> Position:
    """A position as ACCOUNT_UPDATE reports it (amount 0 means closed; the caller removes it)."""
    return Position(
        trading_pair=trading_pair,
        position_side=position_side_of(entry.position_side),
        unrealized_pnl=entry.unrealized_pnl,
        entry_price=entry.entry_price,
        amount=entry.amount,
        leverage=leverage,
    )
