"""The Log over both stores: admission, anchoring rules, lookups, receipts, publishing."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from hash_registry.checkpoint import Checkpoint
from hash_registry.entries import (
    AnchorEntry,
    IssuerKeyEntry,
    RevocationEntry,
    VerifierKeyEntry,
    decode_entry,
)
from hash_registry.errors import (
    InvalidEntry,
    InvalidRange,
    NotAnchored,
    NotFound,
    RegistryError,
    Unauthorized,
)
from hash_registry.log import AlreadyAnchored, AlreadyRevoked, Log
from hash_registry.merkle import leaf_hash, verify_consistency, verify_inclusion
from hash_registry.note import split_note
from hash_registry.receipt import verify_receipt
from hash_registry.trust import verify_checkpoint, verify_checkpoint_note
from vc.errors import SelfcarryError
from vc.jose import PrivateKey

from .test_registry_store_helpers import (
    ISSUER,
    ORIGIN,
    anchor,
    issuer_metadata,
    new_log,
    open_store,
    trusted,
    verifier_identity,
)

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def log(request: pytest.FixtureRequest, tmp_path: Path):
    with open_store(request.param, tmp_path) as store:
        yield new_log(store, witnesses=2)


def test_the_first_checkpoint_is_the_empty_tree_cosigned(log: Log) -> None:
    cp = verify_checkpoint(log.checkpoint(), trusted(log))
    assert (cp.origin, cp.size) == (ORIGIN, 0)
    verified = verify_checkpoint_note(log.checkpoint(), trusted(log))
    assert len(verified.witnesses) == 2


def test_appends_are_published_under_a_quorum_checkpoint(log: Log) -> None:
    t = trusted(log)
    entries = [anchor() for _ in range(10)]
    appended = log.append_batch(entries)
    assert appended.indices == list(range(10))
    cp = verify_checkpoint(appended.checkpoint, t)
    assert cp.size == 10 == appended.tree_size
    assert log.checkpoint() == appended.checkpoint
    for i, e in enumerate(entries):
        receipt = log.receipt(i)
        assert verify_receipt(receipt, t, expected_entry=e.encode()) == cp
        got = log.entry(i)
        assert got.data == e.encode() and got.leaf_hash == leaf_hash(e.encode())
        proof = log.inclusion_proof(i)
        verify_inclusion(i, cp.size, got.leaf_hash, proof.proof, cp.root)
    second = log.append_batch([anchor() for _ in range(7)])
    cp2 = verify_checkpoint(second.checkpoint, t)
    cons = log.consistency_proof(10)
    assert (cons.old_size, cons.new_size) == (10, 17)
    verify_consistency(10, 17, cons.proof, cp.root, cp2.root)
    assert log.consistency_proof(10, 10).proof == []


def test_lookup_reports_anchor_and_revocation(log: Log) -> None:
    a, b = anchor(), anchor()
    log.append_batch([a, b])
    r = RevocationEntry(a.digest, "superseded", 1_700_000_000)
    index = log.append(r)
    st = log.lookup(a.digest)
    assert (st.anchored, st.index, st.issuer) == (True, 0, ISSUER)
    assert (st.revoked, st.revocation_index, st.reason) == (True, index, "superseded")
    st = log.lookup(b.digest)
    assert (st.anchored, st.index, st.revoked, st.revocation_index) == (True, 1, False, None)
    st = log.lookup(secrets.token_bytes(32))
    assert (st.anchored, st.index, st.revoked) == (False, None, False)
    # a digest sharing the 8-byte index prefix is not confused with the anchored one
    twin = a.digest[:8] + secrets.token_bytes(24)
    assert not log.lookup(twin).anchored
    log.append(anchor(digest=twin))
    assert log.lookup(twin).index == 3
    assert log.lookup(a.digest).index == 0


def test_anchoring_rules(log: Log) -> None:
    a = anchor()
    log.append(a)
    size = log.size()
    with pytest.raises(AlreadyAnchored):
        log.append_batch([anchor(), anchor(digest=a.digest)])
    dup = anchor()
    with pytest.raises(AlreadyAnchored):
        log.append_batch([dup, anchor(digest=dup.digest)])
    with pytest.raises(NotAnchored):
        log.append(RevocationEntry(secrets.token_bytes(32), "x", 1))
    with pytest.raises(Unauthorized) as info:
        log.append_batch([RevocationEntry(a.digest, "x", 1)], revoker="https://other.example")
    assert info.value.code == "not_your_anchor"
    assert log.size() == size  # every refused batch left no trace
    fresh = anchor()
    log.append_batch([fresh, RevocationEntry(fresh.digest, "issued_in_error", 2)], revoker=ISSUER)
    assert log.lookup(fresh.digest).revoked
    with pytest.raises(AlreadyRevoked):
        log.append(RevocationEntry(fresh.digest, "again", 3))
    with pytest.raises(InvalidEntry):
        log.append_batch(["not an entry"])  # type: ignore[list-item]


def test_admitting_issuers_and_verifiers(log: Log) -> None:
    cra, cra2, bank = PrivateKey.generate(), PrivateKey.generate("EdDSA"), PrivateKey.generate()
    meta = {
        "issuer": ISSUER,
        "jwks": {"keys": [cra.public_key().to_jwk() | {"kid": "k1"}, cra2.public_key().to_jwk()]},
    }
    admitted = log.admit_issuer(meta)
    assert [a.new for a in admitted] == [True, True]
    assert [a.thumbprint for a in admitted] == [
        cra.public_key().thumbprint(),
        cra2.public_key().thumbprint(),
    ]
    entry = decode_entry(log.entry(admitted[0].index).data)
    assert isinstance(entry, IssuerKeyEntry) and entry.issuer == ISSUER
    assert entry.jwk == cra.public_key().to_jwk()  # only the public members
    again = log.admit_issuer(meta)
    assert [(a.new, a.index) for a in again] == [
        (False, admitted[0].index),
        (False, admitted[1].index),
    ]
    with pytest.raises(Unauthorized) as info:
        log.admit_issuer(issuer_metadata(cra, "https://impostor.example"))
    assert info.value.code == "key_already_admitted"
    issuers = log.issuers()
    assert {i["kid"] for i in issuers} == {a.thumbprint for a in admitted}
    assert all(i["issuer"] == ISSUER for i in issuers)

    v = log.admit_verifier(verifier_identity(bank))
    ventry = decode_entry(log.entry(v[0].index).data)
    assert isinstance(ventry, VerifierKeyEntry)
    assert (ventry.client_id, ventry.name) == ("https://bank.example.cn", "Example Bank")
    assert log.verifiers() == [
        {
            "kind": "verifier",
            "kid": bank.public_key().thumbprint(),
            "jwk": bank.public_key().to_jwk(),
            "index": v[0].index,
            "client_id": "https://bank.example.cn",
            "name": "Example Bank",
        }
    ]
    receipt = log.receipt(v[0].index)
    verify_receipt(receipt, trusted(log), expected_entry=ventry.encode())


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"issuer": ""},
        {"issuer": "x", "jwks": {}},
        {"issuer": "x", "jwks": {"keys": []}},
        {"issuer": "x", "jwks": {"keys": ["nope"]}},
        {"issuer": "x", "jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}},
        {"issuer": "x", "jwks": {"keys": [PrivateKey.generate().to_jwk()]}},
        {"issuer": "x\ny", "jwks": {"keys": [PrivateKey.generate().public_key().to_jwk()]}},
    ],
)
def test_bad_admission_documents_are_named_errors(log: Log, doc: dict) -> None:
    size = log.size()
    with pytest.raises(SelfcarryError) as info:
        log.admit_issuer(doc)
    assert info.value.code and info.value.code != "error"
    assert log.size() == size


def test_reads_refuse_out_of_range(log: Log) -> None:
    log.append_batch([anchor() for _ in range(3)])
    with pytest.raises(NotFound):
        log.entry(3)
    with pytest.raises(InvalidRange):
        log.inclusion_proof(3)
    with pytest.raises(InvalidRange):
        log.inclusion_proof(0, 4)
    with pytest.raises(InvalidRange):
        log.consistency_proof(4)
    with pytest.raises(InvalidRange):
        log.entry(-1)
    with pytest.raises(NotFound):
        log.receipt(3)
    with pytest.raises(InvalidEntry):
        log.lookup(b"short")


def test_signed_and_cosigned_checkpoints_agree_with_the_leaves(log: Log) -> None:
    log.append_batch([anchor() for _ in range(21)])
    st = log.store.state()
    for note in (st.signed_note, st.cosigned_note):
        assert note is not None
        cp = Checkpoint.parse(split_note(note)[0])
        assert (cp.size, cp.root) == (st.size, st.root) == (21, log.root(21))


def test_a_log_refuses_a_key_named_otherwise(tmp_path: Path) -> None:
    from .test_registry_store_helpers import new_log_signer

    with open_store("sqlite", tmp_path) as store:
        with pytest.raises(RegistryError) as info:
            Log(store, new_log_signer("other.example/log"), ORIGIN)
        assert info.value.code == "log_misconfigured"


def test_anchor_entries_roundtrip_through_the_log(log: Log) -> None:
    a = AnchorEntry.create(secrets.token_bytes(32), ISSUER, "urn:x", 5, 2**63 - 1)
    index = log.append(a)
    assert decode_entry(log.entry(index).data) == a
