"""``connectorkit sandbox`` with arguments it cannot serve: one line on stderr, exit code 2, no
traceback, and a foreign ``--state`` file left untouched (issue 17, item 13)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectorkit.cli.main import main


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def _one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["sandbox", "--no-simulation", *argv]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_a_port_in_use(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(["--port", str(busy_port)], capsys)
    assert line.startswith("sandbox: cannot listen on --host 127.0.0.1: ")
    assert "address already in use" in line


def test_a_futures_stream_port_in_use_releases_the_rest_port(busy_port: int,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        rest_port = int(probe.getsockname()[1])
    line = _one_error_line(["--port", str(rest_port), "--futures-stream-port", str(busy_port)], capsys)
    assert "address already in use" in line
    with socket.socket() as again:  # the REST port bound first was released
        again.bind(("127.0.0.1", rest_port))


@pytest.mark.parametrize(("argv", "expected"), [
    (["--port", "99999"], "sandbox: --port must be between 0 (any free port) and 65535, got 99999"),
    (["--port", "-1"], "sandbox: --port must be between 0 (any free port) and 65535, got -1"),
    (["--futures-stream-port", "70000"],
     "sandbox: --futures-stream-port must be between 0 (any free port) and 65535, got 70000"),
    (["--host", " "], "sandbox: --host must name an address to bind, e.g. 127.0.0.1"),
])
def test_ports_out_of_range_and_an_empty_host(argv: list[str], expected: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _one_error_line(argv, capsys) == expected


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1"])  # unresolvable; not ours
def test_an_unusable_host(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _one_error_line(["--host", host], capsys).startswith(f"sandbox: cannot listen on --host {host}: ")


def test_a_state_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "notes.txt"
    state.write_text("my notes\n" * 100, encoding="utf-8")
    line = _one_error_line(["--state", str(state)], capsys)
    assert line == f"sandbox: --state: {state} is not a sandbox state file (file is not a database)"
    assert state.read_text(encoding="utf-8") == "my notes\n" * 100


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "other.db"
    with sqlite3.connect(state) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    before = state.read_bytes()
    line = _one_error_line(["--state", str(state)], capsys)
    assert line == f"sandbox: --state: {state} is an SQLite database, but not a sandbox state file"
    assert state.read_bytes() == before  # before: a sandbox_state table was added to it


def test_a_sandbox_state_table_with_garbage_in_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "s.db"
    with sqlite3.connect(state) as conn:
        conn.execute("CREATE TABLE sandbox_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO sandbox_state VALUES ('accounts', '{not json')")
    conn.close()
    assert _one_error_line(["--state", str(state)], capsys).startswith(
        f"sandbox: --state: {state} holds unreadable sandbox state")
