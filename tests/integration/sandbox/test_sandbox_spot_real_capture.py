"""Sandbox stream and snapshot payloads have the shape of real recorded Binance traffic.

Reads the real capture (``tests/data/captures/binance_us_spot.jsonl``):
real depth snapshots and combined-stream frames (depthUpdate, aggTrade, bookTicker).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandbox_spot_support import assert_same_shape, running, seed_book
from test_sandbox_spot_streams import place, recv_until

from support.paths import CAPTURES
from support.waiting import subscribed

CAPTURE = (
    CAPTURES / "binance_us_spot.jsonl"
)


def real_samples() -> dict[str, Any]:
    """First real example of each payload kind in the capture."""
    samples: dict[str, Any] = {}
    with CAPTURE.open() as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["t"] == "http" and "/depth" in rec["url"] and "snapshot" not in samples:
                samples["snapshot"] = json.loads(rec["data"])
            elif rec["t"] == "recv":
                frame = json.loads(rec["data"])
                stream = frame.get("stream", "")
                kind = "bookTicker" if stream.endswith("@bookTicker") else frame.get("data", {}).get("e")
                if kind in ("depthUpdate", "aggTrade", "bookTicker") and kind not in samples:
                    samples[kind] = frame
            if len(samples) == 4:
                break
    return samples


async def test_payloads_have_the_shape_of_recorded_binance_traffic() -> None:
    real = real_samples()
    assert set(real) == {"snapshot", "depthUpdate", "aggTrade", "bookTicker"}
    async with running() as (sb, client):
        await seed_book(sb)
        snapshot = await client.ok("GET", "/api/v3/depth", {"symbol": "BTCUSDT"})
        assert_same_shape(snapshot, real["snapshot"])
        streams = "btcusdt@depth@100ms/btcusdt@aggTrade/btcusdt@bookTicker"
        async with client.session.ws_connect(f"{sb.ws_url}/stream?streams={streams}") as ws:
            await subscribed(sb.spot.hub, *streams.split("/"))
            place(sb, client.key, "BUY", "0.1", type_="MARKET")
            seen: dict[str, Any] = {}
            while len(seen) < 3:
                frame = await recv_until(ws, lambda f: True)
                kind = "bookTicker" if frame["stream"].endswith("@bookTicker") else frame["data"]["e"]
                seen.setdefault(kind, frame)
        for kind in ("depthUpdate", "aggTrade", "bookTicker"):
            assert_same_shape(seen[kind], real[kind])
            assert set(seen[kind]["data"]) == set(real[kind]["data"]), kind
        # Same number formatting as the real exchange: fixed 8 decimals on prices and quantities.
        price = real["aggTrade"]["data"]["p"]
        assert len(price.split(".")[1]) == len(seen["aggTrade"]["data"]["p"].split(".")[1]) == 8
        assert Decimal(seen["aggTrade"]["data"]["p"]) == Decimal("30010")
