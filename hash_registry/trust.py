"""What a registry client (verifier, wallet) trusts, and what it remembers.

A :class:`TrustedLog` names a log (origin, its Ed25519 checkpoint key, the hash
algorithm) and the witnesses whose cosignatures a checkpoint needs, with a
quorum. :func:`verify_checkpoint` accepts a checkpoint only if the log signed it
and at least ``quorum`` distinct trusted witnesses cosigned it.

A :class:`CheckpointMemory` remembers, per origin, the largest checkpoint seen
and refuses any later checkpoint that cannot be proven consistent with it: that
is how a client detects a split view (a log showing different histories to
different parties).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .checkpoint import Checkpoint
from .errors import (
    InconsistentCheckpoint,
    InvalidCheckpoint,
    InvalidKey,
    InvalidProof,
    RegistryError,
    StoreError,
    UnknownLogKey,
    WitnessQuorumNotMet,
)
from .merkle import SHA256, HashAlg, empty_root, get_hash_alg, verify_consistency
from .note import (
    CosignatureVerifier,
    NoteVerifier,
    OpenedNote,
    b64std_encode,
    open_note,
    verifier_from_vkey,
)

MAX_KEYS_DOCUMENT = 64 * 1024
MAX_WITNESSES = 32

try:  # POSIX: serialise read-modify-write across processes sharing one home
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process lock only
    fcntl = None  # type: ignore[assignment]


class TrustedLog:
    """A log and the witness quorum its checkpoints need.

    ``quorum`` must be at least 1 (a checkpoint nobody independent has seen
    protects against nothing) unless ``allow_unwitnessed=True`` is passed,
    deliberately, by name.
    """

    def __init__(
        self,
        origin: str,
        log_vkey: str,
        witness_vkeys: Sequence[str],
        quorum: int,
        hash_alg: str = "sha-256",
        *,
        allow_unwitnessed: bool = False,
    ) -> None:
        if not isinstance(origin, str) or not origin or "\n" in origin:
            raise InvalidCheckpoint("the trusted log needs a one-line origin")
        self.origin = origin
        self.alg: HashAlg = get_hash_alg(hash_alg)
        self.hash_alg = self.alg.name
        self.log_verifier = NoteVerifier.from_vkey(log_vkey)
        self.log_vkey = self.log_verifier.vkey
        if isinstance(witness_vkeys, str) or len(witness_vkeys) > MAX_WITNESSES:
            raise InvalidKey(f"witness keys are a list of at most {MAX_WITNESSES} vkeys")
        self.witness_verifiers: list[NoteVerifier | CosignatureVerifier] = []
        for vkey in witness_vkeys:
            verifier = verifier_from_vkey(vkey)
            if verifier in self.witness_verifiers:
                raise InvalidKey(f"witness key {verifier.name} is listed twice")
            if verifier.vkey == self.log_vkey or verifier.name == self.log_verifier.name:
                raise InvalidKey("the log's own key cannot count as a witness")
            self.witness_verifiers.append(verifier)
        self.witness_vkeys = [v.vkey for v in self.witness_verifiers]
        witnesses = len({v.name for v in self.witness_verifiers})
        if type(quorum) is not int or quorum < 0 or quorum > witnesses:
            raise RegistryError(
                f"quorum {quorum!r} must be between 1 and the {witnesses} distinct witnesses",
                code="invalid_quorum",
            )
        if quorum == 0 and not allow_unwitnessed:
            raise RegistryError(
                "a quorum of 0 trusts the log alone; pass allow_unwitnessed=True to mean it",
                code="invalid_quorum",
            )
        self.quorum = quorum
        self.allow_unwitnessed = allow_unwitnessed

    @classmethod
    def from_keys_json(
        cls,
        doc: Mapping[str, Any] | str | bytes,
        *,
        quorum: int | None = None,
        hash_alg: str | None = None,
        allow_unwitnessed: bool = False,
    ) -> TrustedLog:
        """From ``hash-registry keys --json``: ``{log: {origin, vkey}, witnesses: [{name, vkey}]}``.

        The quorum is, in order: the argument, the document's ``quorum``, all witnesses.
        """
        data = _load_json(doc)
        try:
            log = data["log"]
            origin, log_vkey = log["origin"], log["vkey"]
            witnesses = data.get("witnesses", [])
            vkeys = [w["vkey"] for w in witnesses]
            names = [w.get("name") for w in witnesses]
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidKey("not a hash-registry keys document") from exc
        for name, vkey in zip(names, vkeys, strict=True):
            if name is not None and verifier_from_vkey(vkey).name != name:
                raise InvalidKey(f"witness {name!r} has a key named otherwise")
        if quorum is None:
            quorum = data.get("quorum", len({verifier_from_vkey(k).name for k in vkeys}))
        return cls(
            origin,
            log_vkey,
            vkeys,
            quorum,
            hash_alg or data.get("hash_alg", "sha-256"),
            allow_unwitnessed=allow_unwitnessed or bool(data.get("allow_unwitnessed", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The keys document, plus this client's ``quorum`` and ``hash_alg``."""
        out: dict[str, Any] = {
            "log": {"origin": self.origin, "vkey": self.log_vkey},
            "witnesses": [{"name": v.name, "vkey": v.vkey} for v in self.witness_verifiers],
            "quorum": self.quorum,
            "hash_alg": self.hash_alg,
        }
        if self.allow_unwitnessed:
            out["allow_unwitnessed"] = True
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def __repr__(self) -> str:
        return f"TrustedLog({self.origin!r}, quorum={self.quorum}/{len(self.witness_verifiers)})"


def _load_json(doc: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    if isinstance(doc, str | bytes | bytearray):
        if len(doc) > MAX_KEYS_DOCUMENT:
            raise InvalidKey("the keys document is too large")
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise InvalidKey("the keys document is not JSON") from exc
    if not isinstance(doc, Mapping):
        raise InvalidKey("the keys document is not a JSON object")
    return doc


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint with what vouched for it: the witnesses and their cosigning times."""

    checkpoint: Checkpoint
    witnesses: tuple[str, ...]
    timestamps: Mapping[str, int]
    note: OpenedNote


def verify_checkpoint_note(note: str | bytes, trusted: TrustedLog) -> VerifiedCheckpoint:
    """Like :func:`verify_checkpoint`, also saying which witnesses cosigned and when."""
    opened = open_note(note, [trusted.log_verifier, *trusted.witness_verifiers])
    if not opened.signed_by(trusted.log_verifier):
        raise UnknownLogKey(f"the checkpoint is not signed by the log key of {trusted.origin}")
    checkpoint = Checkpoint.parse(opened.text, hash_size=trusted.alg.digest_size)
    if checkpoint.origin != trusted.origin:
        raise InvalidCheckpoint(
            f"the checkpoint is for {checkpoint.origin!r}, not {trusted.origin!r}"
        )
    witnesses: dict[str, int] = {}
    for verifier in trusted.witness_verifiers:
        if opened.signed_by(verifier) and verifier.name not in witnesses:
            witnesses[verifier.name] = opened.timestamp_of(verifier) or 0
    if len(witnesses) < trusted.quorum:
        raise WitnessQuorumNotMet(
            f"{len(witnesses)} of the required {trusted.quorum} witnesses cosigned the checkpoint"
        )
    return VerifiedCheckpoint(checkpoint, tuple(witnesses), witnesses, opened)


def verify_checkpoint(note: str | bytes, trusted: TrustedLog) -> Checkpoint:
    """The checkpoint in ``note`` if the log signed it and a witness quorum cosigned it."""
    return verify_checkpoint_note(note, trusted).checkpoint


# --- remembering checkpoints (split-view detection) --------------------------------


def next_checkpoint(
    latest: Checkpoint | None,
    checkpoint: Checkpoint,
    consistency_proof: Sequence[bytes] | None,
    alg: HashAlg = SHA256,
) -> Checkpoint:
    """Which checkpoint to remember after observing ``checkpoint``; raises if inconsistent.

    ``consistency_proof`` goes from the smaller of the two trees to the larger:
    from ``latest`` to ``checkpoint`` when the new one is larger, from
    ``checkpoint`` to ``latest`` when it is smaller. It is not needed for equal
    sizes or when either tree is empty. The largest checkpoint is remembered.
    """
    if checkpoint.size == 0 and checkpoint.root != empty_root(alg):
        raise InconsistentCheckpoint("an empty tree with a root other than the empty hash")
    if latest is None:
        return checkpoint
    if checkpoint.origin != latest.origin:
        raise InvalidCheckpoint(f"{checkpoint.origin!r} is not {latest.origin!r}")
    if checkpoint.size == latest.size:
        if checkpoint.root != latest.root:
            raise InconsistentCheckpoint(
                f"two roots for size {latest.size} of {latest.origin}: {b64std_encode(latest.root)}"
                f" seen before, {b64std_encode(checkpoint.root)} now"
            )
        return latest
    small, large = sorted((latest, checkpoint), key=lambda c: c.size)
    if small.size > 0:
        if consistency_proof is None:
            raise InvalidProof(
                f"a consistency proof from size {small.size} to {large.size} is needed"
            )
        try:
            verify_consistency(
                small.size, large.size, consistency_proof, small.root, large.root, alg
            )
        except InvalidProof as exc:
            raise InconsistentCheckpoint(
                f"size {small.size} is not proven consistent with size {large.size}"
                f" of {large.origin}: {exc.message}"
            ) from exc
    return large


class CheckpointMemory(Protocol):
    """The largest checkpoint seen per origin; refuses inconsistent ones (split views)."""

    def latest(self, origin: str) -> Checkpoint | None: ...

    def observe(
        self,
        checkpoint: Checkpoint,
        consistency_proof_from_latest: Sequence[bytes] | None = None,
        *,
        alg: HashAlg = SHA256,
    ) -> None:
        """Remember ``checkpoint`` if it is the largest yet; see :func:`next_checkpoint`
        for which proof to pass (for a smaller checkpoint: from it to the latest)."""
        ...


class MemoryCheckpointMemory:
    """A :class:`CheckpointMemory` in memory (tests, one-shot verifiers)."""

    def __init__(self) -> None:
        self._latest: dict[str, Checkpoint] = {}
        self._lock = threading.Lock()

    def latest(self, origin: str) -> Checkpoint | None:
        with self._lock:
            return self._latest.get(origin)

    def observe(
        self,
        checkpoint: Checkpoint,
        consistency_proof_from_latest: Sequence[bytes] | None = None,
        *,
        alg: HashAlg = SHA256,
    ) -> None:
        with self._lock:
            latest = self._latest.get(checkpoint.origin)
            self._latest[checkpoint.origin] = next_checkpoint(
                latest, checkpoint, consistency_proof_from_latest, alg
            )


class FileCheckpointMemory:
    """A :class:`CheckpointMemory` in one JSON file, rewritten atomically
    (temp file, fsync, rename) under a lock file, so a crash never loses or
    half-writes it and processes sharing a home do not race."""

    MAX_FILE_SIZE = 4 * 1024 * 1024

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if fcntl is None:
                yield
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(
                    self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
                )
            except OSError as exc:
                raise StoreError(f"cannot lock {self.path}: {exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the lock

    def _load(self) -> dict[str, Checkpoint]:
        try:
            with open(self.path, "rb") as f:
                raw = f.read(self.MAX_FILE_SIZE + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc
        try:
            if len(raw) > self.MAX_FILE_SIZE:
                raise ValueError("file too large")
            doc = json.loads(raw)
            if doc.get("version") != 1:
                raise ValueError("unknown version")
            out = {}
            for origin, item in doc["checkpoints"].items():
                cp = Checkpoint.parse(item["text"], hash_size=item["hash_size"])
                if cp.origin != origin:
                    raise ValueError("origin mismatch")
                out[origin] = cp
            return out
        except (ValueError, KeyError, TypeError, AttributeError, RegistryError) as exc:
            raise StoreError(f"{self.path} is not a checkpoint memory file: {exc}") from exc

    def _save(self, checkpoints: Mapping[str, Checkpoint]) -> None:
        doc = {
            "version": 1,
            "checkpoints": {
                origin: {"text": cp.to_text(), "hash_size": len(cp.root)}
                for origin, cp in sorted(checkpoints.items())
            },
        }
        data = json.dumps(doc, indent=1, sort_keys=True).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path}: {exc}") from exc

    def latest(self, origin: str) -> Checkpoint | None:
        with self._locked():
            return self._load().get(origin)

    def observe(
        self,
        checkpoint: Checkpoint,
        consistency_proof_from_latest: Sequence[bytes] | None = None,
        *,
        alg: HashAlg = SHA256,
    ) -> None:
        with self._locked():
            checkpoints = self._load()
            latest = checkpoints.get(checkpoint.origin)
            chosen = next_checkpoint(latest, checkpoint, consistency_proof_from_latest, alg)
            if chosen is not latest:
                checkpoints[checkpoint.origin] = chosen
                self._save(checkpoints)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
