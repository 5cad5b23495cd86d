"""Helpers for the Binance connectors' end-to-end tests against the in-process sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectorkit.connector.settings import create_connector
from connectorkit.core.events import MarketEvent
from connectorkit.sandbox import Sandbox
from support.waiting import wait_until

__all__ = ["wait_until"]  # re-exported: the e2e tests import it from here

FAST = {
    "short_poll_interval": 0.2,
    "long_poll_interval": 1.0,
    "user_stream_silence_threshold": 5.0,
    "funding_payment_poll_interval": 0.3,
    "request_timeout": 5.0,
}


class EventLog:
    """Every event a connector emits, by kind."""

    def __init__(self, connector: Any) -> None:
        self.events: list[tuple[MarketEvent, Any]] = []
        for kind in MarketEvent:
            connector.add_listener(kind, self._listener(kind))
        self._keep = connector  # listeners may be held weakly: keep the bound methods alive

    def _listener(self, kind: MarketEvent) -> Callable[[Any], None]:
        def record(event: Any) -> None:
            self.events.append((kind, event))

        self.__dict__[f"_l{kind.value}"] = record
        return record

    def of(self, kind: MarketEvent, order_id: str | None = None) -> list[Any]:
        return [e for k, e in self.events if k is kind and (order_id is None or e.order_id == order_id)]


def spot_connector(sb: Sandbox, key: str = "", secret: str = "", pairs: tuple[str, ...] = ("BTC-USDT",),
                   **overrides: Any) -> Any:
    return create_connector(
        "binance", trading_pairs=list(pairs), api_key=key, api_secret=secret,
        trading_required=bool(key), rest_url=sb.rest_url, ws_url=sb.ws_url, ws_api_url=sb.ws_api_url,
        **{**FAST, **overrides},
    )


def perpetual_connector(sb: Sandbox, key: str = "", secret: str = "", pairs: tuple[str, ...] = ("BTC-USDT",),
                        **overrides: Any) -> Any:
    return create_connector(
        "binance_perpetual", trading_pairs=list(pairs), api_key=key, api_secret=secret,
        trading_required=bool(key), rest_url=sb.futures_rest_url, ws_url=sb.futures_ws_url,
        **{**FAST, **overrides},
    )


Levels = list[tuple[Decimal, Decimal]]


def true_top(book: Any, depth: int = 20) -> tuple[Levels, Levels]:
    bids, asks = book.depth(depth)
    return [(p, q) for p, q in bids], [(p, q) for p, q in asks]


def connector_top(book: Any, depth: int = 20) -> tuple[Levels, Levels]:
    bids, asks = book.snapshot(depth)
    return [(r.price, r.amount) for r in bids], [(r.price, r.amount) for r in asks]


async def assert_book_tracks(connector: Any, pair: str, true_book: Any, comparisons: int = 15) -> None:
    """Sample every 10 ms while the sandbox trades: whenever the connector's book has applied the
    sandbox's latest change (same event loop, so nothing is in flight), its top 20 levels must equal
    the true book's. Needs ``comparisons`` distinct update ids compared, with every diff applied and
    no gap."""
    book = connector.get_order_book(pair)
    tracker = connector.order_book_tracker
    # From the first applied diff on, the book's update id is a diff's, never the snapshot's: a
    # match with the snapshot's own id (possible while no diff has arrived) proves nothing here.
    await wait_until(lambda: tracker.metrics(pair).diffs_applied >= 1, what="a first applied diff")
    compared: set[int] = set()
    for _ in range(1000):
        await asyncio.sleep(0.01)
        if book.last_diff_uid == true_book.update_id:
            assert connector_top(book) == true_top(true_book)
            compared.add(book.last_diff_uid)
            if len(compared) >= comparisons:
                break
    assert len(compared) >= comparisons
    metrics = tracker.metrics(pair)
    assert metrics.diffs_applied >= comparisons and metrics.gaps == 0, metrics
