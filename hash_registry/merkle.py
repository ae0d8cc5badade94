"""RFC 9162 §2.1 Merkle trees: hashing, proofs, and the right edge of a growing log.

Everything here is pure. Trees are read through a :data:`NodeReader`, a function
returning the hash of a *complete* (perfect) subtree, so the same code serves an
in-memory tree, SQLite or PostgreSQL. Any proof needs only O(log n) such reads,
and the ``*_nodes`` functions name them up front so a store can fetch them in one
query.

The hash algorithm is a named setting (``sha-256`` by default; ``sm3`` because a
mainland operator may require it). Proof verification follows RFC 9162
§2.1.3.2 / §2.1.4.2 with the caller conventions of the transparency-dev vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from .errors import InvalidProof, InvalidRange, NotFound, StoreError, UnsupportedHashAlg

#: Largest tree size we accept anywhere (sizes travel as signed 64-bit integers).
MAX_TREE_SIZE = 2**63 - 1


@dataclass(frozen=True)
class HashAlg:
    """A named hash function (the registry's algorithm is configuration, not code)."""

    name: str
    digest_size: int
    _factory: Callable[[], hashes.HashAlgorithm] = field(repr=False, compare=False)

    def digest(self, data: bytes) -> bytes:
        h = hashes.Hash(self._factory())
        h.update(data)
        return h.finalize()


SHA256 = HashAlg("sha-256", 32, hashes.SHA256)
#: GB/T 32905 SM3, as OpenSSL implements it (through ``cryptography``).
SM3 = HashAlg("sm3", 32, hashes.SM3)

_ALGS = {alg.name: alg for alg in (SHA256, SM3)}


def get_hash_alg(name: str) -> HashAlg:
    """The :class:`HashAlg` called ``name`` (``"sha-256"`` or ``"sm3"``)."""
    alg = _ALGS.get(name) if isinstance(name, str) else None
    if alg is None:
        raise UnsupportedHashAlg(f"unknown hash algorithm {name!r}; known: {sorted(_ALGS)}")
    try:
        alg.digest(b"")
    except UnsupportedAlgorithm as exc:  # the OpenSSL build lacks it; say so by name
        raise UnsupportedHashAlg(f"this OpenSSL build does not provide {name}") from exc
    return alg


def leaf_hash(data: bytes, alg: HashAlg = SHA256) -> bytes:
    """``MTH({d}) = H(0x00 || d)``."""
    return alg.digest(b"\x00" + bytes(data))


def node_hash(left: bytes, right: bytes, alg: HashAlg = SHA256) -> bytes:
    """``H(0x01 || left || right)``."""
    return alg.digest(b"\x01" + left + right)


def empty_root(alg: HashAlg = SHA256) -> bytes:
    """``MTH({}) = H("")``: the root of the empty tree."""
    return alg.digest(b"")


#: ``read(level, index)`` returns the hash of the complete subtree covering leaves
#: ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes.
NodeReader = Callable[[int, int], bytes]

#: A node of the tree, named as ``(level, index)``.
NodeId = tuple[int, int]


# --- ranges --------------------------------------------------------------------


def _check_int(value: object, what: str, error: type[Exception] = InvalidRange) -> int:
    if type(value) is not int or not 0 <= value <= MAX_TREE_SIZE:
        raise error(f"{what} must be an integer in [0, 2**63-1], got {value!r}")
    return value


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n > 1``): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeId]:
    """The complete subtrees, left to right, that tile the Merkle subtree ``[start, end)``.

    ``[start, end)`` must be a node of some RFC 9162 tree: a prefix ``[0, n)`` or a
    range starting at a multiple of the smallest power of two ``>= end - start``.
    """
    _check_int(start, "start")
    _check_int(end, "end")
    if end < start:
        raise InvalidRange(f"range [{start}, {end}) is reversed")
    n = end - start
    if n == 0:
        if start != 0:
            raise InvalidRange(f"empty range at {start} is not a subtree")
        return []
    span = 1 << (n - 1).bit_length()
    if start % span:
        raise InvalidRange(f"[{start}, {end}) is not a Merkle subtree")
    out: list[NodeId] = []
    pos = start
    while pos < end:
        level = (end - pos).bit_length() - 1
        out.append((level, pos >> level))
        pos += 1 << level
    return out


def _read(read: NodeReader, node: NodeId, alg: HashAlg) -> bytes:
    value = read(*node)
    if not isinstance(value, bytes) or len(value) != alg.digest_size:
        raise StoreError(f"node {node} read back as {value!r:.80}, not a {alg.name} hash")
    return value


def _fold(parts: Sequence[bytes], alg: HashAlg) -> bytes:
    root = parts[-1]
    for h in reversed(parts[:-1]):
        root = node_hash(h, root, alg)
    return root


def subtree_root(start: int, end: int, read: NodeReader, alg: HashAlg = SHA256) -> bytes:
    """MTH of leaves ``[start, end)`` (a subtree or prefix), from O(log n) complete-node reads."""
    nodes = perfect_subtrees(start, end)
    if not nodes:
        return empty_root(alg)
    return _fold([_read(read, node, alg) for node in nodes], alg)


def tree_root(size: int, read: NodeReader, alg: HashAlg = SHA256) -> bytes:
    """The root hash of the tree of the first ``size`` leaves."""
    return subtree_root(0, size, read, alg)


def tree_root_nodes(size: int) -> list[NodeId]:
    """The nodes :func:`tree_root` reads."""
    return perfect_subtrees(0, size)


# --- proof generation (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF) ---------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    _check_int(index, "index")
    _check_int(size, "tree size")
    if index >= size:
        raise InvalidRange(f"leaf index {index} is not below tree size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:  # top-down; PATH puts the deepest sibling first
        mid = start + _split(end - start)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    _check_int(old_size, "old size")
    _check_int(new_size, "new size")
    if old_size > new_size:
        raise InvalidRange(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    ranges.reverse()
    return ranges


def _nodes_of(ranges: list[tuple[int, int]]) -> list[NodeId]:
    return [node for start, end in ranges for node in perfect_subtrees(start, end)]


def inclusion_proof(index: int, size: int, read: NodeReader, alg: HashAlg = SHA256) -> list[bytes]:
    """The RFC 9162 audit path for leaf ``index`` in the tree of ``size`` leaves."""
    return [subtree_root(s, e, read, alg) for s, e in _inclusion_ranges(index, size)]


def inclusion_proof_nodes(index: int, size: int) -> list[NodeId]:
    """The nodes :func:`inclusion_proof` reads (at most ~2 log2(size))."""
    return _nodes_of(_inclusion_ranges(index, size))


def consistency_proof(
    old_size: int, new_size: int, read: NodeReader, alg: HashAlg = SHA256
) -> list[bytes]:
    """The RFC 9162 consistency proof from ``old_size`` to ``new_size`` (empty if either
    size is 0 or they are equal: there is nothing to prove)."""
    return [subtree_root(s, e, read, alg) for s, e in _consistency_ranges(old_size, new_size)]


def consistency_proof_nodes(old_size: int, new_size: int) -> list[NodeId]:
    """The nodes :func:`consistency_proof` reads."""
    return _nodes_of(_consistency_ranges(old_size, new_size))


# --- proof verification (RFC 9162 §2.1.3.2, §2.1.4.2) ---------------------------


def _check_hash(value: object, what: str, alg: HashAlg) -> bytes:
    if not isinstance(value, bytes):
        raise InvalidProof(f"{what} is not bytes")
    if len(value) != alg.digest_size:
        raise InvalidProof(f"{what} is {len(value)} bytes, not a {alg.digest_size}-byte hash")
    return value


def _decomp(index: int, size: int) -> tuple[int, int]:
    """(inner, border): the audit path length splits into these two parts."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def verify_inclusion(
    index: int,
    size: int,
    leaf: bytes,
    proof: Sequence[bytes],
    root: bytes,
    alg: HashAlg = SHA256,
) -> None:
    """Check that ``leaf`` (a leaf *hash*) is at ``index`` in the tree of ``size`` with ``root``.

    Raises :class:`InvalidProof` saying what is wrong; returns ``None`` on success.
    """
    _check_int(index, "leaf index", InvalidProof)
    _check_int(size, "tree size", InvalidProof)
    if index >= size:
        raise InvalidProof(f"leaf index {index} is not below tree size {size}")
    _check_hash(leaf, "the leaf hash", alg)
    _check_hash(root, "the root hash", alg)
    path = [_check_hash(p, f"proof element {i}", alg) for i, p in enumerate(proof)]
    want = sum(_decomp(index, size))
    if len(path) != want:
        raise InvalidProof(
            f"the proof has {len(path)} hashes; leaf {index} of a {size}-leaf tree needs {want}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise InvalidProof("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r, alg)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p, alg)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the proof is shorter than the path to the root")
    if r != root:
        raise InvalidProof(f"the inclusion proof for leaf {index} does not lead to the root")


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
    alg: HashAlg = SHA256,
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the one of
    ``new_size`` with ``new_root``.

    Conventions (those of the transparency-dev vectors): ``old_size == 0`` is an
    error (nothing can be proven about the empty tree); ``new_size < old_size`` is
    an error; equal sizes need an empty proof and equal roots.
    """
    _check_int(old_size, "old size", InvalidProof)
    _check_int(new_size, "new size", InvalidProof)
    if old_size == 0:
        raise InvalidProof("a consistency proof from the empty tree proves nothing")
    if new_size < old_size:
        raise InvalidProof(f"new size {new_size} is smaller than old size {old_size}")
    if old_size == new_size:
        if len(proof) != 0:
            raise InvalidProof("the sizes are equal, so the proof must be empty")
        if not isinstance(old_root, bytes) or old_root != new_root:
            raise InvalidProof(f"two different roots for the same tree size {old_size}")
        return
    _check_hash(old_root, "the old root", alg)
    _check_hash(new_root, "the new root", alg)
    path = [_check_hash(p, f"proof element {i}", alg) for i, p in enumerate(proof)]
    if not path:
        raise InvalidProof("the consistency proof is empty")
    inner, border = _decomp(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    seeded = old_size == 1 << shift  # a power of two: the old root is the first node
    want = (0 if seeded else 1) + inner - shift + border
    if len(path) != want:
        raise InvalidProof(
            f"the proof has {len(path)} hashes; {old_size} -> {new_size} needs {want}"
        )
    if seeded:
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr, alg)
            sr = node_hash(c, sr, alg)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c, alg)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("the proof is shorter than the path to the root")
    if fr != old_root:
        raise InvalidProof(f"the proof does not reproduce the old root (size {old_size})")
    if sr != new_root:
        raise InvalidProof(f"the proof does not reproduce the new root (size {new_size})")


# --- the growing tree ------------------------------------------------------------


class CompactRange:
    """The right edge of a growing tree: the roots of the perfect subtrees that tile
    ``[0, size)``, largest first. Enough to append and to compute the root, in
    O(log n) memory; a store persists what :meth:`append` returns.
    """

    def __init__(self, size: int, hashes: list[bytes], alg: HashAlg = SHA256) -> None:
        _check_int(size, "size")
        if len(hashes) != size.bit_count():
            raise InvalidRange(f"a compact range of size {size} has {size.bit_count()} hashes")
        for i, h in enumerate(hashes):
            if not isinstance(h, bytes) or len(h) != alg.digest_size:
                raise InvalidRange(f"compact range hash {i} is not a {alg.name} hash")
        self._size = size
        self._hashes = list(hashes)
        self.alg = alg

    @classmethod
    def from_reader(cls, size: int, read: NodeReader, alg: HashAlg = SHA256) -> CompactRange:
        """Rebuild from a store: reads only the O(log n) nodes of ``size``'s decomposition."""
        return cls(size, [_read(read, node, alg) for node in perfect_subtrees(0, size)], alg)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        return list(self._hashes)

    def nodes(self) -> list[tuple[int, int, bytes]]:
        """The current edge as ``(level, index, hash)``."""
        return [
            (lv, ix, h)
            for (lv, ix), h in zip(perfect_subtrees(0, self._size), self._hashes, strict=True)
        ]

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return every node it completes, the leaf itself first."""
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != self.alg.digest_size:
            raise InvalidRange(f"a leaf hash must be {self.alg.digest_size} bytes")
        if self._size >= MAX_TREE_SIZE:
            raise InvalidRange("the tree is full")
        h, level, index = leaf_hash, 0, self._size
        done = [(0, index, h)]
        while (self._size >> level) & 1:  # a sibling of this height waits on the edge
            h = node_hash(self._hashes.pop(), h, self.alg)
            level += 1
            index >>= 1
            done.append((level, index, h))
        self._hashes.append(h)
        self._size += 1
        return done

    def root(self) -> bytes:
        return _fold(self._hashes, self.alg) if self._hashes else empty_root(self.alg)

    def copy(self) -> CompactRange:
        return CompactRange(self._size, self._hashes, self.alg)


class MemoryTree:
    """An in-memory log: the reference tree for tests and for small witnesses/monitors."""

    def __init__(self, alg: HashAlg = SHA256) -> None:
        self.alg = alg
        self._nodes: dict[NodeId, bytes] = {}
        self._edge = CompactRange(0, [], alg)

    @property
    def size(self) -> int:
        return self._edge.size

    def append(self, data: bytes) -> int:
        """Append an entry (its bytes); return its index."""
        return self.append_leaf_hash(leaf_hash(data, self.alg))

    def append_leaf_hash(self, h: bytes) -> int:
        index = self._edge.size
        for level, idx, value in self._edge.append(h):
            self._nodes[(level, idx)] = value
        return index

    def read(self, level: int, index: int) -> bytes:
        """The :data:`NodeReader` of this tree."""
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise NotFound(f"no complete node at level {level}, index {index}") from None

    def leaf_hash(self, index: int) -> bytes:
        return self.read(0, index)

    def _size_or_current(self, size: int | None) -> int:
        if size is None:
            return self.size
        _check_int(size, "tree size")
        if size > self.size:
            raise InvalidRange(f"tree size {size} is beyond the tree ({self.size} leaves)")
        return size

    def root(self, size: int | None = None) -> bytes:
        if size is None:
            return self._edge.root()
        return tree_root(self._size_or_current(size), self.read, self.alg)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size_or_current(size), self.read, self.alg)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self._size_or_current(new_size), self.read, self.alg)
