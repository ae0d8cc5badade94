"""Loads the `specification.yml` SD-JWT test cases: the `!sd` tag becomes our `SD` marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from vc.sdjwt import SD

VECTORS = Path(__file__).parent / "vectors" / "sd-jwt"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "vectors"


class _Loader(yaml.SafeLoader):
    """SafeLoader plus `!sd`; a tagged plain scalar keeps its implicit YAML type."""


def _construct_sd(loader: _Loader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.ScalarNode):
        tag = (
            "tag:yaml.org,2002:str"
            if node.style in ('"', "'")
            else loader.resolve(yaml.ScalarNode, node.value, (True, False))
        )
        return SD(loader.construct_object(yaml.ScalarNode(tag, node.value, style=node.style)))
    if isinstance(node, yaml.MappingNode):
        return SD(_as_hashable(loader.construct_mapping(node, deep=True)))
    assert isinstance(node, yaml.SequenceNode)
    return SD(loader.construct_sequence(node, deep=True))


class _HashableDict(dict):  # SD is a frozen dataclass and hashes its value when used as a key
    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


def _as_hashable(d: dict[Any, Any]) -> dict[Any, Any]:
    return _HashableDict(d)


_Loader.add_constructor("!sd", _construct_sd)


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 — SafeLoader subclass


def strip_sd(value: Any) -> Any:
    """The claims with every marker removed: what a holder sees when all is disclosed."""
    if isinstance(value, SD):
        return strip_sd(value.value)
    if isinstance(value, dict):
        return {strip_sd(k): strip_sd(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_sd(v) for v in value]
    return value


def disclosed_paths(selection: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Turn a `holder_disclosed_claims` tree into the exact claim paths it names."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(selection, dict):
        items = list(selection.items())
    elif isinstance(selection, list):
        items = list(enumerate(selection))
    else:
        return paths
    for key, sub in items:
        if not sub:  # false, null and empty containers disclose nothing
            continue
        paths.append((*prefix, key))
        paths.extend(disclosed_paths(sub, (*prefix, key)))
    return paths


def _pick(selection: Any, key: Any) -> Any:
    if isinstance(selection, dict):
        return selection.get(key)
    if isinstance(selection, list) and isinstance(key, int) and key < len(selection):
        return selection[key]
    return None


def expected_claims(claims: Any, selection: Any) -> Any:
    """What RFC 9901 §7.1 must yield when the holder releases `selection`: an oracle
    that works on the marked-up claims directly, without any SD-JWT machinery."""
    if isinstance(claims, dict):
        out = {}
        for key, value in claims.items():
            name = key.value if isinstance(key, SD) else key
            if isinstance(key, SD) and not _pick(selection, name):
                continue
            out[name] = expected_claims(value, _pick(selection, name))
        return out
    if isinstance(claims, list):
        result = []
        for pos, item in enumerate(claims):
            if isinstance(item, SD):
                if not _pick(selection, pos):
                    continue
                item = item.value
            result.append(expected_claims(item, _pick(selection, pos)))
        return result
    if isinstance(claims, SD):
        return expected_claims(claims.value, selection)
    return claims
