"""Connector settings and the connector registry.

Every connector package (``connectorkit.exchanges.<name>``) calls :func:`register_connector` when it
is imported, giving its name, a factory, its ``DEFAULT_FEES`` and its settings model (a subclass of
:class:`ConnectorSettings`, usually adding endpoint fields such as ``rest_url``). A user then builds
any connector in one call::

    exchange = create_connector("binance", trading_pairs=["BTC-USDT"], api_key=k, api_secret=s,
                                taker_percent_fee_decimal=Decimal("0.00075"), rate_limits_share_pct=50)

Every override (fees, endpoints, rate-limit share, polling intervals) goes through the same pydantic
model, so a typo is a validation error instead of a silently ignored keyword. Exchange packages are
imported lazily, the first time their name is asked for.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectorkit.core.decimal_utils import split_trading_pair
from connectorkit.core.trade_fee import TradeFeeSchema

if TYPE_CHECKING:
    from connectorkit.connector.exchange_py_base import ExchangePyBase
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
        BinancePerpetualDerivative,
    )

logger = logging.getLogger(__name__)

EXCHANGES_PACKAGE = "connectorkit.exchanges"

HTTP_SCHEMES = ("http", "https")
WS_SCHEMES = ("ws", "wss")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint field of a settings model: the URL schemes it takes, and whether only a trading
    connector dials it (a market-data connector, ``trading_required=False``, never does)."""

    schemes: tuple[str, ...]
    trading_only: bool = False


def check_endpoint_url(field: str, url: str, schemes: tuple[str, ...]) -> str:
    """``url`` if it is ``scheme://host[:port][/path]`` with one of ``schemes``, else a ValueError
    naming ``field``: a bad override fails when the connector is created, not on every reconnect."""
    parts = urlsplit(url)
    if parts.scheme not in schemes or "://" not in url:
        expected = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"{field} must start with {expected}, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"{field} has no host: {url!r}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port <= 65535:
        raise ValueError(f"{field} has an invalid port (1-65535): {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"{field} must not have a query or fragment: {url!r}")
    return url


def normalise_trading_pair(pair: object) -> str:
    """``BASE-QUOTE`` in upper case (``btc-usdt`` -> ``BTC-USDT``); a ValueError naming a pair
    that is not ``BASE-QUOTE``."""
    if not isinstance(pair, str):
        raise ValueError(f"a trading pair must be a string 'BASE-QUOTE', got {type(pair).__name__}")
    normalised = pair.strip().upper()
    split_trading_pair(normalised)  # raises a ValueError naming the bad pair
    return normalised


class ConnectorSettings(BaseModel):
    """Everything a user can set for one connector instance.

    Secrets are ``SecretStr``: their repr and ``model_dump`` show ``**********``; only the
    connector's auth factory reads the plain value. Fee fields left ``None`` keep the connector's
    ``DEFAULT_FEES``; a full ``trade_fee_schema`` replaces them entirely.
    """

    # Validation errors never echo input values: a secret passed under a mistyped name (an extra
    # field) or of a wrong type would otherwise appear in the exception text and in logs.
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    ENDPOINTS: ClassVar[Mapping[str, Endpoint]] = {}
    """The model's endpoint fields (a subclass declares its ``rest_url``, ``ws_url``...). Each is
    checked as a URL; and once any is overridden, every one the connector dials must be, so that a
    connector pointed at a sandbox never mixes in the real exchange (and the sandbox's key with it).
    Paths derived from an override (e.g. the perpetual's ``/public`` routes under ``ws_url``) need
    no field of their own."""

    trading_pairs: list[str] = Field(default_factory=list)
    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    trading_required: bool = True

    # Web layer.
    rate_limits_share_pct: Decimal = Field(default=Decimal(100), gt=0, le=100)
    request_timeout: float = Field(default=10.0, gt=0)

    # Fees: partial overrides of the connector's DEFAULT_FEES, or a complete schema.
    trade_fee_schema: TradeFeeSchema | None = None
    maker_percent_fee_decimal: Decimal | None = None
    taker_percent_fee_decimal: Decimal | None = None
    buy_percent_fee_deducted_from_returns: bool | None = None

    # Background loop periods, in seconds.
    short_poll_interval: float = Field(default=5.0, gt=0)
    long_poll_interval: float = Field(default=120.0, gt=0)
    user_stream_silence_threshold: float = Field(
        default=60.0, gt=0, description="No user-stream message for this long switches to short polling."
    )
    trading_rules_refresh_interval: float = Field(default=1800.0, gt=0)
    time_sync_interval: float = Field(default=600.0, gt=0)
    funding_payment_poll_interval: float = Field(default=120.0, gt=0)
    order_book_snapshot_refresh_interval: float = Field(
        default=3600.0, gt=0, description="Periodic full snapshot of every book (safety net against drift)."
    )

    # Scale-out over Redis (connectorkit.bus; needs the ``redis`` extra). A SecretStr because the
    # URL may carry a password: masked in repr and model_dump.
    market_data_bus: SecretStr | None = Field(
        default=None,
        description="redis://[:password@]host:port[/db] or rediss://...: books, trades and funding info "
        "from a `connectorkit gateway` on that Redis instead of the exchange's sockets.",
    )
    rate_limit_store: SecretStr | None = Field(
        default=None,
        description="redis://... or rediss://...: every process using the same API key shares the "
        "throttler's windows there (atomic server-side scripts), so together they stay within the limits.",
    )

    @field_validator("trading_pairs")
    @classmethod
    def _pairs_are_base_quote(cls, pairs: list[str]) -> list[str]:
        pairs = [normalise_trading_pair(pair) for pair in pairs]
        if len(set(pairs)) != len(pairs):
            raise ValueError(f"duplicate trading pairs in {pairs}")
        return pairs

    @field_validator("market_data_bus", "rate_limit_store")
    @classmethod
    def _is_a_redis_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return url

    @model_validator(mode="after")
    def _endpoints_are_urls_and_overridden_together(self) -> ConnectorSettings:
        for name, endpoint in self.ENDPOINTS.items():
            check_endpoint_url(name, getattr(self, name), endpoint.schemes)
        dialled = [name for name, endpoint in self.ENDPOINTS.items()
                   if self.trading_required or not endpoint.trading_only]
        defaults = type(self).model_fields
        overridden = [name for name in dialled if getattr(self, name) != defaults[name].default]
        missing = [name for name in dialled if name not in overridden]
        if overridden and missing:
            raise ValueError(
                f"{', '.join(overridden)} overridden but not {', '.join(missing)}: once one endpoint "
                "points elsewhere every endpoint must, or the connector would still reach the real "
                f"exchange there; set {', '.join(missing)} too"
            )
        return self

    def resolve_trade_fee_schema(self, default_fees: TradeFeeSchema) -> TradeFeeSchema:
        """The fee schema in force: ``default_fees`` with this model's overrides applied."""
        base = self.trade_fee_schema or default_fees
        return TradeFeeSchema(
            percent_fee_token=base.percent_fee_token,
            maker_percent_fee_decimal=(
                base.maker_percent_fee_decimal
                if self.maker_percent_fee_decimal is None
                else self.maker_percent_fee_decimal
            ),
            taker_percent_fee_decimal=(
                base.taker_percent_fee_decimal
                if self.taker_percent_fee_decimal is None
                else self.taker_percent_fee_decimal
            ),
            buy_percent_fee_deducted_from_returns=(
                base.buy_percent_fee_deducted_from_returns
                if self.buy_percent_fee_deducted_from_returns is None
                else self.buy_percent_fee_deducted_from_returns
            ),
            maker_fixed_fees=base.maker_fixed_fees,
            taker_fixed_fees=base.taker_fixed_fees,
        )


ConnectorFactory = Callable[[Any], "ExchangePyBase"]
"""Builds a connector from an instance of the registration's settings model."""


@dataclass(frozen=True, slots=True)
class ConnectorRegistration:
    name: str
    factory: ConnectorFactory
    default_fees: TradeFeeSchema
    settings_model: type[ConnectorSettings]


class UnknownConnectorError(LookupError):
    """No connector is registered under the requested name."""


_REGISTRY: dict[str, ConnectorRegistration] = {}
_IMPORT_ERRORS: dict[str, Exception] = {}
"""Exchange packages whose last import failed, by package name (named in UnknownConnectorError)."""


def register_connector(
    name: str,
    factory: ConnectorFactory,
    default_fees: TradeFeeSchema,
    settings_model: type[ConnectorSettings] = ConnectorSettings,
) -> None:
    """Register a connector. Re-registering the same name with a different factory is an error
    (two packages fighting over one name); registering the identical entry again is a no-op."""
    if not name or not name.isidentifier():
        raise ValueError(f"connector name must be a python identifier, got {name!r}")
    if not issubclass(settings_model, ConnectorSettings):
        raise TypeError("settings_model must subclass ConnectorSettings")
    entry = ConnectorRegistration(name, factory, default_fees, settings_model)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != entry:
        raise ValueError(f"connector {name!r} is already registered with a different factory")
    _REGISTRY[name] = entry


def unregister_connector(name: str) -> None:
    _REGISTRY.pop(name, None)


def _import_exchange_packages(preferred: str | None = None) -> None:
    """Import ``connectorkit.exchanges.<preferred>`` or, failing that, every exchange package, so
    that their ``register_connector`` calls run. A package that fails to import is logged."""
    package = importlib.import_module(EXCHANGES_PACKAGE)
    names = [info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg]
    if preferred in names:
        names.remove(preferred)
        names.insert(0, preferred)
    for module_name in names:
        try:
            importlib.import_module(f"{EXCHANGES_PACKAGE}.{module_name}")
        except Exception as exc:
            _IMPORT_ERRORS[module_name] = exc
            logger.exception("cannot import exchange package %s", module_name)
        else:
            _IMPORT_ERRORS.pop(module_name, None)
        if preferred is not None and preferred in _REGISTRY:
            return


def get_registration(name: str) -> ConnectorRegistration:
    if name not in _REGISTRY:
        _import_exchange_packages(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        cause = _IMPORT_ERRORS.get(name)
        detail = "" if cause is None else f" (its package failed to import: {type(cause).__name__}: {cause})"
        raise UnknownConnectorError(
            f"unknown connector {name!r}{detail}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}"
        ) from cause


def registered_connectors() -> list[str]:
    """Names of every connector available (imports all exchange packages)."""
    _import_exchange_packages()
    return sorted(_REGISTRY)


def build_settings(
    name: str,
    trading_pairs: Iterable[str] = (),
    api_key: str = "",
    api_secret: str = "",
    trading_required: bool = True,
    **overrides: Any,
) -> ConnectorSettings:
    """Validate the settings of connector ``name`` (raises pydantic ``ValidationError``; a single
    string as ``trading_pairs`` is a ``TypeError``: it would otherwise be read letter by letter)."""
    if isinstance(trading_pairs, str | bytes):
        raise TypeError(f"trading_pairs must be a list of pairs, not a single string: [{trading_pairs!r}]")
    registration = get_registration(name)
    return registration.settings_model(
        trading_pairs=list(trading_pairs),
        api_key=SecretStr(api_key),
        api_secret=SecretStr(api_secret),
        trading_required=trading_required,
        **overrides,
    )


# One overload per connector shipped here, so that type checkers know the class a name builds
# (tests/unit/connector/test_create_connector_types.py keeps them in step with the registry).
@overload
def create_connector(
    name: Literal["binance"],
    trading_pairs: Iterable[str] = (),
    api_key: str = "",
    api_secret: str = "",
    trading_required: bool = True,
    **overrides: Any,
) -> BinanceExchange: ...


@overload
def create_connector(
    name: Literal["binance_perpetual"],
    trading_pairs: Iterable[str] = (),
    api_key: str = "",
    api_secret: str = "",
    trading_required: bool = True,
    **overrides: Any,
) -> BinancePerpetualDerivative: ...


@overload
def create_connector(
    name: str,
    trading_pairs: Iterable[str] = (),
    api_key: str = "",
    api_secret: str = "",
    trading_required: bool = True,
    **overrides: Any,
) -> ExchangePyBase: ...


def create_connector(
    name: str,
    trading_pairs: Iterable[str] = (),
    api_key: str = "",
    api_secret: str = "",
    trading_required: bool = True,
    **overrides: Any,
) -> ExchangePyBase:
    """Build the connector registered as ``name``. ``overrides`` are fields of its settings model
    (endpoints, fees, ``rate_limits_share_pct``, intervals); fees start from the registered
    ``default_fees``."""
    registration = get_registration(name)
    settings = build_settings(name, trading_pairs, api_key, api_secret, trading_required, **overrides)
    if settings.trade_fee_schema is None:
        # The registered defaults are the base that partial fee overrides apply to.
        settings = settings.model_copy(update={"trade_fee_schema": registration.default_fees})
    return registration.factory(settings)
