"""Log entries: one canonical byte string per entry, bounded, and no personal data."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hash_registry.entries import (
    MAX_ENTRY_SIZE,
    AnchorEntry,
    IssuerKeyEntry,
    RevocationEntry,
    VerifierKeyEntry,
    credential_digest,
    credential_digest_hex,
    decode_entry,
    jwk_thumbprint,
    parse_digest_hex,
    vct_tag,
)
from hash_registry.errors import InvalidEntry
from hash_registry.merkle import leaf_hash

# RFC 7638 §3.1 uses an RSA key; these are the RFC 7517 Appendix A.1 EC example and
# the RFC 8037 §A.2 Ed25519 example, whose thumbprint RFC 8037 §A.3 publishes.
EC_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
    "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
    "use": "enc",
    "kid": "1",
}
OKP_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

DIGEST = hashlib.sha256(b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln").digest()
ISS = "https://cra.example.hk"
VCT = "https://w3id.org/selfcarry/vct/hk-credit-report/v1"


def _jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'dc+sd-jwt'})}.{part(claims)}.c2lnbmF0dXJl"


def examples() -> list[Any]:
    return [
        AnchorEntry.create(DIGEST, ISS, VCT, 1_767_225_600, 1_775_001_600),
        AnchorEntry(DIGEST, "i", b"\0" * 8, 0, 0),
        IssuerKeyEntry.for_jwk(ISS, EC_JWK, 1_767_225_600),
        IssuerKeyEntry.for_jwk("https://cra2.example", OKP_JWK, 0),
        VerifierKeyEntry.for_jwk("https://bank.example.cn", OKP_JWK, "示例银行 Example Bank", 5),
        RevocationEntry(DIGEST, "keyCompromise", 1_767_225_601),
        RevocationEntry(DIGEST, "superseded", 2**63 - 1),
    ]


@pytest.mark.parametrize("entry", examples(), ids=lambda e: e.kind)
def test_round_trip_is_exact(entry: Any) -> None:
    data = entry.encode()
    assert len(data) <= MAX_ENTRY_SIZE
    assert data[0] == 1
    decoded = decode_entry(data)
    assert decoded == entry
    assert decoded.encode() == data
    assert entry.leaf_hash() == leaf_hash(data)
    assert json.loads(json.dumps(entry.to_dict()))["kind"] == entry.kind


def test_anchor_is_compact() -> None:
    anchor = AnchorEntry.create(DIGEST, ISS, VCT, 1_767_225_600, 1_775_001_600)
    assert len(anchor.encode()) == 53 + len(ISS) == 75
    assert anchor.matches_vct(VCT)
    assert not anchor.matches_vct(VCT + "x")
    assert anchor.vct_tag == hashlib.sha256(VCT.encode()).digest()[:8] == vct_tag(VCT)


def test_anchor_bytes_are_as_documented() -> None:
    anchor = AnchorEntry(DIGEST, "ab", b"T" * 8, 128, 300)
    assert anchor.encode() == (
        b"\x01\x01" + DIGEST + b"\x02ab" + b"T" * 8 + b"\x80\x01" + b"\xac\x02"
    )
    revocation = RevocationEntry(DIGEST, "r", 0)
    assert revocation.encode() == b"\x01\x04" + DIGEST + b"\x01r\x00"


def test_thumbprints() -> None:
    assert jwk_thumbprint(OKP_JWK) == base64.urlsafe_b64decode(RFC8037_THUMBPRINT + "=")
    entry = IssuerKeyEntry.for_jwk(ISS, EC_JWK, 0)
    required = {k: EC_JWK[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    assert entry.thumbprint == hashlib.sha256(canonical).digest()
    with pytest.raises(InvalidEntry, match="thumbprint"):
        IssuerKeyEntry(ISS, b"\0" * 32, EC_JWK, 0)


def test_anchor_for_credential_reads_the_issuer_jwt() -> None:
    jwt = _jwt({"iss": ISS, "vct": VCT, "iat": 1_767_225_600, "exp": 1_775_001_600, "_sd": []})
    sd_jwt = jwt + "~WyJzYWx0IiwiYSIsMV0~"
    anchor = AnchorEntry.for_credential(sd_jwt)
    assert anchor == AnchorEntry.create(
        hashlib.sha256(jwt.encode()).digest(), ISS, VCT, 1_767_225_600, 1_775_001_600
    )
    assert credential_digest(sd_jwt) == credential_digest(jwt) == anchor.digest
    assert credential_digest_hex(sd_jwt) == anchor.digest.hex()
    for claims in [{"iss": ISS, "vct": VCT, "iat": 1}, {"vct": VCT, "iat": 1, "exp": 2}]:
        with pytest.raises(InvalidEntry):
            AnchorEntry.for_credential(_jwt(claims))


@pytest.mark.parametrize(
    "text", ["", "~", "abc", "a.b", "a.b.c.d", "a.b.c d", "a..c", "é.b.c", None, "x" * (2**20 + 1)]
)
def test_credential_digest_refuses_what_is_not_a_jws(text: Any) -> None:
    with pytest.raises(InvalidEntry):
        credential_digest(text)


def test_parse_digest_hex() -> None:
    assert parse_digest_hex(DIGEST.hex()) == DIGEST
    assert parse_digest_hex(DIGEST.hex().upper()) == DIGEST
    for bad in ["", DIGEST.hex()[:-1], DIGEST.hex() + "00", "g" * 64]:
        with pytest.raises(InvalidEntry):
            parse_digest_hex(bad)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AnchorEntry(DIGEST[:31], ISS, b"\0" * 8, 0, 0),
        lambda: AnchorEntry(DIGEST, "", b"\0" * 8, 0, 0),
        lambda: AnchorEntry(DIGEST, "x" * 256, b"\0" * 8, 0, 0),
        lambda: AnchorEntry(DIGEST, "a\nb", b"\0" * 8, 0, 0),
        lambda: AnchorEntry(DIGEST, ISS, VCT, 0, 0),  # type: ignore[arg-type]  # a vct, not its tag
        lambda: AnchorEntry(DIGEST, ISS, b"\0" * 8, -1, 0),
        lambda: AnchorEntry(DIGEST, ISS, b"\0" * 8, 2, 1),
        lambda: AnchorEntry(DIGEST, ISS, b"\0" * 8, 0, 2**63),
        lambda: AnchorEntry(DIGEST, ISS, b"\0" * 8, True, 2),
        lambda: RevocationEntry(DIGEST, "has space", 0),
        lambda: RevocationEntry(DIGEST, "", 0),
        lambda: RevocationEntry(DIGEST, "x" * 65, 0),
        lambda: IssuerKeyEntry.for_jwk(ISS, {**EC_JWK, "d": "secret"}, 0),
        lambda: IssuerKeyEntry.for_jwk(ISS, {"kty": "oct", "k": "AAAA"}, 0),
        lambda: IssuerKeyEntry.for_jwk(ISS, {"kty": "EC", "crv": "P-256", "x": "AA"}, 0),
        lambda: IssuerKeyEntry.for_jwk(ISS, {**EC_JWK, "key_ops": ["verify"]}, 0),
        lambda: IssuerKeyEntry.for_jwk(ISS, {**EC_JWK, "x5c": "A" * 3000}, 0),
        lambda: VerifierKeyEntry.for_jwk("c", OKP_JWK, "", 0),
    ],
)
def test_invalid_fields_are_refused(make: Any) -> None:
    with pytest.raises(InvalidEntry) as info:
        make()
    assert info.value.code == "invalid_entry"


def _mutations(data: bytes) -> list[bytes]:
    return [
        b"",
        data[:1],
        data[:-1],
        data + b"\0",
        b"\x02" + data[1:],  # unknown version
        data[:1] + b"\x09" + data[2:],  # unknown kind
    ]


@pytest.mark.parametrize("entry", examples(), ids=lambda e: e.kind)
def test_truncated_extended_and_unknown_are_refused(entry: Any) -> None:
    for bad in _mutations(entry.encode()):
        with pytest.raises(InvalidEntry):
            decode_entry(bad)


def test_non_canonical_encodings_are_refused() -> None:
    base = b"\x01\x01" + DIGEST + b"\x02ab" + b"T" * 8
    assert decode_entry(base + b"\x01\x02").encode() == base + b"\x01\x02"
    for bad in [
        base + b"\x81\x00\x02",  # iat = 1 with a redundant continuation byte
        base + b"\x01\x82\x80\x00",  # exp with a trailing zero group
        base + b"\xff" * 9 + b"\x01\x02",  # more than 63 bits
        b"\x01\x01" + DIGEST + b"\x00" + b"T" * 8 + b"\x01\x02",  # empty issuer
        b"\x01\x01" + DIGEST + b"\x02a\xff" + b"T" * 8 + b"\x01\x02",  # not UTF-8
        b"\x01\x01" + DIGEST + b"\x02a\x00" + b"T" * 8 + b"\x01\x02",  # control char
    ]:
        with pytest.raises(InvalidEntry):
            decode_entry(bad)
    key = IssuerKeyEntry.for_jwk(ISS, OKP_JWK, 7).encode()
    canonical = json.dumps(OKP_JWK, sort_keys=True, separators=(",", ":")).encode()
    assert canonical in key
    for spelled in [
        json.dumps(OKP_JWK).encode(),  # whitespace, unsorted
        json.dumps(OKP_JWK, separators=(",", ":")).encode(),  # unsorted
        canonical.replace(b'"x"', b'"\\u0078"'),  # escaped
    ]:
        start = key.index(canonical) - 2
        other = (
            key[:start]
            + len(spelled).to_bytes(2, "big")
            + spelled
            + key[start + 2 + len(canonical) :]
        )
        with pytest.raises(InvalidEntry):
            decode_entry(other)
    with pytest.raises(InvalidEntry):
        decode_entry(b"\x01\x01" + b"\0" * (MAX_ENTRY_SIZE + 1))
    with pytest.raises(InvalidEntry):
        decode_entry("text")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_fail_by_name(data: bytes) -> None:
    try:
        entry = decode_entry(data)
    except InvalidEntry:
        return
    assert entry.encode() == data


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.text(
        st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1, max_size=60
    ).filter(lambda s: "\x7f" not in s),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 2**63 - 1),
    st.integers(0, 2**40),
)
def test_anchor_round_trip_property(
    digest: bytes, issuer: str, tag: bytes, iat: int, extra: int
) -> None:
    exp = min(iat + extra, 2**63 - 1)
    entry = AnchorEntry(digest, issuer, tag, iat, exp)
    data = entry.encode()
    assert decode_entry(data) == entry
    for i in range(len(data)):
        mutated = data[:i] + data[i + 1 :]
        try:
            other = decode_entry(mutated)
        except InvalidEntry:
            continue
        assert other.encode() == mutated and other != entry
