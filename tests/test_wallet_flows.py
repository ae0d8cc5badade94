"""The wallet core end to end on real parties: receive over OpenID4VCI, import, review a
bank's request, approve (the bank verifies what arrives) or decline, and history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from issuer_sim.oid4vci import create_offer
from tests.world import serving_world
from vc.jose import PublicKey
from wallet.api import Wallet

PASS = "correct horse battery staple"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SELFCARRY_UNSAFE_TEST_KDF", "1")
    with serving_world(tmp_path) as world:
        wallet = Wallet.create(tmp_path / "resident", PASS)
        wallet.add_registry(world.keys, str(world.registry_home))
        yield world, wallet
        wallet.close()


def test_receive_review_approve_verify(setup: Any) -> None:
    world, wallet = setup
    offer = create_offer(world.cra, 21)
    assert wallet.offer_tx_code(offer.uri) is not None
    summary = wallet.receive(offer.uri, offer.tx_code)
    assert summary.anchored and summary.revoked is False
    assert summary.provenance is not None and summary.provenance.cosigners
    detail = wallet.credential(summary.id)
    assert detail.claims[0].dotted.startswith("ld.credentialSubject.score")
    assert any(n.disclosable for n in detail.claims)

    with world.verifier() as bank:
        request = bank.create_request()
        review = wallet.open_request(json.dumps(request.to_json()))
        assert review.authenticated and review.bank_name == "Shenzhen Example Bank"
        assert [w.code for w in review.warnings if w.code == "over_request"] == []
        cand = review.candidates[0]
        preview = wallet.preview(review, cand.credential_id)
        assert "hkid" not in preview.disclosed["ld"]["credentialSubject"].get("identity", {})
        delivery = wallet.approve(review, cand.credential_id, deliver="none")
        result = bank.verify(delivery.response, request=request)
    assert result.verified, result.to_json()
    history = wallet.history()
    assert history[-1].decision == "approved" and history[-1].client_id == request.client_id


def test_decline_and_unauthenticated_bank(setup: Any, tmp_path: Path) -> None:
    world, wallet = setup
    offer = create_offer(world.cra, 22)
    wallet.receive(offer.uri, offer.tx_code)
    from verifier.home import init_verifier
    from verifier.verify import Verifier

    # a bank the registry never admitted: same trust, its own key
    init_verifier(tmp_path / "rogue", client_id="https://rogue.example", url="http://127.0.0.1:9")
    from verifier.home import add_issuer, add_registry

    add_issuer(tmp_path / "rogue", world.cra.metadata())
    add_registry(tmp_path / "rogue", world.keys, str(world.registry_home))
    with Verifier.from_home(tmp_path / "rogue") as rogue:
        review = wallet.open_request(json.dumps(rogue.create_request().to_json()))
    assert not review.authenticated
    assert "unauthenticated" in {w.code for w in review.warnings}
    with pytest.raises(Exception) as info:
        wallet.approve(review, review.candidates[0].credential_id, deliver="none")
    assert getattr(info.value, "code", None) == "unauthenticated_request"
    row = wallet.decline(review)
    assert row.decision == "declined" and row.outcome == "not_sent"
    export = wallet.export_history()
    from wallet.history import verify_history_export

    verify_history_export(export)


def test_import_with_reserved_key_and_refusals(setup: Any) -> None:
    world, wallet = setup
    jwk = wallet.reserve_holder_key()
    issued = world.cra.issue(23, PublicKey.from_jwk(jwk))
    summary = wallet.import_credential(issued.credential, issued.receipt.to_json())
    assert summary.anchored
    # tampered credential: one character of the signature changed
    other = world.cra.issue(24, PublicKey.from_jwk(wallet.reserve_holder_key()))
    jwt, rest = other.credential.split("~", 1)
    tampered = jwt[:-2] + ("A" if jwt[-2] != "A" else "B") + jwt[-1] + "~" + rest
    with pytest.raises(Exception) as info:
        wallet.import_credential(tampered, other.receipt.to_json())
    assert getattr(info.value, "code", "") in ("invalid_signature", "invalid_base64url")
    # revoked before import
    third = world.cra.issue(25, PublicKey.from_jwk(wallet.reserve_holder_key()))
    world.cra.revoke(third.digest)
    with pytest.raises(Exception) as info:
        wallet.import_credential(third.credential, third.receipt.to_json())
    assert getattr(info.value, "code", "") == "revoked"
    assert len(wallet.credentials()) == 1


def test_unanchored_credential_refused(setup: Any) -> None:
    world, wallet = setup
    import time

    jwk = wallet.reserve_holder_key()
    report = world.cra.report(26)
    text, record = world.cra.build(report, PublicKey.from_jwk(jwk), now=int(time.time()),
                                   seed=26, status_idx=12345)
    world.cra.state.record_issued([record])
    with pytest.raises(Exception) as info:
        wallet.import_credential(text, None)
    assert getattr(info.value, "code", "") == "not_anchored"

