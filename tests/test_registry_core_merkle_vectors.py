"""RFC 9162 Merkle trees against published vectors.

- transparency-dev/merkle ``testdata`` (Apache-2.0): every inclusion and
  consistency file; happy paths verify, every mutated case fails with InvalidProof.
- ``reference_tree.json``: the 8 standard RFC 6962 test leaves, every root,
  inclusion proof and consistency proof, which our generators must reproduce.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from hash_registry.errors import InvalidProof, InvalidRange
from hash_registry.merkle import (
    SHA256,
    SM3,
    CompactRange,
    MemoryTree,
    consistency_proof,
    consistency_proof_nodes,
    empty_root,
    get_hash_alg,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    subtree_root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors" / "merkle"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"
INCLUSION = sorted((TESTDATA / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((TESTDATA / "consistency").rglob("*.json"))
REFERENCE = json.loads((VECTORS / "reference_tree.json").read_text())


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in value or []]


def _id(path: Path) -> str:
    return str(path.relative_to(TESTDATA))


def _reference_tree() -> MemoryTree:
    tree = MemoryTree()
    for data in REFERENCE["leaf_inputs_hex"]:
        tree.append(bytes.fromhex(data))
    return tree


def test_all_upstream_vector_files_are_present() -> None:
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v: dict[str, Any] = json.loads(path.read_text())
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v["proof"]), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(InvalidProof) as info:
            verify_inclusion(*args)
        assert info.value.code == "invalid_proof"
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v: dict[str, Any] = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _proof(v["proof"]), _b64(v["root1"]), _b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(InvalidProof) as info:
            verify_consistency(*args)
        assert info.value.code == "invalid_proof"
    else:
        verify_consistency(*args)


@pytest.mark.parametrize("path", [p for p in INCLUSION if p.name == "happy-path.json"], ids=_id)
def test_inclusion_happy_paths_are_what_we_generate(path: Path) -> None:
    v = json.loads(path.read_text())
    tree = _reference_tree()
    assert tree.root(v["treeSize"]) == _b64(v["root"])
    assert tree.leaf_hash(v["leafIdx"]) == _b64(v["leafHash"])
    assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v["proof"])


@pytest.mark.parametrize("path", [p for p in CONSISTENCY if p.name == "happy-path.json"], ids=_id)
def test_consistency_happy_paths_are_what_we_generate(path: Path) -> None:
    v = json.loads(path.read_text())
    tree = _reference_tree()
    assert tree.root(v["size1"]) == _b64(v["root1"])
    assert tree.root(v["size2"]) == _b64(v["root2"])
    assert tree.consistency_proof(v["size1"], v["size2"]) == _proof(v["proof"])


# --- reference_tree.json -----------------------------------------------------------


def test_reference_leaf_hashes_and_complete_subtrees() -> None:
    tree = _reference_tree()
    for i, data in enumerate(REFERENCE["leaf_inputs_hex"]):
        assert leaf_hash(bytes.fromhex(data)).hex() == REFERENCE["leaf_hashes_hex"][i]
    for level, hashes in enumerate(REFERENCE["complete_subtree_hashes_by_level_hex"]):
        for index, h in enumerate(hashes):
            assert tree.read(level, index).hex() == h


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    want = REFERENCE["root_hash_by_tree_size_hex"][str(size)]
    assert _reference_tree().root(size).hex() == want
    assert _b64(REFERENCE["root_hash_by_tree_size_b64"][str(size)]).hex() == want
    edge = CompactRange(0, [])
    for data in REFERENCE["leaf_inputs_hex"][:size]:
        edge.append(leaf_hash(bytes.fromhex(data)))
    assert edge.root().hex() == want


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert empty_root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(
    "case", REFERENCE["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}"
)
def test_reference_inclusion_proofs(case: dict[str, Any]) -> None:
    tree = _reference_tree()
    proof = tree.inclusion_proof(case["leaf_index"], case["tree_size"])
    assert [p.hex() for p in proof] == case["proof_hex"]
    leaf = bytes.fromhex(case["leaf_hash_hex"])
    root = bytes.fromhex(case["root_hex"])
    verify_inclusion(case["leaf_index"], case["tree_size"], leaf, proof, root)
    # the proof uses exactly the nodes inclusion_proof_nodes names
    seen: list[tuple[int, int]] = []

    def recording(level: int, index: int) -> bytes:
        seen.append((level, index))
        return tree.read(level, index)

    inclusion_proof(case["leaf_index"], case["tree_size"], recording)
    assert seen == inclusion_proof_nodes(case["leaf_index"], case["tree_size"])


@pytest.mark.parametrize(
    "case", REFERENCE["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}"
)
def test_reference_consistency_proofs(case: dict[str, Any]) -> None:
    tree = _reference_tree()
    proof = tree.consistency_proof(case["size1"], case["size2"])
    assert [p.hex() for p in proof] == case["proof_hex"]
    root1, root2 = bytes.fromhex(case["root1_hex"]), bytes.fromhex(case["root2_hex"])
    verify_consistency(case["size1"], case["size2"], proof, root1, root2)
    seen: list[tuple[int, int]] = []

    def recording(level: int, index: int) -> bytes:
        seen.append((level, index))
        return tree.read(level, index)

    consistency_proof(case["size1"], case["size2"], recording)
    assert seen == consistency_proof_nodes(case["size1"], case["size2"])


# --- edges of the API ---------------------------------------------------------------


def test_tree_root_uses_only_logarithmic_reads() -> None:
    tree = MemoryTree()
    for i in range(1000):
        tree.append(i.to_bytes(4, "big"))
    reads: list[tuple[int, int]] = []

    def counting(level: int, index: int) -> bytes:
        reads.append((level, index))
        return tree.read(level, index)

    assert tree_root(1000, counting) == tree.root()
    assert len(reads) == bin(1000).count("1")
    reads.clear()
    inclusion_proof(999, 1000, counting)
    assert len(reads) <= 2 * 10
    reads.clear()
    consistency_proof(333, 1000, counting)
    assert len(reads) <= 2 * 10


def test_subtree_root_refuses_ranges_that_are_not_subtrees() -> None:
    tree = _reference_tree()
    assert subtree_root(4, 7, tree.read) == node_hash(tree.read(1, 2), tree.read(0, 6))
    for start, end in [(1, 3), (2, 5), (3, 2), (5, 5), (-1, 2)]:
        with pytest.raises(InvalidRange):
            subtree_root(start, end, tree.read)
    assert perfect_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_subtrees(0, 0) == []


@pytest.mark.parametrize(("index", "size"), [(8, 8), (0, 0), (-1, 4), (True, 4), (2**63, 2**63)])
def test_inclusion_proof_refuses_out_of_range(index: int, size: int) -> None:
    with pytest.raises(InvalidRange):
        inclusion_proof(index, size, _reference_tree().read)


def test_consistency_proof_conventions() -> None:
    tree = _reference_tree()
    assert consistency_proof(0, 8, tree.read) == []
    assert consistency_proof(8, 8, tree.read) == []
    with pytest.raises(InvalidRange):
        consistency_proof(5, 4, tree.read)
    with pytest.raises(InvalidRange):
        tree.consistency_proof(3, 9)


def test_verify_refuses_non_integer_sizes_and_wrong_hash_lengths() -> None:
    tree = _reference_tree()
    proof = tree.inclusion_proof(3, 8)
    leaf, root = tree.leaf_hash(3), tree.root()
    verify_inclusion(3, 8, leaf, proof, root)
    for bad in [
        ("3", 8, leaf, proof, root),
        (3, 8.0, leaf, proof, root),
        (3, 8, leaf[:31], proof, root),
        (3, 8, leaf, [*proof[:-1], proof[-1] + b"\0"], root),
        (3, 8, leaf, proof, root + b"\0"),
        (3, 8, leaf, [*proof, b"\0" * 32], root),
        (3, 8, leaf, proof[:-1], root),
        (3, 2**64, leaf, proof, root),
    ]:
        with pytest.raises(InvalidProof):
            verify_inclusion(*bad)  # type: ignore[arg-type]


def test_node_reader_returning_garbage_is_a_store_error() -> None:
    from hash_registry.errors import StoreError

    with pytest.raises(StoreError):
        tree_root(3, lambda level, index: b"short")


def test_compact_range_rebuilds_from_a_reader_and_reports_completed_nodes() -> None:
    tree = _reference_tree()
    edge = CompactRange.from_reader(7, tree.read)
    assert edge.size == 7
    assert edge.hashes == [tree.read(2, 0), tree.read(1, 2), tree.read(0, 6)]
    assert edge.root() == tree.root(7)
    done = edge.append(tree.leaf_hash(7))
    assert done == [
        (0, 7, tree.read(0, 7)),
        (1, 3, tree.read(1, 3)),
        (2, 1, tree.read(2, 1)),
        (3, 0, tree.read(3, 0)),
    ]
    assert edge.hashes == [tree.root(8)]
    assert edge.nodes() == [(3, 0, tree.root(8))]
    with pytest.raises(InvalidRange):
        CompactRange(7, [tree.read(2, 0)])
    with pytest.raises(InvalidRange):
        edge.append(b"\0" * 31)


def test_sm3_is_a_real_named_algorithm() -> None:
    assert get_hash_alg("sha-256") is SHA256
    sm3 = get_hash_alg("sm3")
    assert sm3 is SM3
    # GB/T 32905-2016 Appendix A example 1: SM3("abc")
    assert sm3.digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    tree = MemoryTree(sm3)
    for i in range(5):
        tree.append(bytes([i]))
    proof = tree.inclusion_proof(2, 5)
    verify_inclusion(2, 5, leaf_hash(bytes([2]), sm3), proof, tree.root(), sm3)
    with pytest.raises(InvalidProof):
        verify_inclusion(2, 5, leaf_hash(bytes([2])), proof, tree.root(), sm3)
    assert tree.root() != _sha_tree_root(5)


def _sha_tree_root(n: int) -> bytes:
    tree = MemoryTree()
    for i in range(n):
        tree.append(bytes([i]))
    return tree.root()


@pytest.mark.parametrize("name", ["sha256", "SHA-256", "md5", "", None])
def test_unknown_hash_algorithm_is_a_named_error(name: Any) -> None:
    from hash_registry.errors import UnsupportedHashAlg

    with pytest.raises(UnsupportedHashAlg) as info:
        get_hash_alg(name)
    assert info.value.code == "unsupported_hash_alg"
