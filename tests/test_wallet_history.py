"""Consent receipts: signed by the right key, chained, exportable and verifiable standalone."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from vc.b64 import b64u_decode, b64u_encode
from vc.jose import PrivateKey, PublicKey, decode_compact, sign_compact, verify_compact
from wallet.errors import (
    HistoryInvalid,
    HolderKeyReused,
    InvalidConsentEvent,
    NotFound,
    VaultTampered,
)
from wallet.history import (
    HEAD_TYP,
    RECEIPT_TYP,
    ConsentEvent,
    History,
    receipt_hash,
    verify_history_export,
    verify_receipt,
)
from wallet.keystore import KeyStore
from wallet.vault import UNSAFE_TEST_KDF, Vault

PASS = "correct horse battery"
BANK = "x509_san_dns:loans.bank.example.cn"


@pytest.fixture
def wallet(tmp_path: Path) -> Any:
    v = Vault.create(tmp_path / "home", PASS, kdf=UNSAFE_TEST_KDF)
    keys = KeyStore(v)
    yield v, keys, History(v, keys)
    v.close()


def credential(keys: KeyStore, cid: str) -> str:
    key_id, _ = keys.new_holder_key()
    keys.bind(key_id, cid)
    return key_id


def approved(cid: str, **kw: Any) -> ConsentEvent:
    base: dict[str, Any] = {
        "request_id": "req-" + cid,
        "client_id": BANK,
        "bank_name": "Example Bank (Shenzhen)",
        "authenticated": True,
        "purpose": "consumer loan pre-check",
        "decision": "approved",
        "outcome": "delivered",
        "credential_id": cid,
        "required_claims": [
            "ld.credentialSubject.score.grade",
            "ld.credentialSubject.noDefault60m",
        ],
        "optional_claims": ["ld.credentialSubject.totalLimit"],
        "disclosed_claims": [
            "ld.credentialSubject.score.grade",
            "ld.credentialSubject.noDefault60m",
        ],
        "time": 1_790_000_000,
    }
    base.update(kw)
    return ConsentEvent(**base)


def declined(**kw: Any) -> ConsentEvent:
    base: dict[str, Any] = {
        "request_id": "req-declined",
        "client_id": "https://unknown.example",
        "bank_name": None,
        "authenticated": False,
        "purpose": "marketing",
        "decision": "declined",
        "outcome": "not_sent",
        "required_claims": ["ld.credentialSubject.accounts"],
    }
    base.update(kw)
    return ConsentEvent(**base)


def _payload(token: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(b64u_decode(token.split(".")[1]))
    return result


def _with_payload(token: str, payload: dict[str, Any]) -> str:
    h, _, s = token.split(".")
    return ".".join([h, b64u_encode(json.dumps(payload).encode()), s])


# --- receipts -------------------------------------------------------------------------------


def test_approved_receipt_is_signed_by_the_credentials_holder_key(wallet: Any) -> None:
    _vault, keys, history = wallet
    key_id = credential(keys, "cred-1")
    receipt = history.record(approved("cred-1"))
    holder_pub = PublicKey.from_jwk(keys.public_jwk(key_id))
    jws = verify_compact(receipt.jws, holder_pub, typ=RECEIPT_TYP)
    assert jws.header["typ"] == "consent-receipt+jwt"
    assert jws.header["alg"] == "ES256"
    assert jws.header["kid"] == key_id
    c = receipt.claims
    assert c == verify_receipt(receipt.jws, holder_pub)
    assert c["type"] == "consent" and c["seq"] == 1 and c["prev"] is None
    assert c["holder_jkt"] == key_id == holder_pub.thumbprint()
    assert c["time"] == 1_790_000_000 and isinstance(c["iat"], int)
    assert c["client_id"] == BANK and c["bank_authenticated"] is True
    assert c["bank_name"] == "Example Bank (Shenzhen)"
    assert c["purpose"] == "consumer loan pre-check"
    assert c["credential_id"] == "cred-1"
    assert c["requested"] == {
        "required": ["ld.credentialSubject.score.grade", "ld.credentialSubject.noDefault60m"],
        "optional": ["ld.credentialSubject.totalLimit"],
    }
    assert c["disclosed"] == [
        "ld.credentialSubject.score.grade",
        "ld.credentialSubject.noDefault60m",
    ]
    assert c["decision"] == "approved" and c["outcome"] == "delivered"
    # another key does not verify it
    with pytest.raises(HistoryInvalid):
        verify_receipt(receipt.jws, PrivateKey.generate().public_key())


def test_declined_request_without_credential_uses_the_wallet_receipt_key(wallet: Any) -> None:
    _vault, keys, history = wallet
    receipt = history.record(declined())
    wallet_jkt, wallet_key = keys.receipt_key()
    assert receipt.claims["holder_jkt"] == wallet_jkt == receipt.claims["wallet_jkt"]
    verify_receipt(receipt.jws, wallet_key.public_key())
    assert receipt.claims["disclosed"] == [] and receipt.claims["decision"] == "declined"
    assert receipt.claims["bank_authenticated"] is False


def test_chain_links_and_history_survives_reopen(wallet: Any, tmp_path: Path) -> None:
    vault, keys, history = wallet
    credential(keys, "cred-1")
    credential(keys, "cred-2")
    r1 = history.record(approved("cred-1"))
    r2 = history.record(declined())
    r3 = history.record(approved("cred-2", outcome="qr", disclosed_claims=[]))
    assert [r.seq for r in (r1, r2, r3)] == [1, 2, 3]
    assert r2.claims["prev"] == receipt_hash(r1.jws) == r1.hash
    assert r3.claims["prev"] == r2.hash
    vault.close()
    with Vault.open(tmp_path / "home", PASS) as v:
        listed = History(v).list()
    assert [r.jws for r in listed] == [r1.jws, r2.jws, r3.jws]


def test_outcome_update_is_a_second_linked_receipt(wallet: Any) -> None:
    _vault, keys, history = wallet
    key_id = credential(keys, "cred-1")
    first = history.record(approved("cred-1", outcome="delivered"))
    verdict = {
        "verified": False,
        "reason": "kb_jwt_iat_out_of_window",
        "policy": {"decision": "refer"},
    }
    update = history.record_outcome(
        first, "rejected_by_bank", bank_verdict=verdict, time=1_790_000_100
    )
    assert update.claims["type"] == "outcome"
    assert update.claims["refers_to"] == first.jti
    assert update.claims["refers_to_hash"] == first.hash
    assert update.claims["holder_jkt"] == key_id
    assert update.claims["prev"] == first.hash
    rows = history.disclosures()
    assert len(rows) == 1
    assert rows[0]["outcome"] == "rejected_by_bank"
    assert rows[0]["bank_verdict"] == verdict
    assert rows[0]["outcome_updated"] == 1_790_000_100
    assert rows[0]["client_id"] == BANK and rows[0]["disclosed"] == first.claims["disclosed"]
    with pytest.raises(NotFound):
        history.record_outcome("no-such-jti", "delivered")
    with pytest.raises(InvalidConsentEvent):
        history.record_outcome(first, "not_sent")  # impossible for an approved request
    d = history.record(declined())
    with pytest.raises(InvalidConsentEvent):
        history.record_outcome(d, "qr")


def test_outcome_after_the_credential_key_is_deleted(wallet: Any) -> None:
    _vault, keys, history = wallet
    key_id = credential(keys, "cred-1")
    first = history.record(approved("cred-1"))
    keys.delete_holder_key(key_id)
    with pytest.raises(NotFound):
        keys.key_for_credential("cred-1")
    update = history.record_outcome(first, "failed")
    assert update.claims["holder_jkt"] == keys.receipt_key()[0]
    # the first receipt still verifies: its public key was kept with it
    claims = verify_history_export(history.export_json())
    assert [c["type"] for c in claims] == ["consent", "outcome"]


def test_invalid_events_are_refused(wallet: Any) -> None:
    _vault, keys, history = wallet
    credential(keys, "cred-1")
    bad = [
        approved("cred-1", decision="maybe"),
        approved("cred-1", outcome="not_sent"),
        approved("cred-1", outcome="teleported"),
        approved("cred-1", credential_id=None),
        declined(disclosed_claims=["ld.credentialSubject.name"]),
        declined(outcome="qr"),
        approved("cred-1", client_id=""),
        approved("cred-1", request_id=None),
        approved("cred-1", authenticated="yes"),
        approved("cred-1", required_claims="ld.credentialSubject.score"),
        approved("cred-1", disclosed_claims=["x"] * 1001),
        approved("cred-1", purpose="p" * 5000),
        approved("cred-1", bank_verdict={"v": float("inf")}),
        approved("cred-1", bank_verdict={"big": "x" * 20_000}),
        approved("cred-1", time=-1),
    ]
    for event in bad:
        with pytest.raises(InvalidConsentEvent) as e:
            history.record(event)
        assert e.value.code == "invalid_consent_event"
    with pytest.raises(NotFound):
        history.record(approved("cred-unknown"))
    assert history.list() == []


def test_holder_keys_are_fresh_and_bind_one_credential(wallet: Any) -> None:
    _vault, keys, _history = wallet
    ids = {keys.new_holder_key()[0] for _ in range(5)}
    assert len(ids) == 5
    k1, pub1 = keys.new_holder_key()
    assert pub1.to_jwk()["crv"] == "P-256" and "d" not in keys.public_jwk(k1)
    assert keys.key_id_for_jwk(pub1.to_jwk()) == k1
    keys.bind(k1, "cred-a")
    keys.bind(k1, "cred-a")  # idempotent
    with pytest.raises(HolderKeyReused) as e:
        keys.bind(k1, "cred-b")
    assert e.value.code == "holder_key_reused"
    k2, _ = keys.new_holder_key()
    with pytest.raises(HolderKeyReused):
        keys.bind(k2, "cred-a")
    assert keys.key_for_credential("cred-a") == k1
    meta = {m["key_id"]: m for m in keys.holder_keys()}
    assert meta[k1]["credential_id"] == "cred-a" and "d" not in meta[k1]["jwk"]
    with pytest.raises(NotFound):
        keys.key_id_for_jwk(PrivateKey.generate().public_key().to_jwk())


# --- the export -------------------------------------------------------------------------------


@pytest.fixture
def export(wallet: Any) -> dict[str, Any]:
    _vault, keys, history = wallet
    credential(keys, "cred-1")
    credential(keys, "cred-2")
    first = history.record(approved("cred-1"))
    history.record(declined())
    history.record(approved("cred-2", outcome="failed"))
    history.record_outcome(first, "rejected_by_bank", bank_verdict={"verified": False})
    history.record(declined(credential_id="cred-2", outcome="delivered"))
    doc: dict[str, Any] = history.export_json()
    return doc


def test_export_verifies_standalone(export: dict[str, Any], wallet: Any) -> None:
    _, keys, _history = wallet
    text = json.dumps(export)
    claims = verify_history_export(text)  # from JSON text: nothing but the document needed
    assert [c["seq"] for c in claims] == [1, 2, 3, 4, 5]
    assert [c["type"] for c in claims] == ["consent", "consent", "consent", "outcome", "consent"]
    assert [c.get("decision") for c in claims] == [
        "approved",
        "declined",
        "approved",
        None,
        "declined",
    ]
    assert verify_history_export(export, wallet_jkt=keys.receipt_key()[0]) == claims
    assert verify_history_export(text.encode()) == claims
    assert all("d" not in jwk for jwk in export["keys"].values())
    head = decode_compact(export["head"])
    assert head.header["typ"] == HEAD_TYP
    assert head.claims()["count"] == 5
    with pytest.raises(HistoryInvalid):
        verify_history_export(export, wallet_jkt=PrivateKey.generate().public_key().thumbprint())


def test_empty_history_exports_and_verifies(wallet: Any) -> None:
    _, _, history = wallet
    doc = history.export_json()
    assert doc["receipts"] == []
    assert verify_history_export(doc) == []


def _expect_invalid(doc: Any) -> None:
    with pytest.raises(HistoryInvalid) as e:
        verify_history_export(doc)
    assert e.value.code == "history_invalid"


def test_altered_receipt_is_detected(export: dict[str, Any]) -> None:
    doc = copy.deepcopy(export)
    payload = _payload(doc["receipts"][1])
    payload["decision"] = "approved"  # claim the resident agreed when they declined
    payload["outcome"] = "delivered"
    payload["credential_id"] = "cred-1"
    doc["receipts"][1] = _with_payload(doc["receipts"][1], payload)
    _expect_invalid(doc)


def test_deleted_receipt_is_detected(export: dict[str, Any]) -> None:
    for i in range(len(export["receipts"])):
        doc = copy.deepcopy(export)
        del doc["receipts"][i]
        _expect_invalid(doc)


def test_reordered_receipts_are_detected(export: dict[str, Any]) -> None:
    doc = copy.deepcopy(export)
    doc["receipts"][1], doc["receipts"][2] = doc["receipts"][2], doc["receipts"][1]
    _expect_invalid(doc)


def test_truncated_tail_is_detected_by_the_signed_head(export: dict[str, Any]) -> None:
    doc = copy.deepcopy(export)
    doc["receipts"] = doc["receipts"][:3]
    _expect_invalid(doc)


def test_forged_head_and_substituted_keys_are_detected(export: dict[str, Any]) -> None:
    attacker = PrivateKey.generate()
    ajkt = attacker.public_key().thumbprint()
    # a truncated history with a fresh head signed by a key the attacker controls
    doc = copy.deepcopy(export)
    doc["receipts"] = doc["receipts"][:3]
    doc["keys"][ajkt] = attacker.public_key().to_jwk()
    doc["head"] = sign_compact(
        {"typ": HEAD_TYP, "kid": ajkt},
        {
            "v": 1,
            "count": 3,
            "head": receipt_hash(doc["receipts"][-1]),
            "wallet_jkt": ajkt,
            "iat": 1,
        },
        attacker,
    )
    doc["wallet_jkt"] = ajkt
    _expect_invalid(doc)  # the receipts name the real wallet key
    # an altered receipt re-signed by another key listed under the right thumbprint
    doc = copy.deepcopy(export)
    kid = decode_compact(doc["receipts"][0]).header["kid"]
    doc["keys"][kid] = attacker.public_key().to_jwk()
    _expect_invalid(doc)
    # a key listed under the wrong name, or a private key in the list
    doc = copy.deepcopy(export)
    doc["keys"][kid] = {**doc["keys"][kid], "d": b64u_encode(b"\x01" * 32)}
    _expect_invalid(doc)


def test_malformed_exports_are_named_errors(export: dict[str, Any]) -> None:
    for bad in (
        "not json",
        b"\xff\xfe",
        "[]",
        {},
        {**export, "format": "other"},
        {**export, "extra": 1},
        {**export, "receipts": "x"},
        {**export, "receipts": [1, 2]},
        {**export, "receipts": ["a.b.c"]},
        {**export, "keys": []},
        {**export, "head": "x"},
        '{"a":1,"a":2}',
    ):
        _expect_invalid(bad)


def test_stored_history_tampering_is_detected(wallet: Any) -> None:
    """Re-writing a stored receipt through the vault API still breaks the chain on list()."""
    vault, keys, history = wallet
    credential(keys, "cred-1")
    history.record(approved("cred-1"))
    history.record(declined())
    ids = vault.ids("history")
    first = vault.get("history", ids[0])
    payload = _payload(first["receipt"])
    payload["purpose"] = "something else"
    vault.put("history", ids[0], {**first, "receipt": _with_payload(first["receipt"], payload)})
    with pytest.raises(VaultTampered):
        history.list()
    with pytest.raises(VaultTampered):
        history.export_json()


def test_concurrent_writers_keep_one_unbroken_chain(wallet: Any, tmp_path: Path) -> None:
    """Two handles (as the TUI and a CLI command would be) recording at the same time."""
    _, keys, history = wallet
    credential(keys, "cred-1")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with Vault.open(tmp_path / "home", PASS) as v:
                h = History(v)
                for i in range(15):
                    h.record(approved("cred-1", request_id=f"w{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claims = verify_history_export(history.export_json())
    assert len(claims) == 30
    assert sorted(c["request_id"] for c in claims) == sorted(
        f"w{n}-{i}" for n in range(2) for i in range(15)
    )
