"""The wallet's encrypted vault: every record and every private key, encrypted at rest.

Why it is built this way
------------------------
* **Keys.** The passphrase (NFC-normalised UTF-8) goes through Argon2id with a
  random 16-byte salt; from that root HKDF-SHA256 derives a *wrap key* and a
  *check key*. A random 256-bit data-encryption key (DEK) is wrapped with
  AES-256-GCM under the wrap key. Records are encrypted under subkeys of the DEK,
  so changing the passphrase is one small transaction — and by default it also
  rotates the DEK and re-encrypts every record in that same transaction, so an old
  copy of the file plus the old passphrase says nothing about the new vault.
* **Key-check value.** ``HMAC(check key, vault id)`` sits in the header. It tells
  a wrong passphrase (:class:`WrongPassphrase`, nothing touched) from a right one
  whose wrapped DEK was altered (:class:`VaultTampered`). It lets an attacker test
  guesses no faster than the GCM tag would; Argon2id is what slows guessing.
  A modified KDF parameter or salt changes the derived key, so it also reads as a
  wrong passphrase: the two cannot be told apart, and nothing is changed either way.
* **Records.** AES-256-GCM with a random 96-bit nonce per write (fine for the
  thousands of writes a wallet makes; far below the 2^32 bound). The row key is a
  *slot*, ``HMAC(slot key, kind, id)``, so even record ids never reach the disk in
  the clear; the id is inside the ciphertext and re-checked against the slot. The
  AAD binds the ciphertext to (DEK id, kind, slot, version), where ``version`` is a
  vault-wide write counter, so no ciphertext can be moved to another slot or
  replayed under a different version.
* **Manifest.** The header holds ``HMAC(manifest key, counter, every (kind, slot,
  version))``, rewritten in the same transaction as each write and verified at the
  start of every read or write. Deleting a row, restoring an older version of one
  record or adding a stale row is therefore detected (:class:`VaultTampered`), and
  :meth:`Vault.open` also decrypts and authenticates every record before it returns,
  so a tampered vault is refused at unlock and never half-read. (Rolling the
  *whole* file back to an older copy of itself cannot be detected without state
  kept outside the file; nobody but the passphrase holder can make such a copy
  say anything new, though.)
* **Crash safety.** SQLite in WAL mode with ``synchronous=FULL``; every operation
  is one transaction (``BEGIN IMMEDIATE`` for writes, so several processes — TUI
  and CLI — serialise). ``secure_delete`` zeroes freed pages; after a passphrase
  change the WAL is checkpointed and truncated so the old wrapped key is gone. A
  vault is created in a temporary file and linked into place, so a crash during
  ``create`` leaves no vault rather than half of one.
* **Bounds.** Records ≤ 1 MiB of JSON (parsed back with ``vc.strict_json``),
  kinds and ids from small alphabets, passphrases 8–1024 characters; KDF parameters
  read from a header are bounded so a hostile file cannot make unlock hang.

Argon2id parameters (:data:`PRODUCTION_KDF`)
--------------------------------------------
Measured on the reference machine (2 cores, 24 GiB, cryptography 50 / OpenSSL):
128 MiB, 3 passes, 2 lanes takes ≈ 0.3 s idle and 0.5–0.9 s with both cores busy
with other work, so unlock stays inside the ≤ 1 s budget even then; it is above
RFC 9106's second recommended option (64 MiB, t=3). 256 MiB took 0.45–0.7 s idle
(over budget under load). The parameters are stored in the header, so a later
version can raise them (``change_passphrase(..., kdf=...)``) without breaking old
vaults. ``benchmarks/wallet_unlock_bench.py`` measures them.

Test-only override: :data:`UNSAFE_TEST_KDF` (256 KiB, 1 pass) may be passed as
``kdf=`` by tests, and ``SELFCARRY_UNSAFE_TEST_KDF=1`` in the environment makes it
the default for *new* vaults and backups (for end-to-end CLI tests). Never set it
for real use: it makes a stolen vault cheap to brute-force.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vc import strict_json
from vc.b64 import b64u_decode, b64u_encode
from vc.errors import VCError

from .errors import (
    InvalidKdfParams,
    InvalidPassphrase,
    InvalidRecord,
    NotFound,
    NoVault,
    RecordTooLarge,
    UnsupportedVaultVersion,
    VaultBusy,
    VaultCorrupt,
    VaultExists,
    VaultIOError,
    VaultLocked,
    VaultTampered,
    WrongPassphrase,
)
from .home import VAULT_FILE, PathLike, ensure_wallet_dir, fsync_dir, vault_path

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_PASSPHRASE_CHARS",
    "MAX_RECORD_BYTES",
    "MIN_PASSPHRASE_CHARS",
    "PRODUCTION_KDF",
    "UNSAFE_TEST_KDF",
    "UNSAFE_TEST_KDF_ENV",
    "KdfParams",
    "PassphraseKeys",
    "Record",
    "Vault",
    "check_new_passphrase",
    "default_kdf",
    "passphrase_bytes",
]

FORMAT = "selfcarry-vault"
FORMAT_VERSION = 1
MAX_RECORD_BYTES = 1 << 20  # the JSON of one record
MAX_JSON_DEPTH = strict_json.MAX_DEPTH  # nesting of a stored envelope {"id", "obj": ...}
MIN_PASSPHRASE_CHARS = 8
MAX_PASSPHRASE_CHARS = 1024
_NONCE = 12
_TAG = 16
_MAX_BLOB = MAX_RECORD_BYTES + 4096  # envelope overhead + nonce + tag
_BUSY_TIMEOUT_MS = 10_000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ID = re.compile(r"[A-Za-z0-9._:@~+=-]{1,256}")
_LABEL = b"selfcarry-vault/1 "


# --- key derivation ---------------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters (memory in KiB). Stored in every header and backup."""

    memory_kib: int
    iterations: int
    lanes: int

    # Bounds for parameters read from a file: a hostile header must not make unlock hang.
    MAX_MEMORY_KIB = 1 << 20  # 1 GiB
    MAX_ITERATIONS = 10
    MAX_LANES = 16

    def validate(self) -> KdfParams:
        for name in ("memory_kib", "iterations", "lanes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidKdfParams(f"Argon2id {name} must be an integer")
        if not 1 <= self.lanes <= self.MAX_LANES:
            raise InvalidKdfParams(f"Argon2id lanes must be 1..{self.MAX_LANES}")
        if not 1 <= self.iterations <= self.MAX_ITERATIONS:
            raise InvalidKdfParams(f"Argon2id iterations must be 1..{self.MAX_ITERATIONS}")
        if not 8 * self.lanes <= self.memory_kib <= self.MAX_MEMORY_KIB:
            raise InvalidKdfParams(
                f"Argon2id memory must be {8 * self.lanes}..{self.MAX_MEMORY_KIB} KiB"
            )
        return self

    def to_json(self, salt: bytes) -> dict[str, Any]:
        return {
            "alg": "argon2id",
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
            "salt": b64u_encode(salt),
        }

    @classmethod
    def from_json(cls, doc: Any) -> tuple[KdfParams, bytes]:
        """Parse ``{alg, memory_kib, iterations, lanes, salt}`` (or :class:`InvalidKdfParams`)."""
        if not isinstance(doc, Mapping) or set(doc) != {
            "alg",
            "memory_kib",
            "iterations",
            "lanes",
            "salt",
        }:
            raise InvalidKdfParams("the KDF parameters are not in the expected shape")
        if doc["alg"] != "argon2id":
            raise InvalidKdfParams(f"unsupported KDF {doc['alg']!r}")
        try:
            salt = b64u_decode(doc["salt"])
        except VCError as exc:
            raise InvalidKdfParams("the KDF salt is not base64url") from exc
        if not 16 <= len(salt) <= 64:
            raise InvalidKdfParams("the KDF salt must be 16..64 bytes")
        params = cls(doc["memory_kib"], doc["iterations"], doc["lanes"]).validate()
        return params, salt

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        """Argon2id(secret, salt) → 32 bytes."""
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(secret)


PRODUCTION_KDF = KdfParams(memory_kib=128 * 1024, iterations=3, lanes=2)
UNSAFE_TEST_KDF = KdfParams(memory_kib=256, iterations=1, lanes=1)
UNSAFE_TEST_KDF_ENV = "SELFCARRY_UNSAFE_TEST_KDF"


def default_kdf() -> KdfParams:
    """The parameters for a new vault or backup (production unless the test override is set)."""
    if os.environ.get(UNSAFE_TEST_KDF_ENV) == "1":
        return UNSAFE_TEST_KDF
    return PRODUCTION_KDF


def check_new_passphrase(passphrase: Any) -> bytes:
    """Validate a passphrase being *set*; return its NFC UTF-8 bytes or raise InvalidPassphrase."""
    if not isinstance(passphrase, str):
        raise InvalidPassphrase("the passphrase must be text")
    norm = unicodedata.normalize("NFC", passphrase)
    if len(norm) < MIN_PASSPHRASE_CHARS:
        raise InvalidPassphrase(f"a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")
    if len(norm) > MAX_PASSPHRASE_CHARS:
        raise InvalidPassphrase(f"a passphrase may have at most {MAX_PASSPHRASE_CHARS} characters")
    if "\x00" in norm:
        raise InvalidPassphrase("the passphrase must not contain NUL")
    return norm.encode("utf-8")


def passphrase_bytes(passphrase: Any) -> bytes:
    """A passphrase being *tried*: anything that cannot be a valid one is simply wrong."""
    try:
        return check_new_passphrase(passphrase)
    except InvalidPassphrase as exc:
        raise WrongPassphrase() from exc


def _hkdf(root: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL + label).derive(root)


def _mac(key: bytes, *parts: bytes) -> bytes:
    h = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


@dataclass(frozen=True)
class PassphraseKeys:
    """What a passphrase yields: an AEAD key (wraps the DEK; encrypts a backup) and a check key."""

    wrap: bytes
    check: bytes

    @classmethod
    def derive(cls, secret: bytes, params: KdfParams, salt: bytes) -> PassphraseKeys:
        root = params.derive(secret, salt)
        return cls(wrap=_hkdf(root, b"wrap"), check=_hkdf(root, b"check"))

    def key_check(self, context: bytes) -> bytes:
        """A value that confirms the passphrase without revealing anything about the key."""
        return _mac(self.check, b"key-check", context)


class _DataKeys:
    """Subkeys of the DEK: record encryption, slot (blind index) and manifest MAC."""

    __slots__ = ("aead", "key_id", "manifest", "slot")

    def __init__(self, dek: bytes, key_id: bytes) -> None:
        self.aead = AESGCM(_hkdf(dek, b"records"))
        self.slot = _hkdf(dek, b"slots")
        self.manifest = _hkdf(dek, b"manifest")
        self.key_id = key_id

    def slot_of(self, kind: str, record_id: str) -> bytes:
        return _mac(self.slot, b"slot", kind.encode(), record_id.encode())

    def record_aad(self, kind: str, slot: bytes, version: int) -> bytes:
        return (
            _LABEL
            + b"record\x00"
            + self.key_id
            + kind.encode()
            + b"\x00"
            + slot
            + (version.to_bytes(8, "big"))
        )

    def manifest_mac(self, counter: int, rows: Mapping[tuple[str, bytes], int]) -> bytes:
        h = hmac.new(self.manifest, digestmod=hashlib.sha256)
        h.update(_LABEL + b"manifest\x00" + self.key_id + counter.to_bytes(8, "big"))
        for (kind, slot), version in sorted(rows.items()):
            k = kind.encode()
            h.update(len(k).to_bytes(1, "big") + k + slot + version.to_bytes(8, "big"))
        return h.digest()


# --- storage ----------------------------------------------------------------------------

_SCHEMA: tuple[tuple[str, str], ...] = (
    (
        "header",
        "CREATE TABLE header (\n"
        "    one INTEGER PRIMARY KEY CHECK (one = 1),\n"
        "    format TEXT NOT NULL,\n"
        "    version INTEGER NOT NULL,\n"
        "    vault_id BLOB NOT NULL,\n"
        "    kdf TEXT NOT NULL,\n"
        "    key_check BLOB NOT NULL,\n"
        "    key_id BLOB NOT NULL,\n"
        "    wrapped_dek BLOB NOT NULL,\n"
        "    counter INTEGER NOT NULL,\n"
        "    manifest_mac BLOB NOT NULL\n"
        ")",
    ),
    (
        "records",
        "CREATE TABLE records (\n"
        "    kind TEXT NOT NULL,\n"
        "    slot BLOB NOT NULL,\n"
        "    version INTEGER NOT NULL,\n"
        "    blob BLOB NOT NULL,\n"
        "    PRIMARY KEY (kind, slot)\n"
        ") WITHOUT ROWID",
    ),
)


@dataclass(frozen=True)
class _Header:
    format: str
    version: int
    vault_id: bytes
    kdf: KdfParams
    salt: bytes
    key_check: bytes
    key_id: bytes
    wrapped_dek: bytes
    counter: int
    manifest_mac: bytes

    def wrap_aad(self) -> bytes:
        return _wrap_aad(self.vault_id, self.key_id, self.kdf, self.salt)


def _wrap_aad(vault_id: bytes, key_id: bytes, params: KdfParams, salt: bytes) -> bytes:
    """The wrapped DEK is bound to the format, the vault, the DEK id and the KDF settings."""
    kdf = strict_json.dumps(params.to_json(salt)).encode()
    version = f"{FORMAT}/{FORMAT_VERSION}".encode()
    return _LABEL + b"dek\x00" + version + b"\x00" + vault_id + key_id + kdf


@dataclass(frozen=True)
class Record:
    """One decrypted record (used by backup and restore)."""

    kind: str
    id: str
    obj: dict[str, Any]

    def validate(self) -> Record:
        """Check kind, id and object as :meth:`Vault.put` would (raises InvalidRecord)."""
        _check_kind(self.kind)
        _check_id(self.id)
        _encode_record(self.id, self.obj)
        return self


@contextmanager
def _db_errors() -> Iterator[None]:
    """Turn SQLite failures into named wallet errors."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise VaultBusy() from exc
        if "malformed" in text or "not a database" in text or "no such" in text:
            raise VaultCorrupt(f"the vault file is damaged ({exc})") from exc
        raise VaultIOError(f"the vault could not be accessed ({exc})") from exc
    except sqlite3.DatabaseError as exc:
        raise VaultCorrupt(f"the vault file is damaged ({exc})") from exc


def _connect(path: Path) -> sqlite3.Connection:
    """Open an *existing* database file (never creates one) with our pragmas."""
    with _db_errors():
        conn = sqlite3.connect(
            path.as_uri() + "?mode=rw",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=_BUSY_TIMEOUT_MS / 1000,
        )
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            conn.close()
            raise
    return conn


def _check_schema(conn: sqlite3.Connection) -> None:
    with _db_errors():
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    expected = {("table", name, name, sql) for name, sql in _SCHEMA}
    if set(rows) != expected or len(rows) != len(expected):
        raise VaultCorrupt("the file is not a selfcarry vault (unexpected database schema)")


def _quick_check(conn: sqlite3.Connection) -> None:
    with _db_errors():
        result = conn.execute("PRAGMA quick_check").fetchall()
    if result != [("ok",)]:
        raise VaultCorrupt("the vault database fails its integrity check")


def _read_header(conn: sqlite3.Connection) -> _Header:
    with _db_errors():
        rows = conn.execute(
            "SELECT format, version, vault_id, kdf, key_check, key_id, wrapped_dek, counter,"
            " manifest_mac FROM header"
        ).fetchall()
    if len(rows) != 1:
        raise VaultCorrupt("the vault header is missing")
    fmt, version, vault_id, kdf_text, key_check, key_id, wrapped, counter, mac = rows[0]
    if fmt != FORMAT:
        raise VaultCorrupt("the file is not a selfcarry vault")
    if not isinstance(version, int) or version != FORMAT_VERSION:
        raise UnsupportedVaultVersion(f"vault format version {version!r} is not supported")
    blobs = (vault_id, key_check, key_id, wrapped, mac)
    if not all(isinstance(b, bytes) for b in blobs) or not isinstance(kdf_text, str):
        raise VaultCorrupt("the vault header has the wrong types")
    if (len(vault_id), len(key_check), len(key_id), len(wrapped), len(mac)) != (
        16,
        32,
        16,
        _NONCE + 32 + _TAG,
        32,
    ):
        raise VaultCorrupt("the vault header has the wrong sizes")
    if not isinstance(counter, int) or counter < 0:
        raise VaultCorrupt("the vault header counter is invalid")
    try:
        if len(kdf_text) > 1024:
            raise InvalidKdfParams("the KDF parameters are too long")
        params, salt = KdfParams.from_json(strict_json.loads(kdf_text, max_depth=4))
    except (InvalidKdfParams, VCError) as exc:
        raise VaultCorrupt(f"the vault header's KDF parameters are invalid ({exc})") from exc
    return _Header(fmt, version, vault_id, params, salt, key_check, key_id, wrapped, counter, mac)


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InvalidRecord("a record kind is 1-32 characters: a-z, 0-9, _ (starting a-z)")
    return kind


def _check_id(record_id: Any) -> str:
    if not isinstance(record_id, str) or not _ID.fullmatch(record_id):
        raise InvalidRecord("a record id is 1-256 characters from A-Z a-z 0-9 . _ : @ ~ + = -")
    return record_id


def _encode_record(record_id: str, obj: Any) -> bytes:
    if not isinstance(obj, Mapping):
        raise InvalidRecord("a record must be a JSON object")
    try:
        body = strict_json.dumps({"id": record_id, "obj": dict(obj)}).encode("utf-8")
        strict_json.depth(obj, MAX_JSON_DEPTH - 1)  # the envelope adds one level
    except VCError as exc:
        raise InvalidRecord(f"the record is not storable JSON ({exc.message})") from exc
    if len(body) > MAX_RECORD_BYTES:
        raise RecordTooLarge(f"a record may hold at most {MAX_RECORD_BYTES} bytes of JSON")
    return body


class _Tx:
    """The authenticated view of the records table inside one SQLite transaction."""

    __slots__ = ("counter", "dirty", "rows")

    def __init__(self, counter: int, rows: dict[tuple[str, bytes], int]) -> None:
        self.counter = counter
        self.rows = rows
        self.dirty = False


# --- the vault ----------------------------------------------------------------------------


class Vault:
    """An unlocked (or locked) handle on ``<home>/wallet/vault.db``.

    Thread-safe (one lock per handle); several processes may hold handles on the
    same vault — writes serialise in SQLite. Use as a context manager to close.
    """

    def __init__(
        self, path: Path, conn: sqlite3.Connection, kdf: KdfParams, keys: _DataKeys
    ) -> None:
        # Private: use Vault.create / Vault.open.
        self._path = path
        self._conn: sqlite3.Connection | None = conn
        self._keys: _DataKeys | None = keys
        self._kdf = kdf
        self._lock = threading.RLock()
        self._tx: _Tx | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @staticmethod
    def exists(home: PathLike | None) -> bool:
        return vault_path(home).exists()

    @classmethod
    def create(
        cls, home: PathLike | None, passphrase: str, *, kdf: KdfParams | None = None
    ) -> Vault:
        """Create a new, empty vault; :class:`VaultExists` if the home already has one."""
        return cls.create_from_records(home, passphrase, (), kdf=kdf)

    @classmethod
    def create_from_records(
        cls,
        home: PathLike | None,
        passphrase: str,
        records: Iterable[Record],
        *,
        kdf: KdfParams | None = None,
        replace: bool = False,
    ) -> Vault:
        """Create a vault holding ``records`` (used by restore) in one atomic step.

        The database is built in a temporary file next to the vault and linked into
        place only when complete. ``replace=True`` swaps out an existing vault (which
        must not be open elsewhere): the old WAL is checkpointed first, then the new
        file is renamed over it.
        """
        secret = check_new_passphrase(passphrase)
        params = (kdf or default_kdf()).validate()
        final = vault_path(home)
        if final.exists() and not replace:
            raise VaultExists(f"a vault already exists at {final}")
        records = builtins.list(records)
        for rec in records:
            _check_kind(rec.kind)
            _check_id(rec.id)
        try:
            directory = ensure_wallet_dir(home)
            _remove_stale_temps(directory)
            tmp = directory / f".{final.name}.creating-{secrets.token_hex(8)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        except OSError as exc:
            raise VaultIOError(f"cannot create the vault in {final.parent} ({exc})") from exc
        try:
            keys = _build(tmp, secret, params, records)
            _install(tmp, final, replace=replace)
        except OSError as exc:
            _discard(tmp)
            raise VaultIOError(f"cannot create the vault at {final} ({exc})") from exc
        except BaseException:
            _discard(tmp)
            raise
        conn = _connect(final)
        try:
            with _db_errors():
                conn.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            conn.close()
            raise
        return cls(final, conn, params, keys)

    @classmethod
    def open(cls, home: PathLike | None, passphrase: str) -> Vault:
        """Unlock an existing vault and authenticate all of it.

        A wrong passphrase raises :class:`WrongPassphrase` and changes nothing on disk;
        any altered record raises :class:`VaultTampered` before a single one is returned.
        """
        path = vault_path(home)
        if not path.is_file():
            raise NoVault(f"there is no wallet vault at {path}")
        secret = passphrase_bytes(passphrase)
        conn = _connect(path)
        try:
            _check_schema(conn)
            _quick_check(conn)
            header = _read_header(conn)
            keys = _unlock(header, secret)
            vault = cls(path, conn, header.kdf, keys)
            vault.verify()
            with _db_errors():
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            conn.close()
            raise
        return vault

    def close(self) -> None:
        """Lock and close the database (idempotent)."""
        with self._lock:
            self._keys = None
            conn, self._conn = self._conn, None
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self) -> None:
        """Forget the keys; the handle stays usable after :meth:`unlock`."""
        with self._lock:
            self._keys = None

    def unlock(self, passphrase: str) -> None:
        """Unlock again after :meth:`lock` (checks the passphrase against the file's header)."""
        secret = passphrase_bytes(passphrase)
        with self._lock:
            conn = self._require_conn()
            header = _read_header(conn)
            self._keys = _unlock(header, secret)
            self._kdf = header.kdf
            self.verify()

    @property
    def locked(self) -> bool:
        return self._keys is None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def kdf_params(self) -> KdfParams:
        return self._kdf

    def change_passphrase(
        self,
        old: str,
        new: str,
        *,
        kdf: KdfParams | None = None,
        rotate_key: bool = True,
    ) -> None:
        """Set a new passphrase (and optionally new KDF costs) in one transaction.

        ``old`` must be the current passphrase (:class:`WrongPassphrase` otherwise,
        nothing changed). With ``rotate_key`` (the default) a fresh DEK is made and
        every record re-encrypted in the same transaction; a crash leaves either the
        old vault or the new one, never a mix.
        """
        new_secret = check_new_passphrase(new)
        old_secret = passphrase_bytes(old)
        params = (kdf or self._kdf).validate()
        with self._lock:
            keys = self._require_keys()
            conn = self._require_conn()
            if self._tx is not None:
                raise VaultBusy("cannot change the passphrase inside a transaction")
            with self._txn(write=True) as tx:
                header = _read_header(conn)
                old_keys = PassphraseKeys.derive(old_secret, header.kdf, header.salt)
                if not hmac.compare_digest(old_keys.key_check(header.vault_id), header.key_check):
                    raise WrongPassphrase()
                dek = _unwrap(header, old_keys)
                key_id = header.key_id
                new_keys_data = keys
                if rotate_key:
                    dek = secrets.token_bytes(32)
                    key_id = secrets.token_bytes(16)
                    new_keys_data = _DataKeys(dek, key_id)
                    plain = self._decrypt_all(tx)
                    with _db_errors():
                        conn.execute("DELETE FROM records")
                    tx.rows = {}
                    for kind, rid, version, _obj, body in plain:
                        _insert(conn, new_keys_data, tx, kind, rid, version, body)
                salt = secrets.token_bytes(16)
                pass_keys = PassphraseKeys.derive(new_secret, params, salt)
                key_check = pass_keys.key_check(header.vault_id)
                wrapped = _wrap(pass_keys, dek, _wrap_aad(header.vault_id, key_id, params, salt))
                mac = new_keys_data.manifest_mac(tx.counter, tx.rows)
                with _db_errors():
                    conn.execute(
                        "UPDATE header SET kdf = ?, key_check = ?, key_id = ?, wrapped_dek = ?,"
                        " counter = ?, manifest_mac = ?",
                        (
                            strict_json.dumps(params.to_json(salt)),
                            key_check,
                            key_id,
                            wrapped,
                            tx.counter,
                            mac,
                        ),
                    )
                tx.dirty = False  # header already written with the new keys
            self._keys = new_keys_data
            self._kdf = params
            with suppress(sqlite3.Error):  # drop the old wrapped key from the WAL
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def verify(self) -> int:
        """Authenticate every record (as :meth:`open` does); returns how many there are.

        Raises :class:`VaultTampered` at the first altered, moved, replayed or missing record.
        """
        with self._lock, self._txn(write=False) as tx:
            return len(self._decrypt_all(tx))

    # -- records ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Vault]:
        """Group several operations into one atomic, isolated write transaction."""
        with self._lock, self._txn(write=True):
            yield self

    def put(self, kind: str, record_id: str, obj: Mapping[str, Any]) -> None:
        """Insert or replace one record."""
        _check_kind(kind)
        _check_id(record_id)
        body = _encode_record(record_id, obj)
        with self._lock, self._txn(write=True) as tx:
            keys = self._require_keys()
            tx.counter += 1
            _insert(self._require_conn(), keys, tx, kind, record_id, tx.counter, body)

    def get(self, kind: str, record_id: str) -> dict[str, Any]:
        """The record, or :class:`NotFound`."""
        found = self.find(kind, record_id)
        if found is None:
            raise NotFound(f"no {kind} record {record_id!r}")
        return found

    def find(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The record, or ``None`` when there is none."""
        _check_kind(kind)
        _check_id(record_id)
        with self._lock, self._txn(write=False) as tx:
            keys = self._require_keys()
            slot = keys.slot_of(kind, record_id)
            with _db_errors():
                row = (
                    self._require_conn()
                    .execute(
                        "SELECT version, blob FROM records WHERE kind = ? AND slot = ?",
                        (kind, slot),
                    )
                    .fetchone()
                )
            if row is None:
                return None
            rid, obj = self._open_row(keys, tx, kind, slot, row[0], row[1])
            if rid != record_id:
                raise VaultTampered("a record holds another record's id")
            return obj

    def has(self, kind: str, record_id: str) -> bool:
        return self.find(kind, record_id) is not None

    def items(self, kind: str) -> builtins.list[tuple[str, dict[str, Any]]]:
        """All records of a kind as ``(id, obj)``, sorted by id; all or nothing."""
        _check_kind(kind)
        with self._lock, self._txn(write=False) as tx:
            keys = self._require_keys()
            with _db_errors():
                rows = (
                    self._require_conn()
                    .execute("SELECT slot, version, blob FROM records WHERE kind = ?", (kind,))
                    .fetchall()
                )
            out = [self._open_row(keys, tx, kind, s, v, b) for s, v, b in rows]
        return sorted(out, key=lambda item: item[0])

    def list(self, kind: str) -> builtins.list[dict[str, Any]]:
        """All records of a kind, sorted by id."""
        return [obj for _, obj in self.items(kind)]

    def ids(self, kind: str) -> builtins.list[str]:
        return [rid for rid, _ in self.items(kind)]

    def delete(self, kind: str, record_id: str) -> None:
        """Remove a record (:class:`NotFound` if absent). Freed pages are zeroed."""
        _check_kind(kind)
        _check_id(record_id)
        with self._lock, self._txn(write=True) as tx:
            keys = self._require_keys()
            slot = keys.slot_of(kind, record_id)
            if (kind, slot) not in tx.rows:
                raise NotFound(f"no {kind} record {record_id!r}")
            with _db_errors():
                self._require_conn().execute(
                    "DELETE FROM records WHERE kind = ? AND slot = ?", (kind, slot)
                )
            del tx.rows[(kind, slot)]
            tx.counter += 1
            tx.dirty = True

    def export_records(self) -> builtins.list[Record]:
        """Every record, decrypted, from one consistent snapshot (for backups)."""
        with self._lock, self._txn(write=False) as tx:
            plain = self._decrypt_all(tx)
        out = [Record(kind, rid, obj) for kind, rid, _v, obj, _b in plain]
        return sorted(out, key=lambda r: (r.kind, r.id))

    # -- internals ---------------------------------------------------------------------------

    def _require_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise VaultLocked("the vault is closed")
        return self._conn

    def _require_keys(self) -> _DataKeys:
        self._require_conn()
        if self._keys is None:
            raise VaultLocked()
        return self._keys

    @contextmanager
    def _txn(self, *, write: bool) -> Iterator[_Tx]:
        """One SQLite transaction whose record set is authenticated before use."""
        if self._tx is not None:  # joined: the outer transaction verifies and commits
            yield self._tx
            return
        conn = self._require_conn()
        keys = self._require_keys()
        with _db_errors():
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            tx = self._load(conn, keys)
            self._tx = tx
            yield tx
            if tx.dirty:
                mac = keys.manifest_mac(tx.counter, tx.rows)
                with _db_errors():
                    conn.execute(
                        "UPDATE header SET counter = ?, manifest_mac = ?", (tx.counter, mac)
                    )
            with _db_errors():
                conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            self._tx = None

    def _load(self, conn: sqlite3.Connection, keys: _DataKeys) -> _Tx:
        with _db_errors():
            head = conn.execute("SELECT key_id, counter, manifest_mac FROM header").fetchall()
            rows = conn.execute("SELECT kind, slot, version FROM records").fetchall()
        if len(head) != 1:
            raise VaultCorrupt("the vault header is missing")
        key_id, counter, mac = head[0]
        if key_id != keys.key_id:
            self._keys = None
            raise VaultLocked("the passphrase was changed elsewhere; unlock the vault again")
        table: dict[tuple[str, bytes], int] = {}
        for kind, slot, version in rows:
            if not (
                isinstance(kind, str)
                and isinstance(slot, bytes)
                and isinstance(version, int)
                and 0 < version <= counter
            ):
                raise VaultTampered("a vault row has an invalid shape")
            table[(kind, slot)] = version
        if not isinstance(mac, bytes) or not hmac.compare_digest(
            keys.manifest_mac(counter, table), mac
        ):
            raise VaultTampered("the vault's record set fails authentication")
        return _Tx(counter, table)

    def _open_row(
        self, keys: _DataKeys, tx: _Tx, kind: str, slot: bytes, version: int, blob: Any
    ) -> tuple[str, dict[str, Any]]:
        rid, obj, _body = _decrypt_row(keys, tx, kind, slot, version, blob)
        return rid, obj

    def _decrypt_all(self, tx: _Tx) -> builtins.list[tuple[str, str, int, dict[str, Any], bytes]]:
        keys = self._require_keys()
        with _db_errors():
            rows = (
                self._require_conn()
                .execute("SELECT kind, slot, version, blob FROM records")
                .fetchall()
            )
        out = []
        for kind, slot, version, blob in rows:
            rid, obj, body = _decrypt_row(keys, tx, kind, slot, version, blob)
            out.append((kind, rid, version, obj, body))
        return out


# --- module helpers ------------------------------------------------------------------------


def _decrypt_row(
    keys: _DataKeys, tx: _Tx, kind: str, slot: bytes, version: int, blob: Any
) -> tuple[str, dict[str, Any], bytes]:
    """Decrypt and authenticate one row; returns (id, object, envelope JSON)."""
    if tx.rows.get((kind, slot)) != version:
        raise VaultTampered("a record is not the version the manifest names")
    if not isinstance(blob, bytes) or not _NONCE + _TAG <= len(blob) <= _MAX_BLOB:
        raise VaultTampered("a record ciphertext has an invalid size")
    try:
        body = keys.aead.decrypt(blob[:_NONCE], blob[_NONCE:], keys.record_aad(kind, slot, version))
    except InvalidTag as exc:
        raise VaultTampered("a record fails authentication (altered or moved)") from exc
    try:
        env = strict_json.loads(body, max_depth=MAX_JSON_DEPTH)
    except VCError as exc:
        raise VaultTampered("a record does not decode") from exc
    if (
        not isinstance(env, dict)
        or set(env) != {"id", "obj"}
        or not isinstance(env["id"], str)
        or not isinstance(env["obj"], dict)
    ):
        raise VaultTampered("a record envelope has the wrong shape")
    rid = env["id"]
    if not hmac.compare_digest(keys.slot_of(kind, rid), slot):
        raise VaultTampered("a record is stored under another record's slot")
    return rid, env["obj"], body


def _insert(
    conn: sqlite3.Connection,
    keys: _DataKeys,
    tx: _Tx,
    kind: str,
    record_id: str,
    version: int,
    body: bytes,
) -> None:
    slot = keys.slot_of(kind, record_id)
    nonce = secrets.token_bytes(_NONCE)
    blob = nonce + keys.aead.encrypt(nonce, body, keys.record_aad(kind, slot, version))
    with _db_errors():
        conn.execute(
            "INSERT OR REPLACE INTO records (kind, slot, version, blob) VALUES (?, ?, ?, ?)",
            (kind, slot, version, blob),
        )
    tx.rows[(kind, slot)] = version
    tx.dirty = True


def _wrap(pass_keys: PassphraseKeys, dek: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(pass_keys.wrap).encrypt(nonce, dek, aad)


def _unwrap(header: _Header, pass_keys: PassphraseKeys) -> bytes:
    try:
        return AESGCM(pass_keys.wrap).decrypt(
            header.wrapped_dek[:_NONCE], header.wrapped_dek[_NONCE:], header.wrap_aad()
        )
    except InvalidTag as exc:
        raise VaultTampered("the vault's wrapped key has been altered") from exc


def _unlock(header: _Header, secret: bytes) -> _DataKeys:
    pass_keys = PassphraseKeys.derive(secret, header.kdf, header.salt)
    if not hmac.compare_digest(pass_keys.key_check(header.vault_id), header.key_check):
        raise WrongPassphrase()
    return _DataKeys(_unwrap(header, pass_keys), header.key_id)


def _build(
    path: Path, secret: bytes, params: KdfParams, records: builtins.list[Record]
) -> _DataKeys:
    """Write schema, header and records into the fresh (empty) file at ``path``."""
    vault_id = secrets.token_bytes(16)
    key_id = secrets.token_bytes(16)
    dek = secrets.token_bytes(32)
    salt = secrets.token_bytes(16)
    keys = _DataKeys(dek, key_id)
    pass_keys = PassphraseKeys.derive(secret, params, salt)
    key_check = pass_keys.key_check(vault_id)
    wrapped = _wrap(pass_keys, dek, _wrap_aad(vault_id, key_id, params, salt))
    conn = _connect(path)
    try:
        with _db_errors():
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("BEGIN IMMEDIATE")
            for _name, sql in _SCHEMA:
                conn.execute(sql)
            tx = _Tx(0, {})
            seen: set[tuple[str, str]] = set()
            for rec in records:
                if (rec.kind, rec.id) in seen:
                    raise InvalidRecord(f"duplicate record {rec.kind}/{rec.id}")
                seen.add((rec.kind, rec.id))
                tx.counter += 1
                body = _encode_record(rec.id, rec.obj)
                _insert(conn, keys, tx, rec.kind, rec.id, tx.counter, body)
            conn.execute(
                "INSERT INTO header (one, format, version, vault_id, kdf, key_check, key_id,"
                " wrapped_dek, counter, manifest_mac) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    FORMAT,
                    FORMAT_VERSION,
                    vault_id,
                    strict_json.dumps(params.to_json(salt)),
                    key_check,
                    key_id,
                    wrapped,
                    tx.counter,
                    keys.manifest_mac(tx.counter, tx.rows),
                ),
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return keys


def _install(tmp: Path, final: Path, *, replace: bool) -> None:
    """Move the finished database into place: atomically, never over a vault unless asked."""
    if replace and final.exists():
        _quiesce(final)
        os.replace(tmp, final)
    else:
        if not final.exists():  # a WAL without its database would be replayed into ours
            for suffix in ("-wal", "-shm"):
                with suppress(FileNotFoundError):
                    Path(f"{final}{suffix}").unlink()
        try:
            os.link(tmp, final)
        except FileExistsError as exc:
            raise VaultExists(f"a vault already exists at {final}") from exc
        except OSError:  # a filesystem without hard links
            if final.exists():
                raise VaultExists(f"a vault already exists at {final}") from None
            os.replace(tmp, final)
        else:
            tmp.unlink()
    fsync_dir(final.parent)


def _quiesce(final: Path) -> None:
    """Fold an existing vault's WAL into its file and remove the WAL, before replacing it.

    A leftover ``-wal`` beside a *different* database file would be replayed into it.
    """
    with suppress(sqlite3.Error, VaultCorrupt, VaultIOError, VaultBusy):
        conn = _connect(final)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            Path(f"{final}{suffix}").unlink()


def _discard(tmp: Path) -> None:
    for p in (tmp, Path(f"{tmp}-journal")):
        with suppress(OSError):
            p.unlink()


def _remove_stale_temps(directory: Path, max_age_s: float = 600.0) -> None:
    """Clear temporary files a crashed ``create``/restore left behind (old ones only)."""
    now = time.time()
    for p in directory.glob(f".{VAULT_FILE}.creating-*"):
        with suppress(OSError):
            if now - p.stat().st_mtime > max_age_s:
                p.unlink()
