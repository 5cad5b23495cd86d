"""Binance Spot connector (``binance``): see :class:`BinanceExchange`."""
