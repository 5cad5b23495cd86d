"""``connectorkit sandbox --venue binance``: run the Binance skin until interrupted.

Prints its URLs and the keys of a ready-made funded account. ``--state FILE`` keeps accounts, balances,
orders and trades across clean restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from decimal import Decimal

from connectorkit.sandbox.persistence import SandboxStateError
from connectorkit.sandbox.venues.binance.sandbox import Sandbox

DESCRIPTION = (
    "Run the local Binance-compatible exchange (spot and USD-M futures) until interrupted. Prints its "
    "URLs and the keys of a ready-made funded account. --state FILE keeps accounts, balances, orders "
    "and trades across clean restarts. The admin API (/sandbox/...: create accounts, deposit, inject "
    "faults) is open on a loopback address only; on any other --host every /sandbox/... request needs "
    "'Authorization: Bearer <admin token>' (printed at start, or set with --admin-token)."
)
DEMO_LABEL = "cli-demo-account"
DEMO_BALANCES = {"USDT": Decimal("100000"), "BTC": Decimal("1"), "ETH": Decimal("10")}
DEMO_FUTURES_BALANCES = {"USDT": Decimal("100000")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags only this skin understands (the core parser holds host, admin token, port, seed,
    state, simulation)."""
    parser.add_argument("--futures-stream-port", type=int, default=0, help="futures stream port")
    parser.add_argument("--no-futures", action="store_true", help="serve spot only")


def _demo_account(sb: Sandbox) -> tuple[str, str]:
    for account in sb.accounts:
        if account.label == DEMO_LABEL:
            return account.api_key, account.secret
    futures = DEMO_FUTURES_BALANCES if sb.futures is not None else None
    return sb.create_account(DEMO_BALANCES, futures_balances=futures, label=DEMO_LABEL)


def _balances_lines(sb: Sandbox, api_key: str) -> list[str]:
    """The demo account's balances as the sandbox holds them (also after a ``--state`` restore)."""
    account_id = sb.account_id(api_key)
    spot = sb.spot.ledger.balances[account_id]
    lines = ["spot balances:   " + ", ".join(f"{a} {b.free + b.locked}" for a, b in sorted(spot.items()))]
    if sb.futures is not None:
        acct = sb.futures.exchange.account(account_id)
        lines.append("futures wallet:  " + ", ".join(f"{a} {acct.balance(a)}" for a in acct.assets()))
    return lines


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments before anything is bound, or None."""
    for flag, port in (("--port", args.port), ("--futures-stream-port", args.futures_stream_port)):
        if not 0 <= port <= 65535:
            return f"{flag} must be between 0 (any free port) and 65535, got {port}"
    if not args.host.strip():
        return "--host must name an address to bind, e.g. 127.0.0.1"
    return None


def _start_error(args: argparse.Namespace, exc: OSError) -> str:
    """One line for a failure to bind: the address and the system's reason, not a traceback."""
    return f"cannot listen on --host {args.host}: {exc.strerror or exc}"


async def run(args: argparse.Namespace, *, out: Callable[[str], None] = print,
              err: Callable[[str], None] = _stderr) -> int:
    """Start the sandbox, print how to reach it, serve until cancelled (Ctrl-C), stop cleanly.

    Cancellation is this command's normal way to end: the sandbox stops (saving ``--state``) and the
    exit code is 0. A bad port, an address that cannot be bound, a port in use or a ``--state``
    file that is not the sandbox's: one line on ``err`` and exit code 2.
    """
    problem = usage_error(args)
    if problem is not None:
        err(f"sandbox: {problem}")
        return 2
    sandbox = Sandbox(
        seed=args.seed,
        simulate=not args.no_simulation,
        futures_markets=[] if args.no_futures else None,
        state_file=args.state,
        host=args.host,
        port=args.port,
        futures_stream_port=args.futures_stream_port,
        admin_token=getattr(args, "admin_token", None),
    )
    try:
        await sandbox.start()
    except SandboxStateError as exc:
        err(f"sandbox: --state: {exc}")
        return 2
    except OSError as exc:
        err(f"sandbox: {_start_error(args, exc)}")
        return 2
    sb = sandbox
    try:
        api_key, secret = _demo_account(sb)
        out(f"rest:            {sb.rest_url}")
        out(f"spot streams:    {sb.ws_url}  (/ws/<stream>, /stream?streams=...)")
        out(f"spot ws-api:     {sb.ws_api_url}")
        if sb.futures is not None:
            out(f"futures rest:    {sb.futures_rest_url}")
            out(f"futures streams: {sb.futures_ws_url}")
        out(f"api key:         {api_key}")
        out(f"secret:          {secret}")
        for line in _balances_lines(sb, api_key):
            out(line)
        out("admin:           POST /sandbox/accounts, GET /sandbox/state, POST /sandbox/faults/<kind>")
        if sb.admin_token is not None:
            out(f"admin token:     {sb.admin_token}  (send 'Authorization: Bearer <token>' to /sandbox/...)")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            out("sandbox stopping")
    finally:
        await sandbox.stop()
    return 0
