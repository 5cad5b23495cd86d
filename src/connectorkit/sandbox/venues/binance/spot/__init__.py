"""The Binance Spot product of the sandbox."""
