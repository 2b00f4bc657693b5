"""JSON round-trip for the frozen reading dataclasses stored in Redis."""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


def to_json(obj: Any) -> str:
    return json.dumps(dataclasses.asdict(obj), separators=(",", ":"), allow_nan=False)


def from_json(cls: type[T], text: str) -> T:
    return from_dict(cls, json.loads(text))


def from_dict(cls: type[T], data: Any) -> T:
    return typing.cast(T, _build(cls, data))


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """Resolved field types of a dataclass (resolving them is slow; they never change)."""
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _build(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _build(inner[0], value)
    if origin is tuple:
        return tuple(_build(get_args(tp)[0], v) for v in value)
    if origin is dict:
        return {k: _build(get_args(tp)[1], v) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _field_types(tp)
        return tp(**{k: _build(hints[k], v) for k, v in value.items() if k in hints})
    if tp is float and isinstance(value, int):
        return float(value)
    return value
