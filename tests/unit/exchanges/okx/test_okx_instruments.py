"""OKX instruments -> base-unit trading rules, and exact contract conversion ("Get instruments")."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectorkit.exchanges.okx.okx_instruments import (
    ContractSizeError,
    OkxInstrumentError,
    contract_spec,
    decode_instruments,
    trading_pair_of,
    trading_rule,
)
from support.paths import CAPTURES

# A linear USDT swap with the fields "Get instruments" documents (values of BTC-USDT-SWAP's kind).
SWAP = {
    "instType": "SWAP", "instId": "BTC-USDT-SWAP", "uly": "BTC-USDT", "instFamily": "BTC-USDT",
    "baseCcy": "", "quoteCcy": "", "settleCcy": "USDT", "ctVal": "0.01", "ctMult": "1", "ctValCcy": "BTC",
    "ctType": "linear", "lotSz": "0.1", "minSz": "0.1", "tickSz": "0.1", "maxLmtSz": "100000",
    "maxMktSz": "12000", "state": "live", "lever": "100", "listTime": "1611916828000", "expTime": "",
}


def _recorded_spot_answer() -> str:
    with (CAPTURES / "okx_spot.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["t"] == "http" and "instruments" in record["url"]:
                return str(record["data"])
    raise AssertionError("no instruments answer in the capture")


def test_the_recorded_spot_instruments_become_base_unit_rules() -> None:
    instruments = decode_instruments(_recorded_spot_answer())
    assert len(instruments) == 513
    btc = next(i for i in instruments if i.instId == "BTC-USDT")
    rule = trading_rule(btc)
    assert rule.trading_pair == trading_pair_of(btc) == "BTC-USDT"
    assert (rule.min_order_size, rule.min_price_increment, rule.min_base_amount_increment) == (
        Decimal("0.00001"), Decimal("0.1"), Decimal("0.00000001"),
    )
    assert rule.max_order_size == Decimal("9999999999")
    assert rule.buy_collateral_token == "USDT" and rule.sell_collateral_token == "BTC"
    for instrument in instruments:  # every recorded instrument yields a rule
        assert trading_rule(instrument).trading_pair == f"{instrument.baseCcy}-{instrument.quoteCcy}"


def test_a_swap_rule_is_in_base_units_and_margined_in_the_settle_currency() -> None:
    (swap,) = decode_instruments(json.dumps({"code": "0", "msg": "", "data": [SWAP]}))
    rule = trading_rule(swap)
    assert rule.trading_pair == "BTC-USDT"
    assert rule.min_order_size == rule.min_base_amount_increment == Decimal("0.001")  # 0.1 x 0.01 BTC
    assert rule.max_order_size == Decimal("1000")
    assert rule.buy_collateral_token == rule.sell_collateral_token == "USDT"


def test_contracts_convert_exactly_and_an_uneven_amount_is_refused() -> None:
    (swap,) = decode_instruments(json.dumps({"code": "0", "msg": "", "data": [SWAP]}))
    spec = contract_spec(swap)
    assert spec.to_contracts(Decimal("0.123")) == Decimal("12.3")
    assert spec.to_base(Decimal("12.3")) == Decimal("0.123")
    assert spec.to_contracts(Decimal("1")) == Decimal("100")
    with pytest.raises(ContractSizeError, match=r"lot size 0\.1"):
        spec.to_contracts(Decimal("0.0015"))  # 0.15 contracts
    with pytest.raises(OkxInstrumentError, match="no contract size"):
        contract_spec(decode_instruments(_recorded_spot_answer())[0])


@pytest.mark.parametrize(
    "raw",
    [
        '{"code":"50011","msg":"Too Many Requests","data":[]}',
        '{"code":"0","data":[{"instId":"X"}]}',
        "not json",
    ],
)
def test_error_envelopes_and_broken_answers_are_typed_errors(raw: str) -> None:
    with pytest.raises(OkxInstrumentError):
        decode_instruments(raw)


def test_a_non_numeric_or_zero_step_is_an_error_naming_the_instrument() -> None:
    (broken,) = decode_instruments(json.dumps({"code": "0", "data": [{**SWAP, "lotSz": "0"}]}))
    with pytest.raises(OkxInstrumentError, match="BTC-USDT-SWAP: lotSz"):
        trading_rule(broken)
