"""Keeping credentials out of error messages and logs.

Two complementary rules are applied wherever the web layer turns a request into text:

1. by name -- query/body parameters whose name is secret (``signature``, ``apiKey``, ... plus any
   name an :class:`~connectorkit.net.auth.AuthBase` subclass declares) are dropped from URLs, and
   credentials embedded in the URL's user-info part are removed;
2. by value -- any known secret value (an auth's :meth:`secret_values`) that still appears in a
   text, e.g. echoed back by the exchange or inside a library's exception message, is replaced by
   ``***``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

#: Parameter names treated as secret for every exchange (compared case-insensitively).
DEFAULT_SECRET_PARAM_NAMES: frozenset[str] = frozenset(
    {"signature", "sign", "apikey", "api_key", "key", "secret", "secretkey", "passphrase", "password",
     "token", "listenkey", "access_token"}
)

#: Values shorter than this are not redacted by value: masking e.g. every ``"1"`` would garble
#: messages while such short strings cannot be real credentials.
_MIN_REDACTABLE_LENGTH = 6


def is_secret_name(name: str, extra_secret_names: Iterable[str] = ()) -> bool:
    """Whether a parameter/header name is secret (case-insensitive)."""
    lowered = name.lower()
    return lowered in DEFAULT_SECRET_PARAM_NAMES or lowered in {n.lower() for n in extra_secret_names}


def url_without_secrets(url: str, extra_secret_names: Iterable[str] = ()) -> str:
    """``url`` with secret query parameters and any user-info (``user:pass@``) removed."""
    names = frozenset(extra_secret_names)
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_secret_name(k, names)]
        query = urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str, secret_values: Iterable[str]) -> str:
    """``text`` with every occurrence of a known secret value replaced by :data:`MASK`."""
    values = {v for v in secret_values if len(v) >= _MIN_REDACTABLE_LENGTH}
    for value in sorted(values, key=len, reverse=True):  # longest first: a secret may contain another
        text = text.replace(value, MASK)
    return text


def masked(value: Any, extra_secret_names: Iterable[str] = ()) -> Any:
    """A copy of ``value`` fit for display: in every mapping (also inside lists and other mappings),
    the value of each secret-named key is replaced by :data:`MASK`. Anything else is returned as is."""
    names = frozenset(extra_secret_names)
    if isinstance(value, Mapping):
        return {
            key: MASK if isinstance(key, str) and is_secret_name(key, names) else masked(item, names)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [masked(item, names) for item in value]
    return value
