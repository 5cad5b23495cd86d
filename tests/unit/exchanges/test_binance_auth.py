import dataclasses
import hashlib
import hmac
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from connectorkit.exchanges.binance.binance_auth import BinanceAuth
from connectorkit.exchanges.binance_perpetual.binance_perpetual_auth import BinancePerpetualAuth
from connectorkit.net.rest_request import RESTMethod, RESTRequest, encode_query
from connectorkit.net.ws_request import WSJSONRequest

# docs: "REST API > Endpoint security type > SIGNED Endpoint Examples for POST /api/v3/order > HMAC Keys"
DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


class FixedClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def time(self) -> float:
        return self.ms / 1000


def test_signed_query_reproduces_the_documented_hmac_example() -> None:
    auth = BinanceAuth(DOC_API_KEY, DOC_SECRET, FixedClock(1499827319559), recv_window_ms=5000)
    params = {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
              "price": "0.1"}
    query = auth.signed_query(params)
    assert query == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
        f"&timestamp=1499827319559&signature={DOC_SIGNATURE}"
    )
    assert auth.header_for_authentication() == {"X-MBX-APIKEY": DOC_API_KEY}


def test_resigning_replaces_a_stale_timestamp_and_signature() -> None:
    clock = FixedClock(1_000)
    auth = BinanceAuth("key", "secret", clock)
    first = dict(parse_qsl(auth.signed_query({"symbol": "BTCUSDT"})))
    clock.ms = 2_000
    second = dict(parse_qsl(auth.signed_query(first)))
    assert second["timestamp"] == "2000"
    payload = "symbol=BTCUSDT&recvWindow=5000&timestamp=2000"
    assert second["signature"] == hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()


def test_values_are_percent_encoded_before_signing_and_none_is_dropped() -> None:
    auth = BinanceAuth("key", "secret", FixedClock(5))
    query = auth.signed_query({"newClientOrderId": "a b/c", "price": None, "reduceOnly": True,
                               "quantity": Decimal("1E-8")})
    payload, _, signature = query.rpartition("&signature=")
    assert payload == (
        "newClientOrderId=a+b%2Fc&reduceOnly=true&quantity=0.00000001&recvWindow=5000&timestamp=5")
    assert signature == hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()


def test_ws_api_params_are_signed_sorted_by_name() -> None:
    auth = BinanceAuth("my-key", "secret", FixedClock(1_700_000_000_000), recv_window_ms=6000)
    signed = auth.ws_api_signed_params()
    assert set(signed) == {"apiKey", "recvWindow", "timestamp", "signature"}
    payload = "apiKey=my-key&recvWindow=6000&timestamp=1700000000000"
    assert signed["signature"] == hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()


def test_secrets_never_appear_in_repr() -> None:
    auth = BinancePerpetualAuth("the-api-key", "the-secret", FixedClock(0))
    for text in (repr(auth), str(auth)):
        assert "the-api-key" not in text and "the-secret" not in text


@pytest.mark.parametrize(
    ("key", "secret", "window"),
    [("", "SECRET-XYZ", 5000), ("KEY-XYZ", "", 5000), ("KEY-XYZ", "SECRET-XYZ", 60_001)],
)
def test_bad_credentials_or_window_are_rejected(key: str, secret: str, window: int) -> None:
    with pytest.raises(ValueError) as info:
        BinanceAuth(key, secret, FixedClock(0), recv_window_ms=window)
    assert "SECRET-XYZ" not in str(info.value) and "KEY-XYZ" not in str(info.value)


async def test_rest_authenticate_signs_exactly_what_the_assistant_sends() -> None:
    auth = BinanceAuth("the-api-key", "secret", FixedClock(42))
    request = RESTRequest(RESTMethod.POST, "http://x/api/v3/order", params={"symbol": "BTCUSDT"},
                          data={"side": "BUY"}, is_auth_required=True)
    signed = await auth.rest_authenticate(request)
    assert signed.headers == {"X-MBX-APIKEY": "the-api-key"}
    assert signed.params is not None
    query = encode_query({k: v for k, v in signed.params.items() if k != "signature"})
    # totalParams = query string + request body (no "&" between them)
    expected = hmac.new(b"secret", (query + "side=BUY").encode(), hashlib.sha256).hexdigest()
    assert signed.params["signature"] == expected
    listen_key = RESTRequest(RESTMethod.POST, "http://x/api/v3/userDataStream", is_auth_required=True,
                             throttler_limit_id="/api/v3/userDataStream")
    keyed = await auth.rest_authenticate(listen_key)
    assert keyed.params is None and keyed.headers == {"X-MBX-APIKEY": "the-api-key"}
    perp = BinancePerpetualAuth("the-api-key", "secret", FixedClock(42))
    futures_key = dataclasses.replace(listen_key, throttler_limit_id="/fapi/v1/listenKey")
    keyed = await perp.rest_authenticate(futures_key)
    assert keyed.params is None
    assert set(auth.secret_values()) == {"the-api-key", "secret"}


async def test_ws_authenticate_signs_the_request_params() -> None:
    auth = BinanceAuth("the-api-key", "secret", FixedClock(7))
    request = WSJSONRequest({"id": "1", "method": "userDataStream.subscribe.signature"},
                            is_auth_required=True)
    signed = await auth.ws_authenticate(request)
    params = signed.payload["params"]
    assert params["apiKey"] == "the-api-key" and params["timestamp"] == 7
    assert signed.payload["method"] == "userDataStream.subscribe.signature"
