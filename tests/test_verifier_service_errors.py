"""Malformed requests to `verifier serve` get a 4xx with a JSON error body, never a 5xx.

Covers the response endpoint (garbage, oversized, wrong content type, non-UTF-8,
repeated or missing parameters, hostile JSON), the request and counter endpoints,
and a property test throwing arbitrary bytes at every POST endpoint.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_verifier_service_support import FORM, Bank, running_bank
from vc.presentation_response import MAX_RESPONSE_BYTES


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    with running_bank(tmp_path_factory.mktemp("bank")) as b:
        yield b


@pytest.fixture(scope="module")
def live_state(bank: Bank) -> str:
    return bank.verifier.create_request().state


def _assert_json_4xx(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("error_description"), str)
    return body


def _bodies(state: str) -> list[tuple[str, bytes]]:
    s = state.encode()
    deep = "[" * 200 + "]" * 200
    return [
        ("empty", b""),
        ("no equals", b"vp_token"),
        ("bad escapes", b"%%%=%%%"),
        ("vp_token not json", b"vp_token=notjson&state=" + s),
        ("vp_token an array", b"vp_token=%5B%5D&state=" + s),
        ("vp_token empty object", b"vp_token=%7B%7D&state=" + s),
        ("vp_token items not strings", b"vp_token=" + quote('{"a":[1]}').encode() + b"&state=" + s),
        ("vp_token deep", b"vp_token=" + quote(deep).encode() + b"&state=" + s),
        ("vp_token duplicate names", b"vp_token=" + quote('{"a":["x"],"a":["y"]}').encode()
         + b"&state=" + s),
        ("vp_token NaN", b"vp_token=" + quote('{"a":[NaN]}').encode() + b"&state=" + s),
        ("staples wrong shape", b"vp_token=" + quote('{"a":["x"]}').encode()
         + b"&selfcarry_staples=" + quote('{"b":[]}').encode() + b"&state=" + s),
        ("only state", b"state=" + s),
        ("repeated vp_token", b"vp_token=a&vp_token=b&state=" + s),
        ("repeated state", b"vp_token=" + quote('{"a":["x"]}').encode() + b"&state=" + s
         + b"&state=" + s),
        ("too many fields", b"&".join(b"f%d=1" % i for i in range(20)) + b"&state=" + s),
        ("non-UTF-8", b"vp_token=\xff\xfe&state=" + s),
        ("raw UTF-8", "vp_token={\"a\":[\"é\"]}&state=".encode() + s),
        ("NUL bytes", b"vp_token=\x00\x00&state=" + s),
        ("unknown state", b"vp_token=" + quote('{"a":["x"]}').encode()
         + b"&state=AAAAAAAAAAAAAAAAAAAAAA"),
        ("malformed state", b"vp_token=" + quote('{"a":["x"]}').encode() + b"&state=%3Cscript%3E"),
        ("empty state", b"vp_token=" + quote('{"a":["x"]}').encode() + b"&state="),
        ("bad error code", b"error=%3Cb%3E&state=" + s),
    ]


def test_garbage_response_bodies_are_400(bank: Bank, live_state: str) -> None:
    for name, body in _bodies(live_state):
        got = bank.http.post("/response", content=body, headers=FORM)
        body_json = _assert_json_4xx(got)
        assert got.status_code == 400, (name, got.status_code, got.text)
        assert body_json["error"] == "invalid_request", (name, body_json)


@pytest.mark.parametrize("content_type", [
    None, "application/json", "text/plain", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencodedX", "",
])
def test_wrong_content_type_is_415(bank: Bank, live_state: str, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    got = bank.http.post("/response", content=b"vp_token=x&state=" + live_state.encode(),
                         headers=headers)
    _assert_json_4xx(got)
    assert got.status_code == 415


def test_content_type_parameters_are_allowed(bank: Bank, live_state: str) -> None:
    got = bank.http.post("/response", content=b"vp_token=x&state=" + live_state.encode(),
                         headers={"content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"})
    assert got.status_code == 400  # past the content type: the body itself is refused
    assert _assert_json_4xx(got)["error"] == "invalid_request"


def test_oversized_bodies_are_413(bank: Bank, live_state: str) -> None:
    big = b"vp_token=" + b"a" * MAX_RESPONSE_BYTES + b"&state=" + live_state.encode()
    got = bank.http.post("/response", content=big, headers=FORM)
    assert got.status_code == 413 and _assert_json_4xx(got)["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b"vp_token="
        for _ in range(40):
            yield b"a" * 65536

    got = bank.http.post("/response", content=chunks(), headers=FORM)
    assert got.status_code == 413 and _assert_json_4xx(got)["error"] == "payload_too_large"
    got = bank.http.post("/counter", content=b"purpose_en=" + b"a" * 70000, headers=FORM)
    assert got.status_code == 413
    got = bank.http.post(f"/request/{live_state}", content=b"a" * 70000, headers=FORM)
    assert got.status_code == 413


def _raw_post(url: str, content_length: str) -> bytes:
    """A POST with a Content-Length no client library would send; the reply's head."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /response HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                     f"application/x-www-form-urlencoded\r\nContent-Length: {content_length}"
                     f"\r\n\r\nx".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def test_lying_content_length_is_refused(bank: Bank) -> None:
    # Framing errors never reach the app: uvicorn answers them (400, text/plain).
    for value in ("abc", "-1", "1, 2"):
        head = _raw_post(bank.url, value)
        assert head.startswith(b"HTTP/1.1 4"), (value, head[:100])
    head = _raw_post(bank.url, str(10**12))  # well-formed but too large: our JSON 413
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head


@pytest.mark.parametrize("path", [
    "/request/%00", "/request/" + "a" * 200, "/result/" + "a" * 200, "/counter/%F0%9F%98%80",
    "/result/..%2F..%2Fetc%2Fpasswd",
])
def test_odd_ids_are_404(bank: Bank, path: str) -> None:
    _assert_json_4xx(bank.http.get(path))


def test_counter_start_wants_a_form(bank: Bank) -> None:
    assert bank.http.post("/counter", json={"purpose_en": "x"}).status_code == 415
    assert bank.http.post("/counter", content=b"\xff", headers=FORM).status_code == 400
    _assert_json_4xx(bank.http.post("/counter", content=b"purpose_en=a&purpose_en=b",
                                    headers=FORM))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2048),
       path=st.sampled_from(["/response", "/counter", "/request/AAAAAAAAAAAAAAAAAAAAAA"]),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "text/plain", None]))
def test_arbitrary_bytes_never_cause_a_5xx(bank: Bank, body: bytes, path: str,
                                            content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    got = bank.http.post(path, content=body, headers=headers)
    assert got.status_code < 500, (got.status_code, got.text[:300])
    if got.status_code >= 400:
        _assert_json_4xx(got)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(["vp_token", "state", "selfcarry_staples", "error",
                                                "error_description"]),
                              st.text(max_size=300), max_size=5))
def test_arbitrary_forms_never_cause_a_5xx(bank: Bank, live_state: str,
                                           fields: dict[str, str]) -> None:
    fields.setdefault("state", live_state)
    got = bank.http.post("/response", data=fields)
    assert got.status_code < 500, (got.status_code, got.text[:300])
    if got.status_code >= 400:
        _assert_json_4xx(got)
