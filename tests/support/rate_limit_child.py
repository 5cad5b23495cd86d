"""One trading process for the shared rate-limit tests: places N post-only orders as fast as its
throttler lets it, then prints ``{"created": c, "failed": f, "errors": [...]}``.

``python rate_limit_child.py REST_URL WS_URL WS_API_URL N [STORE_URL]``: it says ``{"event":
"ready"}`` and places its orders on the parent's ``go`` line. The key and secret come from the
environment (``CK_KEY``/``CK_SECRET``), never from the command line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from typing import Any

from connectorkit.connector.settings import create_connector
from connectorkit.core.enums import OrderType
from connectorkit.core.events import MarketEvent


async def main(rest_url: str, ws_url: str, ws_api_url: str, count: int, store_url: str) -> None:
    store = {"rate_limit_store": store_url} if store_url else {}
    connector: Any = create_connector(
        "binance", ["BTC-USDT"], os.environ["CK_KEY"], os.environ["CK_SECRET"], rest_url=rest_url,
        ws_url=ws_url, ws_api_url=ws_api_url, **store,
    )
    created: list[str] = []
    failed: list[str] = []
    done = asyncio.Event()

    def finished(_: Any) -> None:
        if len(created) + len(failed) >= count:
            done.set()

    def on_created(event: Any) -> None:
        created.append(event.order_id)
        finished(event)

    def on_failed(event: Any) -> None:
        failed.append(str(getattr(event, "error_message", event)))
        finished(event)

    connector.add_listener(MarketEvent.BuyOrderCreated, on_created)
    connector.add_listener(MarketEvent.OrderFailure, on_failed)
    await connector.start_network()
    try:
        async with asyncio.timeout(60):
            while not connector.ready:  # noqa: ASYNC110 - a connector has no readiness event
                await asyncio.sleep(0.05)
            print(json.dumps({"event": "ready"}), flush=True)
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
            await asyncio.get_running_loop().connect_read_pipe(lambda: protocol, sys.stdin)
            assert (await reader.readline()).strip() == b"go"
            for _ in range(count):
                connector.buy("BTC-USDT", Decimal("0.001"), OrderType.LIMIT_MAKER, Decimal("15000"))
            await done.wait()
    finally:
        await connector.stop_network()
    print(json.dumps({"created": len(created), "failed": len(failed), "errors": failed[:5]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                     sys.argv[5] if len(sys.argv) > 5 else ""))
