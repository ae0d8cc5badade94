"""Build a :class:`~verifier.verify.Verifier` from a bank's ``--home``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hash_registry.trust import FileCheckpointMemory
from hash_registry.view import RegistryView
from vc.issuer_metadata import TrustedIssuers

from .home import load_config, load_signing_key, verifier_dir
from .nonce_store import open_nonce_store
from .policy import load_policy
from .verify import Verifier


def verifier_from_home(home: Path, **overrides: Any) -> Verifier:
    config = load_config(home)
    d = verifier_dir(home)
    memory = FileCheckpointMemory(d / "checkpoints.json")
    views = [RegistryView(r.trusted_log(), r.url, memory) for r in config.trusted_registries()]
    args: dict[str, Any] = {
        "client_id": config.client_id,
        "base_url": config.url,
        "signing_key": load_signing_key(home),
        "issuers": TrustedIssuers(config.trusted_issuers()),
        "registries": views,
        "nonce_store": open_nonce_store(config.nonce_store or d / "verifier.db"),
        "policy": load_policy(config.policy),
    }
    args.update(overrides)
    return Verifier(**args)
