"""Child process of the journal crash test: trade against the sandbox with a journal, then wait to be killed.

Reads the sandbox URLs, the account's credentials and the journal path from the environment. In the
default mode it prints ``CREATED <client order id>`` once the resting sell is journaled as created
and ``FILLED`` once its first fill is journaled, then sleeps until the parent kills it with SIGKILL.
With ``CK_MODE=placing`` it journals the order right after ``sell`` (before any answer), prints
``TRACKED <client order id>`` once that write is acknowledged and kills itself with SIGKILL at once:
the placement request may or may not have reached the exchange.
"""

from __future__ import annotations

import asyncio
import os
import signal
from decimal import Decimal

from connectorkit.connector.settings import create_connector
from connectorkit.core.enums import OrderType
from connectorkit.core.events import MarketEvent
from connectorkit.storage import OrderJournal

PAIR = "BTC-USDT"


async def main() -> None:
    env = os.environ
    connector = create_connector(
        "binance", trading_pairs=[PAIR], api_key=env["CK_KEY"], api_secret=env["CK_SECRET"],
        trading_required=True, rest_url=env["CK_REST"], ws_url=env["CK_WS"], ws_api_url=env["CK_WS_API"],
        short_poll_interval=0.2, long_poll_interval=1.0, request_timeout=5.0,
    )
    journal = OrderJournal(env["CK_JOURNAL"], connector_name="binance")
    await journal.open()
    journal.attach(connector)
    created, filled = asyncio.Event(), asyncio.Event()

    def on_created(_: object) -> None:
        created.set()

    def on_filled(_: object) -> None:
        filled.set()

    connector.add_listener(MarketEvent.SellOrderCreated, on_created)
    connector.add_listener(MarketEvent.OrderFilled, on_filled)
    await connector.start_network()
    for _ in range(3000):
        if connector.ready:
            break
        await asyncio.sleep(0.02)
    else:
        raise SystemExit("connector never became ready")
    order_id = connector.sell(PAIR, Decimal("0.3"), OrderType.LIMIT, Decimal("30015"))
    if env.get("CK_MODE") == "placing":
        await asyncio.wrap_future(journal.record_order(connector.in_flight_orders[order_id]))
        print("TRACKED", order_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    await created.wait()
    await journal.flush()
    print("CREATED", order_id, flush=True)
    await filled.wait()
    await journal.flush()
    print("FILLED", flush=True)
    await asyncio.sleep(3600)  # killed by the parent


if __name__ == "__main__":
    asyncio.run(main())
