"""The embedded store: one SQLite file in WAL mode with ``synchronous=FULL``.

Writers serialise on ``BEGIN IMMEDIATE`` (so several processes on one home — a
running ``serve`` and an operator's ``anchor`` — stay gap-free); readers use one
connection per thread and never block the writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .errors import StoreError
from .merkle import HashAlg, NodeReader, empty_root
from .store import (
    PREFIX_BYTES,
    AppendResult,
    CheckpointSigner,
    KeyRecord,
    NewEntry,
    NodeCache,
    Nonce,
    NonceReused,
    Precheck,
    TreeReader,
    TreeState,
    check_batch,
    digest_prefix,
    plan_batch,
)

SCHEMA_VERSION = "1"
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    compact BLOB NOT NULL,
    signed_note TEXT,
    cosigned_size INTEGER,
    cosigned_note TEXT
);
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS digests (
    prefix INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (prefix, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admitted (
    kind TEXT NOT NULL, thumbprint TEXT NOT NULL, subject TEXT NOT NULL,
    name TEXT NOT NULL, jwk TEXT NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (kind, thumbprint)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_jti (
    issuer TEXT NOT NULL, jti TEXT NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (issuer, jti)
) WITHOUT ROWID;
"""


class SqliteStore:
    """:class:`~hash_registry.store.Store` on a SQLite file."""

    def __init__(self, path: str | Path, hash_alg: HashAlg, *, busy_timeout_s: float = 30.0):
        self.path = Path(path)
        self.hash_alg = hash_alg
        self._width = len(empty_root(hash_alg))
        self._timeout = busy_timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._cache = NodeCache()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory: {exc}") from exc
        self._guard(self._init_schema)

    # --- connections ------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the store is closed")
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _guard(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    # --- schema -----------------------------------------------------------------

    def _init_schema(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                conn.execute(stmt)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", SCHEMA_VERSION), ("hash_alg", self.hash_alg.name)],
                )
                conn.execute(
                    "INSERT INTO tree_state (id, size, root, compact) VALUES (0, 0, ?, x'')",
                    (empty_root(self.hash_alg),),
                )
            elif meta.get("schema") != SCHEMA_VERSION:
                raise StoreError(f"unsupported store schema {meta.get('schema')!r}")
            elif meta.get("hash_alg") != self.hash_alg.name:
                raise StoreError(
                    f"the store was created with hash {meta.get('hash_alg')!r}, "
                    f"not {self.hash_alg.name!r}",
                    code="hash_alg_mismatch",
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # --- reads ------------------------------------------------------------------

    def state(self) -> TreeState:
        def run() -> TreeState:
            row = (
                self._conn()
                .execute(
                    "SELECT size, root, signed_note, cosigned_size, cosigned_note "
                    "FROM tree_state WHERE id = 0"
                )
                .fetchone()
            )
            if row is None:
                raise StoreError("the store has no tree state")
            return TreeState(int(row[0]), bytes(row[1]), row[2], row[3], row[4])

        return self._guard(run)

    def entries(self, start: int, end: int) -> list[bytes]:
        rows = self._fetch_leaves(start, end)
        if len(rows) != max(0, end - start):
            raise StoreError(f"entries [{start}, {end}) are not all stored", code="not_found")
        return rows

    def _fetch_leaves(self, start: int, end: int) -> list[bytes]:
        def run() -> list[bytes]:
            cur = self._conn().execute(
                "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            )
            return [bytes(r[0]) for r in cur]

        return self._guard(run)

    def _fetch_nodes(self, level: int, start: int, end: int) -> list[bytes]:
        def run() -> list[bytes]:
            cur = self._conn().execute(
                "SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                (level, start, end),
            )
            return [bytes(r[0]) for r in cur]

        return self._guard(run)

    def node_reader(self) -> NodeReader:
        return TreeReader(self._fetch_leaves, self._fetch_nodes, self.hash_alg, cache=self._cache)

    def find_digest(self, digest: bytes) -> list[tuple[int, bytes]]:
        return self._guard(lambda: _find_digest(self._conn(), digest))

    def keys(self, kind: str) -> list[KeyRecord]:
        def run() -> list[KeyRecord]:
            cur = self._conn().execute(
                "SELECT kind, thumbprint, subject, jwk, idx, name FROM admitted "
                "WHERE kind = ? ORDER BY idx",
                (kind,),
            )
            return [KeyRecord(*r) for r in cur]

        return self._guard(run)

    def key(self, kind: str, thumbprint: str) -> KeyRecord | None:
        def run() -> KeyRecord | None:
            row = (
                self._conn()
                .execute(
                    "SELECT kind, thumbprint, subject, jwk, idx, name FROM admitted "
                    "WHERE kind = ? AND thumbprint = ?",
                    (kind, thumbprint),
                )
                .fetchone()
            )
            return KeyRecord(*row) if row else None

        return self._guard(run)

    # --- writes -----------------------------------------------------------------

    def append_batch(
        self,
        entries: Sequence[NewEntry],
        *,
        sign: CheckpointSigner,
        keys: Sequence[KeyRecord] = (),
        nonce: Nonce | None = None,
        precheck: Precheck | None = None,
    ) -> AppendResult:
        check_batch(entries)

        def run() -> AppendResult:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(conn, entries, sign, keys, nonce, precheck)
                conn.execute("COMMIT")
                return result
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        return self._guard(run)

    def _append_locked(
        self,
        conn: sqlite3.Connection,
        entries: Sequence[NewEntry],
        sign: CheckpointSigner,
        keys: Sequence[KeyRecord],
        nonce: Nonce | None,
        precheck: Precheck | None,
    ) -> AppendResult:
        size, compact = conn.execute("SELECT size, compact FROM tree_state WHERE id = 0").fetchone()
        if nonce is not None:
            conn.execute("DELETE FROM seen_jti WHERE expires < ?", (nonce.now,))
            try:
                conn.execute(
                    "INSERT INTO seen_jti VALUES (?, ?, ?)",
                    (nonce.issuer, nonce.jti, nonce.expires),
                )
            except sqlite3.IntegrityError as exc:
                raise NonceReused() from exc
        if precheck is not None:
            precheck(lambda ds: _find_digests(conn, ds))
        plan = plan_batch(size, bytes(compact), entries, keys, self.hash_alg, self._width)
        conn.executemany("INSERT INTO entries VALUES (?, ?)", plan.entry_rows)
        conn.executemany("INSERT INTO nodes VALUES (?, ?, ?)", plan.node_rows)
        conn.executemany("INSERT INTO digests VALUES (?, ?)", plan.digest_rows)
        try:
            conn.executemany(
                "INSERT INTO admitted VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (k.kind, k.thumbprint, k.subject, k.name, k.jwk, k.position)
                    for k in plan.key_rows
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError("that key is already admitted", code="already_admitted") from exc
        note = sign(plan.size, plan.root)
        conn.execute(
            "UPDATE tree_state SET size = ?, root = ?, compact = ?, signed_note = ? WHERE id = 0",
            (plan.size, plan.root, plan.compact, note),
        )
        return AppendResult(
            size,
            len(entries),
            plan.size,
            plan.root,
            note,
            list(range(size, plan.size)),
        )

    def save_cosigned(self, size: int, note: str) -> bool:
        def run() -> bool:
            cur = self._conn().execute(
                "UPDATE tree_state SET cosigned_size = ?, cosigned_note = ? "
                "WHERE id = 0 AND size >= ? AND (cosigned_size IS NULL OR cosigned_size <= ?)",
                (size, note, size, size),
            )
            return cur.rowcount == 1

        return self._guard(run)

    # --- introspection (benchmarks, tests) --------------------------------------

    def stats(self) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            conn = self._conn()
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            return {"bytes": page_size * (pages - free), "pages": pages}

        return self._guard(run)

    def checkpoint_wal(self) -> None:
        """Fold the WAL into the main file (for measuring its size)."""
        self._guard(lambda: self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())


def _find_digests(conn: sqlite3.Connection, digests: Sequence[bytes]) -> list[tuple[int, bytes]]:
    prefixes = sorted({digest_prefix(d) for d in digests})
    cur = conn.execute(
        "SELECT e.idx, e.data FROM digests d JOIN entries e ON e.idx = d.idx "
        "WHERE d.prefix IN (SELECT value FROM json_each(?)) ORDER BY e.idx",
        (json.dumps(prefixes),),
    )
    return [(int(idx), bytes(data)) for idx, data in cur]


def _find_digest(conn: sqlite3.Connection, digest: bytes) -> list[tuple[int, bytes]]:
    if len(digest) < PREFIX_BYTES:
        raise StoreError("a credential digest must be at least 8 bytes")
    cur = conn.execute(
        "SELECT e.idx, e.data FROM digests d JOIN entries e ON e.idx = d.idx "
        "WHERE d.prefix = ? ORDER BY e.idx",
        (digest_prefix(digest),),
    )
    return [(int(i), bytes(d)) for i, d in cur]
