"""Binance USDⓈ-M Perpetual connector (``binance_perpetual``): see :class:`BinancePerpetualDerivative`."""
