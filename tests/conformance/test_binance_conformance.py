"""The Binance Spot connector against the sandbox's Binance skin: the whole conformance suite."""

from connectorkit.testing import SpotConformance
from connectorkit.testing.binance import BinanceSpotTarget


class TestBinanceConformance(SpotConformance):
    target = BinanceSpotTarget()
