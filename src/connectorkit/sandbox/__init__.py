"""The local exchange: a venue-neutral core (matching engine, accounts, clock, faults, rate limits,
simulator, persistence, admin API) and protocol skins under ``venues/`` (today ``venues/binance/``:
Binance Spot / USD-M Futures). ``Sandbox`` is the Binance skin's entry point.

See ARCHITECTURE.md beside this file for how the parts fit together.
"""

from connectorkit.sandbox.errors import ApiError
from connectorkit.sandbox.faults import FaultInjector, FaultRecord
from connectorkit.sandbox.markets import DEFAULT_MARKETS, Market
from connectorkit.sandbox.product import SandboxConfig
from connectorkit.sandbox.ratelimit import RateLimitRule
from connectorkit.sandbox.venues.binance.sandbox import Sandbox

__all__ = [
    "DEFAULT_MARKETS",
    "ApiError",
    "FaultInjector",
    "FaultRecord",
    "Market",
    "RateLimitRule",
    "Sandbox",
    "SandboxConfig",
]
