"""OKX signing ("REST Authentication > Signature", "WebSocket > Login"), checked piece by piece."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectorkit.exchanges.okx.okx_auth import OkxAuth, iso_timestamp
from connectorkit.net.rest_request import RESTMethod, RESTRequest
from connectorkit.net.ws_request import WSJSONRequest


class FixedClock:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def time(self) -> float:
        return self.seconds


def _b64_hmac(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def test_the_timestamp_is_iso_utc_with_milliseconds() -> None:
    assert iso_timestamp(1607418537.715) == "2020-12-08T09:08:57.715Z"  # the docs' example instant
    assert iso_timestamp(1607418537.0) == "2020-12-08T09:08:57.000Z"
    assert iso_timestamp(1607418537.9996) == "2020-12-08T09:08:58.000Z"


async def test_a_get_signs_its_path_with_the_query_and_no_body() -> None:
    auth = OkxAuth("key", "secret", "pass", FixedClock(1607418537.715))
    request = RESTRequest(RESTMethod.GET, "https://www.okx.com/api/v5/account/balance", params={"ccy": "BTC"},
                          is_auth_required=True)
    signed = await auth.rest_authenticate(request)
    assert signed.headers is not None
    assert signed.headers["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert signed.headers["OK-ACCESS-SIGN"] == _b64_hmac(
        "secret", "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    )
    assert (signed.headers["OK-ACCESS-KEY"], signed.headers["OK-ACCESS-PASSPHRASE"]) == ("key", "pass")
    assert "x-simulated-trading" not in signed.headers and "Content-Type" not in signed.headers
    assert signed.params == {"ccy": "BTC"}  # the query is sent exactly as signed


async def test_a_post_signs_the_exact_json_body_and_demo_trading_adds_its_header() -> None:
    auth = OkxAuth("key", "secret", "pass", FixedClock(1607418537.715), demo_trading=True)
    body = '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
    signed = await auth.rest_authenticate(
        RESTRequest(RESTMethod.POST, "https://www.okx.com/api/v5/account/set-leverage", data=body)
    )
    assert signed.headers is not None
    assert signed.headers["OK-ACCESS-SIGN"] == _b64_hmac(
        "secret", "2020-12-08T09:08:57.715ZPOST/api/v5/account/set-leverage" + body
    )
    assert signed.headers["x-simulated-trading"] == "1"
    assert signed.headers["Content-Type"] == "application/json"
    with pytest.raises(TypeError, match="JSON text"):
        await auth.rest_authenticate(RESTRequest(RESTMethod.POST, "https://x/api", data={"a": 1}))


async def test_the_websocket_login_signs_seconds_get_and_the_verify_path() -> None:
    auth = OkxAuth("key", "secret", "pass", FixedClock(1538054050.975))
    signed = await auth.ws_authenticate(WSJSONRequest({"op": "login"}, is_auth_required=True))
    (args,) = signed.payload["args"]
    assert signed.payload["op"] == "login"
    assert args == {"apiKey": "key", "passphrase": "pass", "timestamp": "1538054050",
                    "sign": _b64_hmac("secret", "1538054050GET/users/self/verify")}
    with pytest.raises(TypeError, match="login"):
        await auth.ws_authenticate(WSJSONRequest({"op": "subscribe"}))


def test_credentials_never_appear_in_repr_and_empty_ones_are_refused() -> None:
    auth = OkxAuth("the-api-key", "the-secret", "the-passphrase", FixedClock(0))
    for text in (repr(auth), str(auth)):
        assert "the-api-key" not in text and "the-secret" not in text and "the-passphrase" not in text
    assert set(auth.secret_values()) == {"the-api-key", "the-secret", "the-passphrase"}
    with pytest.raises(ValueError, match="passphrase"):
        OkxAuth("k", "s", "", FixedClock(0))
