"""`verifier serve` over real loopback HTTP: the OpenID4VP endpoints and result polling.

OpenID4VP 1.0 (standards.md §4): the Request Object is served at ``request_uri``
as ``application/oauth-authz-req+jwt`` (GET, or POST with an optional
``wallet_nonce`` that must then be echoed); the wallet POSTs ``vp_token`` and
``state`` form-encoded to ``response_uri`` and gets ``200 application/json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_verifier_service_support import (
    BANK_NAME,
    FORM,
    Bank,
    request_as_wallet_sees_it,
    running_bank,
)
from vc.jose import verify_compact
from vc.openid4vp import REQUEST_OBJECT_TYP
from vc.presentation_response import PresentationResponse
from verifier.service import counter_token, create_app

EXPECTED_CHECKS = [
    "size_and_syntax", "issuer_trusted", "issuer_key_on_registry",
    "signature_disclosures_key_binding", "nonce_single_use", "registry_anchor",
    "not_revoked", "jsonld_terms", "request_satisfied",
]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    with running_bank(tmp_path_factory.mktemp("bank")) as b:
        yield b


def _json_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["error_description"], str) and body["error_description"]
    return body


# --- request_uri -------------------------------------------------------------------------------


def test_request_object_by_get_is_the_signed_jwt(bank: Bank) -> None:
    request = bank.verifier.create_request()
    got = bank.http.get(f"/request/{request.id}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/oauth-authz-req+jwt"
    assert got.headers["cache-control"] == "no-store"
    assert got.text == request.request
    claims = verify_compact(got.text, bank.verifier.signing_key.public_key(),
                            typ=REQUEST_OBJECT_TYP).claims()
    assert claims["state"] == request.id
    assert claims["nonce"] == request.nonce
    assert claims["response_mode"] == "direct_post"
    assert claims["response_uri"] == f"{bank.url}/response"
    assert request.request_uri == f"{bank.url}/request/{request.id}"


def test_request_object_by_post_echoes_the_wallet_nonce(bank: Bank) -> None:
    request = bank.verifier.create_request()
    plain = bank.http.post(f"/request/{request.id}")
    assert plain.status_code == 200 and plain.text == request.request
    echoed = bank.http.post(f"/request/{request.id}", headers=FORM, content=(
        b"wallet_nonce=qPmxiNFCR3QTm19POc8u&wallet_metadata=%7B%22vp_formats_supported%22%3A%7B%7D%7D"))
    assert echoed.status_code == 200, echoed.text
    assert echoed.headers["content-type"] == "application/oauth-authz-req+jwt"
    jws = verify_compact(echoed.text, bank.verifier.signing_key.public_key(),
                         typ=REQUEST_OBJECT_TYP)
    original = verify_compact(request.request, bank.verifier.signing_key.public_key(),
                              typ=REQUEST_OBJECT_TYP).claims()
    assert jws.claims() == {**original, "wallet_nonce": "qPmxiNFCR3QTm19POc8u"}


@pytest.mark.parametrize("body", [
    b"wallet_nonce=", b"wallet_nonce=a%20b", b"wallet_nonce=" + b"n" * 257,
    b"wallet_metadata=not-json", b"wallet_metadata=%5B%5D", b"wallet_nonce=a&wallet_nonce=b",
])
def test_request_object_post_refuses_bad_parameters(bank: Bank, body: bytes) -> None:
    request = bank.verifier.create_request()
    _json_error(bank.http.post(f"/request/{request.id}", headers=FORM, content=body), 400)


def test_unknown_and_expired_requests_are_404(bank: Bank) -> None:
    body = _json_error(bank.http.get("/request/AAAAAAAAAAAAAAAAAAAAAA"), 404)
    assert body["error"] == "unknown_request"
    _json_error(bank.http.get("/request/not%20an%20id"), 404)
    _json_error(bank.http.post("/request/AAAAAAAAAAAAAAAAAAAAAA"), 404)
    # a second instance on the same home, whose clock is 700 s behind: a 600 s request
    # it makes has expired 100 s ago by the service's clock
    with bank.world.verifier(base_url=bank.url, clock=lambda: time.time() - 700) as late:
        old = late.create_request(ttl=600)
    body = _json_error(bank.http.get(f"/request/{old.id}"), 404)
    assert body["error"] == "request_expired"


# --- direct_post --------------------------------------------------------------------------------


def test_happy_path_verifies_and_records_the_result(bank: Bank) -> None:
    issued, holder = bank.world.issue(11)
    request = bank.verifier.create_request()
    pending = bank.result(request.id)
    assert pending.status_code == 200
    assert pending.json() == {"status": "pending", "result": None, "display": None}

    wallet_view = request_as_wallet_sees_it(request.uri, http=bank.http)
    answer = bank.post_response(bank.world.present(issued, holder, wallet_view))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"verified": True, "reason": None, "message": None}

    done = bank.result(request.id)
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    doc = done.json()
    assert doc["status"] == "done"
    result = doc["result"]
    assert result["verified"] is True and result["reason"] is None
    assert [c["name"] for c in result["checks"]] == EXPECTED_CHECKS
    assert all(c["ok"] for c in result["checks"])
    subject = result["claims"]["ld"]["credentialSubject"]
    assert subject["assessment"]["riskGrade"] in "ABCDEFGHIJ"
    assert "hkid" not in subject["identity"]
    assert result["policy"]["decision"] in ("approve", "refer", "decline")
    display = doc["display"]
    assert display["verified"] is True
    assert display["headline"] == {"en": "Verified", "zh-Hans": "已验证"}
    assert [c["state"] for c in display["checks"]] == ["ok"] * len(EXPECTED_CHECKS)


def test_replay_is_refused_and_never_overwrites_the_result(bank: Bank) -> None:
    issued, holder = bank.world.issue(12)
    request = bank.verifier.create_request()
    response = bank.world.present(issued, holder, request)
    assert bank.post_response(response).json()["verified"] is True
    first = bank.result(request.id).json()

    again = bank.post_response(response)
    assert again.status_code == 200
    assert again.json()["verified"] is False
    assert again.json()["reason"] == "nonce_replayed"
    assert bank.result(request.id).json() == first  # the counter still sees the real answer


def test_revoked_credential_is_a_recorded_rejection(bank: Bank) -> None:
    issued, holder = bank.world.issue(13)
    bank.world.cra.revoke(issued.digest, "data_error")
    request = bank.verifier.create_request()
    answer = bank.post_response(bank.world.present(issued, holder, request))
    assert answer.status_code == 200
    assert answer.json()["verified"] is False and answer.json()["reason"] == "revoked"
    doc = bank.result(request.id).json()
    assert doc["status"] == "done"
    assert doc["result"]["verified"] is False and doc["result"]["reason"] == "revoked"
    reason = doc["display"]["reason"]
    assert reason["code"] == "revoked"
    assert reason["en"] and reason["zh-Hans"] == "征信机构已撤销该报告。"
    states = {c["name"]: c["state"] for c in doc["display"]["checks"]}
    assert states["nonce_single_use"] == "ok"
    assert states["registry_anchor"] == "fail"
    assert states["request_satisfied"] == "not_run"
    assert doc["display"]["claims"] == [] and doc["display"]["decision"] is None


def test_a_forged_answer_is_shown_but_the_real_one_still_wins(bank: Bank) -> None:
    """Anyone who saw the QR code knows the state. Junk they post is recorded as a failure
    (the nonce stays unused), and the resident's real answer then replaces it."""
    issued, holder = bank.world.issue(14)
    request = bank.verifier.create_request()
    other = bank.verifier.create_request()
    forged = bank.world.present(issued, holder, other)  # signed for another request's nonce
    forged = PresentationResponse(forged.vp_token, request.state, forged.staples)
    answer = bank.post_response(forged)
    assert answer.status_code == 200 and answer.json()["verified"] is False
    assert bank.result(request.id).json()["result"]["verified"] is False

    real = bank.post_response(bank.world.present(issued, holder, request))
    assert real.json()["verified"] is True
    assert bank.result(request.id).json()["result"]["verified"] is True


def test_a_wallet_error_response_is_recorded(bank: Bank) -> None:
    request = bank.verifier.create_request()
    answer = bank.http.post("/response", headers=FORM, content=(
        f"error=access_denied&error_description=the+resident+said+no&state={request.state}"
    ).encode())
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] is False
    doc = bank.result(request.id).json()
    assert doc["result"]["reason"] == "wallet_declined"
    assert "the resident said no" in doc["result"]["message"]
    assert doc["display"]["reason"]["zh-Hans"] == "客户拒绝提供报告。"


def test_a_wallet_error_never_overwrites_an_answer(bank: Bank) -> None:
    issued, holder = bank.world.issue(15)
    request = bank.verifier.create_request()
    assert bank.post_response(bank.world.present(issued, holder, request)).json()["verified"]
    late = bank.http.post("/response", headers=FORM,
                          content=f"error=access_denied&state={request.state}".encode())
    assert late.status_code == 200
    assert bank.result(request.id).json()["result"]["verified"] is True


def test_unknown_state_is_a_400(bank: Bank) -> None:
    issued, holder = bank.world.issue(16)
    request = bank.verifier.create_request()
    response = bank.world.present(issued, holder, request)
    stray = PresentationResponse(response.vp_token, "AAAAAAAAAAAAAAAAAAAAAA", response.staples)
    body = _json_error(bank.post_response(stray), 400)
    assert body["error"] == "invalid_request"
    nostate = PresentationResponse(response.vp_token, None, response.staples)
    assert _json_error(bank.post_response(nostate), 400)["error"] == "invalid_request"


# --- results and their view token ---------------------------------------------------------------


def test_results_need_the_view_token(bank: Bank) -> None:
    request = bank.verifier.create_request()
    assert _json_error(bank.http.get(f"/result/{request.id}"), 403)["error"] == "access_denied"
    wrong = {"authorization": "Bearer " + "A" * 43}
    _json_error(bank.http.get(f"/result/{request.id}", headers=wrong), 403)
    other = bank.verifier.create_request()
    _json_error(bank.http.get(f"/result/{request.id}", headers=bank.auth(other.id)), 403)
    _json_error(bank.http.get(f"/counter/{request.id}"), 403)
    assert bank.result(request.id).status_code == 200
    _json_error(bank.http.get("/result/AAAAAAAAAAAAAAAAAAAAAA",
                              headers=bank.auth("AAAAAAAAAAAAAAAAAAAAAA")), 404)


def test_a_request_made_elsewhere_opens_with_a_token_link(bank: Bank) -> None:
    """`verifier request` (or the library) makes the request; the link carries the token once,
    sets the cookie, and redirects to the plain URL (the token leaves the address bar)."""
    request = bank.verifier.create_request()
    token = counter_token(bank.verifier.signing_key, request.id)
    with httpx.Client(base_url=bank.url, timeout=30) as browser:
        _json_error(browser.get(f"/counter/{request.id}?token=wrong"), 403)
        _json_error(browser.get(f"/counter/{request.id}?token="), 403)
        opened = browser.get(f"/counter/{request.id}?token={token}")
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/counter/{request.id}"
        assert "HttpOnly" in opened.headers["set-cookie"]
        assert browser.get(opened.headers["location"]).status_code == 200
        assert browser.get(f"/result/{request.id}").json()["status"] == "pending"
    _json_error(bank.http.get(f"/counter/AAAAAAAAAAAAAAAAAAAAAA?token={token}"), 403)


# --- the counter pages over HTTP -------------------------------------------------------------------


def test_counter_flow_over_http(bank: Bank) -> None:
    start = bank.http.get("/")
    assert start.status_code == 200
    assert start.headers["content-type"].startswith("text/html")
    csp = start.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "http://" not in start.text.replace(bank.verifier.client_id, "")  # no external asset
    assert BANK_NAME in start.text

    with httpx.Client(base_url=bank.url, timeout=30) as browser:  # its own cookie jar
        created = browser.post("/counter", data={
            "purpose_en": "Car loan <script>alert(1)</script>", "purpose_zh": "汽车贷款",
            "query": "loan-precheck", "ttl": "300"})
        assert created.status_code == 303
        location = created.headers["location"]
        assert location.startswith("/counter/")
        request_id = location.rsplit("/", 1)[1]
        cookie = created.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = browser.get(location)
        assert page.status_code == 200, page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        html = page.text
        assert "<svg" in html and "<?xml" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
        assert "汽车贷款" in html and BANK_NAME in html
        record = bank.verifier.nonce_store.get(request_id)
        uri = json.loads(record.request_json)["uri"]
        assert uri.startswith("openid4vp://") and uri.replace("&", "&amp;") in html
        assert record.expires_at - int(time.time()) <= 300
        assert browser.get(f"/result/{request_id}").json()["status"] == "pending"
        assert bank.http.get(location).status_code == 403  # another browser
        for asset in ("counter.js", "counter.css"):
            got = browser.get(f"/static/{asset}")
            assert got.status_code == 200 and "://" not in got.text


@pytest.mark.parametrize("form", [
    {"query": "/etc/passwd", "purpose_en": "x"},
    {"query": "../verifier/queries/loan-precheck.json", "purpose_en": "x"},
    {"purpose_en": "", "purpose_zh": ""},
    {"purpose_en": "x" * 501},
    {"purpose_en": "x", "ttl": "999999"},
    {"purpose_en": "x", "ttl": "-1"},
])
def test_counter_start_refuses_bad_forms(bank: Bank, form: dict[str, str]) -> None:
    _json_error(bank.http.post("/counter", data=form), 400)


def test_health_openapi_and_unknown_routes(bank: Bank) -> None:
    health = bank.http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = bank.http.get("/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    for path in ("/request/{id}", "/response", "/result/{id}", "/", "/counter",
                 "/counter/{id}", "/healthz", "/openapi.json", "/static/{name}"):
        assert path in spec["paths"], path
    assert {"get", "post"} <= set(spec["paths"]["/request/{id}"])
    assert _json_error(bank.http.get("/nothing/here"), 404)["error"] == "not_found"
    assert _json_error(bank.http.get("/response"), 405)["error"] == "method_not_allowed"
    assert _json_error(bank.http.delete("/request/x"), 405)["error"] == "method_not_allowed"
    _json_error(bank.http.get("/static/../service.py"), 404)
    _json_error(bank.http.get("/static/start.html"), 404)


def test_app_from_a_home(tmp_path: Path) -> None:
    """create_app(home) opens the bank's own verifier, names the bank from its config,
    and closes it on shutdown."""
    from tests.live_server import serve_app
    from tests.world import make_world

    world = make_world(tmp_path)
    try:
        with serve_app(create_app(world.bank_home)) as url, httpx.Client(base_url=url) as http:
            assert "Shenzhen Example Bank" in http.get("/").text
            created = http.post("/counter", data={"purpose_en": "Mortgage"})
            assert created.status_code == 303
            assert http.get(created.headers["location"]).status_code == 200
    finally:
        world.cra.close()
