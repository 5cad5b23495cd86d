"""Binance market-data wire format (spot and futures share it): typed schemas + pure decoders.

Every function here takes the raw bytes (or str) of one REST answer or one WebSocket frame and
returns connectorkit objects; there is no I/O and no state, so the spot and futures data sources,
the capture replay and the benchmark all go through exactly the same code. Every WebSocket frame
is decoded once, by one msgspec decoder (:class:`BinanceFrame`). Price levels stay the exchange's
``[price, amount]`` strings (decoded as tuples that the order book stores as they are; no Decimal
per level).

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
from connectorkit.net.errors import ExchangePayloadError

Level = tuple[str, str]


class BinanceWireError(ExchangePayloadError):
    """A frame or REST answer that does not match the documented Binance schema."""


class BinanceDepthSnapshot(msgspec.Struct, gc=False):
    """REST ``depth`` answer (spot and futures)."""

    lastUpdateId: int
    bids: list[Level]
    asks: list[Level]
    E: int | None = None
    T: int | None = None


class BinanceEvent(msgspec.Struct, gc=False):
    """Every market stream payload this module understands, as one schema with optional fields.

    One schema, so that every frame is decoded exactly once, whatever it carries: a tagged union
    on ``"e"`` cannot take spot's bookTicker (it has no ``"e"``) nor the streams this library
    does not use (kline ...), and trying a strict schema first would decode those frames twice.
    msgspec still checks every type it decodes; which fields an event requires is checked by
    the function that maps that event (a missing one is a :class:`BinanceWireError`).

    Binance reuses short keys with different types across streams (``a`` is the ask levels of a
    depth update, the aggregate trade id of an aggTrade and the best ask price of a bookTicker),
    so the overlapping fields are unions. Unknown keys (kline payloads, ``ps`` ...) are skipped.
    Fields are declared in the depth update's key order, which msgspec matches fastest.
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
    Every frame is decoded once, by one msgspec decoder (see :class:`BinanceEvent`).
    """
    try:
        frame = _frame_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise BinanceWireError(f"bad stream frame: {exc}") from None
    event = frame.data
    if event is None:
        if frame.stream is None and frame.e is None and frame.u is None:
            return None  # {"result": null, "id": 1}: the answer to a SUBSCRIBE request
        event = frame  # a raw stream's payload, fields inline
    if event.e == "depthUpdate":  # the hot path, depth_update_to_message inlined
        bids = event.b
        asks = event.a
        update_id = event.u
        first = event.U
        event_ms = event.E
        if (
            update_id is None or first is None or event_ms is None
            or bids.__class__ is not list or asks.__class__ is not list
        ):
            raise BinanceWireError("depthUpdate without U/u/E/b/a")
        pair = symbol_map.get(event.s)  # type: ignore[arg-type]
        if pair is None:
            raise BinanceWireError(f"unknown symbol {event.s!r}")
        if received_at is None:  # the field's default factory stamps the receipt time, in C
            return OrderBookMessage(
                _DIFF, None, event_ms / 1000.0, pair, update_id, first, event.pu, bids, asks
            )
        return OrderBookMessage(
            _DIFF, None, event_ms / 1000.0, pair, update_id, first, event.pu, bids, asks,
            received_at=received_at,
        )
    return _event_to_item(event, symbol_map, received_at)


def _event_to_item(
    event: BinanceEvent, symbol_map: Mapping[str, str], received_at: float | None
) -> StreamItem | None:
    """A non-depth payload -> a connectorkit object, or None for streams this library ignores."""
    kind = event.e
    if kind == "aggTrade" or kind == "trade":
        return _trade(event, symbol_map, received_at)
    if kind == "markPriceUpdate":
        return _funding(event, symbol_map)
    if kind == "bookTicker" or (kind is None and isinstance(event.b, str) and event.u is not None):
        return _book_ticker(event, symbol_map)  # spot's bookTicker payload has no "e"
    return None


def _finite(text: str) -> Decimal:
    """:func:`exact_decimal` of a price, quantity or rate that must be a number: ``"NaN"`` and
    ``"Infinity"`` (which ``Decimal`` accepts) raise ``ArithmeticError`` like any non-number."""
    value = exact_decimal(text)
    if not value.is_finite():
        raise ArithmeticError(f"not a finite number: {text!r}")
    return value


def _pair(symbol: str | None, kind: str, symbol_map: Mapping[str, str]) -> str:
    if symbol is None:
        raise BinanceWireError(f"{kind} without symbol")
    pair = symbol_map.get(symbol)
    if pair is None:
        raise BinanceWireError(f"unknown symbol {symbol!r}")
    return pair


def _trade(
    event: BinanceEvent, symbol_map: Mapping[str, str], received_at: float | None
) -> OrderBookMessage:
    """``aggTrade`` (id ``a``) / ``trade`` (id ``t``) -> TRADE message; ``is_buy`` is the taker
    side: ``m`` (buyer is maker) true means the seller took."""
    trade_id = event.a if event.e == "aggTrade" else event.t
    if not isinstance(trade_id, int) or isinstance(trade_id, bool):
        raise BinanceWireError(f"{event.e} without an integer trade id")
    if event.p is None or event.q is None or event.m is None or event.T is None:
        raise BinanceWireError(f"{event.e} without p/q/m/T")
    try:
        price = _finite(event.p)
        amount = _finite(event.q)
    except ArithmeticError:
        raise BinanceWireError(f"trade with bad price/quantity {event.p!r}/{event.q!r}") from None
    return OrderBookMessage(
        _TRADE,
        None,
        event.T / 1000.0,
        trading_pair=_pair(event.s, "trade", symbol_map),
        update_id=trade_id,
        trade_id=trade_id,
        price=price,
        amount=amount,
        is_buy=not event.m,
        received_at=_monotonic() if received_at is None else received_at,
    )


def _book_ticker(event: BinanceEvent, symbol_map: Mapping[str, str]) -> BookTicker:
    """``bookTicker`` payload -> BookTicker (exact prices)."""
    bid, ask = event.b, event.a
    if (
        event.u is None
        or not isinstance(bid, str)
        or not isinstance(ask, str)
        or event.B is None
        or event.A is None
    ):
        raise BinanceWireError("bookTicker without u/b/B/a/A")
    pair = _pair(event.s, "bookTicker", symbol_map)
    try:
        return BookTicker(
            pair, event.u, _finite(bid), _finite(event.B), _finite(ask), _finite(event.A),
        )
    except ArithmeticError:
        raise BinanceWireError("bookTicker with a non-numeric price or quantity") from None


def _funding(event: BinanceEvent, symbol_map: Mapping[str, str]) -> FundingInfoUpdate:
    """``markPriceUpdate`` -> FundingInfoUpdate. Delivery contracts carry ``r == ""`` and
    ``T == 0``: no funding, so rate and next funding time are None. ``T`` is in milliseconds;
    the update carries whole seconds."""
    pair = _pair(event.s, "markPriceUpdate", symbol_map)
    mark, index, rate, next_funding_ms = event.p, event.i, event.r, event.T
    try:
        return FundingInfoUpdate(
            trading_pair=pair,
            index_price=_finite(index) if index else None,
            mark_price=_finite(mark) if mark else None,
            next_funding_utc_timestamp=next_funding_ms // 1000 if next_funding_ms else None,
            rate=_finite(rate) if rate else None,
        )
    except ArithmeticError:
        raise BinanceWireError("markPriceUpdate with a non-numeric field") from None
