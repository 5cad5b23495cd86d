"""OKX public WebSocket frames -> connectorkit messages: typed schemas and pure functions, no I/O.

Sources (OKX API v5 documentation, https://www.okx.com/docs-v5/en/):
- "Overview > WebSocket > Subscribe": the answer ``{"event":"subscribe","arg":{...},"connId"}``,
  a refusal ``{"event":"error","code":"60012","msg":"...","connId"}``; ``unsubscribe`` alike.
- "Public Data > WebSocket > Order book channel": ``{"arg":{"channel","instId"},"action":
  "snapshot"|"update","data":[{"asks","bids","ts","checksum","prevSeqId","seqId"}]}``; a level is
  ``[price, size, "0" (deprecated), number of orders]``, a size of ``"0"`` deletes the price.
  ``books5`` and ``bbo-tbt`` have no ``action``: every push is the whole top of the book.
- "Market Data > WebSocket > Trades channel": ``data: [{"instId","tradeId","px","sz","side","ts"}]``,
  ``side`` being the taker's.
- "Public Data > WebSocket > Funding rate channel" (``fundingRate``, ``fundingTime`` of the next
  settlement), "Mark price channel" (``markPx``) and "Index tickers channel" (``idxPx``).

Each frame is decoded once: the envelope by one msgspec decoder with ``data`` kept raw, then
``data`` by the decoder of its channel. Levels become ``(price, size)`` pairs of the exchange's
own strings (the book keeps strings for checksums); no Decimal is built per level.

Pushes recorded before OKX added ``seqId`` (2022 and earlier) carry none: their messages have
``update_id`` 0 and ``previous_update_id`` None, and the data source assigns a local id (the book
is then kept by its checksum alone).
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
from connectorkit.exchanges.okx import okx_constants as CONSTANTS
from connectorkit.net.errors import WebError

OkxLevel = tuple[str, str, str, str]


class OkxWireError(WebError, ValueError):
    """A frame that does not match the documented OKX schema."""


class OkxSubscriptionError(WebError):
    """OKX refused a subscribe/unsubscribe (``event: error``); names the code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"OKX refused the request: {self.code} {self.message}"


class OkxArg(msgspec.Struct, gc=False):
    channel: str
    instId: str | None = None


class OkxFrame(msgspec.Struct, gc=False):
    """Every public frame: a push (``arg`` + ``data``), or an ``event`` answer."""

    arg: OkxArg | None = None
    action: str | None = None
    data: msgspec.Raw = msgspec.Raw()
    """Kept undecoded until the channel is known; empty when absent."""
    event: str | None = None
    code: str | None = None
    msg: str | None = None


class OkxBook(msgspec.Struct, gc=False):
    asks: list[OkxLevel]
    bids: list[OkxLevel]
    ts: str
    checksum: int = 0
    prevSeqId: int | None = None
    seqId: int | None = None


class OkxTrade(msgspec.Struct, gc=False):
    instId: str
    tradeId: str
    px: str
    sz: str
    side: str
    ts: str


class OkxFunding(msgspec.Struct, gc=False):
    instId: str
    fundingRate: str = ""
    fundingTime: str = ""
    markPx: str = ""
    idxPx: str = ""


class SubscriptionAck(NamedTuple):
    """``subscribe`` / ``unsubscribe`` accepted for one channel (and instrument)."""

    event: str
    channel: str
    inst_id: str | None


PublicItem = OrderBookMessage | FundingInfoUpdate
ParsedFrame = list[PublicItem] | SubscriptionAck | None

_frame_decoder = msgspec.json.Decoder(OkxFrame)
_books_decoder = msgspec.json.Decoder(list[OkxBook])
_trades_decoder = msgspec.json.Decoder(list[OkxTrade])
_funding_decoder = msgspec.json.Decoder(list[OkxFunding])
_SNAPSHOT = OrderBookMessageType.SNAPSHOT
_DIFF = OrderBookMessageType.DIFF
_TRADE = OrderBookMessageType.TRADE
_FUNDING_CHANNELS = frozenset(
    {CONSTANTS.CHANNEL_FUNDING_RATE, CONSTANTS.CHANNEL_MARK_PRICE, CONSTANTS.CHANNEL_INDEX_TICKERS}
)


def parse_public_frame(
    raw: bytes | str, pair_of: Mapping[str, str], received_at: float | None = None
) -> ParsedFrame:
    """One public frame -> book/trade messages or funding updates, an ack, or None.

    ``pair_of`` maps OKX instrument ids (``BTC-USDT-SWAP``) to trading pairs (``BTC-USDT``).
    The text ``pong`` and pushes of channels this library does not read give None. A refusal
    raises :class:`OkxSubscriptionError`; anything off-schema raises :class:`OkxWireError`.
    """
    if raw == CONSTANTS.PONG or raw == b"pong":
        return None
    try:
        frame = _frame_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise OkxWireError(f"bad OKX frame: {exc}") from None
    if frame.event is not None:
        if frame.event == "error":
            raise OkxSubscriptionError(frame.code or "", frame.msg or "")
        if frame.arg is None:
            return None  # e.g. a "notice" without an arg: the caller logs by event kind
        return SubscriptionAck(frame.event, frame.arg.channel, frame.arg.instId)
    arg, data = frame.arg, frame.data
    if arg is None or not data:
        raise OkxWireError("OKX push without arg/data")
    received = time.monotonic() if received_at is None else received_at
    channel = arg.channel
    if channel in CONSTANTS.BOOK_CHANNEL_DEPTH:
        return _books(arg, frame.action, data, pair_of, received)
    if channel == CONSTANTS.CHANNEL_TRADES:
        return _trades(data, pair_of, received)
    if channel in _FUNDING_CHANNELS:
        return _funding(data, pair_of)
    return None


def _pair(inst_id: str | None, pair_of: Mapping[str, str]) -> str:
    pair = pair_of.get(inst_id) if inst_id is not None else None
    if pair is None:
        raise OkxWireError(f"unknown OKX instrument {inst_id!r}")
    return pair


def _books(
    arg: OkxArg, action: str | None, data: msgspec.Raw, pair_of: Mapping[str, str], received: float
) -> list[PublicItem]:
    try:
        books = _books_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise OkxWireError(f"bad OKX {arg.channel} push: {exc}") from None
    if action is None:
        if arg.channel not in CONSTANTS.SNAPSHOT_ONLY_BOOK_CHANNELS:
            raise OkxWireError(f"OKX {arg.channel} push without action")
        kind = _SNAPSHOT
    elif action == "snapshot":
        kind = _SNAPSHOT
    elif action == "update":
        kind = _DIFF
    else:
        raise OkxWireError(f"unknown OKX book action {action!r}")
    pair = _pair(arg.instId, pair_of)
    messages: list[PublicItem] = []
    for book in books:
        try:
            event_s = int(book.ts) / 1000.0
        except ValueError:
            raise OkxWireError(f"OKX book ts {book.ts!r} is not milliseconds") from None
        messages.append(
            OrderBookMessage(
                kind,
                None,
                event_s,
                pair,
                0 if book.seqId is None else book.seqId,
                None,
                book.prevSeqId,
                [(level[0], level[1]) for level in book.bids],
                [(level[0], level[1]) for level in book.asks],
                checksum=book.checksum or None,  # 0: no checksum (deprecated field)
                received_at=received,
            )
        )
    return messages


def _trades(data: msgspec.Raw, pair_of: Mapping[str, str], received: float) -> list[PublicItem]:
    try:
        trades = _trades_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise OkxWireError(f"bad OKX trades push: {exc}") from None
    messages: list[PublicItem] = []
    for trade in trades:
        if trade.side not in ("buy", "sell"):
            raise OkxWireError(f"OKX trade side {trade.side!r}")
        try:
            price, amount = exact_decimal(trade.px), exact_decimal(trade.sz)
            event_s = int(trade.ts) / 1000.0
            trade_id = int(trade.tradeId)
        except (ArithmeticError, ValueError):
            raise OkxWireError(f"OKX trade with bad numbers: {trade!r}") from None
        if not (price.is_finite() and price > 0 and amount.is_finite() and amount > 0):
            raise OkxWireError(f"OKX trade with a non-positive price or size: {trade!r}")
        messages.append(
            OrderBookMessage(
                _TRADE, None, event_s, _pair(trade.instId, pair_of), trade_id,
                trade_id=trade_id, price=price, amount=amount, is_buy=trade.side == "buy",
                received_at=received,
            )
        )
    return messages


def _number(text: str, what: str, positive: bool) -> Decimal | None:
    """An optional decimal field: None when empty; a non-finite (or, for a price, non-positive)
    value is off-schema."""
    if not text:
        return None
    value = exact_decimal(text)
    if not value.is_finite() or (positive and value <= 0):
        raise OkxWireError(f"OKX {what} {text!r} is not a finite{' positive' if positive else ''} number")
    return value


def _funding(data: msgspec.Raw, pair_of: Mapping[str, str]) -> list[PublicItem]:
    """``funding-rate`` / ``mark-price`` / ``index-tickers`` -> partial FundingInfoUpdates."""
    try:
        rows = _funding_decoder.decode(data)
        return [
            FundingInfoUpdate(
                trading_pair=_pair(row.instId, pair_of),
                index_price=_number(row.idxPx, "index price", positive=True),
                mark_price=_number(row.markPx, "mark price", positive=True),
                next_funding_utc_timestamp=int(row.fundingTime) // 1000 if row.fundingTime else None,
                rate=_number(row.fundingRate, "funding rate", positive=False),
            )
            for row in rows
        ]
    except msgspec.MsgspecError as exc:
        raise OkxWireError(f"bad OKX funding push: {exc}") from None
    except (ArithmeticError, ValueError):
        raise OkxWireError("OKX funding push with a non-numeric field") from None


def subscribe_payload(op: str, channel: str, inst_ids: list[str]) -> bytes:
    """``{"op": "subscribe"|"unsubscribe", "args": [{"channel", "instId"}, ...]}``."""
    if op not in ("subscribe", "unsubscribe"):
        raise ValueError(f"unknown OKX operation {op!r}")
    return msgspec.json.encode({"op": op, "args": [{"channel": channel, "instId": i} for i in inst_ids]})
