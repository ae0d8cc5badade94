"""The platforms a wallet trusts: registries (log + witness keys) and where to reach them.

Kept in ``<home>/wallet/trust.json`` in the clear: it holds public keys and URLs only,
nothing about the resident. Everything else the wallet trusts — which CRAs may
issue, which banks may ask — it learns from these registries' admitted keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hash_registry.trust import FileCheckpointMemory, TrustedLog
from hash_registry.view import RegistryView

from .errors import WalletError
from .home import ensure_wallet_dir, trust_path, wallet_dir


def load_trust(home: Path) -> dict[str, Any]:
    path = trust_path(home)
    if not path.exists():
        return {"registries": []}
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise WalletError(f"{path} is not readable JSON", code="trust_invalid") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("registries", []), list):
        raise WalletError(f"{path} is not a trust document", code="trust_invalid")
    doc.setdefault("registries", [])
    return doc


def save_trust(home: Path, doc: dict[str, Any]) -> None:
    ensure_wallet_dir(home)
    path = trust_path(home)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def add_registry(home: Path, keys: Any, url: str | None) -> TrustedLog:
    log = TrustedLog.from_keys_json(keys)  # validates before anything is written
    doc = load_trust(home)
    kept = [r for r in doc["registries"]
            if TrustedLog.from_keys_json(r["keys"]).origin != log.origin]
    doc["registries"] = [*kept, {"keys": dict(keys), "url": url}]
    save_trust(home, doc)
    return log


def registry_views(home: Path) -> list[RegistryView]:
    memory = FileCheckpointMemory(wallet_dir(home) / "checkpoints.json")
    return [RegistryView(TrustedLog.from_keys_json(r["keys"]), r.get("url"), memory)
            for r in load_trust(home)["registries"]]
