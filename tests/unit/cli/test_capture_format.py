"""Capture writing and the replay's helpers: what ``record`` writes, ``replay`` (and the shared
capture reader) reads back; symbol/pair mapping of the public captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectorkit.cli.capture import CaptureWriter, Connect, Http, Recv, Send, recording_header
from connectorkit.cli.replay import Recording, connector_for, pairs_from_capture
from connectorkit.cli.transport import ReplayTransport, ReplayWSAssistant
from connectorkit.connector.capture_reader import read_capture
from connectorkit.connector.replay_adapter import (
    FrameRole,
    NoReplayAdapterError,
    SubscriptionChange,
    connector_for_exchange,
    get_replay_adapter,
)
from connectorkit.exchanges.binance.binance_replay import BinanceReplayAdapter
from connectorkit.net.throttler import AsyncThrottler
from support.paths import CAPTURES

CAPTURES = CAPTURES


async def test_records_wait_for_the_header_and_read_back_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    writer = CaptureWriter(path)
    writer.write(Recv("ws.1", 2.0, '{"stream":"btcusdt@trade","data":{}}'))
    await writer.flush()
    assert not path.exists()  # nothing before the header
    writer.set_header(recording_header("binance", {"BTCUSDT": "BTC-USDT"}, 1.0))
    writer.write(Connect("ws.1", 1.5, "wss://x/stream?streams=btcusdt@trade"))
    writer.write(Http("rest", 1.2, "https://x/api/v3/depth?symbol=BTCUSDT&limit=5", '{"lastUpdateId":1}'))
    await writer.flush()
    writer.write(Send("ws.1", 1.6, '{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1}'))
    writer.write(Recv("ws.1", 3.0, '{"stream":"btcusdt@trade","data":{"t":2}}'))
    await writer.flush()  # appended after what is already there
    assert writer.records == 5
    records = read_capture(path)
    assert [r.kind for r in records] == ["header", "http", "connect", "send", "recv", "recv"]
    assert records[0].config == {"connector": "binance", "pairs": {"BTCUSDT": "BTC-USDT"}}
    assert records[3].data == '{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1}'
    recording = Recording.read(path)
    assert connector_for(recording, None) == "binance"
    assert pairs_from_capture(recording, BinanceReplayAdapter()) == {"BTCUSDT": "BTC-USDT"}
    assert connector_for(recording, "binance_perpetual") == "binance_perpetual"


def test_public_captures_map_to_connectors_and_pairs() -> None:
    spot = Recording.read(CAPTURES / "binance_us_spot.jsonl")
    assert connector_for(spot, None) == connector_for_exchange("binance_us") == "binance"
    assert pairs_from_capture(spot, get_replay_adapter("binance")) == {
        "COMPUSDT": "COMP-USDT", "OMGBUSD": "OMG-BUSD", "CRVUSDT": "CRV-USDT", "ZRXUSDT": "ZRX-USDT",
    }
    coinm = Recording.read(CAPTURES / "binance_coinm_futures.jsonl")
    assert connector_for(coinm, None) == "binance_perpetual"
    pairs = pairs_from_capture(coinm, get_replay_adapter("binance_perpetual"))
    assert len(pairs) == 10 and len(set(pairs.values())) == 10
    # perpetual and quarterly contracts on the same assets stay apart
    assert pairs["BCHUSD_PERP"] == "BCH-USD" and pairs["BCHUSD_210924"] == "BCH-USD_210924"


def test_captures_of_a_venue_without_an_adapter_are_refused_naming_the_registered_ones() -> None:
    for name in ("okx_spot.jsonl", "bybit_spot.jsonl"):
        recording = Recording.read(CAPTURES / name)
        with pytest.raises(NoReplayAdapterError) as refused:
            connector_for(recording, None)
        message = str(refused.value)
        assert f"no replay adapter serves exchange {recording.exchange!r}" in message
        assert "registered adapters: binance (BINANCE, BINANCE_US), binance_perpetual (" in message
        assert "\n" not in message


BINANCE = BinanceReplayAdapter()


def test_stream_names_from_urls_and_frames() -> None:
    assert BINANCE.subscriptions_of_url("ws://h/stream?streams=btcusdt@depth@100ms/btcusdt@trade") == {
        "btcusdt@depth@100ms", "btcusdt@trade"}
    assert BINANCE.subscriptions_of_url("ws://h/public/ws/btcusdt@depth") == {"btcusdt@depth"}
    trade = BINANCE.describe_frame('{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade"}}')
    assert (trade.stream, trade.role, trade.symbol) == ("ethusdt@aggTrade", FrameRole.TRADE, "ETHUSDT")
    assert BINANCE.describe_frame('{"e":"depthUpdate"}').stream is None
    answer = BINANCE.describe_frame('{"result":null,"id":3}')
    assert (answer.stream, answer.role) == (None, FrameRole.ANSWER)
    assert BINANCE.describe_frame("not json").stream is None


def test_book_frames_and_tickers_are_read_and_a_broken_one_is_still_delivered() -> None:
    diff = BINANCE.describe_frame('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","s":"BTCUSDT",'
                                  '"U":5,"u":7,"b":[],"a":[]}}')
    assert diff.role is FrameRole.BOOK and diff.book_update is not None
    assert (diff.book_update.first, diff.book_update.last, diff.symbol) == (5, 7, "BTCUSDT")
    ticker = BINANCE.describe_frame('{"stream":"btcusdt@bookTicker","data":{"u":7,"s":"BTCUSDT",'
                                    '"b":"99.10","B":"1","a":"99.20","A":"2"}}')
    assert ticker.role is FrameRole.TOP_OF_BOOK and ticker.top_of_book is not None
    assert (ticker.top_of_book.update_id, str(ticker.top_of_book.bid)) == (7, "99.10")
    broken = BINANCE.describe_frame('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate"}}')
    assert broken.stream == "btcusdt@depth@100ms" and broken.book_update is None


def test_live_subscriptions_are_read_from_sent_frames_and_acknowledged() -> None:
    sent = '{"method":"SUBSCRIBE","params":["ethusdt@trade","ethusdt@depth@100ms"],"id":7}'
    assert BINANCE.subscription_change(sent) == SubscriptionChange(
        added=frozenset({"ethusdt@trade", "ethusdt@depth@100ms"}))
    assert BINANCE.subscription_change('{"method":"UNSUBSCRIBE","params":["ethusdt@trade"],"id":8}') == (
        SubscriptionChange(removed=frozenset({"ethusdt@trade"})))
    assert BINANCE.acknowledgement(sent) == '{"result":null,"id":7}'
    assert BINANCE.subscription_change("ping") is None and BINANCE.acknowledgement("ping") is None


def test_a_trade_stream_is_substituted_only_when_the_recording_lacks_the_other() -> None:
    recorded = {"btcusdt@aggTrade", "ethusdt@trade", "xrpusdt@trade", "xrpusdt@aggTrade", "btcusdt@depth"}
    assert BINANCE.stream_substitutes(recorded) == {"btcusdt@aggTrade": "btcusdt@trade",
                                                    "ethusdt@trade": "ethusdt@aggTrade"}


async def test_replay_delivers_a_substituted_frame_once_and_counts_it() -> None:
    transport = ReplayTransport(BINANCE, {"btcusdt@aggTrade": "btcusdt@trade"})
    connection = ReplayWSAssistant(transport, AsyncThrottler([]))
    await connection.connect("ws://h/stream?streams=btcusdt@depth@100ms/btcusdt@trade")
    agg = '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}'
    assert transport.deliver(agg) == 1
    assert transport.deliver('{"stream":"btcusdt@trade","data":{"e":"trade"}}') == 1
    assert transport.deliver('{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade"}}') == 0
    assert connection.inbox.qsize() == 2 and connection.inbox.get_nowait() == agg
    assert transport.substituted == {("aggTrade", "trade"): 1}
    assert transport.undelivered == {"aggTrade": 1}


async def test_a_replayed_connection_follows_its_live_subscriptions() -> None:
    transport = ReplayTransport(BINANCE)
    connection = ReplayWSAssistant(transport, AsyncThrottler([]))
    await connection.connect("ws://h/stream?streams=btcusdt@trade")
    eth = '{"stream":"ethusdt@trade","data":{"e":"trade"}}'
    assert transport.deliver(eth) == 0
    await connection.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@trade"], "id": 3})
    assert connection.inbox.get_nowait() == '{"result":null,"id":3}'  # the venue's answer
    assert transport.deliver(eth) == 1
    await connection.send_json({"method": "UNSUBSCRIBE", "params": ["ethusdt@trade"], "id": 4})
    connection.inbox.get_nowait()
    assert transport.deliver(eth) == 0 and connection.streams == {"btcusdt@trade"}
