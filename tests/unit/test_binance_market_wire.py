"""Binance market-data decoders against the documentation's own examples (tests/fixtures/binance_market)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from connectorkit.core.funding_info import FundingInfoUpdate
from connectorkit.core.order_book import OrderBook
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.binance import binance_market_wire as wire
from connectorkit.net.errors import ExchangePayloadError, WebError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "binance_market"
SYMBOLS = {
    "BNBBTC": "BNB-BTC",
    "BNBUSDT": "BNB-USDT",
    "BTCUSDT": "BTC-USDT",
    "BTCUSD_201225": "BTC-USD-201225",
}


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def combined(stream: str, name: str) -> bytes:
    """The same payload as a combined-stream frame, as Binance wraps it."""
    payload = json.loads(raw(name))
    return json.dumps({"stream": stream, "data": payload}).encode()


def test_spot_rest_depth_snapshot() -> None:
    message = wire.decode_depth_snapshot(raw("spot__market_data_endpoints__order_book__response"), "BNB-BTC")
    assert message.type is OrderBookMessageType.SNAPSHOT
    assert message.trading_pair == "BNB-BTC"
    assert message.update_id == 1027024
    assert list(message.bids) == [("4.00000000", "431.00000000")]
    assert list(message.asks) == [("4.00000200", "12.00000000")]
    assert message.timestamp == 0.0  # spot snapshots carry no event time


def test_futures_rest_depth_snapshot_carries_event_time() -> None:
    message = wire.decode_depth_snapshot(raw("usdm__market_data__order_book__response"), "BTC-USDT")
    assert message.update_id == 1027024
    assert message.timestamp == pytest.approx(1589436922.972)


@pytest.mark.parametrize("frame", ["raw", "combined"])
def test_spot_diff_depth_stream(frame: str) -> None:
    name = "spot__web_socket_streams__diff_depth_stream"
    data = raw(name) if frame == "raw" else combined("bnbbtc@depth@100ms", name)
    message = wire.parse_stream_frame(data, SYMBOLS, received_at=12.5)
    assert isinstance(message, OrderBookMessage)
    assert message.type is OrderBookMessageType.DIFF
    assert message.trading_pair == "BNB-BTC"
    assert (message.first_update_id, message.update_id, message.previous_update_id) == (157, 160, None)
    assert list(message.bids) == [("0.0024", "10")]
    assert list(message.asks) == [("0.0026", "100")]
    assert message.timestamp == pytest.approx(1672515782.136)
    assert message.received_at == 12.5


def test_futures_diff_book_depth_stream_keeps_pu() -> None:
    data = combined("btcusdt@depth@100ms", "usdm__websocket_market_streams__diff_book_depth_streams")
    message = wire.parse_stream_frame(data, SYMBOLS)
    assert isinstance(message, OrderBookMessage)
    assert (message.first_update_id, message.update_id, message.previous_update_id) == (157, 160, 149)
    assert message.received_at > 0  # stamped on receipt when the caller gives no time


def test_decoded_levels_feed_the_book_unchanged() -> None:
    book = OrderBook()
    snapshot = wire.decode_depth_snapshot(raw("spot__market_data_endpoints__order_book__response"), "BNB-BTC")
    book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.update_id)
    assert book.best_bid == Decimal("4") and str(book.best_bid) == "4"
    assert str(book.best_ask) == "4.000002"
    assert book.raw_levels(True) == [("4.00000000", "431.00000000")]  # the exchange's strings


@pytest.mark.parametrize(
    "name", ["spot__web_socket_streams__aggregate_trade_streams", "spot__web_socket_streams__trade_streams"]
)
def test_trades(name: str) -> None:
    message = wire.parse_stream_frame(combined("bnbbtc@trade", name), SYMBOLS)
    assert isinstance(message, OrderBookMessage)
    assert message.type is OrderBookMessageType.TRADE
    assert message.trade_id == 12345 and message.update_id == 12345  # "a" (aggTrade) or "t" (trade)
    assert message.price == Decimal("0.001") and message.amount == Decimal("100")
    assert message.is_buy is False  # "m": true -> the buyer made, the seller took
    assert message.timestamp == pytest.approx(1672515782.136)


@pytest.mark.parametrize(
    "name",
    [
        "spot__web_socket_streams__individual_symbol_book_ticker_streams",
        "usdm__websocket_market_streams__individual_symbol_book_ticker_streams",
    ],
)
def test_book_ticker(name: str) -> None:
    ticker = wire.parse_stream_frame(combined("bnbusdt@bookTicker", name), SYMBOLS)
    assert ticker == wire.BookTicker(
        "BNB-USDT", 400900217, Decimal("25.3519"), Decimal("31.21"), Decimal("25.3652"), Decimal("40.66")
    )
    assert isinstance(ticker, wire.BookTicker) and str(ticker.bid_price) == "25.3519"


def test_mark_price_perpetual() -> None:
    update = wire.parse_stream_frame(raw("usdm__websocket_market_streams__mark_price_stream"), SYMBOLS)
    assert update == FundingInfoUpdate(
        "BTC-USDT",
        index_price=Decimal("11784.62659091"),
        mark_price=Decimal("11794.15"),
        next_funding_utc_timestamp=1562306400,
        rate=Decimal("0.00038167"),
    )


def test_mark_price_delivery_contract_has_no_funding() -> None:
    update = wire.parse_stream_frame(raw("coinm__websocket_market_streams__mark_price_stream"), SYMBOLS)
    assert isinstance(update, FundingInfoUpdate)
    assert update.trading_pair == "BTC-USD-201225"
    assert update.rate is None and update.next_funding_utc_timestamp is None
    assert update.mark_price == Decimal("10934.62615417")


def test_subscription_ack_and_unused_streams_give_none() -> None:
    assert wire.parse_stream_frame(b'{"result":null,"id":1}', SYMBOLS) is None
    assert wire.parse_stream_frame(KLINE, SYMBOLS) is None


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b'{"stream":"x","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":"a","u":2,"b":[],"a":[]}}',
        b'{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1"]],"a":[]}',  # level of 1 item
        b'{"e":"depthUpdate","E":1,"s":"BNBBTC","u":2,"b":[],"a":[]}',  # no U
        b'{"stream":"x","data":{"e":"depthUpdate","s":"BNBBTC","U":1,"u":2,"b":[],"a":[]}}',  # no E
        b'{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":"1","a":[]}',  # b not levels
        b'{"e":"depthUpdate","E":1,"U":1,"u":2,"b":[],"a":[]}',  # no symbol
        b'{"e":"depthUpdate","E":1,"s":"NOPE","U":1,"u":2,"b":[],"a":[]}',  # unknown symbol
        b'{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"x","q":"1","T":1,"m":true}',  # bad price
        b'{"e":"aggTrade","E":1,"s":"BNBBTC","p":"1","q":"1","T":1,"m":true}',  # no trade id
        b'{"u":5,"s":"BNBUSDT","b":"1","B":"1","a":"2"}',  # bookTicker without A
        # Decimal reads "NaN"/"Infinity": a price, quantity or rate must still be a finite number.
        b'{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"NaN","q":"1","T":1,"m":true}',
        b'{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"Infinity","T":1,"m":true}',
        b'{"u":5,"s":"BNBUSDT","b":"1","B":"1","a":"-Infinity","A":"1"}',
        b'{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1","i":"1","r":"NaN","T":1}',
        b'{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"Infinity","i":"1","r":"0.0001","T":1}',
    ],
)
def test_malformed_frames_raise_a_typed_error(frame: bytes) -> None:
    with pytest.raises(wire.BinanceWireError):
        wire.parse_stream_frame(frame, SYMBOLS)


@pytest.mark.parametrize(
    "body",
    [
        b'{"lastUpdateId":1,"bids":[["1","2","3"]],"asks":[]}',
        b'{"bids":[],"asks":[]}',
        b'{"lastUpdateId":"1","bids":[],"asks":[]}',
        b"<html>502</html>",
    ],
)
def test_malformed_snapshot_raises_a_web_error(body: bytes) -> None:
    """Issue 17.16: in the web layer's typed family (and still a ValueError, as it was)."""
    with pytest.raises(WebError) as caught:
        wire.decode_depth_snapshot(body, "BNB-BTC")
    assert isinstance(caught.value, wire.BinanceWireError) and isinstance(caught.value, ExchangePayloadError)
    assert isinstance(caught.value, ValueError)
    assert "BNB-BTC" in str(caught.value)


ALL_STREAM_FIXTURES = [
    "spot__web_socket_streams__diff_depth_stream",
    "usdm__websocket_market_streams__diff_book_depth_streams",
    "spot__web_socket_streams__aggregate_trade_streams",
    "spot__web_socket_streams__trade_streams",
    "spot__web_socket_streams__individual_symbol_book_ticker_streams",
    "usdm__websocket_market_streams__individual_symbol_book_ticker_streams",
    "usdm__websocket_market_streams__mark_price_stream",
    "coinm__websocket_market_streams__mark_price_stream",
]


@pytest.mark.parametrize("name", ALL_STREAM_FIXTURES)
def test_combined_and_raw_frames_give_the_same_item(name: str) -> None:
    via_combined = wire.parse_stream_frame(combined("any@stream", name), SYMBOLS, received_at=1.0)
    via_raw = wire.parse_stream_frame(raw(name), SYMBOLS, received_at=1.0)
    assert via_combined == via_raw and via_combined is not None


class _CountingDecoder:
    def __init__(self, decoder: msgspec.json.Decoder[object], calls: list[str]) -> None:
        self._decoder = decoder
        self._calls = calls

    def decode(self, data: bytes | str) -> object:
        self._calls.append("decode")
        return self._decoder.decode(data)


KLINE = b'{"stream":"bnbbtc@kline_1m","data":{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"o":"1"}}}'


@pytest.mark.parametrize(
    "frame",
    [raw(n) for n in ALL_STREAM_FIXTURES]
    + [combined("x@y", n) for n in ALL_STREAM_FIXTURES]
    + [KLINE, b'{"result":null,"id":1}'],
)
def test_every_frame_is_decoded_exactly_once(frame: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Charter: no JSON decoded twice. Every decoder the wire module holds is counted."""
    calls: list[str] = []
    decoders = [n for n, v in vars(wire).items() if isinstance(v, msgspec.json.Decoder)]
    assert decoders
    for name in decoders:
        monkeypatch.setattr(wire, name, _CountingDecoder(getattr(wire, name), calls))
    monkeypatch.setattr(msgspec.json, "decode", lambda *a, **k: calls.append("json.decode"))
    wire.parse_stream_frame(frame, SYMBOLS)
    assert calls == ["decode"]
