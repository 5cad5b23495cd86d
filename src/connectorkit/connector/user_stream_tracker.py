"""UserStreamTracker: runs a user stream data source and exposes its event queue."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from connectorkit.connector.background_tasks import BackgroundTasks
from connectorkit.connector.user_stream_tracker_data_source import UserStreamTrackerDataSource

logger = logging.getLogger(__name__)


class UserStreamTracker:
    """Owns the data source's listening task; the connector consumes :attr:`user_stream`."""

    def __init__(self, data_source: UserStreamTrackerDataSource) -> None:
        self._data_source = data_source
        self._user_stream: asyncio.Queue[Any] = asyncio.Queue()
        self._tasks = BackgroundTasks(type(self).__name__, logger)

    @property
    def data_source(self) -> UserStreamTrackerDataSource:
        return self._data_source

    @property
    def user_stream(self) -> asyncio.Queue[Any]:
        """Raw (decoded) user events, in arrival order."""
        return self._user_stream

    @property
    def last_recv_time(self) -> float:
        return self._data_source.last_recv_time

    @property
    def is_running(self) -> bool:
        return len(self._tasks) > 0

    async def start(self) -> None:
        """Start listening (idempotent)."""
        if not self.is_running:
            self._tasks.spawn(self._data_source.listen_for_user_stream(self._user_stream), "listen")

    async def stop(self) -> None:
        """Stop listening and close the connection; queued events stay in the queue."""
        await self._tasks.cancel_all()
