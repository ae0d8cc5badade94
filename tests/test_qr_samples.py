"""Realistic presentations for the QR tests and benchmarks/qr_sizes.py, and their sanity checks.

Four credential layouts, all ES256, key-bound, ``dc+sd-jwt`` with a VCDM-style ``ld`` body:

* ``flat``: ~40 selectively disclosable claims (identity, score, a 10-claim assessment,
  three accounts with their fields, report metadata); every group object is plain, so
  the issuer-signed JWT carries one digest per identity/score/assessment/report claim.
* ``grouped``: the same data, but each group object is itself a disclosure (recursive
  disclosures): the JWT carries one digest per group.
* ``decision``: a compact decision credential holding only the 13 claims the bank's
  ``loan-precheck`` query asks for.
* ``credit_report``: built by :mod:`vc.credit_report` from the shared synthetic report
  (only when that module is importable).

Presented claim sets: ``assessment`` (the 10 assessment claims) and ``loan-precheck``
(the first satisfiable claim set of ``verifier/queries/loan-precheck.json``, read as a
file: the bank's real query).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vc.b64 import b64u_encode
from vc.jose import PrivateKey, PublicKey
from vc.sdjwt import SD, HolderCredential, KeyBindingPolicy
from vc.sdjwt_vc import VerifiedCredential, issue_credential, verify_credential

ISSUER = "https://cra.transunion-hk.example"
VCT = "https://w3id.org/selfcarry/vct/hk-credit-report/v1"
IAT = 1772409600  # 2026-03-02T00:00:00Z
CS = ("ld", "credentialSubject")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LOAN_PRECHECK_QUERY = REPO / "verifier" / "queries" / "loan-precheck.json"
SYNTHETIC_REPORT = REPO / "tests" / "vectors" / "samples" / "tu_report_synthetic.json"

ASSESSMENT = {
    "riskGrade": "B",
    "noMaterialDefault60m": True,
    "worstStatus24m": "1",
    "lateMonths24m": 1,
    "currentlyPastDue": False,
    "enquiries3m": 0,
    "totalLimit": 110000,
    "totalOutstanding": 110780,
    "utilisation": 0.257,
    "noPublicRecords": True,
}
IDENTITY = {
    "nameEn": {"surname": "CHAN", "givenNames": "Tai Man"},
    "nameZh": "陳大文",
    "hkid": "A123456(3)",
    "birthDate": "1988-07-14",
    "gender": "M",
}
SCORE = {"value": 3468, "grade": "B", "scoreDate": "2026-03-02",
         "scale": "transunion-hk:1000-4000:A-J"}
REPORT = {"reference": "SYN-TU-2026-0000417", "cra": "transunion-hk",
          "issuedAt": "2026-03-02T02:14:25Z", "permittedUse": "cross-boundary lending"}
ACCOUNTS = [
    {"accountId": "ACC-001", "facilityType": "credit_card", "creditLimit": 60000,
     "currentBalance": 15420, "repaymentHistory24m": "000000000000000000000000"},
    {"accountId": "ACC-002", "facilityType": "credit_card", "creditLimit": 50000,
     "currentBalance": 12870, "repaymentHistory24m": "000000000000100000000000"},
    {"accountId": "ACC-003", "facilityType": "personal_loan", "creditLimit": None,
     "currentBalance": 82490, "repaymentHistory24m": "000000000000000000000000"},
]

ASSESSMENT_PATHS: tuple[tuple[str, ...], ...] = tuple(
    (*CS, "assessment", k) for k in ASSESSMENT
)
#: What the loan-precheck query asks for (claim set 1), for the compact decision credential.
DECISION_IDENTITY = ("nameEn", "nameZh", "birthDate")
DECISION_ASSESSMENT = ("riskGrade", "noMaterialDefault60m", "lateMonths24m", "currentlyPastDue",
                       "enquiries3m", "noPublicRecords", "utilisation")
DECISION_REPORT = ("cra", "issuedAt", "permittedUse")


def loan_precheck_paths(available: set[tuple[str | int, ...]]) -> list[tuple[str, ...]]:
    """The first claim set of the bank's loan-precheck DCQL query that the credential has."""
    if not LOAN_PRECHECK_QUERY.exists():
        pytest.skip(f"the loan-precheck query is not at {LOAN_PRECHECK_QUERY}")
    query = json.loads(LOAN_PRECHECK_QUERY.read_text("utf-8"))["credentials"][0]
    by_id = {c["id"]: tuple(c["path"]) for c in query["claims"]}
    for option in query.get("claim_sets", [list(by_id)]):
        paths = [by_id[claim_id] for claim_id in option]
        if all(p in available for p in paths):
            return paths
    raise AssertionError("the credential cannot satisfy the loan-precheck query")


def _sd_object(values: dict[str, Any]) -> dict[Any, Any]:
    return {SD(k): v for k, v in values.items()}


def _account(values: dict[str, Any]) -> dict[Any, Any]:
    return _sd_object({k: v for k, v in values.items() if v is not None})


def _ld(subject: dict[Any, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://w3id.org/selfcarry/credit-report/v1"],
        "type": ["VerifiableCredential", "CreditReportCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-03-02T00:00:00Z",
        "validUntil": "2026-04-01T00:00:00Z",
        "credentialSubject": subject,
    }


def flat_claims() -> dict[str, Any]:
    """~40 selectively disclosable claims; group objects are plain."""
    return {"ld": _ld({
        "identity": _sd_object(IDENTITY),
        "score": _sd_object(SCORE),
        "assessment": _sd_object(ASSESSMENT),
        SD("accounts"): [SD(_account(a)) for a in ACCOUNTS],
        "report": _sd_object(REPORT),
    })}


def grouped_claims() -> dict[str, Any]:
    """The same data with every group object disclosable too (recursive disclosures)."""
    return {"ld": _ld({
        SD("identity"): _sd_object(IDENTITY),
        SD("score"): _sd_object(SCORE),
        SD("assessment"): _sd_object(ASSESSMENT),
        SD("accounts"): [SD(_account(a)) for a in ACCOUNTS],
        SD("report"): _sd_object(REPORT),
    })}


def decision_claims() -> dict[str, Any]:
    """A compact decision credential: only the 13 claims the loan-precheck query asks for."""
    return {"ld": _ld({
        "identity": _sd_object({k: IDENTITY[k] for k in DECISION_IDENTITY}),
        "assessment": _sd_object({k: ASSESSMENT[k] for k in DECISION_ASSESSMENT}),
        "report": _sd_object({k: REPORT[k] for k in DECISION_REPORT}),
    })}


def credit_report_claims() -> dict[str, Any]:
    """The real builder's ``ld`` claim for the shared synthetic report (skips if unavailable)."""
    cr = pytest.importorskip("vc.credit_report")
    if not SYNTHETIC_REPORT.exists():
        pytest.skip(f"the shared synthetic report is not at {SYNTHETIC_REPORT}")
    report = cr.CreditReport.from_report_json(json.loads(SYNTHETIC_REPORT.read_text("utf-8")))
    valid_from = datetime.fromtimestamp(IAT, UTC)
    ld = cr.build_ld_claims(
        report, cr.derive_assessment(report), issuer=ISSUER,
        valid_from=valid_from, valid_until=valid_from + timedelta(days=30),
    )
    return {"ld": ld}


LAYOUTS: dict[str, Callable[[], dict[str, Any]]] = {
    "flat": flat_claims,
    "grouped": grouped_claims,
    "decision": decision_claims,
    "credit_report": credit_report_claims,
}
SELECTIONS: dict[str, Callable[[set[tuple[str | int, ...]]], Sequence[Sequence[str]]]] = {
    "assessment": lambda available: [p for p in ASSESSMENT_PATHS if p in available],
    "loan-precheck": loan_precheck_paths,
}


@dataclass(frozen=True)
class Sample:
    """A key-bound presentation and what a verifier needs to check it."""

    layout: str
    selection: str
    presentation: str
    issued_disclosures: int
    issuer_key: PublicKey
    aud: str
    nonce: str

    def verify(self, text: str) -> VerifiedCredential:
        """The full SD-JWT VC check with key binding (signature, digests, KB-JWT, times)."""
        return verify_credential(
            text, self.issuer_key, now=IAT,
            key_binding=KeyBindingPolicy(aud=self.aud, nonce=self.nonce, now=IAT),
        )


def make_sample(layout: str = "flat", selection: str = "assessment",
                *, alg: str = "ES256") -> Sample:
    """Issue a fresh credential in ``layout`` and present ``selection`` with key binding."""
    issuer, holder = PrivateKey.generate(alg), PrivateKey.generate(alg)
    issued = issue_credential(
        LAYOUTS[layout](), issuer, issuer=ISSUER, vct=VCT, iat=IAT, exp=IAT + 30 * 86400,
        holder_key=holder.public_key(), kid="cra-2026-1",
        status={"status_list": {"idx": 4711, "uri": f"{ISSUER}/status/1"}},
    )
    aud = "x509_hash:" + b64u_encode(secrets.token_bytes(32))  # OpenID4VP client_id form
    nonce = secrets.token_urlsafe(16)
    wallet = HolderCredential.from_issuance(issued.serialization)
    paths = SELECTIONS[selection](set(wallet.disclosable_paths()))
    text = wallet.present(paths, holder_key=holder, aud=aud, nonce=nonce, iat=IAT)
    return Sample(layout, selection, text, len(issued.disclosures), issuer.public_key(), aud,
                  nonce)


# --------------------------------------------------------------------------- sanity


def test_flat_layout_has_about_forty_disclosable_claims() -> None:
    sample = make_sample("flat", "assessment")
    assert 38 <= sample.issued_disclosures <= 45
    verified = sample.verify(sample.presentation)
    assert verified.claims["ld"]["credentialSubject"]["assessment"] == ASSESSMENT
    assert "identity" not in verified.claims["ld"]["credentialSubject"] or not (
        verified.claims["ld"]["credentialSubject"]["identity"]
    )


def test_loan_precheck_selection_reveals_only_what_the_query_asks() -> None:
    for layout in ("flat", "grouped", "decision"):
        sample = make_sample(layout, "loan-precheck")
        subject = sample.verify(sample.presentation).claims["ld"]["credentialSubject"]
        assert set(subject["identity"]) == set(DECISION_IDENTITY)
        assert subject["assessment"] == {k: ASSESSMENT[k] for k in DECISION_ASSESSMENT}
        assert subject["report"] == {k: REPORT[k] for k in DECISION_REPORT}
        assert "accounts" not in subject and "hkid" not in subject["identity"]
        assert not subject.get("score")


def test_decision_layout_has_only_the_queried_claims() -> None:
    assert make_sample("decision").issued_disclosures == 13


# --------------------------------------------------------------------------- QR stack


def require_qr_stack() -> None:
    """The QR tests need segno, zxing-cpp and Pillow: skip visibly, or fail under CI."""
    import importlib.util

    missing = [m for m in ("segno", "zxingcpp", "PIL") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"QR packages not installed: {', '.join(missing)} (pip install segno zxing-cpp pillow)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def scan(*images: bytes) -> list[bytes]:
    """Read images back with the real decoder (zxing-cpp), through the library's own reader."""
    from vc.qr import decode_images

    return decode_images(list(images))
