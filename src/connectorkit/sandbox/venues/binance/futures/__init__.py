"""The USD-M futures half of the sandbox: account model, funding, and the ``/fapi`` API.

Plugs into the sandbox core through ``create_product(ctx, markets)`` (see ``../ARCHITECTURE.md``).
"""

from .markets import DEFAULT_FUTURES_MARKETS, FuturesMarket
from .product import FuturesProduct, create_product

__all__ = ["DEFAULT_FUTURES_MARKETS", "FuturesMarket", "FuturesProduct", "create_product"]
