"""Binance USDⓈ-M's replay adapter: how ``connectorkit replay`` reads a Binance futures capture.

The futures streams follow the Spot stream protocol (``<symbol>@<kind>`` streams listed in the
connection URL, ``SUBSCRIBE``/``UNSUBSCRIBE`` messages, ``GET .../depth`` snapshots: "Websocket
Market Streams" and "Order Book" of the USDⓈ-M and COIN-M docs); their diffs add ``pu``, which the
connector's own parser reads. So the Spot adapter serves them unchanged; this class exists so that
each connector's adapter lives beside it and can diverge without touching the other.
"""

from __future__ import annotations

from connectorkit.exchanges.binance.binance_replay import BinanceReplayAdapter


class BinancePerpetualReplayAdapter(BinanceReplayAdapter):
    """Binance USDⓈ-M (and COIN-M, same depth protocol) captures."""
