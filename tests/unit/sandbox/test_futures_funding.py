"""Funding schedule, rate formula and mark state of the futures sandbox."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectorkit.sandbox.venues.binance.futures.funding import (
    EIGHT_HOURS_MS,
    MarkState,
    funding_rate,
    next_funding_time,
)


def test_next_funding_time_is_the_next_multiple_of_the_interval() -> None:
    # 2020-08-14 02:01:35.002 UTC -> next funding at 08:00 UTC (the docs' example pair)
    assert next_funding_time(1597370495002, EIGHT_HOURS_MS) == 1597392000000
    assert next_funding_time(1597392000000, EIGHT_HOURS_MS) == 1597392000000 + EIGHT_HOURS_MS
    assert next_funding_time(1500, 1000) == 2000


def test_funding_rate_formula_clamps_interest_and_caps() -> None:
    # mark == index: premium 0 -> rate = interest 0.01 %
    assert funding_rate(D(100), D(100)) == D("0.00010000")
    # small premium 0.02 %: I - P = -0.01 % inside the clamp -> rate = I
    assert funding_rate(D("100.02"), D(100)) == D("0.00010000")
    # premium 0.1 %: I - P = -0.09 % clamped to -0.05 % -> 0.05 %
    assert funding_rate(D("100.1"), D(100)) == D("0.00050000")
    # huge premium capped at 0.75 %
    assert funding_rate(D(150), D(100)) == D("0.00750000")
    assert funding_rate(D(50), D(100)) == D("-0.00750000")
    with pytest.raises(ValueError, match="index"):
        funding_rate(D(1), D(0))


def test_mark_state_settles_on_schedule_with_the_current_rate() -> None:
    now = 10_500
    st = MarkState.start("BTCUSDT", D(100), now, interval_ms=1000)
    assert st.next_funding_time == 11_000
    assert not st.due(now)
    with pytest.raises(ValueError, match="no funding"):
        st.settle(now)
    st.update_prices(D("100.1"), D(100), now)
    assert st.last_funding_rate == D("0.0005")
    now += 500
    assert st.due(now)
    assert st.settle(now) == (11_000, D("0.0005"))
    assert st.next_funding_time == 12_000
    now += 2_700  # missed 12 000 and 13 000: one payment, for the latest period
    assert st.settle(now) == (13_000, D("0.0005"))
    assert st.next_funding_time == 14_000


def test_fixed_rate_overrides_the_formula() -> None:
    st = MarkState.start("ETHUSDT", D(10), 0, interval_ms=1000, fixed_rate=D("-0.001"))
    st.update_prices(D(20), D(10), 1)
    assert st.current_rate() == D("-0.001")
    with pytest.raises(ValueError, match="positive"):
        st.update_prices(D(0), D(10), 2)
