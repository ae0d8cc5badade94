"""One Store test suite, run on SQLite and on PostgreSQL.

The reference is the core's ``MemoryTree`` built from the same entries: every
root, inclusion proof and consistency proof a store serves must equal the
reference's and verify with ``merkle.verify_*`` (RFC 9162 §2.1).
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
from pathlib import Path

import pytest

from hash_registry.errors import StoreError, Unauthorized
from hash_registry.merkle import (
    SHA256,
    SM3,
    MemoryTree,
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from hash_registry.store import MAX_BATCH, KeyRecord, NewEntry, Nonce, NonceReused
from hash_registry.store_sqlite import SqliteStore

from .test_registry_store_helpers import open_store

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _sign(size: int, root: bytes) -> str:
    return f"test\n{size}\n{root.hex()}\n"


def _entries(n: int, rng: random.Random) -> list[NewEntry]:
    out = []
    for _ in range(n):
        data = rng.randbytes(rng.randint(1, 120))
        out.append(NewEntry(data, rng.randbytes(32) if rng.random() < 0.7 else None))
    return out


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with open_store(request.param, tmp_path) as s:
        yield s


def test_new_store_is_the_empty_tree(store) -> None:
    st = store.state()
    assert st.size == 0
    assert st.root == empty_root(SHA256)
    assert st.signed_note is None and st.cosigned_note is None
    assert store.entries(0, 0) == []
    assert store.find_digest(secrets.token_bytes(32)) == []


def test_batches_get_gap_free_indices_and_the_reference_root(store) -> None:
    rng = random.Random(7)
    ref = MemoryTree()
    expected_first = 0
    for n in [1, 1, 2, 3, 15, 16, 17, 1, 100, 255, 1, 33]:
        batch = _entries(n, rng)
        result = store.append_batch(batch, sign=_sign)
        for e in batch:
            ref.append(e.data)
        assert result.first_index == expected_first
        assert result.indices == list(range(expected_first, expected_first + n))
        assert result.count == n
        assert result.size == ref.size
        assert result.root == ref.root()
        assert result.signed_note == _sign(ref.size, ref.root())
        expected_first += n
        st = store.state()
        assert (st.size, st.root, st.signed_note) == (ref.size, ref.root(), result.signed_note)
    assert len(store.entries(0, ref.size)) == ref.size
    for i in range(ref.size):
        assert leaf_hash(store.entries(i, i + 1)[0]) == ref.leaf_hash(i)


def test_every_proof_matches_the_reference_and_verifies(store) -> None:
    rng = random.Random(11)
    ref = MemoryTree()
    while ref.size < 300:
        batch = _entries(rng.randint(1, 40), rng)
        store.append_batch(batch, sign=_sign)
        for e in batch:
            ref.append(e.data)
    n = ref.size
    sizes = sorted(
        {1, 2, 3, 15, 16, 17, 31, 32, 33, 255, 256, 257, n - 1, n}
        | {rng.randint(1, n) for _ in range(15)}
    )
    for size in sizes:
        read = store.node_reader()
        root = tree_root(size, read)
        assert root == ref.root(size)
        for index in {0, size - 1, size // 2, rng.randrange(size)}:
            proof = inclusion_proof(index, size, store.node_reader())
            assert proof == ref.inclusion_proof(index, size)
            verify_inclusion(index, size, ref.leaf_hash(index), proof, root)
        for old in {1, size // 2 or 1, size - 1 or 1, rng.randint(1, size)}:
            proof = consistency_proof(old, size, store.node_reader())
            assert proof == ref.consistency_proof(old, size)
            verify_consistency(old, size, proof, ref.root(old), root)


def test_reads_never_scan_the_leaves(store) -> None:
    """O(log n) reads: a proof of a 4,100-leaf tree fetches a handful of small blocks."""
    rng = random.Random(3)
    for _ in range(41):
        store.append_batch(_entries(100, rng), sign=_sign)
    calls: list[tuple[str, int]] = []
    reader = store.node_reader()
    fetch_leaves, fetch_nodes = reader._fetch_leaves, reader._fetch_nodes

    def leaves(start: int, end: int) -> list[bytes]:
        calls.append(("leaves", end - start))
        return fetch_leaves(start, end)

    def nodes(level: int, start: int, end: int) -> list[bytes]:
        calls.append(("nodes", end - start))
        return fetch_nodes(level, start, end)

    reader._fetch_leaves, reader._fetch_nodes = leaves, nodes
    inclusion_proof(1234, 4100, reader)
    consistency_proof(1000, 4100, reader)
    assert len(calls) <= 16
    assert all(width <= 16 for _, width in calls)


def test_digest_index_finds_anchors_and_revocations(store) -> None:
    d1, d2 = secrets.token_bytes(32), secrets.token_bytes(32)
    store.append_batch([NewEntry(b"anchor-1", d1), NewEntry(b"other", None)], sign=_sign)
    store.append_batch([NewEntry(b"anchor-2", d2), NewEntry(b"revoke-1", d1)], sign=_sign)
    assert store.find_digest(d1) == [(0, b"anchor-1"), (3, b"revoke-1")]
    assert store.find_digest(d2) == [(2, b"anchor-2")]
    # the index keys on a prefix: a digest sharing it is a candidate the caller must filter
    twin = d2[:8] + secrets.token_bytes(24)
    assert store.find_digest(twin) == [(2, b"anchor-2")]
    assert store.find_digest(secrets.token_bytes(32)) == []


def test_a_failed_precheck_writes_nothing(store) -> None:
    d = secrets.token_bytes(32)
    store.append_batch([NewEntry(b"a", d)], sign=_sign)
    before = store.state()
    seen: list[list[tuple[int, bytes]]] = []

    def precheck(lookup):
        seen.append(lookup([d, secrets.token_bytes(32)]))
        raise Unauthorized("no", code="test_refusal")

    with pytest.raises(Unauthorized) as info:
        store.append_batch(
            [NewEntry(b"b", d)],
            sign=_sign,
            keys=[KeyRecord("issuer", "kid", "iss", "{}", 0)],
            nonce=Nonce("iss", "jti-0001", 10**10, 1),
            precheck=precheck,
        )
    assert info.value.code == "test_refusal"
    assert seen == [[(0, b"a")]]
    assert store.state() == before
    assert store.key("issuer", "kid") is None
    assert store.find_digest(d) == [(0, b"a")]
    # the nonce was rolled back too: the same jti is still usable
    store.append_batch([NewEntry(b"c")], sign=_sign, nonce=Nonce("iss", "jti-0001", 10**10, 1))


def test_a_failing_signer_aborts_the_batch(store) -> None:
    def broken(size: int, root: bytes) -> str:
        raise StoreError("signer down", code="test_signer")

    with pytest.raises(StoreError):
        store.append_batch([NewEntry(b"x")], sign=broken)
    assert store.state().size == 0
    assert store.append_batch([NewEntry(b"y")], sign=_sign).indices == [0]


def test_nonces_are_single_use_per_issuer_until_they_expire(store) -> None:
    store.append_batch([NewEntry(b"1")], sign=_sign, nonce=Nonce("a", "jti-1", 100, 50))
    with pytest.raises(NonceReused) as info:
        store.append_batch([NewEntry(b"2")], sign=_sign, nonce=Nonce("a", "jti-1", 100, 60))
    assert info.value.code == "jti_replayed"
    assert store.state().size == 1
    # another issuer may use the same jti; an expired one is forgotten
    store.append_batch([NewEntry(b"3")], sign=_sign, nonce=Nonce("b", "jti-1", 100, 60))
    store.append_batch([NewEntry(b"4")], sign=_sign, nonce=Nonce("a", "jti-1", 300, 101))
    assert store.state().size == 3


def test_admitted_keys_are_indexed_with_their_entries(store) -> None:
    store.append_batch([NewEntry(b"pad")], sign=_sign)
    store.append_batch(
        [NewEntry(b"k1"), NewEntry(b"k2")],
        sign=_sign,
        keys=[
            KeyRecord("issuer", "kid-1", "https://cra", '{"kty":"OKP"}', 0),
            KeyRecord("verifier", "kid-2", "https://bank", '{"kty":"EC"}', 1, "Bank"),
        ],
    )
    assert store.keys("issuer") == [KeyRecord("issuer", "kid-1", "https://cra", '{"kty":"OKP"}', 1)]
    assert store.key("verifier", "kid-2") == KeyRecord(
        "verifier", "kid-2", "https://bank", '{"kty":"EC"}', 2, "Bank"
    )
    assert store.key("issuer", "kid-2") is None
    with pytest.raises(StoreError) as info:
        store.append_batch(
            [NewEntry(b"k1 again")],
            sign=_sign,
            keys=[KeyRecord("issuer", "kid-1", "https://cra", "{}", 0)],
        )
    assert info.value.code == "already_admitted"
    assert store.state().size == 3


def test_cosigned_checkpoints_never_go_backwards(store) -> None:
    store.append_batch([NewEntry(b"a"), NewEntry(b"b")], sign=_sign)
    assert store.save_cosigned(2, "cosigned-2")
    assert not store.save_cosigned(1, "cosigned-1")
    assert not store.save_cosigned(3, "beyond the tree")
    assert store.save_cosigned(2, "cosigned-2 with more witnesses")
    st = store.state()
    assert (st.cosigned_size, st.cosigned_note) == (2, "cosigned-2 with more witnesses")


def test_an_empty_batch_resigns_the_current_tree(store) -> None:
    result = store.append_batch([], sign=_sign)
    assert (result.size, result.count, result.indices) == (0, 0, [])
    assert store.state().signed_note == _sign(0, empty_root(SHA256))


def test_invalid_batches_are_refused(store) -> None:
    with pytest.raises(StoreError) as info:
        store.append_batch([NewEntry(b"")], sign=_sign)
    assert info.value.code == "invalid_entry"
    with pytest.raises(StoreError) as info:
        store.append_batch([NewEntry(b"x")] * (MAX_BATCH + 1), sign=_sign)
    assert info.value.code == "batch_too_large"
    with pytest.raises(StoreError):
        store.find_digest(b"short")
    with pytest.raises(StoreError):
        store.entries(0, 1)
    assert store.state().size == 0


def test_incomplete_subtrees_are_not_served(store) -> None:
    store.append_batch([NewEntry(bytes([i + 1])) for i in range(5)], sign=_sign)
    read = store.node_reader()
    read(2, 0)  # leaves 0..3: complete
    with pytest.raises(StoreError):
        read(2, 1)  # leaves 4..7: only one exists
    with pytest.raises(StoreError):
        read(-1, 0)


def test_sqlite_store_survives_reopening_and_checks_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = SqliteStore(path, SHA256)
    ref = MemoryTree()
    batch = [NewEntry(os.urandom(40), os.urandom(32)) for _ in range(50)]
    store.append_batch(batch, sign=_sign)
    for e in batch:
        ref.append(e.data)
    store.close()
    again = SqliteStore(path, SHA256)
    assert again.state().root == ref.root()
    assert again.append_batch([NewEntry(b"more")], sign=_sign).indices == [50]
    again.close()
    with pytest.raises(StoreError) as info:
        SqliteStore(path, SM3)
    assert info.value.code == "hash_alg_mismatch"
    with sqlite3.connect(path) as conn:  # WAL is a property of the file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.postgres
def test_postgres_store_checks_its_hash_and_schema_name(tmp_path: Path) -> None:
    from hash_registry.store_postgres import PostgresStore

    from .test_registry_store_helpers import require_postgres, unique_schema

    url = require_postgres()
    schema = unique_schema()
    store = PostgresStore(url, SHA256, schema=schema, max_size=2)
    try:
        store.append_batch([NewEntry(b"a")], sign=_sign)
        again = PostgresStore(url, SHA256, schema=schema, max_size=2)
        assert again.state().size == 1
        again.close()
        with pytest.raises(StoreError) as info:
            PostgresStore(url, SM3, schema=schema, max_size=2)
        assert info.value.code == "hash_alg_mismatch"
    finally:
        store.drop()
        store.close()
    for bad in ["Robert'); DROP", "", "1abc", "a" * 64, 'x"y']:
        with pytest.raises(StoreError) as info:
            PostgresStore(url, SHA256, schema=bad)
        assert info.value.code == "invalid_schema"


def test_sm3_trees_are_supported(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "sm3.db", SM3)
    ref = MemoryTree(SM3)
    batch = [NewEntry(os.urandom(30)) for _ in range(37)]
    result = store.append_batch(batch, sign=_sign)
    for e in batch:
        ref.append(e.data)
    assert result.root == ref.root()
    proof = inclusion_proof(20, 37, store.node_reader(), SM3)
    verify_inclusion(20, 37, ref.leaf_hash(20), proof, ref.root(), SM3)
    store.close()
