"""Accounts and their API credentials, shared by every product of one sandbox."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class Account:
    account_id: int
    api_key: str
    secret: str
    maker_commission: Decimal = Decimal("0.001")
    taker_commission: Decimal = Decimal("0.001")
    label: str = ""

    def __repr__(self) -> str:  # never print the secret
        return f"Account(id={self.account_id}, label={self.label!r})"


class AccountRegistry:
    def __init__(self) -> None:
        self._by_id: dict[int, Account] = {}
        self._by_key: dict[str, Account] = {}
        self._next_id = 1

    def create(
        self,
        *,
        maker_commission: Decimal = Decimal("0.001"),
        taker_commission: Decimal = Decimal("0.001"),
        label: str = "",
        api_key: str | None = None,
        secret: str | None = None,
    ) -> Account:
        # Binance API keys and secrets are 64 alphanumeric characters.
        account = Account(
            self._next_id,
            api_key or secrets.token_hex(32),
            secret or secrets.token_hex(32),
            maker_commission,
            taker_commission,
            label,
        )
        self._next_id += 1
        self._by_id[account.account_id] = account
        self._by_key[account.api_key] = account
        return account

    def by_key(self, api_key: str) -> Account | None:
        return self._by_key.get(api_key)

    def by_id(self, account_id: int) -> Account:
        return self._by_id[account_id]

    def __iter__(self) -> Iterator[Account]:
        return iter(list(self._by_id.values()))

    def dump(self) -> list[dict[str, Any]]:
        return [
            {
                "account_id": a.account_id,
                "api_key": a.api_key,
                "secret": a.secret,
                "maker_commission": str(a.maker_commission),
                "taker_commission": str(a.taker_commission),
                "label": a.label,
            }
            for a in self._by_id.values()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        self._by_id.clear()
        self._by_key.clear()
        for row in rows:
            account = Account(
                int(row["account_id"]),
                row["api_key"],
                row["secret"],
                Decimal(row["maker_commission"]),
                Decimal(row["taker_commission"]),
                row.get("label", ""),
            )
            self._by_id[account.account_id] = account
            self._by_key[account.api_key] = account
        self._next_id = max(self._by_id, default=0) + 1
