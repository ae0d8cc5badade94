"""``hash-registry`` as a subprocess: every command of CLI.md, its JSON shapes, its exit codes.

0 ok, 1 the operation failed (a named error), 2 usage or input-format errors;
never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hash_registry.checkpoint import Checkpoint
from hash_registry.entries import AnchorEntry, decode_entry
from hash_registry.merkle import leaf_hash, verify_consistency, verify_inclusion
from hash_registry.note import split_note
from hash_registry.trust import TrustedLog, verify_checkpoint
from vc.jose import PrivateKey

from .live_server import free_port
from .test_registry_store_helpers import ISSUER, REPO, VCT, credential, issuer_metadata

SCRIPT = Path(sys.executable).parent / "hash-registry"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def run(*args: str, home: Path | None = None, env: dict[str, str] | None = None) -> Run:
    cmd = [sys.executable, "-m", "hash_registry.cli", *args]
    if home is not None:
        cmd += ["--home", str(home)]
    environ = {k: v for k, v in os.environ.items() if k != "SELFCARRY_HOME"}
    environ.update(env or {})
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, env=environ)
    assert "Traceback" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ok(*args: str, home: Path | None = None) -> dict:
    r = run(*args, "--json", home=home)
    assert r.code == 0, r.err
    return r.json


def fails(code: int, error: str, *args: str, home: Path | None = None) -> None:
    r = run(*args, "--json", home=home)
    assert r.code == code, (r.out, r.err)
    assert r.json["error"] == error, r.out
    assert r.err.startswith(f"{error}: ")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "registry-home"
    ok("init", home=h)
    return h


def _trust(home: Path) -> TrustedLog:
    return TrustedLog.from_keys_json(ok("keys", home=home))


def test_init_creates_keys_witness_and_store(tmp_path: Path) -> None:
    h = tmp_path / "h"
    doc = ok("init", home=h)
    assert doc["log"]["origin"] == "registry.selfcarry.local/log"
    for key in (h / "registry" / "log.key", h / "witness" / "witness.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (h / "registry" / "registry.db").exists()
    cfg = json.loads((h / "registry" / "config.json").read_text())
    assert cfg["store"] == "sqlite:registry.db" and cfg["hash_alg"] == "sha-256"
    fails(1, "already_initialized", "init", home=h)


def test_keys_document_shape(home: Path) -> None:
    doc = ok("keys", home=home)
    assert set(doc) >= {"log", "witnesses"}
    assert set(doc["log"]) == {"origin", "vkey"}
    assert [set(w) for w in doc["witnesses"]] == [{"name", "vkey"}]
    assert doc["log"]["vkey"].startswith(doc["log"]["origin"] + "+")
    assert TrustedLog.from_keys_json(doc).quorum == 1
    text = run("keys", home=home)
    assert text.code == 0 and doc["log"]["vkey"] in text.out


def test_home_before_or_after_the_command_and_from_the_environment(home: Path) -> None:
    after = ok("keys", home=home)
    before = run("--home", str(home), "keys", "--json")
    assert before.code == 0 and before.json == after
    r = run("keys", "--json", env={"SELFCARRY_HOME": str(home)})
    assert r.code == 0 and r.json == after


def test_checkpoint_is_a_cosigned_note(home: Path) -> None:
    r = run("checkpoint", home=home)
    assert r.code == 0
    cp = verify_checkpoint(r.out, _trust(home))
    assert cp.size == 0
    doc = ok("checkpoint", home=home)
    assert doc["checkpoint"] == r.out and doc["size"] == 0


def test_admit_anchor_status_proof_revoke(home: Path, tmp_path: Path) -> None:
    cra = PrivateKey.generate()
    meta = tmp_path / "issuer.json"
    meta.write_text(json.dumps(issuer_metadata(cra)))
    doc = ok("admit-issuer", str(meta), home=home)
    assert doc["issuer"] == ISSUER
    assert [k["kid"] for k in doc["keys"]] == [cra.public_key().thumbprint()]
    assert ok("admit-issuer", str(meta), home=home)["keys"][0]["new"] is False

    bank = PrivateKey.generate("EdDSA")
    ident = tmp_path / "bank.json"
    ident.write_text(
        json.dumps(
            {
                "client_id": "https://bank.example.cn",
                "name": "Bank",
                "jwks": {"keys": [bank.public_key().to_jwk()]},
            }
        )
    )
    assert ok("admit-verifier", str(ident), home=home)["verifier"] == "https://bank.example.cn"

    sd_jwt = credential(cra)
    cred = tmp_path / "cred.sdjwt"
    cred.write_text(sd_jwt + "\n")
    anchored = ok("anchor", str(cred), home=home)
    assert set(anchored) == {"index", "digest", "leaf_hash", "checkpoint"}
    jwt = sd_jwt.split("~")[0]
    assert anchored["digest"] == hashlib.sha256(jwt.encode()).hexdigest()
    trust = _trust(home)
    cp = verify_checkpoint(anchored["checkpoint"], trust)
    index = anchored["index"]
    assert cp.size == index + 1

    entry = ok("entry", str(index), home=home)
    data = base64.b64decode(entry["entry"])
    decoded = decode_entry(data)
    assert isinstance(decoded, AnchorEntry) and decoded.issuer == ISSUER
    assert decoded.matches_vct(VCT)
    assert anchored["leaf_hash"] == base64.b64encode(leaf_hash(data)).decode()

    proof = ok("proof", "--index", str(index), home=home)
    assert set(proof) == {"index", "tree_size", "leaf_hash", "root", "proof"}
    verify_inclusion(
        index,
        proof["tree_size"],
        base64.b64decode(proof["leaf_hash"]),
        [base64.b64decode(h) for h in proof["proof"]],
        cp.root,
    )
    status = ok("status", anchored["digest"], home=home)
    assert (status["anchored"], status["index"], status["revoked"]) == (True, index, False)

    fails(1, "already_anchored", "anchor", str(cred), home=home)

    revoked = ok("revoke", anchored["digest"], "--reason", "superseded", home=home)
    status = ok("status", anchored["digest"], home=home)
    assert status["revoked"] is True and status["revocation_index"] == revoked["index"]
    fails(1, "already_revoked", "revoke", anchored["digest"], "--reason", "again", home=home)

    receipt = ok("receipt", str(index), home=home)
    assert set(receipt) == {"index", "entry", "inclusion_proof", "checkpoint"}
    assert ok("issuers", home=home)["issuers"][0]["issuer"] == ISSUER
    assert ok("verifiers", home=home)["verifiers"][0]["name"] == "Bank"


def test_anchor_checks_the_credential(home: Path, tmp_path: Path) -> None:
    cra, stranger = PrivateKey.generate(), PrivateKey.generate()
    meta = tmp_path / "issuer.json"
    meta.write_text(json.dumps(issuer_metadata(cra)))
    ok("admit-issuer", str(meta), home=home)
    cred = tmp_path / "cred"
    cred.write_text(credential(stranger, "https://unknown.example"))
    fails(1, "issuer_not_admitted", "anchor", str(cred), home=home)
    cred.write_text(credential(stranger))  # right iss, signed by a key that is not admitted
    fails(1, "invalid_signature", "anchor", str(cred), home=home)
    cred.write_text(credential(cra))
    fails(1, "issuer_mismatch", "anchor", str(cred), "--issuer", "https://x.example", home=home)
    no_exp = tmp_path / "no-exp"
    no_exp.write_text(credential(cra, exp=False))
    assert ok("anchor", str(no_exp), "--issuer", ISSUER, home=home)["index"] == 1
    cred.write_text("this is not an SD-JWT")
    fails(2, "invalid_credential", "anchor", str(cred), home=home)
    fails(2, "input_error", "anchor", str(tmp_path / "missing"), home=home)


def test_anchor_digests_and_consistency(home: Path, tmp_path: Path) -> None:
    digests = [secrets.token_hex(32) for _ in range(25)]
    f = tmp_path / "digests.txt"
    f.write_text("\n".join(digests[:10]) + "\n\n")
    first = ok("anchor-digests", str(f), home=home)
    assert first["first_index"] == 0 and first["count"] == 10
    old = verify_checkpoint(first["checkpoint"], _trust(home))
    f.write_text("\n".join(digests[10:]))
    second = ok("anchor-digests", str(f), home=home)
    assert (second["first_index"], second["count"]) == (10, 15)
    new = verify_checkpoint(second["checkpoint"], _trust(home))
    cons = ok("consistency", "--old", "10", home=home)
    assert set(cons) == {"old_size", "new_size", "old_root", "new_root", "proof"}
    assert (cons["old_size"], cons["new_size"]) == (10, 25)
    verify_consistency(10, 25, [base64.b64decode(h) for h in cons["proof"]], old.root, new.root)
    assert ok("consistency", "--old", "3", "--new", "10", home=home)["new_size"] == 10
    assert ok("proof", "--index", "4", "--size", "10", home=home)["tree_size"] == 10
    assert ok("status", digests[20], home=home)["index"] == 20
    f.write_text(digests[0] + "\nnot-hex\n")
    fails(2, "invalid_digest", "anchor-digests", str(f), home=home)


def test_exit_codes_and_errors(home: Path, tmp_path: Path) -> None:
    fails(2, "invalid_digest", "status", "zz", home=home)
    fails(1, "invalid_range", "proof", "--index", "0", home=home)
    fails(1, "invalid_range", "consistency", "--old", "5", home=home)
    fails(1, "not_anchored", "revoke", "ab" * 32, "--reason", "x", home=home)
    fails(2, "invalid_reason", "revoke", "ab" * 32, "--reason", "not a code!", home=home)
    fails(1, "not_initialized", "keys", home=tmp_path / "empty")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    fails(2, "invalid_json", "admit-issuer", str(bad), home=home)
    bad.write_text(json.dumps({"issuer": "x", "jwks": {"keys": []}}))
    fails(2, "invalid_entry", "admit-issuer", str(bad), home=home)
    for argv in (["frobnicate"], ["proof"], ["proof", "--index", "-3"], []):
        r = run(*argv, home=home)
        assert r.code == 2 and "usage" in r.err
    status = run("status", "ab" * 32, home=home)
    assert status.code == 0 and "not anchored" in status.out


def test_witness_commands(tmp_path: Path, home: Path) -> None:
    w = tmp_path / "witness-home"
    info = ok("witness", "init", "--name", "witness.test/hk", home=w)
    assert info["name"] == "witness.test/hk" and info["vkey"].startswith("witness.test/hk+")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(ok("keys", home=home)))
    follows = ok("witness", "add-log", "--keys", str(keys), home=w)
    assert [x["origin"] for x in follows["logs"]] == ["registry.selfcarry.local/log"]
    assert ok("witness", "info", home=w)["vkey"] == info["vkey"]
    fails(2, "usage_error", "witness", "add-log", home=w)
    fails(2, "invalid_note_key", "witness", "add-log", "--vkey", "garbage", home=w)
    fails(1, "already_initialized", "witness", "init", home=w)
    added = ok(
        "add-witness",
        "--name",
        "witness.test/hk",
        "--vkey",
        info["vkey"],
        "--url",
        "http://127.0.0.1:9",
        home=home,
    )
    assert [x["name"] for x in added["witnesses"]][-1] == "witness.test/hk"
    fails(
        2,
        "invalid_note_key",
        "add-witness",
        "--name",
        "n",
        "--vkey",
        "v",
        "--url",
        "http://x",
        home=home,
    )
    fails(
        2,
        "invalid_url",
        "add-witness",
        "--name",
        "witness.test/hk",
        "--vkey",
        info["vkey"],
        "--url",
        "file:///etc",
        home=home,
    )
    assert len(ok("remove-witness", "--name", "witness.test/hk", home=home)["witnesses"]) == 1


def test_serve_answers_over_http(home: Path) -> None:
    port = free_port()
    cmd = [
        str(SCRIPT) if SCRIPT.exists() else sys.executable,
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
    ]
    if not SCRIPT.exists():
        cmd[1:1] = ["-m", "hash_registry.cli"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/checkpoint", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert resp.status_code == 200
        assert resp.text == run("checkpoint", home=home).out
        cp = Checkpoint.parse(split_note(resp.text)[0])
        assert cp.size == 0
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
    assert "Traceback" not in err


@pytest.mark.postgres
def test_init_with_a_postgres_store(tmp_path: Path) -> None:
    from hash_registry import home as H
    from hash_registry.store_postgres import PostgresStore

    from .test_registry_store_helpers import require_postgres, unique_schema

    url, schema = require_postgres(), unique_schema()
    h = tmp_path / "pg-home"
    doc = ok("init", "--db", url, "--schema", schema, home=h)
    assert doc["store"] == "PostgreSQL"
    try:
        digests = [secrets.token_hex(32) for _ in range(3)]
        f = tmp_path / "d.txt"
        f.write_text("\n".join(digests))
        assert ok("anchor-digests", str(f), home=h)["count"] == 3
        assert ok("status", digests[2], home=h)["index"] == 2
        verify_checkpoint(run("checkpoint", home=h).out, _trust(h))
    finally:
        store = H.open_store(H.RegistryConfig.load(h))
        assert isinstance(store, PostgresStore)
        store.drop()
        store.close()


def test_init_refuses_bad_arguments_without_leaving_a_home(tmp_path: Path) -> None:
    h = tmp_path / "h"
    fails(2, "invalid_db_url", "init", "--db", "mysql://x", home=h)
    fails(2, "invalid_note_key", "init", "--origin", "has space", home=h)
    fails(2, "invalid_note_key", "init", "--witness-name", "a+b", home=h)
    fails(1, "store_unavailable", "init", "--db", "postgresql://nobody@127.0.0.1:1/x", home=h)
    assert not (h / "registry" / "log.key").exists()
    assert ok("init", home=h)["log"]["origin"] == "registry.selfcarry.local/log"
