"""Binance market-data wire format (spot and futures share it): typed schemas + pure decoders.

Every function here takes the raw bytes (or str) of one REST answer or one WebSocket frame and
returns connectorkit objects; there is no I/O and no state, so the spot and futures data sources,
the capture replay and the benchmark all go through exactly the same code. A combined-stream
frame of a known event type is decoded once, by msgspec, straight into its strict typed Struct
(the payload's ``"e"`` tag selects it); other frames fall back to one lenient schema. Price levels
stay the exchange's ``[price, amount]`` strings (decoded as tuples that the order book stores as
they are; no Decimal per level).

Sources (Binance API documentation):

- REST depth snapshot: spot ``GET /api/v3/depth`` ("Order book", Spot REST API market data
  endpoints) -> ``{"lastUpdateId", "bids", "asks"}``; futures ``GET /fapi/v1/depth`` and
  ``GET /dapi/v1/depth`` ("Order Book") add ``E``, ``T`` (and ``symbol``, ``pair`` on COIN-M).
- Combined streams wrap each payload as ``{"stream": "<name>", "data": <payload>}``
  (spot "Web Socket Streams", General WSS information); raw streams send the payload alone.
- Spot "Diff. Depth Stream" (``<symbol>@depth[@100ms]``): ``e="depthUpdate"``, ``E``, ``s``,
  ``U`` (first update id in event), ``u`` (final update id), ``b``/``a`` (absolute quantities).
- Futures "Diff. Book Depth Streams" (USD-M and COIN-M): the same plus ``T`` (transaction time)
  and ``pu`` (final update id of the previous event), see
  https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Diff-Book-Depth-Streams
- Sequencing rules: spot "How to manage a local order book correctly"
  (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams) and futures
  https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
  -- implemented by ``ContinuityRule`` in ``connector/order_book_tracker_data_source.py``.
- "Aggregate Trade Streams" (``aggTrade``: ``a`` id, ``p``, ``q``, ``T``, ``m`` buyer is maker)
  and "Trade Streams" (``trade``: ``t`` id, same other fields).
- "Individual Symbol Book Ticker Streams" (``bookTicker``: ``u``, ``s``, ``b``, ``B``, ``a``,
  ``A``; futures add ``e``, ``E``, ``T``).
- Futures "Mark Price Stream" (``markPriceUpdate``: ``p`` mark, ``i`` index, ``r`` funding rate
  ("" on delivery contracts), ``T`` next funding time (0 on delivery contracts)), see
  https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Mark-Price-Stream
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

import msgspec

from connectorkit.core.funding_info import FundingInfoUpdate
from connectorkit.core.order_book import exact_decimal
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType

Level = tuple[str, str]


class BinanceWireError(ValueError):
    """A frame or REST answer that does not match the documented Binance schema."""


class BinanceDepthSnapshot(msgspec.Struct, gc=False):
    """REST ``depth`` answer (spot and futures)."""

    lastUpdateId: int
    bids: list[Level]
    asks: list[Level]
    E: int | None = None
    T: int | None = None


# ---- the strict schemas: one per event type, selected by the payload's "e" tag ------------------
class DepthUpdateEvent(msgspec.Struct, tag_field="e", tag="depthUpdate", gc=False):
    E: int
    s: str
    U: int
    u: int
    b: list[Level]
    a: list[Level]
    T: int | None = None
    pu: int | None = None


class AggTradeEvent(msgspec.Struct, tag_field="e", tag="aggTrade", gc=False):
    E: int
    s: str
    a: int
    p: str
    q: str
    T: int
    m: bool


class TradeEvent(msgspec.Struct, tag_field="e", tag="trade", gc=False):
    E: int
    s: str
    t: int
    p: str
    q: str
    T: int
    m: bool


class BookTickerEvent(msgspec.Struct, tag_field="e", tag="bookTicker", gc=False):
    """Futures bookTicker (spot's carries no ``e``; it takes the general path)."""

    u: int
    s: str
    b: str
    B: str
    a: str
    A: str


class MarkPriceEvent(msgspec.Struct, tag_field="e", tag="markPriceUpdate", gc=False):
    E: int
    s: str
    p: str
    i: str = ""
    r: str = ""
    T: int = 0


TaggedEvent = DepthUpdateEvent | AggTradeEvent | TradeEvent | BookTickerEvent | MarkPriceEvent


class CombinedFrame(msgspec.Struct, gc=False):
    stream: str
    data: TaggedEvent


# ---- the general schema: any payload, for everything the strict ones do not take ----------------
class BinanceEvent(msgspec.Struct, gc=False):
    """Every market stream payload this module understands, as one lenient schema.

    Binance reuses short keys with different types across streams (``a`` is the ask levels of a
    depth update, the aggregate trade id of an aggTrade and the best ask price of a bookTicker),
    so the overlapping fields are unions. Unknown keys (kline payloads, ``ps`` ...) are skipped.
    """

    e: str | None = None
    E: int | None = None
    T: int | None = None
    s: str | None = None
    U: int | None = None
    u: int | None = None
    pu: int | None = None
    b: list[Level] | str | None = None
    a: list[Level] | int | str | None = None
    B: str | None = None
    A: str | None = None
    t: int | None = None
    p: str | None = None
    q: str | None = None
    m: bool | None = None
    i: str | None = None
    r: str | None = None


class BinanceFrame(BinanceEvent, gc=False):
    """A WebSocket frame: combined (``stream`` + ``data``) or a raw payload (fields inline)."""

    stream: str | None = None
    data: BinanceEvent | None = None
    result: None = None
    id: int | None = None


class BookTicker(NamedTuple):
    """Best bid/ask of one symbol with the book update id it reflects (exact values)."""

    trading_pair: str
    update_id: int
    bid_price: Decimal
    bid_amount: Decimal
    ask_price: Decimal
    ask_amount: Decimal


StreamItem = OrderBookMessage | FundingInfoUpdate | BookTicker

_snapshot_decoder = msgspec.json.Decoder(BinanceDepthSnapshot)
_combined_decoder = msgspec.json.Decoder(CombinedFrame)
_frame_decoder = msgspec.json.Decoder(BinanceFrame)
_monotonic = time.monotonic
_DIFF = OrderBookMessageType.DIFF
_TRADE = OrderBookMessageType.TRADE


def decode_depth_snapshot(
    raw: bytes | str, trading_pair: str, received_at: float | None = None
) -> OrderBookMessage:
    """REST depth snapshot -> SNAPSHOT message with ``update_id = lastUpdateId``.

    ``timestamp`` is the futures ``E`` (event time) when present, else 0.0 (spot sends none).
    """
    try:
        snap = _snapshot_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise BinanceWireError(f"bad depth snapshot for {trading_pair}: {exc}") from None
    return OrderBookMessage(
        OrderBookMessageType.SNAPSHOT,
        None,
        0.0 if snap.E is None else snap.E / 1000.0,
        trading_pair=trading_pair,
        update_id=snap.lastUpdateId,
        bids=snap.bids,
        asks=snap.asks,
        received_at=time.monotonic() if received_at is None else received_at,
    )


def parse_stream_frame(
    raw: bytes | str, symbol_map: Mapping[str, str], received_at: float | None = None
) -> StreamItem | None:
    """One WebSocket frame -> a DIFF/TRADE message, a FundingInfoUpdate, a BookTicker, or None.

    ``symbol_map`` maps exchange symbols (``"BTCUSDT"``) to trading pairs (``"BTC-USDT"``).
    Streams this library does not use (kline, ...) and subscription acks give None. A frame that
    is not valid JSON, breaks the schema, or names an unknown symbol raises BinanceWireError.

    A combined-stream frame of a known event type is decoded once, straight into its strict
    schema (the "e" tag picks it). Anything else (raw payloads, spot bookTicker, acks, other
    streams, and frames the strict schema rejects, so that the error can name the problem) goes
    through the general schema.
    """
    try:
        event = _combined_decoder.decode(raw).data
    except msgspec.MsgspecError:
        return _parse_general(raw, symbol_map, received_at)
    if event.__class__ is DepthUpdateEvent:  # the hot path
        depth = event
        pair = symbol_map.get(depth.s)
        if pair is None:
            raise BinanceWireError(f"unknown symbol {depth.s!r}")
        if received_at is None:  # the field's default factory stamps the receipt time, in C
            return OrderBookMessage(
                _DIFF, None, depth.E / 1000.0, pair, depth.u, depth.U, depth.pu, depth.b, depth.a
            )
        return OrderBookMessage(
            _DIFF, None, depth.E / 1000.0, pair, depth.u, depth.U, depth.pu, depth.b, depth.a,
            received_at=received_at,
        )
    if isinstance(event, AggTradeEvent | TradeEvent):
        trade_id = event.a if isinstance(event, AggTradeEvent) else event.t
        return _trade(event.s, trade_id, event.p, event.q, event.m, event.T, symbol_map, received_at)
    if isinstance(event, BookTickerEvent):
        return _ticker(event.s, event.u, event.b, event.B, event.a, event.A, symbol_map)
    assert isinstance(event, MarkPriceEvent)
    return _funding(event.s, event.p, event.i, event.r, event.T, symbol_map)


def _parse_general(
    raw: bytes | str, symbol_map: Mapping[str, str], received_at: float | None
) -> StreamItem | None:
    try:
        frame = _frame_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise BinanceWireError(f"bad stream frame: {exc}") from None
    event = frame.data
    if event is None:
        if frame.stream is None and frame.e is None and frame.u is None:
            return None  # {"result": null, "id": 1}: the answer to a SUBSCRIBE request
        event = frame
    return event_to_item(event, symbol_map, received_at)


def event_to_item(
    event: BinanceEvent, symbol_map: Mapping[str, str], received_at: float | None = None
) -> StreamItem | None:
    """Map a payload decoded with the general schema to a connectorkit object (or None)."""
    kind = event.e
    if kind == "depthUpdate":
        return depth_update_to_message(event, symbol_map, received_at)
    if kind == "aggTrade" or kind == "trade":
        return trade_to_message(event, symbol_map, received_at)
    if kind == "markPriceUpdate":
        return mark_price_to_funding_update(event, symbol_map)
    if kind == "bookTicker" or (kind is None and isinstance(event.b, str) and event.u is not None):
        return book_ticker(event, symbol_map)
    return None


def _pair(symbol: str | None, kind: str | None, symbol_map: Mapping[str, str]) -> str:
    if symbol is None:
        raise BinanceWireError(f"{kind or 'event'} without symbol")
    pair = symbol_map.get(symbol)
    if pair is None:
        raise BinanceWireError(f"unknown symbol {symbol!r}")
    return pair


def depth_update_to_message(
    event: BinanceEvent, symbol_map: Mapping[str, str], received_at: float | None = None
) -> OrderBookMessage:
    """``depthUpdate`` payload -> DIFF message.

    ``update_id`` is ``u``, ``first_update_id`` is ``U``, ``previous_update_id`` is ``pu`` (futures
    only; None on spot).
    """
    bids = event.b
    asks = event.a
    if event.u is None or event.U is None or event.E is None or not isinstance(bids, list) or not (
        isinstance(asks, list)
    ):
        raise BinanceWireError("depthUpdate without U/u/E/b/a")
    return OrderBookMessage(
        _DIFF,
        None,
        event.E / 1000.0,
        _pair(event.s, event.e, symbol_map),
        event.u,
        event.U,
        event.pu,
        bids,
        asks,
        received_at=_monotonic() if received_at is None else received_at,
    )


def trade_to_message(
    event: BinanceEvent, symbol_map: Mapping[str, str], received_at: float | None = None
) -> OrderBookMessage:
    """``aggTrade`` / ``trade`` payload -> TRADE message; ``is_buy`` is the taker side (not ``m``)."""
    trade_id = event.a if event.e == "aggTrade" else event.t
    if not isinstance(trade_id, int) or isinstance(trade_id, bool):
        raise BinanceWireError(f"{event.e} without an integer trade id")
    if event.p is None or event.q is None or event.m is None or event.T is None:
        raise BinanceWireError(f"{event.e} without p/q/m/T")
    return _trade(event.s, trade_id, event.p, event.q, event.m, event.T, symbol_map, received_at)


def _trade(
    symbol: str | None,
    trade_id: int,
    price_text: str,
    amount_text: str,
    buyer_is_maker: bool,
    trade_time: int,
    symbol_map: Mapping[str, str],
    received_at: float | None,
) -> OrderBookMessage:
    try:
        price = exact_decimal(price_text)
        amount = exact_decimal(amount_text)
    except ArithmeticError:
        raise BinanceWireError(f"trade with bad price/quantity {price_text!r}/{amount_text!r}") from None
    return OrderBookMessage(
        _TRADE,
        None,
        trade_time / 1000.0,
        trading_pair=_pair(symbol, "trade", symbol_map),
        update_id=trade_id,
        trade_id=trade_id,
        price=price,
        amount=amount,
        is_buy=not buyer_is_maker,
        received_at=_monotonic() if received_at is None else received_at,
    )


def book_ticker(event: BinanceEvent, symbol_map: Mapping[str, str]) -> BookTicker:
    """``bookTicker`` payload -> BookTicker (exact prices)."""
    if (
        event.u is None
        or not isinstance(event.b, str)
        or not isinstance(event.a, str)
        or event.B is None
        or event.A is None
    ):
        raise BinanceWireError("bookTicker without u/b/B/a/A")
    return _ticker(event.s, event.u, event.b, event.B, event.a, event.A, symbol_map)


def _ticker(
    symbol: str | None, update_id: int, bid: str, bid_qty: str, ask: str, ask_qty: str,
    symbol_map: Mapping[str, str],
) -> BookTicker:
    pair = _pair(symbol, "bookTicker", symbol_map)
    try:
        return BookTicker(
            pair, update_id, exact_decimal(bid), exact_decimal(bid_qty), exact_decimal(ask),
            exact_decimal(ask_qty),
        )
    except ArithmeticError:
        raise BinanceWireError("bookTicker with a non-numeric price or quantity") from None


def mark_price_to_funding_update(
    event: BinanceEvent, symbol_map: Mapping[str, str]
) -> FundingInfoUpdate:
    """``markPriceUpdate`` payload -> FundingInfoUpdate."""
    return _funding(event.s, event.p, event.i, event.r, event.T, symbol_map)


def _funding(
    symbol: str | None,
    mark: str | None,
    index: str | None,
    rate: str | None,
    next_funding_ms: int | None,
    symbol_map: Mapping[str, str],
) -> FundingInfoUpdate:
    """Delivery contracts carry ``r == ""`` and ``T == 0``: no funding, so rate and next funding
    time are None. ``T`` is in milliseconds; the update carries whole seconds."""
    pair = _pair(symbol, "markPriceUpdate", symbol_map)
    try:
        return FundingInfoUpdate(
            trading_pair=pair,
            index_price=exact_decimal(index) if index else None,
            mark_price=exact_decimal(mark) if mark else None,
            next_funding_utc_timestamp=next_funding_ms // 1000 if next_funding_ms else None,
            rate=exact_decimal(rate) if rate else None,
        )
    except ArithmeticError:
        raise BinanceWireError("markPriceUpdate with a non-numeric field") from None
