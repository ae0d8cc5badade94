"""Encrypted backup of the whole wallet to one file, and restore into a fresh home.

File layout (version 1)::

    "SELFCARRY-WALLET-BACKUP\\n"         magic, 24 bytes
    header length                        4 bytes, big-endian
    header                               JSON: format, version, created, cipher,
                                         kdf {alg, memory_kib, iterations, lanes, salt},
                                         key_check
    nonce                                12 bytes
    ciphertext || tag                    AES-256-GCM of the payload JSON,
                                         AAD = magic || length || header

The payload is ``{"records": [{kind, id, obj}, ...], "trust": {...} | null}``:
every vault record — credentials, holder keys, the receipt key, the history —
plus the clear ``trust.json``. The backup has its own Argon2id salt (and
parameters, recorded in the header), so its passphrase may equal the vault's
without the two files sharing a key. As in the vault, a key-check value tells a
wrong passphrase (:class:`WrongBackupPassphrase`) from an altered file
(:class:`BackupInvalid`); any change to the header, nonce or ciphertext fails the
GCM tag. Nothing is written anywhere until the whole file has been authenticated
and every record validated; the restored vault is built aside and linked into
place in one step (:meth:`Vault.create_from_records`), with a fresh DEK.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vc import strict_json
from vc.errors import VCError

from .errors import (
    BackupInvalid,
    BackupIOError,
    FileExists,
    InvalidKdfParams,
    InvalidRecord,
    VaultExists,
    VaultIOError,
    WalletError,
    WrongBackupPassphrase,
)
from .home import PathLike, fsync_dir, trust_path
from .vault import (
    MAX_JSON_DEPTH,
    MAX_RECORD_BYTES,
    KdfParams,
    PassphraseKeys,
    Record,
    Vault,
    check_new_passphrase,
    default_kdf,
    passphrase_bytes,
)

__all__ = [
    "BACKUP_VERSION",
    "MAX_BACKUP_BYTES",
    "export_backup",
    "inspect_backup",
    "restore_backup",
]

MAGIC = b"SELFCARRY-WALLET-BACKUP\n"
BACKUP_FORMAT = "selfcarry-wallet-backup"
BACKUP_VERSION = 1
CIPHER = "A256GCM"
MAX_BACKUP_BYTES = 256 * 1024 * 1024
MAX_HEADER_BYTES = 4096
_NONCE = 12
_TAG = 16
_CHECK_CONTEXT = b"selfcarry-wallet-backup/1"


def _aad(header: bytes) -> bytes:
    return MAGIC + len(header).to_bytes(4, "big") + header


def export_backup(
    vault: Vault,
    path: PathLike,
    backup_passphrase: str,
    *,
    kdf: KdfParams | None = None,
    overwrite: bool = False,
) -> dict[str, int]:
    """Write every record of an unlocked vault (and ``trust.json``) to one encrypted file.

    Returns the number of records per kind. Refuses an existing file
    (:class:`FileExists`) unless ``overwrite``; the file appears atomically.
    """
    secret = check_new_passphrase(backup_passphrase)
    params = (kdf or default_kdf()).validate()
    records = vault.export_records()
    trust = _read_trust(vault.path.parent.parent)
    payload = strict_json.dumps(
        {
            "records": [{"kind": r.kind, "id": r.id, "obj": r.obj} for r in records],
            "trust": trust,
        }
    ).encode("utf-8")
    if len(payload) > MAX_BACKUP_BYTES - MAX_HEADER_BYTES - 64:
        raise WalletError("the wallet is too large for one backup file", code="backup_too_large")
    salt = secrets.token_bytes(16)
    keys = PassphraseKeys.derive(secret, params, salt)
    header = strict_json.dumps(
        {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "created": int(time.time()),
            "cipher": CIPHER,
            "kdf": params.to_json(salt),
            "key_check": keys.key_check(_CHECK_CONTEXT).hex(),
        }
    ).encode("utf-8")
    nonce = secrets.token_bytes(_NONCE)
    blob = _aad(header) + nonce + AESGCM(keys.wrap).encrypt(nonce, payload, _aad(header))
    try:
        _write_new_file(Path(path), blob, overwrite=overwrite)
    except OSError as exc:
        raise BackupIOError(f"cannot write the backup to {path} ({exc.strerror})") from exc
    counts: dict[str, int] = {}
    for r in records:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts


def inspect_backup(path: PathLike) -> dict[str, Any]:
    """The backup's clear header (format, version, created, cipher, KDF): no passphrase needed."""
    header, _params, _salt, _check, _rest = _parse(_read_file(Path(path)))
    return header


def restore_backup(
    path: PathLike,
    home: PathLike | None,
    backup_passphrase: str,
    new_vault_passphrase: str,
    *,
    replace: bool = False,
    kdf: KdfParams | None = None,
) -> Vault:
    """Restore a backup into ``home`` as a new vault under ``new_vault_passphrase``.

    Refuses a home that already has a vault (:class:`VaultExists`) unless
    ``replace``. A damaged or altered file raises :class:`BackupInvalid` and a wrong
    passphrase :class:`WrongBackupPassphrase`; in both cases nothing is written.
    Returns the new vault, unlocked.
    """
    check_new_passphrase(new_vault_passphrase)
    secret = passphrase_bytes(backup_passphrase)
    if Vault.exists(home) and not replace:
        raise VaultExists("this home already has a wallet vault (restore with replace to swap it)")
    raw = _read_file(Path(path))
    _header, params, salt, check, rest = _parse(raw)
    keys = PassphraseKeys.derive(secret, params, salt)
    if not secrets.compare_digest(keys.key_check(_CHECK_CONTEXT), check):
        raise WrongBackupPassphrase()
    aad = raw[: len(raw) - len(rest)]
    if len(rest) < _NONCE + _TAG:
        raise BackupInvalid("the backup is truncated")
    try:
        payload = AESGCM(keys.wrap).decrypt(rest[:_NONCE], rest[_NONCE:], aad)
    except InvalidTag as exc:
        raise BackupInvalid("the backup has been altered or damaged") from exc
    records, trust = _parse_payload(payload)
    vault = Vault.create_from_records(home, new_vault_passphrase, records, kdf=kdf, replace=replace)
    if trust is not None:
        try:
            _write_new_file(trust_path(home), _trust_bytes(trust), overwrite=True)
        except OSError as exc:
            vault.close()
            raise VaultIOError(f"cannot write {trust_path(home)} ({exc.strerror})") from exc
    return vault


# --- parsing -------------------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BACKUP_BYTES + 1)
    except FileNotFoundError as exc:
        raise BackupInvalid(f"no backup file at {path}", code="backup_not_found") from exc
    except OSError as exc:
        raise BackupInvalid(f"the backup file cannot be read ({exc.strerror})") from exc
    if len(raw) > MAX_BACKUP_BYTES:
        raise BackupInvalid("the file is larger than any wallet backup")
    return raw


def _parse(raw: bytes) -> tuple[dict[str, Any], KdfParams, bytes, bytes, bytes]:
    """Split the clear part: (header, KDF params, salt, key check, nonce||ciphertext)."""
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 4:
        raise BackupInvalid("the file is not a selfcarry wallet backup")
    n = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if not 2 <= n <= MAX_HEADER_BYTES or len(raw) < start + n:
        raise BackupInvalid("the backup header is damaged")
    try:
        header = strict_json.loads(raw[start : start + n], max_depth=4)
    except VCError as exc:
        raise BackupInvalid("the backup header is not JSON") from exc
    if not isinstance(header, dict) or set(header) != {
        "format",
        "version",
        "created",
        "cipher",
        "kdf",
        "key_check",
    }:
        raise BackupInvalid("the backup header has the wrong members")
    if header["format"] != BACKUP_FORMAT:
        raise BackupInvalid("the file is not a selfcarry wallet backup")
    if header["version"] != BACKUP_VERSION or header["cipher"] != CIPHER:
        raise BackupInvalid(
            f"backup version {header['version']!r} / cipher {header['cipher']!r} is not supported",
            code="backup_version_unsupported",
        )
    try:
        params, salt = KdfParams.from_json(header["kdf"])
        check = bytes.fromhex(header["key_check"])
    except (InvalidKdfParams, ValueError, TypeError) as exc:
        raise BackupInvalid("the backup header's key parameters are damaged") from exc
    if len(check) != 32:
        raise BackupInvalid("the backup header's key check is damaged")
    return header, params, salt, check, raw[start + n :]


def _parse_payload(payload: bytes) -> tuple[list[Record], dict[str, Any] | None]:
    try:
        doc = strict_json.loads(payload, max_depth=MAX_JSON_DEPTH + 3)  # records[i].obj
    except VCError as exc:
        raise BackupInvalid("the backup contents do not decode") from exc
    if not isinstance(doc, dict) or set(doc) != {"records", "trust"}:
        raise BackupInvalid("the backup contents have the wrong shape")
    items, trust = doc["records"], doc["trust"]
    if not isinstance(items, list) or (trust is not None and not isinstance(trust, dict)):
        raise BackupInvalid("the backup contents have the wrong shape")
    records: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, dict) or set(item) != {"kind", "id", "obj"}:
            raise BackupInvalid("a backed-up record has the wrong shape")
        try:
            record = Record(item["kind"], item["id"], item["obj"]).validate()
        except InvalidRecord as exc:
            raise BackupInvalid(f"a backed-up record is invalid ({exc.message})") from exc
        if (record.kind, record.id) in seen:
            raise BackupInvalid("the backup repeats a record")
        seen.add((record.kind, record.id))
        records.append(record)
    if trust is not None and len(_trust_bytes(trust)) > MAX_RECORD_BYTES:
        raise BackupInvalid("the backed-up trust configuration is too large")
    return records, trust


# --- files -----------------------------------------------------------------------------------


def _trust_bytes(trust: Mapping[str, Any]) -> bytes:
    return (strict_json.dumps(dict(trust)) + "\n").encode("utf-8")


def _read_trust(home: Path) -> dict[str, Any] | None:
    """``<home>/wallet/trust.json`` if present (public keys and URLs only)."""
    path = trust_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WalletError(f"cannot read {path} ({exc.strerror})", code="trust_unreadable") from exc
    try:
        if len(raw) > MAX_RECORD_BYTES:
            raise WalletError("trust.json is too large", code="trust_invalid")
        doc = strict_json.loads(raw, max_depth=MAX_JSON_DEPTH)
    except VCError as exc:
        raise WalletError(f"{path} is not valid JSON", code="trust_invalid") from exc
    if not isinstance(doc, dict):
        raise WalletError(f"{path} is not a JSON object", code="trust_invalid")
    return doc


def _write_new_file(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write owner-only, durably and atomically; refuse an existing file unless ``overwrite``."""
    if path.exists() and not overwrite:
        raise FileExists(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError as exc:
                raise FileExists(f"{path} already exists") from exc
            except OSError:  # a filesystem without hard links
                if path.exists():
                    raise FileExists(f"{path} already exists") from None
                os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
