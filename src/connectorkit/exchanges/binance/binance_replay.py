"""Binance's replay adapter: how ``connectorkit replay`` reads a Binance capture.

Binance (Spot, USD-M and COIN-M alike) names each stream ``<symbol>@<kind>``; a connection lists
its streams in its URL, ``/stream?streams=a/b`` (combined: each frame is
``{"stream": ..., "data": {...}}``) or ``/ws/a/b`` ("WebSocket Streams > General WSS
information"), and adds or removes streams with ``{"method": "SUBSCRIBE", "params": [...],
"id": N}``, answered ``{"result": null, "id": N}`` ("Live Subscribing/Unsubscribing to
streams"). Book snapshots are ``GET .../depth?symbol=`` (``/api/v3``, ``/fapi/v1``, ``/dapi/v1``);
book diffs are ``depthUpdate`` events with ``U``/``u``; ``bookTicker`` frames carry the best bid
and ask as of book update ``u`` ("Individual Symbol Book Ticker Streams"), which the connectors
do not subscribe to: the replay's independent check of the rebuilt top of book.

Trades: Binance has two public trade streams, ``trade`` and ``aggTrade``, and a connector
subscribes to one (Spot: ``trade``, futures: ``aggTrade``). When a recording holds only the other
one for a symbol (the public spot capture records ``aggTrade``), its frames are delivered on the
connector's trade stream (:meth:`BinanceReplayAdapter.stream_substitutes`); both carry price,
quantity, time and the maker side, and the market wire decodes both into the same TRADE message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from connectorkit.connector.capture_reader import CaptureRecord
from connectorkit.connector.replay_adapter import (
    BookUpdateSpan,
    FrameRole,
    RecordedFrame,
    ReplayAdapter,
    SubscriptionChange,
    TopOfBook,
)

logger = logging.getLogger(__name__)

TRADE_STREAM_KINDS = ("trade", "aggTrade")
DEPTH_ENDPOINT = "depth"
EXCHANGE_INFO_ENDPOINT = "exchangeInfo"


class _StreamName(msgspec.Struct):
    stream: str | None = None


class _Answer(msgspec.Struct):
    """``{"result": ..., "id": N}``: the answer to a live request (a raw payload has no ``id``)."""

    id: int | str | None = None


class _DepthIds(msgspec.Struct):
    s: str
    U: int
    u: int


class _DepthFrame(msgspec.Struct):
    data: _DepthIds


class _BookTicker(msgspec.Struct):
    """``bookTicker`` payload: best bid/ask as of book update ``u``."""

    u: int
    s: str
    b: Decimal
    a: Decimal


class _TickerFrame(msgspec.Struct):
    data: _BookTicker


class _LiveRequest(msgspec.Struct):
    method: str
    params: list[str] = []
    id: int | str | None = None


class _InfoSymbol(msgspec.Struct):
    symbol: str
    baseAsset: str
    quoteAsset: str
    contractType: str | None = None


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_InfoSymbol]


_stream_decoder = msgspec.json.Decoder(_StreamName)
_answer_decoder = msgspec.json.Decoder(_Answer)
_depth_decoder = msgspec.json.Decoder(_DepthFrame)
_ticker_decoder = msgspec.json.Decoder(_TickerFrame)
_request_decoder = msgspec.json.Decoder(_LiveRequest)
_info_decoder = msgspec.json.Decoder(_ExchangeInfo)
_encoder = msgspec.json.Encoder()


def stream_of(frame: str) -> str | None:
    """The stream name of a combined-stream frame (None for raw frames and answers)."""
    try:
        return _stream_decoder.decode(frame).stream
    except msgspec.DecodeError:
        return None


def endpoint_of(url: str) -> str:
    """Last path segment of a REST URL (``depth``, ``exchangeInfo``...)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


class BinanceReplayAdapter(ReplayAdapter):
    """Binance Spot captures (and every Binance product sharing its stream protocol)."""

    TOP_OF_BOOK_NAME: ClassVar[str] = "bookTicker"

    def subscriptions_of_url(self, url: str) -> set[str]:
        parts = urlsplit(url)
        combined = parse_qs(parts.query).get("streams")
        if combined:
            return set(combined[0].split("/"))
        path = parts.path
        return set(path.split("/ws/", 1)[1].split("/")) if "/ws/" in path else set()

    def subscription_change(self, frame: str) -> SubscriptionChange | None:
        request = self._live_request(frame)
        if request is None:
            return None
        streams = frozenset(request.params)
        if request.method == "SUBSCRIBE":
            return SubscriptionChange(added=streams)
        if request.method == "UNSUBSCRIBE":
            return SubscriptionChange(removed=streams)
        return None

    def acknowledgement(self, frame: str) -> str | None:
        request = self._live_request(frame)
        if request is None or request.method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return None
        return _encoder.encode({"result": None, "id": request.id}).decode()

    @staticmethod
    def _live_request(frame: str) -> _LiveRequest | None:
        try:
            return _request_decoder.decode(frame)
        except msgspec.DecodeError:
            return None

    def describe_frame(self, frame: str) -> RecordedFrame:
        stream = stream_of(frame)
        if stream is None:
            return RecordedFrame(None, FrameRole.ANSWER if self._is_answer(frame) else FrameRole.OTHER)
        symbol = stream.partition("@")[0].upper()
        kind = self.stream_kind(stream)
        try:
            if kind.startswith("depth"):
                ids = _depth_decoder.decode(frame).data
                return RecordedFrame(stream, FrameRole.BOOK, ids.s, book_update=BookUpdateSpan(ids.U, ids.u))
            if kind == "bookTicker":
                ticker = _ticker_decoder.decode(frame).data
                return RecordedFrame(stream, FrameRole.TOP_OF_BOOK, ticker.s,
                                     top_of_book=TopOfBook(ticker.u, ticker.b, ticker.a))
        except msgspec.DecodeError:
            return RecordedFrame(stream, FrameRole.OTHER, symbol)
        role = FrameRole.TRADE if kind in TRADE_STREAM_KINDS else FrameRole.OTHER
        return RecordedFrame(stream, role, symbol)

    @staticmethod
    def _is_answer(frame: str) -> bool:
        try:
            return _answer_decoder.decode(frame).id is not None
        except msgspec.DecodeError:
            return False

    def snapshot_symbol(self, url: str, params: Mapping[str, object]) -> str | None:
        symbol = params.get("symbol")
        if endpoint_of(url) != DEPTH_ENDPOINT or not isinstance(symbol, str):
            return None
        return symbol

    def pairs_from_instruments(
        self, records: Sequence[CaptureRecord], symbols: Sequence[str]
    ) -> dict[str, str]:
        """From the recorded exchangeInfo, ``BASE-QUOTE``; a delivery contract keeps its date
        (``BTC-USD_211231``) so that COIN-M perpetual and quarterly books stay apart; a symbol the
        recording does not describe is its own pair."""
        info: dict[str, _InfoSymbol] = {}
        for record in records:
            if record.kind == "http" and record.data is not None and record.url is not None \
                    and endpoint_of(record.url) == EXCHANGE_INFO_ENDPOINT:
                try:
                    info = {s.symbol: s for s in _info_decoder.decode(record.data).symbols}
                except msgspec.DecodeError as exc:
                    logger.warning("recorded exchangeInfo not understood (%s); using symbols as pairs", exc)
                break
        pairs = {}
        for symbol in symbols:
            entry = info.get(symbol)
            if entry is None:
                pairs[symbol] = symbol
                continue
            pair = f"{entry.baseAsset}-{entry.quoteAsset}"
            if entry.contractType not in (None, "PERPETUAL") and "_" in symbol:
                pair = f"{pair}_{symbol.split('_', 1)[1]}"  # a delivery contract: keep its date
            pairs[symbol] = pair
        return pairs

    def stream_substitutes(self, recorded_streams: Iterable[str]) -> dict[str, str]:
        """Recorded trade stream -> the other trade stream of the same symbol, when the recording
        has only one of the two for that symbol (so a connector subscribed to the other one still
        sees the trades, and never sees a trade twice)."""
        recorded = set(recorded_streams)
        substitutes: dict[str, str] = {}
        for stream in recorded:
            symbol, _, kind = stream.partition("@")
            if kind in TRADE_STREAM_KINDS:
                other = f"{symbol}@{TRADE_STREAM_KINDS[1 - TRADE_STREAM_KINDS.index(kind)]}"
                if other not in recorded:
                    substitutes[stream] = other
        return substitutes

    def stream_kind(self, stream: str) -> str:
        """``btcusdt@depth@100ms`` -> ``depth@100ms``."""
        return stream.split("@", 1)[1] if "@" in stream else stream
