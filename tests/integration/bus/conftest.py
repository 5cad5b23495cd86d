"""Fixtures of the bus tests: a real Redis-protocol server (see ``support.redis_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.redis_server import RedisServer, default_binary


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(default_binary())
    server.start()
    try:
        yield server
    finally:
        server.close()
