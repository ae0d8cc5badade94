"""The hash registry's named errors.

Every rejection the registry, its witness and its clients make is one of these,
each with a stable ``code`` (part of the public contract: the HTTP service maps
them to status codes, CLIs print them, tests assert them).
"""

from __future__ import annotations

from vc.errors import SelfcarryError


class RegistryError(SelfcarryError):
    """Root of every error the hash registry raises on purpose."""

    code = "registry_error"
    default_message = "the hash registry operation failed"


class InvalidProof(RegistryError):
    """A Merkle inclusion or consistency proof does not verify (or is malformed)."""

    code = "invalid_proof"
    default_message = "the Merkle proof does not verify"


class InvalidRange(RegistryError):
    """An index or tree size outside the tree, or a range that is not a Merkle subtree."""

    code = "invalid_range"
    default_message = "the index or tree size is outside the tree"


class UnsupportedHashAlg(RegistryError):
    """The named hash algorithm is not one the registry implements."""

    code = "unsupported_hash_alg"
    default_message = "the hash algorithm is not supported"


class InvalidNote(RegistryError):
    """A signed note is malformed, too large, or a known key's signature fails."""

    code = "invalid_note"
    default_message = "the signed note is not valid"


class InvalidKey(InvalidNote):
    """A note verifier key (vkey) or signer key (skey) string is malformed."""

    code = "invalid_note_key"
    default_message = "the note key is malformed"


class InvalidCheckpoint(RegistryError):
    """The note text is not a well-formed tlog checkpoint, or not the expected log's."""

    code = "invalid_checkpoint"
    default_message = "the checkpoint is not valid"


class UnknownLogKey(RegistryError):
    """No known key signed the note (or the log's own key did not)."""

    code = "unknown_log_key"
    default_message = "the note is not signed by any known key"


class UnknownOrigin(UnknownLogKey):
    """The checkpoint's origin is not a log this party knows (tlog-witness: 404)."""

    code = "unknown_origin"
    default_message = "the checkpoint's origin is not a known log"


class WitnessQuorumNotMet(RegistryError):
    """Fewer distinct trusted witnesses cosigned the checkpoint than the quorum requires."""

    code = "witness_quorum_not_met"
    default_message = "the checkpoint lacks the required witness cosignatures"


class InconsistentCheckpoint(RegistryError):
    """A checkpoint not consistent with one seen before: evidence of a split view."""

    code = "split_view"
    default_message = "the checkpoint is not consistent with one seen before"


class InvalidEntry(RegistryError):
    """Log entry bytes (or fields) that are not a canonical entry."""

    code = "invalid_entry"
    default_message = "the log entry is not valid"


class InvalidReceipt(RegistryError):
    """A registry receipt that is malformed or does not match the credential."""

    code = "invalid_receipt"
    default_message = "the registry receipt is not valid"


class NotAnchored(RegistryError):
    """The credential's digest is not in the log."""

    code = "not_anchored"
    default_message = "the credential is not anchored in the registry"


class Revoked(RegistryError):
    """The log holds a revocation entry for the credential."""

    code = "revoked"
    default_message = "the credential has been revoked"


class Unauthorized(RegistryError):
    """The caller may not perform this operation (e.g. an issuer not admitted)."""

    code = "unauthorized"
    default_message = "the caller is not authorised for this operation"


class NotFound(RegistryError):
    """The requested entry, node or checkpoint does not exist."""

    code = "not_found"
    default_message = "not found"


class StoreError(RegistryError):
    """The storage layer failed (I/O, database, corruption)."""

    code = "store_error"
    default_message = "the registry store failed"


class WitnessRefused(RegistryError):
    """The witness will not cosign (tlog-witness: 400 unless a subclass says otherwise).

    ``current_size`` is set when the witness tells the caller the size it last
    cosigned, so the caller can retry with the right ``old`` size.
    """

    code = "witness_refused"
    default_message = "the witness refused to cosign the checkpoint"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        current_size: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.current_size = current_size

    def to_dict(self) -> dict[str, str]:
        out = super().to_dict()
        if self.current_size is not None:
            out["current_size"] = str(self.current_size)
        return out


class WitnessConflict(WitnessRefused):
    """The caller's old size is not the size the witness last cosigned (tlog-witness: 409).

    ``current_size`` is always set: it is the body of tlog-witness's 409 response.
    """

    code = "witness_conflict"
    default_message = "the old size does not match the witness's latest cosigned size"

    def __init__(self, current_size: int, message: str | None = None) -> None:
        super().__init__(
            message or f"the witness last cosigned size {current_size}", current_size=current_size
        )


class WitnessSplitView(WitnessRefused, InconsistentCheckpoint):
    """Same size, different root than the witness cosigned (tlog-witness: 409).

    Both a refusal and split-view evidence: catchable as either.
    """

    code = "split_view"
    default_message = "the checkpoint has a different root than the one the witness cosigned"
