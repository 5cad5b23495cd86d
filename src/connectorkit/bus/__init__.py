"""Scale-out over Redis: one market-data gateway per connector, any number of consumer processes.

- :mod:`connectorkit.bus.gateway` runs a connector's market data and publishes, per pair, the
  ``ck:<connector>:<pair>:book`` stream, its ``:snapshot`` key, ``:trades`` and (perpetuals)
  ``:funding``, plus a heartbeat key ``ck:gateway:<connector>``;
- :mod:`connectorkit.bus.consumer` is the :class:`BusOrderBookDataSource` that a connector created
  with ``market_data_bus="redis://..."`` uses instead of the exchange's sockets.

Requires the optional ``redis`` extra (``pip install "connectorkit[redis]"``); nothing here is
imported unless a bus is configured.
"""
