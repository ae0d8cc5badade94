"""The compact presentation container (docs/qr.md §3): exact round trips and named rejections."""

from __future__ import annotations

import json
import secrets
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_qr_samples import IAT, make_sample
from vc.b64 import b64u_decode, b64u_encode
from vc.jose import PrivateKey
from vc.qr import codec
from vc.qr.codec import (
    MAGIC,
    TEXT_PREFIX,
    decode_container,
    decode_presentation_payload,
    encode_presentation,
    encode_presentation_text,
    split_presentation,
    write_varint,
)
from vc.qr.dictionary import DICTIONARY_V1, DICTIONARY_V1_SHA256
from vc.qr.errors import QRError
from vc.sdjwt import SD, HolderCredential, digest_of, issue

LAYOUT_CASES = [
    ("flat", "assessment"), ("flat", "loan-precheck"), ("grouped", "assessment"),
    ("grouped", "loan-precheck"), ("decision", "assessment"), ("decision", "loan-precheck"),
]


@pytest.fixture(scope="module")
def sample_text() -> str:
    return make_sample("flat", "loan-precheck").presentation


@pytest.fixture(scope="module")
def container(sample_text: str) -> bytes:
    return encode_presentation(sample_text)


def _code(call: object, *args: object) -> str:
    with pytest.raises(QRError) as info:
        call(*args)  # type: ignore[operator]
    return info.value.code


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("layout", "selection"), LAYOUT_CASES)
def test_round_trip_is_exact_and_still_verifies(layout: str, selection: str) -> None:
    sample = make_sample(layout, selection)
    container = encode_presentation(sample.presentation)
    assert container[:2] == bytes([MAGIC, 1])
    restored = decode_container(container)
    assert restored == sample.presentation
    sample.verify(restored)  # signature, digests, KB-JWT (sd_hash, aud, nonce) all hold
    assert len(container) < 0.4 * len(sample.presentation)


def test_credit_report_builder_round_trip() -> None:
    sample = make_sample("credit_report", "loan-precheck")
    restored = decode_container(encode_presentation(sample.presentation))
    assert restored == sample.presentation
    sample.verify(restored)


def test_ed25519_presentation_round_trip() -> None:
    sample = make_sample("decision", "assessment", alg="EdDSA")
    restored = decode_container(encode_presentation(sample.presentation))
    assert restored == sample.presentation
    sample.verify(restored)


def _plain_sd_jwt(disclosed: int) -> tuple[str, HolderCredential, PrivateKey]:
    issuer, holder = PrivateKey.generate(), PrivateKey.generate()
    issued = issue({SD(f"c{i}"): i for i in range(5)}, issuer, holder_key=holder.public_key())
    wallet = HolderCredential.from_issuance(issued.serialization)
    return wallet.present([[f"c{i}"] for i in range(disclosed)]), wallet, holder


@pytest.mark.parametrize("disclosed", [0, 1, 5])
def test_sd_jwt_without_key_binding(disclosed: int) -> None:
    text, _, _ = _plain_sd_jwt(disclosed)
    assert text.endswith("~")
    container = encode_presentation(text)
    assert container[2] & codec.FLAG_KB == 0
    assert decode_container(container) == text


def test_key_binding_with_no_disclosures() -> None:
    _, wallet, holder = _plain_sd_jwt(0)
    text = wallet.present([], holder_key=holder, aud="x509_hash:abc", nonce="n-0123456789", iat=IAT)
    assert text.count("~") == 1
    assert decode_container(encode_presentation(text)) == text


def test_tokens_remove_every_recomputable_digest(sample_text: str, container: bytes) -> None:
    """Presented disclosures' digests and sd_hash are not in the container in any form."""
    seg = split_presentation(sample_text)
    kb_claims = json.loads(seg.kb[1]) if seg.kb else {}
    recomputable = [digest_of(b64u_encode(d)) for d in seg.disclosures] + [kb_claims["sd_hash"]]
    for digest in recomputable:
        assert b64u_decode(digest) not in container
        assert digest.encode() not in zlib.decompressobj(-15, zdict=DICTIONARY_V1).decompress(
            container[4:]
        )
    assert container[2] & codec.FLAG_TOKENS


def test_tokens_are_optional_and_cost_more_without(sample_text: str, container: bytes) -> None:
    plain = encode_presentation(sample_text, tokens=False)
    assert plain[2] & codec.FLAG_TOKENS == 0
    assert decode_container(plain) == sample_text
    assert len(container) < len(plain) - 300


def test_base45_text_form(sample_text: str, container: bytes) -> None:
    text_form = encode_presentation_text(sample_text)
    assert text_form.startswith(TEXT_PREFIX)
    assert len(text_form) == len(TEXT_PREFIX) + 3 * (len(container) // 2) + 2 * (len(container) % 2)
    assert decode_presentation_payload(text_form) == sample_text
    assert decode_presentation_payload(text_form.encode("ascii")) == sample_text
    assert decode_presentation_payload(container) == sample_text


def test_json_payload_that_is_not_json_is_carried_literally() -> None:
    """A payload the tokenizer cannot parse is still carried byte-exactly (tokens off)."""
    header = b64u_encode(b'{"alg":"ES256"}')
    payload = b64u_encode(b'{"a":"\x01\x02\x03 not json')
    sig = b64u_encode(secrets.token_bytes(64))
    text = f"{header}.{payload}.{sig}~{b64u_encode(b'[1]')}~"
    container = encode_presentation(text)
    assert container[2] & codec.FLAG_TOKENS == 0
    assert decode_container(container) == text


def test_disclosure_bytes_that_collide_with_tokens_disable_tokens() -> None:
    text, _, _ = _plain_sd_jwt(2)
    jwt, *rest = text.split("~")
    odd = b64u_encode(b'["salt\x01", "x", 1]')
    weird = "~".join([jwt, odd, *rest])
    container = encode_presentation(weird)
    assert container[2] & codec.FLAG_TOKENS == 0
    assert decode_container(container) == weird


def test_dictionary_is_pinned() -> None:
    assert len(DICTIONARY_V1) == 1856
    assert DICTIONARY_V1_SHA256 == "8c9137dc94681937039bf9a4a721be59b1439ac3ae172bd63010ae4e55f44863"


# --------------------------------------------------------------------------- refusing to encode


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t + "\n",
        lambda t: " " + t,
        lambda t: t.replace(".", "..", 1),
        lambda t: t.replace("~", "~~", 1),
        lambda t: "é" + t,
        lambda t: t.split("~")[0],          # no '~' at all
        lambda t: t.split(".")[0] + "=~",   # padding
    ],
)
def test_inexact_input_is_not_encodable(sample_text: str, mutate) -> None:  # type: ignore[no-untyped-def]
    assert _code(encode_presentation, mutate(sample_text)) == "qr_not_encodable"


def test_non_canonical_base64url_is_not_encodable(sample_text: str) -> None:
    jwt, *rest = sample_text.split("~")
    h, p, s = jwt.split(".")
    # 64 bytes -> 86 chars; the last char carries 4 unused bits: set one of them
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    s2 = s[:-1] + alphabet[alphabet.index(s[-1]) | 1]
    assert _code(encode_presentation, "~".join([f"{h}.{p}.{s2}", *rest])) == "qr_not_encodable"


def test_json_serialization_is_not_encodable(sample_text: str) -> None:
    assert _code(encode_presentation, '{"payload": "x"}') == "qr_not_encodable"


# --------------------------------------------------------------------------- decoding: named errors


def test_every_truncation_is_named_truncated(container: bytes) -> None:
    for cut in range(len(container)):
        assert _code(decode_container, container[:cut]) == "qr_truncated", cut


def test_trailing_bytes_are_malformed(container: bytes) -> None:
    assert _code(decode_container, container + b"\x00") == "qr_malformed"


def test_every_single_byte_corruption_is_named(sample_text: str, container: bytes) -> None:
    """Damage is refused with a name, or (only in the ignored padding bits that end the
    DEFLATE stream) changes nothing: never a different presentation."""
    codes = set()
    for position in range(len(container)):
        damaged = bytearray(container)
        damaged[position] ^= 0x40
        try:
            assert decode_container(bytes(damaged)) == sample_text
        except QRError as exc:
            codes.add(exc.code)
    assert codes <= {
        "qr_corrupted", "qr_truncated", "qr_malformed", "qr_unsupported_version",
        "qr_not_presentation", "qr_too_large",
    }
    # the tail is the KB signature and the CRC: damage there is caught by the checksum
    for position in range(len(container) - 68, len(container)):
        damaged = bytearray(container)
        damaged[position] ^= 0x01
        assert _code(decode_container, bytes(damaged)) == "qr_corrupted"


def test_unknown_version_and_flags(container: bytes) -> None:
    assert _code(decode_container, container[:1] + b"\x02" + container[2:]) == (
        "qr_unsupported_version"
    )
    flags = container[2] | 0x80
    assert _code(decode_container, container[:2] + bytes([flags]) + container[3:]) == (
        "qr_unsupported_version"
    )
    assert _code(decode_container, b"\x00" + container[1:]) == "qr_not_presentation"


def _container(
    flags: int, segments: list[bytes], *, n: int, raw: bytes = b"",
    sigs: tuple[bytes, ...] = (bytes(64),), crc: int = 0, block: bytes | None = None,
) -> bytes:
    """A hand-made container, to reach the checks an honest encoder never trips."""
    body = block if block is not None else b"".join(write_varint(len(s)) + s for s in segments)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_V1)
    deflated = compressor.compress(body) + compressor.flush()
    out = bytes([MAGIC, 1, flags]) + write_varint(n) + deflated + raw
    out += b"".join(write_varint(len(s)) + s for s in sigs)
    return out + crc.to_bytes(4, "big")


T = codec.FLAG_TOKENS


def test_cyclic_disclosure_tokens_are_malformed() -> None:
    segments = [b"{}", b"{}", b'["\x01\x01"]', b'["\x01\x00"]']
    assert _code(decode_container, _container(T, segments, n=2)) == "qr_malformed"


def test_token_errors_are_malformed() -> None:
    cases = [
        [b"{}", b'"\x02"', b"[]"],                  # sd_hash token outside the KB payload
        [b"{}", b'"\x01\x05"', b"[]"],              # digest token beyond the disclosures
        [b"{}", b'"\x03\x05"', b"[]"],              # raw token of impossible length (4n+1)
        [b"{}", b'"\x01\x80\x00"', b"[]"],          # non-minimal varint
        [b"{}", b"{}", b"[\x01"],                   # token cut off at the segment's end
    ]
    for segments in cases:
        assert _code(decode_container, _container(T, segments, n=1, raw=bytes(8))) == (
            "qr_malformed"
        ), segments


def test_segment_count_mismatch_is_malformed() -> None:
    assert _code(decode_container, _container(0, [b"{}", b"{}"], n=1)) == "qr_malformed"
    assert _code(decode_container, _container(0, [b"{}", b"{}", b"x", b"y"], n=1)) == (
        "qr_malformed"
    )


def test_signature_length_out_of_range_is_malformed() -> None:
    assert _code(decode_container, _container(0, [b"{}", b"{}"], n=0, sigs=(b"",))) == (
        "qr_malformed"
    )


def test_decompression_bomb_is_too_large() -> None:
    bomb = _container(0, [], n=0, block=bytes(10 * 1024 * 1024))
    assert len(bomb) < 20_000
    assert _code(decode_container, bomb) == "qr_too_large"


def test_damaged_deflate_stream_is_corrupted() -> None:
    bad = bytes([MAGIC, 1, 0, 0]) + b"\xff\xff\xff\xff" + bytes(70)
    assert _code(decode_container, bad) in {"qr_corrupted", "qr_truncated", "qr_malformed"}


def test_wrong_checksum_is_corrupted() -> None:
    assert _code(decode_container, _container(0, [b"{}", b"{}"], n=0, crc=1)) == "qr_corrupted"


def test_not_a_presentation_payload() -> None:
    for payload in (b"openid4vp://?client_id=x", "HC1:ABC", b"\xc6\x01", b"", "SC:ab"):
        assert _code(decode_presentation_payload, payload) in {
            "qr_not_presentation", "qr_invalid_base45"
        }


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_only_named_errors(data: bytes) -> None:
    for candidate in (data, bytes([MAGIC, 1]) + data, bytes([MAGIC, 1, T]) + data):
        try:
            decode_container(candidate)
        except QRError:
            pass


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_mutated_containers_only_named_errors(container: bytes, data: st.DataObject) -> None:
    damaged = bytearray(container)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    try:
        decoded = decode_container(bytes(damaged))
    except QRError:
        return
    assert decoded == decode_container(container)  # never a different presentation


# --------------------------------------------------------------------------- pinned vector

# docs/qr.md §3.7: an Ed25519 (RFC 8037 key, deterministic signatures) SD-JWT+KB with fixed
# salts, and its container. Decoders must restore exactly this text; encoders may DEFLATE
# differently, so only decoding is pinned.
VECTOR_TEXT = (
    "eyJ0eXAiOiJkYytzZC1qd3QiLCJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwczovL2NyYS5leGFtcGxlIiwidmN"
    "0IjoiaHR0cHM6Ly93M2lkLm9yZy9zZWxmY2FycnkvdmN0L2hrLWNyZWRpdC1yZXBvcnQvdjEiLCJpYXQiOjE3NzI"
    "0MDk2MDAsImV4cCI6MTc3NTAwMTYwMCwibGQiOnsiY3JlZGVudGlhbFN1YmplY3QiOnsiYXNzZXNzbWVudCI6eyJ"
    "fc2QiOlsiWFdjOGF5R2pFQS1aNlNNbDZCQWJoQ2lDVUlvc2NkNkRRSWpuYWlhMmR0USIsInhaa28xWFJnQ3NrLTY"
    "1UlVWdU43bFk2TVVUYzEyaWhNTF9JbmRxNkdkUFEiXX19fSwiX3NkX2FsZyI6InNoYS0yNTYiLCJjbmYiOnsiand"
    "rIjp7Imt0eSI6Ik9LUCIsImNydiI6IkVkMjU1MTkiLCJ4IjoiMTFxWUFZS3hDcmZWU183VHlXUUhPZzdoY3ZQYXB"
    "pTWxyd0lhYVBjSFVSbyJ9fX0.e7u5RutGS9hzFcigd3Cbq-WnWn6keCuwRbYAWGgZOL0AFKxKDA2nDRxDwAofuvy"
    "3DTdhS34hETbkjTz7KRLADQ~WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3Iiwicmlza0dyYWRlIiwiQiJd~eyJ0eXA"
    "iOiJrYitqd3QiLCJhbGciOiJFZERTQSJ9.eyJpYXQiOjE3NzI0MDk2NjAsImF1ZCI6Ing1MDlfc2FuX2RuczpiYW"
    "5rLmV4YW1wbGUiLCJub25jZSI6Im4tMFM2X1d6QTJNaiIsInNkX2hhc2giOiIxMks4V21xVlVMaGJRdllmX3M2YU"
    "ZrYlFoNERUejlTYzdvT2VPZVNZbmtvIn0.yF6A2jyv9SD3zzEBAUB4IvdaBKC7QfI3K4xL5mcMtXbEjJ2_AR4e0J"
    "I_KYkis1fz_6JefD9guvPzsN1wQjivAA"
)
VECTOR_CONTAINER = bytes.fromhex(
    "c501030153c496c6914b94da4626f4c40d2c6ef5522b12730b7252a992cecd8d4c0c2ccd0c0ce0c9dcdcd4c0"
    "c0102c0049bb58e3176bdc3032008d65d6064500093180bb78041a0534492c5a89590c28825cca3929c5cae1"
    "8a0f48c04556a37ad0cc0025628a13f3e253f28aad9212f3b2918213164f79ba06c166f1e1558e46be592871"
    "c6a4540b00c59928d574600ac93eeb945456e37b958e8c513735da284c2ff22776ae8674f4d75a980182b10a"
    "b7d54bfed3c964073a0ee172f3daa62325af021a68f707511ad862c2e36b0a42f7827c67ebc8d44df7407bbb"
    "b946eb464bd87315c8a077709babe5a75a7ea4782bb045b60058681938bd0014ac4a0c0da70d1c43c00a1fba"
    "fcb70d37614b7e211136e48d3cfb2912c00d40c85e80da3caff520f7cf310101407822f75a04a0bb41f2372b"
    "8c4be6670cb576c48c9dbf011e1ed0923f298922b357f3ffa25e7c3f60baf3f3b0dd704238af00cd9ef2ea"
)


def test_pinned_container_vector_decodes_and_verifies() -> None:
    from vc.jose import PublicKey
    from vc.sdjwt import KeyBindingPolicy, verify

    assert decode_container(VECTOR_CONTAINER) == VECTOR_TEXT
    assert VECTOR_CONTAINER[:3] == bytes([0xC5, 0x01, 0x03])  # magic, v1, KB + tokens, sha-256
    holder = PublicKey.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    )
    policy = KeyBindingPolicy(aud="x509_san_dns:bank.example", nonce="n-0S6_WzA2Mj", now=1772409660)
    verified = verify(VECTOR_TEXT, holder, key_binding=policy, algs=("EdDSA",))
    assert verified.claims["ld"]["credentialSubject"] == {"assessment": {"riskGrade": "B"}}
