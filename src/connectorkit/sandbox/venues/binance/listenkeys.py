"""Listen keys for user-data streams (Spot docs "User Data Streams" / USD-M "User Data Streams").

A key is valid for ``validity_ms`` (60 minutes on Binance) after creation or the last keep-alive;
POST on an account that has an active key returns that key and extends it. When a key expires, a
``listenKeyExpired`` event is sent on its stream and nothing more is delivered to it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectorkit.sandbox.venues.binance import errors

_ALPHABET = string.ascii_letters + string.digits


@dataclass(slots=True)
class ListenKey:
    key: str
    account_id: int
    expires_ms: int


class ListenKeyRegistry:
    def __init__(self, validity_ms: int = 3_600_000) -> None:
        self.validity_ms = validity_ms
        self._keys: dict[str, ListenKey] = {}
        self.on_expired: list[Callable[[ListenKey, int], None]] = []

    def create(self, account_id: int, now_ms: int) -> str:
        for lk in self._keys.values():
            if lk.account_id == account_id:
                lk.expires_ms = now_ms + self.validity_ms
                return lk.key
        key = "".join(secrets.choice(_ALPHABET) for _ in range(60))
        self._keys[key] = ListenKey(key, account_id, now_ms + self.validity_ms)
        return key

    def keepalive(self, key: str, account_id: int, now_ms: int) -> None:
        lk = self._keys.get(key)
        if lk is None or lk.account_id != account_id:
            raise errors.unknown_listen_key()
        lk.expires_ms = now_ms + self.validity_ms

    def close(self, key: str, account_id: int) -> None:
        lk = self._keys.get(key)
        if lk is None or lk.account_id != account_id:
            raise errors.unknown_listen_key()
        del self._keys[key]

    def get(self, key: str) -> ListenKey | None:
        return self._keys.get(key)

    def keys_for(self, account_id: int) -> list[str]:
        return [lk.key for lk in self._keys.values() if lk.account_id == account_id]

    def expire(self, key: str | None, now_ms: int) -> list[str]:
        """Expire ``key`` (or every key) now; returns the keys expired."""
        victims = [lk for k, lk in self._keys.items() if key is None or k == key]
        for lk in victims:
            del self._keys[lk.key]
            for callback in self.on_expired:
                callback(lk, now_ms)
        return [lk.key for lk in victims]

    def sweep(self, now_ms: int) -> list[str]:
        """Expire every key whose validity ran out (called periodically by the product)."""
        expired: list[str] = []
        for lk in [lk for lk in self._keys.values() if lk.expires_ms <= now_ms]:
            expired += self.expire(lk.key, now_ms)
        return expired

    def dump(self) -> list[dict[str, Any]]:
        return [
            {"key": lk.key, "account_id": lk.account_id, "expires_ms": lk.expires_ms}
            for lk in self._keys.values()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        self._keys = {r["key"]: ListenKey(r["key"], int(r["account_id"]), int(r["expires_ms"])) for r in rows}
