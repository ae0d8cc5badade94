"""JSON in and out, strictly: no duplicate member names, no NaN/Infinity, bounded depth.

Duplicate names are refused rather than "last one wins" (RFC 7515 §5.2 allows either;
ambiguity is how parsers are made to disagree), and the non-standard constants
Python would otherwise accept are refused both ways.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InvalidJSON, LimitExceeded

MAX_DEPTH = 64


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidJSON("a JSON object repeats a member name")
    return obj


def _no_constants(name: str) -> Any:
    raise InvalidJSON(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a decoded value, failing fast once past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            raise LimitExceeded(f"JSON nested deeper than {limit}")
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def loads(raw: bytes | str, *, max_depth: int | None = None) -> Any:
    """Parse strictly. ``max_depth`` adds a nesting check; callers that walk the value
    with their own depth bound (the SD-JWT processor does) leave it off."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        value = _DECODER.decode(text)
    except InvalidJSON:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError) as exc:
        raise InvalidJSON() from exc
    if max_depth is not None:
        depth(value, max_depth)
    return value


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Compact UTF-8 JSON; refuses NaN/Infinity and non-JSON types with a named error."""
    try:
        return _ENCODER.encode(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidJSON(f"the value cannot be expressed as JSON ({exc})") from exc
