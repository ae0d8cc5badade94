"""The witness: cosigns a log's checkpoints only while the log stays append-only.

Semantics of C2SP tlog-witness ``add-checkpoint`` (the HTTP transport lives
elsewhere; :func:`parse_add_checkpoint_request` / :func:`format_add_checkpoint_request`
handle its body). Per origin the witness keeps the last checkpoint it cosigned;
it cosigns a new one only if the log signed it, the caller's ``old`` size is that
remembered size, and a consistency proof links the two. A different root at the
same size is a split view and is refused. Checking and recording happen
atomically (a compare-and-set on the stored state), so two racing requests can
never roll the witness back.

Self-contained on purpose: a witness may run in another process or on another
machine, with nothing but this module, its key and its state file.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .checkpoint import Checkpoint
from .errors import (
    InvalidProof,
    RegistryError,
    StoreError,
    UnknownOrigin,
    WitnessConflict,
    WitnessRefused,
    WitnessSplitView,
)
from .merkle import SHA256, HashAlg, empty_root, verify_consistency
from .note import (
    MAX_NOTE_SIZE,
    CosignatureSigner,
    NoteVerifier,
    b64std_decode,
    b64std_encode,
    open_note,
    split_note,
)

#: tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class WitnessRecord:
    """What the witness remembers per origin: the last checkpoint it cosigned."""

    size: int
    root: bytes
    checkpoint_text: str


class WitnessState(Protocol):
    """Durable per-origin witness state with an atomic compare-and-set."""

    def get(self, origin: str) -> WitnessRecord | None: ...

    def compare_and_set(
        self, origin: str, expected: WitnessRecord | None, new: WitnessRecord
    ) -> bool:
        """Store ``new`` if the current record is still ``expected`` (same size and root);
        ``False`` if it is not (the caller lost a race and must re-read)."""
        ...


def _same(a: WitnessRecord | None, b: WitnessRecord | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.size == b.size and a.root == b.root


class MemoryWitnessState:
    """Witness state in memory (tests, ephemeral witnesses)."""

    def __init__(self) -> None:
        self._records: dict[str, WitnessRecord] = {}
        self._lock = threading.Lock()

    def get(self, origin: str) -> WitnessRecord | None:
        with self._lock:
            return self._records.get(origin)

    def compare_and_set(
        self, origin: str, expected: WitnessRecord | None, new: WitnessRecord
    ) -> bool:
        with self._lock:
            if not _same(self._records.get(origin), expected):
                return False
            self._records[origin] = new
            return True


class SqliteWitnessState:
    """Witness state in its own SQLite file: WAL, ``synchronous=FULL``, one
    ``BEGIN IMMEDIATE`` transaction per update (safe across processes)."""

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS witness_state (
            origin     TEXT PRIMARY KEY,
            size       INTEGER NOT NULL,
            root       BLOB NOT NULL,
            checkpoint TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(self._SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the witness state {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteWitnessState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, origin: str) -> WitnessRecord | None:
        row = self._db.execute(
            "SELECT size, root, checkpoint FROM witness_state WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else WitnessRecord(int(row[0]), bytes(row[1]), str(row[2]))

    def get(self, origin: str) -> WitnessRecord | None:
        with self._lock:
            try:
                return self._read(origin)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the witness state: {exc}") from exc

    def compare_and_set(
        self, origin: str, expected: WitnessRecord | None, new: WitnessRecord
    ) -> bool:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    if not _same(self._read(origin), expected):
                        self._db.execute("ROLLBACK")
                        return False
                    self._db.execute(
                        "INSERT INTO witness_state (origin, size, root, checkpoint, updated_at)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET"
                        " size = excluded.size, root = excluded.root,"
                        " checkpoint = excluded.checkpoint, updated_at = excluded.updated_at",
                        (origin, new.size, new.root, new.checkpoint_text, int(time.time())),
                    )
                    self._db.execute("COMMIT")
                    return True
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"cannot update the witness state: {exc}") from exc


class Witness:
    """Cosigns checkpoints of the logs it knows (``log_verifiers``: origin -> log key(s))."""

    def __init__(
        self,
        name: str,
        signer: CosignatureSigner,
        state: WitnessState,
        log_verifiers: Mapping[str, NoteVerifier | Sequence[NoteVerifier]],
        *,
        alg: HashAlg = SHA256,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if signer.name != name:
            raise RegistryError(
                f"the witness is named {name!r} but its key is {signer.name!r}",
                code="witness_misconfigured",
            )
        self.name = name
        self.signer = signer
        self.state = state
        self.alg = alg
        self._clock = clock or (lambda: int(time.time()))
        self._logs: dict[str, list[NoteVerifier]] = {
            origin: [keys] if isinstance(keys, NoteVerifier) else list(keys)
            for origin, keys in log_verifiers.items()
        }
        self._lock = threading.Lock()

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    def latest(self, origin: str) -> WitnessRecord | None:
        """The last checkpoint cosigned for ``origin``."""
        return self.state.get(origin)

    def add_checkpoint(
        self, old_size: int, consistency_proof: Sequence[bytes], checkpoint_note: str
    ) -> str:
        """Verify and cosign; return the cosignature line (ending in ``\\n``).

        Raises (tlog-witness status in brackets): :class:`UnknownOrigin` [404],
        ``UnknownLogKey`` / ``InvalidNote`` [403: the log did not sign it],
        ``InvalidCheckpoint`` / :class:`WitnessRefused` [400: malformed, old size
        beyond the checkpoint], :class:`WitnessConflict` [409: ``old_size`` is not
        the witness's size; ``.current_size`` says what is], :class:`WitnessSplitView`
        [409: same size, another root], :class:`InvalidProof` [422].
        """
        if type(old_size) is not int or old_size < 0:
            raise WitnessRefused("the old size must be a non-negative integer")
        if len(consistency_proof) > MAX_PROOF_LINES:
            raise WitnessRefused(f"more than {MAX_PROOF_LINES} consistency proof hashes")
        text, _ = split_note(checkpoint_note)
        checkpoint = Checkpoint.parse(text, hash_size=self.alg.digest_size)
        keys = self._logs.get(checkpoint.origin)
        if not keys:
            raise UnknownOrigin(f"the witness does not follow the log {checkpoint.origin!r}")
        open_note(checkpoint_note, keys)  # UnknownLogKey / InvalidNote unless the log signed it
        if old_size > checkpoint.size:
            raise WitnessRefused(
                f"the old size {old_size} is larger than the checkpoint size {checkpoint.size}"
            )
        with self._lock:
            record = self.state.get(checkpoint.origin)
            self._check(record, old_size, consistency_proof, checkpoint)
            new = WitnessRecord(checkpoint.size, checkpoint.root, text)
            if not _same(record, new) and not self.state.compare_and_set(
                checkpoint.origin, record, new
            ):
                now = self.state.get(checkpoint.origin)
                raise WitnessConflict(
                    now.size if now is not None else 0, "another request updated the witness first"
                )
            return self.signer.cosign(text, self._clock())

    def _check(
        self,
        record: WitnessRecord | None,
        old_size: int,
        proof: Sequence[bytes],
        checkpoint: Checkpoint,
    ) -> None:
        current = record.size if record is not None else 0
        if old_size != current:
            raise WitnessConflict(current)
        if checkpoint.size == 0 and checkpoint.root != empty_root(self.alg):
            raise InvalidProof("an empty tree's root must be the hash of the empty string")
        if record is None or record.size == 0:
            if proof:
                raise InvalidProof("the proof must be empty when the old size is 0")
            return
        if checkpoint.size == record.size:
            if checkpoint.root != record.root:
                raise WitnessSplitView(
                    f"size {record.size} was cosigned with root {b64std_encode(record.root)},"
                    f" not {b64std_encode(checkpoint.root)}"
                )
            if proof:
                raise InvalidProof("the sizes are equal, so the proof must be empty")
            return
        verify_consistency(
            record.size, checkpoint.size, proof, record.root, checkpoint.root, self.alg
        )


# --- the tlog-witness add-checkpoint request body ----------------------------------


def format_add_checkpoint_request(
    old_size: int, consistency_proof: Sequence[bytes], checkpoint_note: str
) -> str:
    """``old <size>\\n`` + one base64 proof line per hash + ``\\n`` + the signed checkpoint."""
    lines = "".join(b64std_encode(h) + "\n" for h in consistency_proof)
    return f"old {old_size}\n{lines}\n{checkpoint_note}"


def parse_add_checkpoint_request(body: str | bytes) -> tuple[int, list[bytes], str]:
    """Parse a tlog-witness add-checkpoint body into ``(old_size, proof, checkpoint_note)``."""
    max_size = MAX_NOTE_SIZE + 80 * (MAX_PROOF_LINES + 2)
    if isinstance(body, bytes | bytearray):
        if len(body) > max_size:
            raise WitnessRefused("the request body is too large")
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WitnessRefused("the request body is not UTF-8") from exc
    if not isinstance(body, str) or len(body) > max_size:
        raise WitnessRefused("the request body is too large")
    head, sep, note = body.partition("\n\n")
    if not sep:
        raise WitnessRefused("the request has no blank line before the checkpoint")
    lines = head.split("\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None:
        raise WitnessRefused("the request does not start with a canonical 'old <size>' line")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefused(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = [b64std_decode(line, what="a proof line", error=WitnessRefused) for line in lines[1:]]
    return int(match.group(1)), proof, note
