"""The conformance suite as pytest test classes: subclass one and set ``target``.

``SpotConformance`` holds the checks every connector must pass; ``PerpetualConformance`` adds the
perpetual ones. The classes are not named ``Test*``, so pytest collects only the subclass a connector
author writes (which must be). Each test is one check of :mod:`connectorkit.testing.checks`; the
class carries the asyncio marker, so the tests run in pytest-asyncio's strict mode too. No test needs
its own timeout: every wait inside a check has a deadline and fails with a ConformanceError.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from connectorkit.testing import checks
from connectorkit.testing.target import ConformanceTarget, PerpetualConformanceTarget


def suite_for(target: ConformanceTarget) -> type[SpotConformance]:
    """A test class (named ``Test<Connector>Conformance``) running the right suite for ``target``."""
    base = PerpetualConformance if isinstance(target, PerpetualConformanceTarget) else SpotConformance
    title = "".join(part.capitalize() for part in target.connector_name.split("_"))
    return type(f"Test{title}Conformance", (base,), {"target": target, "__module__": base.__module__})


class SpotConformance:
    """Every connector's conformance tests (see :mod:`connectorkit.testing.checks` for each rule)."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
    target: ClassVar[ConformanceTarget]

    async def test_books_equal_the_true_book_while_the_market_trades(self) -> None:
        await checks.check_books_track_true_book(self.target)

    async def test_order_types_fills_cancels_and_rejections(self) -> None:
        await checks.check_order_lifecycle(self.target)

    async def test_each_fill_counted_once_under_duplicated_and_reordered_events(self) -> None:
        await checks.check_fills_once_under_duplicated_and_reordered_events(self.target)

    async def test_state_reconciled_after_a_dropped_user_stream(self) -> None:
        await checks.check_reconciled_after_user_stream_drop(self.target)

    async def test_unknown_status_resolved_by_polling_and_lost_only_on_not_found(self) -> None:
        await checks.check_unknown_status_and_lost_orders(self.target)

    async def test_throttler_keeps_a_burst_within_the_advertised_limits(self) -> None:
        await checks.check_throttler_keeps_within_advertised_limits(self.target)

    async def test_no_key_or_secret_in_logs_reprs_or_exceptions(self) -> None:
        await checks.check_no_secrets_leak(self.target)


class PerpetualConformance(SpotConformance):
    """A perpetual connector's conformance tests: the spot ones, then positions and funding."""

    target: ClassVar[PerpetualConformanceTarget]

    async def test_funding_info_present_and_updating(self) -> None:
        await checks.check_funding_info(self.target)

    async def test_leverage_position_modes_open_close_and_funding_payments(self) -> None:
        await checks.check_leverage_positions_and_funding(self.target)
