"""Binance USDⓈ-M Futures user stream: listen key + ``/private/ws`` stream.

Procedure (docs: "User Data Streams > Start/Keepalive User Data Stream", "Connect"):
``POST /fapi/v1/listenKey`` (API key header only) returns the key (or the account's active one,
extended for 60 min); the stream is read at ``<ws_url>/private/ws?listenKey=<key>&events=...``;
``PUT /fapi/v1/listenKey`` every 30 min keeps it alive. If the keep-alive answers -1125 ("This
listenKey does not exist.") or the stream pushes ``listenKeyExpired``, the connection is ended
and the template reconnects, creating a fresh key. The listen key never appears in logs (the
connection is displayed without its query string, and ``listenKey`` is a secret parameter name).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.exchanges.binance_perpetual import binance_perpetual_constants as CONSTANTS
from connectorkit.exchanges.binance_perpetual import binance_perpetual_web_utils as web_utils
from connectorkit.exchanges.binance_perpetual import binance_perpetual_wire as wire
from connectorkit.net.errors import WebError
from connectorkit.net.rest_request import RESTMethod
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant

logger = logging.getLogger(__name__)


class ListenKeyExpiredError(WebError):
    """The listen key lapsed (pushed ``listenKeyExpired`` or keep-alive answered -1125)."""


class _ListenKey(msgspec.Struct, frozen=True):
    listenKey: str


class BinancePerpetualAPIUserStreamDataSource(UserStreamTrackerDataSource):
    def __init__(
        self,
        web_assistants_factory: WebAssistantsFactory,
        rest_url: str = CONSTANTS.DEFAULT_REST_URL,
        ws_url: str = CONSTANTS.DEFAULT_WS_URL,
        *,
        keep_alive_interval: float = CONSTANTS.LISTEN_KEY_KEEPALIVE_S,
        message_timeout: float | None = None,
        routed_paths: bool = True,
    ) -> None:
        super().__init__()
        self._factory = web_assistants_factory
        self._rest_url = rest_url
        self._ws_url = ws_url
        self._keep_alive_interval = keep_alive_interval
        self._message_timeout = message_timeout
        self._routed = routed_paths
        self._listen_key: str | None = None
        self._expired = asyncio.Event()
        self.listen_keys_created = 0
        #: well-formed events of types the connector does not use (e.g. TRADE_LITE), skipped
        self.ignored_event_count = 0

    async def _listen_key_request(self, method: RESTMethod) -> Any:
        rest = await self._factory.get_rest_assistant()
        return await rest.execute_request(
            web_utils.rest_url(CONSTANTS.LISTEN_KEY_PATH, self._rest_url),
            method=method,
            is_auth_required=True,
            throttler_limit_id=CONSTANTS.LISTEN_KEY_PATH,
        )

    async def _create_listen_key(self) -> str:
        answer = await self._listen_key_request(RESTMethod.POST)
        key = msgspec.convert(answer, _ListenKey).listenKey
        self.listen_keys_created += 1
        return key

    async def _connected_websocket_assistant(self) -> WSAssistant:
        self._listen_key = await self._create_listen_key()
        self._expired.clear()
        ws = await self._factory.get_ws_assistant()
        route = CONSTANTS.WS_PRIVATE_ROUTE if self._routed else ""
        await ws.connect(
            web_utils.private_stream_url(self._listen_key, self._ws_url, routed=self._routed),
            heartbeat=CONSTANTS.WS_HEARTBEAT_S,
            message_timeout=self._message_timeout,
            display_url=self._ws_url.rstrip("/") + route + CONSTANTS.WS_RAW_PATH + "/<listenKey>",
        )
        return ws

    async def _keep_alive(self) -> None:
        """Extend the key every ``keep_alive_interval``; end the connection when it lapses."""
        while True:
            try:
                async with asyncio.timeout(self._keep_alive_interval):
                    await self._expired.wait()
                raise ListenKeyExpiredError("the exchange reported the listen key expired")
            except TimeoutError:
                pass
            try:
                await self._listen_key_request(RESTMethod.PUT)
            except WebError as exc:
                if getattr(exc, "code", None) == CONSTANTS.ERR_INVALID_LISTEN_KEY:
                    raise ListenKeyExpiredError("keep-alive: the listen key no longer exists") from None
                logger.warning("listen key keep-alive failed (%s); retrying next interval", exc)

    def _decode_event(self, raw: str | bytes) -> Any:
        try:
            event = wire.decode_user_event(raw)
        except wire.UnknownUserEventError as exc:
            self.ignored_event_count += 1
            logger.debug("user event skipped: %s", exc)
            return None
        if isinstance(event, wire.ListenKeyExpired):
            self._expired.set()
            return None
        return event

    async def _on_user_stream_interruption(self, ws: WSAssistant) -> None:
        self._listen_key = None
        await ws.disconnect()
