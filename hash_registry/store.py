"""The storage contract of the log, and the Merkle-node layout both backends share.

A store keeps, per entry, only the entry bytes and an 8-byte digest-prefix index
row; of the Merkle tree it keeps only the nodes on every ``STRATUM``-th level
(4, 8, 12, …). Any other complete-subtree hash is folded on demand from at most
``2**(STRATUM-1)`` stored hashes of the stratum below (level 0 = leaf hashes,
recomputed from the entry bytes). So every proof costs O(log n) small reads
(one round trip where the backend batches them) and about ``3 * log2 n`` hash
operations, and the tree costs about two bytes per entry instead of sixty-four.

Everything an append changes — entries, nodes, the digest index, admitted keys,
the replay-nonce, the tree state and the log-signed checkpoint for the new size —
is written in ONE transaction, so a crash can never leave a checkpoint that
disagrees with the stored leaves, nor lose an acknowledged append.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .errors import StoreError, Unauthorized
from .merkle import CompactRange, HashAlg, NodeReader, leaf_hash, node_hash

STRATUM = 4
"""Stored levels are the positive multiples of this; lower levels are recomputed."""
BLOCK = 1 << STRATUM
"""Hashes of one stratum that fold into one node of the next: one read fetches them."""
PREFIX_BYTES = 8
"""The digest index keys on this many leading bytes of a credential digest."""
MAX_BATCH = 100_000
"""Upper bound on entries in one atomic append (keeps one transaction bounded)."""
MAX_ENTRY_BYTES = 64 * 1024
"""No encoded entry may be larger than this."""

CheckpointSigner = Callable[[int, bytes], str]
"""``(tree_size, root) -> signed note``: called inside the append transaction."""
Lookup = Callable[[Sequence[bytes]], list[tuple[int, bytes]]]
"""``digests -> [(index, entry bytes)]``: the candidates of all of them at once, in one
query (see :meth:`Store.find_digest`; callers group them by :func:`digest_prefix`)."""
BlockFetcher = Callable[[list[tuple[int, int]]], dict[tuple[int, int], list[bytes]]]
"""``[(base level, block)] -> {(base level, block): values in index order}``; level-0
values are entry bytes, the others stored node hashes (one round trip for a proof)."""
Precheck = Callable[[Lookup], None]
"""Run inside the append transaction, under the write lock; raise to abort the batch."""


class NonceReused(Unauthorized):
    """The append request's ``jti`` was already used by that issuer within the window."""

    code = "jti_replayed"
    default_message = "this request's jti was already used"


@dataclass(frozen=True)
class NewEntry:
    """An encoded entry to append and the credential digest it concerns, if any."""

    data: bytes
    digest: bytes | None = None


@dataclass(frozen=True)
class KeyRecord:
    """An admitted issuer or verifier key, as indexed next to its log entry.

    ``kind`` is ``"issuer"`` or ``"verifier"``; ``subject`` is the issuer id or the
    verifier's client_id; ``position`` is the entry's offset inside the batch on
    append and its log index once stored.
    """

    kind: str
    thumbprint: str
    subject: str
    jwk: str
    position: int
    name: str = ""


@dataclass(frozen=True)
class Nonce:
    """A replay-protection token recorded in the append transaction (unique per issuer)."""

    issuer: str
    jti: str
    expires: int
    now: int


@dataclass(frozen=True)
class TreeState:
    """The durable head of the log."""

    size: int
    root: bytes
    signed_note: str | None
    cosigned_size: int | None
    cosigned_note: str | None


@dataclass(frozen=True)
class AppendResult:
    first_index: int
    count: int
    size: int
    root: bytes
    signed_note: str
    indices: list[int] = field(default_factory=list)


class Store(Protocol):
    """What the :class:`~hash_registry.log.Log` needs from a storage backend."""

    hash_alg: HashAlg

    def state(self) -> TreeState: ...

    def append_batch(
        self,
        entries: Sequence[NewEntry],
        *,
        sign: CheckpointSigner,
        keys: Sequence[KeyRecord] = (),
        nonce: Nonce | None = None,
        precheck: Precheck | None = None,
    ) -> AppendResult:
        """Append atomically with gap-free indices; an empty batch re-signs the current size."""
        ...

    def save_cosigned(self, size: int, note: str) -> bool:
        """Record a cosigned checkpoint unless a larger one is stored (or ``size`` is beyond
        the tree); True if stored."""
        ...

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entry bytes for indices ``[start, end)``; every one must exist."""
        ...

    def node_reader(self) -> NodeReader:
        """A reader of complete-subtree hashes, caching within one proof computation."""
        ...

    def find_digest(self, digest: bytes) -> list[tuple[int, bytes]]:
        """Entries indexed under ``digest``'s prefix; callers confirm the full digest."""
        ...

    def keys(self, kind: str) -> list[KeyRecord]: ...

    def key(self, kind: str, thumbprint: str) -> KeyRecord | None: ...

    def close(self) -> None: ...


def digest_prefix(digest: bytes) -> int:
    """The signed 64-bit integer both databases index a digest under."""
    if not isinstance(digest, bytes) or len(digest) < PREFIX_BYTES:
        raise StoreError("a credential digest must be at least 8 bytes")
    return int.from_bytes(digest[:PREFIX_BYTES], "big", signed=True)


def group_by_prefix(
    candidates: Iterable[tuple[int, bytes]], digest_of: Callable[[bytes], bytes | None]
) -> dict[int, list[tuple[int, bytes]]]:
    """Candidates keyed by the digest prefix their entry concerns."""
    out: dict[int, list[tuple[int, bytes]]] = {}
    for index, data in candidates:
        digest = digest_of(data)
        if digest is not None:
            out.setdefault(digest_prefix(digest), []).append((index, data))
    return out


def is_stored_level(level: int) -> bool:
    return level > 0 and level % STRATUM == 0


def pack_hashes(hashes: Iterable[bytes]) -> bytes:
    return b"".join(hashes)


def unpack_hashes(blob: bytes, width: int) -> list[bytes]:
    if len(blob) % width:
        raise StoreError("the stored compact range is corrupt")
    return [blob[i : i + width] for i in range(0, len(blob), width)]


def check_batch(entries: Sequence[NewEntry]) -> None:
    """Refuse batches no transaction should carry."""
    if len(entries) > MAX_BATCH:
        raise StoreError(f"a batch holds at most {MAX_BATCH} entries", code="batch_too_large")
    for e in entries:
        if not isinstance(e.data, bytes) or not e.data or len(e.data) > MAX_ENTRY_BYTES:
            raise StoreError("an entry must be 1 to 65536 bytes", code="invalid_entry")


@dataclass
class PlannedBatch:
    """Rows one append writes, computed from the tree head under the write lock."""

    entry_rows: list[tuple[int, bytes]]
    node_rows: list[tuple[int, int, bytes]]
    digest_rows: list[tuple[int, int]]
    key_rows: list[KeyRecord]
    size: int
    root: bytes
    compact: bytes


def plan_batch(
    size: int,
    compact: bytes,
    entries: Sequence[NewEntry],
    keys: Sequence[KeyRecord],
    alg: HashAlg,
    width: int,
) -> PlannedBatch:
    """Extend the compact range by ``entries`` and collect the rows to insert."""
    cr = CompactRange(size, unpack_hashes(compact, width), alg)
    entry_rows: list[tuple[int, bytes]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    digest_rows: list[tuple[int, int]] = []
    for offset, e in enumerate(entries):
        index = size + offset
        entry_rows.append((index, e.data))
        for level, idx, h in cr.append(leaf_hash(e.data, alg)):
            if is_stored_level(level):
                node_rows.append((level, idx, h))
        if e.digest is not None:
            digest_rows.append((digest_prefix(e.digest), index))
    key_rows = []
    for k in keys:
        if not 0 <= k.position < len(entries):
            raise StoreError("a key record points outside its batch")
        key_rows.append(
            KeyRecord(k.kind, k.thumbprint, k.subject, k.jwk, size + k.position, k.name)
        )
    new_size = size + len(entries)
    return PlannedBatch(
        entry_rows,
        node_rows,
        digest_rows,
        key_rows,
        new_size,
        cr.root(),
        pack_hashes(cr.hashes),
    )


class NodeCache:
    """Hashes of complete subtrees at or above :data:`CACHE_LEVEL`, shared by a store's readers.

    Safe to share (between threads, for ever): a complete subtree of an append-only
    log never changes. Bounded: at 10**6 entries it holds at most ~8,000 hashes.
    """

    def __init__(self, max_items: int = 1 << 18) -> None:
        self._items: dict[tuple[int, int], bytes] = {}
        self._max = max_items

    def get(self, key: tuple[int, int]) -> bytes | None:
        return self._items.get(key)

    def put(self, key: tuple[int, int], value: bytes) -> None:
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[key] = value


CACHE_LEVEL = 2 * STRATUM
"""Nodes covering at least 256 leaves are cached across proofs."""


class TreeReader:
    """A :data:`NodeReader` over the stratum layout.

    ``fetch_leaves(start, end)`` returns entry bytes, ``fetch_nodes(level, start, end)``
    stored node hashes, both for half-open ranges (shorter at the right edge of the
    tree); ``fetch_blocks`` (optional) fetches many blocks in one round trip. A
    reader memoises every node it computes, so one instance should serve one proof;
    nodes high in the tree also go to the store's shared :class:`NodeCache`.
    """

    def __init__(
        self,
        fetch_leaves: Callable[[int, int], list[bytes]],
        fetch_nodes: Callable[[int, int, int], list[bytes]],
        alg: HashAlg,
        fetch_blocks: BlockFetcher | None = None,
        cache: NodeCache | None = None,
    ) -> None:
        self._fetch_leaves = fetch_leaves
        self._fetch_nodes = fetch_nodes
        self._fetch_blocks = fetch_blocks
        self._alg = alg
        self._cache = cache
        self._blocks: dict[tuple[int, int], list[bytes]] = {}
        self._memo: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def block_of(level: int, index: int) -> tuple[int, int]:
        """``(base level, block)`` holding the values node ``(level, index)`` folds from."""
        stratum, rest = divmod(level, STRATUM)
        return stratum * STRATUM, (index << rest) // BLOCK

    def _known(self, key: tuple[int, int]) -> bytes | None:
        found = self._memo.get(key)
        if found is None and self._cache is not None and key[0] >= CACHE_LEVEL:
            found = self._cache.get(key)
        return found

    def prefetch(self, nodes: Iterable[tuple[int, int]]) -> None:
        """Fetch every block the given nodes need, in one round trip where the backend can."""
        wanted = sorted(
            {
                self.block_of(lv, ix)
                for lv, ix in nodes
                if lv >= 0 and ix >= 0 and self._known((lv, ix)) is None
            }
            - set(self._blocks)
        )
        if not wanted:
            return
        if self._fetch_blocks is None:
            for base_level, block in wanted:
                self._block(base_level, block)
            return
        fetched = self._fetch_blocks(wanted)
        for key in wanted:
            self._blocks[key] = fetched.get(key, [])

    def _block(self, base_level: int, block: int) -> list[bytes]:
        """Entry bytes (level 0) or stored hashes (levels 4, 8, …) of one block."""
        key = (base_level, block)
        values = self._blocks.get(key)
        if values is None:
            start, end = block * BLOCK, (block + 1) * BLOCK
            if base_level == 0:
                values = self._fetch_leaves(start, end)
            else:
                values = self._fetch_nodes(base_level, start, end)
            self._blocks[key] = values
        return values

    def __call__(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0:
            raise StoreError("no node at a negative level or index")
        key = (level, index)
        found = self._known(key)
        if found is not None:
            return found
        if level % STRATUM == 0:
            block, offset = divmod(index, BLOCK)
            values = self._block(level, block)
            if offset >= len(values):
                raise StoreError(f"the subtree ({level}, {index}) is not complete in the store")
            value = values[offset]
            if level == 0:
                value = leaf_hash(value, self._alg)
        else:
            left = self(level - 1, 2 * index)
            value = node_hash(left, self(level - 1, 2 * index + 1), self._alg)
        self._memo[key] = value
        if self._cache is not None and level >= CACHE_LEVEL:
            self._cache.put(key, value)
        return value
