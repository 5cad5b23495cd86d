"""How the Binance skin shows each core fault kind on its wire (the mapping the OKX / Bybit skins mirror).

Where it happens: spot depth ``spot/marketdata.py`` and futures depth ``futures/product.py`` (sequence
gap), ``streams.py`` / ``wsconn.py`` (drops, pauses), ``userstream.py`` (duplicates, reorders),
``http.py`` (REST delays, failures, 429, unknown status), ``listenkeys.py`` (expiry).
Codes: Spot "Error codes" (-1003, -1007, -1021); WebSocket Streams "Diff. Depth Stream" (``U``/``u``);
USD-M "Diff. Book Depth Streams" (``pu``); User Data Streams "listenKeyExpired".
"""

from __future__ import annotations

from connectorkit.sandbox.faults import FaultKind, FaultMapping

BINANCE_FAULTS: FaultMapping = {
    FaultKind.DROP_WEBSOCKETS: "every market, user and WS-API socket closed (after N frames if asked)",
    FaultKind.PAUSE_STREAM: "frames of that stream name are not sent (lost) until resumed",
    FaultKind.RESUME_STREAM: "that stream name is sent again",
    FaultKind.SEQUENCE_GAP: "spot: the next depthUpdate's U skips update ids (U > previous u + 1); "
    "USD-M: the next depthUpdate events (count, over its depth speeds) are not sent, so pu != previous u",
    FaultKind.DUPLICATE_USER_EVENTS: "an executionReport / ORDER_TRADE_UPDATE ... event is sent twice",
    FaultKind.REORDER_USER_EVENTS: "an event is held back and sent after the one that follows it",
    FaultKind.DELAY_REST: "the REST answer waits the given seconds",
    FaultKind.FAIL_NEXT_REQUESTS: "REST answers the given 5xx status with a JSON {code, msg} body",
    FaultKind.UNKNOWN_STATUS: "the order IS placed, the answer is 503 -1007 (execution status unknown)",
    FaultKind.FORCE_429: "REST answers 429 -1003 with Retry-After, whatever the weight used",
    FaultKind.EXPIRE_USER_STREAM: "the listen key expires: listenKeyExpired event, then nothing",
    FaultKind.CLOCK_SKEW: "server time shifts: signed requests outside recvWindow get -1021",
}
