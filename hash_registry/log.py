"""The log: appends entries, publishes witnessed checkpoints, answers lookups and proofs.

An append is one store transaction (entries, tree, indexes, and the log-signed
checkpoint of the new size). Publishing follows: the log asks each witness to
cosign that checkpoint, passing the consistency proof from the size the witness
last saw, and stores the cosigned note. Network I/O never happens inside a
database transaction; a crash between the two steps leaves a signed checkpoint
that agrees with the leaves, and the next publish finishes the job.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vc.errors import JoseError, LimitExceeded
from vc.jose import PublicKey, decode_compact, verify_compact

from .checkpoint import Checkpoint
from .entries import (
    AnchorEntry,
    Entry,
    IssuerKeyEntry,
    RevocationEntry,
    VerifierKeyEntry,
    decode_entry,
)
from .errors import (
    InconsistentCheckpoint,
    InvalidEntry,
    InvalidRange,
    NotAnchored,
    NotFound,
    RegistryError,
    StoreError,
    Unauthorized,
    WitnessConflict,
    WitnessQuorumNotMet,
)
from .merkle import (
    HashAlg,
    NodeReader,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    tree_root,
    tree_root_nodes,
)
from .note import (
    CosignatureVerifier,
    NoteSigner,
    add_signature_lines,
    b64std_decode,
    open_note,
    split_note,
)
from .receipt import Receipt
from .store import (
    KeyRecord,
    Lookup,
    NewEntry,
    Nonce,
    Store,
    digest_prefix,
    group_by_prefix,
)

PUBLISH_TIMEOUT_S = 60.0
"""How long :meth:`Log.publish` keeps retrying while other instances race it to the witnesses."""
ISSUER = "issuer"
VERIFIER = "verifier"
APPEND_TYP = "registry-append+jwt"
APPEND_ALGS = frozenset({"ES256", "EdDSA", "Ed25519"})
APPEND_WINDOW_S = 300
"""An append request's ``iat`` may be this far from our clock; its ``jti`` is kept twice as long."""
MAX_APPEND_TOKEN = 4 * 1024 * 1024
MAX_APPEND_ENTRIES = 10_000


class AlreadyAnchored(RegistryError):
    code = "already_anchored"
    default_message = "that credential digest is already anchored"


class AlreadyRevoked(RegistryError):
    code = "already_revoked"
    default_message = "that credential is already revoked"


class AuthenticationFailed(Unauthorized):
    """The append request does not prove who sent it (HTTP 401)."""

    code = "authentication_failed"
    default_message = "the request is not validly signed by an admitted key"


class Forbidden(Unauthorized):
    """The sender is known but may not do this (HTTP 403)."""

    code = "forbidden"
    default_message = "the caller may not perform this operation"


class WitnessEndpoint(Protocol):
    """A witness the log asks for cosignatures: in-process or over HTTP."""

    @property
    def name(self) -> str: ...

    @property
    def vkey(self) -> str: ...

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str) -> str:
        """The cosignature line(s) for ``note``; raises ``WitnessConflict`` & co."""
        ...


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class LogEntry:
    index: int
    data: bytes
    leaf_hash: bytes

    def decode(self) -> Entry:
        return decode_entry(self.data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": b64(self.data),
            "leaf_hash": b64(self.leaf_hash),
            "decoded": self.decode().to_dict(),
        }


@dataclass(frozen=True)
class DigestStatus:
    """What the log says about one credential digest."""

    digest: bytes
    anchored: bool
    index: int | None = None
    issuer: str | None = None
    revoked: bool = False
    revocation_index: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest.hex(),
            "anchored": self.anchored,
            "index": self.index,
            "issuer": self.issuer,
            "revoked": self.revoked,
            "revocation_index": self.revocation_index,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    proof: list[bytes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": b64(self.leaf_hash),
            "root": b64(self.root),
            "proof": [b64(h) for h in self.proof],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": b64(self.old_root),
            "new_root": b64(self.new_root),
            "proof": [b64(h) for h in self.proof],
        }


@dataclass(frozen=True)
class Appended:
    indices: list[int]
    tree_size: int
    checkpoint: str

    def to_dict(self) -> dict[str, Any]:
        return {"indices": self.indices, "tree_size": self.tree_size, "checkpoint": self.checkpoint}


@dataclass(frozen=True)
class Admitted:
    """One key of an admission: its thumbprint, log index, and whether it is new."""

    thumbprint: str
    index: int
    new: bool

    def to_dict(self) -> dict[str, Any]:
        return {"kid": self.thumbprint, "index": self.index, "new": self.new}


def status_from(candidates: Iterable[tuple[int, bytes]], digest: bytes) -> DigestStatus:
    """Fold the entries indexed under a digest prefix into the digest's status."""
    anchor: tuple[int, AnchorEntry] | None = None
    revocation: tuple[int, RevocationEntry] | None = None
    for index, data in candidates:
        try:
            entry = decode_entry(data)
        except InvalidEntry as exc:
            raise StoreError(f"entry {index} in the store does not decode: {exc.message}") from exc
        if isinstance(entry, AnchorEntry) and entry.digest == digest and anchor is None:
            anchor = (index, entry)
        elif isinstance(entry, RevocationEntry) and entry.digest == digest and revocation is None:
            revocation = (index, entry)
    return DigestStatus(
        digest,
        anchored=anchor is not None,
        index=anchor[0] if anchor else None,
        issuer=anchor[1].issuer if anchor else None,
        revoked=revocation is not None,
        revocation_index=revocation[0] if revocation else None,
        reason=revocation[1].reason if revocation else None,
    )


def jwk_json(jwk: Mapping[str, Any]) -> str:
    return json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"))


class Log:
    """A witnessed, append-only Merkle log over a :class:`~hash_registry.store.Store`."""

    def __init__(
        self,
        store: Store,
        log_signer: NoteSigner,
        origin: str,
        witnesses: Sequence[WitnessEndpoint] = (),
        hash_alg: HashAlg | None = None,
        *,
        quorum: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hash_alg = hash_alg or store.hash_alg
        if self.hash_alg.name != store.hash_alg.name:
            raise StoreError("the log and its store use different hash algorithms")
        if log_signer.name != origin:
            raise RegistryError(
                f"the log key is named {log_signer.name!r}, not the origin {origin!r}",
                code="log_misconfigured",
            )
        Checkpoint(origin, 0, b"\0")  # validates the origin line
        self.origin = origin
        self.signer = log_signer
        self.witnesses = list(witnesses)
        self.quorum = len(self.witnesses) if quorum is None else quorum
        if not 0 <= self.quorum <= len(self.witnesses):
            raise RegistryError("the quorum exceeds the witnesses", code="log_misconfigured")
        self._clock = clock
        self._publish_lock = threading.Lock()
        self._witness_sizes: dict[str, int] = {}

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    def close(self) -> None:
        for w in self.witnesses:
            closer = getattr(w, "close", None) or getattr(getattr(w, "state", None), "close", None)
            if callable(closer):
                closer()
        self.store.close()

    def now(self) -> int:
        return int(self._clock())

    # --- signing and publishing -------------------------------------------------

    def _sign(self, size: int, root: bytes) -> str:
        text = Checkpoint(self.origin, size, root).to_text()
        return text + "\n" + self.signer.sign(text)

    def publish(self) -> str:
        """The latest checkpoint, cosigned by the witness quorum (asking them if needed)."""
        with self._publish_lock:
            deadline = time.monotonic() + PUBLISH_TIMEOUT_S
            backoff = 0.005
            while True:
                st = self.store.state()
                if st.signed_note is None:
                    self.store.append_batch([], sign=self._sign)
                    continue
                if st.cosigned_note is not None and (st.cosigned_size or 0) >= st.size:
                    return st.cosigned_note
                note = self._cosign(st.size, st.cosigned_size or 0, st.signed_note)
                if note is not None:
                    self.store.save_cosigned(st.size, note)
                    continue
                # Another instance moved a witness past what we read: re-read and retry.
                if time.monotonic() > deadline:
                    raise WitnessQuorumNotMet("the witnesses did not settle on a checkpoint")
                time.sleep(backoff * (1 + secrets.randbelow(100) / 100))
                backoff = min(backoff * 2, 0.2)

    def _cosign(self, size: int, cosigned_size: int, signed_note: str) -> str | None:
        if not self.witnesses:
            return signed_note
        lines: list[str] = []
        failures: list[str] = []
        ahead = False
        for w in self.witnesses:
            try:
                lines.extend(self._ask(w, size, cosigned_size, signed_note))
            except _WitnessAhead:
                ahead = True
            except InconsistentCheckpoint:
                raise
            except RegistryError as exc:
                failures.append(f"{w.name}: {exc}")
        if len(lines) >= self.quorum:
            return add_signature_lines(signed_note, lines)
        if ahead:
            return None
        raise WitnessQuorumNotMet(
            f"{len(lines)} of {self.quorum} witness cosignatures; " + "; ".join(failures)
        )

    def _ask(self, w: WitnessEndpoint, size: int, cosigned_size: int, note: str) -> list[str]:
        old = self._witness_sizes.get(w.name, cosigned_size)
        for _ in range(3):
            if old > size:
                raise _WitnessAhead()
            proof = self._consistency_hashes(old, size)
            try:
                body = w.add_checkpoint(old, proof, note)
            except WitnessConflict as exc:
                if exc.current_size is None or exc.current_size == old:
                    raise
                old = exc.current_size
                self._witness_sizes[w.name] = old
                continue
            self._witness_sizes[w.name] = size
            return _cosignature_lines(note, body, w.vkey)
        raise _WitnessAhead()  # contention: it keeps moving; the caller re-reads and retries

    def _consistency_hashes(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(old, new, self.store.node_reader(), self.hash_alg)

    # --- appending ----------------------------------------------------------------

    def append(self, entry: Entry) -> int:
        return self.append_batch([entry]).indices[0]

    def append_batch(
        self,
        entries: Sequence[Entry],
        *,
        nonce: Nonce | None = None,
        revoker: str | None = None,
    ) -> Appended:
        """Append atomically, then publish; ``revoker`` limits revocations to its anchors."""
        new: list[NewEntry] = []
        keys: list[KeyRecord] = []
        for pos, e in enumerate(entries):
            if isinstance(e, AnchorEntry | RevocationEntry):
                new.append(NewEntry(e.encode(), e.digest))
            elif isinstance(e, IssuerKeyEntry):
                new.append(NewEntry(e.encode()))
                keys.append(KeyRecord(ISSUER, _kid(e.thumbprint), e.issuer, jwk_json(e.jwk), pos))
            elif isinstance(e, VerifierKeyEntry):
                new.append(NewEntry(e.encode()))
                keys.append(
                    KeyRecord(
                        VERIFIER, _kid(e.thumbprint), e.client_id, jwk_json(e.jwk), pos, e.name
                    )
                )
            else:
                raise InvalidEntry(f"not a log entry: {type(e).__name__}")
        result = self.store.append_batch(
            new,
            sign=self._sign,
            keys=keys,
            nonce=nonce,
            precheck=_Precheck(entries, revoker),
        )
        try:
            note = self.publish()
        except RegistryError as exc:
            if result.count:
                exc.message = (
                    f"appended at indices {result.first_index}..{result.size - 1}, "
                    f"but not yet published: {exc.message}"
                )
                exc.args = (exc.message,)
            raise
        return Appended(result.indices, result.size, note)

    def append_signed(self, token: str, *, now: int | None = None) -> Appended:
        """Append for an admitted issuer from its signed request (``typ`` registry-append+jwt).

        Checks, in order: the JWS's ``kid`` names an admitted issuer key; the
        signature verifies with that key (ES256/EdDSA, ``typ``); ``iss`` is that
        key's issuer; ``aud`` is this log; ``iat`` is within the window; every entry
        is an anchor naming the issuer or a revocation (of its own anchors, checked
        under the write lock); the ``jti`` is unused (recorded in the same transaction).
        """
        now = self.now() if now is None else now
        if not isinstance(token, str):
            raise AuthenticationFailed("the request body must be a compact JWS")
        try:
            jws = decode_compact(token.strip(), max_bytes=MAX_APPEND_TOKEN)
        except LimitExceeded:
            raise
        except JoseError as exc:
            raise AuthenticationFailed(f"the request is not a compact JWS: {exc.message}") from exc
        kid = jws.header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationFailed("the request's JWS header names no kid", code="missing_kid")
        record = self.store.key(ISSUER, kid)
        if record is None:
            raise Forbidden(
                f"key {kid[:64]} is not an admitted issuer key", code="issuer_not_admitted"
            )
        verified = verify_compact(
            jws, PublicKey.from_jwk(json.loads(record.jwk)), algs=APPEND_ALGS, typ=APPEND_TYP
        )
        claims = verified.claims()
        if claims.get("iss") != record.subject:
            raise Forbidden(
                "iss is not the issuer this key was admitted for", code="issuer_mismatch"
            )
        aud = claims.get("aud")
        if aud != self.origin and not (isinstance(aud, list) and self.origin in aud):
            raise AuthenticationFailed(
                f"the request is not addressed to {self.origin}", code="wrong_audience"
            )
        iat = claims.get("iat")
        if type(iat) is not int or abs(iat - now) > APPEND_WINDOW_S:
            raise AuthenticationFailed(
                "iat is missing or outside the acceptance window", code="stale_request"
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
            raise AuthenticationFailed(
                "jti must be a string of 8-128 characters", code="missing_jti"
            )
        entries = _request_entries(claims.get("entries"), record.subject)
        nonce = Nonce(record.subject, jti, now + 2 * APPEND_WINDOW_S, now)
        return self.append_batch(entries, nonce=nonce, revoker=record.subject)

    def admit_issuer(self, metadata: Mapping[str, Any]) -> list[Admitted]:
        """Admit every key of a JWT VC Issuer Metadata document ``{issuer, jwks: {keys}}``."""
        issuer = _str_field(metadata, "issuer")
        return self._admit(ISSUER, issuer, "", _jwks(metadata))

    def admit_verifier(self, identity: Mapping[str, Any]) -> list[Admitted]:
        """Admit every key of a verifier identity document ``{client_id, name, jwks}``."""
        client_id = _str_field(identity, "client_id")
        name = identity.get("name") or client_id
        if not isinstance(name, str):
            raise InvalidEntry("the verifier name must be a string")
        return self._admit(VERIFIER, client_id, name, _jwks(identity))

    def _admit(self, kind: str, subject: str, name: str, jwks: list[Any]) -> list[Admitted]:
        now = self.now()
        out: dict[str, Admitted] = {}
        todo: list[Entry] = []
        for jwk in jwks:
            public = PublicKey.from_jwk(_public_only(jwk)).to_jwk()
            entry: IssuerKeyEntry | VerifierKeyEntry
            if kind == ISSUER:
                entry = IssuerKeyEntry.for_jwk(subject, public, now)
            else:
                entry = VerifierKeyEntry.for_jwk(subject, public, name, now)
            kid = _kid(entry.thumbprint)
            existing = self.store.key(kind, kid)
            if existing is not None:
                if existing.subject != subject:
                    raise Forbidden(
                        f"key {kid} is already admitted for {existing.subject!r}",
                        code="key_already_admitted",
                    )
                out[kid] = Admitted(kid, existing.position, False)
            elif kid not in out:
                out[kid] = Admitted(kid, -1, True)
                todo.append(entry)
        if todo:
            appended = self.append_batch(todo)
            fresh = [k for k, a in out.items() if a.new]
            for kid, index in zip(fresh, appended.indices, strict=True):
                out[kid] = Admitted(kid, index, True)
        return list(out.values())

    # --- reads --------------------------------------------------------------------

    def size(self) -> int:
        return self.store.state().size

    def checkpoint(self) -> str:
        """The latest cosigned checkpoint (a signed note)."""
        st = self.store.state()
        if st.cosigned_note is not None:
            return st.cosigned_note
        return self.publish()

    def checkpoint_size(self) -> int:
        return self._tree(None)[0]

    def entry(self, index: int) -> LogEntry:
        _check_index(index, "index")
        if index >= self.size():
            raise NotFound(f"no entry {index}")
        data = self.store.entries(index, index + 1)[0]
        return LogEntry(index, data, leaf_hash(data, self.hash_alg))

    def lookup(self, digest: bytes) -> DigestStatus:
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise InvalidEntry("a credential digest is 32 bytes")
        return status_from(self.store.find_digest(digest), digest)

    def _tree(self, size: int | None) -> tuple[int, bytes | None]:
        """``(tree size, its root if already known)``: the published checkpoint's by default."""
        if size is None:
            text, _ = split_note(self.checkpoint())
            cp = Checkpoint.parse(text, hash_size=self.hash_alg.digest_size)
            return cp.size, cp.root
        _check_index(size, "size")
        st = self.store.state()
        if size > st.size:
            raise InvalidRange(f"tree size {size} is beyond the log ({st.size} entries)")
        return size, st.root if size == st.size else None

    def _reader(self, nodes: Sequence[tuple[int, int]]) -> NodeReader:
        """A node reader with everything ``nodes`` need fetched up front (one round trip)."""
        read = self.store.node_reader()
        prefetch = getattr(read, "prefetch", None)
        if callable(prefetch):
            prefetch(nodes)
        return read

    def root(self, size: int) -> bytes:
        tree_size, root = self._tree(size)
        if root is not None:
            return root
        return tree_root(tree_size, self._reader(tree_root_nodes(tree_size)), self.hash_alg)

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        tree_size, root = self._tree(size)
        _check_index(index, "index")
        if index >= tree_size:
            raise InvalidRange(f"leaf index {index} is not below tree size {tree_size}")
        nodes = [*inclusion_proof_nodes(index, tree_size), (0, index)]
        read = self._reader(nodes if root is not None else nodes + tree_root_nodes(tree_size))
        path = inclusion_proof(index, tree_size, read, self.hash_alg)
        if root is None:
            root = tree_root(tree_size, read, self.hash_alg)
        return InclusionProof(index, tree_size, read(0, index), root, path)

    def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        new_size, new_root = self._tree(new)
        _check_index(old, "old")
        if old > new_size:
            raise InvalidRange(f"old size {old} is larger than new size {new_size}")
        nodes = [*consistency_proof_nodes(old, new_size), *tree_root_nodes(old)]
        read = self._reader(nodes if new_root is not None else nodes + tree_root_nodes(new_size))
        if new_root is None:
            new_root = tree_root(new_size, read, self.hash_alg)
        return ConsistencyProof(
            old,
            new_size,
            tree_root(old, read, self.hash_alg),
            new_root,
            consistency_proof(old, new_size, read, self.hash_alg),
        )

    def receipt(self, index: int) -> Receipt:
        """Entry, inclusion proof and the latest cosigned checkpoint it is proven under."""
        note = self.checkpoint()
        text, _ = split_note(note)
        size = Checkpoint.parse(text, hash_size=self.hash_alg.digest_size).size
        _check_index(index, "index")
        if index >= size:
            raise NotFound(f"entry {index} is not yet under a published checkpoint")
        read = self._reader([*inclusion_proof_nodes(index, size), (0, index)])
        path = inclusion_proof(index, size, read, self.hash_alg)
        data = self.store.entries(index, index + 1)[0]
        return Receipt(index, data, path, note)

    def keys_document(self) -> dict[str, Any]:
        """``{log: {origin, vkey}, witnesses: [{name, vkey}], hash_alg}`` (``keys --json``)."""
        return {
            "log": {"origin": self.origin, "vkey": self.vkey},
            "witnesses": [{"name": w.name, "vkey": w.vkey} for w in self.witnesses],
            "hash_alg": self.hash_alg.name,
        }

    def issuers(self) -> list[dict[str, Any]]:
        return [_key_dict(k) for k in self.store.keys(ISSUER)]

    def verifiers(self) -> list[dict[str, Any]]:
        return [_key_dict(k) for k in self.store.keys(VERIFIER)]

    def issuer_key(self, kid: str) -> KeyRecord | None:
        return self.store.key(ISSUER, kid)


class _WitnessAhead(Exception):
    """A witness has cosigned a larger tree than the one we are publishing."""


class _Precheck:
    """The append rules that need the log's state, run under the store's write lock."""

    def __init__(self, entries: Sequence[Entry], revoker: str | None) -> None:
        self.entries = entries
        self.revoker = revoker

    def __call__(self, lookup: Lookup) -> None:
        digests = [e.digest for e in self.entries if isinstance(e, AnchorEntry | RevocationEntry)]
        if not digests:
            return
        known = group_by_prefix(lookup(digests), _digest_of)

        def status(digest: bytes) -> DigestStatus:
            return status_from(known.get(digest_prefix(digest), []), digest)

        anchored: dict[bytes, str] = {}
        revoked: set[bytes] = set()
        for e in self.entries:
            if isinstance(e, AnchorEntry):
                if e.digest in anchored or status(e.digest).anchored:
                    raise AlreadyAnchored(f"digest {e.digest.hex()} is already anchored")
                anchored[e.digest] = e.issuer
            elif isinstance(e, RevocationEntry):
                st = status(e.digest)
                issuer = st.issuer if st.anchored else anchored.get(e.digest)
                if issuer is None:
                    raise NotAnchored(f"digest {e.digest.hex()} is not anchored")
                if st.revoked or e.digest in revoked:
                    raise AlreadyRevoked(f"digest {e.digest.hex()} is already revoked")
                if self.revoker is not None and issuer != self.revoker:
                    raise Forbidden(
                        "an issuer may revoke only credentials it anchored", code="not_your_anchor"
                    )
                revoked.add(e.digest)


def _digest_of(data: bytes) -> bytes | None:
    try:
        entry = decode_entry(data)
    except InvalidEntry as exc:
        raise StoreError(f"a stored entry does not decode: {exc.message}") from exc
    return entry.digest if isinstance(entry, AnchorEntry | RevocationEntry) else None


def _request_entries(raw: Any, issuer: str) -> list[Entry]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_APPEND_ENTRIES:
        raise InvalidEntry(f"entries must be a list of 1-{MAX_APPEND_ENTRIES} base64 strings")
    out: list[Entry] = []
    for i, item in enumerate(raw):
        data = b64std_decode(item, what=f"entry {i}", error=InvalidEntry)
        entry = decode_entry(data)
        if isinstance(entry, AnchorEntry):
            if entry.issuer != issuer:
                raise Forbidden(f"entry {i} anchors for another issuer", code="issuer_mismatch")
        elif not isinstance(entry, RevocationEntry):
            raise Forbidden(
                f"entry {i}: issuers may append only anchors and revocations",
                code="entry_not_allowed",
            )
        out.append(entry)
    return out


def _cosignature_lines(note: str, body: str, vkey: str) -> list[str]:
    """The witness's own cosignature line(s) in its answer, verified before we publish them."""
    verifier = CosignatureVerifier.from_vkey(vkey)
    merged = add_signature_lines(note, _signature_lines(body))
    open_note(merged, [verifier])  # raises unless the witness's key signed it, validly
    ours = (verifier.name, verifier.key_id)
    return [sig.line for sig in split_note(merged)[1] if (sig.name, sig.key_id) == ours]


def _signature_lines(body: str) -> list[str]:
    lines = [line + "\n" for line in body.split("\n") if line.strip()]
    if not lines:
        raise WitnessQuorumNotMet("the witness returned no cosignature")
    return lines


def _kid(thumbprint: bytes) -> str:
    return base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode("ascii")


def _check_index(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise InvalidRange(f"{what} must be a non-negative integer")
    return value


def _str_field(doc: Mapping[str, Any], name: str) -> str:
    if not isinstance(doc, Mapping):
        raise InvalidEntry("the document must be a JSON object")
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEntry(f"the document lacks a string {name!r}")
    return value


def _jwks(doc: Mapping[str, Any]) -> list[Any]:
    jwks = doc.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys or len(keys) > 100:
        raise InvalidEntry("the document needs jwks.keys: a list of 1-100 JWKs")
    return keys


def _public_only(jwk: Any) -> dict[str, Any]:
    if not isinstance(jwk, Mapping):
        raise InvalidEntry("a JWK must be a JSON object")
    if "d" in jwk:
        raise InvalidEntry("the JWK holds private key material")
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}


def _key_dict(k: KeyRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": k.kind,
        "kid": k.thumbprint,
        "jwk": json.loads(k.jwk),
        "index": k.position,
    }
    if k.kind == ISSUER:
        out["issuer"] = k.subject
    else:
        out["client_id"] = k.subject
        out["name"] = k.name
    return out
