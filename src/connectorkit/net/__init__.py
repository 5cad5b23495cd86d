"""The web layer: everything between a connector and the exchange's wire.

- :mod:`.rate_limit_specs` -- rate limits as plain data (``LimitSpec``) for a venue's constants
  module, with no dependency on the rest of this layer.
- :mod:`.throttler` -- client-side rate limiting (``AsyncThrottler``, ``RateLimit``,
  ``LinkedLimitWeightPair``, ``rate_limits_from_specs``) including the pause after a 429/418 answer.
- :mod:`.rest_request` / :mod:`.rest_assistant` -- typed REST requests and the assistant that
  authenticates, throttles, sends and decodes them.
- :mod:`.typed_request` -- one REST call decoded into a wire schema, with the signed-timestamp
  retry (resync the clock, sign anew, retry once).
- :mod:`.ws_assistant` -- a WebSocket connection with typed close/timeout errors, plus the
  reconnect-with-backoff helper that data sources reuse.
- :mod:`.web_assistants_factory` -- owns the one ``aiohttp.ClientSession`` of a connector.
- :mod:`.time_synchronizer` -- the offset to the exchange clock for signed timestamps.
- :mod:`.auth` -- ``AuthBase``, the only place credentials live.
- :mod:`.errors` -- the typed errors of this layer; none of them ever carries a secret.
"""
