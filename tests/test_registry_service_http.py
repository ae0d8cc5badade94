"""The registry's HTTP API on real loopback HTTP (uvicorn on a free port).

Admitted issuers append with signed requests; every other request is refused with
a 401/403 and a code; malformed input gets a 4xx JSON body, never a 5xx; every
proof the service serves verifies with the core.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hash_registry.client import (
    AsyncRegistryClient,
    LocalRegistry,
    RegistryClient,
    RegistryUnavailable,
    append_request,
)
from hash_registry.entries import IssuerKeyEntry, RevocationEntry
from hash_registry.errors import InvalidRange, NotFound, RegistryError, Unauthorized
from hash_registry.log import APPEND_TYP, AlreadyAnchored, Log
from hash_registry.merkle import leaf_hash, verify_consistency, verify_inclusion
from hash_registry.receipt import verify_receipt
from hash_registry.service import create_app
from hash_registry.store import NewEntry
from hash_registry.trust import verify_checkpoint
from vc.b64 import b64u_encode
from vc.jose import PrivateKey, sign_compact

from .live_server import free_port, serve_app
from .test_registry_store_helpers import (
    ISSUER,
    ORIGIN,
    anchor,
    issuer_metadata,
    new_log,
    open_store,
    trusted,
    verifier_identity,
)

OTHER = "https://other-cra.example.hk"


class Registry:
    def __init__(self, log: Log, url: str) -> None:
        self.log = log
        self.url = url
        self.cra = PrivateKey.generate()
        self.cra_ed = PrivateKey.generate("EdDSA")
        self.other = PrivateKey.generate()
        self.bank = PrivateKey.generate()
        log.admit_issuer(
            {
                "issuer": ISSUER,
                "jwks": {
                    "keys": [self.cra.public_key().to_jwk(), self.cra_ed.public_key().to_jwk()]
                },
            }
        )
        log.admit_issuer(issuer_metadata(self.other, OTHER))
        log.admit_verifier(verifier_identity(self.bank))
        self.client = RegistryClient(url)

    def post(self, body: bytes | str, **headers: str) -> httpx.Response:
        content = body.encode() if isinstance(body, str) else body
        return httpx.post(self.url + "/append", content=content, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with open_store("sqlite", tmp_path_factory.mktemp("svc")) as store:
        log = new_log(store, witnesses=1)
        with serve_app(create_app(log)) as url:
            r = Registry(log, url)
            yield r
            r.client.close()


def _error(resp: httpx.Response) -> tuple[int, str]:
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    body = resp.json()
    assert set(body) == {"error", "message"} and body["message"]
    return resp.status_code, body["error"]


def _token(key: PrivateKey, claims: dict[str, Any], **header: Any) -> str:
    hdr = {"typ": APPEND_TYP, "kid": key.public_key().thumbprint(), **header}
    return sign_compact(hdr, claims, key)


def _claims(entries: list[bytes], **over: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": ORIGIN,
        "iat": int(time.time()),
        "jti": secrets.token_urlsafe(16),
        "entries": [base64.b64encode(e).decode() for e in entries],
    }
    claims.update(over)
    return claims


def test_an_admitted_issuer_appends_and_every_answer_verifies(reg: Registry) -> None:
    t = trusted(reg.log)
    entries = [anchor() for _ in range(5)]
    appended = reg.client.append(entries, reg.cra, ISSUER)
    cp = verify_checkpoint(appended.checkpoint, t)
    assert cp.size == appended.tree_size and len(appended.indices) == 5
    more = reg.client.append([anchor()], reg.cra_ed, ISSUER)  # EdDSA keys work too
    assert more.indices == [appended.indices[-1] + 1]

    note = reg.client.checkpoint()
    latest = verify_checkpoint(note, t)
    for index, e in zip(appended.indices, entries, strict=True):
        proof = reg.client.inclusion_proof(index)
        assert proof.tree_size == latest.size and proof.root == latest.root
        verify_inclusion(index, latest.size, leaf_hash(e.encode()), proof.proof, latest.root)
        old = reg.client.inclusion_proof(index, cp.size)
        verify_inclusion(index, cp.size, leaf_hash(e.encode()), old.proof, cp.root)
        verify_receipt(reg.client.receipt(index), t, expected_entry=e.encode())
        got = reg.client.entry(index)
        assert got.data == e.encode()
        status = reg.client.lookup(e.digest)
        assert (status.anchored, status.index, status.revoked) == (True, index, False)
    cons = reg.client.consistency_proof(cp.size)
    verify_consistency(cp.size, latest.size, cons.proof, cp.root, latest.root)
    assert (cons.old_root, cons.new_root) == (cp.root, latest.root)

    revoked = reg.client.append(
        [RevocationEntry(entries[0].digest, "superseded", int(time.time()))], reg.cra, ISSUER
    )
    status = reg.client.lookup(entries[0].digest.hex())
    assert status.revoked and status.revocation_index == revoked.indices[0]


def test_public_documents(reg: Registry) -> None:
    assert reg.client.keys() == reg.log.keys_document()
    kids = {i["kid"] for i in reg.client.issuers()}
    assert reg.cra.public_key().thumbprint() in kids
    banks = reg.client.verifiers()
    assert [b["client_id"] for b in banks] == ["https://bank.example.cn"]
    assert banks[0]["jwk"] == reg.bank.public_key().to_jwk()
    doc = httpx.get(reg.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/append" in doc["paths"]
    resp = httpx.get(reg.url + "/checkpoint")
    assert resp.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unsigned", 401, "unsupported_alg"),
        ("wrong_key", 401, "invalid_signature"),
        ("unadmitted", 403, "issuer_not_admitted"),
        ("wrong_aud", 401, "wrong_audience"),
        ("stale", 401, "stale_request"),
        ("future", 401, "stale_request"),
        ("wrong_typ", 401, "wrong_typ"),
        ("no_kid", 401, "missing_kid"),
        ("no_jti", 401, "missing_jti"),
        ("iss_mismatch", 403, "issuer_mismatch"),
        ("anchor_for_other", 403, "issuer_mismatch"),
        ("key_entry", 403, "entry_not_allowed"),
        ("hs256", 401, "unsupported_alg"),
        ("not_a_jws", 401, "authentication_failed"),
        ("entries_not_list", 400, "invalid_entry"),
        ("entry_not_base64", 400, "invalid_entry"),
        ("entry_garbage", 400, "invalid_entry"),
    ],
)
def test_unauthorised_or_malformed_appends_are_refused(
    reg: Registry, case: str, status: int, code: str
) -> None:
    a = anchor().encode()
    key, claims, header = reg.cra, _claims([a]), {}
    if case == "unsigned":
        hdr = {"alg": "none", "typ": APPEND_TYP, "kid": reg.cra.public_key().thumbprint()}
        token = (
            f"{b64u_encode(json.dumps(hdr).encode())}.{b64u_encode(json.dumps(claims).encode())}."
        )
    elif case == "hs256":
        hdr = {"alg": "HS256", "typ": APPEND_TYP, "kid": reg.cra.public_key().thumbprint()}
        body = f"{b64u_encode(json.dumps(hdr).encode())}.{b64u_encode(json.dumps(claims).encode())}"
        token = body + "." + b64u_encode(secrets.token_bytes(32))
    elif case == "not_a_jws":
        token = "hello.world"
    else:
        if case == "wrong_key":
            key = PrivateKey.generate()
            header = {"kid": reg.cra.public_key().thumbprint()}
        elif case == "unadmitted":
            key = PrivateKey.generate()
        elif case == "wrong_aud":
            claims["aud"] = "registry.elsewhere/log"
        elif case == "stale":
            claims["iat"] = int(time.time()) - 3600
        elif case == "future":
            claims["iat"] = int(time.time()) + 3600
        elif case == "wrong_typ":
            header = {"typ": "JWT"}
        elif case == "no_kid":
            header = {"kid": ""}
        elif case == "no_jti":
            del claims["jti"]
        elif case == "iss_mismatch":
            claims["iss"] = OTHER
        elif case == "anchor_for_other":
            claims = _claims([anchor(OTHER).encode()])
        elif case == "key_entry":
            jwk = PrivateKey.generate().public_key().to_jwk()
            claims = _claims([IssuerKeyEntry.for_jwk(ISSUER, jwk, 1).encode()])
        elif case == "entries_not_list":
            claims["entries"] = "AQE="
        elif case == "entry_not_base64":
            claims["entries"] = ["***"]
        elif case == "entry_garbage":
            claims["entries"] = [base64.b64encode(b"\x01\x01garbage").decode()]
        token = _token(key, claims, **header)
    size = reg.log.size()
    assert _error(reg.post(token)) == (status, code)
    assert reg.log.size() == size


def test_a_replayed_request_is_refused(reg: Registry) -> None:
    token = append_request([anchor()], reg.cra, ISSUER, ORIGIN)
    assert reg.post(token).status_code == 200
    size = reg.log.size()
    assert _error(reg.post(token)) == (401, "jti_replayed")
    assert reg.log.size() == size


def test_issuers_revoke_only_their_own_anchors(reg: Registry) -> None:
    theirs = anchor(OTHER)
    reg.client.append([theirs], reg.other, OTHER)
    revoke = RevocationEntry(theirs.digest, "superseded", int(time.time()))
    token = append_request([revoke], reg.cra, ISSUER, ORIGIN)
    assert _error(reg.post(token)) == (403, "not_your_anchor")
    token = append_request(
        [RevocationEntry(secrets.token_bytes(32), "x", 1)], reg.cra, ISSUER, ORIGIN
    )
    assert _error(reg.post(token)) == (404, "not_anchored")
    token = append_request([anchor(digest=theirs.digest)], reg.cra, ISSUER, ORIGIN)
    assert _error(reg.post(token)) == (409, "already_anchored")
    with pytest.raises(RegistryError) as info:
        reg.client.append([anchor(digest=theirs.digest)], reg.cra, ISSUER)
    assert info.value.code == "already_anchored"


BAD_REQUESTS = [
    ("GET", "/proof/inclusion", 400, "invalid_parameter"),
    ("GET", "/proof/inclusion?index=abc", 400, "invalid_parameter"),
    ("GET", "/proof/inclusion?index=-1", 400, "invalid_parameter"),
    ("GET", "/proof/inclusion?index=01", 400, "invalid_parameter"),
    ("GET", "/proof/inclusion?index=99999999999999999999999", 400, "invalid_parameter"),
    ("GET", "/proof/inclusion?index=9223372036854775807", 400, "invalid_range"),
    ("GET", "/proof/inclusion?index=0&size=9223372036854775806", 400, "invalid_range"),
    ("GET", "/proof/inclusion?index=1&size=1", 400, "invalid_range"),
    ("GET", "/proof/consistency", 400, "invalid_parameter"),
    ("GET", "/proof/consistency?old=5&new=2", 400, "invalid_range"),
    ("GET", "/proof/consistency?old=1&new=x", 400, "invalid_parameter"),
    ("GET", "/entries/abc", 400, "invalid_parameter"),
    ("GET", "/entries/123456789", 404, "not_found"),
    ("GET", "/entries/%00", 400, "invalid_parameter"),
    ("GET", "/receipt/123456789", 404, "not_found"),
    ("GET", "/lookup/xyz", 400, "invalid_entry"),
    ("GET", "/lookup/" + "a" * 63, 400, "invalid_entry"),
    ("GET", "/nope", 404, "not_found"),
    ("DELETE", "/checkpoint", 405, "method_not_allowed"),
    ("GET", "/append", 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "status", "code"), BAD_REQUESTS)
def test_malformed_reads_are_4xx_json(
    reg: Registry, method: str, path: str, status: int, code: str
) -> None:
    resp = httpx.request(method, reg.url + path, timeout=10)
    assert _error(resp) == (status, code)


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe\x00", b"a.b.c", b"x" * 1000, "é.é.é".encode(), b"{}", b"null"],
)
def test_malformed_append_bodies_are_4xx_json(reg: Registry, body: bytes) -> None:
    status, _ = _error(reg.post(body))
    assert 400 <= status < 500


def test_oversized_bodies_are_refused_before_reading(reg: Registry) -> None:
    assert _error(reg.post(b"a" * (4 * 1024 * 1024 + 1))) == (413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no content-length: the limit holds while streaming
        for _ in range(80):
            yield b"a" * 65536

    resp = httpx.post(reg.url + "/append", content=chunks(), timeout=30)
    assert _error(resp) == (413, "payload_too_large")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/entries/",
            "/receipt/",
            "/lookup/",
            "/proof/inclusion?index=",
            "/proof/consistency?old=",
            "/proof/inclusion?index=0&size=",
        ]
    ),
    junk=st.binary(max_size=40) | st.text(max_size=40).map(str.encode),
)
def test_fuzzed_reads_never_5xx(reg: Registry, path: str, junk: bytes) -> None:
    resp = httpx.get(reg.url + path + quote(junk, safe=""), timeout=10)
    assert resp.status_code < 500, resp.text
    if resp.status_code != 200:
        _error(resp)


def test_clients_raise_named_errors(reg: Registry) -> None:
    with pytest.raises(NotFound):
        reg.client.entry(10**9)
    with pytest.raises(InvalidRange):
        reg.client.inclusion_proof(10**9)
    with pytest.raises(InvalidRange):
        reg.client.inclusion_proof(-1)
    with pytest.raises(Unauthorized) as refused:
        reg.client.append([anchor()], PrivateKey.generate(), ISSUER)
    assert refused.value.code == "issuer_not_admitted"
    with pytest.raises(AlreadyAnchored):
        a = anchor()
        reg.client.append([a], reg.cra, ISSUER)
        reg.client.append([anchor(digest=a.digest)], reg.cra, ISSUER)
    dead = RegistryClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(RegistryUnavailable) as info:
        dead.checkpoint()
    assert info.value.code == "registry_unavailable"
    dead.close()
    with pytest.raises(RegistryUnavailable):
        RegistryClient("ftp://example.com")


def test_responses_are_size_bounded(reg: Registry) -> None:
    small = RegistryClient(reg.url, max_response_bytes=64)
    with pytest.raises(RegistryError) as info:
        small.keys()
    assert info.value.code == "registry_protocol_error"
    small.close()


def test_the_async_client_reads_the_same(reg: Registry) -> None:
    async def run() -> tuple[str, Any, Any]:
        async with AsyncRegistryClient(reg.url) as client:
            note = await client.checkpoint()
            proof = await client.inclusion_proof(0)
            status = await client.lookup(secrets.token_bytes(32))
            return note, proof, status

    note, proof, status = asyncio.run(run())
    assert note == reg.client.checkpoint()
    assert proof == reg.client.inclusion_proof(0)
    assert not status.anchored


def test_local_and_http_clients_agree(tmp_path: Path) -> None:
    from hash_registry import home as H

    H.init_registry(tmp_path)
    log = H.open_log(tmp_path)
    cra = PrivateKey.generate()
    log.admit_issuer(issuer_metadata(cra))
    local = LocalRegistry(tmp_path)
    appended = local.append([anchor(), anchor()], cra, ISSUER)
    assert appended.indices == [1, 2]
    with serve_app(create_app(log)) as url, RegistryClient(url) as remote:
        assert remote.checkpoint() == local.checkpoint()
        for method, args in [
            ("inclusion_proof", (2,)),
            ("consistency_proof", (1,)),
            ("entry", (1,)),
            ("receipt", (2,)),
            ("keys", ()),
            ("issuers", ()),
            ("verifiers", ()),
        ]:
            assert getattr(remote, method)(*args) == getattr(local, method)(*args), method
        digest = log.entry(1).decode().digest  # type: ignore[union-attr]
        assert remote.lookup(digest) == local.lookup(digest)
        more = remote.append([anchor()], cra, ISSUER)
        assert more.indices == [3]
    local.close()
    log.close()


def test_the_service_publishes_what_a_crash_left_unpublished(tmp_path: Path) -> None:
    with open_store("sqlite", tmp_path) as store:
        log = new_log(store, witnesses=1)
        log.append(anchor())
        a = anchor()
        # as if the process died between the append transaction and publishing
        store.append_batch([NewEntry(a.encode(), a.digest)], sign=log._sign)
        assert store.state().cosigned_size == 1
        with serve_app(create_app(log, republish_every_s=0.1)) as url:
            client = RegistryClient(url)
            deadline = time.monotonic() + 20
            while verify_checkpoint(client.checkpoint(), trusted(log)).size != 2:
                assert time.monotonic() < deadline, "the service never republished"
                time.sleep(0.05)
            verify_receipt(client.receipt(1), trusted(log), expected_entry=a.encode())
            client.close()
