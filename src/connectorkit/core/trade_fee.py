"""Fee accounting: fee schemas, concrete trade fees and their impact on an order.

Two fee styles exist (seed, "Fee Accounting"):

* :class:`AddedToCostTradeFee` is paid on top of what the order spends: buying 10 COINX at 9 USDT
  with 1% costs 90.9 USDT and yields 10 COINX.
* :class:`DeductedFromReturnsTradeFee` is taken out of what the order receives: the same buy costs
  90 USDT and yields 9.9 COINX.

A fee has a percent part (of the order's quote value) and any number of flat fees, each in its own
token. All values are ``Decimal``; arithmetic uses the current decimal context (28 significant
digits by default) and nothing is quantized here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypedDict

from connectorkit.core.decimal_utils import (
    DecimalLike,
    InvalidFieldError,
    require_bool,
    require_str,
    split_trading_pair,
    to_decimal,
)
from connectorkit.core.enums import PositionAction, TradeType
from connectorkit.core.rate_source import FeeConversionError, FixedRateSource, RateSource

__all__ = [
    "AddedToCostTradeFee",
    "DeductedFromReturnsTradeFee",
    "FeeConversionError",
    "FeeImpactCandidate",
    "FixedRateSource",
    "PriceSource",
    "RateSource",
    "TokenAmount",
    "TokenAmountJson",
    "TradeFeeBase",
    "TradeFeeJson",
    "TradeFeeSchema",
    "build_perpetual_trade_fee",
    "build_trade_fee",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class TokenAmountJson(TypedDict):
    token: str
    amount: str


class TradeFeeJson(TypedDict):
    fee_type: str
    percent: str
    percent_token: str | None
    flat_fees: list[TokenAmountJson]


@dataclass(frozen=True, slots=True, init=False)
class TokenAmount:
    """A non-negative amount of one token. Unpacks as ``token, amount = token_amount``."""

    token: str
    amount: Decimal

    def __init__(self, token: str, amount: DecimalLike) -> None:
        object.__setattr__(self, "token", require_str(token, "token"))
        object.__setattr__(self, "amount", to_decimal(amount, "amount"))

    def __iter__(self) -> Iterator[Any]:
        return iter((self.token, self.amount))

    def to_json(self) -> TokenAmountJson:
        return {"token": self.token, "amount": str(self.amount)}

    @classmethod
    def from_json(cls, data: object) -> TokenAmount:
        """Inverse of :meth:`to_json`; ``amount`` must be a decimal string so the value is exact."""
        return cls._from_json(data, "")

    @classmethod
    def _from_json(cls, data: object, where: str) -> TokenAmount:
        if not isinstance(data, Mapping):
            raise InvalidFieldError(where or "token_amount", f"expected an object, got {data!r}")
        token = require_str(data.get("token"), f"{where}token")
        amount = data.get("amount")
        if not isinstance(amount, str):
            raise InvalidFieldError(f"{where}amount", f"expected a decimal string, got {amount!r}")
        return cls(token, to_decimal(amount, f"{where}amount"))


def _coerce_token_amount(value: object, field: str) -> TokenAmount:
    """Accept a TokenAmount, a ``(token, amount)`` pair or a ``{"token", "amount"}`` mapping."""
    if isinstance(value, TokenAmount):
        return value
    if isinstance(value, Mapping):
        return TokenAmount._from_json(value, f"{field}.")
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return TokenAmount(require_str(value[0], f"{field}.token"), to_decimal(value[1], f"{field}.amount"))
    raise InvalidFieldError(field, f"expected a TokenAmount or (token, amount), got {value!r}")


def _coerce_fee_list(values: Iterable[object] | None, field: str) -> tuple[TokenAmount, ...]:
    if values is None:
        return ()
    if isinstance(values, str | bytes | Mapping):
        raise InvalidFieldError(field, f"expected a list of token amounts, got {values!r}")
    return tuple(_coerce_token_amount(v, f"{field}[{i}]") for i, v in enumerate(values))


def _optional_token(value: object, field: str) -> str | None:
    return None if value is None else require_str(value, field)


@dataclass(frozen=True, slots=True, init=False)
class TradeFeeSchema:
    """How an exchange charges fees; connectors declare one as ``DEFAULT_FEES``.

    Percentages are decimal fractions (``Decimal("0.001")`` is 0.1%). ``percent_fee_token`` names
    a token the percent fee is always paid in (e.g. a platform token); such a fee is never
    deducted from returns, so combining it with ``buy_percent_fee_deducted_from_returns`` is an
    error. Fixed fees are stored as tuples, so a schema is immutable and can be shared freely.
    """

    percent_fee_token: str | None
    maker_percent_fee_decimal: Decimal
    taker_percent_fee_decimal: Decimal
    buy_percent_fee_deducted_from_returns: bool
    maker_fixed_fees: tuple[TokenAmount, ...]
    taker_fixed_fees: tuple[TokenAmount, ...]

    def __init__(
        self,
        percent_fee_token: str | None = None,
        maker_percent_fee_decimal: DecimalLike = _ZERO,
        taker_percent_fee_decimal: DecimalLike = _ZERO,
        buy_percent_fee_deducted_from_returns: bool = False,
        maker_fixed_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
        taker_fixed_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
    ) -> None:
        token = _optional_token(percent_fee_token, "percent_fee_token")
        deducted = require_bool(
            buy_percent_fee_deducted_from_returns, "buy_percent_fee_deducted_from_returns"
        )
        if token is not None and deducted:
            raise InvalidFieldError(
                "buy_percent_fee_deducted_from_returns",
                "cannot be True when percent_fee_token is set (a fee in a separate token is never "
                "deducted from returns)",
            )
        setter = object.__setattr__
        setter(self, "percent_fee_token", token)
        for name, value in (
            ("maker_percent_fee_decimal", maker_percent_fee_decimal),
            ("taker_percent_fee_decimal", taker_percent_fee_decimal),
        ):
            setter(self, name, to_decimal(value, name))
        setter(self, "buy_percent_fee_deducted_from_returns", deducted)
        setter(self, "maker_fixed_fees", _coerce_fee_list(maker_fixed_fees, "maker_fixed_fees"))
        setter(self, "taker_fixed_fees", _coerce_fee_list(taker_fixed_fees, "taker_fixed_fees"))


class PriceSource(Protocol):
    """The part of an exchange that fee-impact calculations need: a price for a pair."""

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal: ...


class FeeImpactCandidate(Protocol):
    """What a fee needs to know about an order to compute its impact (see ``OrderCandidate``)."""

    @property
    def trading_pair(self) -> str: ...
    @property
    def order_side(self) -> TradeType: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def order_collateral(self) -> TokenAmount | None: ...
    @property
    def potential_returns(self) -> TokenAmount | None: ...


def _positive_rate(rate: object, trading_pair: str) -> Decimal:
    """Validate a rate or price obtained from a rate source or an exchange."""
    if rate is None:
        raise FeeConversionError(trading_pair)
    try:
        value = to_decimal(rate, "rate")
    except InvalidFieldError as exc:
        raise FeeConversionError(trading_pair, f"invalid rate {rate!r} ({exc})") from None
    if value == 0:
        raise FeeConversionError(trading_pair, "rate is zero")
    return value


class _Converter:
    """Converts amounts between tokens for one trade: base<->quote at the trade price, other
    tokens through the caller's rate source, directly or via the pair's quote or base asset."""

    __slots__ = ("_base", "_price", "_quote", "_rates")

    def __init__(self, base: str, quote: str, price: Decimal, rate_source: RateSource | None) -> None:
        self._base = base
        self._quote = quote
        self._price = price
        self._rates = rate_source

    def _step(self, amount: Decimal, src: str, dst: str) -> Decimal | None:
        if src == dst:
            return amount
        if src == self._base and dst == self._quote:
            return amount * self._price
        if src == self._quote and dst == self._base:
            return amount / self._price if self._price != 0 else None
        if self._rates is None:
            return None
        # A rate source need only know each pair one way round (``BNB-USDT``), so the inverse
        # pair is asked too: converting a USDT fee to BNB must not fail for want of ``USDT-BNB``.
        pair = f"{src}-{dst}"
        rate = self._rates.get_rate(pair)
        if rate is not None:
            return amount * _positive_rate(rate, pair)
        inverse_pair = f"{dst}-{src}"
        inverse = self._rates.get_rate(inverse_pair)
        return None if inverse is None else amount / _positive_rate(inverse, inverse_pair)

    def convert(self, amount: Decimal, src: str, dst: str) -> Decimal:
        if amount == 0:
            return _ZERO
        direct = self._step(amount, src, dst)
        if direct is not None:
            return direct
        for hub in (self._quote, self._base):
            if hub in (src, dst):
                continue
            leg = self._step(amount, src, hub)
            if leg is not None:
                result = self._step(leg, hub, dst)
                if result is not None:
                    return result
        raise FeeConversionError(f"{src}-{dst}")


def _size_token_and_size(candidate: FeeImpactCandidate) -> tuple[str, Decimal]:
    """What an order spends in its own terms: quote ``amount * price`` (BUY) or base ``amount`` (SELL)."""
    base, quote = split_trading_pair(candidate.trading_pair)
    if candidate.order_side is TradeType.BUY:
        return quote, candidate.amount * candidate.price
    if candidate.order_side is TradeType.SELL:
        return base, candidate.amount
    raise InvalidFieldError("order_side", f"unknown trade type {candidate.order_side!r}")


@dataclass(frozen=True, slots=True, init=False)
class TradeFeeBase(ABC):
    """A concrete fee for one order or trade: ``percent`` of the quote value plus ``flat_fees``.

    ``percent_token`` is the token the percent part is paid in (None: the order's own tokens).
    Instances are immutable; equality also compares the concrete class, so an AddedToCost fee
    never equals a DeductedFromReturns fee with the same numbers.
    """

    fee_type: ClassVar[str]

    percent: Decimal
    percent_token: str | None
    flat_fees: tuple[TokenAmount, ...]

    def __init__(
        self,
        percent: DecimalLike = _ZERO,
        percent_token: str | None = None,
        flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
    ) -> None:
        object.__setattr__(self, "percent", to_decimal(percent, "percent"))
        object.__setattr__(self, "percent_token", _optional_token(percent_token, "percent_token"))
        object.__setattr__(self, "flat_fees", _coerce_fee_list(flat_fees, "flat_fees"))

    # -- construction ------------------------------------------------------------------------

    @staticmethod
    def new_spot_fee(
        fee_schema: TradeFeeSchema,
        trade_type: TradeType,
        percent: DecimalLike = _ZERO,
        percent_token: str | None = None,
        flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
    ) -> TradeFeeBase:
        """AddedToCost for a BUY unless the schema deducts buy fees from returns (and has no fee
        token); every SELL fee is DeductedFromReturns (it comes out of the quote received)."""
        if not isinstance(trade_type, TradeType):
            raise InvalidFieldError("trade_type", f"unknown trade type {trade_type!r}")
        added = trade_type is TradeType.BUY and (
            not fee_schema.buy_percent_fee_deducted_from_returns or fee_schema.percent_fee_token is not None
        )
        cls: type[TradeFeeBase] = AddedToCostTradeFee if added else DeductedFromReturnsTradeFee
        return cls(percent=percent, percent_token=percent_token, flat_fees=flat_fees)

    @staticmethod
    def new_perpetual_fee(
        fee_schema: TradeFeeSchema,
        position_action: PositionAction,
        percent: DecimalLike = _ZERO,
        percent_token: str | None = None,
        flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
    ) -> TradeFeeBase:
        """AddedToCost when opening a position or when the schema has a fee token; a closing fee
        without a fee token is DeductedFromReturns."""
        if not isinstance(position_action, PositionAction):
            raise InvalidFieldError("position_action", f"unknown position action {position_action!r}")
        added = position_action is PositionAction.OPEN or fee_schema.percent_fee_token is not None
        cls: type[TradeFeeBase] = AddedToCostTradeFee if added else DeductedFromReturnsTradeFee
        return cls(percent=percent, percent_token=percent_token, flat_fees=flat_fees)

    # -- serialisation -----------------------------------------------------------------------

    def to_json(self) -> TradeFeeJson:
        return {
            "fee_type": self.fee_type,
            "percent": str(self.percent),
            "percent_token": self.percent_token,
            "flat_fees": [fee.to_json() for fee in self.flat_fees],
        }

    @staticmethod
    def from_json(data: object) -> TradeFeeBase:
        """Rebuild a fee from :meth:`to_json` output; the concrete class comes from ``fee_type``."""
        if not isinstance(data, Mapping):
            raise InvalidFieldError("fee", f"expected an object, got {data!r}")
        fee_type = data.get("fee_type")
        fee_cls = _FEE_CLASSES.get(fee_type) if isinstance(fee_type, str) else None
        if fee_cls is None:
            known = sorted(_FEE_CLASSES)
            raise InvalidFieldError("fee_type", f"expected one of {known}, got {fee_type!r}")
        percent = data.get("percent")
        if not isinstance(percent, str):
            raise InvalidFieldError("percent", f"expected a decimal string, got {percent!r}")
        flat = data.get("flat_fees", [])
        if not isinstance(flat, list):
            raise InvalidFieldError("flat_fees", f"expected a list, got {flat!r}")
        return fee_cls(
            percent=to_decimal(percent, "percent"),
            percent_token=_optional_token(data.get("percent_token"), "percent_token"),
            flat_fees=[TokenAmount._from_json(item, f"flat_fees[{i}].") for i, item in enumerate(flat)],
        )

    # -- valuation ---------------------------------------------------------------------------

    @property
    def fee_asset(self) -> str | None:
        """The token the fee is mainly paid in: ``percent_token``, else the first flat fee's token."""
        if self.percent_token is not None:
            return self.percent_token
        return self.flat_fees[0].token if self.flat_fees else None

    def fee_amount_in_token(
        self,
        trading_pair: str,
        price: Decimal,
        order_amount: Decimal,
        token: str,
        rate_source: RateSource | None = None,
    ) -> Decimal:
        """Value of the whole fee, in ``token``, for ``order_amount`` traded at ``price``.

        The percent part is ``price * order_amount * percent`` in the quote asset. Every part is
        converted to ``token``: base and quote at ``price``, any other token through
        ``rate_source`` (asked for the pair either way round, directly or via the pair's quote or
        base). A conversion without a rate
        raises :class:`FeeConversionError` naming the pair; a zero part needs no conversion.
        """
        base, quote = split_trading_pair(trading_pair)
        price_d = to_decimal(price, "price")
        amount_d = to_decimal(order_amount, "order_amount")
        target = require_str(token, "token")
        converter = _Converter(base, quote, price_d, rate_source)
        total = converter.convert(price_d * amount_d * self.percent, quote, target)
        for flat in self.flat_fees:
            total += converter.convert(flat.amount, flat.token, target)
        return total

    def fee_amount_in_quote(
        self,
        trading_pair: str,
        price: Decimal,
        order_amount: Decimal,
        rate_source: RateSource | None = None,
    ) -> Decimal:
        """The total fee in the pair's quote asset (see :meth:`fee_amount_in_token`)."""
        _, quote = split_trading_pair(trading_pair)
        return self.fee_amount_in_token(trading_pair, price, order_amount, quote, rate_source)

    @abstractmethod
    def get_fee_impact_on_order_cost(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> TokenAmount | None:
        """What the percent fee adds to the order's cost, or None if it adds nothing."""

    @abstractmethod
    def get_fee_impact_on_order_returns(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> Decimal | None:
        """How much the percent fee takes from the order's returns, or None if nothing."""


@dataclass(frozen=True, slots=True, init=False)
class AddedToCostTradeFee(TradeFeeBase):
    """A fee paid on top of the order's cost (most exchanges)."""

    fee_type: ClassVar[str] = "AddedToCost"

    def get_fee_impact_on_order_cost(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> TokenAmount | None:
        """The percent fee as extra collateral, in ``percent_token`` or the collateral token.

        In the collateral token it is ``collateral * percent``. In another token it is the order
        size (quote for a BUY, base for a SELL) times ``percent``, converted with the exchange's
        buy price of ``SIZE-FEE``.
        """
        if self.percent == 0:
            return None
        collateral = candidate.order_collateral
        fee_token = self.percent_token or (collateral.token if collateral is not None else None)
        if fee_token is None:
            raise InvalidFieldError(
                "order_collateral", "needed to choose the fee token; populate the collateral first"
            )
        if collateral is not None and fee_token == collateral.token:
            return TokenAmount(fee_token, collateral.amount * self.percent)
        size_token, size = _size_token_and_size(candidate)
        if size_token == fee_token:
            rate = _ONE
        else:
            pair = f"{size_token}-{fee_token}"
            rate = _positive_rate(exchange.get_price(pair, True), pair)
        return TokenAmount(fee_token, size * rate * self.percent)

    def get_fee_impact_on_order_returns(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> Decimal | None:
        return None


@dataclass(frozen=True, slots=True, init=False)
class DeductedFromReturnsTradeFee(TradeFeeBase):
    """A fee taken out of what the order receives (e.g. Binance spot buys)."""

    fee_type: ClassVar[str] = "DeductedFromReturns"

    def get_fee_impact_on_order_cost(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> TokenAmount | None:
        return None

    def get_fee_impact_on_order_returns(
        self, candidate: FeeImpactCandidate, exchange: PriceSource
    ) -> Decimal | None:
        """``potential_returns * percent`` (before the fee), or None if the order has no returns."""
        returns = candidate.potential_returns
        if returns is None:
            return None
        return returns.amount * self.percent


_FEE_CLASSES: dict[str, type[TradeFeeBase]] = {
    cls.fee_type: cls for cls in (AddedToCostTradeFee, DeductedFromReturnsTradeFee)
}
"""Concrete fee classes by their JSON ``fee_type``."""


def _schema_fee_parts(
    fee_schema: TradeFeeSchema,
    is_maker: bool,
    extra_flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None,
) -> tuple[Decimal, str | None, list[TokenAmount]]:
    """``(percent, percent_token, flat_fees)`` for a maker or taker under ``fee_schema``: a fresh
    list of the schema's fixed fees followed by the extra ones (the schema is never touched)."""
    maker = require_bool(is_maker, "is_maker")
    percent = fee_schema.maker_percent_fee_decimal if maker else fee_schema.taker_percent_fee_decimal
    fixed = fee_schema.maker_fixed_fees if maker else fee_schema.taker_fixed_fees
    extra = _coerce_fee_list(extra_flat_fees, "extra_flat_fees")
    return percent, fee_schema.percent_fee_token, [*fixed, *extra]


def build_trade_fee(
    fee_schema: TradeFeeSchema,
    is_maker: bool,
    trade_type: TradeType,
    extra_flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
) -> TradeFeeBase:
    """The spot fee one order would pay under ``fee_schema`` as maker or taker."""
    parts = _schema_fee_parts(fee_schema, is_maker, extra_flat_fees)
    return TradeFeeBase.new_spot_fee(fee_schema, trade_type, *parts)


def build_perpetual_trade_fee(
    fee_schema: TradeFeeSchema,
    is_maker: bool,
    position_action: PositionAction,
    extra_flat_fees: Iterable[TokenAmount | tuple[str, DecimalLike]] | None = None,
) -> TradeFeeBase:
    """The perpetual fee one order would pay under ``fee_schema`` as maker or taker."""
    parts = _schema_fee_parts(fee_schema, is_maker, extra_flat_fees)
    return TradeFeeBase.new_perpetual_fee(fee_schema, position_action, *parts)
