"""Messages that carry order book data from a data source to the order book tracker.

One :class:`OrderBookMessage` is built per exchange frame on the hot path, so it is a msgspec
Struct (construction runs in C) and its price levels are kept exactly as the exchange sent them:
a sequence of ``(price, amount)`` string pairs. Nothing here converts a level to ``Decimal``; the
order book does that lazily, only for the levels a query reads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

import msgspec

from connectorkit.core.order_book import exact_decimal

Level = Sequence[str]
"""One price level as the exchange sent it: ``(price, amount)`` strings."""


def _exact(value: object) -> Decimal:
    if isinstance(value, str):
        return exact_decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"a price or amount must be a number or a decimal string, not {value!r}")


class OrderBookMessageType(Enum):
    SNAPSHOT = 1
    DIFF = 2
    TRADE = 3


class OrderBookMessage(msgspec.Struct, gc=False):
    """One snapshot, diff or trade for one trading pair.

    Two ways to build one:

    - ``OrderBookMessage(type, content, timestamp)``: the fields are read from the ``content``
      mapping (keys named like the fields below; ``price``/``amount`` may be strings);
    - ``OrderBookMessage(type, None, timestamp, trading_pair, update_id, ...)`` (positional or
      keyword, in the field order below): the fast path the wire parsers use.

    Fields:

    - ``update_id``: the exchange sequence number (Binance ``u`` / ``lastUpdateId``), or a local
      monotonic id that the data source assigns on receipt where the venue has none;
    - ``first_update_id`` / ``previous_update_id``: the venue's range start and chain link
      (Binance ``U`` / ``pu``), ``None`` where the venue has none;
    - ``bids`` / ``asks``: sequences of ``(price, amount)`` strings, amounts absolute (0 deletes);
    - trades: ``trade_id``, ``price``, ``amount`` (exact Decimals), ``is_buy`` (taker side);
    - ``checksum``: the exchange's book checksum where it sends one.

    ``timestamp`` is the exchange event time in seconds; ``received_at`` the local
    ``time.monotonic()`` at receipt, used for the receipt-to-applied latency metric.
    """

    type: OrderBookMessageType
    content: Mapping[str, Any] | None = None
    timestamp: float = 0.0
    trading_pair: str = ""
    update_id: int = 0
    first_update_id: int | None = None
    previous_update_id: int | None = None
    bids: Sequence[Level] = ()
    asks: Sequence[Level] = ()
    trade_id: int | str | None = None
    price: Decimal | None = None
    amount: Decimal | None = None
    is_buy: bool | None = None
    checksum: int | None = None
    received_at: float = msgspec.field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        content = self.content
        if content is not None:
            self.trading_pair = content["trading_pair"]
            self.update_id = content.get("update_id", 0)
            self.first_update_id = content.get("first_update_id")
            self.previous_update_id = content.get("previous_update_id")
            self.bids = content.get("bids", ())
            self.asks = content.get("asks", ())
            self.trade_id = content.get("trade_id")
            price = content.get("price")
            amount = content.get("amount")
            self.price = None if price is None else _exact(price)
            self.amount = None if amount is None else _exact(amount)
            self.is_buy = content.get("is_buy")
            self.checksum = content.get("checksum")
        elif not self.trading_pair:
            raise ValueError("OrderBookMessage needs a trading_pair (or a content mapping)")
