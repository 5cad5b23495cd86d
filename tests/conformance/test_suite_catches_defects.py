"""The checks fail when the rule they state is broken: each test runs one check against a Binance
target made defective in one respect and expects the check's ConformanceError."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectorkit.connector.exchange_py_base import ExchangePyBase
from connectorkit.sandbox import Sandbox
from connectorkit.testing import ConformanceError, Credentials, SecretWatch, TrueBook, checks
from connectorkit.testing.binance import BinanceSpotTarget


class _LeakyTarget(BinanceSpotTarget):
    """A connector that logs its secret once, as a careless debug line would."""

    def build_connector(
        self, sandbox: Sandbox, credentials: Credentials | None, **settings: Any
    ) -> ExchangePyBase:
        connector = super().build_connector(sandbox, credentials, **settings)
        if credentials is not None:
            logger = logging.getLogger("connectorkit.exchanges.binance")
            logger.debug("signing with %s", credentials.api_secret)
        return connector


class _UnthrottledTarget(BinanceSpotTarget):
    """A connector that ignores the limits the venue advertises (keeps its larger built-in ones)."""

    def build_connector(
        self, sandbox: Sandbox, credentials: Credentials | None, **settings: Any
    ) -> ExchangePyBase:
        connector = super().build_connector(sandbox, credentials, **settings)
        connector._throttler.apply_advertised_limit = lambda limit_id, limit: False  # type: ignore[method-assign]
        return connector


class _WrongBookTarget(BinanceSpotTarget):
    """A sandbox whose reported book lacks its best bid: the connector's book can never equal it."""

    def true_book(self, sandbox: Sandbox) -> TrueBook:
        book = super().true_book(sandbox)
        return TrueBook(book.update_id, book.bids[1:], book.asks)


async def test_a_logged_secret_fails_the_secrets_check_without_repeating_it() -> None:
    with pytest.raises(ConformanceError, match="key or secret appeared") as raised:
        await checks.check_no_secrets_leak(_LeakyTarget())
    assert "signing with <LEAKED>" in str(raised.value)


async def test_a_connector_exceeding_the_advertised_limits_fails_the_throttling_check() -> None:
    with pytest.raises(ConformanceError, match=r"burst orders failed|refused"):
        await checks.check_throttler_keeps_within_advertised_limits(_UnthrottledTarget())


async def test_a_book_different_from_the_sandbox_fails_the_books_check() -> None:
    with pytest.raises(ConformanceError, match="book differs from the sandbox's"):
        await checks.check_books_track_true_book(_WrongBookTarget())


def test_the_secrets_watch_sees_messages_arguments_and_tracebacks() -> None:
    watch = SecretWatch(ignored_prefixes=("server",))
    watch.add("s3cr3t")
    watch.install()
    try:
        logging.getLogger("server.side").warning("s3cr3t")  # the sandbox's own logs are not checked
        watch.assert_clean()
        try:
            raise ValueError("bad signature for s3cr3t")
        except ValueError:
            logging.getLogger("client").exception("request failed")
    finally:
        watch.uninstall()
    with pytest.raises(ConformanceError, match="log record of client") as raised:
        watch.assert_clean()
    assert "bad signature for <LEAKED>" in str(raised.value) and "s3cr3t" not in str(raised.value)
