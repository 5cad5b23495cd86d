"""``connectorkit demo`` whose settlement begins with a second Ctrl-C: the impatient user at the
worst moment, every time (run by test_demo_command.py as a child process).

The signal is sent to this process as ``_settle`` starts; the loop's handler runs at its next
iteration, which comes while the real settlement waits on the sandbox (it has orders to cancel and
a position to close), so the second Ctrl-C always lands mid-settlement, never before or after it.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from connectorkit.cli.demo import command
from connectorkit.cli.main import main

real_settle = command._settle


async def settle_after_a_second_ctrl_c(*args: Any) -> Any:
    os.kill(os.getpid(), signal.SIGINT)
    return await real_settle(*args)


command._settle = settle_after_a_second_ctrl_c  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
