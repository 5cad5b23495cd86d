"""placeholder"""
from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("record")
    return parser


async def run(args: argparse.Namespace) -> int:
    return 0
