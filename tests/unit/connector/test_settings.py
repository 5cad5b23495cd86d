from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from connectorkit.connector import settings as registry
from connectorkit.connector.settings import (
    ConnectorSettings,
    UnknownConnectorError,
    create_connector,
    register_connector,
    registered_connectors,
    unregister_connector,
)
from connectorkit.core.trade_fee import TokenAmount, TradeFeeSchema


@pytest.fixture
def lazy_package(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(registry, "EXCHANGES_PACKAGE", "support.lazy_exchanges")
    yield
    unregister_connector("lazyex")


def test_create_connector_imports_the_package_lazily_and_validates_overrides(lazy_package: Any) -> None:
    unregister_connector("lazyex")
    tag, settings = create_connector(
        "lazyex", trading_pairs=["BTC-USDT"], api_key="k" * 16, api_secret="s" * 32,
        rest_url="http://127.0.0.1:1", taker_percent_fee_decimal=Decimal("0.0005"), rate_limits_share_pct=50,
    )
    assert tag == "lazyex-connector"
    assert settings.rest_url == "http://127.0.0.1:1"
    assert settings.rate_limits_share_pct == Decimal(50)
    fees = settings.resolve_trade_fee_schema(TradeFeeSchema())
    assert fees.maker_percent_fee_decimal == Decimal("0.001")  # registered default kept
    assert fees.taker_percent_fee_decimal == Decimal("0.0005")  # user override
    with pytest.raises(ValidationError):
        create_connector("lazyex", rest_urll="typo")
    with pytest.raises(ValidationError):
        create_connector("lazyex", rate_limits_share_pct=0)
    assert "lazyex" in registered_connectors()


def test_unknown_connector_is_a_clear_error(lazy_package: Any) -> None:
    with pytest.raises(UnknownConnectorError, match="nope"):
        create_connector("nope")


def test_a_package_that_fails_to_import_is_named_with_its_cause(lazy_package: Any) -> None:
    with pytest.raises(UnknownConnectorError, match=r"brokenex.*failed to import.*frobnicate") as info:
        create_connector("brokenex")
    assert isinstance(info.value.__cause__, ImportError)


def test_trading_pairs_are_validated() -> None:
    with pytest.raises(ValidationError, match="BASE-QUOTE"):
        ConnectorSettings(trading_pairs=["BTCUSDT"])
    with pytest.raises(ValidationError, match="duplicate"):
        ConnectorSettings(trading_pairs=["BTC-USDT", "BTC-USDT"])


def test_secrets_are_masked_in_repr_and_dump() -> None:
    s = ConnectorSettings(api_key="AKIA-very-secret-key", api_secret="super-secret-value")  # type: ignore[arg-type]
    text = repr(s) + str(s.model_dump()) + s.model_dump_json()
    assert "very-secret" not in text and "super-secret" not in text
    assert s.api_secret.get_secret_value() == "super-secret-value"


def test_validation_errors_never_echo_a_mistyped_secret() -> None:
    class EndpointSettings(ConnectorSettings):  # a connector's settings model inherits the config
        rest_url: str = "https://api.example.invalid"

    with pytest.raises(ValidationError) as info:
        EndpointSettings(api_key="k" * 16, apisecret="TOPSECRET-typo-1234")  # type: ignore[call-arg]
    text = str(info.value) + repr(info.value)  # what a log line or a traceback shows
    assert "apisecret" in text and "Extra inputs" in text  # still says what is wrong
    assert "TOPSECRET" not in text


def test_full_schema_override_and_partial_on_top() -> None:
    custom = TradeFeeSchema(maker_percent_fee_decimal="0.01", taker_fixed_fees=[TokenAmount("BNB", "0.1")])
    s = ConnectorSettings(trade_fee_schema=custom, buy_percent_fee_deducted_from_returns=True)
    fees = s.resolve_trade_fee_schema(TradeFeeSchema(maker_percent_fee_decimal="0.5"))
    assert fees.maker_percent_fee_decimal == Decimal("0.01")
    assert fees.buy_percent_fee_deducted_from_returns is True
    assert fees.taker_fixed_fees == (TokenAmount("BNB", "0.1"),)


def test_register_rejects_conflicts() -> None:
    def f1(s: Any) -> Any:
        return 1

    def f2(s: Any) -> Any:
        return 2

    register_connector("dupe_test", f1, TradeFeeSchema())
    try:
        register_connector("dupe_test", f1, TradeFeeSchema())  # identical: no-op
        with pytest.raises(ValueError, match="already registered"):
            register_connector("dupe_test", f2, TradeFeeSchema())
        with pytest.raises(ValueError, match="identifier"):
            register_connector("bad-name", f1, TradeFeeSchema())
    finally:
        unregister_connector("dupe_test")
