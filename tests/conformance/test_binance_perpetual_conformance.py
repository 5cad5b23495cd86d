"""The Binance USD-M connector against the sandbox's Binance skin: the whole conformance suite."""

from connectorkit.testing import PerpetualConformance
from connectorkit.testing.binance import BinancePerpetualTarget


class TestBinancePerpetualConformance(PerpetualConformance):
    target = BinancePerpetualTarget()
