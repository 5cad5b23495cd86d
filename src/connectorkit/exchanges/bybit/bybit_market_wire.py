"""Bybit v5 public WebSocket wire format (spot and linear share it): schemas + pure parsers.

No I/O and no state: bytes in, connectorkit objects out, so the data sources, the capture replay
and the tests all go through the same code. Each frame's envelope is decoded once by one msgspec
decoder (:class:`BybitFrame`); its ``data`` is kept as ``msgspec.Raw`` (not parsed) and decoded
once by the schema its topic names. Price levels stay the exchange's ``[price, size]`` strings.

Sources (Bybit v5 documentation):

- v5/ws/connect: subscribe/unsubscribe ``{"op", "args", "req_id"}`` and their answers
  ``{"success", "ret_msg", "conn_id", "req_id", "op"}``; heartbeat ``{"op": "ping"}`` answered by
  ``{"success": true, "ret_msg": "pong", "op": "ping"}`` (public) or ``{"op": "pong", "args":
  [ms]}`` (private); the private ``auth`` answer has the same shape with ``"op": "auth"``.
- v5/websocket/public/orderbook: ``orderbook.{depth}.{symbol}``, ``type`` snapshot/delta,
  ``data`` {s, b, a, u, seq}; size "0" deletes; ``u`` is a sequence and ``u == 1`` is a snapshot
  sent after a service restart ("please overwrite your local orderbook").
- v5/websocket/public/trade: ``publicTrade.{symbol}``, ``data`` is a list of {T, s, S (taker
  side), v, p, i (trade id), BT, seq}.
- v5/websocket/public/ticker: ``tickers.{symbol}``; linear sends a snapshot then deltas that carry
  only the fields that changed (markPrice, indexPrice, fundingRate, nextFundingTime ...); spot
  tickers are snapshots without funding fields.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import msgspec

from connectorkit.core.funding_info import FundingInfo, FundingInfoUpdate
from connectorkit.core.order_book import exact_decimal
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.bybit import bybit_constants as CONSTANTS

Level = tuple[str, str]


class BybitWireError(ValueError):
    """A frame that does not match the documented Bybit v5 schema."""


class BybitSubscriptionError(BybitWireError):
    """The server refused a subscribe/unsubscribe/auth request; ``topics`` names what was asked."""

    def __init__(self, topics: Sequence[str], ret_msg: str) -> None:
        asked = ", ".join(topics) or "the request"
        super().__init__(f"Bybit refused {asked}: {ret_msg or 'no reason given'}")
        self.topics = tuple(topics)
        self.ret_msg = ret_msg


class BybitFrame(msgspec.Struct, gc=False):
    """Any frame of a Bybit v5 socket: a topic push (``topic``/``type``/``ts``/``data``; private
    pushes add ``id``/``creationTime``) or an operation answer (``op``/``success``/``ret_msg``)."""

    topic: str | None = None
    type: str | None = None
    ts: int | None = None
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    cts: int | None = None
    creationTime: int | None = None
    op: str | None = None
    success: bool | None = None
    ret_msg: str | None = None
    conn_id: str | None = None
    req_id: str | None = None
    args: list[str] | None = None


class _BookData(msgspec.Struct, gc=False):
    s: str
    b: list[Level]
    a: list[Level]
    u: int
    seq: int | None = None


class _Trade(msgspec.Struct, gc=False):
    T: int
    s: str
    S: str
    v: str
    p: str
    i: str
    seq: int | None = None


class _Ticker(msgspec.Struct, gc=False):
    symbol: str
    markPrice: str | None = None
    indexPrice: str | None = None
    fundingRate: str | None = None
    nextFundingTime: str | None = None


class ControlKind(Enum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PONG = "pong"
    AUTH = "auth"


@dataclass(frozen=True, slots=True)
class ControlAnswer:
    """The server's answer to one of our operations."""

    kind: ControlKind
    success: bool
    ret_msg: str
    req_id: str | None
    conn_id: str | None

    def raise_if_refused(self, topics: Sequence[str] = ()) -> None:
        """A refused subscribe, unsubscribe or auth is an error naming what was asked."""
        if not self.success:
            raise BybitSubscriptionError(topics, self.ret_msg)


StreamItem = OrderBookMessage | list[OrderBookMessage] | FundingInfoUpdate | ControlAnswer

_frame_decoder: Final = msgspec.json.Decoder(BybitFrame)
_book_decoder: Final = msgspec.json.Decoder(_BookData)
_trades_decoder: Final = msgspec.json.Decoder(list[_Trade])
_ticker_decoder: Final = msgspec.json.Decoder(_Ticker)
_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")  # a non-negative plain decimal ("NaN", "-1", "1e5" fail)
_SIGNED_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_SNAPSHOT = OrderBookMessageType.SNAPSHOT
_DIFF = OrderBookMessageType.DIFF
_OPS: Final = {"subscribe": ControlKind.SUBSCRIBE, "unsubscribe": ControlKind.UNSUBSCRIBE,
               "ping": ControlKind.PONG, "pong": ControlKind.PONG, "auth": ControlKind.AUTH}
#: Topics served on the public sockets that this library does not use.
UNUSED_TOPIC_PREFIXES: Final = frozenset({"kline", "liquidation", "allLiquidation", "orderbook_rpi"})


def decode_frame(raw: bytes | str) -> BybitFrame:
    try:
        return _frame_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise BybitWireError(f"bad frame: {exc}") from None


def control_answer(frame: BybitFrame) -> ControlAnswer:
    kind = _OPS.get(frame.op or "")
    if kind is None:
        raise BybitWireError(f"unknown operation {frame.op!r}")
    # the private pong ({"op": "pong", "args": [ms]}) carries no success flag: it is one
    success = True if kind is ControlKind.PONG and frame.success is None else frame.success
    if success is None:
        raise BybitWireError(f"{frame.op} answer without success")
    return ControlAnswer(kind, success, frame.ret_msg or "", frame.req_id, frame.conn_id)


def parse_public_frame(
    raw: bytes | str, symbol_map: Mapping[str, str], received_at: float | None = None
) -> StreamItem | None:
    """One public-socket frame -> a book message, a list of trade messages, a funding update, an
    operation answer, or None (a topic this library does not use, a spot ticker).

    ``symbol_map`` maps symbols (``"BTCUSDT"``) to trading pairs. Bad JSON, a schema violation, a
    malformed price level, an unknown symbol or topic raise :class:`BybitWireError`.
    """
    frame = decode_frame(raw)
    topic = frame.topic
    if topic is None:
        return control_answer(frame)
    at = time.monotonic() if received_at is None else received_at
    kind, _, _ = topic.partition(".")
    try:
        if kind == "orderbook":
            return _book(frame, symbol_map, at)
        if kind == "publicTrade":
            return _trades(frame, symbol_map, at)
        if kind == "tickers":
            return _funding(frame, symbol_map)
    except msgspec.MsgspecError as exc:
        raise BybitWireError(f"{topic}: {exc}") from None
    if kind in UNUSED_TOPIC_PREFIXES:
        return None
    raise BybitWireError(f"unknown topic {topic!r}")


def _pair(symbol: str, symbol_map: Mapping[str, str]) -> str:
    pair = symbol_map.get(symbol)
    if pair is None:
        raise BybitWireError(f"unknown symbol {symbol!r}")
    return pair


def _check_levels(levels: list[Level], side: str, topic: str) -> None:
    match = _NUMBER.fullmatch
    for price, size in levels:
        if match(price) is None or match(size) is None:
            raise BybitWireError(f"{topic}: bad {side} level [{price!r}, {size!r}]")


def _book(frame: BybitFrame, symbol_map: Mapping[str, str], received_at: float) -> OrderBookMessage:
    """``u == 1`` is a snapshot whatever ``type`` says (the service restarted)."""
    book = _book_decoder.decode(frame.data)
    topic = frame.topic or ""
    if frame.ts is None:
        raise BybitWireError(f"{topic}: no ts")
    _check_levels(book.b, "bid", topic)
    _check_levels(book.a, "ask", topic)
    if frame.type == "snapshot" or book.u == 1:
        kind = _SNAPSHOT
    elif frame.type == "delta":
        kind = _DIFF
    else:
        raise BybitWireError(f"{topic}: unknown type {frame.type!r}")
    return OrderBookMessage(
        kind, None, frame.ts / 1000.0, _pair(book.s, symbol_map), book.u, None, None, book.b, book.a,
        received_at=received_at,
    )


def _trades(frame: BybitFrame, symbol_map: Mapping[str, str], received_at: float) -> list[OrderBookMessage]:
    """``S`` is the taker's side; ``update_id`` is the cross sequence ``seq`` (the trade time
    where a frame has none), ``trade_id`` Bybit's own id string."""
    messages = []
    for trade in _trades_decoder.decode(frame.data):
        if trade.S not in (CONSTANTS.SIDE_BUY, CONSTANTS.SIDE_SELL):
            raise BybitWireError(f"publicTrade: unknown side {trade.S!r}")
        if _NUMBER.fullmatch(trade.p) is None or _NUMBER.fullmatch(trade.v) is None:
            raise BybitWireError(f"publicTrade: bad price/size {trade.p!r}/{trade.v!r}")
        messages.append(OrderBookMessage(
            OrderBookMessageType.TRADE, None, trade.T / 1000.0,
            trading_pair=_pair(trade.s, symbol_map),
            update_id=trade.T if trade.seq is None else trade.seq,
            trade_id=trade.i, price=exact_decimal(trade.p), amount=exact_decimal(trade.v),
            is_buy=trade.S == CONSTANTS.SIDE_BUY, received_at=received_at,
        ))
    return messages


def decimal_or_none(value: str | None, field: str) -> Decimal | None:
    """A decimal-string field; absent (None, e.g. in a ticker delta) or empty ("" where a product
    has no such value) gives None; anything but a plain decimal is a :class:`BybitWireError`."""
    if not value:
        return None
    if _SIGNED_NUMBER.fullmatch(value) is None:
        raise BybitWireError(f"{field} is not a decimal: {value!r}")
    return Decimal(value)


def _funding(frame: BybitFrame, symbol_map: Mapping[str, str]) -> FundingInfoUpdate | None:
    """A linear ticker -> the funding fields it carries (a delta carries only changed ones);
    a spot ticker, which has no funding fields, -> None."""
    ticker = _ticker_decoder.decode(frame.data)
    next_ms = ticker.nextFundingTime
    if next_ms and not next_ms.isdigit():
        raise BybitWireError(f"tickers: nextFundingTime is not a timestamp: {next_ms!r}")
    update = FundingInfoUpdate(
        trading_pair=_pair(ticker.symbol, symbol_map),
        index_price=decimal_or_none(ticker.indexPrice, "indexPrice"),
        mark_price=decimal_or_none(ticker.markPrice, "markPrice"),
        next_funding_utc_timestamp=int(next_ms) // 1000 if next_ms else None,
        rate=decimal_or_none(ticker.fundingRate, "fundingRate"),
    )
    if (update.index_price, update.mark_price, update.next_funding_utc_timestamp, update.rate) == (None,) * 4:
        return None
    return update


def merge_funding(state: FundingInfo | None, update: FundingInfoUpdate) -> FundingInfo:
    """Apply a ticker snapshot or delta to the funding state of its pair. The first message of a
    subscription is a snapshot carrying every field; a delta before it cannot build a state."""
    if state is not None:
        return state.updated(update)
    index, mark, next_s, rate = (update.index_price, update.mark_price,
                                 update.next_funding_utc_timestamp, update.rate)
    if index is None or mark is None or next_s is None or rate is None:
        raise BybitWireError(f"tickers.{update.trading_pair}: a delta arrived before the snapshot")
    return FundingInfo(update.trading_pair, index, mark, next_s, rate)


class BookSequence(Enum):
    """How a book message relates to the previous one of its topic (v5 orderbook: ``u`` increases
    by one per message; ``u == 1`` after higher ids is a restart snapshot)."""

    NEXT = "next"
    SNAPSHOT = "snapshot"
    RESTART = "restart"
    GAP = "gap"


def classify_update(previous_u: int | None, message: OrderBookMessage) -> BookSequence:
    """``previous_u`` is the last applied ``u`` of this pair's book (None: no book yet)."""
    if message.type is _SNAPSHOT:
        restarted = message.update_id == 1 and previous_u is not None and previous_u > 1
        return BookSequence.RESTART if restarted else BookSequence.SNAPSHOT
    if previous_u is not None and message.update_id == previous_u + 1:
        return BookSequence.NEXT
    return BookSequence.GAP


# --- payload builders (v5/ws/connect) ----------------------------------------------------------


def orderbook_topic(depth: int, symbol: str) -> str:
    return CONSTANTS.ORDERBOOK_TOPIC.format(depth=depth, symbol=symbol)


def trade_topic(symbol: str) -> str:
    return CONSTANTS.TRADE_TOPIC.format(symbol=symbol)


def ticker_topic(symbol: str) -> str:
    return CONSTANTS.TICKER_TOPIC.format(symbol=symbol)


def _operation(op: str, topics: Iterable[str], req_id: str | None) -> dict[str, Any]:
    args = list(topics)
    if not args:
        raise ValueError(f"{op} needs at least one topic")
    payload: dict[str, Any] = {"op": op, "args": args}
    if req_id is not None:
        payload["req_id"] = req_id
    return payload


def subscribe_payloads(
    topics: Sequence[str], max_args: int | None = None, req_id_prefix: str | None = None
) -> list[dict[str, Any]]:
    """``subscribe`` requests for ``topics``, at most ``max_args`` topics each (spot: 10) and each
    args array under the documented 21,000 characters. ``req_id`` is ``<prefix><n>`` when a
    prefix is given, so an answer can be matched to the topics it acknowledges."""
    size = max_args or len(topics) or 1
    chunks: list[list[str]] = []
    for topic in topics:
        if not chunks or len(chunks[-1]) >= size or (
            len(msgspec.json.encode([*chunks[-1], topic])) > CONSTANTS.MAX_ARGS_CHARS
        ):
            chunks.append([])
        chunks[-1].append(topic)
    return [
        _operation("subscribe", chunk, None if req_id_prefix is None else f"{req_id_prefix}{n}")
        for n, chunk in enumerate(chunks)
    ]


def unsubscribe_payload(topics: Iterable[str], req_id: str | None = None) -> dict[str, Any]:
    return _operation("unsubscribe", topics, req_id)


def ping_payload(req_id: str | None = None) -> dict[str, Any]:
    return {"op": "ping"} if req_id is None else {"op": "ping", "req_id": req_id}
