"""The Binance skin: Spot (`/api/v3`, streams, WS-API) and USD-M futures (`/fapi`) over the sandbox core."""
