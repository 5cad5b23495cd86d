"""Ctrl-C handling shared by the long-running commands.

The first SIGINT sets an :class:`asyncio.Event` so the command can stop cleanly (and, for the demo,
still print its summary); a second one cancels the command's task outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """While active, SIGINT sets ``stop``; a second SIGINT cancels the current task."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_sigint() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signal support
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
