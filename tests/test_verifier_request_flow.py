"""The request pieces end to end, with a real credential and no mocks.

A CRA issues the synthetic report as a ``dc+sd-jwt`` credential; the bank
creates a ``loan-precheck`` request (real SQLite nonce store); the wallet checks
the Request Object, matches the DCQL query, and presents exactly the required
claims with a KB-JWT; the bank verifies the SD-JWT VC, consumes the nonce,
re-checks the query (no over-disclosure) and runs the lending policy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vc import credit_report, dcql
from vc.jose import PrivateKey
from vc.openid4vp import parse_request_uri, verify_request_object
from vc.sdjwt import HolderCredential, KeyBindingPolicy, process_disclosures
from vc.sdjwt_vc import issue_credential, verify_credential
from verifier.errors import NonceReplayed
from verifier.nonce_store import SqliteNonceStore
from verifier.policy import CreditClaims, builtin_policy, check_policy_against_query
from verifier.request import PresentationRequest, create_request, load_query

HERE = Path(__file__).resolve().parent
SAMPLES = [HERE / "vectors" / "samples" / "tu_report_synthetic.json", HERE.parent / ".." / "shared" / "samples" / "tu_report_synthetic.json"]
ISSUER = "https://cra.example/transunion-hk"
CLIENT_ID = "https://loans.bank.example.cn"


def sample_report() -> dict[str, Any]:
    for path in SAMPLES:
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text())
            return data
    pytest.skip("the synthetic sample report is not available")
    raise AssertionError


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    report = credit_report.CreditReport.from_report_json(sample_report())
    issued_at = report.meta.issued_at
    ld = credit_report.build_ld_claims(
        report,
        credit_report.derive_assessment(report),
        issuer=ISSUER,
        valid_from=issued_at,
        valid_until=issued_at + timedelta(days=90),
    )
    cra_key, holder_key = PrivateKey.generate(), PrivateKey.generate()
    iat = int(issued_at.timestamp())
    issued = issue_credential(
        {"ld": ld},
        cra_key,
        issuer=ISSUER,
        vct=credit_report.VCT,
        iat=iat,
        exp=iat + 90 * 86400,
        holder_key=holder_key.public_key(),
    )
    return {
        "report": report,
        "cra_key": cra_key,
        "holder_key": holder_key,
        "credential": HolderCredential.from_issuance(issued.serialization),
        "now": issued_at.astimezone(UTC) + timedelta(days=5),
    }


def test_loan_precheck_round_trip(world: dict[str, Any], tmp_path: Path) -> None:
    now: datetime = world["now"]
    now_s = int(now.timestamp())
    bank_key = PrivateKey.generate()
    store = SqliteNonceStore(tmp_path / "nonces.sqlite3")
    policy = builtin_policy("loan-precheck").policy
    check_policy_against_query(policy, load_query("loan-precheck"))

    # the bank
    request = create_request(
        client_id=CLIENT_ID,
        response_uri=f"{CLIENT_ID}/response",
        request_uri_base=f"{CLIENT_ID}/r",
        dcql_query=load_query("loan-precheck"),
        purpose={"en": "Consumer loan pre-check", "zh-Hans": "消费贷款预审"},
        signing_key=bank_key,
        nonce_store=store,
        now=now_s,
    )
    request_file = request.to_json_text()

    # the wallet: from the URI to the presentation
    client_id, _request_uri = parse_request_uri(request.uri)
    claims = verify_request_object(
        request.request, key=bank_key.public_key(), expected_client_id=client_id, now=now_s
    )
    held: HolderCredential = world["credential"]
    matches = dcql.match(claims["dcql_query"], [dcql.WalletCredential("tu-2026", credit_report.VCT, held.claims)])
    chosen = dcql.select_response(claims["dcql_query"], matches)
    (m,) = chosen["credit_report"]
    assert m.claim_set is not None and "name_zh" in m.claim_set  # the sample has a Chinese name
    presentation = held.present(
        m.required, holder_key=world["holder_key"], aud=client_id, nonce=claims["nonce"], iat=now_s
    )
    vp_token = {"credit_report": [presentation]}

    # the bank again, from the request file alone
    req = PresentationRequest.from_json(request_file, key=bank_key.public_key())
    verified = verify_credential(
        vp_token["credit_report"][0],
        world["cra_key"].public_key(),
        now=now_s,
        key_binding=KeyBindingPolicy(aud=req.client_id, nonce=req.nonce, now=now_s),
        vcts=[credit_report.VCT],
    )
    assert store.consume(verified.sd_jwt.kb_claims["nonce"], now_s).request_id == req.id  # type: ignore[index]
    with pytest.raises(NonceReplayed):
        store.consume(req.nonce, now_s)
    baseline = process_disclosures(verified.sd_jwt.issuer_payload, [])
    result = dcql.check_satisfied(
        req.dcql_query,
        {"credit_report": [dcql.Presented(verified.claims, baseline, holder_bound=True)]},
    )
    assert result.unrequested() == {}  # the wallet disclosed exactly what was asked
    subject = verified.claims["ld"]["credentialSubject"]
    assert "hkid" not in subject["identity"] and "accounts" not in subject and "value" not in subject["score"]
    assert subject["report"]["permittedUse"] == credit_report.PERMITTED_USE

    outcome = policy.evaluate(CreditClaims(verified.claims, now=now))
    expected = credit_report.derive_assessment(world["report"])
    assert subject["assessment"]["riskGrade"] == expected.risk_grade
    # whatever the sample's figures, every reason is explained in both languages
    assert outcome.decision in ("approve", "refer", "decline")
    assert len(outcome.reasons) == len(policy.policies)  # type: ignore[attr-defined]
    assert all(r.en and r.zh_hans for r in outcome.reasons)
    assert "claim_not_disclosed" not in [r.code for r in outcome.reasons]
    store.record_result(req.id, json.dumps({"verified": True, "policy": outcome.to_dict()}))
    assert json.loads(store.result(req.id) or "null")["policy"]["decision"] == outcome.decision


def test_over_disclosure_is_flagged(world: dict[str, Any]) -> None:
    now_s = int(world["now"].timestamp())
    held: HolderCredential = world["credential"]
    query = load_query("loan-precheck")
    (m,) = dcql.match(query, [dcql.WalletCredential("c", credit_report.VCT, held.claims)])
    hkid = ("ld", "credentialSubject", "identity", "hkid")
    accounts = ("ld", "credentialSubject", "accounts")
    presentation = held.present(
        [*m.required, hkid, accounts], holder_key=world["holder_key"], aud=CLIENT_ID, nonce="n-1", iat=now_s
    )
    verified = verify_credential(
        presentation,
        world["cra_key"].public_key(),
        now=now_s,
        key_binding=KeyBindingPolicy(aud=CLIENT_ID, nonce="n-1", now=now_s),
    )
    baseline = process_disclosures(verified.sd_jwt.issuer_payload, [])
    result = dcql.check_satisfied(query, {"credit_report": [dcql.Presented(verified.claims, baseline, True)]})
    assert result.unrequested() == {"credit_report": [hkid, accounts]}


def test_a_presentation_missing_a_requested_claim_fails_the_query(world: dict[str, Any]) -> None:
    now_s = int(world["now"].timestamp())
    held: HolderCredential = world["credential"]
    query = load_query("loan-precheck")
    (m,) = dcql.match(query, [dcql.WalletCredential("c", credit_report.VCT, held.claims)])
    fewer = [p for p in m.required if p[-1] != "noPublicRecords"]
    presentation = held.present(fewer, holder_key=world["holder_key"], aud=CLIENT_ID, nonce="n-2", iat=now_s)
    verified = verify_credential(
        presentation,
        world["cra_key"].public_key(),
        now=now_s,
        key_binding=KeyBindingPolicy(aud=CLIENT_ID, nonce="n-2", now=now_s),
    )
    with pytest.raises(dcql.DcqlNotSatisfied) as err:
        dcql.check_satisfied(query, {"credit_report": [verified.claims]})
    assert err.value.code == "dcql_claim_missing"
    # and the policy, given the same claims, refers rather than approves
    outcome = builtin_policy().policy.evaluate(CreditClaims(verified.claims, now=world["now"]))
    assert outcome.decision == "refer"
