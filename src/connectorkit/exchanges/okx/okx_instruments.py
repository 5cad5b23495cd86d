"""OKX instruments -> trading rules, and exact base <-> contract conversion for derivatives.

docs (https://www.okx.com/docs-v5/en/): "Public Data > REST API > Get instruments"
(``GET /api/v5/public/instruments?instType=SPOT|SWAP``): the envelope ``{"code": "0", "msg": "",
"data": [...]}``; per instrument ``instId``, ``baseCcy``/``quoteCcy`` (spot), ``settleCcy``,
``ctVal`` (contract value) with ``ctValCcy``, ``lotSz`` (size step), ``minSz``, ``tickSz``,
``maxLmtSz`` / ``maxMktSz`` (largest limit / market order), ``state`` (``live`` trades).
Spot sizes are in the base currency. Swap sizes (``sz``) are in *contracts*: for a linear
USDT-margined swap one contract is ``ctVal`` of ``ctValCcy`` (the base, e.g. 0.01 BTC on
``BTC-USDT-SWAP``), so the base amount is ``contracts * ctVal``.

connectorkit's public surface is in base units on both connectors. :class:`ContractSpec` turns a
base amount into contracts exactly and refuses (``ContractSizeError``, nothing sent) an amount that
is not a whole number of ``lotSz`` steps of contracts: it never rounds silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from connectorkit.core.order_book import exact_decimal
from connectorkit.core.trading_rule import TradingRule
from connectorkit.net.errors import WebError


class OkxInstrumentError(WebError, ValueError):
    """An instruments answer that breaks the documented schema, or an error envelope."""


class ContractSizeError(ValueError):
    """A base amount that is not a whole number of lot-size contract steps."""


class OkxInstrument(msgspec.Struct, frozen=True):
    instId: str
    instType: str
    lotSz: str
    minSz: str
    tickSz: str
    state: str
    baseCcy: str = ""
    quoteCcy: str = ""
    settleCcy: str = ""
    ctVal: str = ""
    ctValCcy: str = ""
    ctType: str = ""
    maxLmtSz: str = ""
    maxMktSz: str = ""


class _Envelope(msgspec.Struct, frozen=True):
    code: str
    data: list[OkxInstrument]
    msg: str = ""


_decoder = msgspec.json.Decoder(_Envelope)


def decode_instruments(raw: bytes | str) -> list[OkxInstrument]:
    try:
        envelope = _decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise OkxInstrumentError(f"bad OKX instruments answer: {exc}") from None
    if envelope.code != "0":
        raise OkxInstrumentError(f"OKX instruments error {envelope.code}: {envelope.msg}")
    return envelope.data


def _number(instrument: OkxInstrument, field: str) -> Decimal:
    text = getattr(instrument, field)
    try:
        value = exact_decimal(text)
    except ArithmeticError:
        raise OkxInstrumentError(f"{instrument.instId}: {field} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise OkxInstrumentError(f"{instrument.instId}: {field} {text!r} must be positive")
    return value


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One derivative's contract size: ``contract_value`` base units per contract, sizes in steps
    of ``lot_size`` contracts."""

    inst_id: str
    contract_value: Decimal
    lot_size: Decimal

    def to_contracts(self, base_amount: Decimal) -> Decimal:
        """The exact number of contracts for ``base_amount``; ContractSizeError if it is not a
        whole number of lot-size steps (the caller quantizes first, with the trading rule)."""
        contracts = base_amount / self.contract_value
        if contracts % self.lot_size != 0:
            raise ContractSizeError(
                f"{base_amount} on {self.inst_id} is {contracts} contracts of {self.contract_value}, "
                f"not a multiple of the lot size {self.lot_size}"
            )
        return contracts.normalize()

    def to_base(self, contracts: Decimal) -> Decimal:
        return (contracts * self.contract_value).normalize()


def contract_spec(instrument: OkxInstrument) -> ContractSpec:
    if instrument.instType not in ("SWAP", "FUTURES"):
        raise OkxInstrumentError(f"{instrument.instId} ({instrument.instType}) has no contract size")
    if instrument.ctType not in ("", "linear"):
        raise OkxInstrumentError(f"{instrument.instId} is {instrument.ctType}, not a linear contract")
    return ContractSpec(instrument.instId, _number(instrument, "ctVal"), _number(instrument, "lotSz"))


def trading_pair_of(instrument: OkxInstrument) -> str:
    """``BASE-QUOTE``: spot from ``baseCcy``/``quoteCcy``; a linear swap from ``ctValCcy`` (its base)
    and ``settleCcy`` (its margin and quote)."""
    if instrument.instType == "SPOT":
        base, quote = instrument.baseCcy, instrument.quoteCcy
    else:
        base, quote = instrument.ctValCcy, instrument.settleCcy
    if not base or not quote:
        raise OkxInstrumentError(f"{instrument.instId}: cannot tell its base and quote currencies")
    return f"{base}-{quote}"


def trading_rule(instrument: OkxInstrument) -> TradingRule:
    """The rule in base units (contract sizes multiplied out by ``ctVal`` for derivatives)."""
    scale = Decimal(1) if instrument.instType == "SPOT" else contract_spec(instrument).contract_value
    pair = trading_pair_of(instrument)
    derivative = instrument.instType != "SPOT"
    rule = TradingRule(
        trading_pair=pair,
        min_order_size=(_number(instrument, "minSz") * scale).normalize(),
        min_price_increment=_number(instrument, "tickSz"),
        min_base_amount_increment=(_number(instrument, "lotSz") * scale).normalize(),
        buy_order_collateral_token=instrument.settleCcy if derivative else None,
        sell_order_collateral_token=instrument.settleCcy if derivative else None,
    )
    if not instrument.maxLmtSz:  # no published maximum: the rule's permissive default stays
        return rule
    return dataclasses.replace(rule, max_order_size=(_number(instrument, "maxLmtSz") * scale).normalize())
