"""AuthBase: abstract contract, masked repr/str, and redaction helpers that rely on it."""

from __future__ import annotations

import dataclasses

import pytest

from connectorkit.net.auth import AuthBase
from connectorkit.net.redaction import redact, url_without_secrets
from connectorkit.net.rest_request import RESTMethod, RESTRequest
from connectorkit.net.ws_request import WSJSONRequest

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


class KeyAuth(AuthBase):
    secret_param_names = frozenset({"passphrase_hint"})

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key = api_key
        self._secret = secret

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        return dataclasses.replace(request, headers={**(request.headers or {}), "X-KEY": self.api_key})

    async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
        return dataclasses.replace(request, payload={**request.payload, "apiKey": self.api_key})

    def secret_values(self) -> tuple[str, ...]:
        return (self.api_key, self._secret)


def test_auth_base_is_abstract() -> None:
    class Incomplete(AuthBase):
        async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
            return request

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_repr_and_str_mask_every_attribute_value() -> None:
    auth = KeyAuth(API_KEY, SECRET)
    for text in (repr(auth), str(auth), f"{auth}", repr([auth]), repr({"auth": auth})):
        assert API_KEY not in text and SECRET not in text
        assert API_KEY[:6] not in text
    assert repr(auth) == "KeyAuth(_secret=***, api_key=***)"


async def test_authenticate_returns_changed_copies() -> None:
    auth = KeyAuth(API_KEY, SECRET)
    request = RESTRequest(RESTMethod.GET, "https://x.test/api", headers={"A": "1"}, is_auth_required=True)
    signed = await auth.rest_authenticate(request)
    assert signed.headers == {"A": "1", "X-KEY": API_KEY}
    assert request.headers == {"A": "1"}  # the original is untouched (frozen request)
    message = await auth.ws_authenticate(WSJSONRequest({"method": "SUBSCRIBE"}, is_auth_required=True))
    assert message.payload == {"method": "SUBSCRIBE", "apiKey": API_KEY}


def test_url_without_secrets_drops_secret_params_and_user_info() -> None:
    url = (f"https://user:{SECRET}@api.x.test/api/v3/order?symbol=BTCUSDT&apiKey={API_KEY}"
           f"&timestamp=1&Signature=abc&passphrase_hint=pp&recvWindow=5000")
    safe = url_without_secrets(url, KeyAuth.secret_param_names)
    assert safe == "https://api.x.test/api/v3/order?symbol=BTCUSDT&timestamp=1&recvWindow=5000"
    # Without the auth's extra names, only the common ones are dropped.
    assert "passphrase_hint=pp" in url_without_secrets(url)


def test_redact_masks_values_longest_first_and_ignores_short_ones() -> None:
    text = f"bad key {API_KEY} (prefix {API_KEY[:20]}), secret {SECRET}, id 42"
    expected = "bad key *** (prefix ***), secret ***, id 42"
    assert redact(text, (API_KEY, API_KEY[:20], SECRET, "42")) == expected


def test_a_dataclass_auth_keeps_the_masked_repr() -> None:
    """``@dataclass`` writes a repr showing every field unless the class already has one; the masked
    repr must survive it (an explicit ``__repr__`` in the subclass body is the author's choice)."""

    @dataclasses.dataclass
    class DataAuth(AuthBase):
        api_key: str
        secret: str

        async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
            return request

        async def ws_authenticate(self, request: WSJSONRequest) -> WSJSONRequest:
            return request

        def secret_values(self) -> tuple[str, ...]:
            return (self.api_key, self.secret)

    auth = DataAuth(API_KEY, SECRET)
    for text in (repr(auth), str(auth), f"{auth!r} {auth}"):
        assert API_KEY not in text and SECRET not in text
    assert repr(auth) == "DataAuth(api_key=***, secret=***)"
    assert auth == DataAuth(API_KEY, SECRET)  # the rest of the dataclass still works
