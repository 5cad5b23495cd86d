"""Bus URLs: validation, and the password masked in every text made from a URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectorkit.bus.connection import BusUrlError, mask_url, validate_url
from connectorkit.connector.settings import build_settings


def test_mask_url_hides_the_password_and_keeps_the_rest() -> None:
    assert mask_url("redis://:s3cr3t-pw@10.0.0.5:6380/2") == "redis://:***@10.0.0.5:6380/2"
    assert mask_url("rediss://alice:s3cr3t-pw@cache.local:6379") == "rediss://alice:***@cache.local:6379"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "redis://", "redis://host:notaport", "127.0.0.1:6379"]
)
def test_validate_url_rejects_what_is_not_a_redis_url(url: str) -> None:
    with pytest.raises(BusUrlError):
        validate_url(url)


def test_validate_url_error_never_shows_the_password() -> None:
    with pytest.raises(BusUrlError) as caught:
        validate_url("http://:s3cr3t-pw@host:6379")
    assert "s3cr3t-pw" not in str(caught.value)


def test_market_data_bus_setting_is_masked_and_validated() -> None:
    settings = build_settings("binance", ["BTC-USDT"], trading_required=False,
                              market_data_bus="redis://:s3cr3t-pw@127.0.0.1:6379/0")
    assert "s3cr3t-pw" not in repr(settings)
    assert "s3cr3t-pw" not in str(settings.model_dump())
    with pytest.raises(ValidationError) as caught:
        build_settings("binance", ["BTC-USDT"], market_data_bus="http://:s3cr3t-pw@127.0.0.1:6379")
    assert "s3cr3t-pw" not in str(caught.value)


def test_mask_url_also_hides_a_password_given_as_a_query_option() -> None:
    masked = mask_url("redis://127.0.0.1:6379/0?password=hunter2&socket_timeout=5")
    assert "hunter2" not in masked
    assert masked == "redis://127.0.0.1:6379/0?password=***&socket_timeout=5"
    assert mask_url("rediss://u:hunter2@h:1/2?Password=hunter2") == "rediss://u:***@h:1/2?Password=***"


def test_every_bus_client_has_a_finite_read_timeout_above_the_blocking_read() -> None:
    from connectorkit.bus.connection import READ_TIMEOUT_S, client_for
    from connectorkit.bus.consumer import BusOrderBookDataSource

    client = client_for("redis://127.0.0.1:1/0")
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == READ_TIMEOUT_S
    assert READ_TIMEOUT_S * 1000 > 10 * BusOrderBookDataSource.BLOCK_MS
