"""``create_connector`` has one typed overload per shipped connector, in step with the registry."""

from __future__ import annotations

import typing
from pathlib import Path

from mypy import api as mypy_api

from connectorkit.connector import settings
from connectorkit.connector.settings import create_connector, registered_connectors

REPO = Path(__file__).resolve().parents[3]


def _named_overloads() -> dict[str, type]:
    from connectorkit.connector.exchange_py_base import ExchangePyBase
    from connectorkit.exchanges.binance.binance_exchange import BinanceExchange
    from connectorkit.exchanges.binance_perpetual.binance_perpetual_derivative import (
        BinancePerpetualDerivative,
    )

    namespace = {**vars(settings), "BinanceExchange": BinanceExchange,
                 "BinancePerpetualDerivative": BinancePerpetualDerivative, "ExchangePyBase": ExchangePyBase}
    named: dict[str, type] = {}
    for variant in typing.get_overloads(create_connector):
        hints = typing.get_type_hints(variant, globalns=namespace)
        if typing.get_origin(hints["name"]) is typing.Literal:
            (name,) = typing.get_args(hints["name"])
            named[name] = hints["return"]
    return named


def test_every_shipped_connector_has_an_overload_returning_the_class_it_builds() -> None:
    named = _named_overloads()
    assert set(named) == set(registered_connectors())
    for name, klass in named.items():
        connector = create_connector(name, ["BTC-USDT"], trading_required=False)
        assert type(connector) is klass, name


def test_mypy_infers_the_connector_class_from_its_name(tmp_path: Path) -> None:
    snippet = tmp_path / "typed_use.py"
    snippet.write_text(
        "from connectorkit import create_connector\n"
        "perp = create_connector('binance_perpetual', ['BTC-USDT'])\n"
        "reveal_type(perp)\n"
        "perp.set_leverage('BTC-USDT', 5)\n"
        "spot = create_connector('binance', ['BTC-USDT'])\n"
        "spot.set_leverage('BTC-USDT', 5)\n"
    )
    out, _, status = mypy_api.run(
        ["--cache-dir", str(REPO / ".mypy_cache"), "--no-error-summary", "--follow-imports", "silent",
         str(snippet)]
    )
    assert "BinancePerpetualDerivative" in out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "BinanceExchange" in errors[0] and "set_leverage" in errors[0], out
    assert status == 1
