"""Status List Tokens (statuslist+jwt) and the referenced-token check, with real keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vc.b64 import b64u_encode
from vc.errors import InvalidSignature, JoseError, LimitExceeded, UnsupportedAlgorithm, WrongType
from vc.jose import PrivateKey, PublicKey, sign_compact
from vc.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    InvalidStatusListToken,
    InvalidStatusReference,
    StatusIndexOutOfRange,
    StatusList,
    StatusListExpired,
    StatusListNotYetValid,
    StatusListStale,
    StatusListSubjectMismatch,
    StatusListTimeMismatch,
    StatusListTooLarge,
    StatusReference,
    build_status_list_token,
    check_status,
    parse_status_reference,
    read_status_list_token,
    verify_status_list_token,
)

URI = "https://cra.example/statuslists/7"
ISS = "https://cra.example"
NOW = 1_772_400_000  # 2026-03-01T21:20:00Z
VECTORS = json.loads(
    (Path(__file__).parent / "vectors/status-list/token_status_list_vectors.json").read_text()
)["vectors"]


@pytest.fixture(scope="module", params=["ES256", "Ed25519"])
def key(request: pytest.FixtureRequest) -> PrivateKey:
    return PrivateKey.generate(request.param)


@pytest.fixture(scope="module")
def status_list() -> StatusList:
    sl = StatusList(2, 131_072)
    sl.set(0, INVALID)
    sl.set(42, SUSPENDED)
    sl.set(131_071, INVALID)
    return sl


def _token(key: PrivateKey, sl: StatusList, **kw: Any) -> str:
    args: dict[str, Any] = {
        "sub": URI,
        "iat": NOW - 100,
        "exp": NOW + 3600,
        "ttl": 600,
        "key": key,
        "kid": "status-1",
    }
    args.update(kw)
    return build_status_list_token(sl, **args)


def _raw_token(key: PrivateKey, claims: dict[str, Any], typ: str = "statuslist+jwt") -> str:
    return sign_compact({"alg": key.alg, "kid": "k", "typ": typ}, claims, key)


def _ref(idx: int, uri: str = URI) -> dict[str, Any]:
    return {"status_list": {"idx": idx, "uri": uri}}


def test_round_trip(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, iss=ISS)
    got = read_status_list_token(
        token, key=key.public_key(), expected_sub=URI, now=NOW, expected_iss=ISS
    )
    assert got.status_list == status_list
    assert (got.sub, got.iat, got.exp, got.ttl, got.iss) == (URI, NOW - 100, NOW + 3600, 600, ISS)
    assert got.header == {"alg": key.alg, "kid": "status-1", "typ": "statuslist+jwt"}
    sl = verify_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW)
    assert [sl.get(i) for i in (0, 1, 42, 131_071)] == [INVALID, VALID, SUSPENDED, INVALID]


def test_check_status_reads_the_referenced_entry(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list)
    pub = key.public_key()
    assert check_status(_ref(0), token, key=pub, now=NOW) == INVALID
    assert check_status(_ref(1), token, key=pub, now=NOW) == VALID
    assert check_status(_ref(42), token, key=pub, now=NOW) == SUSPENDED
    with pytest.raises(StatusIndexOutOfRange) as exc:
        check_status(_ref(131_072), token, key=pub, now=NOW)
    assert exc.value.code == "status_index_out_of_range"
    with pytest.raises(StatusListSubjectMismatch) as exc2:
        check_status(_ref(0, URI + "x"), token, key=pub, now=NOW)
    assert exc2.value.code == "status_list_sub_mismatch"


def test_signature_key_and_alg_are_enforced(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list)
    other = PrivateKey.generate(key.alg).public_key()
    with pytest.raises(InvalidSignature):
        verify_status_list_token(token, key=other, expected_sub=URI, now=NOW)
    with pytest.raises(UnsupportedAlgorithm):
        verify_status_list_token(
            token, key=key.public_key(), expected_sub=URI, now=NOW, algs=["RS256"]
        )
    h, p, s = token.split(".")
    tampered = f"{h}.{p[:-4]}AAAA.{s}"
    with pytest.raises(JoseError):
        verify_status_list_token(tampered, key=key.public_key(), expected_sub=URI, now=NOW)


def test_unsigned_token_is_refused(key: PrivateKey, status_list: StatusList) -> None:
    header = b64u_encode(json.dumps({"alg": "none", "typ": "statuslist+jwt"}).encode())
    claims = {"sub": URI, "iat": NOW, "status_list": status_list.encode()}
    payload = b64u_encode(json.dumps(claims).encode())
    with pytest.raises(UnsupportedAlgorithm):
        verify_status_list_token(
            f"{header}.{payload}.", key=key.public_key(), expected_sub=URI, now=NOW
        )


@pytest.mark.parametrize("typ", ["JWT", "dc+sd-jwt", "statuslist+cwt", None])
def test_typ_must_be_statuslist_jwt(key: PrivateKey, status_list: StatusList, typ: Any) -> None:
    claims = {"sub": URI, "iat": NOW, "status_list": status_list.encode()}
    header: dict[str, Any] = {"alg": key.alg}
    if typ is not None:
        header["typ"] = typ
    token = sign_compact(header, claims, key)
    with pytest.raises(WrongType) as exc:
        verify_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW)
    assert exc.value.code == "wrong_typ"


def test_expiry_with_bounded_skew(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, exp=NOW + 10)
    pub = key.public_key()
    verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW + 69)  # within 60 s skew
    with pytest.raises(StatusListExpired) as exc:
        verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW + 70)
    assert exc.value.code == "status_list_expired"
    with pytest.raises(StatusListExpired):
        verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW + 11, max_skew=0)


def test_no_exp_means_no_expiry_check(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, exp=None, ttl=None)
    got = read_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW + 10**8)
    assert got.exp is None and got.ttl is None


def test_iat_in_the_future_is_refused(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, iat=NOW + 61, exp=NOW + 7200)
    with pytest.raises(StatusListNotYetValid) as exc:
        verify_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW)
    assert exc.value.code == "status_list_not_yet_valid"
    ok = _token(key, status_list, iat=NOW + 59, exp=NOW + 7200)
    verify_status_list_token(ok, key=key.public_key(), expected_sub=URI, now=NOW)


def test_ttl_governs_cached_copies(key: PrivateKey, status_list: StatusList) -> None:
    """Draft §8.3 4d: fetch again when (time resolved + ttl) < now."""
    token = _token(key, status_list, ttl=600)
    pub = key.public_key()
    fetched = NOW - 600
    verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW, fetched_at=fetched)
    with pytest.raises(StatusListStale) as exc:
        verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW, fetched_at=fetched - 1)
    assert exc.value.code == "status_list_stale"
    # a fresh fetch (no fetched_at) is judged on exp, not ttl
    verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW + 1800)


def test_local_freshness_policy_on_iat(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, iat=NOW - 3000, exp=NOW + 3600)
    pub = key.public_key()
    verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW, max_age=3000)
    with pytest.raises(StatusListStale):
        verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW, max_age=2999)


def test_historical_time_must_be_covered(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list, iat=NOW - 100, exp=NOW + 3600)
    pub = key.public_key()
    read_status_list_token(token, key=pub, expected_sub=URI, now=NOW, time=NOW - 100)
    read_status_list_token(token, key=pub, expected_sub=URI, now=NOW, time=NOW + 3600)
    for t in (NOW - 101, NOW + 3601):
        with pytest.raises(StatusListTimeMismatch):
            read_status_list_token(token, key=pub, expected_sub=URI, now=NOW, time=t)


def test_issuer_must_match_when_expected(key: PrivateKey, status_list: StatusList) -> None:
    pub = key.public_key()
    with pytest.raises(InvalidStatusListToken):
        read_status_list_token(
            _token(key, status_list), key=pub, expected_sub=URI, now=NOW, expected_iss=ISS
        )
    with pytest.raises(InvalidStatusListToken):
        read_status_list_token(
            _token(key, status_list, iss="https://other.example"),
            key=pub,
            expected_sub=URI,
            now=NOW,
            expected_iss=ISS,
        )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.pop("sub"),
        lambda c: c.pop("iat"),
        lambda c: c.pop("status_list"),
        lambda c: c.update(sub=7),
        lambda c: c.update(sub=""),
        lambda c: c.update(iat="1772400000"),
        lambda c: c.update(iat=True),
        lambda c: c.update(iat=-1),
        lambda c: c.update(exp=None),
        lambda c: c.update(ttl=0),
        lambda c: c.update(ttl=-5),
        lambda c: c.update(ttl="600"),
        lambda c: c.update(iss=["x"]),
    ],
)
def test_required_and_typed_claims(key: PrivateKey, status_list: StatusList, mutate: Any) -> None:
    claims: dict[str, Any] = {
        "sub": URI,
        "iat": NOW,
        "exp": NOW + 60,
        "ttl": 60,
        "status_list": StatusList(1, 16).encode(),
    }
    mutate(claims)
    token = _raw_token(key, claims)
    with pytest.raises(InvalidStatusListToken) as exc:
        verify_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW)
    assert exc.value.code == "invalid_status_list_token"


def test_malformed_status_list_claim_in_a_signed_token(key: PrivateKey) -> None:
    from vc.status_list import InvalidStatusList

    token = _raw_token(key, {"sub": URI, "iat": NOW, "status_list": {"bits": 3, "lst": "eNoDAA"}})
    with pytest.raises(InvalidStatusList):
        verify_status_list_token(token, key=key.public_key(), expected_sub=URI, now=NOW)


def test_inflation_limit_applies_to_tokens(key: PrivateKey) -> None:
    big = StatusList(8, 1 << 20)
    token = _token(key, big)
    pub = key.public_key()
    assert verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW).size == 1 << 20
    with pytest.raises(StatusListTooLarge):
        verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW, max_size=1 << 19)


def test_token_size_limit(key: PrivateKey, status_list: StatusList) -> None:
    token = _token(key, status_list)
    with pytest.raises(LimitExceeded):
        read_status_list_token(
            token, key=key.public_key(), expected_sub=URI, now=NOW, max_token_bytes=100
        )


def test_builder_validates_its_inputs(key: PrivateKey, status_list: StatusList) -> None:
    for kw in ({"exp": NOW - 100}, {"ttl": 0}, {"ttl": -1}, {"sub": ""}, {"iat": -5}):
        with pytest.raises(InvalidStatusListToken):
            _token(key, status_list, **kw)


def test_the_draft_example_token_cannot_be_verified_without_its_key() -> None:
    """Its key is unpublished: with any other key, verification must fail closed."""
    v = next(x for x in VECTORS if x["name"] == "status_list_token_jwt_example")
    wrong = PrivateKey.generate("ES256").public_key()
    with pytest.raises(InvalidSignature):
        check_status(
            _ref(0, v["decoded_payload"]["sub"]), v["compact_jwt"], key=wrong, now=1_700_000_000
        )


# --- the referenced token's status claim ---------------------------------------------


def test_parse_status_reference() -> None:
    assert parse_status_reference(_ref(5)) == StatusReference(idx=5, uri=URI)
    extra = {"status_list": {"idx": 0, "uri": URI, "future": 1}, "other_mechanism": {}}
    assert parse_status_reference(extra) == StatusReference(0, URI)


@pytest.mark.parametrize(
    "status",
    [
        None,
        [],
        {},
        {"status_list": None},
        {"status_list": []},
        {"status_list": {"uri": URI}},
        {"status_list": {"idx": 0}},
        {"status_list": {"idx": -1, "uri": URI}},
        {"status_list": {"idx": "0", "uri": URI}},
        {"status_list": {"idx": 0.0, "uri": URI}},
        {"status_list": {"idx": True, "uri": URI}},
        {"status_list": {"idx": 0, "uri": ""}},
        {"status_list": {"idx": 0, "uri": 5}},
        {"status_list": {"idx": 0, "uri": "statuslists/1"}},
        {"status_list": {"idx": 0, "uri": "http://[::1"}},
    ],
)
def test_bad_status_claims_are_named_errors(status: Any, key: PrivateKey) -> None:
    with pytest.raises(InvalidStatusReference) as exc:
        parse_status_reference(status)
    assert exc.value.code == "invalid_status_reference"
    with pytest.raises(InvalidStatusReference):
        check_status(status, "not.even.parsed", key=key.public_key(), now=NOW)


def test_public_key_round_trip_through_jwk(key: PrivateKey, status_list: StatusList) -> None:
    """What a verifier does: it knows the CRA's key only from its published JWK."""
    pub = PublicKey.from_jwk(json.loads(json.dumps(key.public_key().to_jwk())))
    token = _token(key, status_list)
    assert check_status(_ref(131_071), token, key=pub, now=NOW) == INVALID
