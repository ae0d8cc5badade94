"""A client's view of one trusted registry: what it vouches for, checked, not believed.

Used by wallets and verifiers alike. It trusts the log by its keys (log key plus a
witness quorum), remembers the largest checkpoint it has seen (so a registry that
shows two different histories is caught: split view), and proves every answer it
relies on — anchors, revocations, admitted issuer and bank keys — against a
cosigned checkpoint. When it cannot reach the registry it fails closed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from vc.jose import PublicKey

from .checkpoint import Checkpoint
from .client import LocalRegistry, RegistryClient, open_registry
from .entries import AnchorEntry, IssuerKeyEntry, VerifierKeyEntry, decode_entry
from .errors import InconsistentCheckpoint, InvalidRange, InvalidReceipt, NotAnchored, RegistryError
from .merkle import leaf_hash, verify_inclusion
from .receipt import Receipt
from .trust import CheckpointMemory, TrustedLog, verify_checkpoint

ADMISSION_TTL = 300  # seconds between refreshes of the admitted-key lists
VERIFIED_CACHE = 1024  # verified checkpoint notes and accepted tree heads kept per view
ADMISSION_GRACE = 24 * 3600  # how long a list stays usable while the registry is down


class RegistryUnreachable(RegistryError):
    code = "registry_unavailable"
    default_message = "the registry could not be reached, so nothing it vouches for can be checked"


class KeyNotAdmitted(RegistryError):
    code = "key_not_admitted"
    default_message = "the key is not admitted on the registry"


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
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        # Verified, immutable artefacts, keyed by their exact bytes: checkpoint notes whose
        # signatures checked out, and tree heads the checkpoint memory already accepted.
        self._verified_lock = threading.Lock()
        self._notes: dict[str, Checkpoint] = {}
        self._accepted: dict[tuple[int, bytes], None] = {}

    @property
    def origin(self) -> str:
        return self.trusted.origin

    @property
    def online(self) -> bool:
        return self.url is not None

    def client(self) -> RegistryClient | LocalRegistry:
        if self.url is None:
            raise RegistryUnreachable("this registry is configured offline-only")
        if self._client is None:
            self._client = open_registry(self.url, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- checkpoints -------------------------------------------------------------

    def verified_checkpoint(self, note: str) -> Checkpoint:
        """:func:`verify_checkpoint` (log signature, witness quorum), once per exact note text."""
        with self._verified_lock:
            hit = self._notes.get(note)
        if hit is not None:
            return hit
        checkpoint = verify_checkpoint(note, self.trusted)
        with self._verified_lock:
            _bounded_put(self._notes, note, checkpoint)
        return checkpoint

    def observe(self, checkpoint: Checkpoint) -> None:
        """Remember ``checkpoint``; fetch the consistency proof a size change needs.

        A tree head this view already saw accepted needs no second look: it was proven
        consistent with the remembered history then, and that history only ever grows by
        consistency-proven steps."""
        head = (checkpoint.size, checkpoint.root)
        with self._verified_lock:
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
        with self._verified_lock:
            _bounded_put(self._accepted, head, None)

    def latest_checkpoint(self) -> Checkpoint:
        checkpoint = self.verified_checkpoint(self.client().checkpoint())
        self.observe(checkpoint)
        return checkpoint

    def verify_receipt(self, receipt: Receipt, expected_entry: bytes | None = None) -> Checkpoint:
        """:func:`hash_registry.receipt.verify_receipt`, step for step, with the checkpoint's
        signatures checked once per note text (many receipts share one checkpoint)."""
        if expected_entry is not None and receipt.entry != expected_entry:
            raise InvalidReceipt("the receipt is for another entry")
        checkpoint = self.verified_checkpoint(receipt.checkpoint)
        if receipt.index >= checkpoint.size:
            raise InvalidReceipt(
                f"index {receipt.index} is beyond the checkpoint's {checkpoint.size} leaves")
        verify_inclusion(receipt.index, checkpoint.size, leaf_hash(receipt.entry, self.trusted.alg),
                         receipt.inclusion_proof, checkpoint.root, self.trusted.alg)
        return checkpoint

    def check_included(self, index: int, encoded: bytes, checkpoint: Checkpoint) -> None:
        stored = self.client().entry(index)
        if stored.data != encoded:
            raise NotAnchored(f"registry entry {index} is not the expected one")
        proof = self.client().inclusion_proof(index, checkpoint.size)
        verify_inclusion(index, checkpoint.size, leaf_hash(encoded, self.trusted.alg),
                         proof.proof, checkpoint.root, self.trusted.alg)

    # --- anchors -----------------------------------------------------------------

    def prove_anchor(self, entry: AnchorEntry, receipt: Any | None,
                     *, look_up_revocation: bool = True) -> AnchorProof:
        """The credential's anchor is in the log under a cosigned checkpoint."""
        encoded = entry.encode()
        if receipt is not None:
            parsed = receipt if isinstance(receipt, Receipt) else Receipt.from_json(receipt)
            checkpoint = self.verify_receipt(parsed, encoded)
            self.observe(checkpoint)
            revoked = None
            if self.online and look_up_revocation:
                revoked = bool(self.client().lookup(entry.digest).revoked)
            return AnchorProof(parsed.index, checkpoint, "stapled receipt", revoked)
        status = self.client().lookup(entry.digest)
        if not status.anchored or status.index is None:
            raise NotAnchored("the credential is not anchored on the registry")
        checkpoint = self.latest_checkpoint()
        self.check_included(status.index, encoded, checkpoint)
        return AnchorProof(status.index, checkpoint, "registry lookup", status.revoked)

    def fresh_receipt(self, index: int) -> Receipt:
        """A receipt under the registry's latest cosigned checkpoint (for stapling)."""
        receipt = self.client().receipt(index)
        self.observe(self.verify_receipt(receipt))
        return receipt

    # --- admitted keys -------------------------------------------------------------

    def issuer_key_entry(self, issuer: str, key: PublicKey) -> IssuerKeyEntry:
        """The issuer-key entry admitting ``key`` for ``issuer``, proven in the log."""
        entry = self._admitted("issuer").get(key.thumbprint())
        if not isinstance(entry, IssuerKeyEntry) or entry.issuer != issuer:
            raise KeyNotAdmitted(
                f"the key {key.thumbprint()[:12]}… of {issuer} is not admitted on {self.origin}",
                code="issuer_key_not_on_registry")
        return entry

    def issuer_keys(self, issuer: str) -> list[IssuerKeyEntry]:
        return [e for e in self._admitted("issuer").values()
                if isinstance(e, IssuerKeyEntry) and e.issuer == issuer]

    def verifier_key_entry(self, client_id: str, key: PublicKey) -> VerifierKeyEntry:
        """The verifier-key entry binding ``client_id`` to ``key``, proven in the log."""
        entry = self._admitted("verifier").get(key.thumbprint())
        if not isinstance(entry, VerifierKeyEntry) or entry.client_id != client_id:
            raise KeyNotAdmitted(f"{client_id}'s request key is not admitted on {self.origin}",
                                 code="verifier_key_not_on_registry")
        return entry

    def admitted_verifier(self, thumbprint: str) -> VerifierKeyEntry | None:
        """The verifier-key entry for a key thumbprint (a request's ``kid``), if admitted."""
        entry = self._admitted("verifier").get(thumbprint)
        return entry if isinstance(entry, VerifierKeyEntry) else None

    def _admitted(self, kind: str) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(kind)
            if cached is not None and now - cached[0] < ADMISSION_TTL:
                return cached[1]
            try:
                fresh = self._fetch_admitted(kind)
            except RegistryError:
                if cached is not None and now - cached[0] < ADMISSION_GRACE:
                    return cached[1]
                raise
            self._cache[kind] = (now, fresh)
            return fresh

    def _fetch_admitted(self, kind: str) -> dict[str, Any]:
        checkpoint = self.latest_checkpoint()
        records = self.client().issuers() if kind == "issuer" else self.client().verifiers()
        wanted = IssuerKeyEntry if kind == "issuer" else VerifierKeyEntry
        out: dict[str, Any] = {}
        for record in records:
            index = record.get("index")
            if not isinstance(index, int) or index >= checkpoint.size:
                continue
            stored = self.client().entry(index)
            entry = decode_entry(stored.data)
            if not isinstance(entry, wanted):
                continue
            self.check_included(index, stored.data, checkpoint)
            out[PublicKey.from_jwk(entry.jwk).thumbprint()] = entry
        return out


def _bounded_put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if key not in cache and len(cache) >= VERIFIED_CACHE:
        cache.pop(next(iter(cache)))  # oldest first
    cache[key] = value
