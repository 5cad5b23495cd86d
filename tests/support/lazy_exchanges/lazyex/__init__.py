"""Registers ``lazyex`` when imported, like a real exchange package does."""

from decimal import Decimal
from typing import Any

from connectorkit.connector.settings import ConnectorSettings, register_connector
from connectorkit.core.trade_fee import TradeFeeSchema

DEFAULT_FEES = TradeFeeSchema(maker_percent_fee_decimal=Decimal("0.001"), taker_percent_fee_decimal="0.002")


class LazyExSettings(ConnectorSettings):
    rest_url: str = "https://api.lazyex.invalid"


def _factory(settings: Any) -> Any:
    return ("lazyex-connector", settings)


register_connector("lazyex", _factory, DEFAULT_FEES, LazyExSettings)
