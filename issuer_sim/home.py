"""The CRA's state under ``--home``: ``<home>/issuer/`` holds its signing key, its
configuration and its SQLite database. Several parties can share one home."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from vc.jose import PrivateKey

from .errors import NotInitialised
from .profiles import get_profile

DEFAULT_URL = "http://127.0.0.1:8701"


@dataclass(frozen=True)
class IssuerConfig:
    cra: str  # profile id, e.g. "transunion-hk"
    url: str  # where `issuer-sim serve` is reachable: iss, metadata and status list base
    registry: str | None  # a registry URL or the home of a registry on this machine
    kid: str
    status_list_size: int = 131_072  # ≥ 2^17 entries for herd privacy
    credential_days: int = 90
    offer_ttl: int = 600
    status_ttl: int = 300

    @property
    def status_uri(self) -> str:
        return f"{self.url}/status/1"


def issuer_dir(home: Path) -> Path:
    return Path(home) / "issuer"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def init_issuer(
    home: Path, *, cra: str = "transunion-hk", url: str = DEFAULT_URL, registry: str | None = None
) -> IssuerConfig:
    """Create the CRA's ES256 signing key and configuration (idempotent for the key)."""
    get_profile(cra)  # refuse unknown profiles with a named error
    d = issuer_dir(home)
    d.mkdir(parents=True, exist_ok=True)
    key_path = d / "signing-key.jwk"
    if key_path.exists():
        key = PrivateKey.from_jwk(json.loads(key_path.read_text("utf-8")))
    else:
        key = PrivateKey.generate("ES256")
        _write_private(key_path, json.dumps(key.to_jwk()))
    config = IssuerConfig(cra=cra, url=url.rstrip("/"), registry=registry,
                          kid=key.public_key().thumbprint())
    _write_private(d / "config.json", json.dumps(asdict(config), indent=2))
    return config


def load_issuer(home: Path) -> tuple[IssuerConfig, PrivateKey]:
    d = issuer_dir(home)
    try:
        config = IssuerConfig(**json.loads((d / "config.json").read_text("utf-8")))
        key = PrivateKey.from_jwk(json.loads((d / "signing-key.jwk").read_text("utf-8")))
    except FileNotFoundError as exc:
        raise NotInitialised(f"no issuer under {home}: run `issuer-sim init` first") from exc
    return config, key
