"""``connectorkit book`` and ``record`` against the sandbox with input a user gets wrong (issue 17,
items 12 and 13), and ``book --json`` (issue 16)."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from connectorkit.cli import book, record
from connectorkit.cli.main import build_parser
from connectorkit.sandbox import Market, Sandbox

D = Decimal


def _place(sb: Sandbox, key: str, side: str, price: str, quantity: str) -> None:
    account = sb.accounts.by_id(sb.account_id(key))
    sb.spot.exchange.new_order(account, symbol="BTCUSDT", side=side, order_type="LIMIT",
                               time_in_force="GTC", quantity=D(quantity), price=D(price))


def _sandbox() -> Sandbox:
    return Sandbox(seed=1, markets=[Market("BTCUSDT", "BTC", "USDT")], futures_markets=[], simulate=False)


def _free_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])


async def test_book_json_prints_the_sandbox_book_with_its_decimal_strings() -> None:
    async with _sandbox() as sb:
        key, _ = sb.create_account({"USDT": D(100_000), "BTC": D(10)})
        _place(sb, key, "BUY", "29990.00", "0.50000000")
        _place(sb, key, "BUY", "29980", "1.5")
        _place(sb, key, "SELL", "30010", "0.4")
        lines: list[str] = []
        errors: list[str] = []
        args = build_parser().parse_args(["book", "binance", "btc-usdt", "--json", "--depth", "1",
                                          "--rest-url", sb.rest_url, "--ws-url", sb.ws_url])
        assert await book.run(args, out=lines.append, err=errors.append) == 0, errors
        url = f"{sb.rest_url}/api/v3/depth"
        async with aiohttp.ClientSession() as http, http.get(url, params={"symbol": "BTCUSDT"}) as answer:
            depth = await answer.json()  # what the exchange itself sends
    (line,) = lines  # one object, nothing else on stdout
    shown = json.loads(line)
    assert shown["connector"] == "binance" and shown["pair"] == "BTC-USDT" and shown["ready"] is True
    assert shown["update_id"] == depth["lastUpdateId"]
    assert shown["bids"] == depth["bids"][:1] and shown["asks"] == depth["asks"][:1]
    assert [[D(p), D(a)] for p, a in shown["bids"] + shown["asks"]] == [[D(29990), D("0.5")],
                                                                        [D(30010), D("0.4")]]


async def test_book_of_a_pair_the_exchange_does_not_list_is_an_error_once_the_rules_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book, "READY_TIMEOUT", 3600.0)  # before: waited for the whole timeout
    async with _sandbox() as sb:
        errors: list[str] = []
        args = build_parser().parse_args(["book", "binance", "DOGE-USDT", "--plain",
                                          "--rest-url", sb.rest_url, "--ws-url", sb.ws_url])
        assert await book.run(args, out=errors.append, err=errors.append, interactive=False) == 2
    assert errors == ["book: not listed on binance: DOGE-USDT"]


async def test_book_of_a_pair_that_never_becomes_ready_stops_after_a_bounded_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book, "READY_TIMEOUT", 0.5)
    async with _sandbox() as sb:  # instruments and snapshots answer; the stream URL does not
        lines: list[str] = []
        errors: list[str] = []
        args = build_parser().parse_args(["book", "binance", "BTC-USDT", "--json", "--rest-url", sb.rest_url,
                                          "--ws-url", f"ws://127.0.0.1:{_free_port()}"])
        assert await book.run(args, out=lines.append, err=errors.append) == 1
    assert json.loads(lines[0])["ready"] is False
    assert errors == ["book: BTC-USDT not ready after 0.5s (is BTC-USDT listed on binance, "
                      "is the server reachable?)"]


@pytest.mark.parametrize("duration", ["nan", "-1", "0", "inf", "soon"])
def test_book_and_record_reject_a_duration_that_is_not_a_positive_number(
    duration: str, capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["book", "binance", "BTC-USDT"], ["record", "binance", "BTC-USDT", "--out", "x"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([*argv, "--duration", duration])
        assert exc.value.code == 2
        assert "--duration" in capsys.readouterr().err


def test_book_rejects_a_depth_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["book", "binance", "BTC-USDT", "--depth", "0"])
    assert "--depth" in capsys.readouterr().err


async def test_book_with_a_url_without_scheme_fails_once_at_creation() -> None:
    errors: list[str] = []
    port = _free_port()
    args = build_parser().parse_args(["book", "binance", "BTC-USDT", "--rest-url", f"127.0.0.1:{port}",
                                      "--ws-url", f"ws://127.0.0.1:{port}"])
    assert await book.run(args, out=errors.append, err=errors.append) == 2
    assert errors == [f"book: rest_url must start with http:// or https://, got '127.0.0.1:{port}'"]


async def test_record_of_an_unlisted_pair_names_it_and_normalises_the_listed_one(tmp_path: Path) -> None:
    async with _sandbox() as sb:
        lines: list[str] = []
        args = build_parser().parse_args(["record", "binance", "btc-usdt", "doge-usdt", "--out",
                                          str(tmp_path / "x.jsonl"), "--duration", "5",
                                          "--rest-url", sb.rest_url, "--ws-url", sb.ws_url])
        assert await record.run(args, out=lines.append) == 2
    assert lines == ["record: not listed on binance: DOGE-USDT"]
