"""How values read on screen: dates in Hong Kong time, yes/no, sizes, compact objects.

Pure functions of their inputs (and the translator), so snapshots are deterministic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from .i18n import Translator

# Residents read times in Hong Kong time (UTC+8, no daylight saving).
HK_TZ = timezone(timedelta(hours=8), "HKT")
MAX_VALUE_CHARS = 400


def date(ts: int | float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, HK_TZ).strftime("%Y-%m-%d")


def date_time(ts: int | float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, HK_TZ).strftime("%Y-%m-%d %H:%M")


def utc_stamp(ts: int | float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d-%H%M%S")


def size(n: int, tr: Translator) -> str:
    if n < 1024:
        return tr("units.bytes", n=n)
    return tr("units.kib", n=f"{n / 1024:.1f}")


def host(uri: str) -> str:
    """The host a URI points at (what a resident can recognise), or the URI itself."""
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return uri
    return netloc or uri


def value(v: Any, tr: Translator, path: tuple[str | int, ...] | None = None) -> str:
    """One claim value on one line: yes/no for booleans; an object as its labelled fields
    (labels from the credential type's metadata when ``path`` is known)."""
    text = _value(v, tr, path, 0)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return text


def _value(v: Any, tr: Translator, path: tuple[str | int, ...] | None, depth: int) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return tr("value.yes") if v else tr("value.no")
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return str(v)
    if depth < 4 and path is not None and isinstance(v, dict):
        return tr("common.list_separator").join(
            tr.claim_label((*path, k)) + tr("common.colon")
            + _value(x, tr, (*path, k), depth + 1)
            for k, x in v.items())
    if depth < 4 and path is not None and isinstance(v, list):
        return " | ".join(_value(x, tr, (*path, i), depth + 1) for i, x in enumerate(v))
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)


TIME_CLAIMS = frozenset({"iat", "nbf", "exp"})


def claim(path: tuple[str | int, ...], v: Any, tr: Translator) -> str:
    """A claim's value for display: JWT times as dates, the rest as :func:`value`."""
    if len(path) == 1 and path[0] in TIME_CLAIMS and isinstance(v, int) \
            and not isinstance(v, bool):
        return date_time(v)
    return value(v, tr, path)


def purpose(p: str | dict[str, str] | None, language: str) -> str:
    if isinstance(p, dict):
        for key in (language, language.split("-")[0], "en", "zh-Hans"):
            if key in p:
                return p[key]
        return next(iter(p.values()), "")
    return p or ""
