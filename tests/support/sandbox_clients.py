"""The README's "Use the sandbox with ccxt / python-binance" snippet, loaded as a module, so that every
real-client test configures its client exactly as the README tells a user to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

from connectorkit.sandbox import Sandbox
from support.paths import REPO_ROOT

_MARKER = re.compile(r"<!-- sandbox-clients -->\n```python\n(.*?)```", re.DOTALL)


def readme_snippet() -> str:
    match = _MARKER.search((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    if match is None:
        raise AssertionError("README.md lost its sandbox-clients block")
    return match.group(1)


def load_snippet() -> ModuleType:
    module = ModuleType("readme_sandbox_clients")
    exec(compile(readme_snippet(), "README.md:sandbox-clients", "exec"), module.__dict__)
    return module


clients = load_snippet()


@dataclass(frozen=True)
class Venue:
    """A running sandbox and the keys of a funded account."""

    sb: Sandbox
    api_key: str
    secret: str

    @property
    def urls(self) -> dict[str, str]:
        return {"rest": self.sb.rest_url, "spot_ws": self.sb.ws_url, "futures_ws": self.sb.futures_ws_url}
