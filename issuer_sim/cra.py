"""A credit reference agency: builds the report credential, anchors it, revokes it.

Every credential is anchored on the hash registry *before* it is handed out, and
comes with its registry receipt (index, inclusion proof, cosigned checkpoint), so
the holder and any verifier can check the anchor offline. Only hashes leave the
CRA for the registry: the anchor entry holds the digest of the issuer-signed JWT,
the issuer, a tag of the type and the validity period.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hash_registry.client import LocalRegistry, RegistryClient, open_registry
from hash_registry.entries import AnchorEntry, RevocationEntry, credential_digest_hex
from hash_registry.errors import RegistryError, Unauthorized
from hash_registry.receipt import Receipt
from vc.credit_report import VCT, Assessment, CreditReport, build_ld_claims
from vc.jose import PublicKey
from vc.sdjwt import Decoys
from vc.sdjwt_vc import issue_credential
from vc.status_list import Status, StatusList, build_status_list_token

from .assessment import assess
from .errors import IssuerError, NotAdmitted, UnknownCredential
from .home import issuer_dir, load_issuer
from .profiles import get_profile
from .reports import generate_report
from .state import IssuedRecord, IssuerState

# Decoy digests per `_sd` array: hide how many accounts, enquiries and records there are.
DECOYS = Decoys(1, 4)
REVOCATION_REASONS = frozenset({"unspecified", "key_compromise", "superseded", "data_error",
                                "consent_withdrawn"})


@dataclass(frozen=True)
class Issued:
    """An issued, anchored credential and the proof of its anchoring."""

    credential: str  # SD-JWT issuance serialization: <jwt>~<d1>~…~<dn>~
    receipt: Receipt
    digest: str  # hex SHA-256 of the issuer-signed JWT: the registry's key for it
    status_idx: int

    def to_json(self) -> dict[str, Any]:
        return {"credential": self.credential, "digest": self.digest,
                "status_idx": self.status_idx, "receipt": json.loads(self.receipt.to_json())}


def _stamp_report_time(report_json: dict[str, Any], now: int) -> None:
    """The report is produced now: its header times are the issuance time (HKT)."""
    hkt = datetime.fromtimestamp(now, UTC).astimezone(timezone(timedelta(hours=8)))
    header = report_json.get("report_header")
    if isinstance(header, dict):
        header["report_datetime"] = hkt.isoformat(timespec="seconds")
        header["enquiry_datetime"] = (hkt - timedelta(seconds=3)).isoformat(timespec="seconds")


class Cra:
    """One CRA, as configured under ``<home>/issuer``."""

    def __init__(self, home: Path, *, registry: RegistryClient | LocalRegistry | None = None):
        self.home = Path(home)
        self.config, self.key = load_issuer(self.home)
        self.profile = get_profile(self.config.cra)
        self.state = IssuerState(issuer_dir(self.home) / "issuer.db")
        self._registry = registry

    def close(self) -> None:
        self.state.close()
        if self._registry is not None:
            self._registry.close()

    def __enter__(self) -> Cra:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def issuer_id(self) -> str:
        return self.config.url

    @property
    def registry(self) -> RegistryClient | LocalRegistry:
        if self._registry is None:
            if not self.config.registry:
                raise IssuerError("this CRA has no registry configured (issuer-sim init "
                                  "--registry URL_OR_HOME)", code="no_registry")
            self._registry = open_registry(self.config.registry)
        return self._registry

    # --- metadata ------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """JWT VC Issuer Metadata: what `hash-registry admit-issuer` and verifiers read."""
        jwk = {**self.key.public_key().to_jwk(), "kid": self.config.kid, "use": "sig",
               "alg": self.key.alg}
        return {"issuer": self.issuer_id, "jwks": {"keys": [jwk]}}

    # --- issuance ------------------------------------------------------------------

    def report(self, seed: int, *, as_of: date | None = None) -> dict[str, Any]:
        return generate_report(seed, profile=self.config.cra, as_of=as_of)

    def build(
        self, report_json: dict[str, Any], holder_key: PublicKey, *, now: int, seed: int | None,
        status_idx: int,
    ) -> tuple[str, IssuedRecord]:
        """Sign (but neither record nor anchor) the credential for one report."""
        as_of = datetime.fromtimestamp(now, UTC).date()
        assessment = Assessment.from_mapping(assess(report_json, as_of=as_of))
        report = CreditReport.from_report_json(report_json, cra=self.config.cra)
        exp = now + self.config.credential_days * 86400
        ld = build_ld_claims(report, assessment, issuer=self.issuer_id,
                             valid_from=datetime.fromtimestamp(now, UTC),
                             valid_until=datetime.fromtimestamp(exp, UTC))
        idx = status_idx
        issued = issue_credential(
            {"ld": ld}, self.key, issuer=self.issuer_id, vct=VCT, iat=now, exp=exp,
            holder_key=holder_key, kid=self.config.kid, decoys=DECOYS,
            status={"status_list": {"idx": idx, "uri": self.config.status_uri}},
        )
        text = str(issued)
        record = IssuedRecord(credential_digest_hex(text), idx, seed, now, exp, None, False, None)
        return text, record

    def issue(
        self, seed: int, holder_key: PublicKey, *, now: int | None = None
    ) -> Issued:
        return self.issue_batch([(seed, holder_key)], now=now)[0]

    def issue_batch(
        self, requests: Sequence[tuple[int, PublicKey]], *, now: int | None = None
    ) -> list[Issued]:
        """Issue several credentials and anchor them in one registry batch."""
        now = int(time.time()) if now is None else now
        slots = self.state.allocate_status_indices(len(requests), self.config.status_list_size)
        built = []
        for (seed, holder_key), slot in zip(requests, slots, strict=True):
            report_json = self.report(seed, as_of=datetime.fromtimestamp(now, UTC).date())
            _stamp_report_time(report_json, now)
            built.append(self.build(report_json, holder_key, now=now, seed=seed, status_idx=slot))
        # Recorded before anchoring: a credential recorded but never anchored (the registry
        # refused or was down) was never handed out, and keeps registry_index NULL.
        self.state.record_issued([record for _, record in built])
        return self._anchor(built)

    def _anchor(self, built: list[tuple[str, IssuedRecord]]) -> list[Issued]:
        entries = [AnchorEntry.for_credential(text) for text, _ in built]
        try:
            appended = self.registry.append(entries, self.key, self.issuer_id)
        except Unauthorized as exc:
            raise NotAdmitted() from exc
        except RegistryError as exc:
            raise IssuerError(f"the registry refused the anchors: {exc.message}",
                              code="anchoring_failed") from exc
        pairs = [(record.digest, index)
                 for (_, record), index in zip(built, appended.indices, strict=True)]
        self.state.set_registry_indices(pairs)
        return [Issued(text, self.registry.receipt(index), record.digest, record.status_idx)
                for (text, record), index in zip(built, appended.indices, strict=True)]

    # --- revocation ----------------------------------------------------------------

    def revoke(self, digest: str, reason: str = "unspecified") -> int:
        """Set the status bit and append a revocation entry; returns its registry index."""
        digest = digest.strip().lower()
        if reason not in REVOCATION_REASONS:
            raise IssuerError(f"unknown revocation reason {reason!r}", code="invalid_reason")
        if self.state.issued(digest) is None:
            raise UnknownCredential()
        self.state.mark_revoked(digest, reason)
        entry = RevocationEntry(bytes.fromhex(digest), reason, int(time.time()))
        try:
            appended = self.registry.append([entry], self.key, self.issuer_id)
        except RegistryError as exc:
            if exc.code == "already_revoked":
                return -1
            raise
        return appended.indices[0]

    def status_list(self) -> StatusList:
        status_list = StatusList(1, self.config.status_list_size)
        for idx in self.state.revoked_indices():
            status_list.set(idx, Status.INVALID)
        return status_list

    def status_list_token(self, *, now: int | None = None) -> str:
        """A short-lived, signed Token Status List JWT (`statuslist+jwt`)."""
        now = int(time.time()) if now is None else now
        return build_status_list_token(
            self.status_list(), sub=self.config.status_uri, iat=now,
            exp=now + 2 * self.config.status_ttl, ttl=self.config.status_ttl, key=self.key,
            kid=self.config.kid, iss=self.issuer_id,
        )

