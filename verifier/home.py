"""The bank's state under ``--home``: ``<home>/verifier/`` holds its identity, its
request-signing key, what it trusts (CRAs, registries), its nonce store and the last
registry checkpoints it saw. Nothing here is personal data."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hash_registry.trust import TrustedLog
from vc.issuer_metadata import IssuerMetadata
from vc.jose import PrivateKey

from .errors import VerifierError

DEFAULT_URL = "http://127.0.0.1:8702"


class NotInitialised(VerifierError):
    code = "verifier_not_initialised"
    default_message = "no verifier here: run `verifier init --client-id URI` first"


@dataclass(frozen=True)
class TrustedRegistry:
    """A registry this bank trusts: its log and witness keys, and where to look it up."""

    keys: dict[str, Any]  # the `hash-registry keys --json` document
    url: str | None  # a `hash-registry serve` URL or a registry home; None = offline only
    quorum: int | None = None

    def trusted_log(self) -> TrustedLog:
        log = TrustedLog.from_keys_json(self.keys)
        if self.quorum is None:
            return log
        return TrustedLog(log.origin, log.log_vkey, list(log.witness_vkeys), self.quorum,
                          log.hash_alg)


@dataclass(frozen=True)
class VerifierConfig:
    client_id: str
    name: str
    url: str
    issuers: list[dict[str, Any]] = field(default_factory=list)  # JWT VC Issuer Metadata docs
    issuer_names: dict[str, str] = field(default_factory=dict)
    registries: list[dict[str, Any]] = field(default_factory=list)
    policy: str = "loan-precheck"  # a built-in name or a TOML file
    nonce_store: str | None = None  # None: SQLite under home; or postgresql:// / redis://

    def trusted_issuers(self) -> list[IssuerMetadata]:
        return [IssuerMetadata.from_json(doc) for doc in self.issuers]

    def trusted_registries(self) -> list[TrustedRegistry]:
        return [TrustedRegistry(**r) for r in self.registries]


def verifier_dir(home: Path) -> Path:
    return Path(home) / "verifier"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_config(home: Path, config: VerifierConfig) -> None:
    _write(verifier_dir(home) / "config.json", json.dumps(asdict(config), indent=2))


def init_verifier(home: Path, *, client_id: str, name: str | None = None,
                  url: str = DEFAULT_URL) -> VerifierConfig:
    """Create the bank's identity and ES256 request-signing key (kept if it exists)."""
    from vc.openid4vp import check_client_id

    check_client_id(client_id)
    d = verifier_dir(home)
    d.mkdir(parents=True, exist_ok=True)
    key_path = d / "request-key.jwk"
    if not key_path.exists():
        _write(key_path, json.dumps(PrivateKey.generate("ES256").to_jwk()), 0o600)
    previous = load_config(home) if (d / "config.json").exists() else None
    config = VerifierConfig(
        client_id=client_id, name=name or client_id, url=url.rstrip("/"),
        issuers=previous.issuers if previous else [],
        issuer_names=previous.issuer_names if previous else {},
        registries=previous.registries if previous else [],
    )
    save_config(home, config)
    return config


def load_config(home: Path) -> VerifierConfig:
    try:
        raw = json.loads((verifier_dir(home) / "config.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise NotInitialised() from exc
    return VerifierConfig(**raw)


def load_signing_key(home: Path) -> PrivateKey:
    try:
        return PrivateKey.from_jwk(
            json.loads((verifier_dir(home) / "request-key.jwk").read_text("utf-8")))
    except FileNotFoundError as exc:
        raise NotInitialised() from exc


def identity(home: Path) -> dict[str, Any]:
    """What the registry operator admits (`hash-registry admit-verifier`)."""
    config, key = load_config(home), load_signing_key(home)
    jwk = {**key.public_key().to_jwk(), "kid": key.public_key().thumbprint(), "use": "sig",
           "alg": key.alg}
    return {"client_id": config.client_id, "name": config.name, "jwks": {"keys": [jwk]}}


def add_issuer(home: Path, metadata: Any, name: str | None = None) -> IssuerMetadata:
    meta = IssuerMetadata.from_json(metadata)  # validates before anything is written
    config = load_config(home)
    issuers = [d for d in config.issuers if d.get("issuer") != meta.issuer] + [meta.to_json()]
    names = {**config.issuer_names, meta.issuer: name or meta.issuer}
    save_config(home, VerifierConfig(**{**asdict(config), "issuers": issuers,
                                        "issuer_names": names}))
    return meta


def add_registry(home: Path, keys: Any, url: str | None, quorum: int | None = None) -> TrustedLog:
    registry = TrustedRegistry(keys=dict(keys), url=url, quorum=quorum)
    log = registry.trusted_log()  # validates the keys document
    config = load_config(home)
    kept = [r for r in config.registries
            if TrustedRegistry(**r).trusted_log().origin != log.origin]
    save_config(home, VerifierConfig(**{**asdict(config),
                                        "registries": [*kept, asdict(registry)]}))
    return log
