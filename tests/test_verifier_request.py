"""OpenID4VP presentation requests: the bank creates them, the wallet checks them.

Written from OpenID4VP 1.0 §5 (request parameters, Request Object, client
identifier prefixes), §8.2 (direct_post) and CLI.md (`verifier request --json`).
The nonce store is a real SQLite file.
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from vc import credit_report
from vc.dcql import from_dotted, parse_query, to_dotted
from vc.errors import SelfcarryError
from vc.jose import PrivateKey, decode_compact, sign_compact
from vc.openid4vp import (
    InvalidRequestURI,
    build_request_uri,
    decode_request_object,
    parse_request_uri,
    verify_request_object,
)
from verifier.errors import RequestError, UnknownQuery
from verifier.nonce_store import SqliteNonceStore
from verifier.request import (
    REQUEST_JSON_KEYS,
    PresentationRequest,
    create_request,
    load_query,
)

CLIENT_ID = "https://bank.example.cn"
RESPONSE_URI = "https://bank.example.cn/openid4vp/response"
REQUEST_BASE = "https://bank.example.cn/openid4vp/request"
PURPOSE = {"en": "Consumer loan pre-check", "zh-Hans": "消费贷款预审"}
NOW = 1_770_000_000
URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate("ES256")


@pytest.fixture
def store(tmp_path: Path) -> SqliteNonceStore:
    return SqliteNonceStore(tmp_path / "nonces.sqlite3")


def make(key: PrivateKey, store: SqliteNonceStore, **overrides: Any) -> PresentationRequest:
    args: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "response_uri": RESPONSE_URI,
        "request_uri_base": REQUEST_BASE,
        "dcql_query": load_query("loan-precheck"),
        "purpose": PURPOSE,
        "signing_key": key,
        "nonce_store": store,
        "now": NOW,
    }
    args.update(overrides)
    return create_request(**args)


# --- creating ---------------------------------------------------------------------------------


class TestCreate:
    def test_json_document_is_exactly_the_cli_contract(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        doc = make(key, store).to_json()
        assert list(doc) == ["id", "nonce", "client_id", "response_uri", "dcql_query", "purpose", "request", "uri"]
        assert tuple(doc) == REQUEST_JSON_KEYS
        assert doc["client_id"] == CLIENT_ID and doc["response_uri"] == RESPONSE_URI
        assert doc["purpose"] == PURPOSE
        assert doc["dcql_query"] == load_query("loan-precheck")
        assert doc["uri"].startswith("openid4vp://?")
        json.dumps(doc)  # plain JSON

    def test_request_object(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        jws = decode_compact(req.request)
        assert jws.header == {"typ": "oauth-authz-req+jwt", "kid": key.public_key().thumbprint(), "alg": "ES256"}
        claims = jws.claims()
        assert claims["response_type"] == "vp_token"
        assert claims["response_mode"] == "direct_post"
        assert claims["client_id"] == CLIENT_ID
        assert claims["response_uri"] == RESPONSE_URI
        assert "redirect_uri" not in claims  # §8.2
        assert claims["nonce"] == req.nonce
        assert claims["state"] == req.id == req.state
        assert claims["dcql_query"] == req.dcql_query
        assert claims["aud"] == "https://self-issued.me/v2"
        assert claims["iat"] == NOW and claims["exp"] == NOW + 600 == req.expires_at
        assert claims["purpose"] == PURPOSE
        assert claims["client_metadata"] == {
            "vp_formats_supported": {
                "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "EdDSA"], "kb-jwt_alg_values": ["ES256", "EdDSA"]}
            }
        }
        assert req.request_uri == f"{REQUEST_BASE}/{req.id}"

    def test_fresh_random_values(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        a, b = make(key, store), make(key, store)
        assert a.nonce != b.nonce and a.id != b.id
        for req in (a, b):
            assert URL_SAFE.fullmatch(req.nonce) and len(req.nonce) >= 43  # 32 random bytes
            assert URL_SAFE.fullmatch(req.state) and len(req.state) >= 22  # 128 bits (§5.3)

    def test_ed25519_key_signs_eddsa(self, store: SqliteNonceStore) -> None:
        ed = PrivateKey.generate("EdDSA")
        req = make(ed, store)
        assert decode_compact(req.request).header["alg"] == "EdDSA"
        verify_request_object(req.request, key=ed.public_key(), expected_client_id=CLIENT_ID, now=NOW)

    def test_remembered_in_the_nonce_store(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        record = store.get(req.id)
        assert record.nonce == req.nonce and record.expires_at == NOW + 600
        assert json.loads(record.request_json) == req.to_json()
        assert store.consume(req.nonce, NOW + 1).request_id == req.id

    def test_plain_string_purpose_and_loopback_http(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(
            key,
            store,
            purpose="loan pre-check",
            response_uri="http://127.0.0.1:8702/response",
            request_uri_base="http://localhost:8702/request/",
        )
        assert req.purpose == "loan pre-check"
        assert req.request_uri == f"http://localhost:8702/request/{req.id}"

    @pytest.mark.parametrize(
        ("override", "code"),
        [
            ({"client_id": "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"}, "unsupported_client_id_prefix"),
            ({"client_id": "redirect_uri:https://bank.example.cn"}, "unsupported_client_id_prefix"),
            ({"client_id": "bank with spaces"}, "invalid_client_id"),
            ({"client_id": ""}, "invalid_client_id"),
            ({"response_uri": "http://bank.example.cn/response"}, "invalid_response_uri"),
            ({"response_uri": "https://bank.example.cn/r#frag"}, "invalid_response_uri"),
            ({"response_uri": "bank.example.cn/response"}, "invalid_response_uri"),
            ({"request_uri_base": "ftp://bank.example.cn/r"}, "invalid_request_uri"),
            ({"purpose": ""}, "invalid_purpose"),
            ({"purpose": {"not a tag!": "x"}}, "invalid_purpose"),
            ({"purpose": {}}, "invalid_purpose"),
            ({"purpose": "x" * 501}, "invalid_purpose"),
            ({"dcql_query": {"credentials": []}}, "invalid_dcql"),
            ({"ttl": 5}, "invalid_request"),
            ({"ttl": 10**7}, "invalid_request"),
            ({"signing_key": "not a key"}, "invalid_request"),
        ],
    )
    def test_refuses_bad_input(self, key: PrivateKey, store: SqliteNonceStore, override: dict[str, Any], code: str) -> None:
        with pytest.raises(RequestError) as err:
            make(key, store, **override)
        assert err.value.code == code

    def test_pre_registered_identifiers_may_carry_an_undefined_prefix(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        # §5.9.2: "https:" is not a defined Client Identifier Prefix, so this is pre-registered
        assert make(key, store, client_id="https://bank.example.cn/verifier").client_id.startswith("https:")
        assert make(key, store, client_id="icbc-shenzhen").client_id == "icbc-shenzhen"


# --- reading the JSON document back -------------------------------------------------------------


class TestFromJson:
    def test_round_trip(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        assert PresentationRequest.from_json(req.to_json()) == req
        assert PresentationRequest.from_json(req.to_json_text(), key=key.public_key()) == req
        assert PresentationRequest.from_json(req.to_json_text().encode()) == req

    @pytest.mark.parametrize(
        ("member", "value"),
        [
            ("nonce", "another-nonce"),
            ("client_id", "https://other-bank.example"),
            ("response_uri", "https://evil.example/response"),
            ("purpose", "something else"),
            ("id", "another-id"),
            ("dcql_query", {"credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {}}]}),
            ("uri", build_request_uri("https://other-bank.example", "https://other-bank.example/r/1")),
        ],
    )
    def test_document_must_agree_with_the_signed_object(
        self, key: PrivateKey, store: SqliteNonceStore, member: str, value: Any
    ) -> None:
        doc = make(key, store).to_json()
        doc[member] = value
        with pytest.raises(RequestError):
            PresentationRequest.from_json(doc)

    def test_signature_is_checked_with_a_key(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        doc = make(key, store).to_json()
        with pytest.raises(SelfcarryError) as err:
            PresentationRequest.from_json(doc, key=PrivateKey.generate().public_key())
        assert err.value.code == "invalid_signature"

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda d: d.update(extra=1),
            lambda d: d.pop("uri"),
            lambda d: d.update(request=5),
            lambda d: d.update(request="not.a.jws"),
        ],
    )
    def test_malformed_documents(self, key: PrivateKey, store: SqliteNonceStore, mutate: Any) -> None:
        doc = make(key, store).to_json()
        mutate(doc)
        with pytest.raises(SelfcarryError):
            PresentationRequest.from_json(doc)

    @pytest.mark.parametrize("text", ["", "[]", "{", '{"id": 1, "id": 2}', "x" * 300_000])
    def test_not_a_document(self, text: str) -> None:
        with pytest.raises(RequestError):
            PresentationRequest.from_json(text)


# --- the short URI and its QR ---------------------------------------------------------------------


class TestRequestURI:
    def test_fits_a_small_qr_and_decodes_back(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        segno = pytest.importorskip("segno")
        zxingcpp = pytest.importorskip("zxingcpp")
        image = pytest.importorskip("PIL.Image")
        req = make(
            key,
            store,
            client_id="https://loans.bank-of-sz.example.cn",
            request_uri_base="https://loans.bank-of-sz.example.cn/oid4vp/r",
        )
        # the URI costs 59 bytes plus the client_id and the request_uri base
        assert len(req.uri) == 59 + len(req.client_id) + len("https://loans.bank-of-sz.example.cn/oid4vp/r")
        qr = segno.make(req.uri, micro=False)
        assert qr.version <= 7, f"the request QR is version {qr.version}"
        buf = io.BytesIO()
        qr.save(buf, kind="png", scale=4)
        buf.seek(0)
        (decoded,) = zxingcpp.read_barcodes(image.open(buf).convert("L"))
        assert decoded.text == req.uri
        assert parse_request_uri(decoded.text) == (req.client_id, req.request_uri)

    def test_parse_percent_encoded_form(self) -> None:
        # the form in the OpenID4VP examples: everything percent-encoded
        uri = "openid4vp://?client_id=" + urllib.parse.quote(CLIENT_ID, safe="") + "&request_uri=" + urllib.parse.quote(
            "https://bank.example.cn/r/123", safe=""
        )
        parsed = parse_request_uri(uri)
        assert parsed.client_id == CLIENT_ID and parsed.request_uri == "https://bank.example.cn/r/123"
        assert parse_request_uri(uri + "&request_uri_method=post").client_id == CLIENT_ID
        assert parse_request_uri(uri + "&unknown=1").client_id == CLIENT_ID  # §5.1: ignore unknown

    @pytest.mark.parametrize(
        "uri",
        [
            "https://bank.example.cn/?client_id=a&request_uri=https://b.example/r",
            "openid4vp://?request_uri=https://bank.example.cn/r/1",
            "openid4vp://?client_id=a",
            "openid4vp://?client_id=a&client_id=b&request_uri=https://b.example/r",
            "openid4vp://?client_id=a&request=eyJ...&request_uri=https://b.example/r",
            "openid4vp://?client_id=a&request_uri=https://b.example/r#frag",
            "openid4vp://?client_id=a&request_uri=http://b.example/r",
            "openid4vp://?client_id=a&request_uri=javascript:alert(1)",
            "openid4vp://?client_id=x509_san_dns:b.example&request_uri=https://b.example/r",
            "openid4vp://?client_id=a&request_uri=https://b.example/r&request_uri_method=PUT",
            "openid4vp://?client_id=a&request_uri=https://b.example/r&" + "x=1&" * 20,
            "openid4vp://?" + "a" * 3000,
            "openid4vp://?client_id=a&request_uri=https://b.example/r&bad",
        ],
    )
    def test_refuses(self, uri: str) -> None:
        with pytest.raises(SelfcarryError) as err:
            parse_request_uri(uri)
        assert err.value.code in ("invalid_request_uri", "invalid_request_uri_method")

    def test_not_a_string(self) -> None:
        with pytest.raises(InvalidRequestURI):
            parse_request_uri(None)  # type: ignore[arg-type]


# --- what the wallet checks -------------------------------------------------------------------------


class TestVerifyRequestObject:
    def claims(self, key: PrivateKey, store: SqliteNonceStore) -> dict[str, Any]:
        return decode_request_object(make(key, store).request)

    def resign(self, key: PrivateKey, claims: dict[str, Any], **header: Any) -> str:
        return sign_compact({"typ": "oauth-authz-req+jwt", **header}, claims, key)

    def test_valid(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        claims = verify_request_object(req.request, key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW + 10)
        assert claims["nonce"] == req.nonce
        parse_query(claims["dcql_query"])

    def test_unknown_parameters_are_ignored(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        claims = {**self.claims(key, store), "some_extension": {"x": 1}}
        verify_request_object(self.resign(key, claims), key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"client_id": "https://other.example"}, "client_id_mismatch"),
            ({"aud": "https://wallet.example"}, "invalid_audience"),
            ({"aud": None}, "invalid_audience"),
            ({"exp": NOW - 3600}, "request_expired"),
            ({"exp": None}, "invalid_request_object"),
            ({"exp": "tomorrow"}, "invalid_request_object"),
            ({"iat": NOW + 3600}, "invalid_request_object"),
            ({"response_type": "code"}, "unsupported_response_type"),
            ({"response_mode": "fragment"}, "unsupported_response_mode"),
            ({"response_mode": "direct_post.jwt"}, "unsupported_response_mode"),
            ({"redirect_uri": "https://bank.example.cn/cb"}, "invalid_request"),
            ({"response_uri": None}, "invalid_response_uri"),
            ({"response_uri": "http://bank.example.cn/post"}, "invalid_response_uri"),
            ({"nonce": None}, "invalid_nonce"),
            ({"nonce": "has space"}, "invalid_nonce"),
            ({"nonce": "ünïcode"}, "invalid_nonce"),
            ({"state": "a/b"}, "invalid_state"),
            ({"scope": "com.example.credit"}, "invalid_request"),
            ({"dcql_query": None}, "invalid_request"),
            ({"dcql_query": {"credentials": [{"id": "x"}]}}, "invalid_dcql"),
            ({"transaction_data": ["eyJ0eXBlIjoieCJ9"]}, "invalid_transaction_data"),
            ({"client_metadata": "x"}, "invalid_client_metadata"),
            ({"client_metadata": {"vp_formats_supported": []}}, "invalid_client_metadata"),
            ({"purpose": 42}, "invalid_purpose"),
        ],
    )
    def test_refuses(self, key: PrivateKey, store: SqliteNonceStore, change: dict[str, Any], code: str) -> None:
        claims = self.claims(key, store)
        for name, value in change.items():
            if value is None:
                claims.pop(name)
            else:
                claims[name] = value
        with pytest.raises(SelfcarryError) as err:
            verify_request_object(self.resign(key, claims), key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)
        assert err.value.code == code

    def test_expiry_allows_only_the_clock_skew(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        verify_request_object(req.request, key=key.public_key(), expected_client_id=CLIENT_ID, now=req.expires_at + 59)
        with pytest.raises(SelfcarryError) as err:
            verify_request_object(req.request, key=key.public_key(), expected_client_id=CLIENT_ID, now=req.expires_at + 60)
        assert err.value.code == "request_expired"

    def test_typ_is_required(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        claims = self.claims(key, store)
        for typ in ("JWT", None):
            header = {"typ": typ} if typ else {}
            jwt = sign_compact(header, claims, key)
            with pytest.raises(SelfcarryError) as err:
                verify_request_object(jwt, key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)
            assert err.value.code == "wrong_typ"

    def test_signature_from_another_key(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        claims = self.claims(key, store)
        jwt = self.resign(PrivateKey.generate(), claims)
        with pytest.raises(SelfcarryError) as err:
            verify_request_object(jwt, key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)
        assert err.value.code == "invalid_signature"

    def test_alg_none_is_refused(self, key: PrivateKey, store: SqliteNonceStore) -> None:
        req = make(key, store)
        _h, payload, _s = req.request.split(".")
        from vc.b64 import b64u_encode

        header = b64u_encode(json.dumps({"typ": "oauth-authz-req+jwt", "alg": "none"}).encode())
        with pytest.raises(SelfcarryError) as err:
            verify_request_object(f"{header}.{payload}.", key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)
        assert err.value.code == "unsupported_alg"

    def test_size_limit_and_garbage(self, key: PrivateKey) -> None:
        with pytest.raises(SelfcarryError) as err:
            verify_request_object("a" * 70_000, key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)
        assert err.value.code == "limit_exceeded"
        for junk in ("", "a.b", "a.b.c.d", 42):
            with pytest.raises(SelfcarryError):
                verify_request_object(junk, key=key.public_key(), expected_client_id=CLIENT_ID, now=NOW)  # type: ignore[arg-type]


# --- queries ------------------------------------------------------------------------------------------


class TestQueries:
    def test_builtin_loan_precheck(self) -> None:
        query = parse_query(load_query("loan-precheck"))
        (cq,) = query.credentials
        assert cq.id == "credit_report" and cq.format == "dc+sd-jwt"
        assert cq.vct_values == (credit_report.VCT,)
        assert cq.require_cryptographic_holder_binding is True
        requested = {to_dotted(p) for p in cq.requested_paths()}
        subject = "ld.credentialSubject."
        assert {subject + "identity.nameEn", subject + "identity.birthDate", subject + "report.issuedAt",
                subject + "report.cra", subject + "assessment.riskGrade"} <= requested
        # data minimisation: no HKID, no score value, no raw accounts, enquiries or records
        for path in requested:
            assert not path.startswith((subject + "accounts", subject + "enquiries", subject + "publicRecords",
                                        subject + "contact"))
            assert path not in (subject + "identity.hkid", subject + "score.value")
        # every requested claim is one the credential can disclose
        units = {("ld", *u) for u in credit_report.DISCLOSURE_UNITS}
        assert all(p in units for p in cq.requested_paths())
        # the Chinese name is optional: the second claim set drops only it
        assert cq.claim_sets is not None
        first, second = cq.claim_sets
        assert set(first) - set(second) == {"name_zh"}
        assert from_dotted(subject + "identity.nameZh") not in cq.guaranteed_paths()
        permitted = next(c for c in cq.claims or () if c.path[-1] == "permittedUse")
        assert permitted.values == (credit_report.PERMITTED_USE,)

    def test_query_file(self, tmp_path: Path) -> None:
        path = tmp_path / "q.json"
        raw = {"credentials": [{"id": "x", "format": "dc+sd-jwt", "meta": {}, "claims": [{"path": ["a"]}]}]}
        path.write_text(json.dumps(raw))
        assert load_query(path) == raw
        assert load_query(str(path)) == raw

    def test_unknown_or_bad_query(self, tmp_path: Path) -> None:
        with pytest.raises(UnknownQuery) as err:
            load_query("no-such-query")
        assert err.value.code == "unknown_query"
        bad = tmp_path / "bad.json"
        bad.write_text('{"credentials": "nope"}')
        with pytest.raises(RequestError) as err2:
            load_query(bad)
        assert err2.value.code == "invalid_dcql"
        big = tmp_path / "big.json"
        big.write_text(" " * 70_000)
        with pytest.raises(RequestError) as err3:
            load_query(big)
        assert err3.value.code == "limit_exceeded"


def test_wall_clock_default(key: PrivateKey, store: SqliteNonceStore) -> None:
    before = int(time.time())
    req = make(key, store, now=None)
    assert before <= req.issued_at <= int(time.time())
