"""The wallet vault: round trips, passphrases, locking, limits and tamper detection."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from wallet.errors import (
    InvalidPassphrase,
    InvalidRecord,
    NotFound,
    NoVault,
    RecordTooLarge,
    UnsupportedVaultVersion,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    VaultTampered,
    WalletError,
    WrongPassphrase,
)
from wallet.home import resolve_home, trust_path, vault_path, wallet_dir
from wallet.keystore import KeyStore
from wallet.vault import (
    MAX_RECORD_BYTES,
    PRODUCTION_KDF,
    UNSAFE_TEST_KDF,
    UNSAFE_TEST_KDF_ENV,
    KdfParams,
    Vault,
)

PASS = "correct horse battery"
FAST = UNSAFE_TEST_KDF


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def vault(home: Path) -> Any:
    v = Vault.create(home, PASS, kdf=FAST)
    yield v
    v.close()


def files_snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()
    }


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(vault_path(home), isolation_level=None)


# --- home layout ------------------------------------------------------------------------------


def test_home_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFCARRY_HOME", str(tmp_path / "env"))
    assert resolve_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_home(None) == tmp_path / "env"
    assert wallet_dir(None) == tmp_path / "env" / "wallet"
    assert vault_path(tmp_path) == tmp_path / "wallet" / "vault.db"
    assert trust_path(tmp_path) == tmp_path / "wallet" / "trust.json"
    monkeypatch.delenv("SELFCARRY_HOME")
    default = resolve_home(None)
    assert default.is_absolute() and "selfcarry" in str(default)


def test_create_makes_owner_only_files(home: Path, vault: Vault) -> None:
    assert Vault.exists(home)
    assert stat.S_IMODE(os.stat(wallet_dir(home)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(vault_path(home)).st_mode) == 0o600
    assert vault.path == vault_path(home)


# --- round trips ------------------------------------------------------------------------------


def test_put_get_list_delete_round_trip(home: Path, vault: Vault) -> None:
    cred = {"sd_jwt": "eyJ...~WyJ...~", "issuer": "https://cra.example", "n": [1, 2.5, None, True]}
    vault.put("credential", "c-2", cred)
    vault.put("credential", "c-1", {"x": "陳大文"})
    vault.put("settings", "ui", {"lang": "zh-HK"})
    assert vault.get("credential", "c-2") == cred
    assert vault.list("credential") == [{"x": "陳大文"}, cred]  # sorted by id
    assert vault.ids("credential") == ["c-1", "c-2"]
    assert vault.items("settings") == [("ui", {"lang": "zh-HK"})]
    assert vault.list("history") == []
    vault.put("credential", "c-1", {"x": "replaced"})
    assert vault.get("credential", "c-1") == {"x": "replaced"}
    vault.delete("credential", "c-1")
    assert vault.find("credential", "c-1") is None
    assert not vault.has("credential", "c-1")
    with pytest.raises(NotFound) as e:
        vault.get("credential", "c-1")
    assert e.value.code == "not_found"
    with pytest.raises(NotFound):
        vault.delete("credential", "c-1")
    vault.close()
    with Vault.open(home, PASS) as again:
        assert again.list("credential") == [cred]
        assert again.get("settings", "ui") == {"lang": "zh-HK"}
        assert again.verify() == 2


def test_two_handles_see_each_others_writes(home: Path, vault: Vault) -> None:
    with Vault.open(home, PASS) as other:
        vault.put("credential", "a", {"v": 1})
        assert other.get("credential", "a") == {"v": 1}
        other.put("credential", "b", {"v": 2})
        assert vault.ids("credential") == ["a", "b"]


def test_transaction_is_atomic(home: Path, vault: Vault) -> None:
    vault.put("credential", "keep", {"v": 0})
    with pytest.raises(RuntimeError), vault.transaction() as tx:
        tx.put("credential", "new", {"v": 1})
        tx.delete("credential", "keep")
        assert tx.ids("credential") == ["new"]
        raise RuntimeError("abort")
    assert vault.ids("credential") == ["keep"]
    with vault.transaction() as tx:
        tx.put("credential", "new", {"v": 1})
        tx.put("settings", "s", {"v": 2})
    assert vault.ids("credential") == ["keep", "new"]


# --- passphrases --------------------------------------------------------------------------------


def test_create_twice_and_open_missing(home: Path, tmp_path: Path, vault: Vault) -> None:
    with pytest.raises(VaultExists) as e:
        Vault.create(home, PASS, kdf=FAST)
    assert e.value.code == "vault_exists"
    with pytest.raises(NoVault) as e2:
        Vault.open(tmp_path / "elsewhere", PASS)
    assert e2.value.code == "no_vault"
    assert not (tmp_path / "elsewhere").exists()  # opening never creates anything


def test_wrong_passphrase_changes_nothing(home: Path, vault: Vault) -> None:
    vault.put("credential", "c", {"name": "陳大文"})
    vault.close()
    before = files_snapshot(home)
    for wrong in ("correct horse batterx", "", "x" * 5000, "Correct horse battery"):
        with pytest.raises(WrongPassphrase) as e:
            Vault.open(home, wrong)
        assert e.value.code == "wrong_passphrase"
    assert files_snapshot(home) == before
    with Vault.open(home, PASS) as v:
        assert v.get("credential", "c") == {"name": "陳大文"}


def test_passphrase_rules_for_new_passphrases(home: Path) -> None:
    for bad in ("short", "", "x" * 1025, None, b"bytes-passphrase"):
        with pytest.raises(InvalidPassphrase) as e:
            Vault.create(home, bad, kdf=FAST)  # type: ignore[arg-type]
        assert e.value.code == "invalid_passphrase"
    assert not Vault.exists(home)


def test_passphrase_is_unicode_normalised(home: Path) -> None:
    composed = "café-passphrase"
    decomposed = "cafe\u0301-passphrase"
    Vault.create(home, composed, kdf=FAST).close()
    Vault.open(home, decomposed).close()


def test_change_passphrase_reencrypts_and_old_stops_working(home: Path, vault: Vault) -> None:
    vault.put("credential", "c", {"name": "陳大文"})
    before = files_snapshot(home)
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("not the passphrase", "a brand new one")
    with pytest.raises(InvalidPassphrase):
        vault.change_passphrase(PASS, "short")
    assert vault.get("credential", "c") == {"name": "陳大文"}
    vault.change_passphrase(PASS, "a brand new one")
    assert vault.get("credential", "c") == {"name": "陳大文"}
    vault.close()
    after = files_snapshot(home)
    # a new DEK: the record's ciphertext changed, not just the header
    con = sqlite3.connect(vault_path(home))
    assert con.execute("SELECT count(*) FROM records").fetchone()[0] == 1
    con.close()
    assert before != after
    with pytest.raises(WrongPassphrase):
        Vault.open(home, PASS)
    with Vault.open(home, "a brand new one") as v:
        assert v.get("credential", "c") == {"name": "陳大文"}
        v.change_passphrase("a brand new one", PASS, rotate_key=False)
    with Vault.open(home, PASS) as v:
        assert v.list("credential") == [{"name": "陳大文"}]


def test_passphrase_change_elsewhere_locks_other_handles(home: Path, vault: Vault) -> None:
    vault.put("credential", "c", {"v": 1})
    with Vault.open(home, PASS) as other:
        other.change_passphrase(PASS, "the next passphrase")
    with pytest.raises(VaultLocked):
        vault.get("credential", "c")
    with pytest.raises(WrongPassphrase):
        vault.unlock(PASS)
    vault.unlock("the next passphrase")
    assert vault.get("credential", "c") == {"v": 1}


def test_lock_unlock_close(home: Path, vault: Vault) -> None:
    vault.put("credential", "c", {"v": 1})
    vault.lock()
    assert vault.locked
    for op in (
        lambda: vault.get("credential", "c"),
        lambda: vault.list("credential"),
        lambda: vault.put("credential", "d", {}),
        lambda: vault.delete("credential", "c"),
    ):
        with pytest.raises(VaultLocked) as e:
            op()
        assert e.value.code == "vault_locked"
    with pytest.raises(WrongPassphrase):
        vault.unlock("wrong passphrase!")
    assert vault.locked
    vault.unlock(PASS)
    assert vault.get("credential", "c") == {"v": 1}
    vault.close()
    vault.close()  # idempotent
    with pytest.raises(VaultLocked):
        vault.get("credential", "c")


def test_production_kdf_is_the_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSAFE_TEST_KDF_ENV, raising=False)
    with Vault.create(home, PASS) as v:
        assert v.kdf_params == PRODUCTION_KDF
        v.put("credential", "c", {"v": 1})
    with pytest.raises(WrongPassphrase):
        Vault.open(home, PASS + "!")
    with Vault.open(home, PASS) as v:
        assert v.kdf_params == PRODUCTION_KDF
        assert v.get("credential", "c") == {"v": 1}
    con = sqlite3.connect(vault_path(home))
    kdf = con.execute("SELECT kdf FROM header").fetchone()[0]
    con.close()
    assert '"memory_kib":131072' in kdf and '"iterations":3' in kdf and '"lanes":2' in kdf
    assert PRODUCTION_KDF.memory_kib >= 64 * 1024 and PRODUCTION_KDF.iterations >= 2


def test_test_kdf_env_override(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UNSAFE_TEST_KDF_ENV, "1")
    with Vault.create(home, PASS) as v:
        assert v.kdf_params == UNSAFE_TEST_KDF


def test_kdf_params_are_bounded(home: Path) -> None:
    for bad in (
        KdfParams(0, 1, 1),
        KdfParams(1 << 21, 1, 1),
        KdfParams(1024, 0, 1),
        KdfParams(1024, 11, 1),
        KdfParams(1024, 1, 0),
    ):
        with pytest.raises(WalletError) as e:
            Vault.create(home, PASS, kdf=bad)
        assert e.value.code == "invalid_kdf_params"


# --- limits --------------------------------------------------------------------------------------


def test_record_limits(vault: Vault) -> None:
    vault.put("credential", "big", {"s": "x" * (MAX_RECORD_BYTES - 100)})
    assert len(vault.get("credential", "big")["s"]) == MAX_RECORD_BYTES - 100
    with pytest.raises(RecordTooLarge) as e:
        vault.put("credential", "huge", {"s": "x" * MAX_RECORD_BYTES})
    assert e.value.code == "record_too_large"
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["a"] = {}
        node = node["a"]
    bad_values: list[tuple[str, str, Any]] = [
        ("Credential", "c", {}),
        ("", "c", {}),
        ("credential", "", {}),
        ("credential", "has space", {}),
        ("credential", "a/b", {}),
        ("credential", "x" * 257, {}),
        ("credential", "c", ["not", "an", "object"]),
        ("credential", "c", {"nan": float("nan")}),
        ("credential", "c", {"set": {1, 2}}),
        ("credential", "c", deep),
    ]
    for kind, rid, obj in bad_values:
        with pytest.raises(InvalidRecord):
            vault.put(kind, rid, obj)
    with pytest.raises(InvalidRecord):
        vault.get("credential", "../etc")
    assert vault.ids("credential") == ["big"]


# --- tampering -------------------------------------------------------------------------------------


def _populated(home: Path) -> None:
    with Vault.create(home, PASS, kdf=FAST) as v:
        v.put("credential", "c1", {"name": "陳大文", "score": 3187})
        v.put("credential", "c2", {"name": "李小明", "score": 2011})
        v.put("settings", "ui", {"lang": "en"})
        KeyStore(v).new_holder_key()


def test_flipped_ciphertext_byte_is_detected(home: Path) -> None:
    _populated(home)
    con = db(home)
    slot, blob = con.execute("SELECT slot, blob FROM records WHERE kind='credential'").fetchone()
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0x01
    con.execute("UPDATE records SET blob = ? WHERE slot = ?", (bytes(flipped), slot))
    con.close()
    with pytest.raises(VaultTampered) as e:
        Vault.open(home, PASS)
    assert e.value.code == "vault_tampered"


def test_swapped_ciphertexts_are_detected(home: Path) -> None:
    _populated(home)
    con = db(home)
    (s1, b1), (s2, b2) = con.execute(
        "SELECT slot, blob FROM records WHERE kind='credential'"
    ).fetchall()
    con.execute("UPDATE records SET blob = ? WHERE slot = ?", (b2, s1))
    con.execute("UPDATE records SET blob = ? WHERE slot = ?", (b1, s2))
    con.close()
    with pytest.raises(VaultTampered):
        Vault.open(home, PASS)


def test_record_moved_to_another_kind_is_detected(home: Path) -> None:
    _populated(home)
    con = db(home)
    con.execute("UPDATE records SET kind = 'settingz' WHERE kind = 'settings'")
    con.close()
    with pytest.raises(VaultTampered):
        Vault.open(home, PASS)


def test_deleted_row_is_detected(home: Path) -> None:
    _populated(home)
    con = db(home)
    slot = con.execute("SELECT slot FROM records WHERE kind='credential'").fetchone()[0]
    con.execute("DELETE FROM records WHERE slot = ?", (slot,))
    con.close()
    with pytest.raises(VaultTampered):
        Vault.open(home, PASS)


def test_rolled_back_record_is_detected(home: Path) -> None:
    """An older, authentic version of a record put back in place is refused."""
    _populated(home)
    con = db(home)
    old = con.execute(
        "SELECT kind, slot, version, blob FROM records WHERE kind='settings'"
    ).fetchone()
    con.close()
    with Vault.open(home, PASS) as v:
        v.put("settings", "ui", {"lang": "zh-HK"})
    con = db(home)
    con.execute(
        "UPDATE records SET version = ?, blob = ? WHERE kind = ? AND slot = ?",
        (old[2], old[3], old[0], old[1]),
    )
    con.close()
    with pytest.raises(VaultTampered):
        Vault.open(home, PASS)


def test_tampering_while_open_is_detected_on_next_read(home: Path) -> None:
    _populated(home)
    with Vault.open(home, PASS) as v:
        con = db(home)
        slot, blob = con.execute(
            "SELECT slot, blob FROM records WHERE kind='credential'"
        ).fetchone()
        con.execute(
            "UPDATE records SET blob = ? WHERE slot = ?", (blob[:-1] + bytes([blob[-1] ^ 1]), slot)
        )
        con.close()
        with pytest.raises(VaultTampered):
            v.list("credential")  # never half-read: nothing at all is returned
        with pytest.raises(VaultTampered):
            v.verify()
        # deleting a row behind the handle's back fails the manifest on the next operation
        con = db(home)
        con.execute("DELETE FROM records WHERE kind = 'settings'")
        con.close()
        with pytest.raises(VaultTampered):
            v.get("settings", "ui")
        with pytest.raises(VaultTampered):
            v.put("settings", "other", {})


def test_header_tampering(home: Path) -> None:
    _populated(home)
    con = db(home)
    wrapped = con.execute("SELECT wrapped_dek FROM header").fetchone()[0]
    con.execute(
        "UPDATE header SET wrapped_dek = ?",
        (wrapped[:20] + bytes([wrapped[20] ^ 1]) + wrapped[21:],),
    )
    con.close()
    with pytest.raises(VaultTampered):
        Vault.open(home, PASS)
    con = db(home)
    con.execute("UPDATE header SET wrapped_dek = ?", (wrapped,))
    con.execute("UPDATE header SET version = 2")
    con.close()
    with pytest.raises(UnsupportedVaultVersion) as e:
        Vault.open(home, PASS)
    assert e.value.code == "vault_version_unsupported"
    con = db(home)
    con.execute("UPDATE header SET version = 1")
    kdf = con.execute("SELECT kdf FROM header").fetchone()[0]
    # a hostile header cannot make unlock hang: bounds are checked before deriving
    con.execute("UPDATE header SET kdf = ?", (kdf.replace('"iterations":1', '"iterations":99999'),))
    con.close()
    with pytest.raises(VaultCorrupt):
        Vault.open(home, PASS)
    con = db(home)
    con.execute("UPDATE header SET kdf = ?", (kdf,))
    con.execute("CREATE TABLE extra (x)")
    con.close()
    with pytest.raises(VaultCorrupt):
        Vault.open(home, PASS)
    con = db(home)
    con.execute("DROP TABLE extra")
    con.close()
    Vault.open(home, PASS).close()


def test_truncated_and_garbage_files(home: Path) -> None:
    _populated(home)
    path = vault_path(home)
    original = path.read_bytes()
    for data in (
        original[: len(original) // 2],
        original[:100],
        b"",
        os.urandom(8192),
        b"SQLite format 3\x00" + b"\x00" * 200,
    ):
        path.write_bytes(data)
        with pytest.raises(VaultTampered) as e:  # VaultCorrupt is a VaultTampered
            Vault.open(home, PASS)
        assert e.value.code in ("vault_corrupt", "vault_tampered")
    path.write_bytes(original)
    with Vault.open(home, PASS) as v:
        assert v.verify() == 4


def test_random_byte_flips_never_yield_wrong_data(home: Path) -> None:
    """Flip single bytes anywhere in the file: the vault opens with the same data, or refuses."""
    _populated(home)
    path = vault_path(home)
    original = path.read_bytes()
    with Vault.open(home, PASS) as v:
        expected = v.export_records()
    rng = random.Random(9901)
    refused = 0
    for _ in range(60):
        data = bytearray(original)
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        try:
            with Vault.open(home, PASS) as v:
                assert v.export_records() == expected
        except WalletError as exc:
            assert exc.code in (
                "vault_corrupt",
                "vault_tampered",
                "wrong_passphrase",
                "vault_version_unsupported",
            )
            refused += 1
    path.write_bytes(original)
    assert refused > 0


def test_rotation_leaves_no_old_key_material_on_disk(home: Path, vault: Vault) -> None:
    """After a passphrase change, an old copy's secrets (wrapped DEK, ciphertexts) are gone."""
    for i in range(20):
        vault.put("credential", f"c{i}", {"name": "陳大文", "i": i, "pad": "x" * 3000})
    vault.delete("credential", "c3")
    con = db(home)
    old = [con.execute("SELECT wrapped_dek, key_check FROM header").fetchone()]
    old_blobs = [row[0] for row in con.execute("SELECT blob FROM records")] + list(old[0])
    con.close()
    vault.change_passphrase(PASS, "a brand new one", kdf=KdfParams(512, 2, 1))
    assert vault.kdf_params == KdfParams(512, 2, 1)  # costs can be raised on the way
    on_disk = b"".join(files_snapshot(home).values())
    for blob in old_blobs:
        for i in range(0, len(blob) - 16, 16):
            assert blob[i : i + 16] not in on_disk
    vault.close()
    with Vault.open(home, "a brand new one") as v:
        assert v.kdf_params == KdfParams(512, 2, 1)
        assert len(v.ids("credential")) == 19


def test_orphaned_wal_is_not_replayed_into_a_new_vault(home: Path) -> None:
    v = Vault.create(home, PASS, kdf=FAST)
    for i in range(5):
        v.put("credential", f"c{i}", {"pad": "y" * 5000})
    wal = Path(f"{vault_path(home)}-wal")
    stale = wal.read_bytes()
    assert stale
    v.close()
    vault_path(home).unlink()  # the user deleted the vault but not its WAL
    wal.write_bytes(stale)
    with Vault.create(home, "a second passphrase", kdf=FAST) as fresh:
        fresh.put("settings", "s", {"v": 1})
    with Vault.open(home, "a second passphrase") as again:
        assert again.verify() == 1
