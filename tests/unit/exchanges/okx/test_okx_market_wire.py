"""OKX public frames through the pure parser: every frame of the real capture, and hand-built
pushes in the 2026 layout ("Order book channel": seqId/prevSeqId, checksum deprecated to 0)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectorkit.core.funding_info import FundingInfoUpdate
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.okx.okx_market_wire import (
    OkxSubscriptionError,
    OkxWireError,
    SubscriptionAck,
    parse_public_frame,
    subscribe_payload,
)
from connectorkit.net.errors import WebError
from support.paths import CAPTURES

PAIRS = {"BTC-USDT": "BTC-USDT", "BTC-USDT-SWAP": "BTC-USDT"}


def _recorded_frames() -> list[str]:
    with (CAPTURES / "okx_spot.jsonl").open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [record["data"] for record in records if record["t"] == "recv"]


def test_every_recorded_frame_parses_into_the_documented_messages() -> None:
    kinds: dict[str, int] = {}
    for raw in _recorded_frames():
        parsed = parse_public_frame(raw, PAIRS)
        if isinstance(parsed, SubscriptionAck):
            kinds["ack"] = kinds.get("ack", 0) + 1
            assert parsed.event == "subscribe" and parsed.inst_id == "BTC-USDT"
            continue
        if parsed is None:
            kinds["ignored"] = kinds.get("ignored", 0) + 1  # tickers: not read by a book
            assert json.loads(raw)["arg"]["channel"] == "tickers"
            continue
        for item in parsed:
            assert isinstance(item, OrderBookMessage) and item.trading_pair == "BTC-USDT"
            kinds[item.type.name] = kinds.get(item.type.name, 0) + 1
            if item.type is OrderBookMessageType.TRADE:
                assert item.price is not None and item.price > 0 and item.amount is not None
            else:
                assert item.checksum is not None  # the 2022 recording predates the deprecation
                assert item.update_id == 0 and item.previous_update_id is None  # no seqId then
                assert all(len(level) == 2 for level in (*item.bids, *item.asks))
    assert kinds == {"ack": 6, "ignored": 25, "SNAPSHOT": 1, "DIFF": 97, "TRADE": 69}


def test_a_recorded_level_keeps_the_exchanges_strings() -> None:
    snapshot = next(r for r in _recorded_frames() if '"action":"snapshot"' in r)
    (message,) = parse_public_frame(snapshot, PAIRS)  # type: ignore[misc]
    assert message.asks[0] == ("30243.5", "1.44679")
    assert message.timestamp == pytest.approx(1652459225.381)


def _book_push(action: str | None, seq: int, prev: int, checksum: int = 0, channel: str = "books") -> str:
    frame: dict[str, object] = {
        "arg": {"channel": channel, "instId": "BTC-USDT-SWAP"},
        "data": [{"asks": [["41006.8", "0.60038921", "0", "1"]], "bids": [["41006.3", "0", "0", "0"]],
                  "ts": "1629966436396", "checksum": checksum, "prevSeqId": prev, "seqId": seq}],
    }
    if action is not None:
        frame["action"] = action
    return json.dumps(frame)


def test_2026_pushes_carry_the_seq_chain_and_a_zero_checksum_means_none() -> None:
    (snapshot,) = parse_public_frame(_book_push("snapshot", 123456, -1), PAIRS)  # type: ignore[misc]
    (update,) = parse_public_frame(_book_push("update", 123460, 123456, 7), PAIRS)  # type: ignore[misc]
    assert isinstance(snapshot, OrderBookMessage) and isinstance(update, OrderBookMessage)
    assert (snapshot.type, snapshot.update_id, snapshot.previous_update_id, snapshot.checksum) == (
        OrderBookMessageType.SNAPSHOT, 123456, -1, None,
    )
    assert (update.type, update.update_id, update.previous_update_id, update.checksum) == (
        OrderBookMessageType.DIFF, 123460, 123456, 7,
    )
    assert update.bids == [("41006.3", "0")]


def test_books5_pushes_have_no_action_and_are_snapshots() -> None:
    (message,) = parse_public_frame(_book_push(None, 5, 4, channel="books5"), PAIRS)  # type: ignore[misc]
    assert isinstance(message, OrderBookMessage) and message.type is OrderBookMessageType.SNAPSHOT
    with pytest.raises(OkxWireError, match="without action"):
        parse_public_frame(_book_push(None, 5, 4, channel="books"), PAIRS)


def test_funding_mark_and_index_pushes_are_partial_funding_updates() -> None:
    funding = parse_public_frame(json.dumps({
        "arg": {"channel": "funding-rate", "instId": "BTC-USDT-SWAP"},
        "data": [{"fundingRate": "0.0001515", "fundingTime": "1622822400000", "instId": "BTC-USDT-SWAP",
                  "instType": "SWAP", "nextFundingRate": "0.00029", "method": "next_period"}],
    }), PAIRS)
    mark = parse_public_frame(json.dumps({
        "arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
        "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6", "ts": "1630049139746"}],
    }), PAIRS)
    assert funding == [FundingInfoUpdate("BTC-USDT", rate=Decimal("0.0001515"),
                                         next_funding_utc_timestamp=1622822400)]
    assert mark == [FundingInfoUpdate("BTC-USDT", mark_price=Decimal("42310.6"))]


def test_a_refused_subscription_is_a_typed_error_with_the_code() -> None:
    refusal = json.dumps({"event": "error", "code": "60012", "msg": 'Invalid request: {"op": "subscribe"}',
                          "connId": "a4d3ae55"})
    with pytest.raises(OkxSubscriptionError) as error:
        parse_public_frame(refusal, PAIRS)
    assert error.value.code == "60012" and isinstance(error.value, WebError)


def test_pong_and_unread_channels_give_nothing() -> None:
    assert parse_public_frame("pong", PAIRS) is None
    assert parse_public_frame(b"pong", PAIRS) is None


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update"}',
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[[1,2,3,4]],'
        '"bids":[],"ts":"1"}]}',
        '{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],"bids":[],'
        '"ts":"1"}]}',
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"partial","data":[{"asks":[],"bids":[],'
        '"ts":"1"}]}',
        '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1",'
        '"px":"NaN","sz":"1","side":"buy","ts":"1"}]}',
        '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1",'
        '"px":"1","sz":"1","side":"up","ts":"1"}]}',
        '{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP",'
        '"markPx":"NaN","ts":"1"}]}',
        '{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP",'
        '"fundingRate":"Infinity","fundingTime":"1"}]}',
        '{"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","idxPx":"-5"}]}',
    ],
)
def test_off_schema_frames_are_typed_wire_errors(raw: str) -> None:
    with pytest.raises(OkxWireError):
        parse_public_frame(raw, PAIRS)


def test_subscribe_payload_names_every_instrument() -> None:
    payload = json.loads(subscribe_payload("subscribe", "books", ["BTC-USDT", "ETH-USDT"]))
    assert payload == {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"},
                                                   {"channel": "books", "instId": "ETH-USDT"}]}
    with pytest.raises(ValueError, match="operation"):
        subscribe_payload("login", "books", [])
