"""The Bybit v5 doc-example fixtures (tests/fixtures/bybit_v5, see its README) and the real capture."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

from support.paths import CAPTURES, REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "bybit_v5"
CAPTURE = CAPTURES / "bybit_spot.jsonl"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def capture_records() -> Iterator[dict[str, Any]]:
    with CAPTURE.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


_JSON_TYPES: dict[object, tuple[type, ...]] = {
    str: (str,), int: (int,), bool: (bool,), Decimal: (str,), list: (list,), dict: (dict,),
}


def assert_schema_matches(struct: type[msgspec.Struct], example: dict[str, Any]) -> None:
    """Every field ``struct`` declares has, in the documented ``example``, the JSON type the schema
    expects (a required field must be present): the schema is the documented one."""
    for field in msgspec.structs.fields(struct):
        if field.encode_name not in example:
            assert field.required is False, f"{struct.__name__}.{field.encode_name} is missing"
            continue
        value = example[field.encode_name]
        is_union = typing.get_origin(field.type) in (typing.Union, types.UnionType)
        options = typing.get_args(field.type) if is_union else (field.type,)
        allowed = tuple(
            t for option in options for t in _JSON_TYPES.get(typing.get_origin(option) or option, ())
        )
        nested = [o for o in options if isinstance(o, type) and issubclass(o, msgspec.Struct)]
        if value is None:
            assert type(None) in options, f"{struct.__name__}.{field.encode_name} is null"
        elif nested:
            assert isinstance(value, dict), f"{struct.__name__}.{field.encode_name}: {value!r}"
            assert_schema_matches(nested[0], value)
        else:
            assert allowed and isinstance(value, allowed) and not (
                isinstance(value, bool) and bool not in allowed
            ), f"{struct.__name__}.{field.encode_name}: {value!r} is not {field.type}"
