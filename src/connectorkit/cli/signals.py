"""Ctrl-C (and SIGTERM) handling shared by the long-running commands.

The first SIGINT or SIGTERM sets an :class:`asyncio.Event` so the command can stop cleanly (and,
for the demo, still print its summary); a second one cancels the command's task outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """While active, SIGINT/SIGTERM set ``stop``; a second one cancels the current task."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set() and task is not None:
            task.cancel(sig.name)  # the message tells the entry point which exit code to give
        stop.set()

    installed = []
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / no signals
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
