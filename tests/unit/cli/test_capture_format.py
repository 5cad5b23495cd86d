"""Capture writing and the replay's helpers: what ``record`` writes, ``replay`` (and the shared
capture reader) reads back; symbol/pair mapping of the public captures."""

from __future__ import annotations

from pathlib import Path

from connectorkit.cli.capture import CaptureWriter, Connect, Http, Recv, recording_header
from connectorkit.cli.replay import EXCHANGE_CONNECTORS, Recording, connector_for, pairs_from_capture
from connectorkit.cli.transport import (
    ReplayTransport,
    ReplayWSAssistant,
    stream_of,
    streams_of_url,
    trade_stream_substitutes,
)
from connectorkit.connector.capture_reader import read_capture
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
    writer.write(Recv("ws.1", 3.0, '{"stream":"btcusdt@trade","data":{"t":2}}'))
    await writer.flush()  # appended after what is already there
    assert writer.records == 4
    records = read_capture(path)
    assert [r.kind for r in records] == ["header", "http", "connect", "recv", "recv"]
    assert records[0].config == {"connector": "binance", "pairs": {"BTCUSDT": "BTC-USDT"}}
    recording = Recording.read(path)
    assert connector_for(recording, None) == "binance"
    assert pairs_from_capture(recording) == {"BTCUSDT": "BTC-USDT"}
    assert connector_for(recording, "binance_perpetual") == "binance_perpetual"


def test_public_captures_map_to_connectors_and_pairs() -> None:
    spot = Recording.read(CAPTURES / "binance_us_spot.jsonl")
    assert connector_for(spot, None) == EXCHANGE_CONNECTORS["BINANCE_US"] == "binance"
    assert pairs_from_capture(spot) == {
        "COMPUSDT": "COMP-USDT", "OMGBUSD": "OMG-BUSD", "CRVUSDT": "CRV-USDT", "ZRXUSDT": "ZRX-USDT",
    }
    coinm = Recording.read(CAPTURES / "binance_coinm_futures.jsonl")
    assert connector_for(coinm, None) == "binance_perpetual"
    pairs = pairs_from_capture(coinm)
    assert len(pairs) == 10 and len(set(pairs.values())) == 10
    # perpetual and quarterly contracts on the same assets stay apart
    assert pairs["BCHUSD_PERP"] == "BCH-USD" and pairs["BCHUSD_210924"] == "BCH-USD_210924"


def test_stream_names_from_urls_and_frames() -> None:
    assert streams_of_url("ws://h/stream?streams=btcusdt@depth@100ms/btcusdt@trade") == {
        "btcusdt@depth@100ms", "btcusdt@trade"}
    assert streams_of_url("ws://h/public/ws/btcusdt@depth") == {"btcusdt@depth"}
    assert stream_of('{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade"}}') == "ethusdt@aggTrade"
    assert stream_of('{"e":"depthUpdate"}') is None
    assert stream_of("not json") is None


def test_a_trade_stream_is_substituted_only_when_the_recording_lacks_the_other() -> None:
    recorded = {"btcusdt@aggTrade", "ethusdt@trade", "xrpusdt@trade", "xrpusdt@aggTrade", "btcusdt@depth"}
    assert trade_stream_substitutes(recorded) == {"btcusdt@aggTrade": "btcusdt@trade",
                                                  "ethusdt@trade": "ethusdt@aggTrade"}


async def test_replay_delivers_a_substituted_frame_once_and_counts_it() -> None:
    transport = ReplayTransport({"btcusdt@aggTrade": "btcusdt@trade"})
    connection = ReplayWSAssistant(transport, AsyncThrottler([]))
    await connection.connect("ws://h/stream?streams=btcusdt@depth@100ms/btcusdt@trade")
    agg = '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}'
    assert transport.deliver(agg) == 1
    assert transport.deliver('{"stream":"btcusdt@trade","data":{"e":"trade"}}') == 1
    assert transport.deliver('{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade"}}') == 0
    assert connection.inbox.qsize() == 2 and connection.inbox.get_nowait() == agg
    assert transport.substituted == {("aggTrade", "trade"): 1}
    assert transport.undelivered == {"aggTrade": 1}
