"""Venue checksums recomputed from the exchange's strings: OKX on its real recorded frames, Kraken
on the worked formatting of its guide (WebSocket "Book checksum (v2)")."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal

from connectorkit.core.book_checksum import asks_then_bids_crc32, interleaved_crc32
from support.paths import CAPTURES


def _okx_book_frames() -> list[dict[str, object]]:
    frames = []
    with (CAPTURES / "okx_spot.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["t"] != "recv":
                continue
            frame = json.loads(record["data"])
            if frame.get("arg", {}).get("channel") == "books" and "action" in frame:
                frames.append(frame)
    return frames


def _side(levels: dict[Decimal, tuple[str, str]], descending: bool) -> list[tuple[str, str]]:
    return [levels[price] for price in sorted(levels, reverse=descending)]


def test_every_recorded_okx_checksum_verifies_on_an_independently_rebuilt_book() -> None:
    bids: dict[Decimal, tuple[str, str]] = {}
    asks: dict[Decimal, tuple[str, str]] = {}
    verified = 0
    frames = _okx_book_frames()
    assert frames[0]["action"] == "snapshot"
    for frame in frames:
        (data,) = frame["data"]  # type: ignore[misc]
        if frame["action"] == "snapshot":
            bids.clear()
            asks.clear()
        for book, rows in ((bids, data["bids"]), (asks, data["asks"])):
            for price, size, *_ in rows:
                if Decimal(size) == 0:
                    book.pop(Decimal(price), None)
                else:
                    book[Decimal(price)] = (price, size)
        expected = data["checksum"]
        if expected:
            assert interleaved_crc32(_side(bids, True), _side(asks, False)) == expected
            verified += 1
    assert verified == len(frames) == 98


def test_a_changed_amount_or_a_reformatted_number_changes_the_okx_checksum() -> None:
    bids = [("100.5", "1.2"), ("100.4", "3")]
    asks = [("100.6", "0.5")]
    reference = interleaved_crc32(bids, asks)
    assert interleaved_crc32([("100.5", "1.20"), ("100.4", "3")], asks) != reference
    assert interleaved_crc32([("100.5", "1.3"), ("100.4", "3")], asks) != reference


def test_okx_interleaves_pairs_then_continues_with_the_longer_side_and_is_signed() -> None:
    bids = [("3366.1", "7"), ("3366", "6"), ("3365.9", "1")]
    asks = [("3366.8", "9")]
    text = "3366.1:7:3366.8:9:3366:6:3365.9:1"
    crc = zlib.crc32(text.encode())
    assert interleaved_crc32(bids, asks) == (crc - 2**32 if crc >= 2**31 else crc)
    deep = [(str(1000 - i), "1") for i in range(30)]
    assert interleaved_crc32(deep, []) == interleaved_crc32(deep[:25], [])
    assert any(interleaved_crc32([(str(p), "1")], []) < 0 for p in range(1, 50))


def test_kraken_strips_dots_then_leading_zeros_and_hashes_asks_before_bids_unsigned() -> None:
    asks = [("45285.2", "0.00100000"), ("45286.4", "1.54582015")]
    bids = [("45283.5", "0.10000000"), ("45283.4", "1.54582015")]
    text = "452852100000" + "452864154582015" + "45283510000000" + "452834154582015"
    assert asks_then_bids_crc32(bids, asks) == zlib.crc32(text.encode())
    assert asks_then_bids_crc32(bids, asks) >= 0
    deep = [(f"{100 + i}.0", "1.0") for i in range(12)]
    assert asks_then_bids_crc32([], deep) == asks_then_bids_crc32([], deep[:10])
    assert asks_then_bids_crc32(asks, bids) != asks_then_bids_crc32(bids, asks)
