"""The web layer: everything between a connector and the exchange's wire.

- :mod:`.throttler` -- client-side rate limiting (``AsyncThrottler``, ``RateLimit``,
  ``LinkedLimitWeightPair``) including the pause after a 429/418 answer.
- :mod:`.rest_request` / :mod:`.rest_assistant` -- typed REST requests and the assistant that
  authenticates, throttles, sends and decodes them.
- :mod:`.ws_assistant` -- a WebSocket connection with typed close/timeout errors, plus the
  reconnect-with-backoff helper that data sources reuse.
- :mod:`.web_assistants_factory` -- owns the one ``aiohttp.ClientSession`` of a connector.
- :mod:`.time_synchronizer` -- the offset to the exchange clock for signed timestamps.
- :mod:`.auth` -- ``AuthBase``, the only place credentials live.
- :mod:`.errors` -- the typed errors of this layer; none of them ever carries a secret.
"""
