"""Encrypted backup to one file and restore into a fresh home, holder keys included."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from vc import strict_json
from vc.jose import PublicKey, sign_compact, verify_compact
from wallet.backup import MAGIC, export_backup, inspect_backup, restore_backup
from wallet.errors import (
    BackupInvalid,
    FileExists,
    InvalidPassphrase,
    VaultExists,
    WalletError,
    WrongBackupPassphrase,
    WrongPassphrase,
)
from wallet.history import ConsentEvent, History, verify_history_export
from wallet.home import trust_path
from wallet.keystore import KeyStore
from wallet.vault import MAX_JSON_DEPTH, PRODUCTION_KDF, UNSAFE_TEST_KDF, UNSAFE_TEST_KDF_ENV, Vault

PASS = "correct horse battery"
BACKUP_PASS = "a different backup passphrase"
NEW_PASS = "the restored vault's passphrase"
FAST = UNSAFE_TEST_KDF
TRUST = {
    "registries": [{"origin": "dvp.example/log", "vkey": "dvp.example/log+abcd+AQ", "url": None}]
}


def populate(home: Path) -> dict[str, Any]:
    """A wallet with two credentials (each with its own bound key), history and trust."""
    v = Vault.create(home, PASS, kdf=FAST)
    keys = KeyStore(v)
    holder: dict[str, dict[str, str]] = {}
    for cid in ("cred-1", "cred-2"):
        key_id, pub = keys.new_holder_key()
        keys.bind(key_id, cid)
        v.put("credential", cid, {"sd_jwt": f"eyJ.{cid}~WyJ~", "name": "陳大文", "kid": key_id})
        holder[cid] = pub.to_jwk()
    history = History(v, keys)
    history.record(
        ConsentEvent(
            request_id="r1",
            client_id="https://bank.example",
            bank_name="Bank",
            authenticated=True,
            purpose="loan",
            decision="approved",
            outcome="delivered",
            credential_id="cred-1",
            required_claims=["ld.credentialSubject.score"],
            disclosed_claims=["ld.credentialSubject.score"],
        )
    )
    history.record(
        ConsentEvent(
            request_id="r2",
            client_id="https://other.example",
            bank_name=None,
            authenticated=False,
            purpose=None,
            decision="declined",
            outcome="not_sent",
        )
    )
    v.put("settings", "ui", {"lang": "zh-HK"})
    trust_path(home).write_text(json.dumps(TRUST))
    return {
        "vault": v,
        "holder": holder,
        "records": v.export_records(),
        "history": history.export_json(),
    }


@pytest.fixture
def source(tmp_path: Path) -> Any:
    state = populate(tmp_path / "src")
    yield state
    state["vault"].close()


def test_round_trip_into_a_fresh_home(tmp_path: Path, source: dict[str, Any]) -> None:
    path = tmp_path / "wallet.backup"
    counts = export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    assert counts["credential"] == 2 and counts["holder_key"] == 2 and counts["history"] == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(MAGIC)
    home = tmp_path / "restored"
    restored = restore_backup(path, home, BACKUP_PASS, NEW_PASS, kdf=FAST)
    try:
        assert restored.export_records() == source["records"]
        # the holder keys came back: sign with a restored key, verify with the original public key
        keys = KeyStore(restored)
        for cid, original_jwk in source["holder"].items():
            key = keys.holder_key(keys.key_for_credential(cid))
            token = sign_compact({"typ": "kb+jwt"}, {"nonce": "n-" + cid, "aud": "bank"}, key)
            verify_compact(token, PublicKey.from_jwk(original_jwk), typ="kb+jwt")
        # the history and its receipt key came back and still verify, chain intact
        exported = History(restored).export_json()
        assert exported["receipts"] == source["history"]["receipts"]
        assert exported["wallet_jkt"] == source["history"]["wallet_jkt"]
        verify_history_export(exported)
        assert json.loads(trust_path(home).read_text()) == TRUST
    finally:
        restored.close()
    with pytest.raises(WrongPassphrase):
        Vault.open(home, PASS)  # the restored vault has its own passphrase
    with Vault.open(home, NEW_PASS) as again:
        assert again.export_records() == source["records"]


def test_backup_passphrase_may_equal_the_vault_passphrase(
    tmp_path: Path, source: dict[str, Any]
) -> None:
    a, b = tmp_path / "a.backup", tmp_path / "b.backup"
    export_backup(source["vault"], a, PASS, kdf=FAST)
    export_backup(source["vault"], b, PASS, kdf=FAST)
    assert a.read_bytes() != b.read_bytes()  # own salt and nonce every time
    assert inspect_backup(a)["kdf"]["salt"] != inspect_backup(b)["kdf"]["salt"]
    with restore_backup(a, tmp_path / "r", PASS, PASS, kdf=FAST) as v:
        assert v.export_records() == source["records"]


def test_inspect_shows_only_the_clear_header(tmp_path: Path, source: dict[str, Any]) -> None:
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    header = inspect_backup(path)
    assert header["format"] == "selfcarry-wallet-backup" and header["version"] == 1
    assert header["cipher"] == "A256GCM"
    assert header["kdf"]["alg"] == "argon2id" and header["kdf"]["memory_kib"] == FAST.memory_kib
    assert set(header) == {"format", "version", "created", "cipher", "kdf", "key_check"}


def test_production_parameters_by_default(
    tmp_path: Path, source: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSAFE_TEST_KDF_ENV, raising=False)
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS)
    kdf = inspect_backup(path)["kdf"]
    assert (kdf["memory_kib"], kdf["iterations"], kdf["lanes"]) == (
        PRODUCTION_KDF.memory_kib,
        PRODUCTION_KDF.iterations,
        PRODUCTION_KDF.lanes,
    )
    with restore_backup(path, tmp_path / "r", BACKUP_PASS, NEW_PASS, kdf=FAST) as v:
        assert len(v.export_records()) == len(source["records"])


def test_wrong_backup_passphrase_writes_nothing(tmp_path: Path, source: dict[str, Any]) -> None:
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    home = tmp_path / "fresh"
    with pytest.raises(WrongBackupPassphrase) as e:
        restore_backup(path, home, "not the backup passphrase", NEW_PASS, kdf=FAST)
    assert e.value.code == "wrong_backup_passphrase"
    assert isinstance(e.value, WrongPassphrase)
    assert not home.exists()


def _flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


def test_tampered_backups_are_refused_and_write_nothing(
    tmp_path: Path, source: dict[str, Any]
) -> None:
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    good = path.read_bytes()
    header_len = int.from_bytes(good[len(MAGIC) : len(MAGIC) + 4], "big")
    body = len(MAGIC) + 4 + header_len
    home = tmp_path / "fresh"
    bad_files = {
        "flip in ciphertext": _flip(good, body + 40),
        "flip in nonce": _flip(good, body + 3),
        "flip in tag": _flip(good, len(good) - 1),
        "flip in created": _flip(good, good.index(b'"created":') + len(b'"created":') + 2),
        "truncated": good[: len(good) - 100],
        "cut to header": good[:body],
        "appended": good + b"\x00",
        "empty": b"",
        "not a backup": b"hello world",
        "bad magic": b"X" + good[1:],
        "huge header length": good[: len(MAGIC)]
        + (10**6).to_bytes(4, "big")
        + good[len(MAGIC) + 4 :],
        "header not json": good[: len(MAGIC) + 4] + b"{" * header_len + good[body:],
    }
    for what, data in bad_files.items():
        path.write_bytes(data)
        with pytest.raises(BackupInvalid) as e:
            restore_backup(path, home, BACKUP_PASS, NEW_PASS, kdf=FAST)
        assert e.value.code == "backup_invalid", what
        assert not home.exists(), what
    # every single-bit flip anywhere in the file is refused — as an altered file, or (for the
    # salt, KDF costs and key check, which cannot be told apart from) a wrong passphrase
    for i in range(0, len(good), max(1, len(good) // 150)):
        path.write_bytes(_flip(good, i))
        with pytest.raises((BackupInvalid, WrongBackupPassphrase)):
            restore_backup(path, home, BACKUP_PASS, NEW_PASS, kdf=FAST)
        assert not home.exists()
    with pytest.raises(BackupInvalid) as e2:
        restore_backup(tmp_path / "missing.backup", home, BACKUP_PASS, NEW_PASS, kdf=FAST)
    assert e2.value.code == "backup_not_found"


def test_restore_refuses_an_existing_vault_unless_replacing(
    tmp_path: Path, source: dict[str, Any]
) -> None:
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    home = tmp_path / "busy"
    with Vault.create(home, "the existing passphrase", kdf=FAST) as existing:
        existing.put("credential", "other", {"v": 1})
    with pytest.raises(VaultExists):
        restore_backup(path, home, BACKUP_PASS, NEW_PASS, kdf=FAST)
    with Vault.open(home, "the existing passphrase") as still:
        assert still.ids("credential") == ["other"]
    with restore_backup(path, home, BACKUP_PASS, NEW_PASS, kdf=FAST, replace=True) as v:
        assert v.export_records() == source["records"]
    with pytest.raises(WrongPassphrase):
        Vault.open(home, "the existing passphrase")
    assert not list(home.rglob(".vault.db.creating-*"))


def test_export_refuses_to_overwrite(tmp_path: Path, source: dict[str, Any]) -> None:
    path = tmp_path / "w.backup"
    path.write_bytes(b"precious")
    with pytest.raises(FileExists) as e:
        export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    assert e.value.code == "file_exists"
    assert path.read_bytes() == b"precious"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST, overwrite=True)
    assert path.read_bytes().startswith(MAGIC)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_passphrase_rules(tmp_path: Path, source: dict[str, Any]) -> None:
    path = tmp_path / "w.backup"
    with pytest.raises(InvalidPassphrase):
        export_backup(source["vault"], path, "short", kdf=FAST)
    assert not path.exists()
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    with pytest.raises(InvalidPassphrase):
        restore_backup(path, tmp_path / "r", BACKUP_PASS, "short", kdf=FAST)
    assert not (tmp_path / "r").exists()


def test_wallet_without_trust_file(tmp_path: Path) -> None:
    with Vault.create(tmp_path / "a", PASS, kdf=FAST) as v:
        v.put("settings", "x", {"y": 1})
        export_backup(v, tmp_path / "b.backup", BACKUP_PASS, kdf=FAST)
    with restore_backup(
        tmp_path / "b.backup", tmp_path / "c", BACKUP_PASS, NEW_PASS, kdf=FAST
    ) as r:
        assert r.get("settings", "x") == {"y": 1}
    assert not trust_path(tmp_path / "c").exists()
    assert isinstance(BackupInvalid(), WalletError)


def test_unwritable_targets_are_named_errors(tmp_path: Path, source: dict[str, Any]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(WalletError) as e:
        export_backup(source["vault"], blocker / "w.backup", BACKUP_PASS, kdf=FAST)
    assert e.value.code == "backup_io_error"
    path = tmp_path / "w.backup"
    export_backup(source["vault"], path, BACKUP_PASS, kdf=FAST)
    with pytest.raises(WalletError) as e2:
        restore_backup(path, blocker, BACKUP_PASS, NEW_PASS, kdf=FAST)
    assert e2.value.code == "vault_io_error"
    with pytest.raises(WalletError) as e3:
        Vault.create(blocker, PASS, kdf=FAST)
    assert e3.value.code == "vault_io_error"


def test_deepest_storable_record_survives_backup(tmp_path: Path) -> None:
    deep: dict[str, Any] = {}
    node = deep
    while strict_json.depth(deep, 1000) < MAX_JSON_DEPTH - 1:
        node["a"] = {}
        node = node["a"]
    with Vault.create(tmp_path / "a", PASS, kdf=FAST) as v:
        v.put("settings", "deep", deep)
        assert v.get("settings", "deep") == deep
        export_backup(v, tmp_path / "b.backup", BACKUP_PASS, kdf=FAST)
    with restore_backup(
        tmp_path / "b.backup", tmp_path / "c", BACKUP_PASS, NEW_PASS, kdf=FAST
    ) as r:
        assert r.get("settings", "deep") == deep
