"""JOSE: RFC 8037 vectors, the allow-lists, and the classic JWS attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from vc import errors
from vc.b64 import b64u_decode, b64u_encode
from vc.jose import (
    PrivateKey,
    PublicKey,
    decode_compact,
    jwk_thumbprint,
    sign_compact,
    verify_compact,
)

# RFC 8037 Appendix A.1–A.4 (Ed25519 key, thumbprint, and a deterministic signature)
RFC8037_PRIVATE = {
    "kty": "OKP", "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def _part(obj: object) -> str:
    return b64u_encode(json.dumps(obj).encode())


def test_rfc8037_thumbprint_and_signature() -> None:
    key = PrivateKey.from_jwk(RFC8037_PRIVATE)
    assert key.public_key().thumbprint() == RFC8037_THUMBPRINT
    assert jwk_thumbprint({k: v for k, v in RFC8037_PRIVATE.items() if k != "d"}) == RFC8037_THUMBPRINT
    token = sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", key)
    assert token == RFC8037_JWS
    assert verify_compact(RFC8037_JWS, key.public_key()).payload == b"Example of Ed25519 signing"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_round_trip_and_jwk_export(alg: str) -> None:
    key = PrivateKey.generate(alg)
    again = PrivateKey.from_jwk(key.to_jwk())
    token = sign_compact({"typ": "x+jwt"}, {"hello": "世界"}, again)
    assert verify_compact(token, key.public_key(), typ="x+jwt").claims() == {"hello": "世界"}
    assert PublicKey.from_jwk(key.public_key().to_jwk()) == key.public_key()


def test_fully_specified_ed25519_name_is_accepted() -> None:
    key = PrivateKey.generate("EdDSA")
    token = sign_compact({"alg": "Ed25519"}, {"a": 1}, key)
    assert verify_compact(token, key.public_key()).header["alg"] == "Ed25519"


def test_alg_none_is_refused() -> None:
    key = PrivateKey.generate()
    token = f"{_part({'alg': 'none'})}.{_part({'a': 1})}."
    with pytest.raises(errors.UnsupportedAlgorithm):
        verify_compact(token, key.public_key())


def test_hmac_with_the_public_key_is_refused() -> None:
    """The classic confusion attack: HS256 keyed with the verifier's public key."""
    key = PrivateKey.generate()
    secret = json.dumps(key.public_key().to_jwk()).encode()
    signing_input = f"{_part({'alg': 'HS256'})}.{_part({'admin': True})}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(errors.UnsupportedAlgorithm):
        verify_compact(f"{signing_input}.{b64u_encode(mac)}", key.public_key())


def test_key_in_header_is_not_trusted() -> None:
    trusted, attacker = PrivateKey.generate(), PrivateKey.generate()
    token = sign_compact({"jwk": attacker.public_key().to_jwk()}, {"a": 1}, attacker)
    with pytest.raises(errors.InvalidSignature):
        verify_compact(token, trusted.public_key())


def test_algorithm_must_match_key_type() -> None:
    ed, p256 = PrivateKey.generate("EdDSA"), PrivateKey.generate("ES256")
    token = sign_compact({}, {"a": 1}, ed)
    with pytest.raises(errors.UnsupportedAlgorithm):
        verify_compact(token, p256.public_key())


def test_allow_list_is_per_call() -> None:
    key = PrivateKey.generate("EdDSA")
    token = sign_compact({}, {"a": 1}, key)
    with pytest.raises(errors.UnsupportedAlgorithm):
        verify_compact(token, key.public_key(), algs={"ES256"})


@pytest.mark.parametrize("crit", [["exp"], "exp", [], [1]])
def test_unknown_or_malformed_crit_is_refused(crit: object) -> None:
    key = PrivateKey.generate()
    token = sign_compact({"crit": crit, "exp": 1}, {"a": 1}, key)
    with pytest.raises(errors.UnknownCritical):
        verify_compact(token, key.public_key())


def test_understood_crit_is_accepted() -> None:
    key = PrivateKey.generate()
    token = sign_compact({"crit": ["exp"], "exp": 1}, {"a": 1}, key)
    verify_compact(token, key.public_key(), understood_crit={"exp"})


def test_wrong_typ() -> None:
    key = PrivateKey.generate()
    with pytest.raises(errors.WrongType):
        verify_compact(sign_compact({"typ": "JWT"}, {}, key), key.public_key(), typ="kb+jwt")


def test_tampered_payload_and_signature() -> None:
    key = PrivateKey.generate()
    h, p, s = sign_compact({}, {"amount": 1}, key).split(".")
    with pytest.raises(errors.InvalidSignature):
        verify_compact(f"{h}.{_part({'amount': 9})}.{s}", key.public_key())
    with pytest.raises(errors.InvalidSignature):
        short = b64u_encode(b64u_decode(s)[:-1])  # 63 bytes: not an ES256 signature
        verify_compact(f"{h}.{p}.{short}", key.public_key())


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!.e30.", f"{_part([1])}.e30.", "eyJhbGciOiJFUzI1NiJ9.e30.AAA=", "e30=.e30."],
)
def test_malformed_tokens_get_named_errors(token: str) -> None:
    key = PrivateKey.generate()
    with pytest.raises(errors.VCError):
        verify_compact(token, key.public_key())


def test_oversized_token() -> None:
    with pytest.raises(errors.LimitExceeded):
        decode_compact("a" * 300_000)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        # a point that is not on P-256
        {"kty": "EC", "crv": "P-256", "x": b64u_encode(b"\x01" * 32), "y": b64u_encode(b"\x02" * 32)},
        "not a jwk",
    ],
)
def test_bad_jwks_refused(jwk: object) -> None:
    with pytest.raises(errors.InvalidKey):
        PublicKey.from_jwk(jwk)


def test_public_import_refuses_private_material() -> None:
    with pytest.raises(errors.InvalidKey):
        PublicKey.from_jwk(PrivateKey.generate().to_jwk())


def test_private_jwk_with_mismatched_public_part() -> None:
    a, b = PrivateKey.generate().to_jwk(), PrivateKey.generate().to_jwk()
    with pytest.raises(errors.InvalidKey):
        PrivateKey.from_jwk({**a, "x": b["x"], "y": b["y"]})


@pytest.mark.parametrize("text", ["AA==", "A", "+/8", "AB"])
def test_strict_base64url(text: str) -> None:
    # padding, the standard alphabet, impossible lengths and non-zero trailing bits are refused
    with pytest.raises(errors.InvalidBase64):
        b64u_decode(text)


def test_base64url_round_trip() -> None:
    for n in range(40):
        data = bytes(range(n))
        assert b64u_decode(b64u_encode(data)) == data
        assert b64u_encode(data) == base64.urlsafe_b64encode(data).decode().rstrip("=")
