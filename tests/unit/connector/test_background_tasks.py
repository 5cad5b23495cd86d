import asyncio
import logging

import pytest

from connectorkit.connector.background_tasks import BackgroundTasks
from connectorkit.net.throttler import RequestPriority, current_request_priority, request_priority


async def test_tasks_are_named_cancelled_and_crashes_logged(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.bg")
    tasks = BackgroundTasks("conn", log)

    async def forever() -> None:
        await asyncio.Event().wait()

    async def boom() -> None:
        raise RuntimeError("kaboom")

    t1 = tasks.spawn(forever(), "loop")
    with caplog.at_level(logging.ERROR, logger="test.bg"):
        tasks.spawn(boom(), "boom")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert tasks.crashed_count == 1
    assert "conn:boom" in caplog.text and "kaboom" in caplog.text
    assert tasks.names == ["conn:loop"]
    await tasks.cancel_all()
    assert t1.cancelled()
    assert len(tasks) == 0


async def test_cancel_all_also_cancels_tasks_spawned_while_stopping() -> None:
    tasks = BackgroundTasks("conn", logging.getLogger("test.bg"))
    late: list[asyncio.Task[None]] = []

    async def forever() -> None:
        await asyncio.Event().wait()

    async def spawns_when_cancelled() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            late.append(tasks.spawn(forever(), "late"))  # e.g. an order placed during stop
            raise

    tasks.spawn(spawns_when_cancelled(), "first")
    await asyncio.sleep(0)
    await tasks.cancel_all()
    assert len(late) == 1 and late[0].cancelled()
    assert len(tasks) == 0


async def test_a_task_spawned_during_placement_starts_at_normal_request_priority() -> None:
    """Only the placement's own requests are HIGH: a task a listener spawns meanwhile is not."""
    tasks = BackgroundTasks("unit", logging.getLogger(__name__))
    seen: list[RequestPriority] = []

    async def probe() -> None:
        seen.append(current_request_priority())

    with request_priority(RequestPriority.HIGH):
        assert current_request_priority() is RequestPriority.HIGH
        task = tasks.spawn(probe(), "probe")
    await task
    assert seen == [RequestPriority.NORMAL]
    assert current_request_priority() is RequestPriority.NORMAL
