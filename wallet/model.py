"""What the wallet shows a resident: plain data, shared by the CLI and the TUI.

Nothing here does I/O; :class:`wallet.api.Wallet` produces these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Provenance:
    """Where a credential's anchor stands on the registry."""

    registry: str  # the log's origin
    index: int  # the anchor's position in the log
    checkpoint_size: int  # tree size of the checkpoint that proves it
    cosigners: tuple[str, ...]  # witnesses that cosigned that checkpoint


@dataclass(frozen=True)
class CredentialSummary:
    id: str
    issuer: str  # the CRA's identifier (iss)
    issuer_name: str  # e.g. "TransUnion Hong Kong (simulated)"
    cra: str | None  # profile id, e.g. "transunion-hk"
    vct: str
    issued_at: int
    expires_at: int
    anchored: bool  # the anchor was proven against a cosigned checkpoint
    revoked: bool | None  # None: status never checked
    status_checked_at: int | None
    expiring_soon: bool  # within 14 days
    shown_to: tuple[str, ...]  # client_ids this credential was presented to
    provenance: Provenance | None


@dataclass(frozen=True)
class ClaimNode:
    """One claim in the credential's tree, for the detail view."""

    path: tuple[str | int, ...]
    dotted: str  # CLI form, e.g. "ld.credentialSubject.score.grade"
    label: str  # last path component, human readable
    value: Any  # scalars as is; containers as None (their children follow)
    disclosable: bool  # has its own disclosure (the resident can show it alone)
    depth: int


@dataclass(frozen=True)
class CredentialDetail:
    summary: CredentialSummary
    claims: tuple[ClaimNode, ...]  # score and grade first, then the rest in document order


@dataclass(frozen=True)
class ClaimChoice:
    """A claim the bank asks for, with the value that would be shown."""

    path: tuple[str | int, ...]
    dotted: str
    value: Any
    required: bool


@dataclass(frozen=True)
class Candidate:
    """A stored credential that can answer the request."""

    credential_id: str
    issuer_name: str
    required: tuple[ClaimChoice, ...]
    optional: tuple[ClaimChoice, ...]


@dataclass(frozen=True)
class Warning:
    code: str  # over_request | linkable | unauthenticated | expiring_soon | expired_request
    message: str  # English sentence (the TUI translates by code)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestReview:
    """Everything the resident needs to decide: who asks, why, for what."""

    request_id: str
    client_id: str
    bank_name: str | None  # from the registry's verifier-key entry when authenticated
    authenticated: bool  # signed by a key the registry admitted for this client_id
    auth_detail: str
    purpose: str | dict[str, str] | None
    expires_at: int | None
    response_uri: str
    nonce: str
    dcql_query: dict[str, Any]
    candidates: tuple[Candidate, ...]
    warnings: tuple[Warning, ...]
    request_object: str  # the (signed) request object, kept for the record

    def purpose_text(self, language: str = "en") -> str:
        if isinstance(self.purpose, dict):
            for key in (language, language.split("-")[0], "en", "zh-Hans"):
                if key in self.purpose:
                    return self.purpose[key]
            return next(iter(self.purpose.values()), "")
        return self.purpose or ""


@dataclass(frozen=True)
class Preview:
    """Exactly what the bank will see: the disclosed claims, and the size on the wire."""

    credential_id: str
    disclosed: dict[str, Any]  # the claims as the bank will reconstruct them
    paths: tuple[str, ...]  # dotted paths released
    presentation_bytes: int


@dataclass(frozen=True)
class Delivery:
    """The result of answering a request."""

    outcome: str  # delivered | rejected_by_bank | failed | qr | saved
    presentation: str  # the SD-JWT+KB
    response: dict[str, Any]  # the direct_post form fields (vp_token, state, staples)
    bank_verdict: dict[str, Any] | None  # {verified, reason, ...} when the bank answered
    error: str | None  # reason code when delivery failed
    qr_codes: tuple[bytes, ...] = ()  # when delivered by QR: one code, or fountain frames


@dataclass(frozen=True)
class HistoryRow:
    time: int
    request_id: str
    client_id: str
    bank_name: str | None
    authenticated: bool
    purpose: str | None
    decision: str  # approved | declined
    outcome: str
    credential_id: str | None
    disclosed: tuple[str, ...]
    bank_verdict: dict[str, Any] | None
    receipt: str  # the signed consent receipt (compact JWS)
