"""`Verifier`: the bank's end-to-end check of a presentation (DESIGN.md flow 3).

Read it top to bottom: :meth:`Verifier.verify` runs the checks in order, each one
named, and stops at the first failure with that failure's reason code. A result is
``verified`` only if every check passed; the lending policy is evaluated afterwards
and reported apart — it never turns a failed verification into a pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hash_registry.entries import AnchorEntry, credential_digest
from hash_registry.errors import RegistryError
from hash_registry.view import RegistryView
from vc import dcql, strict_json
from vc.credit_report import VCT
from vc.errors import IssuerMismatch, SelfcarryError, VCError
from vc.issuer_metadata import TrustedIssuers
from vc.jose import DEFAULT_ALGS, PrivateKey
from vc.jsonld import check_ld
from vc.presentation_response import PresentationResponse
from vc.sdjwt import KeyBindingPolicy, Limits, ParsedSDJWT, parse
from vc.sdjwt_vc import DC_SD_JWT, verify_credential

from .errors import VerifierError
from .nonce_store import NonceStore
from .policy import CreditClaims, PolicyConfig, PolicyOutcome, check_policy_against_query
from .request import PresentationRequest, create_request, load_query
from .status import StatusChecker

MAX_PRESENTATION_BYTES = 256 * 1024


class Rejected(VerifierError):
    code = "rejected"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class VerificationResult:
    """What a loan officer reads: verified or not and why, every check, the claims."""

    verified: bool
    reason: str | None
    message: str | None
    checks: list[Check] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    policy: PolicyOutcome | None = None
    issuer: str | None = None
    registry_index: int | None = None
    unrequested: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """CLI.md's ``verifier verify --json`` document (plus a few informative members)."""
        return {
            "verified": self.verified,
            "reason": self.reason,
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
            "claims": self.claims,
            "policy": self.policy.to_dict() if self.policy is not None else None,
            "issuer": self.issuer,
            "registry_index": self.registry_index,
            "unrequested_disclosures": self.unrequested,
        }


class _Run:
    """Collects named checks; the first failure ends the run (fail closed)."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    @contextmanager
    def check(self, name: str, ok_detail: str = "ok") -> Iterator[list[str]]:
        detail = [ok_detail]
        try:
            yield detail
        except SelfcarryError as exc:
            self.checks.append(Check(name, False, f"{exc.code}: {exc.message}"))
            raise
        except (RegistryError, ValueError, TypeError, KeyError) as exc:  # pragma: no cover
            self.checks.append(Check(name, False, f"internal: {exc!r}"))
            raise Rejected(f"{name} could not be completed", code="verification_error") from exc
        self.checks.append(Check(name, True, detail[0]))


def _first(response: PresentationResponse, query: dcql.DcqlQuery) -> tuple[str, str, Any]:
    items = response.presentations()
    if len(items) != 1:
        raise Rejected("this verifier accepts exactly one credential presentation",
                       code="unsupported_response")
    qid, _, text, staple = items[0]
    if qid == "*":  # a bare SD-JWT+KB: it answers the query's single credential query
        if len(query.ids) != 1:
            raise Rejected("a bare presentation cannot answer a multi-credential query",
                           code="unsupported_response")
        qid = query.ids[0]
    if qid not in query.ids:  # a response-level shape check (OpenID4VP §8.1): fail early
        raise Rejected(f"{qid!r} is not a credential query of the request",
                       code="dcql_unknown_credential")
    return qid, text, staple


class Verifier:
    """A bank's verifier: trust configuration in, named verdicts out."""

    def __init__(
        self,
        *,
        client_id: str,
        base_url: str,
        signing_key: PrivateKey,
        issuers: TrustedIssuers,
        registries: Sequence[RegistryView],
        nonce_store: NonceStore,
        policy: PolicyConfig,
        clock: Callable[[], float] = time.time,
        status: StatusChecker | None = None,
        kb_max_age: int = 300,
        skew: int = 60,
        limits: Limits | None = None,
    ) -> None:
        if not registries:
            raise VerifierError("a verifier needs at least one trusted registry",
                                code="no_registry")
        self.client_id = client_id
        self.base_url = base_url.rstrip("/")
        self.signing_key = signing_key
        self.issuers = issuers
        self.registries = list(registries)
        self.nonce_store = nonce_store
        self.policy = policy
        self.clock = clock
        self.status = status or StatusChecker()
        self.kb_max_age = kb_max_age
        self.skew = skew
        self.limits = limits or Limits(max_bytes=MAX_PRESENTATION_BYTES)

    @classmethod
    def from_home(cls, home: str | Path, **overrides: Any) -> Verifier:
        from .factory import verifier_from_home

        verifier: Verifier = verifier_from_home(Path(home), **overrides)
        return verifier

    def close(self) -> None:
        for view in self.registries:
            view.close()
        self.status.close()
        self.nonce_store.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests ---------------------------------------------------------------

    def create_request(self, query: str | Mapping[str, Any] = "loan-precheck",
                       purpose: str | Mapping[str, str] = "consumer loan pre-check",
                       *, ttl: int = 600) -> PresentationRequest:
        dcql_query = load_query(query) if isinstance(query, str) else dict(query)
        check_policy_against_query(self.policy.policy, dcql_query)
        return create_request(
            client_id=self.client_id, response_uri=f"{self.base_url}/response",
            request_uri_base=f"{self.base_url}/request", dcql_query=dcql_query,
            purpose=dict(purpose) if isinstance(purpose, Mapping) else purpose,
            signing_key=self.signing_key, nonce_store=self.nonce_store, ttl=ttl,
            now=int(self.clock()),
        )

    # --- verification --------------------------------------------------------------

    def verify(self, presentation: str | Mapping[str, Any] | PresentationResponse,
               request: PresentationRequest | Mapping[str, Any] | str | None = None
               ) -> VerificationResult:
        """Run every check; never raises for bad input — the result names the reason."""
        run = _Run()
        try:
            return self._verify(run, presentation, request)
        except SelfcarryError as exc:
            return VerificationResult(False, exc.code, exc.message, run.checks)

    def _verify(self, run: _Run, presentation: Any, request: Any) -> VerificationResult:
        now = int(self.clock())
        with run.check("size_and_syntax") as d:
            response = self._response(presentation)
            req = self._request(request, response)
            query = req.query
            qid, text, staple = _first(response, query)
            parsed: ParsedSDJWT = parse(text, limits=self.limits)
            if parsed.jwt.header.get("typ") != DC_SD_JWT:
                raise Rejected("the credential is not a dc+sd-jwt", code="wrong_typ")
            payload = parsed.jwt.claims()  # inside the check: a bad payload is a failed check
            d[0] = f"{len(text)} bytes, {len(parsed.disclosures)} disclosures"
        iss = payload.get("iss")
        with run.check("issuer_trusted") as d:
            if not isinstance(iss, str) or iss not in self.issuers:
                raise IssuerMismatch(f"the issuer {iss!r} is not one this bank trusts")
            key = self.issuers(parsed.jwt.header, payload)
            d[0] = f"{iss} (key {key.thumbprint()[:12]}…)"
        with run.check("issuer_key_on_registry") as d:
            view, entry = self._admitted(iss, key)
            d[0] = f"admitted on {view.origin} since {entry.valid_from}"
        kb = KeyBindingPolicy(aud=self.client_id, nonce=req.nonce, now=now,
                              max_age=self.kb_max_age, max_future_skew=self.skew)
        with run.check("signature_disclosures_key_binding") as d:
            verified = verify_credential(parsed, key, now=now, key_binding=kb, skew=self.skew,
                                         algs=DEFAULT_ALGS, vcts={VCT}, limits=self.limits)
            iat = payload.get("iat")  # read only now that the signature covers it
            if not isinstance(iat, int) or iat < entry.valid_from - self.skew:
                raise Rejected("the credential predates the admission of its issuer key",
                               code="issuer_key_not_valid_at_issuance")
            d[0] = (f"ES256/EdDSA signature, {len(parsed.disclosures)} disclosures, KB-JWT for "
                    f"{self.client_id}; valid until {verified.exp}")
        with run.check("nonce_single_use") as d:
            self.nonce_store.consume(req.nonce, now)
            d[0] = f"request {req.id} answered once"
        with run.check("registry_anchor") as d:
            anchor = AnchorEntry.create(credential_digest(parsed.jwt_text), iss, verified.vct,
                                        iat, payload["exp"])  # as the CRA anchored it
            proof = view.prove_anchor(anchor, staple.registry_receipt)
            if proof.revoked:
                raise Rejected("the registry records a revocation of this credential",
                               code="revoked")
            d[0] = (f"index {proof.index} under cosigned checkpoint {proof.checkpoint.size} "
                    f"({proof.source}), consistent with the last one seen")
        with run.check("not_revoked") as d:
            outcome = self.status.check(verified.status, issuer=iss, key=key, now=now,
                                        stapled=staple.status_list_token)
            d[0] = f"status list says VALID ({outcome.source})"
        claims = verified.claims
        with run.check("jsonld_terms") as d:
            ld = claims.get("ld")
            if not isinstance(ld, dict):
                raise Rejected("the credential has no ld document", code="invalid_credential")
            check_ld(ld)
            d[0] = "every disclosed term defined by a trusted context"
        with run.check("request_satisfied") as d:
            satisfaction = dcql.check_satisfied(
                query, {qid: [dcql.Presented(claims, baseline=None, holder_bound=True)]})
            d[0] = f"DCQL query {', '.join(satisfaction.credential_ids)} answered"
        policy = self.policy.policy.evaluate(CreditClaims(claims, now=now))
        result = VerificationResult(True, None, None, run.checks, claims, policy, iss,
                                    proof.index)
        self.nonce_store.record_result(req.id, strict_json.dumps(result.to_json()))
        return result

    def _response(self, presentation: Any) -> PresentationResponse:
        if isinstance(presentation, PresentationResponse):
            return presentation
        if isinstance(presentation, Mapping):
            return PresentationResponse.from_json(presentation)
        if isinstance(presentation, bytes):
            presentation = presentation.decode("utf-8", "replace")
        if not isinstance(presentation, str):
            raise Rejected("a presentation is text or a response document", code="malformed")
        return PresentationResponse.parse(presentation)

    def _request(self, request: Any, response: PresentationResponse) -> PresentationRequest:
        if isinstance(request, PresentationRequest):
            return request
        if request is None:
            if response.state is None:
                raise Rejected("which request does this answer? (no state, no request given)",
                               code="unknown_request")
            record = self.nonce_store.get(response.state)
            return PresentationRequest.from_json(record.request_json,
                                                 key=self.signing_key.public_key())
        try:
            return PresentationRequest.from_json(request, key=self.signing_key.public_key())
        except VCError as exc:  # e.g. signed by another key: say it is the *request* that fails
            raise Rejected(f"the request is not one this verifier made ({exc.code}: "
                           f"{exc.message})", code="invalid_request") from exc

    def _admitted(self, iss: str, key: Any) -> tuple[RegistryView, Any]:
        errors: list[SelfcarryError] = []
        for view in self.registries:
            try:
                return view, view.issuer_key_entry(iss, key)
            except (VCError, VerifierError, RegistryError) as exc:
                errors.append(exc)
        raise errors[0] if errors else Rejected("no registry", code="no_registry")
