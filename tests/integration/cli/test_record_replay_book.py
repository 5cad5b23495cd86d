"""``connectorkit record`` / ``replay`` / ``book``: the public captures replayed offline through the
connectors' own data sources and trackers, a recording made against the sandbox replayed back to
the sandbox's true book, and the live book command."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from connectorkit.cli import book, record, replay
from connectorkit.cli.capture import CaptureWriter, Connect, Http, Recv, recording_header
from connectorkit.cli.transport import RecordingWebAssistantsFactory, ReplayTransport, ReplayWSAssistant
from connectorkit.connector.capture_reader import read_capture
from connectorkit.exchanges.binance import binance_web_utils
from connectorkit.exchanges.binance.binance_replay import BinanceReplayAdapter
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.sandbox import Market, Sandbox, SandboxConfig
from support.paths import CAPTURES
from support.waiting import wait_until

CAPTURES = CAPTURES
D = Decimal


async def _replay(path: Path) -> tuple[int, replay.ReplayReport, list[str]]:
    lines: list[str] = []
    code = await replay.run(_replay_args(path), out=lines.append)
    report = await replay.replay_capture(path)
    return code, report, lines


async def test_binance_us_spot_capture_replays_without_gaps_and_matches_its_book_tickers() -> None:
    code, report, lines = await _replay(CAPTURES / "binance_us_spot.jsonl")
    assert code == 0, "\n".join(lines)
    assert report.connector == "binance"
    assert [p.pair for p in report.pairs] == ["COMP-USDT", "OMG-BUSD", "CRV-USDT", "ZRX-USDT"]
    for pair in report.pairs:
        assert pair.ready and pair.snapshots == 1 and pair.diffs_applied > 20
        assert pair.gaps == pair.bridge_failures == pair.resyncs == pair.errors == 0
        assert pair.best_bid < pair.best_ask
    # diffs older than each snapshot were buffered and dropped, as the live procedure requires
    assert sum(p.stale_dropped for p in report.pairs) > 0
    assert report.top_of_book.matched > 20 and report.top_of_book.mismatched == []
    assert report.malformed_frames == 0
    assert any(line.startswith("total: 0 gaps, 0 resyncs, 0 errors") for line in lines)


async def test_spot_capture_trades_recorded_as_agg_trades_reach_the_spot_connector() -> None:
    # The capture recorded <symbol>@aggTrade; the spot connector subscribes to <symbol>@trade.
    expected: dict[str, int] = {}
    for captured in read_capture(CAPTURES / "binance_us_spot.jsonl"):
        if captured.kind == "recv" and captured.data is not None:
            payload = json.loads(captured.data).get("data", {})
            if payload.get("e") == "aggTrade":
                expected[payload["s"]] = expected.get(payload["s"], 0) + 1
    assert sum(expected.values()) > 0
    code, report, lines = await _replay(CAPTURES / "binance_us_spot.jsonl")
    assert code == 0
    assert {p.symbol: p.trades for p in report.pairs if p.trades} == expected
    assert report.substituted == {("aggTrade", "trade"): sum(expected.values())}
    assert "aggTrade" not in report.undelivered
    assert any(line.startswith("aggTrade frames delivered as the connector's trade stream") for line in lines)


async def test_binance_coinm_capture_replays_through_the_perpetual_data_source() -> None:
    code, report, lines = await _replay(CAPTURES / "binance_coinm_futures.jsonl")
    assert code == 0, "\n".join(lines)
    assert report.connector == "binance_perpetual" and len(report.pairs) == 10
    for pair in report.pairs:
        assert pair.ready and pair.diffs_applied > 50 and pair.gaps == pair.resyncs == pair.errors == 0
    assert sum(p.trades for p in report.pairs) > 0  # aggTrade is one of the perpetual's streams
    assert report.top_of_book.matched > 100 and report.top_of_book.mismatched == []


def _place(sb: Sandbox, account_id: int, side: str, price: str, quantity: str) -> None:
    sb.spot.exchange.new_order(sb.accounts.by_id(account_id), symbol="BTCUSDT", side=side, order_type="LIMIT",
                               time_in_force="GTC", quantity=D(quantity), price=D(price))


async def test_a_recording_of_the_sandbox_replays_to_the_sandbox_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "spot.jsonl"
    written: list[Http | Connect | Recv] = []

    class SeenWriter(CaptureWriter):
        """The real writer, also keeping what it was given, so the test waits on what was recorded."""

        def write(self, record: Http | Connect | Recv) -> None:
            written.append(record)
            super().write(record)

    def recorded(what: str) -> bool:
        return any(what in (r.url if isinstance(r, Http) else getattr(r, "data", "")) for r in written)

    monkeypatch.setattr(record, "CaptureWriter", SeenWriter)
    async with Sandbox(seed=1, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        key, _ = sb.create_account({"USDT": D(100_000), "BTC": D(10)})
        account = sb.account_id(key)
        _place(sb, account, "BUY", "29990", "0.5")
        _place(sb, account, "SELL", "30010", "0.4")
        stop = asyncio.Event()
        recording = asyncio.create_task(record.record(
            "binance", ["BTC-USDT"], out, duration=None, stop=stop,
            overrides={"rest_url": sb.rest_url, "ws_url": sb.ws_url}), name="test-recording")
        # changes while recording, once the snapshot is in and the diff stream subscribed: diffs
        subscribed = lambda: sb.spot.hub.has_subscribers("btcusdt@depth@100ms")  # noqa: E731
        await wait_until(lambda: recorded("/api/v3/depth") and subscribed(),
                         what="the snapshot and the diff subscription")
        _place(sb, account, "BUY", "29995", "0.25")
        _place(sb, account, "SELL", "29995", "0.1")  # trades against the new bid
        await wait_until(lambda: recorded('"e":"trade"') and recorded('["29995.00000000","0.15000000"]'),
                         what="the trade and the last diff recorded")
        stop.set()
        assert (await recording).records == len(written)
        true_bids, true_asks = sb.spot.engine.book("BTCUSDT").depth(20)
    records = read_capture(out)
    kinds = {r.kind for r in records}
    assert kinds == {"header", "http", "connect", "recv"}
    assert records[0].config == {"connector": "binance", "pairs": {"BTCUSDT": "BTC-USDT"}}
    assert any(r.kind == "http" and "/api/v3/depth" in (r.url or "") for r in records)

    report = await replay.replay_capture(out)
    (pair,) = report.pairs
    assert pair.ready and pair.diffs_applied >= 1 and pair.trades == 1 and pair.errors == 0
    assert (pair.best_bid, pair.best_ask) == (true_bids[0][0], true_asks[0][0]) == (D("29995"), D("30010"))
    assert pair.bid_levels == len(true_bids) and pair.ask_levels == len(true_asks)


async def test_book_command_shows_the_sandbox_book() -> None:
    async with Sandbox(seed=1, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        key, _ = sb.create_account({"USDT": D(100_000), "BTC": D(10)})
        for side, price, qty in (("BUY", "29990", "0.5"), ("BUY", "29980", "1.5"), ("SELL", "30010", "0.4")):
            _place(sb, sb.account_id(key), side, price, qty)
        lines: list[str] = []
        args = argparse.Namespace(connector="binance", pair="BTC-USDT", depth=5, duration=1.2, plain=True,
                                  json=False, rest_url=sb.rest_url, ws_url=sb.ws_url, option=[])
        assert await book.run(args, out=lines.append, interactive=False) == 0
    assert lines[0].startswith("BTC-USDT bid 29990 ask 30010")
    table = lines[-1]
    assert re.search(r"0\.5\s+│\s+29990\s+│\s+30010\s+│\s+0\.4", table), table
    assert re.search(r"1\.5\s+│\s+29980", table), table
    assert "| ready" in table


async def test_a_perpetual_recording_spans_its_routed_connections_and_replays(tmp_path: Path) -> None:
    out = tmp_path / "perp.jsonl"
    async with Sandbox(seed=4, markets=[], config=SandboxConfig(simulator_interval_s=0.05)) as sb:
        args = argparse.Namespace(connector="binance_perpetual", pairs=["BTC-USDT"], out=str(out),
                                  duration=1.5, rest_url=sb.futures_rest_url, ws_url=sb.futures_ws_url,
                                  option=[])
        assert await record.run(args, out=lambda _: None) == 0
    records = read_capture(out)
    connections = {r.url for r in records if r.kind == "connect"}
    assert any("/public/stream?streams=btcusdt@depth@100ms" in (url or "") for url in connections)
    assert any("/market/stream?streams=" in (url or "") for url in connections)
    assert any("/fapi/v1/premiumIndex" in (r.url or "") for r in records if r.kind == "http")

    report = await replay.replay_capture(out)
    (pair,) = report.pairs
    assert report.connector == "binance_perpetual" and report.healthy
    assert pair.ready and pair.diffs_applied > 5 and pair.gaps == pair.errors == 0
    assert pair.best_bid < pair.best_ask


def _depth(first: int, last: int, bid: str, amount: str = "1") -> str:
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last, "b": [[bid, amount]], "a": []}
    return json.dumps({"stream": "btcusdt@depth@100ms", "data": data})


def _one_pair_capture(tmp_path: Path, frames: list[str]) -> Path:
    snapshot = {"lastUpdateId": 100, "bids": [["99", "2"]], "asks": [["101", "3"]]}
    records = [
        {"t": "header", "exchange": "BINANCE", "recorded": 1.0,
         "config": {"connector": "binance", "pairs": {"BTCUSDT": "BTC-USDT"}}},
        {"t": "http", "conn": "rest", "ts": 1.0, "url": "http://x/api/v3/depth?symbol=BTCUSDT&limit=5",
         "data": json.dumps(snapshot)},
        *({"t": "recv", "conn": "ws.1", "ts": 2.0 + i, "data": frame} for i, frame in enumerate(frames)),
    ]
    path = tmp_path / "capture.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _replay_args(path: Path) -> argparse.Namespace:
    return argparse.Namespace(file=str(path), connector=None, strict=False, json=False)


async def test_a_gap_without_a_later_snapshot_is_reported_and_fails_the_replay(tmp_path: Path) -> None:
    frames = [_depth(101, 102, "99.5"), _depth(110, 111, "99.7")]  # 103..109 missing
    path = _one_pair_capture(tmp_path, frames)
    lines: list[str] = []
    code = await replay.run(_replay_args(path), out=lines.append)
    assert code == 1, "\n".join(lines)
    report = await replay.replay_capture(path)
    (pair,) = report.pairs
    assert pair.diffs_applied == 1 and pair.gaps + pair.bridge_failures == 1 and not pair.ready
    assert pair.waiting_for_snapshot and not report.healthy
    assert "  BTC-USDT: resync pending, but the recording has no later snapshot" in lines


async def test_recording_writes_the_frames_the_client_sends_and_they_replay_its_subscriptions(
        tmp_path: Path) -> None:
    """A client subscribing by message (Binance's live SUBSCRIBE, answered by the sandbox): the
    recording holds the sent frame as sent, and replaying it subscribes the replayed connection."""
    out = tmp_path / "sent.jsonl"
    writer = CaptureWriter(out)
    writer.set_header(recording_header("binance", {"BTCUSDT": "BTC-USDT"}, 1.0))
    async with Sandbox(seed=1, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[],
                       simulate=False) as sb:
        factory = RecordingWebAssistantsFactory(AsyncThrottler([]), writer, request_timeout=5)
        try:
            ws = await factory.get_ws_assistant()
            await ws.connect(binance_web_utils.combined_stream_url(["btcusdt@depth@100ms"], sb.ws_url))
            await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1})
            answer = await asyncio.wait_for(ws.receive(), timeout=10)
            await ws.disconnect()
        finally:
            await factory.close()
    await writer.flush()
    assert json.loads(answer or "") == {"result": None, "id": 1}
    records = read_capture(out)
    assert [r.kind for r in records] == ["header", "connect", "send", "recv"]
    sent = records[2]
    assert sent.conn == records[1].conn == records[3].conn == "ws.1"
    assert sent.data == '{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}'

    transport = ReplayTransport(BinanceReplayAdapter())
    replayed = ReplayWSAssistant(transport, AsyncThrottler([]))
    await replayed.connect(records[1].url or "")
    trade = '{"stream":"btcusdt@trade","data":{"e":"trade"}}'
    assert transport.deliver(trade) == 0  # the URL alone does not carry the trade stream
    await replayed.send_json(json.loads(sent.data))
    assert await replayed.receive() == '{"result":null,"id":1}'
    assert transport.deliver(trade) == 1


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-5", "-0.001", "abc", ""])
async def test_a_frame_with_a_bad_amount_is_reported_malformed_not_a_traceback(
    tmp_path: Path, amount: str
) -> None:
    """Issue 17.3: the replay counts the frame, reports the book not ready, and exits 1."""
    path = _one_pair_capture(tmp_path, [_depth(101, 102, "99.5"), _depth(103, 103, "99.6", amount)])
    lines: list[str] = []
    code = await replay.run(_replay_args(path), out=lines.append)
    assert code == 1, "\n".join(lines)
    (pair,) = (await replay.replay_capture(path)).pairs
    assert pair.errors == 1 and pair.resyncs == 1 and pair.diffs_applied == 1 and not pair.ready
    assert pair.best_bid == D("99.5")


async def test_a_frame_with_an_absurd_update_id_does_not_freeze_a_ready_book(tmp_path: Path) -> None:
    """Issue 17.4: u = 2**70 was applied; every later diff then looked stale, the book "ready"."""
    frames = [_depth(101, 102, "99.5"), _depth(103, 2**70, "99.6"), _depth(103, 104, "99.7")]
    path = _one_pair_capture(tmp_path, frames)
    lines: list[str] = []
    code = await replay.run(_replay_args(path), out=lines.append)
    assert code == 1, "\n".join(lines)
    (pair,) = (await replay.replay_capture(path)).pairs
    assert pair.errors == 1 and pair.resyncs == 1 and not pair.ready and pair.stale_dropped == 0
