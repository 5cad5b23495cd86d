"""The ``connectorkit`` command line: parser, --help of every command, argument errors."""

from __future__ import annotations

import argparse
import re

import pytest

from connectorkit.cli import book, record
from connectorkit.cli.main import build_parser, main

COMMANDS = {
    "demo": ["--duration", "--seed"],
    "book": ["--rest-url", "--ws-url", "--depth"],
    "record": ["--out", "--rest-url", "--ws-url"],
    "replay": ["--connector"],
    "sandbox": ["--port", "--seed"],
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


@pytest.mark.parametrize("command", ["demo", "book", "record", "replay"])
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
    assert await book.run(args, out=lines.append) == 2
    assert "unknown connector 'nosuchexchange'" in lines[0]


async def test_book_rejects_a_setting_the_connector_does_not_have() -> None:
    lines: list[str] = []
    args = build_parser().parse_args(["book", "binance", "BTC-USDT", "--option", "no_such_field=1"])
    assert await book.run(args, out=lines.append) == 2
    assert "no_such_field" in lines[0]


async def test_record_rejects_a_malformed_option() -> None:
    lines: list[str] = []
    args = argparse.Namespace(connector="binance", pairs=["BTC-USDT"], out="unused", duration=1.0,
                              rest_url=None, ws_url=None, option=["missing-equals"])
    assert await record.run(args, out=lines.append) == 2
    assert "KEY=VALUE" in lines[0]
