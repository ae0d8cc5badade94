"""The CRA simulator end to end: reports → credentials → registry anchors → receipts,
revocation through the status list, and the OpenID4VCI service on real loopback HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hash_registry.home import init_registry, open_log
from hash_registry.receipt import verify_receipt
from hash_registry.trust import TrustedLog
from issuer_sim.assessment import assess
from issuer_sim.cra import Cra
from issuer_sim.home import init_issuer
from issuer_sim.reports import generate_report
from tests.live_server import free_port, serve_app
from vc.credit_report import VCT, Assessment, CreditReport, build_ld_claims
from vc.issuer_metadata import IssuerMetadata, TrustedIssuers
from vc.jose import PrivateKey, sign_compact
from vc.jsonld import check_ld
from vc.sdjwt import HolderCredential, KeyBindingPolicy
from vc.sdjwt_vc import verify_credential
from vc.status_list import Status, verify_status_list_token


@pytest.mark.parametrize("profile", ["transunion-hk", "nova-credit-hk"])
def test_every_generated_report_becomes_a_valid_ld_document(profile: str) -> None:
    """The generator's output and the vocabulary agree, across the whole range of reports."""
    from datetime import UTC, date, datetime, timedelta

    as_of = date(2026, 3, 2)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    for seed in range(150):
        raw = generate_report(seed, profile=profile, as_of=as_of)
        report = CreditReport.from_report_json(raw, cra=profile)
        ld = build_ld_claims(report, Assessment.from_mapping(assess(raw, as_of=as_of)),
                             issuer="https://cra.example", valid_from=start,
                             valid_until=start + timedelta(days=90))
        from vc.credit_report import without_sd_markers

        check_ld(without_sd_markers(ld))


@pytest.fixture
def parties(tmp_path: Path) -> Any:
    """A registry home and a CRA home whose key the operator has admitted."""
    init_registry(tmp_path / "reg")
    init_issuer(tmp_path / "cra", registry=str(tmp_path / "reg"), url="http://127.0.0.1:8701")
    cra = Cra(tmp_path / "cra")
    log = open_log(tmp_path / "reg")
    log.admit_issuer(cra.metadata())
    keys = log.keys_document()
    log.close()
    yield cra, TrustedLog.from_keys_json(keys)
    cra.close()


def test_issue_anchor_receipt_and_verify(parties: Any) -> None:
    cra, trusted_log = parties
    holder = PrivateKey.generate()
    issued = cra.issue(7, holder.public_key())
    # the receipt proves the anchor offline
    verify_receipt(issued.receipt, trusted_log)
    # the credential verifies with the CRA's published metadata, and carries a status slot
    now = int(time.time())
    wallet = HolderCredential.from_issuance(issued.credential)
    presentation = wallet.present([["ld", "credentialSubject", "score", "grade"]],
                                  holder_key=holder, aud="bank", nonce="n", iat=now)
    result = verify_credential(presentation, TrustedIssuers([IssuerMetadata.from_json(cra.metadata())]),
                               now=now, key_binding=KeyBindingPolicy(aud="bank", nonce="n", now=now),
                               vcts={VCT})
    assert result.claims["ld"]["credentialSubject"]["score"]["grade"] in "ABCDEFGHIJ"
    assert result.status is not None
    assert result.status["status_list"]["uri"] == "http://127.0.0.1:8701/status/1"
    assert 0 <= result.status["status_list"]["idx"] < 131_072


def test_unadmitted_cra_cannot_anchor(tmp_path: Path) -> None:
    init_registry(tmp_path / "reg")
    init_issuer(tmp_path / "cra", registry=str(tmp_path / "reg"), url="http://127.0.0.1:8701")
    with Cra(tmp_path / "cra") as cra, pytest.raises(Exception) as info:
        cra.issue(1, PrivateKey.generate().public_key())
    assert getattr(info.value, "code", None) == "issuer_not_admitted"


def test_revocation_sets_the_status_bit_and_the_registry_entry(parties: Any) -> None:
    cra, _ = parties
    issued = cra.issue(3, PrivateKey.generate().public_key())
    other = cra.issue(4, PrivateKey.generate().public_key())
    assert cra.revoke(issued.digest, "data_error") > issued.receipt.index
    now = int(time.time())
    status = verify_status_list_token(cra.status_list_token(now=now), key=cra.key.public_key(),
                                      expected_sub=cra.config.status_uri, now=now)
    assert status.get(issued.status_idx) == Status.INVALID
    assert status.get(other.status_idx) == Status.VALID
    assert cra.registry.lookup(issued.digest).revoked


def test_status_slots_are_distinct_and_random(parties: Any) -> None:
    cra, _ = parties
    issued = cra.issue_batch([(s, PrivateKey.generate().public_key()) for s in range(20)])
    slots = [i.status_idx for i in issued]
    assert len(set(slots)) == 20
    assert slots != sorted(slots)


# --- OpenID4VCI over real HTTP ----------------------------------------------------


def _proof(holder: PrivateKey, aud: str, nonce: str | None, *, iat: int | None = None,
           typ: str = "openid4vci-proof+jwt", jwk: dict[str, Any] | None = None) -> str:
    claims: dict[str, Any] = {"aud": aud, "iat": iat or int(time.time())}
    if nonce is not None:
        claims["nonce"] = nonce
    return sign_compact({"typ": typ, "jwk": jwk or holder.public_key().to_jwk()}, claims, holder)


@pytest.fixture
def service(tmp_path: Path) -> Any:
    from issuer_sim.oid4vci import create_offer
    from issuer_sim.service import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    init_registry(tmp_path / "reg")
    init_issuer(tmp_path / "cra", registry=str(tmp_path / "reg"), url=base)
    with Cra(tmp_path / "cra") as cra:
        log = open_log(tmp_path / "reg")
        log.admit_issuer(cra.metadata())
        log.close()
        offers = [create_offer(cra, seed) for seed in (11, 12, 13)]
    with serve_app(create_app(tmp_path / "cra"), port) as url, httpx.Client(base_url=url) as client:
        yield client, base, offers


def _redeem(client: httpx.Client, offer: Any) -> str:
    code = offer.offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"][
        "pre-authorized_code"]
    r = client.post("/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": code, "tx_code": offer.tx_code})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return str(r.json()["access_token"])


def test_pre_authorized_flow(service: Any) -> None:
    client, base, offers = service
    meta = client.get("/.well-known/openid-credential-issuer").json()
    assert meta["credential_issuer"] == base
    assert meta["credential_configurations_supported"]["hk_credit_report_sd_jwt"]["vct"] == VCT
    assert client.get("/.well-known/jwt-vc-issuer").json()["issuer"] == base
    token = _redeem(client, offers[0])
    nonce = client.post("/nonce").json()["c_nonce"]
    holder = PrivateKey.generate()
    r = client.post("/credential", headers={"Authorization": f"Bearer {token}"}, json={
        "credential_configuration_id": "hk_credit_report_sd_jwt",
        "proofs": {"jwt": [_proof(holder, base, nonce)]}})
    assert r.status_code == 200, r.text
    body = r.json()["credentials"][0]
    wallet = HolderCredential.from_issuance(body["credential"])
    assert wallet.claims["cnf"]["jwk"] == holder.public_key().to_jwk()
    assert body["registry_receipt"]["index"] >= 1
    status = client.get("/status/1")
    assert status.headers["content-type"].startswith("application/statuslist+jwt")


def _error(r: httpx.Response) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    return str(r.json()["error"])


def test_token_errors(service: Any) -> None:
    client, _, offers = service
    grant = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    code = offers[1].offer["grants"][grant]["pre-authorized_code"]
    assert _error(client.post("/token", data={"grant_type": grant, "pre-authorized_code": code,
                                              "tx_code": "000000" if offers[1].tx_code != "000000" else "111111"})) == "invalid_grant"
    assert _error(client.post("/token", data={"grant_type": grant, "pre-authorized_code": code})) == "invalid_request"
    assert _error(client.post("/token", data={"grant_type": "password"})) == "unsupported_grant_type"
    assert _error(client.post("/token", data={"grant_type": grant, "pre-authorized_code": "nope",
                                              "tx_code": "1"})) == "invalid_grant"
    _redeem(client, offers[1])
    # a reused pre-authorized code
    assert _error(client.post("/token", data={"grant_type": grant, "pre-authorized_code": code,
                                              "tx_code": offers[1].tx_code})) == "invalid_grant"
    assert _error(client.post("/token", content=b"%%%\xff", headers={
        "content-type": "application/x-www-form-urlencoded"})) == "invalid_request"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong_aud", "invalid_proof"),
        ("other_nonce", "invalid_nonce"),
        ("no_nonce", "invalid_nonce"),
        ("stale_iat", "invalid_proof"),
        ("wrong_typ", "invalid_proof"),
        ("private_jwk", "invalid_proof"),
        ("unknown_config", "unknown_credential_configuration"),
        ("no_token", "invalid_token"),
        ("two_proofs", "invalid_proof"),
        ("not_json", "invalid_credential_request"),
    ],
)
def test_credential_errors(service: Any, case: str, code: str) -> None:
    client, base, offers = service
    token = _redeem(client, offers[2])
    nonce = client.post("/nonce").json()["c_nonce"]
    holder = PrivateKey.generate()
    proof = {
        "wrong_aud": lambda: _proof(holder, "https://other.example", nonce),
        "other_nonce": lambda: _proof(holder, base, "not-a-nonce-we-issued"),
        "no_nonce": lambda: _proof(holder, base, None),
        "stale_iat": lambda: _proof(holder, base, nonce, iat=int(time.time()) - 3600),
        "wrong_typ": lambda: _proof(holder, base, nonce, typ="JWT"),
        "private_jwk": lambda: _proof(holder, base, nonce, jwk=holder.to_jwk()),
    }.get(case, lambda: _proof(holder, base, nonce))()
    body: Any = {"credential_configuration_id": "hk_credit_report_sd_jwt", "proofs": {"jwt": [proof]}}
    headers = {"Authorization": f"Bearer {token}"}
    if case == "unknown_config":
        body["credential_configuration_id"] = "mortgage"
    if case == "no_token":
        headers = {}
    if case == "two_proofs":
        body["proofs"]["jwt"].append(proof)
    if case == "not_json":
        r = client.post("/credential", headers=headers, content=b"{not json")
    else:
        r = client.post("/credential", headers=headers, json=body)
    assert _error(r) == code
    # a failed proof does not burn the access token: a good retry still succeeds
    if code in ("invalid_proof", "invalid_nonce"):
        nonce2 = client.post("/nonce").json()["c_nonce"]
        r = client.post("/credential", headers={"Authorization": f"Bearer {token}"}, json={
            "credential_configuration_id": "hk_credit_report_sd_jwt",
            "proofs": {"jwt": [_proof(holder, base, nonce2)]}})
        assert r.status_code == 200, r.text


def test_oversized_and_garbage_requests_are_4xx(service: Any) -> None:
    client, _, _ = service
    assert client.post("/credential", content=b"x" * 100_000).status_code == 400
    assert client.post("/token", content=json.dumps({"a": 1})).status_code == 400
