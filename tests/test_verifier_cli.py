"""``verifier`` as a subprocess, exactly as CLI.md writes the commands (a fixed contract).

The parties are set up with their own CLIs (``hash-registry``, ``issuer-sim``,
``verifier``); the resident's part (choosing claims, signing the KB-JWT) is done with
the wire format in-process, as any wallet would. Exit codes: 0 ok / verified, 1 rejected
or failed (with a reason code), 2 usage or input-format errors — never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import free_port, serve_app
from vc import dcql
from vc.b64 import b64u_decode, b64u_encode
from vc.jose import PrivateKey, decode_compact
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLIENT_ID = "https://bank.shenzhen.example"
REQUEST_MEMBERS = {"id", "nonce", "client_id", "response_uri", "dcql_query", "purpose",
                   "request", "uri"}
CHECK_NAMES = ["size_and_syntax", "issuer_trusted", "issuer_key_on_registry",
               "signature_disclosures_key_binding", "nonce_single_use", "registry_anchor",
               "not_revoked", "jsonld_terms", "request_satisfied"]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def _command(tool: str, module: str) -> list[str]:
    script = BIN / tool
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def run(tool: str, *args: str, timeout: float = 120) -> Run:
    module = {"verifier": "verifier.cli", "hash-registry": "hash_registry.cli",
              "issuer-sim": "issuer_sim.cli"}[tool]
    env = {k: v for k, v in os.environ.items() if k != "SELFCARRY_HOME"}
    proc = subprocess.run([*_command(tool, module), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return Run(proc.returncode, proc.stdout, proc.stderr)


def verifier(*args: str) -> Run:
    return run("verifier", *args)


def ok(tool: str, *args: str) -> Run:
    result = run(tool, *args)
    assert result.code == 0, (args, result.out, result.err)
    return result


@dataclass
class Setup:
    root: Path
    bank: Path
    registry: Path
    cra: Path
    cra_url: str
    credential: str
    receipt: dict[str, Any]
    holder: PrivateKey

    def request(self, *extra: str) -> tuple[dict[str, Any], Path]:
        result = ok("verifier", "request", "--json", "--home", str(self.bank), *extra)
        doc = result.json
        path = self.root / f"request-{doc['id']}.json"
        path.write_text(result.out, encoding="utf-8")
        return doc, path

    def presentation(self, request: dict[str, Any]) -> str:
        wallet = HolderCredential.from_issuance(self.credential)
        matches = dcql.match(request["dcql_query"],
                             [("c", wallet.claims["vct"], wallet.claims)])
        return wallet.present([list(p) for p in matches[0].required], holder_key=self.holder,
                              aud=request["client_id"], nonce=request["nonce"],
                              iat=int(time.time()))

    def response_file(self, request: dict[str, Any], text: str | None = None,
                      *, staples: bool = True) -> Path:
        text = text or self.presentation(request)
        staple = Staple(self.receipt, None)
        response = PresentationResponse({"credit_report": [text]}, request["id"],
                                        {"credit_report": [staple]} if staples else {})
        path = self.root / f"response-{request['id']}-{len(text)}.json"
        path.write_text(json.dumps(response.to_json()), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """The three parties set up through their CLIs; the CRA's service (status list) runs on
    a free loopback port, because the QR path carries no staples."""
    root = tmp_path_factory.mktemp("verifier-cli")
    reg, cra, bank = root / "registry", root / "cra", root / "bank"
    port = free_port()
    cra_url = f"http://127.0.0.1:{port}"
    ok("hash-registry", "init", "--home", str(reg))
    ok("issuer-sim", "init", "--registry", str(reg), "--url", cra_url, "--home", str(cra))
    (root / "cra.json").write_text(ok("issuer-sim", "jwks", "--home", str(cra)).out)
    ok("hash-registry", "admit-issuer", str(root / "cra.json"), "--home", str(reg))
    (root / "keys.json").write_text(ok("hash-registry", "keys", "--json", "--home", str(reg)).out)

    ok("verifier", "--home", str(bank), "init", "--client-id", CLIENT_ID,
       "--name", "Shenzhen Example Bank")
    (root / "bank.json").write_text(ok("verifier", "identity", "--home", str(bank)).out)
    ok("hash-registry", "admit-verifier", str(root / "bank.json"), "--home", str(reg))
    ok("verifier", "trust", "add-issuer", str(root / "cra.json"), "--name", "TransUnion HK",
       "--home", str(bank))
    ok("verifier", "--home", str(bank), "trust", "add-registry", str(root / "keys.json"),
       "--url", str(reg))

    holder = PrivateKey.generate()
    (root / "holder.jwk").write_text(json.dumps(holder.public_key().to_jwk()))
    ok("issuer-sim", "issue", "--seed", "42", "--holder-jwk", str(root / "holder.jwk"),
       "--out", str(root / "credential.sd-jwt"), "--receipt", str(root / "receipt.json"),
       "--home", str(cra))
    credential = (root / "credential.sd-jwt").read_text().strip()
    receipt = json.loads((root / "receipt.json").read_text())

    from issuer_sim.service import create_app

    with serve_app(create_app(cra), port=port):
        yield Setup(root, bank, reg, cra, cra_url, credential, receipt, holder)


# --------------------------------------------------------------------------- identity and trust


def test_identity_is_the_public_metadata_the_registry_admits(setup: Setup) -> None:
    doc = ok("verifier", "identity", "--home", str(setup.bank)).json
    assert set(doc) == {"client_id", "name", "jwks"}
    assert doc["client_id"] == CLIENT_ID and doc["name"] == "Shenzhen Example Bank"
    [key] = doc["jwks"]["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key
    # --home before or after the subcommand, and --json: the same document
    before = ok("verifier", "--home", str(setup.bank), "identity").json
    with_json = ok("verifier", "identity", "--json", "--home", str(setup.bank)).json
    assert before == doc == with_json


def test_home_from_the_environment(setup: Setup) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "SELFCARRY_HOME"},
           "SELFCARRY_HOME": str(setup.bank)}
    proc = subprocess.run([*_command("verifier", "verifier.cli"), "identity"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["client_id"] == CLIENT_ID


def test_trust_commands_report_what_they_did(setup: Setup, tmp_path: Path) -> None:
    bank = tmp_path / "bank2"
    ok("verifier", "init", "--client-id", "https://other-bank.example", "--home", str(bank))
    added = ok("verifier", "trust", "add-issuer", str(setup.root / "cra.json"), "--name",
               "TU", "--json", "--home", str(bank)).json
    assert added["issuer"] == setup.cra_url and len(added["keys"]) == 1
    reg = ok("verifier", "--json", "trust", "add-registry", str(setup.root / "keys.json"),
             "--url", str(setup.registry), "--home", str(bank)).json
    keys = json.loads((setup.root / "keys.json").read_text())
    assert reg["origin"] == keys["log"]["origin"] and reg["quorum"] == 1
    human = ok("verifier", "trust", "add-issuer", str(setup.root / "cra.json"),
               "--home", str(bank))
    assert setup.cra_url in human.out


# --------------------------------------------------------------------------- requests


def test_request_json_has_exactly_the_contract_members(setup: Setup) -> None:
    doc, _ = setup.request()
    assert set(doc) == REQUEST_MEMBERS
    assert doc["client_id"] == CLIENT_ID
    assert doc["uri"].startswith("openid4vp://")
    header = decode_compact(doc["request"]).header
    assert header["typ"] == "oauth-authz-req+jwt"
    claims = decode_compact(doc["request"]).claims()
    assert claims["nonce"] == doc["nonce"] and claims["client_id"] == CLIENT_ID
    assert claims["dcql_query"] == doc["dcql_query"]
    other, _ = setup.request()
    assert other["nonce"] != doc["nonce"] and other["id"] != doc["id"]


def test_request_with_purpose_and_query_file(setup: Setup) -> None:
    query = json.loads((REPO / "verifier" / "queries" / "loan-precheck.json").read_text())
    path = setup.root / "query.json"
    path.write_text(json.dumps(query))
    doc, _ = setup.request("--query", str(path), "--purpose", "mortgage pre-check")
    assert doc["dcql_query"] == query and doc["purpose"] == "mortgage pre-check"


def test_request_qr_decodes_back_to_the_uri(setup: Setup) -> None:
    pytest.importorskip("segno")
    zxing_missing = [m for m in ("zxingcpp", "PIL") if _missing(m)]
    if zxing_missing:
        _skip_or_fail(f"QR decoding packages not installed: {zxing_missing}")
    png = setup.root / "request.png"
    doc, _ = setup.request("--qr", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from vc.qr import decode_images

    assert decode_images([png]) == [doc["uri"].encode()]


# --------------------------------------------------------------------------- verify


def _assert_result_shape(doc: dict[str, Any]) -> None:
    assert {"verified", "reason", "checks", "claims", "policy"} <= set(doc)
    assert isinstance(doc["verified"], bool)
    for check in doc["checks"]:
        assert set(check) == {"name", "ok", "detail"}
        assert isinstance(check["name"], str) and isinstance(check["ok"], bool)
        assert isinstance(check["detail"], str)


def test_verify_a_stapled_presentation(setup: Setup) -> None:
    request, request_file = setup.request()
    result = verifier("verify", str(setup.response_file(request)), "--request",
                      str(request_file), "--json", "--home", str(setup.bank))
    assert result.code == 0, (result.out, result.err)
    doc = result.json
    _assert_result_shape(doc)
    assert doc["verified"] is True and doc["reason"] is None
    assert [c["name"] for c in doc["checks"]] == CHECK_NAMES
    assert all(c["ok"] for c in doc["checks"])
    assert "stapled receipt" in doc["checks"][5]["detail"]
    subject = doc["claims"]["ld"]["credentialSubject"]
    assert "riskGrade" in subject["assessment"] and "accounts" not in subject
    assert "hkid" not in subject.get("identity", {})
    policy = doc["policy"]
    assert set(policy) >= {"decision", "reasons"}
    assert policy["decision"] in ("approve", "refer", "decline")
    assert isinstance(policy["reasons"], list)


def test_verify_human_output(setup: Setup) -> None:
    request, request_file = setup.request()
    result = verifier("--home", str(setup.bank), "verify", str(setup.response_file(request)),
                      "--request", str(request_file))
    assert result.code == 0, result.err
    assert result.out.startswith("VERIFIED")
    for name in CHECK_NAMES:
        assert f"[ok] {name}" in result.out
    assert "policy: " in result.out


def test_verify_a_bare_presentation_looks_the_anchor_and_status_up(setup: Setup) -> None:
    """A file holding only the SD-JWT+KB: no staples, so the registry (its home) and the
    CRA's status list (over HTTP) are consulted."""
    request, request_file = setup.request()
    bare = setup.root / f"bare-{request['id']}.txt"
    bare.write_text(setup.presentation(request) + "\n")
    result = verifier("verify", str(bare), "--request", str(request_file), "--json",
                      "--home", str(setup.bank))
    assert result.code == 0, (result.out, result.err)
    checks = {c["name"]: c["detail"] for c in result.json["checks"]}
    assert "registry lookup" in checks["registry_anchor"]
    assert "fetched" in checks["not_revoked"] or "cached" in checks["not_revoked"]


def test_verify_from_qr_codes(setup: Setup) -> None:
    if _missing("segno") or _missing("zxingcpp") or _missing("PIL"):
        _skip_or_fail("QR packages (segno, zxing-cpp, Pillow) are not installed")
    from vc.qr import presentation_codes, render_png

    request, request_file = setup.request()
    codes = presentation_codes(setup.presentation(request))
    pngs = []
    for i, code in enumerate(codes):
        png = setup.root / f"presentation-{request['id']}-{i}.png"
        png.write_bytes(render_png(code))
        pngs.append(str(png))
    result = verifier("verify", "--qr", *pngs, "--request", str(request_file), "--json",
                      "--home", str(setup.bank))
    assert result.code == 0, (result.out, result.err)
    doc = result.json
    assert doc["verified"] is True
    assert "registry lookup" in doc["checks"][5]["detail"]


def test_verify_refuses_a_tampered_presentation(setup: Setup) -> None:
    request, request_file = setup.request()
    text = setup.presentation(request)
    parts = text.split("~")
    for i, d in enumerate(parts[1:-1], start=1):
        decoded = json.loads(b64u_decode(d))
        if len(decoded) == 3 and decoded[1] == "riskGrade":
            decoded[2] = "A" if decoded[2] != "A" else "B"
            parts[i] = b64u_encode(json.dumps(decoded).encode())
    tampered = "~".join(parts)
    assert tampered != text
    result = verifier("verify", str(setup.response_file(request, tampered)), "--request",
                      str(request_file), "--json", "--home", str(setup.bank))
    assert result.code == 1, (result.out, result.err)
    doc = result.json
    _assert_result_shape(doc)
    assert doc["verified"] is False and doc["reason"] == "unreferenced_disclosure"
    assert doc["checks"][-1]["ok"] is False
    assert doc["checks"][-1]["name"] == "signature_disclosures_key_binding"
    assert doc["claims"] == {} and doc["policy"] is None
    human = verifier("verify", str(setup.response_file(request, tampered)), "--request",
                     str(request_file), "--home", str(setup.bank))
    assert human.code == 1 and human.out.startswith("REJECTED: unreferenced_disclosure")


def test_verify_refuses_a_replay(setup: Setup) -> None:
    request, request_file = setup.request()
    response = setup.response_file(request)
    args = ("verify", str(response), "--request", str(request_file), "--json",
            "--home", str(setup.bank))
    assert verifier(*args).code == 0
    again = verifier(*args)
    assert again.code == 1 and again.json["reason"] == "nonce_replayed"


def test_verify_refuses_garbage_presentation_with_a_reason(setup: Setup) -> None:
    _request, request_file = setup.request()
    junk = setup.root / "junk.txt"
    junk.write_text("this is not a presentation~")
    result = verifier("verify", str(junk), "--request", str(request_file), "--json",
                      "--home", str(setup.bank))
    assert result.code == 1 and result.json["verified"] is False
    assert result.json["reason"]


def test_verify_a_request_from_another_bank_home_is_refused(setup: Setup,
                                                            tmp_path: Path) -> None:
    other = tmp_path / "other-bank"
    ok("verifier", "init", "--client-id", "https://other-bank.example", "--home", str(other))
    ok("verifier", "trust", "add-registry", str(setup.root / "keys.json"), "--url",
       str(setup.registry), "--home", str(other))
    theirs = ok("verifier", "request", "--json", "--home", str(other))
    request_file = tmp_path / "their-request.json"
    request_file.write_text(theirs.out)
    result = verifier("verify", str(setup.response_file(theirs.json)), "--request",
                      str(request_file), "--json", "--home", str(setup.bank))
    assert result.code == 1 and result.json["verified"] is False


# --------------------------------------------------------------------------- usage errors


USAGE_CASES = [
    "no subcommand", "unknown subcommand", "init without --client-id",
    "verify without --request", "verify with neither FILE nor --qr",
    "verify with FILE and --qr", "verify a missing file", "verify a non-UTF-8 file",
    "verify with a request file that is not JSON", "add-issuer with a non-JSON file",
    "add-issuer with a missing file", "add-registry with a non-JSON file",
    "request with a missing query file", "request with a bad --ttl", "trust without what",
]


def _usage_case(setup: Setup, label: str) -> list[str]:
    request_file = setup.root / "usage-request.json"
    if not request_file.exists():
        request_file.write_text(ok("verifier", "request", "--json", "--home",
                                   str(setup.bank)).out)
    not_json = setup.root / "not-json.txt"
    not_json.write_text("{this is not json")
    binary = setup.root / "binary.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    missing = str(setup.root / "missing.json")
    home = ["--home", str(setup.bank)]
    return {
        "no subcommand": [*home],
        "unknown subcommand": ["frobnicate", *home],
        "init without --client-id": ["init", "--home", str(setup.root / "fresh")],
        "verify without --request": ["verify", str(not_json), *home],
        "verify with neither FILE nor --qr": ["verify", "--request", str(request_file), *home],
        "verify with FILE and --qr": ["verify", str(not_json), "--qr", str(binary),
                                      "--request", str(request_file), *home],
        "verify a missing file": ["verify", missing, "--request", str(request_file), *home],
        "verify a non-UTF-8 file": ["verify", str(binary), "--request", str(request_file),
                                    *home],
        "verify with a request file that is not JSON": ["verify", str(not_json), "--request",
                                                        str(not_json), *home],
        "add-issuer with a non-JSON file": ["trust", "add-issuer", str(not_json), *home],
        "add-issuer with a missing file": ["trust", "add-issuer", missing, *home],
        "add-registry with a non-JSON file": ["trust", "add-registry", str(not_json), *home],
        "request with a missing query file": ["request", "--query", missing, *home],
        "request with a bad --ttl": ["request", "--ttl", "soon", *home],
        "trust without what": ["trust", *home],
    }[label]


@pytest.mark.parametrize("label", USAGE_CASES)
def test_usage_errors_exit_2_without_a_traceback(setup: Setup, label: str) -> None:
    argv = _usage_case(setup, label)
    variants: list[list[str]] = [[], ["--json"]] if label.startswith("verify") else [["--json"]]
    for extra in variants:
        result = verifier(*argv, *extra)
        assert result.code == 2, (label, extra, result.out, result.err)
        assert result.err.strip(), label
        assert "Traceback" not in result.err


def test_an_uninitialised_home_is_a_named_failure(tmp_path: Path) -> None:
    result = verifier("identity", "--json", "--home", str(tmp_path / "nothing-here"))
    assert result.code == 1
    assert result.json["error"]["code"] == "verifier_not_initialised"
    assert "verifier_not_initialised" in result.err


# --------------------------------------------------------------------------- helpers


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
