"""The ``--home`` layout of a registry operator and of a witness, and opening them.

::

    <home>/registry/config.json   origin, hash alg, store URL, witnesses (name, vkey, url)
    <home>/registry/log.key       the log's Ed25519 note key (PRIVATE+KEY+…, mode 0600)
    <home>/registry/registry.db   the SQLite store (unless the config names PostgreSQL)
    <home>/witness/config.json    the witness's name and the logs it follows
    <home>/witness/witness.key    its cosignature key (mode 0600)
    <home>/witness/state.db       the last checkpoint it cosigned, per log

Parties keep their own subdirectory, so one home can hold a registry, its
default witness and any other selfcarry party side by side. The default witness
lives in the registry's own home and is called in-process; any other witness is
reached over HTTP (``witness_service``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import InvalidKey, RegistryError, StoreError
from .log import Log, WitnessEndpoint
from .merkle import get_hash_alg
from .note import (
    SIG_COSIGNATURE_V1,
    CosignatureSigner,
    CosignatureVerifier,
    NoteSigner,
    NoteVerifier,
    check_key_name,
    generate_vkey_pair,
    signer_from_skey,
)
from .store import Store
from .witness import SqliteWitnessState, Witness

DEFAULT_ORIGIN = "registry.selfcarry.local/log"
DEFAULT_WITNESS_NAME = "witness.selfcarry.local/default"
DEFAULT_SCHEMA = "hash_registry"
CONFIG_VERSION = 1
MAX_CONFIG_BYTES = 256 * 1024


class HomeError(RegistryError):
    code = "home_error"
    default_message = "the home directory is not a usable registry home"


class NotInitialized(HomeError):
    code = "not_initialized"
    default_message = "the home has not been initialised (run init first)"


class InvalidUrl(HomeError):
    code = "invalid_url"
    default_message = "not an http(s) URL"


class AlreadyInitialized(HomeError):
    code = "already_initialized"
    default_message = "the home is already initialised"


def default_home() -> Path:
    """``$SELFCARRY_HOME``, else the platform's user data directory for selfcarry."""
    env = os.environ.get("SELFCARRY_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("selfcarry"))


def registry_dir(home: str | Path) -> Path:
    return Path(home) / "registry"


def witness_dir(home: str | Path) -> Path:
    return Path(home) / "witness"


# --- files -------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_secret(path: Path, text: str) -> None:
    """Create a private key file readable only by its owner (never overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise NotInitialized(f"{path} does not exist (run init first)") from None
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc}") from exc
    try:
        if len(raw) > MAX_CONFIG_BYTES:
            raise ValueError("too large")
        doc = json.loads(raw)
    except ValueError as exc:
        raise HomeError(f"{path} is not a JSON configuration: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != CONFIG_VERSION:
        raise HomeError(f"{path} is not a version {CONFIG_VERSION} configuration")
    return doc


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NotInitialized(f"{path} does not exist (run init first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HomeError(f"cannot read {path}: {exc}") from exc


# --- configuration -----------------------------------------------------------------


@dataclass
class WitnessRef:
    """A witness the log asks to cosign: ``url`` None means the home's own witness."""

    name: str
    vkey: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "vkey": self.vkey, "url": self.url}


@dataclass
class RegistryConfig:
    home: Path
    origin: str
    hash_alg: str
    store: str
    schema: str = DEFAULT_SCHEMA
    witnesses: list[WitnessRef] = field(default_factory=list)
    quorum: int | None = None

    @property
    def dir(self) -> Path:
        return registry_dir(self.home)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CONFIG_VERSION,
            "origin": self.origin,
            "hash_alg": self.hash_alg,
            "store": self.store,
            "schema": self.schema,
            "witnesses": [w.to_dict() for w in self.witnesses],
            "quorum": self.quorum,
        }

    def save(self) -> None:
        data = json.dumps(self.to_dict(), indent=2).encode() + b"\n"
        _write_atomic(self.dir / "config.json", data)

    @classmethod
    def load(cls, home: str | Path) -> RegistryConfig:
        doc = _read_json(registry_dir(home) / "config.json")
        try:
            witnesses = [
                WitnessRef(str(w["name"]), str(w["vkey"]), w.get("url")) for w in doc["witnesses"]
            ]
            quorum = doc.get("quorum")
            if quorum is not None and type(quorum) is not int:
                raise TypeError("quorum")
            return cls(
                Path(home),
                str(doc["origin"]),
                str(doc["hash_alg"]),
                str(doc["store"]),
                str(doc.get("schema", DEFAULT_SCHEMA)),
                witnesses,
                quorum,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise HomeError(f"the registry configuration is incomplete: {exc}") from exc


@dataclass
class WitnessConfig:
    home: Path
    name: str
    hash_alg: str = "sha-256"
    logs: list[dict[str, str]] = field(default_factory=list)  # [{origin, vkey}]

    @property
    def dir(self) -> Path:
        return witness_dir(self.home)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CONFIG_VERSION,
            "name": self.name,
            "hash_alg": self.hash_alg,
            "logs": self.logs,
        }

    def save(self) -> None:
        data = json.dumps(self.to_dict(), indent=2).encode() + b"\n"
        _write_atomic(self.dir / "config.json", data)

    @classmethod
    def load(cls, home: str | Path) -> WitnessConfig:
        doc = _read_json(witness_dir(home) / "config.json")
        try:
            logs = [{"origin": str(x["origin"]), "vkey": str(x["vkey"])} for x in doc["logs"]]
            return cls(Path(home), str(doc["name"]), str(doc.get("hash_alg", "sha-256")), logs)
        except (KeyError, TypeError) as exc:
            raise HomeError(f"the witness configuration is incomplete: {exc}") from exc


# --- witness home ------------------------------------------------------------------


def init_witness(home: str | Path, name: str = DEFAULT_WITNESS_NAME) -> WitnessConfig:
    """Create a witness: its cosignature key, an empty state and configuration."""
    check_key_name(name)
    wdir = witness_dir(home)
    if (wdir / "config.json").exists() or (wdir / "witness.key").exists():
        raise AlreadyInitialized(f"{wdir} already holds a witness")
    skey, _ = generate_vkey_pair(name, SIG_COSIGNATURE_V1)
    _write_secret(wdir / "witness.key", skey)
    cfg = WitnessConfig(Path(home), name)
    cfg.save()
    return cfg


def witness_signer(home: str | Path) -> CosignatureSigner:
    signer = signer_from_skey(_read_secret(witness_dir(home) / "witness.key"))
    if not isinstance(signer, CosignatureSigner):
        raise InvalidKey("the witness key is not a cosignature (0x04) key")
    return signer


def witness_follow_log(home: str | Path, log_vkey: str) -> WitnessConfig:
    """Let the witness cosign the log whose checkpoint key is ``log_vkey``."""
    verifier = NoteVerifier.from_vkey(log_vkey)
    cfg = WitnessConfig.load(home)
    cfg.logs = [x for x in cfg.logs if x["origin"] != verifier.name]
    cfg.logs.append({"origin": verifier.name, "vkey": verifier.vkey})
    cfg.save()
    return cfg


def open_witness(home: str | Path) -> Witness:
    """The witness of ``home`` with its durable state (safe to share between processes)."""
    cfg = WitnessConfig.load(home)
    signer = witness_signer(home)
    logs: dict[str, list[NoteVerifier]] = {}
    for item in cfg.logs:
        logs.setdefault(item["origin"], []).append(NoteVerifier.from_vkey(item["vkey"]))
    state = SqliteWitnessState(witness_dir(home) / "state.db")
    return Witness(cfg.name, signer, state, logs, alg=get_hash_alg(cfg.hash_alg))


# --- registry home -----------------------------------------------------------------


def init_registry(
    home: str | Path,
    *,
    db: str | None = None,
    schema: str = DEFAULT_SCHEMA,
    origin: str = DEFAULT_ORIGIN,
    hash_alg: str = "sha-256",
    witness_name: str = DEFAULT_WITNESS_NAME,
) -> RegistryConfig:
    """Create the log key, the default witness (in this home) and the store."""
    check_key_name(origin)
    alg = get_hash_alg(hash_alg)
    rdir = registry_dir(home)
    if (rdir / "config.json").exists() or (rdir / "log.key").exists():
        raise AlreadyInitialized(f"{rdir} already holds a registry")
    store_url = _store_url(db)
    if store_url.startswith("postgres"):
        from .store_postgres import check_schema_name

        check_schema_name(schema)
    # The store first: an unreachable database must not leave a half-made home behind.
    open_store(RegistryConfig(Path(home), origin, alg.name, store_url, schema)).close()
    wcfg = init_witness(home, witness_name) if not witness_dir(home).exists() else None
    if wcfg is None:
        wcfg = WitnessConfig.load(home)
    skey, vkey = generate_vkey_pair(origin)
    _write_secret(rdir / "log.key", skey)
    wcfg.hash_alg = alg.name
    wcfg.save()
    witness_follow_log(home, vkey)
    cfg = RegistryConfig(
        Path(home),
        origin,
        alg.name,
        store_url,
        schema,
        [WitnessRef(wcfg.name, witness_signer(home).vkey, None)],
    )
    cfg.save()
    log = open_log(home)  # creates the store and publishes the empty tree
    try:
        log.publish()
    finally:
        log.close()
    return cfg


def _store_url(db: str | None) -> str:
    if db is None or db in ("", "sqlite"):
        return "sqlite:registry.db"
    if db.startswith(("postgresql://", "postgres://", "sqlite:")):
        return db
    raise HomeError(
        "--db takes a postgresql:// URL (the default is SQLite under the home)",
        code="invalid_db_url",
    )


def log_signer(home: str | Path) -> NoteSigner:
    signer = signer_from_skey(_read_secret(registry_dir(home) / "log.key"))
    if not isinstance(signer, NoteSigner):
        raise InvalidKey("the log key is not an Ed25519 note (0x01) key")
    return signer


def open_store(cfg: RegistryConfig) -> Store:
    alg = get_hash_alg(cfg.hash_alg)
    if cfg.store.startswith("sqlite:"):
        from .store_sqlite import SqliteStore

        path = Path(cfg.store[len("sqlite:") :])
        return SqliteStore(path if path.is_absolute() else cfg.dir / path, alg)
    if cfg.store.startswith(("postgresql://", "postgres://")):
        try:
            from .store_postgres import PostgresStore
        except ImportError as exc:  # the postgres extra is not installed
            raise StoreError(
                "PostgreSQL support needs the selfcarry[postgres] extra",
                code="store_unavailable",
            ) from exc
        return PostgresStore(cfg.store, alg, schema=cfg.schema)
    raise HomeError(f"unknown store {cfg.store!r}", code="invalid_db_url")


def witness_endpoints(cfg: RegistryConfig, *, timeout: float = 10.0) -> list[WitnessEndpoint]:
    out: list[WitnessEndpoint] = []
    for ref in cfg.witnesses:
        if ref.url is None:
            witness = open_witness(cfg.home)
            if witness.vkey != ref.vkey:
                raise HomeError(f"the home's witness key is not {ref.name}'s configured key")
            out.append(witness)
        else:
            from .client import WitnessClient

            out.append(WitnessClient(ref.url, ref.vkey, timeout=timeout))
    return out


def open_log(home: str | Path, *, witness_timeout: float = 10.0) -> Log:
    """The registry of ``home``, ready to append and answer (close it when done)."""
    cfg = RegistryConfig.load(home)
    signer = log_signer(home)
    witnesses = witness_endpoints(cfg, timeout=witness_timeout)
    store = open_store(cfg)
    try:
        return Log(store, signer, cfg.origin, witnesses, store.hash_alg, quorum=cfg.quorum)
    except BaseException:
        store.close()
        raise


def add_witness(home: str | Path, name: str, vkey: str, url: str | None) -> RegistryConfig:
    """Configure another witness (``url`` None: this home's own witness)."""
    verifier = CosignatureVerifier.from_vkey(vkey)
    if verifier.name != name:
        raise InvalidKey(f"the witness key is named {verifier.name!r}, not {name!r}")
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidUrl("a witness URL is http:// or https://")
    cfg = RegistryConfig.load(home)
    cfg.witnesses = [w for w in cfg.witnesses if w.name != name]
    cfg.witnesses.append(WitnessRef(name, verifier.vkey, url.rstrip("/") if url else None))
    cfg.save()
    return cfg


def remove_witness(home: str | Path, name: str) -> RegistryConfig:
    cfg = RegistryConfig.load(home)
    kept = [w for w in cfg.witnesses if w.name != name]
    if len(kept) == len(cfg.witnesses):
        raise HomeError(f"no witness named {name!r}", code="not_found")
    cfg.witnesses = kept
    if cfg.quorum is not None:
        cfg.quorum = min(cfg.quorum, len(kept))
    cfg.save()
    return cfg


def set_quorum(home: str | Path, quorum: int | None) -> RegistryConfig:
    cfg = RegistryConfig.load(home)
    if quorum is not None and not 0 <= quorum <= len(cfg.witnesses):
        raise HomeError(
            f"the quorum must be between 0 and {len(cfg.witnesses)}", code="invalid_quorum"
        )
    cfg.quorum = quorum
    cfg.save()
    return cfg
