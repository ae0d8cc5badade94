"""Property tests: every proof our generators make verifies, and any alteration fails.

The naive root below is RFC 9162 §2.1.1 MTH written out recursively over the leaf
data: an independent definition, not our code.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hash_registry.errors import InvalidProof
from hash_registry.merkle import (
    CompactRange,
    MemoryTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_LEAVES = 300


def naive_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, literally (hashlib here is the independent oracle)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


_TREES: dict[int, tuple[MemoryTree, list[bytes]]] = {}


def tree_of(size: int) -> tuple[MemoryTree, list[bytes]]:
    """A deterministic tree of ``size`` leaves (cached: building is not what we test)."""
    if size not in _TREES:
        tree, data = MemoryTree(), []
        for i in range(size):
            item = hashlib.sha256(i.to_bytes(4, "big")).digest()[: i % 7]
            data.append(item)
            tree.append(item)
        _TREES[size] = (tree, data)
    return _TREES[size]


def flip(value: bytes, bit: int) -> bytes:
    b = bytearray(value)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


@st.composite
def inclusion_case(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_LEAVES))
    return draw(st.integers(0, size - 1)), size


@st.composite
def consistency_case(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(2, MAX_LEAVES))
    return draw(st.integers(1, new - 1)), new


@SETTINGS
@given(st.lists(st.binary(max_size=40), max_size=70))
def test_memory_tree_and_compact_range_roots_equal_naive_root(leaves: list[bytes]) -> None:
    tree = MemoryTree()
    edge = CompactRange(0, [])
    for i, item in enumerate(leaves):
        tree.append(item)
        completed = edge.append(leaf_hash(item))
        assert completed[0] == (0, i, leaf_hash(item))
        for level, index, h in completed:
            assert h == tree.read(level, index)
        assert edge.root() == tree.root() == naive_mth(leaves[: i + 1])
    for size in range(len(leaves) + 1):
        assert tree.root(size) == naive_mth(leaves[:size])


def other_sizes(size: int, lo: int) -> list[int]:
    return [
        n for n in {size - 1, size + 1, size * 2, size // 2} if lo <= n <= MAX_LEAVES and n != size
    ]


@SETTINGS
@given(inclusion_case(), st.data())
def test_inclusion_proofs_verify_and_alterations_fail(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    tree, leaves = tree_of(MAX_LEAVES)
    root = naive_mth(leaves[:size])
    assert tree.root(size) == root
    proof = tree.inclusion_proof(index, size)
    leaf = leaf_hash(leaves[index])
    verify_inclusion(index, size, leaf, proof, root)

    bad: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (index, size, leaf, proof, flip(root, data.draw(st.integers(0, 255)))),
        (index, size, flip(leaf, data.draw(st.integers(0, 255))), proof, root),
        (index, size, leaf, [*proof, leaf], root),
        (index, size, leaf, [leaf, *proof], root),
        (size, size, leaf, proof, root),
    ]
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        altered = list(proof)
        altered[i] = flip(proof[i], data.draw(st.integers(0, 255)))
        bad += [(index, size, leaf, altered, root), (index, size, leaf, proof[:-1], root)]
        if len(proof) > 1 and proof[0] != proof[-1]:
            bad.append((index, size, leaf, proof[::-1], root))
    for other in {index - 1, index + 1, data.draw(st.integers(0, size - 1))}:
        if 0 <= other < size and other != index and leaves[other] != leaves[index]:
            bad.append((other, size, leaf, proof, root))
    # Another size, checked against that tree's real root: the leaf *is* in it, so only
    # the proof is wrong (RFC 9162 paths do not bind the size by themselves: against
    # the original root some other sizes give the same path shape, which is inherent).
    for other in other_sizes(size, index + 1):
        if tree.inclusion_proof(index, other) != proof:
            bad.append((index, other, leaf, proof, naive_mth(leaves[:other])))
    for args in bad:
        with pytest.raises(InvalidProof):
            verify_inclusion(*args)


@SETTINGS
@given(consistency_case(), st.data())
def test_consistency_proofs_verify_and_alterations_fail(
    case: tuple[int, int], data: st.DataObject
) -> None:
    old, new = case
    tree, leaves = tree_of(MAX_LEAVES)
    old_root, new_root = naive_mth(leaves[:old]), naive_mth(leaves[:new])
    proof = tree.consistency_proof(old, new)
    verify_consistency(old, new, proof, old_root, new_root)

    i = data.draw(st.integers(0, len(proof) - 1))
    altered = list(proof)
    altered[i] = flip(proof[i], data.draw(st.integers(0, 255)))
    bad: list[tuple[int, int, list[bytes], bytes, bytes]] = [
        (old, new, altered, old_root, new_root),
        (old, new, proof, flip(old_root, data.draw(st.integers(0, 255))), new_root),
        (old, new, proof, old_root, flip(new_root, data.draw(st.integers(0, 255)))),
        (old, new, proof, new_root, old_root),
        (old, new, proof[:-1], old_root, new_root),
        (old, new, [*proof, new_root], old_root, new_root),
        (old, new, [old_root, *proof], old_root, new_root),
        (new, old, proof, new_root, old_root),
        (0, new, [], old_root, new_root),
        (0, new, proof, old_root, new_root),
    ]
    for other in other_sizes(new, old + 1):
        if tree.consistency_proof(old, other) != proof:
            bad.append((old, other, proof, old_root, naive_mth(leaves[:other])))
    for other in other_sizes(old, 1):
        if other < new and tree.consistency_proof(other, new) != proof:
            bad.append((other, new, proof, naive_mth(leaves[:other]), new_root))
    for args in bad:
        with pytest.raises(InvalidProof):
            verify_consistency(*args)


@SETTINGS
@given(st.integers(1, MAX_LEAVES))
def test_equal_sizes_need_an_empty_proof_and_the_same_root(size: int) -> None:
    tree, _ = tree_of(MAX_LEAVES)
    root = tree.root(size)
    assert tree.consistency_proof(size, size) == []
    verify_consistency(size, size, [], root, root)
    with pytest.raises(InvalidProof):
        verify_consistency(size, size, [root], root, root)
    with pytest.raises(InvalidProof):
        verify_consistency(size, size, [], root, flip(root, 3))


@SETTINGS
@given(st.integers(0, MAX_LEAVES))
def test_compact_range_rebuilt_from_reader_continues_the_tree(size: int) -> None:
    tree, leaves = tree_of(MAX_LEAVES)
    edge = CompactRange.from_reader(size, tree.read)
    assert edge.root() == naive_mth(leaves[:size])
    for item in leaves[size : size + 5]:
        edge.append(leaf_hash(item))
    assert edge.root() == naive_mth(leaves[: min(size + 5, MAX_LEAVES)])
