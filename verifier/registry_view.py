"""What the verifier knows about one trusted registry, and how it asks it.

The verifier trusts a log by its keys (log key + witness quorum) and remembers the
largest checkpoint it has seen (split-view detection). It contacts the registry —
the only network peer besides the status endpoint a decision may depend on — for
lookups and consistency proofs, and fails closed when it cannot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hash_registry.checkpoint import Checkpoint
from hash_registry.client import LocalRegistry, RegistryClient, open_registry
from hash_registry.entries import AnchorEntry, IssuerKeyEntry, decode_entry
from hash_registry.errors import (
    InconsistentCheckpoint,
    InvalidRange,
    InvalidReceipt,
    RegistryError,
)
from hash_registry.merkle import leaf_hash, verify_inclusion
from hash_registry.receipt import Receipt
from hash_registry.trust import CheckpointMemory, TrustedLog, verify_checkpoint
from vc.jose import PublicKey

from .errors import VerifierError

ADMISSION_TTL = 300  # seconds between refreshes of the admitted-issuer list
ADMISSION_GRACE = 24 * 3600  # how long a list stays usable while the registry is down
VERIFIED_CACHE = 256  # checkpoint notes (by exact text) and accepted tree heads remembered


class RegistryCheckFailed(VerifierError):
    code = "registry_check_failed"
    default_message = "the registry does not vouch for this credential"


@dataclass(frozen=True)
class AnchorProof:
    index: int
    checkpoint: Checkpoint
    source: str  # "stapled receipt" or "registry lookup"
    revoked: bool | None  # None: not looked up (offline)


class RegistryView:
    def __init__(self, trusted: TrustedLog, url: str | None, memory: CheckpointMemory,
                 *, timeout: float = 5.0) -> None:
        self.trusted = trusted
        self.url = url
        self.memory = memory
        self.timeout = timeout
        self._client: RegistryClient | LocalRegistry | None = None
        self._lock = threading.Lock()
        self._admitted: tuple[float, dict[str, dict[str, Any]]] | None = None
        # Verified, immutable artefacts, keyed by their exact bytes: a checkpoint note whose
        # signatures checked out, and tree heads the checkpoint memory already accepted.
        self._cache_lock = threading.Lock()
        self._notes: dict[str, Checkpoint] = {}
        self._accepted: dict[tuple[int, bytes], None] = {}

    @property
    def origin(self) -> str:
        return self.trusted.origin

    def client(self) -> RegistryClient | LocalRegistry:
        if self.url is None:
            raise VerifierError("this registry is configured offline-only",
                                code="registry_unavailable")
        if self._client is None:
            self._client = open_registry(self.url, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # --- checkpoints -------------------------------------------------------------

    def verified_checkpoint(self, note: str) -> Checkpoint:
        """:func:`verify_checkpoint` (log signature, witness quorum), once per exact note text."""
        with self._cache_lock:
            hit = self._notes.get(note)
        if hit is not None:
            return hit
        checkpoint = verify_checkpoint(note, self.trusted)
        with self._cache_lock:
            _bounded_put(self._notes, note, checkpoint)
        return checkpoint

    def observe(self, checkpoint: Checkpoint) -> None:
        """Remember ``checkpoint``; fetch the consistency proof a size change needs.

        A tree head this view already saw accepted needs no second look: it was proven
        consistent with the remembered history then, and that history only ever grows by
        consistency-proven steps."""
        head = (checkpoint.size, checkpoint.root)
        with self._cache_lock:
            if head in self._accepted:
                return
        latest = self.memory.latest(self.origin)
        proof = None
        if latest is not None and latest.size != checkpoint.size and min(
                latest.size, checkpoint.size) > 0:
            old, new = sorted((latest.size, checkpoint.size))
            try:
                proof = self.client().consistency_proof(old, new).proof
            except InvalidRange as exc:
                # The log signed (and a witness cosigned) a tree it does not serve us: it
                # shows another history elsewhere. Append-only logs never shrink.
                raise InconsistentCheckpoint(
                    f"the log signed a checkpoint of size {new} for {self.origin} but cannot "
                    f"prove it consistent with size {old} ({exc.message})") from exc
        self.memory.observe(checkpoint, proof, alg=self.trusted.alg)
        with self._cache_lock:
            _bounded_put(self._accepted, head, None)

    def latest_checkpoint(self) -> Checkpoint:
        checkpoint = self.verified_checkpoint(self.client().checkpoint())
        self.observe(checkpoint)
        return checkpoint

    # --- anchors -----------------------------------------------------------------

    def prove_anchor(self, entry: AnchorEntry, receipt: dict[str, Any] | None) -> AnchorProof:
        """The credential's anchor is in the log under a cosigned checkpoint."""
        encoded = entry.encode()
        if receipt is not None:
            parsed = Receipt.from_json(receipt)
            checkpoint = self._verify_receipt(parsed, encoded)
            self.observe(checkpoint)
            revoked = None
            if self.url is not None:
                revoked = self._revoked(entry)
            return AnchorProof(parsed.index, checkpoint, "stapled receipt", revoked)
        status = self.client().lookup(entry.digest)
        if not status.anchored or status.index is None:
            raise RegistryCheckFailed("the credential is not anchored on the registry",
                                      code="not_anchored")
        checkpoint = self.latest_checkpoint()
        self._check_included(status.index, encoded, checkpoint)
        return AnchorProof(status.index, checkpoint, "registry lookup", status.revoked)

    def _verify_receipt(self, receipt: Receipt, expected_entry: bytes) -> Checkpoint:
        """:func:`hash_registry.receipt.verify_receipt`, step for step, with the checkpoint's
        signatures checked once per note text (many receipts share one checkpoint)."""
        if receipt.entry != expected_entry:  # our own canonical encoding: no decode needed
            raise InvalidReceipt("the receipt is for another entry")
        checkpoint = self.verified_checkpoint(receipt.checkpoint)
        if receipt.index >= checkpoint.size:
            raise InvalidReceipt(
                f"index {receipt.index} is beyond the checkpoint's {checkpoint.size} leaves")
        verify_inclusion(receipt.index, checkpoint.size, leaf_hash(receipt.entry, self.trusted.alg),
                         receipt.inclusion_proof, checkpoint.root, self.trusted.alg)
        return checkpoint

    def _revoked(self, entry: AnchorEntry) -> bool:
        return bool(self.client().lookup(entry.digest).revoked)

    def _check_included(self, index: int, encoded: bytes, checkpoint: Checkpoint) -> None:
        stored = self.client().entry(index)
        if stored.data != encoded:
            raise RegistryCheckFailed("the registry entry does not match this credential",
                                      code="not_anchored")
        proof = self.client().inclusion_proof(index, checkpoint.size)
        verify_inclusion(index, checkpoint.size, leaf_hash(encoded, self.trusted.alg),
                         proof.proof, checkpoint.root, self.trusted.alg)

    # --- admitted issuer keys ------------------------------------------------------

    def issuer_key_entry(self, issuer: str, key: PublicKey) -> IssuerKeyEntry:
        """The issuer-key entry admitting ``key`` for ``issuer``, proven in the log."""
        kid = key.thumbprint()
        admitted = self._admitted_issuers()
        record = admitted.get(kid)
        if record is None or record.get("issuer") != issuer:
            raise RegistryCheckFailed(
                f"the key {kid[:12]}… of {issuer} is not admitted on registry {self.origin}",
                code="issuer_key_not_on_registry")
        return record["_entry"]  # type: ignore[no-any-return]

    def _admitted_issuers(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            cached = self._admitted
            if cached is not None and now - cached[0] < ADMISSION_TTL:
                return cached[1]
            try:
                fresh = self._fetch_admitted()
            except (RegistryError, VerifierError):
                if cached is not None and now - cached[0] < ADMISSION_GRACE:
                    return cached[1]
                raise
            self._admitted = (now, fresh)
            return fresh

    def _fetch_admitted(self) -> dict[str, dict[str, Any]]:
        checkpoint = self.latest_checkpoint()
        out: dict[str, dict[str, Any]] = {}
        for record in self.client().issuers():
            index = record.get("index")
            if not isinstance(index, int) or index >= checkpoint.size:
                continue
            stored = self.client().entry(index)
            entry = decode_entry(stored.data)
            if not isinstance(entry, IssuerKeyEntry):
                continue
            self._check_included(index, stored.data, checkpoint)
            out[PublicKey.from_jwk(entry.jwk).thumbprint()] = {
                "issuer": entry.issuer, "_entry": entry}
        return out


def _bounded_put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if key not in cache and len(cache) >= VERIFIED_CACHE:
        cache.pop(next(iter(cache)))  # oldest first
    cache[key] = value


def open_view(trusted: TrustedLog, url: str | None, memory_path: Path,
              memory: CheckpointMemory | None = None) -> RegistryView:
    from hash_registry.trust import FileCheckpointMemory

    return RegistryView(trusted, url, memory or FileCheckpointMemory(memory_path))
