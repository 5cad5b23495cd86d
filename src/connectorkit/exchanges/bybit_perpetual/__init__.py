"""Bybit USDT linear perpetuals (category ``linear``): what differs from ``exchanges/bybit``.

Not registered yet (the connector class waits for the venue-neutral templates).
"""
