"""Make ``tests/support`` importable as ``support`` (shared fakes of the connector tests)."""

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parents[2])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
