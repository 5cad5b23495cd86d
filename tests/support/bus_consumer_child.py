"""A consumer process for the bus tests: a connector whose books come from the market-data bus.

``python bus_consumer_child.py CONNECTOR BUS_URL REST_URL PAIR...`` prints ``{"event": "started"}``, then
answers each ``dump`` line on stdin with one JSON line describing every book (ready, the exchange
update id of the book state, all levels as the exchange's strings, counters); ``quit`` stops it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from connectorkit.connector.settings import create_connector


def dump(connector: Any) -> dict[str, Any]:
    tracker = connector.order_book_tracker
    source = tracker.data_source
    pairs = {}
    for pair in connector.trading_pairs:
        book = tracker.order_books[pair]
        metrics = tracker.metrics(pair)
        pairs[pair] = {
            "ready": tracker.is_ready(pair),
            "uid": source.exchange_update_id(pair, book.last_diff_uid),
            "bids": [list(level) for level in book.raw_levels(True)],
            "asks": [list(level) for level in book.raw_levels(False)],
            "resyncs": metrics.resyncs,
            "last_trade": str(book.last_trade_price),
        }
    stats = source.stats
    return {"pairs": pairs, "malformed": source.malformed_frames, "breaks": stats.breaks,
            "connection_losses": stats.connection_losses, "heartbeat_expiries": stats.heartbeat_expiries}


async def main(connector_name: str, bus_url: str, rest_url: str, pairs: list[str]) -> None:
    # Books never come from the exchange: its stream URL is an unreachable port, and REST serves
    # only the instrument list (symbol map, trading rules).
    connector = create_connector(connector_name, pairs, trading_required=False, market_data_bus=bus_url,
                                 rest_url=rest_url, ws_url="ws://127.0.0.1:9")
    await connector.start_network()
    print(json.dumps({"event": "started"}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().strip():
            if line == "quit":
                break
            print(json.dumps(dump(connector)), flush=True)
    finally:
        await connector.stop_network()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
