"""Interoperability with the SD-JWT reference implementation (`sd-jwt` on PyPI).

Ours issues → theirs presents and verifies; theirs issues → ours presents and
verifies; theirs presents → ours verifies. Same keys, same nonce and audience.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("sd_jwt", reason="the reference implementation is a dev dependency")
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from vc.jose import PrivateKey
from vc.sdjwt import SD, HolderCredential, KeyBindingPolicy, issue, verify

AUD, NONCE, NOW = "https://bank.example/verifier", "n-0S6_WzA2Mj", 1_760_000_000
ISS = "https://cra.example"


def _claims(marker: Any) -> dict[Any, Any]:
    return {
        "iss": ISS,
        marker("given_name"): "Tai Man",
        marker("family_name"): "CHAN",
        "score": {marker("grade"): "B", marker("value"): 3468},
        marker("nationalities"): ["HK", "CN"],
        "accounts": [marker({"type": "card", "limit": 80000}), marker({"type": "loan"}), "open"],
    }


def _to_theirs(claims: Any) -> Any:
    if isinstance(claims, SD):
        return SDObj(_to_theirs(claims.value))
    if isinstance(claims, dict):
        return {_to_theirs(k): _to_theirs(v) for k, v in claims.items()}
    if isinstance(claims, list):
        return [_to_theirs(v) for v in claims]
    return claims


def _keys() -> tuple[PrivateKey, PrivateKey, JWK, JWK]:
    issuer, holder = PrivateKey.generate(), PrivateKey.generate()
    return issuer, holder, JWK(**issuer.to_jwk()), JWK(**holder.to_jwk())


EXPECTED = {
    "iss": ISS,
    "given_name": "Tai Man",
    "score": {"grade": "B"},
    "accounts": [{"type": "card", "limit": 80000}, "open"],
}


def test_ours_issue_theirs_present_and_verify() -> None:
    issuer, holder, issuer_jwk, holder_jwk = _keys()
    issued = issue(_claims(SD), issuer, holder_key=holder.public_key())
    theirs = SDJWTHolder(issued.serialization)
    theirs.create_presentation(
        {"given_name": True, "score": {"grade": True}, "accounts": [True, False]},
        nonce=NONCE, aud=AUD, holder_key=holder_jwk, sign_alg="ES256",
    )
    verifier = SDJWTVerifier(
        theirs.sd_jwt_presentation, lambda iss, header: issuer_jwk,
        expected_aud=AUD, expected_nonce=NONCE,
    )
    payload = verifier.get_verified_payload()
    assert {k: v for k, v in payload.items() if k != "cnf"} == EXPECTED
    # …and our verifier accepts the reference holder's presentation too
    policy = KeyBindingPolicy(aud=AUD, nonce=NONCE, now=int(time.time()))  # theirs uses the clock
    ours = verify(theirs.sd_jwt_presentation, issuer.public_key(), key_binding=policy)
    assert {k: v for k, v in ours.claims.items() if k != "cnf"} == EXPECTED


def test_theirs_issue_ours_present_and_verify() -> None:
    issuer, holder, issuer_jwk, holder_jwk = _keys()
    theirs = SDJWTIssuer(
        _to_theirs(_claims(SD)), issuer_jwk, holder_key=holder_jwk, sign_alg="ES256",
        add_decoy_claims=True,
    )
    credential = HolderCredential.from_issuance(theirs.sd_jwt_issuance)
    presentation = credential.present(
        [["given_name"], ["score", "grade"], ["accounts", 0]],
        holder_key=holder, aud=AUD, nonce=NONCE, iat=NOW,
    )
    policy = KeyBindingPolicy(aud=AUD, nonce=NONCE, now=NOW)
    ours = verify(presentation, issuer.public_key(), key_binding=policy)
    assert {k: v for k, v in ours.claims.items() if k != "cnf"} == EXPECTED
    # the reference verifier agrees on our presentation of its credential
    payload = SDJWTVerifier(
        presentation, lambda iss, header: issuer_jwk, expected_aud=AUD, expected_nonce=NONCE
    ).get_verified_payload()
    assert {k: v for k, v in payload.items() if k != "cnf"} == EXPECTED
