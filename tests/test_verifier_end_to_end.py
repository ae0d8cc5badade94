"""The bank's verifier end to end on real parties: the happy path and the first refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.world import make_world


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = make_world(tmp_path)
    yield w
    w.cra.close()


EXPECTED_CHECKS = [
    "size_and_syntax", "issuer_trusted", "issuer_key_on_registry",
    "signature_disclosures_key_binding", "nonce_single_use", "registry_anchor",
    "not_revoked", "jsonld_terms", "request_satisfied",
]


def test_happy_path_with_staples(world) -> None:  # type: ignore[no-untyped-def]
    issued, holder = world.issue(5)
    with world.verifier() as v:
        request = v.create_request()
        result = v.verify(world.present(issued, holder, request), request=request)
    assert result.verified, result.to_json()
    assert [c.name for c in result.checks] == EXPECTED_CHECKS
    assert all(c.ok for c in result.checks)
    subject = result.claims["ld"]["credentialSubject"]
    assert "hkid" not in subject.get("identity", {})
    assert "accounts" not in subject
    assert result.policy is not None and result.policy.decision in ("approve", "refer", "decline")


def test_happy_path_online_without_staples(world) -> None:  # type: ignore[no-untyped-def]
    issued, holder = world.issue(6)
    with world.verifier() as v:
        request = v.create_request()
        response = world.present(issued, holder, request, staple_status=True,
                                 staple_receipt=False)
        result = v.verify(response, request=request)
    assert result.verified, result.to_json()
    assert "registry lookup" in result.checks[5].detail


def test_replay_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    issued, holder = world.issue(7)
    with world.verifier() as v:
        request = v.create_request()
        response = world.present(issued, holder, request)
        assert v.verify(response, request=request).verified
        again = v.verify(response, request=request)
    assert not again.verified and again.reason == "nonce_replayed"


def test_revoked_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    issued, holder = world.issue(8)
    world.cra.revoke(issued.digest, "data_error")
    with world.verifier() as v:
        request = v.create_request()
        result = v.verify(world.present(issued, holder, request), request=request)
    assert not result.verified and result.reason == "revoked"
