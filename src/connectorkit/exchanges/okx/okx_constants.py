"""OKX API v5: hosts, paths, channels and the keep-alive rule.

Sources (OKX API v5 documentation, https://www.okx.com/docs-v5/en/):
- "Overview > Production Trading Services" and "Demo Trading Services": REST ``https://www.okx.com``,
  WebSocket ``wss://ws.okx.com:8443/ws/v5/{public,private,business}``; demo trading uses
  ``wss://wspap.okx.com:8443`` and the REST header ``x-simulated-trading: 1``.
- "Overview > WebSocket > Connect": a connection with no subscription, or no data pushed for 30 s,
  is closed by the server; the client sends the text ``ping`` when it has received nothing for
  N < 30 seconds and expects the text ``pong``.
- "Public Data > WebSocket > Order book channel": ``books`` (400 levels, snapshot then updates,
  100 ms), ``books5`` (5 levels, every push a snapshot, 100 ms), ``bbo-tbt`` (1 level, snapshot,
  10 ms), ``books50-l2-tbt`` and ``books-l2-tbt`` (login required). Each push carries ``seqId``
  and ``prevSeqId`` (``-1`` on a snapshot); the ``checksum`` field is 0 on every push since its
  deprecation (production 2026-06-23: "OKX Order Book Channels Checksum Field Deprecation"), so
  a zero checksum means "none" and continuity is checked by ``prevSeqId == previous seqId``.
"""

from __future__ import annotations

from typing import Final

EXCHANGE_NAME: Final = "okx"

DEFAULT_REST_URL: Final = "https://www.okx.com"
DEFAULT_WS_URL: Final = "wss://ws.okx.com:8443"
DEMO_WS_URL: Final = "wss://wspap.okx.com:8443"
DEMO_TRADING_HEADER: Final = ("x-simulated-trading", "1")

WS_PUBLIC_PATH: Final = "/ws/v5/public"
WS_PRIVATE_PATH: Final = "/ws/v5/private"
WS_BUSINESS_PATH: Final = "/ws/v5/business"

INSTRUMENTS_PATH: Final = "/api/v5/public/instruments"
SERVER_TIME_PATH: Final = "/api/v5/public/time"
BOOKS_PATH: Final = "/api/v5/market/books"

PING: Final = "ping"
PONG: Final = "pong"
PING_AFTER_SILENCE_S: Final = 20.0
"""Send ``ping`` after this long without a message (the server closes a socket silent for 30 s)."""

CHANNEL_BOOKS: Final = "books"
CHANNEL_BOOKS5: Final = "books5"
CHANNEL_BBO: Final = "bbo-tbt"
SNAPSHOT_ONLY_BOOK_CHANNELS: Final = frozenset({CHANNEL_BOOKS5, CHANNEL_BBO})
"""Channels whose every push is a whole (depth-limited) book, with no ``action`` field."""
BOOK_CHANNEL_DEPTH: Final = {CHANNEL_BOOKS: 400, CHANNEL_BOOKS5: 5, CHANNEL_BBO: 1}
CHANNEL_TRADES: Final = "trades"
CHANNEL_TICKERS: Final = "tickers"
CHANNEL_FUNDING_RATE: Final = "funding-rate"
CHANNEL_MARK_PRICE: Final = "mark-price"
CHANNEL_INDEX_TICKERS: Final = "index-tickers"

SNAPSHOT_PREV_SEQ_ID: Final = -1
"""``prevSeqId`` of a book snapshot push."""
