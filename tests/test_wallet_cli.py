"""The `wallet` commands of CLI.md, end to end with `issuer-sim` and `verifier`, all as
real subprocesses sharing nothing but files (each party has its own --home)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.world import serving_world

PASS = "a long and honest passphrase"


def run(module: str, *args: str, home: Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SELFCARRY_PASSPHRASE": PASS, "SELFCARRY_UNSAFE_TEST_KDF": "1",
                **(env or {})}
    return subprocess.run([sys.executable, "-m", module, "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120, env=full_env, check=False)


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    with serving_world(tmp_path) as w:
        yield w


def test_import_present_verify(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    me = tmp_path / "me"
    assert run("wallet.cli", "init", home=me).returncode == 0
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(world.keys))
    r = run("wallet.cli", "trust", "add-registry", str(keys), "--url", str(world.registry_home),
            "--json", home=me)
    assert r.returncode == 0, r.stderr
    jwk = run("wallet.cli", "holder-jwk", home=me)
    assert jwk.returncode == 0 and json.loads(jwk.stdout)["kty"] == "EC"
    (tmp_path / "holder.jwk").write_text(jwk.stdout)
    r = run("issuer_sim.cli", "issue", "--seed", "31", "--holder-jwk", str(tmp_path / "holder.jwk"),
            "--out", str(tmp_path / "cred.txt"), "--receipt", str(tmp_path / "receipt.json"),
            home=world.root / "cra")
    assert r.returncode == 0, r.stderr
    r = run("wallet.cli", "import", str(tmp_path / "cred.txt"), "--receipt",
            str(tmp_path / "receipt.json"), "--json", home=me)
    assert r.returncode == 0, r.stderr
    credential_id = json.loads(r.stdout)["id"]
    listing = json.loads(run("wallet.cli", "list", "--json", home=me).stdout)
    assert [c["id"] for c in listing] == [credential_id]
    shown = json.loads(run("wallet.cli", "show", credential_id, "--json", home=me).stdout)
    paths = {c["path"]: c["disclosable"] for c in shown["claims"]}
    assert paths["ld.credentialSubject.score.grade"] is True
    assert paths["ld.credentialSubject.identity.hkid"] is True

    request = run("verifier.cli", "request", "--json", home=world.bank_home)
    assert request.returncode == 0, request.stderr
    (tmp_path / "request.json").write_text(request.stdout)
    r = run("wallet.cli", "present", str(tmp_path / "request.json"), "--out",
            str(tmp_path / "response.json"), "--json", home=me)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["authenticated"] is True
    verdict = run("verifier.cli", "verify", str(tmp_path / "response.json"), "--request",
                  str(tmp_path / "request.json"), "--json", home=world.bank_home)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    doc = json.loads(verdict.stdout)
    assert doc["verified"] is True and doc["policy"]["decision"] in ("approve", "refer", "decline")
    history = json.loads(run("wallet.cli", "history", "--json", home=me).stdout)
    assert history[-1]["decision"] == "approved"


def test_wrong_passphrase_and_usage(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    me = tmp_path / "me"
    assert run("wallet.cli", "init", home=me).returncode == 0
    r = run("wallet.cli", "list", home=me, env={"SELFCARRY_PASSPHRASE": "not the one at all"})
    assert r.returncode == 1 and "wrong_passphrase" in r.stderr and "Traceback" not in r.stderr
    r = run("wallet.cli", "present", home=me)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run("wallet.cli", "import", str(tmp_path / "missing.txt"), home=me)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_backup_restore(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    me, other = tmp_path / "me", tmp_path / "other"
    assert run("wallet.cli", "init", home=me).returncode == 0
    jwk = json.loads(run("wallet.cli", "holder-jwk", home=me).stdout)
    env = {"SELFCARRY_BACKUP_PASSPHRASE": "backup passphrase, also long"}
    assert run("wallet.cli", "backup", str(tmp_path / "b.bin"), home=me, env=env).returncode == 0
    r = run("wallet.cli", "restore", str(tmp_path / "b.bin"), home=other, env=env)
    assert r.returncode == 0, r.stderr
    assert jwk["x"]
