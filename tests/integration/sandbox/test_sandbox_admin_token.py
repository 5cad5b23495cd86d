"""The sandbox's admin API (/sandbox/...) is open on loopback only; on any other bind address every
admin route requires the admin token (issue 17, item 18). Real servers, real HTTP."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from connectorkit.sandbox import Sandbox
from connectorkit.sandbox.admin import is_loopback
from connectorkit.sandbox.cli import add_parser, run
from support.waiting import wait_until


def _interface_address() -> str | None:
    """This machine's address on its default route (a UDP "connect" sends nothing), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never routed anywhere real
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if is_loopback(address) or address == "0.0.0.0" else address


#: Non-loopback binds: every interface, and the machine's own interface address when it has one.
EXPOSED_HOSTS = ["0.0.0.0"] + [a for a in [_interface_address()] if a is not None]

ADMIN_REQUESTS = [  # every admin route, and an unknown one under /sandbox
    ("GET", "/sandbox/state", None),
    ("GET", "/sandbox/faults", None),
    ("POST", "/sandbox/accounts", {"balances": {"USDT": "10"}}),
    ("POST", "/sandbox/deposit", {"accountId": 1, "asset": "USDT", "amount": "1"}),
    ("POST", "/sandbox/faults/force_429", {"n": 1}),
    ("GET", "/sandbox/nothing-here", None),
]


def _base_url(sb: Sandbox, host: str) -> str:
    """Where a client reaches the server: the bound address, or loopback for "every interface"."""
    port = sb.rest_url.rsplit(":", 1)[1]
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"


@contextlib.asynccontextmanager
async def exposed_sandbox(host: str, token: str | None = None) -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=1, futures_markets=[], simulate=False, host=host, admin_token=token) as sb:
        yield sb


async def _status(session: aiohttp.ClientSession, method: str, url: str, body: object,
                  headers: dict[str, str]) -> int:
    async with session.request(method, url, json=body, headers=headers) as resp:
        return resp.status


@pytest.mark.parametrize("host", EXPOSED_HOSTS)
async def test_a_non_loopback_bind_requires_the_admin_token_on_every_admin_route(host: str) -> None:
    async with exposed_sandbox(host) as sb, aiohttp.ClientSession() as session:
        token = sb.admin_token
        assert token is not None and len(token) >= 32  # made up at start: nothing guessable
        base = _base_url(sb, host)
        for method, path, body in ADMIN_REQUESTS:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
                assert await _status(session, method, base + path, body, headers) == 401, (path, headers)
        assert sb.faults.log == [] and len(list(sb.accounts)) == 0  # nothing happened
        bearer = {"Authorization": f"Bearer {token}"}
        answers = [await _status(session, m, base + p, b, bearer) for m, p, b in ADMIN_REQUESTS]
        assert answers == [200, 200, 200, 200, 200, 404]
        assert sb.faults.kinds() == [] and len(list(sb.accounts)) == 1  # the account was created
        # the Binance API is not behind the admin token (it has its own key authentication)
        assert await _status(session, "GET", base + "/api/v3/ping", None, {}) == 429  # the armed fault
        assert await _status(session, "GET", base + "/api/v3/ping", None, {}) == 200


async def test_a_chosen_admin_token_is_the_one_required() -> None:
    async with exposed_sandbox("0.0.0.0", token="s3cret-admin") as sb, aiohttp.ClientSession() as session:
        assert sb.admin_token == "s3cret-admin"
        url = _base_url(sb, "0.0.0.0") + "/sandbox/state"
        assert await _status(session, "GET", url, None, {"Authorization": "Bearer s3cret-admin"}) == 200
        assert await _status(session, "GET", url, None, {"Authorization": "Bearer s3cret-admi"}) == 401


async def test_loopback_without_a_token_keeps_working() -> None:
    async with Sandbox(seed=1, futures_markets=[], simulate=False) as sb, aiohttp.ClientSession() as session:
        assert sb.host == "127.0.0.1" and sb.admin_token is None
        for method, path, body in ADMIN_REQUESTS[:-1]:
            assert await _status(session, method, sb.rest_url + path, body, {}) == 200, path


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("sandbox.example", False),
])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectorkit")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_help_says_a_non_loopback_host_needs_the_admin_token(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["sandbox", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--admin-token TOKEN" in text
    needs = "on any other --host every /sandbox/... request needs 'Authorization: Bearer <admin token>'"
    assert needs in text
    with pytest.raises(SystemExit):
        _parser().parse_args(["sandbox", "--admin-token", " "])  # an empty token is a usage error


async def test_the_cli_prints_the_admin_token_it_requires() -> None:
    args = _parser().parse_args(["sandbox", "--host", "0.0.0.0", "--no-futures", "--no-simulation"])
    lines: list[str] = []
    task = asyncio.create_task(run(args, out=lines.append), name="cli-sandbox-exposed")
    try:
        await wait_until(lambda: any(line.startswith("admin token:") for line in lines), what="token line")
        info = {line.split(":", 1)[0]: line.split(":", 1)[1].split()[0] for line in lines if ":" in line}
        port = info["rest"].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}/sandbox/state"
        async with aiohttp.ClientSession() as session:
            assert await _status(session, "GET", url, None, {}) == 401
            bearer = {"Authorization": f"Bearer {info['admin token']}"}
            assert await _status(session, "GET", url, None, bearer) == 200
    finally:
        task.cancel()
        assert await asyncio.gather(task, return_exceptions=True) == [0]
