"""Every string the terminal app shows comes from a catalogue, in one of three languages.

Catalogues are TOML files in ``wallet/locale/`` (format: ``wallet/locale/README.md``):
one table per screen or topic, one key per string, ``{name}`` placeholders filled by
:meth:`Translator.__call__`. A key that is missing renders as ``⟦key⟧`` so a test can
see it on any screen; the tests also hold the three catalogues to the same keys.

Claim labels are not duplicated here: they come from the credential type's own
metadata (``vc.type_metadata``), which carries a label per claim in all three languages.
"""

from __future__ import annotations

import os
import string
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

LANGUAGES: Final = ("en", "zh-Hant-HK", "zh-Hans")
DEFAULT_LANGUAGE: Final = "en"
# Each language's own name for itself: shown as is in every language (proper names).
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "en": "English",
    "zh-Hant-HK": "繁體中文（香港）",
    "zh-Hans": "简体中文",
}
MISSING_OPEN: Final = "⟦"
MISSING_CLOSE: Final = "⟧"


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ValueError(f"catalogue entry {name} is not a string")
    return out


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """The flattened catalogue of ``language`` (``table.key`` -> text)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    data = resources.files("wallet.locale").joinpath(f"{language}.toml").read_text("utf-8")
    return _flatten(tomllib.loads(data))


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a catalogue text (the tests hold translations to them)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def language_from_env(environ: Mapping[str, str] | None = None) -> str:
    """A first guess before the vault is open: the POSIX locale (zh_HK → zh-Hant-HK …)."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "").lower().replace("-", "_")
        if not value:
            continue
        if value.startswith(("zh_hk", "zh_tw", "zh_mo", "zh_hant")):
            return "zh-Hant-HK"
        if value.startswith("zh"):
            return "zh-Hans"
        return "en"
    return DEFAULT_LANGUAGE


@cache
def _claim_labels() -> dict[tuple[str | None, ...], dict[str, str]]:
    from vc.type_metadata import type_metadata  # small JSON file, read once

    labels: dict[tuple[str | None, ...], dict[str, str]] = {}
    for claim in type_metadata().get("claims", []):
        path = tuple(claim.get("path", ()))
        labels[path] = {d["locale"]: d["label"] for d in claim.get("display", ()) if "label" in d}
    return labels


class Translator:
    """The app's current language and its lookups."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self._language = DEFAULT_LANGUAGE
        self.language = language

    @property
    def language(self) -> str:
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}")
        self._language = value

    def __call__(self, key: str, /, **params: Any) -> str:
        text = catalogue(self._language).get(key)
        if text is None:
            return f"{MISSING_OPEN}{key}{MISSING_CLOSE}"
        return text.format_map(params) if params else text

    def has(self, key: str) -> bool:
        return key in catalogue(self._language)

    def error(self, code: str | None, message: str | None) -> str:
        """A failure in words: the catalogue's sentence for a known code, else the message."""
        if code and self.has(f"error.{code}"):
            return self(f"error.{code}")
        return self("error.unknown", code=code or "error", message=message or "")

    def claim_label(self, path: tuple[str | int, ...] | list[Any]) -> str:
        """The type metadata's label for a claim path (array indexes count from 1)."""
        key = tuple(None if isinstance(p, int) else p for p in path)
        if len(key) == 1 and self.has(f"claims.top.{key[0]}"):
            return self(f"claims.top.{key[0]}")
        labels = _claim_labels().get(key)
        label = None
        if labels:
            label = labels.get(self._language) or labels.get("en")
        if label is None:
            last = path[-1] if path else ""
            label = str(last) if not isinstance(last, int) else self("claims.item")
        if path and isinstance(path[-1], int):
            return f"{label} {path[-1] + 1}"
        return label
