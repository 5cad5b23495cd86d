import json
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from bybit_fixtures import assert_schema_matches, capture_records, fixture_bytes, fixture_json

from connectorkit.core.funding_info import FundingInfoUpdate
from connectorkit.core.order_book_message import OrderBookMessage, OrderBookMessageType
from connectorkit.exchanges.bybit import bybit_market_wire as wire
from connectorkit.exchanges.bybit.bybit_market_wire import (
    BookSequence,
    BybitSubscriptionError,
    BybitWireError,
    ControlAnswer,
    ControlKind,
    classify_update,
    merge_funding,
    parse_public_frame,
)

SYMBOLS = {"BTCUSDT": "BTC-USDT", "ETHUSDT": "ETH-USDT"}


def book(u: int, kind: str = "delta", bids: str = '[["100.5","1"]]', asks: str = "[]") -> bytes:
    return (f'{{"topic":"orderbook.200.BTCUSDT","ts":1700000000000,"type":"{kind}",'
            f'"data":{{"s":"BTCUSDT","b":{bids},"a":{asks},"u":{u},"seq":9}}}}').encode()


def parse_book(raw: bytes) -> OrderBookMessage:
    item = parse_public_frame(raw, SYMBOLS, received_at=1.0)
    assert isinstance(item, OrderBookMessage)
    return item


# --- doc examples (tests/fixtures/bybit_v5) ---------------------------------------------------


def test_doc_schemas_have_the_documented_fields_and_types() -> None:
    assert_schema_matches(wire._BookData, fixture_json("websocket__public__orderbook__snapshot")["data"])
    assert_schema_matches(wire._Trade, fixture_json("websocket__public__trade")["data"][0])
    assert_schema_matches(wire._Ticker, fixture_json("websocket__public__ticker__linear")["data"])
    assert_schema_matches(wire._Ticker, fixture_json("websocket__public__ticker__spot")["data"])
    for name in ("ws__connect__auth", "ws__connect__pong__spot", "ws__connect__pong__linear",
                 "ws__connect__pong__private", "ws__connect__subscribe__spot"):
        assert_schema_matches(wire.BybitFrame, fixture_json(name))


def test_doc_orderbook_snapshot() -> None:
    message = parse_book(fixture_bytes("websocket__public__orderbook__snapshot"))
    assert message.type is OrderBookMessageType.SNAPSHOT
    assert (message.trading_pair, message.update_id) == ("BTC-USDT", 18521288)
    assert message.timestamp == 1672304484.978
    assert list(message.bids) == [("16493.50", "0.006"), ("16493.00", "0.100")]
    assert list(message.asks) == [("16611.00", "0.029"), ("16612.00", "0.213")]


def test_doc_public_trade_is_a_taker_buy() -> None:
    items = parse_public_frame(fixture_bytes("websocket__public__trade"), SYMBOLS)
    assert isinstance(items, list) and len(items) == 1
    trade = items[0]
    assert trade.type is OrderBookMessageType.TRADE and trade.is_buy is True
    assert (trade.trade_id, trade.price, trade.amount) == (
        "20f43950-d8dd-5b31-9112-a178eb6023af", Decimal("16578.5"), Decimal("0.001"))
    assert trade.timestamp == 1672304486.865


def test_doc_linear_ticker_then_a_delta_merges_only_the_changed_field() -> None:
    snapshot = parse_public_frame(fixture_bytes("websocket__public__ticker__linear"), SYMBOLS)
    assert snapshot == FundingInfoUpdate("BTC-USDT", Decimal("17227.36"), Decimal("17217.33"), 1673280000,
                                         Decimal("-0.000212"))
    state = merge_funding(None, snapshot)
    raw = (b'{"topic":"tickers.BTCUSDT","type":"delta","ts":1673272861786,"cs":1,'
           b'"data":{"symbol":"BTCUSDT","fundingRate":"-0.000213","bid1Price":"17215"}}')
    delta = parse_public_frame(raw, SYMBOLS)
    assert delta == FundingInfoUpdate("BTC-USDT", rate=Decimal("-0.000213"))
    merged = merge_funding(state, delta)
    assert merged.rate == Decimal("-0.000213")
    assert (merged.index_price, merged.mark_price, merged.next_funding_utc_timestamp) == (
        Decimal("17227.36"), Decimal("17217.33"), 1673280000)
    with pytest.raises(BybitWireError, match="before the snapshot"):
        merge_funding(None, delta)


def test_doc_spot_ticker_carries_no_funding() -> None:
    assert parse_public_frame(fixture_bytes("websocket__public__ticker__spot"), SYMBOLS) is None


@pytest.mark.parametrize(("name", "kind"), [
    ("ws__connect__auth", ControlKind.AUTH),
    ("ws__connect__pong__spot", ControlKind.PONG),
    ("ws__connect__pong__linear", ControlKind.PONG),
    ("ws__connect__pong__private", ControlKind.PONG),
    ("ws__connect__subscribe__private", ControlKind.SUBSCRIBE),
    ("ws__connect__subscribe__spot", ControlKind.SUBSCRIBE),
    ("ws__connect__subscribe__linear", ControlKind.SUBSCRIBE),
])
def test_doc_operation_answers_are_classified(name: str, kind: ControlKind) -> None:
    answer = parse_public_frame(fixture_bytes(name), SYMBOLS)
    assert isinstance(answer, ControlAnswer)
    assert answer.kind is kind and answer.success is True
    answer.raise_if_refused(["orderbook.200.BTCUSDT"])


def test_a_refused_subscription_is_an_error_naming_the_topic() -> None:
    answer = parse_public_frame(b'{"success":false,"ret_msg":"error:handler not found","conn_id":"c",'
                                b'"req_id":"sub1","op":"subscribe"}', SYMBOLS)
    assert isinstance(answer, ControlAnswer) and answer.req_id == "sub1"
    with pytest.raises(BybitSubscriptionError, match=r"orderbook\.7\.BTCUSDT.*handler not found") as info:
        answer.raise_if_refused(["orderbook.7.BTCUSDT"])
    assert info.value.topics == ("orderbook.7.BTCUSDT",)


# --- the real capture (tests/data/captures/bybit_spot.jsonl) ----------------------------------


def test_every_frame_of_the_real_capture_parses_and_u_never_gaps() -> None:
    kinds: Counter[str] = Counter()
    last_u: dict[tuple[str, str], int] = {}
    verdicts: Counter[BookSequence] = Counter()
    sends = 0
    for record in capture_records():
        if record["t"] == "send":
            sends += 1
        if record["t"] != "recv":
            continue
        item = parse_public_frame(record["data"], SYMBOLS, received_at=record["ts"])
        if isinstance(item, OrderBookMessage):
            key = (record["conn"], item.trading_pair)
            verdicts[classify_update(last_u.get(key), item)] += 1
            last_u[key] = item.update_id
            kinds[item.type.name] += 1
        elif isinstance(item, ControlAnswer):
            assert item.success and item.kind is ControlKind.SUBSCRIBE
            kinds["ack"] += 1
        elif isinstance(item, list):
            assert all(t.type is OrderBookMessageType.TRADE and t.price and t.amount for t in item)
            kinds["trades"] += 1
        else:
            kinds[type(item).__name__] += 1  # spot tickers and kline: None
    assert verdicts == {BookSequence.SNAPSHOT: 2, BookSequence.NEXT: 548}
    assert kinds == {"SNAPSHOT": 2, "DIFF": 548, "ack": 7, "trades": 18, "NoneType": 106}
    assert kinds["ack"] == sends


def test_capture_snapshots_reset_each_book_and_deltas_follow_by_one() -> None:
    firsts: dict[str, OrderBookMessage] = {}
    following: defaultdict[str, list[int]] = defaultdict(list)
    for record in capture_records():
        if record["t"] == "recv" and '"orderbook.' in record["data"]:
            message = parse_book(record["data"].encode())
            if message.type is OrderBookMessageType.SNAPSHOT:
                firsts[message.trading_pair] = message
                assert len(message.bids) == len(message.asks) == 200  # the subscribed depth
            else:
                following[message.trading_pair].append(message.update_id)
    for pair, snapshot in firsts.items():
        ids = following[pair]
        assert ids == list(range(snapshot.update_id + 1, snapshot.update_id + 1 + len(ids)))


# --- sequence rule (v5/websocket/public/orderbook: u == 1 after a restart) --------------------


def test_u_equal_one_after_higher_ids_is_a_restart_snapshot() -> None:
    assert classify_update(None, parse_book(book(500, "snapshot"))) is BookSequence.SNAPSHOT
    assert classify_update(500, parse_book(book(501))) is BookSequence.NEXT
    restart = parse_book(book(1, "delta"))  # u == 1 is a snapshot whatever "type" says
    assert restart.type is OrderBookMessageType.SNAPSHOT
    assert classify_update(501, restart) is BookSequence.RESTART
    assert classify_update(1, parse_book(book(2))) is BookSequence.NEXT


def test_a_skipped_or_repeated_u_and_a_delta_without_book_are_gaps() -> None:
    assert classify_update(500, parse_book(book(502))) is BookSequence.GAP
    assert classify_update(500, parse_book(book(500))) is BookSequence.GAP
    assert classify_update(None, parse_book(book(7))) is BookSequence.GAP


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "match"), [
    (b'{"topic":"orderbook.200.BTCUSDT",', "bad frame"),
    (b"[1,2]", "bad frame"),
    (book(5).replace(b'"u":5', b'"u":"5"'), "Expected `int`"),
    (book(5, bids='[["100.5","NaN"]]'), "bad bid level"),
    (book(5, asks='[["100.5","-1"]]'), "bad ask level"),
    (book(5, bids='[["1e5","1"]]'), "bad bid level"),
    (book(5, bids='[[100.5,"1"]]'), "Expected `str`"),
    (book(5, bids='[["100.5","1","x"]]'), "Expected `array` of length 2"),
    (book(5, kind="partial"), "unknown type"),
    (book(5).replace(b'"ts":1700000000000,', b""), "no ts"),
    (book(5).replace(b"BTCUSDT", b"XRPUSDT"), "unknown symbol"),
    (b'{"topic":"weird.BTCUSDT","data":{}}', "unknown topic"),
    (b'{"op":"dance","success":true}', "unknown operation"),
    (b'{"op":"subscribe"}', "without success"),
    (b'{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"BTCUSDT","S":"Hold",'
     b'"v":"1","p":"2","i":"x"}]}', "unknown side"),
    (b'{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"BTCUSDT","S":"Buy",'
     b'"v":"-1","p":"2","i":"x"}]}', "bad price/size"),
    (b'{"topic":"tickers.BTCUSDT","ts":1,"type":"delta","data":{"symbol":"BTCUSDT","markPrice":"NaN"}}',
     "not a decimal"),
    (b'{"topic":"tickers.BTCUSDT","ts":1,"type":"delta","data":{"symbol":"BTCUSDT","nextFundingTime":"soon"}}',
     "not a timestamp"),
])
def test_malformed_frames_raise_a_typed_error(raw: bytes, match: str) -> None:
    with pytest.raises(BybitWireError, match=match):
        parse_public_frame(raw, SYMBOLS)


def test_unknown_fields_are_ignored_and_unused_topics_give_none() -> None:
    extra = book(5).replace(b'"seq":9', b'"seq":9,"newField":{"x":[1]}')
    assert parse_book(extra).update_id == 5
    kline = (b'{"type":"snapshot","topic":"kline.1.BTCUSDT","data":[{"start":1,"end":2,"interval":"1",'
             b'"open":"1","close":"1","high":"1","low":"1","volume":"0","turnover":"0","confirm":false,'
             b'"timestamp":1}],"ts":1}')
    assert parse_public_frame(kline, SYMBOLS) is None


# --- payload builders (v5/ws/connect) -----------------------------------------------------------


def test_subscribe_payloads_respect_the_spot_args_limit_and_number_req_ids() -> None:
    topics = [wire.orderbook_topic(200, f"S{n}USDT") for n in range(23)]
    payloads = wire.subscribe_payloads(topics, max_args=10, req_id_prefix="sub")
    assert [len(p["args"]) for p in payloads] == [10, 10, 3]
    assert [p["req_id"] for p in payloads] == ["sub0", "sub1", "sub2"]
    assert [t for p in payloads for t in p["args"]] == topics
    assert payloads[0]["op"] == "subscribe"
    assert wire.subscribe_payloads(["publicTrade.BTCUSDT", "tickers.BTCUSDT"]) == [
        {"op": "subscribe", "args": ["publicTrade.BTCUSDT", "tickers.BTCUSDT"]}]


def test_unsubscribe_ping_and_topic_builders() -> None:
    assert wire.unsubscribe_payload([wire.trade_topic("ETHUSDT")], req_id="u1") == {
        "op": "unsubscribe", "args": ["publicTrade.ETHUSDT"], "req_id": "u1"}
    assert wire.ping_payload() == {"op": "ping"}
    assert wire.ping_payload("100001") == {"op": "ping", "req_id": "100001"}
    assert wire.ticker_topic("BTCUSDT") == "tickers.BTCUSDT"
    with pytest.raises(ValueError, match="at least one topic"):
        wire.unsubscribe_payload([])


def test_one_subscribe_request_stays_under_the_documented_args_length() -> None:
    topics = [wire.orderbook_topic(1000, "S" * 40 + str(n)) for n in range(600)]
    payloads = wire.subscribe_payloads(topics)
    assert len(payloads) > 1 and [t for p in payloads for t in p["args"]] == topics
    assert all(len(json.dumps(p["args"], separators=(",", ":"))) <= 21_000 for p in payloads)
