"""The local exchange: a Binance Spot / USD-M Futures compatible server with a real matching engine.

See ARCHITECTURE.md beside this file for how the parts fit together.
"""

from connectorkit.sandbox.errors import ApiError
from connectorkit.sandbox.faults import FaultInjector, FaultRecord
from connectorkit.sandbox.markets import DEFAULT_MARKETS, Market
from connectorkit.sandbox.product import SandboxConfig
from connectorkit.sandbox.ratelimit import RateLimitRule
from connectorkit.sandbox.sandbox import Sandbox

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
