"""Nothing personal and no key reaches the disk in the clear.

Imports a credential-like record (a name, an HKID, a score, the SD-JWT text), a
holder key, a consent receipt and a backup, then reads every file under the home
as bytes — the database, its ``-wal`` and ``-shm`` while open, and the backup —
and looks for each value in every encoding it could plausibly leak in.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from vc.b64 import b64u_decode, b64u_encode
from wallet.backup import export_backup
from wallet.history import ConsentEvent, History
from wallet.keystore import KeyStore
from wallet.vault import UNSAFE_TEST_KDF, Vault

PASS = "correct horse battery"
NAME = "陳大文"
HKID = "A123456(3)"
SCORE = 3187
REPORT_REF = "TUHK-RPT-77Q4-ZX91"


def b64_forms(raw: bytes) -> set[bytes]:
    """The base64 / base64url text of ``raw`` at each of the three byte alignments."""
    forms: set[bytes] = set()
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(b"\x00" * pad + raw).rstrip(b"=")
            # drop the characters that mix in the padding bytes or the unknown tail
            start = (pad * 8 + 5) // 6 if pad else 0
            end = (len(raw) + pad) * 8 // 6
            core = text[start:end]
            if len(core) >= 6:
                forms.add(core)
    return forms


def needles(value: str) -> set[bytes]:
    out = {
        value.encode("utf-8"),
        value.encode("utf-16-le"),
        value.encode("utf-16-be"),
        json.dumps(value).strip('"').encode("ascii"),  # \\uXXXX escapes
    }
    out |= b64_forms(value.encode("utf-8"))
    return {n for n in out if n}


def scan(home: Path, forbidden: dict[str, set[bytes]]) -> list[tuple[str, str]]:
    hits = []
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for what, forms in forbidden.items():
            for form in forms:
                if form in data:
                    hits.append((str(path.relative_to(home)), what))
    return hits


def test_no_plaintext_reaches_the_disk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    vault = Vault.create(home, PASS, kdf=UNSAFE_TEST_KDF)
    keys = KeyStore(vault)
    key_id, _pub = keys.new_holder_key()
    private_jwk = keys.holder_key(key_id).to_jwk()
    subject = {"name": NAME, "hkid": HKID, "score": SCORE, "reportReference": REPORT_REF}
    disclosure = b64u_encode(json.dumps(["salt-salt-salt", "name", NAME]).encode())
    issuer_jwt = (
        "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCJ9."
        + b64u_encode(json.dumps({"iss": "https://cra.example", "hkid": HKID}).encode())
        + ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
    )
    sd_jwt = f"{issuer_jwt}~{disclosure}~"
    vault.put(
        "credential",
        "cred-1",
        {"sd_jwt": sd_jwt, "claims": subject, "holder_key": key_id, "vct": "urn:cra:report"},
    )
    keys.bind(key_id, "cred-1")
    History(vault, keys).record(
        ConsentEvent(
            request_id="req-1",
            client_id="x509_san_dns:bank.example.cn",
            bank_name="Example Bank",
            authenticated=True,
            purpose="consumer loan pre-check",
            decision="approved",
            outcome="delivered",
            credential_id="cred-1",
            required_claims=["ld.credentialSubject.score.grade"],
            disclosed_claims=["ld.credentialSubject.score.grade"],
            bank_verdict={"verified": True, "name_seen": NAME},
        )
    )
    export_backup(vault, home / "backup.scw", "a backup passphrase", kdf=UNSAFE_TEST_KDF)

    d_raw = b64u_decode(private_jwk["d"])
    forbidden = {
        "name": needles(NAME),
        "hkid": needles(HKID) | needles("A123456"),
        "score": {str(SCORE).encode(), str(SCORE).encode("utf-16-le")},
        "reference": needles(REPORT_REF),
        "sd_jwt": {issuer_jwt[40:80].encode(), disclosure[:30].encode()},
        "jwk_d": {
            private_jwk["d"].encode(),
            d_raw,
            d_raw.hex().encode(),
            base64.b64encode(d_raw).rstrip(b"="),
        }
        | b64_forms(d_raw),
    }
    wal_seen = any(p.name.endswith("-wal") for p in home.rglob("*"))
    assert wal_seen, "the scan must include the write-ahead log of an open vault"
    assert scan(home, forbidden) == []
    vault.close()
    assert scan(home, forbidden) == []
    # the passphrases never reach the disk either
    assert scan(home, {"passphrase": needles(PASS) | needles("a backup passphrase")}) == []


def test_b64_forms_finds_embedded_values() -> None:
    """The scanner itself: a value base64-encoded inside a larger string is found."""
    for prefix in (b"", b"x", b"xy"):
        blob = base64.b64encode(prefix + NAME.encode() + b"tail")
        assert any(form in blob for form in b64_forms(NAME.encode()))
        blob_url = base64.urlsafe_b64encode(prefix + HKID.encode() + b"!")
        assert any(form in blob_url for form in b64_forms(HKID.encode()))
