"""Bybit API v5, shared by the ``bybit`` (spot) and ``bybit_perpetual`` (USDT linear) connectors.

Only the sans-I/O layer is here so far (constants, auth, wire schemas and parsers, utils); the
connector classes and data sources come with the venue-neutral templates. Until then nothing is
registered: importing this package (as ``create_connector`` discovery does) has no effect.
"""
