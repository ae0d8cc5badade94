"""`issuer-sim` as CLI.md writes it, through the real console entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hash_registry.home import init_registry, open_log
from hash_registry.receipt import Receipt, verify_receipt
from hash_registry.trust import TrustedLog
from vc.jose import PrivateKey
from vc.sdjwt import HolderCredential


def cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "issuer_sim.cli", *args]
    if home is not None:
        cmd += ["--home", str(home)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def admitted(tmp_path: Path) -> tuple[Path, Path]:
    reg, cra = tmp_path / "reg", tmp_path / "cra"
    init_registry(reg)
    assert cli("init", "--registry", str(reg), "--url", "http://127.0.0.1:8701", home=cra).returncode == 0
    jwks = cli("jwks", home=cra)
    assert jwks.returncode == 0, jwks.stderr
    metadata = json.loads(jwks.stdout)
    assert metadata["issuer"] == "http://127.0.0.1:8701"
    assert metadata["jwks"]["keys"][0]["kty"] == "EC"
    log = open_log(reg)
    log.admit_issuer(metadata)
    log.close()
    return reg, cra


def test_report_is_deterministic(tmp_path: Path) -> None:
    a = cli("report", "--seed", "42", "--json", home=tmp_path)
    b = cli("--home", str(tmp_path), "report", "--seed", "42", "--json")
    assert a.returncode == 0 and a.stdout == b.stdout
    assert json.loads(a.stdout)["personal_information"]["hkid"]


def test_issue_writes_credential_and_receipt(admitted: tuple[Path, Path], tmp_path: Path) -> None:
    reg, cra = admitted
    holder = PrivateKey.generate()
    (tmp_path / "holder.jwk").write_text(json.dumps(holder.public_key().to_jwk()))
    out, receipt = tmp_path / "cred.txt", tmp_path / "receipt.json"
    r = cli("issue", "--seed", "3", "--holder-jwk", str(tmp_path / "holder.jwk"),
            "--out", str(out), "--receipt", str(receipt), home=cra)
    assert r.returncode == 0, r.stderr
    credential = HolderCredential.from_issuance(out.read_text())
    assert credential.claims["cnf"]["jwk"] == holder.public_key().to_jwk()
    log = open_log(reg)
    trusted = TrustedLog.from_keys_json(log.keys_document())
    log.close()
    verify_receipt(Receipt.from_json(receipt.read_text()), trusted)


def test_bulk_issue_and_revoke(admitted: tuple[Path, Path]) -> None:
    _, cra = admitted
    r = cli("issue", "--seed", "100", "--count", "25", "--batch", "10", "--json", home=cra)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["count"] == 25
    one = cli("issue", "--seed", "1", "--count", "1", home=cra)
    assert one.returncode == 2 and "holder-jwk" in one.stderr  # usage error, no traceback
    assert "Traceback" not in one.stderr


def test_revoke_unknown_digest_is_a_named_failure(admitted: tuple[Path, Path]) -> None:
    _, cra = admitted
    r = cli("revoke", "ab" * 32, "--json", home=cra)
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["code"] == "unknown_credential"


def test_offer_uri(admitted: tuple[Path, Path]) -> None:
    _, cra = admitted
    r = cli("offer", "--seed", "9", "--json", home=cra)
    doc = json.loads(r.stdout)
    assert doc["uri"].startswith("openid-credential-offer://?credential_offer=")
    assert len(doc["tx_code"]) == 6 and doc["tx_code"].isdigit()


def test_not_initialised_and_bad_input(tmp_path: Path) -> None:
    r = cli("jwks", home=tmp_path / "nowhere")
    assert r.returncode == 1 and "issuer_not_initialised" in r.stderr
    r = cli("init", "--cra", "no-such-cra", home=tmp_path)
    assert r.returncode == 1 and "unknown_profile" in r.stderr
    r = cli("frobnicate", home=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
