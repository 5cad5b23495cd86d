"""The ``connectorkit`` command line: parser, --help of every command, argument errors."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import socket
import sys

import pytest

from connectorkit.cli import book, record
from connectorkit.cli.main import EXIT_BROKEN_PIPE, build_parser, main
from support.paths import CAPTURES

COMMANDS = {
    "demo": ["--duration", "--seed"],
    "book": ["--rest-url", "--ws-url", "--depth"],
    "record": ["--out", "--rest-url", "--ws-url"],
    "replay": ["--connector"],
    "sandbox": ["--port", "--seed"],
    "new-connector": ["--perpetual", "--dir"],
    "gateway": ["--bus", "--snapshot-interval", "--maxlen"],
}


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize(("command", "options"), list(COMMANDS.items()))
def test_help_of_each_command(command: str, options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: connectorkit {command}" in out
    for option in options:
        assert option in out


@pytest.mark.parametrize("command", ["demo", "book", "record", "replay", "sandbox"])
def test_help_is_plain_text_not_docstring_markup(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert re.findall(r"``|:(?:class|mod|func|meth):", out) == [], out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_record_requires_an_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["record", "binance", "BTC-USDT"])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


async def test_book_rejects_an_unknown_connector_before_any_network() -> None:
    lines: list[str] = []
    args = build_parser().parse_args(["book", "nosuchexchange", "BTC-USDT"])
    assert await book.run(args, out=lines.append, err=lines.append) == 2
    assert "unknown connector 'nosuchexchange'" in lines[0]


async def test_book_rejects_a_setting_the_connector_does_not_have() -> None:
    lines: list[str] = []
    args = build_parser().parse_args(["book", "binance", "BTC-USDT", "--option", "no_such_field=1"])
    assert await book.run(args, out=lines.append, err=lines.append) == 2
    assert "no_such_field" in lines[0]


async def test_record_rejects_a_malformed_option() -> None:
    lines: list[str] = []
    args = argparse.Namespace(connector="binance", pairs=["BTC-USDT"], out="unused", duration=1.0,
                              rest_url=None, ws_url=None, option=["missing-equals"])
    assert await record.run(args, out=lines.append) == 2
    assert "KEY=VALUE" in lines[0]


async def test_book_gives_up_waiting_for_an_unreachable_server_at_its_duration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book, "READY_TIMEOUT", 3600.0)  # only --duration can end the wait
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    args = build_parser().parse_args(["book", "binance", "BTC-USDT", "--duration", "0.3", "--plain",
                                      "--rest-url", f"http://127.0.0.1:{port}",
                                      "--ws-url", f"ws://127.0.0.1:{port}"])
    lines: list[str] = []
    async with asyncio.timeout(30):  # a guard against hanging, not a timing assertion
        assert await book.run(args, out=print, err=lines.append, interactive=False) == 1
    assert lines == ["book: BTC-USDT not ready after 0.3s (is BTC-USDT listed on binance, "
                     "is the server reachable?)"]


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_ends_a_command_quietly_with_141(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    captures = CAPTURES
    capture = captures / "binance_us_spot.jsonl"
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())  # `connectorkit replay FILE | head -0`
    assert main(["replay", str(capture)]) == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--duration", "--snapshot-interval", "--heartbeat-ttl", "--maxlen"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_gateway_refuses_non_finite_or_non_positive_numbers(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["gateway", "binance", "BTC-USDT", "--bus", "redis://127.0.0.1:1", option, value])
    assert exc.value.code == 2
    assert option in capsys.readouterr().err
