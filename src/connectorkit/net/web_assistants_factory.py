"""The owner of a connector's single ``aiohttp.ClientSession`` and the assistants built on it."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from connectorkit.net.auth import AuthBase
from connectorkit.net.rest_assistant import (
    ErrorParser,
    RESTAssistant,
    RESTPostProcessorBase,
    RESTPreProcessorBase,
    parse_code_msg_error,
)
from connectorkit.net.throttler import AsyncThrottler
from connectorkit.net.ws_assistant import WSAssistant


class WebAssistantsFactory:
    """Builds the REST and WebSocket assistants of one connector over one shared session.

    The session is created lazily, inside the running event loop, by the first ``get_*`` call and
    closed by :meth:`close` (the connector's ``stop_network``). After :meth:`close`, the next
    ``get_*`` call opens a new session, so fetch assistants again after a restart.
    """

    def __init__(
        self,
        throttler: AsyncThrottler,
        auth: AuthBase | None = None,
        rest_pre_processors: Sequence[RESTPreProcessorBase] | None = None,
        rest_post_processors: Sequence[RESTPostProcessorBase] | None = None,
        *,
        request_timeout: float = 10.0,
        error_parser: ErrorParser = parse_code_msg_error,
    ) -> None:
        self._throttler = throttler
        self._auth = auth
        self._pre_processors = tuple(rest_pre_processors or ())
        self._post_processors = tuple(rest_post_processors or ())
        self._request_timeout = request_timeout
        self._error_parser = error_parser
        self._session: aiohttp.ClientSession | None = None
        self._rest_assistant: RESTAssistant | None = None

    @property
    def throttler(self) -> AsyncThrottler:
        return self._throttler

    @property
    def auth(self) -> AuthBase | None:
        return self._auth

    @property
    def session_open(self) -> bool:
        return self._session is not None and not self._session.closed

    async def get_rest_assistant(self) -> RESTAssistant:
        """The REST assistant (one per session; it holds no per-call state)."""
        session = self._ensure_session()
        if self._rest_assistant is None:
            self._rest_assistant = RESTAssistant(
                session, self._throttler, self._auth, self._pre_processors, self._post_processors,
                request_timeout=self._request_timeout, error_parser=self._error_parser,
            )
        return self._rest_assistant

    async def get_ws_assistant(self) -> WSAssistant:
        """A new WebSocket assistant (one per connection) on the shared session."""
        return WSAssistant(self._ensure_session(), self._throttler, self._auth)

    async def close(self) -> None:
        """Close the session (idempotent); open WebSockets on it are closed with it."""
        session, self._session, self._rest_assistant = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._rest_assistant = None
        return self._session
