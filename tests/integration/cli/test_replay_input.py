"""``connectorkit replay`` on files a user really has: cut short, empty, of another format, without
tickers; and ``--json`` (issue 17, item 15)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectorkit.cli import replay
from connectorkit.cli.main import build_parser, main
from connectorkit.connector.settings import register_connector, unregister_connector
from connectorkit.exchanges.binance.binance_exchange import BinanceExchange
from connectorkit.exchanges.binance.binance_utils import DEFAULT_FEES, BinanceSettings
from support.paths import CAPTURES

D = Decimal
HEADER = {"t": "header", "exchange": "BINANCE", "recorded": 1.0, "format": 2,
          "config": {"connector": "binance", "pairs": {"BTCUSDT": "BTC-USDT"}}}
SNAPSHOT = {"t": "http", "conn": "rest", "ts": 1.0, "url": "http://x/api/v3/depth?symbol=BTCUSDT&limit=5",
            "data": json.dumps({"lastUpdateId": 100, "bids": [["99.00", "2.0"]],
                                "asks": [["101.00", "3.0"]]})}


def _diff(first: int, last: int, bid: str, ts: float) -> dict[str, Any]:
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last, "b": [[bid, "1.50"]], "a": []}
    return {"t": "recv", "conn": "ws.1", "ts": ts, "data": json.dumps({"stream": "btcusdt@depth@100ms",
                                                                        "data": data})}


def _write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


async def _run(*argv: str) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    code = await replay.run(build_parser().parse_args(["replay", *argv]), out=out.append, err=err.append)
    return code, out, err


@pytest.fixture
def cut_short(tmp_path: Path) -> Path:
    """A good recording with a garbled line in the middle and its last line cut short."""
    path = _write(tmp_path / "cut.jsonl", HEADER, SNAPSHOT, _diff(101, 102, "99.50", 2.0),
                  '{"t": "recv", "conn": "ws.1", "ts": 2.5, "da', _diff(103, 104, "99.70", 3.0))
    with path.open("a", encoding="utf-8") as tail:
        tail.write(json.dumps(_diff(105, 106, "99.80", 4.0))[:40])  # no newline: the recorder died
    return path


async def test_bad_and_truncated_lines_are_skipped_and_counted(cut_short: Path) -> None:
    code, out, err = await _run(str(cut_short))
    assert code == 0 and err == [], out
    assert out[1].startswith("skipped 2 of 6 lines that are not records (first: line 4: ")
    report = await replay.replay_capture(cut_short)
    (pair,) = report.pairs
    assert pair.ready and pair.diffs_applied == 2 and pair.best_bid == D("99.7")
    assert report.lines_read == 6 and len(report.skipped_lines) == 2


async def test_strict_refuses_a_file_with_a_bad_line(cut_short: Path) -> None:
    code, out, err = await _run(str(cut_short), "--strict")
    assert code == 2 and out == []
    (line,) = err
    assert line.startswith("replay: line 4: ")


async def test_an_empty_file_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert await _run(str(empty)) == (2, [], [f"replay: {empty} is empty: nothing to replay"])


async def test_an_unknown_format_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "v9.jsonl", {**HEADER, "format": 9}, SNAPSHOT, _diff(101, 102, "99.5", 2.0))
    code, out, err = await _run(str(path))
    assert (code, out) == (2, [])
    assert err == ["replay: line 1: capture format 9 is unknown (this version reads format 2)"]


async def test_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, out, err = await _run(str(tmp_path / "nope.jsonl"))
    assert code == 2 and out == [] and len(err) == 1 and "nope.jsonl" in err[0]


async def test_a_recording_without_ticker_frames_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", HEADER, SNAPSHOT, _diff(101, 102, "99.5", 2.0))
    code, out, _ = await _run(str(path))
    assert code == 0
    assert "top of book vs recorded bookTicker: no ticker frames in the recording" in out
    assert not any("0 equal, 0 different" in line for line in out)


async def test_json_of_the_real_spot_capture(tmp_path: Path) -> None:
    capture = CAPTURES / "binance_us_spot.jsonl"
    code, out, err = await _run(str(capture), "--json")
    assert code == 0 and err == []
    (line,) = out
    shown = json.loads(line)
    assert shown["healthy"] is True and shown["skipped_lines"] == 0
    lines = capture.read_text(encoding="utf-8").splitlines()
    assert shown["lines"] == sum(1 for text in lines if text.strip())
    report = await replay.replay_capture(capture)
    assert [p["pair"] for p in shown["pairs"]] == [p.pair for p in report.pairs]
    raw = capture.read_text(encoding="utf-8")
    for entry, pair in zip(shown["pairs"], report.pairs, strict=True):
        assert set(entry) == {"connector", "pair", "ready", "messages", "diffs_applied", "stale_dropped",
                              "gaps", "resyncs", "malformed", "checksum_failures", "tickers_equal",
                              "tickers_different", "bids", "asks"}
        assert entry["connector"] == "binance" and entry["ready"] is True
        assert entry["diffs_applied"] == pair.diffs_applied and entry["stale_dropped"] == pair.stale_dropped
        assert entry["messages"] >= 1 + pair.diffs_applied + pair.stale_dropped  # the snapshot too
        assert entry["gaps"] == entry["resyncs"] == entry["malformed"] == entry["checksum_failures"] == 0
        assert entry["tickers_different"] == 0
        assert 0 < len(entry["bids"]) <= 20 and 0 < len(entry["asks"]) <= 20
        assert D(entry["bids"][0][0]) == pair.best_bid and D(entry["asks"][0][0]) == pair.best_ask
        for price, amount in entry["bids"] + entry["asks"]:  # the exchange's own spelling
            assert f'\\"{price}\\",\\"{amount}\\"' in raw or f'[\\"{price}\\", \\"{amount}\\"]' in raw
    assert sum(p["tickers_equal"] for p in shown["pairs"]) == report.top_of_book.matched > 20


async def test_json_of_an_unresynced_gap_is_unhealthy_with_exit_1(tmp_path: Path) -> None:
    path = _write(tmp_path / "gap.jsonl", HEADER, SNAPSHOT, _diff(101, 102, "99.5", 2.0),
                  _diff(110, 111, "99.7", 3.0))
    code, out, _ = await _run(str(path), "--json")
    assert code == 1
    (entry,) = json.loads(out[0])["pairs"]
    assert json.loads(out[0])["healthy"] is False
    assert (entry["ready"], entry["gaps"], entry["diffs_applied"]) == (False, 1, 1)


async def test_malformed_frames_are_unhealthy_and_never_a_traceback(tmp_path: Path) -> None:
    frame = {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "s": "BTCUSDT"}}  # no ids
    junk = {"t": "recv", "conn": "ws.1", "ts": 2.5, "data": json.dumps(frame)}
    path = _write(tmp_path / "junk.jsonl", HEADER, SNAPSHOT, _diff(101, 102, "99.5", 2.0), junk)
    code, out, _ = await _run(str(path), "--json")
    assert code == 1
    shown = json.loads(out[0])
    assert shown["healthy"] is False


def test_binary_garbage_is_one_line_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(range(256)) * 8)
    assert main(["replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and len(captured.err.splitlines()) == 1, captured.err


@pytest.mark.parametrize(("name", "exchange"), [("okx_spot.jsonl", "OKX"), ("bybit_spot.jsonl", "BYBIT")])
async def test_a_venue_no_adapter_serves_is_one_line_and_exit_2(name: str, exchange: str) -> None:
    code, out, err = await _run(str(CAPTURES / name))
    assert (code, out) == (2, [])
    assert err == [f"replay: no replay adapter serves exchange {exchange!r}; registered adapters: binance "
                   "(BINANCE, BINANCE_US), binance_perpetual (BINANCE_DELIVERY, BINANCE_FUTURES, "
                   "BINANCE_PERPETUAL)"]


async def test_a_connector_without_a_replay_adapter_is_one_line_and_exit_2(tmp_path: Path) -> None:
    register_connector("no_adapter", BinanceExchange, DEFAULT_FEES, BinanceSettings)
    try:
        header = {**HEADER, "config": {"connector": "no_adapter", "pairs": {"BTCUSDT": "BTC-USDT"}}}
        code, out, err = await _run(str(_write(tmp_path / "t.jsonl", header, SNAPSHOT)))
    finally:
        unregister_connector("no_adapter")
    assert (code, out) == (2, [])
    (line,) = err
    assert line.startswith("replay: connector 'no_adapter' has no replay adapter; "
                           "registered adapters: binance (")
