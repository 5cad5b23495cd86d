import hashlib
import hmac
import logging

import pytest

from connectorkit.exchanges.bybit.bybit_auth import BybitAuth
from connectorkit.exchanges.bybit.bybit_trading_wire import json_body
from connectorkit.net.redaction import redact
from connectorkit.net.rest_request import RESTMethod, RESTRequest, encode_query
from connectorkit.net.ws_request import WSJSONRequest

# docs: v5/guide "Create A Request": the documented example values (timestamp 1658384314791,
# recv window 5000, GET query "category=option&symbol=BTC-29JUL22-25000-C"); the page publishes
# no secret, so the expected signature is the HMAC of the documented concatenation.
DOC_TIMESTAMP_MS = 1658384314791
DOC_QUERY = "category=option&symbol=BTC-29JUL22-25000-C"


class FixedClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def time(self) -> float:
        return self.ms / 1000


def expected(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def test_get_signs_timestamp_key_window_and_the_exact_query_sent() -> None:
    auth = BybitAuth("XXXXXXXXXX", "the-secret", FixedClock(DOC_TIMESTAMP_MS))
    params = {"category": "option", "symbol": "BTC-29JUL22-25000-C"}
    assert encode_query(params) == DOC_QUERY  # what the REST assistant sends, byte for byte
    request = RESTRequest(RESTMethod.GET, "https://x/v5/order/realtime", params=params)
    signed = await auth.rest_authenticate(request)
    assert signed.headers == {
        "X-BAPI-API-KEY": "XXXXXXXXXX",
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": expected("the-secret", "1658384314791XXXXXXXXXX5000" + DOC_QUERY),
    }
    assert signed.params == params  # Bybit signs in headers: the query is left untouched


async def test_post_signs_the_exact_json_body() -> None:
    auth = BybitAuth("key-123", "secret-456", FixedClock(1_672_211_928_338), recv_window_ms=6000)
    body = json_body({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                      "qty": "0.1", "price": "15600", "timeInForce": "PostOnly",
                      "orderLinkId": "spot-test-01"})
    assert body == ('{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.1",'
                    '"price":"15600","timeInForce":"PostOnly","orderLinkId":"spot-test-01"}')
    request = RESTRequest(RESTMethod.POST, "https://x/v5/order/create", data=body)
    signed = await auth.rest_authenticate(request)
    assert signed.data == body
    assert signed.headers is not None
    assert signed.headers["X-BAPI-SIGN"] == expected("secret-456", "1672211928338key-1236000" + body)
    assert signed.headers["Content-Type"] == "application/json"


async def test_a_post_body_given_as_a_mapping_is_refused() -> None:
    auth = BybitAuth("key", "secret", FixedClock(0))
    with pytest.raises(TypeError, match="JSON body as a string"):
        await auth.rest_authenticate(RESTRequest(RESTMethod.POST, "https://x/v5/order/create", data={"a": 1}))


async def test_resigning_uses_the_current_clock() -> None:
    clock = FixedClock(1_000)
    auth = BybitAuth("key", "secret", clock)
    request = RESTRequest(RESTMethod.GET, "https://x/v5/position/list", params={"category": "linear"})
    first = await auth.rest_authenticate(request)
    clock.ms = 2_000
    second = await auth.rest_authenticate(first)
    assert second.headers is not None and second.headers["X-BAPI-TIMESTAMP"] == "2000"
    assert second.headers["X-BAPI-SIGN"] == expected("secret", "2000key5000category=linear")


async def test_ws_auth_signs_get_realtime_and_expires() -> None:
    # docs: v5/ws/connect "Authentication": args [api_key, expires, hex HMAC of "GET/realtime" + expires]
    auth = BybitAuth("the-key", "the-secret", FixedClock(1_662_350_399_000))
    payload = auth.ws_auth_payload(req_id="10001")
    signature = expected("the-secret", "GET/realtime1662350400000")
    assert payload == {"op": "auth", "req_id": "10001", "args": ["the-key", 1_662_350_400_000, signature]}
    signed = await auth.ws_authenticate(WSJSONRequest({"op": "auth"}))
    assert signed.payload["args"][1] == 1_662_350_400_000
    untouched = WSJSONRequest({"op": "subscribe", "args": ["order"]})
    assert await auth.ws_authenticate(untouched) is untouched


def test_secrets_never_appear_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    auth = BybitAuth("the-api-key", "the-secret", FixedClock(0))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("auth %s %r", auth, auth)
    for text in (repr(auth), str(auth), caplog.text):
        assert "the-api-key" not in text and "the-secret" not in text
    assert set(auth.secret_values()) == {"the-api-key", "the-secret"}


@pytest.mark.parametrize(("key", "secret", "window"), [
    ("", "secret-x", 5000), ("key-x", "", 5000), ("key-x", "secret-x", 0), ("key-x", "secret-x", 60_001),
])
def test_bad_credentials_or_window_are_rejected_without_echoing(key: str, secret: str, window: int) -> None:
    with pytest.raises(ValueError) as info:
        BybitAuth(key, secret, FixedClock(0), recv_window_ms=window)
    assert "key-x" not in str(info.value) and "secret-x" not in str(info.value)


def test_the_signed_ws_login_never_shows_the_secret_once_redacted_by_value() -> None:
    # WSJSONRequest's repr masks secret-*named* keys; Bybit's login carries the key positionally in
    # "args", so the web layer's by-value redaction (the auth's secret_values) is what hides it.
    auth = BybitAuth("the-api-key", "the-secret", FixedClock(0))
    text = redact(repr(WSJSONRequest(auth.ws_auth_payload())), auth.secret_values())
    assert "the-api-key" not in text and "the-secret" not in text and "GET/realtime" not in text
