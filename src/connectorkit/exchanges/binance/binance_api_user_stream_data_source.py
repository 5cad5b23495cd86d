"""Binance Spot user stream over the WebSocket API (``userDataStream.subscribe.signature``).

This is the current official subscription method (the spot listen key was discontinued on
2026-02-20; see ``binance_constants``): connect to ``ws_api_url``, send a signed
``userDataStream.subscribe.signature`` request (params apiKey, timestamp, recvWindow, signature),
wait for its ``{"status": 200, "result": {"subscriptionId": n}}`` answer, then read pushed frames
``{"subscriptionId": n, "event": {...}}``. No keep-alive request exists: the subscription lives as
long as the connection, which Binance closes after 24 h. An ``eventStreamTerminated`` event, a
``serverShutdown`` notice ("Connection events") or a dropped socket makes the template reconnect
(with backoff) and subscribe again; the connector reconciles orders and balances by REST after
every reconnection.

Events are queued as decoded wire structs (``binance_trading_wire.SpotUserEvent``); frames that
are not events of our subscription (answers, unknown event types) are dropped and counted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource
from connectorkit.exchanges.binance import binance_constants as CONSTANTS
from connectorkit.exchanges.binance import binance_trading_wire as wire
from connectorkit.net.errors import WebError
from connectorkit.net.web_assistants_factory import WebAssistantsFactory
from connectorkit.net.ws_assistant import WSAssistant

logger = logging.getLogger(__name__)

SUBSCRIBE_METHOD = "userDataStream.subscribe.signature"


class UserStreamSubscriptionError(WebError):
    """The WebSocket API refused the subscription (its error code and message, no secrets)."""

    def __init__(self, status: int | None, code: int | None, message: str) -> None:
        super().__init__(f"user data subscription refused: status {status}, code {code}: {message}")
        self.status = status
        self.code = code


class UserStreamTerminated(WebError):
    """The server ended our subscription (``eventStreamTerminated``)."""


class BinanceAPIUserStreamDataSource(UserStreamTrackerDataSource):
    """Signed WebSocket-API subscription to the spot user data stream."""

    def __init__(
        self,
        web_assistants_factory: WebAssistantsFactory,
        ws_api_url: str = CONSTANTS.DEFAULT_WS_API_URL,
        *,
        subscribe_timeout: float = 10.0,
        message_timeout: float | None = None,
    ) -> None:
        super().__init__()
        self._factory = web_assistants_factory
        self._ws_api_url = ws_api_url
        self._subscribe_timeout = subscribe_timeout
        self._message_timeout = message_timeout
        self._request_ids = itertools.count(1)
        self._subscription_id: int | None = None
        self._terminated = asyncio.Event()
        self.dropped_frame_count = 0
        #: well-formed events of types the connector does not use (e.g. listStatus), skipped
        self.ignored_event_count = 0

    @property
    def subscription_id(self) -> int | None:
        return self._subscription_id

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws = await self._factory.get_ws_assistant()
        await self._factory.throttler.acquire("WS_API_CONNECT")
        await ws.connect(
            self._ws_api_url, heartbeat=CONSTANTS.WS_HEARTBEAT_S, message_timeout=self._message_timeout
        )
        return ws

    async def _subscribe_channels(self, ws: WSAssistant) -> None:
        self._terminated.clear()
        self._subscription_id = None
        request_id = f"ck-uds-{next(self._request_ids)}"
        await ws.send_json(
            {"id": request_id, "method": SUBSCRIBE_METHOD, "params": {}},
            is_auth_required=True,
            throttler_limit_id=SUBSCRIBE_METHOD,
        )
        async with asyncio.timeout(self._subscribe_timeout):
            while True:
                raw = await ws.receive()
                if raw is None:
                    raise UserStreamTerminated("connection closed before the subscription answer")
                frame = wire.decode_ws_api_frame(raw)
                if frame.id != request_id:
                    continue  # e.g. a late answer of a previous session: not ours
                if frame.status != 200 or frame.error is not None:
                    error = frame.error
                    raise UserStreamSubscriptionError(
                        frame.status, error.code if error else None, error.msg if error else "no result"
                    )
                self._subscription_id = wire.subscription_id_from_result(frame.result)
                logger.info("spot user data stream subscribed (subscriptionId %d)", self._subscription_id)
                return

    async def _keep_alive(self) -> None:
        """Nothing to refresh; this only turns an ``eventStreamTerminated`` into a reconnect."""
        await self._terminated.wait()
        raise UserStreamTerminated("the server terminated the user data subscription")

    def _decode_event(self, raw: str | bytes) -> Any:
        frame = wire.decode_ws_api_frame(raw)
        if not frame.has_event:
            self.dropped_frame_count += 1
            return None
        if frame.subscription_id is not None and frame.subscription_id != self._subscription_id:
            self.dropped_frame_count += 1
            return None
        try:
            event = wire.decode_user_event(frame.event)
        except wire.UnknownUserEventError as exc:
            self.ignored_event_count += 1
            logger.debug("user event skipped: %s", exc)
            return None
        if isinstance(event, wire.EventStreamTerminated | wire.ServerShutdown):
            # Either way the subscription is ending: reconnect (and resubscribe) now.
            self._terminated.set()
            return None
        return event

    async def _on_user_stream_interruption(self, ws: WSAssistant) -> None:
        self._subscription_id = None
        await ws.disconnect()
