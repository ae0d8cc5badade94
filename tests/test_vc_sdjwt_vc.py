"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): typ, registered claims, times, issuer metadata."""

from __future__ import annotations

import pytest

from vc import errors
from vc.issuer_metadata import IssuerMetadata, TrustedIssuers, metadata_url
from vc.jose import PrivateKey
from vc.sdjwt import SD, HolderCredential, KeyBindingPolicy, issue
from vc.sdjwt_vc import issue_credential, verify_credential

ISS, VCT, AUD, NONCE, NOW = "https://cra.example/hk", "urn:example:vct", "https://bank.example", "n1", 1_750_000_000
CRA, HOLDER = PrivateKey.generate(), PrivateKey.generate()
KB = KeyBindingPolicy(aud=AUD, nonce=NONCE, now=NOW)


def _metadata(key: PrivateKey = CRA, kid: str = "k1", issuer: str = ISS) -> IssuerMetadata:
    return IssuerMetadata.from_json(
        {"issuer": issuer, "jwks": {"keys": [{**key.public_key().to_jwk(), "kid": kid}]}}
    )


def _present(issued: str, paths: list[list[str]] | None = None) -> str:
    holder = HolderCredential.from_issuance(issued)
    return holder.present(paths or [["grade"]], holder_key=HOLDER, aud=AUD, nonce=NONCE, iat=NOW)


def _credential(**overrides: object) -> str:
    args: dict[str, object] = dict(
        issuer=ISS, vct=VCT, iat=NOW - 100, exp=NOW + 1000, holder_key=HOLDER.public_key(),
        kid="k1", status={"status_list": {"idx": 7, "uri": "https://cra.example/status/1"}},
    )
    args.update(overrides)
    return str(issue_credential({SD("grade"): "B", SD("score"): 3468}, CRA, **args))  # type: ignore[arg-type]


def test_issue_and_verify_with_issuer_metadata() -> None:
    trusted = TrustedIssuers([_metadata()])
    result = verify_credential(_present(_credential()), trusted, now=NOW, key_binding=KB)
    assert result.issuer == ISS and result.vct == VCT
    assert result.claims["grade"] == "B" and "score" not in result.claims
    assert result.status == {"status_list": {"idx": 7, "uri": "https://cra.example/status/1"}}
    assert result.holder_key == HOLDER.public_key()


def test_header_is_dc_sd_jwt_with_kid() -> None:
    from vc.jose import decode_compact

    header = decode_compact(_credential().split("~")[0]).header
    assert header == {"typ": "dc+sd-jwt", "kid": "k1", "alg": "ES256"}


@pytest.mark.parametrize(
    ("overrides", "now", "code"),
    [
        ({"exp": NOW - 61}, NOW, "expired"),
        ({"nbf": NOW + 61}, NOW, "not_yet_valid"),
        ({"iat": NOW + 3600}, NOW, "not_yet_valid"),
        ({"exp": None}, NOW, "missing_claim"),
    ],
)
def test_times(overrides: dict[str, object], now: int, code: str) -> None:
    with pytest.raises(errors.CredentialError) as info:
        verify_credential(_present(_credential(**overrides)), CRA.public_key(), now=now,
                          key_binding=KeyBindingPolicy(aud=AUD, nonce=NONCE, now=now))
    assert info.value.code == code


def test_skew_is_bounded_but_tolerated() -> None:
    verify_credential(_present(_credential(exp=NOW - 30)), CRA.public_key(), now=NOW, key_binding=KB)


def test_untrusted_issuer_and_unknown_kid() -> None:
    other = PrivateKey.generate()
    with pytest.raises(errors.IssuerMismatch):
        verify_credential(_present(_credential()), TrustedIssuers([_metadata(issuer="https://x.example")]),
                          now=NOW, key_binding=KB)
    with pytest.raises(errors.IssuerMismatch):
        verify_credential(_present(_credential(kid="k2")), TrustedIssuers([_metadata()]),
                          now=NOW, key_binding=KB)
    with pytest.raises(errors.InvalidSignature):
        verify_credential(_present(_credential()), TrustedIssuers([_metadata(key=other)]),
                          now=NOW, key_binding=KB)


def test_legacy_typ_refused_unless_allowed() -> None:
    issued = str(issue({"iss": ISS, "vct": VCT, "iat": NOW, "exp": NOW + 10, SD("grade"): "B"}, CRA,
                       header={"typ": "vc+sd-jwt"}, holder_key=HOLDER.public_key()))
    with pytest.raises(errors.WrongType):
        verify_credential(_present(issued), CRA.public_key(), now=NOW, key_binding=KB)
    verify_credential(_present(issued), CRA.public_key(), now=NOW, key_binding=KB,
                      typs={"dc+sd-jwt", "vc+sd-jwt"})


def test_key_binding_is_required_by_policy_not_presence() -> None:
    holder = HolderCredential.from_issuance(_credential())
    with pytest.raises(errors.KeyBindingMissing):
        verify_credential(holder.present([["grade"]]), CRA.public_key(), now=NOW, key_binding=KB)


@pytest.mark.parametrize("name", ["exp", "iss", "cnf", "status", "nbf", "vct"])
def test_validity_claims_never_disclosable(name: str) -> None:
    # our issuer refuses to make them disclosable …
    with pytest.raises(errors.SelectionError):
        issue_credential({SD(name): 1}, CRA, issuer=ISS, vct=VCT, iat=NOW, exp=NOW + 10)
    # … and our verifier refuses a credential from an issuer that did
    claims = {"iss": ISS, "vct": VCT, "iat": NOW, "exp": NOW + 10, SD("grade"): "B"}
    if name in ("iss", "vct", "exp"):
        claims.pop(name)
    claims[SD(name)] = {"jwk": HOLDER.public_key().to_jwk()} if name == "cnf" else (
        ISS if name == "iss" else VCT if name == "vct" else NOW + 5 if name in ("exp", "nbf") else {})
    issued = str(issue(claims, CRA, header={"typ": "dc+sd-jwt"},
                       holder_key=None if name == "cnf" else HOLDER.public_key()))
    holder = HolderCredential.from_issuance(issued)
    presentation = holder.present([[name], ["grade"]], holder_key=HOLDER, aud=AUD, nonce=NONCE, iat=NOW)
    with pytest.raises(errors.VCError) as info:
        verify_credential(presentation, CRA.public_key(), now=NOW, key_binding=KB)
    assert info.value.code in ("disclosed_validity_claim", "cnf_missing")


def test_vct_filter() -> None:
    with pytest.raises(errors.CredentialError) as info:
        verify_credential(_present(_credential()), CRA.public_key(), now=NOW, key_binding=KB,
                          vcts={"urn:other"})
    assert info.value.code == "unsupported_vct"


@pytest.mark.parametrize(
    ("iss", "url"),
    [
        ("https://example.com", "https://example.com/.well-known/jwt-vc-issuer"),
        ("https://example.com/", "https://example.com/.well-known/jwt-vc-issuer"),
        ("https://example.com/tenant/1234", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),
    ],
)
def test_metadata_url(iss: str, url: str) -> None:
    assert metadata_url(iss) == url


@pytest.mark.parametrize(
    "doc",
    [
        {"issuer": ISS},
        {"issuer": ISS, "jwks_uri": "https://cra.example/jwks"},
        {"issuer": ISS, "jwks": {"keys": []}, "jwks_uri": "https://cra.example/jwks"},
        {"issuer": ISS, "jwks": {"keys": []}},
        {"jwks": {"keys": [CRA.public_key().to_jwk()]}},
        {"issuer": ISS, "jwks": {"keys": [CRA.to_jwk()]}},
    ],
)
def test_bad_issuer_metadata(doc: dict[str, object]) -> None:
    with pytest.raises(errors.VCError):
        IssuerMetadata.from_json(doc)


def test_metadata_round_trip_and_kid_default() -> None:
    meta = IssuerMetadata.from_json({"issuer": ISS, "jwks": {"keys": [CRA.public_key().to_jwk()]}})
    assert meta.keys[0][0] == CRA.public_key().thumbprint()
    assert IssuerMetadata.from_json(meta.to_json()) == meta
