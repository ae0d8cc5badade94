"""The scale-out store: PostgreSQL through psycopg 3 and a connection pool.

Several service instances may share one database. Every append takes the row
lock on the one-row ``tree_state`` table (``SELECT … FOR UPDATE``) inside its
own transaction, so the index sequence stays single and gap-free however many
instances append at once; reads never take that lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import StoreError
from .merkle import HashAlg, NodeReader, empty_root
from .store import (
    BLOCK,
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
DEFAULT_SCHEMA = "hash_registry"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_T = TypeVar("_T")

_DDL: tuple[LiteralString, ...] = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS {s}.tree_state (
        id smallint PRIMARY KEY CHECK (id = 0),
        size bigint NOT NULL,
        root bytea NOT NULL,
        compact bytea NOT NULL,
        signed_note text,
        cosigned_size bigint,
        cosigned_note text
    )""",
    "CREATE TABLE IF NOT EXISTS {s}.entries (idx bigint PRIMARY KEY, data bytea NOT NULL)",
    """CREATE TABLE IF NOT EXISTS {s}.nodes (
        level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL,
        PRIMARY KEY (level, idx)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.digests (
        prefix bigint NOT NULL, idx bigint NOT NULL, PRIMARY KEY (prefix, idx)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.admitted (
        kind text NOT NULL, thumbprint text NOT NULL, subject text NOT NULL,
        name text NOT NULL, jwk text NOT NULL, idx bigint NOT NULL,
        PRIMARY KEY (kind, thumbprint)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.seen_jti (
        issuer text NOT NULL, jti text NOT NULL, expires bigint NOT NULL,
        PRIMARY KEY (issuer, jti)
    )""",
)


def check_schema_name(schema: str) -> str:
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise StoreError(
            "a schema name is 1-63 lowercase letters, digits or '_' and starts with a letter",
            code="invalid_schema",
        )
    return schema


class PostgresStore:
    """:class:`~hash_registry.store.Store` on a PostgreSQL schema."""

    def __init__(
        self,
        url: str,
        hash_alg: HashAlg,
        *,
        schema: str = DEFAULT_SCHEMA,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.hash_alg = hash_alg
        self.schema = check_schema_name(schema)
        self._width = len(empty_root(hash_alg))
        self._ident = sql.Identifier(self.schema)
        self._cache = NodeCache()
        try:  # one plain connection first: fail fast and say why, before the pool retries
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout_s))).close()
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL: {str(exc).strip()}", code="store_unavailable"
            ) from exc
        try:
            self._pool = ConnectionPool(
                url,
                min_size=min_size,
                max_size=max_size,
                kwargs={
                    "autocommit": True,
                    "connect_timeout": max(1, int(connect_timeout_s)),
                    # tables grow from empty: a generic plan cached early would stay bad
                    "options": "-c plan_cache_mode=force_custom_plan",
                },
                timeout=connect_timeout_s,
                open=False,
            )
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except (PoolTimeout, psycopg.Error) as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL: {exc}", code="store_unavailable"
            ) from exc
        try:
            self._guard(self._init_schema)
        except BaseException:
            self._pool.close()
            raise

    def _q(self, text: LiteralString) -> sql.Composed:
        """A statement with ``{s}`` bound to this store's (quoted) schema."""
        return sql.SQL(text).format(s=self._ident)

    def _guard(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except PoolTimeout as exc:
            raise StoreError(f"PostgreSQL pool: {exc}", code="store_unavailable") from exc
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {exc}") from exc

    def close(self) -> None:
        self._pool.close()

    def _init_schema(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            # One creator at a time: concurrent CREATE … IF NOT EXISTS can still collide.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.schema,))
            for stmt in _DDL:
                conn.execute(self._q(stmt))
            rows = conn.execute(self._q("SELECT key, value FROM {s}.meta")).fetchall()
            meta: dict[str, str] = {str(k): str(v) for k, v in rows}
            if not meta:
                conn.cursor().executemany(
                    self._q("INSERT INTO {s}.meta VALUES (%s, %s)"),
                    [("schema", SCHEMA_VERSION), ("hash_alg", self.hash_alg.name)],
                )
                conn.execute(
                    self._q(
                        "INSERT INTO {s}.tree_state (id, size, root, compact) VALUES (0, 0, %s, '')"
                    ),
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

    # --- reads ------------------------------------------------------------------

    def _query(self, query: sql.Composed, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            with self._pool.connection() as conn:
                return conn.execute(query, params).fetchall()

        return self._guard(run)

    def state(self) -> TreeState:
        rows = self._query(
            self._q(
                "SELECT size, root, signed_note, cosigned_size, cosigned_note "
                "FROM {s}.tree_state WHERE id = 0"
            ),
            (),
        )
        if not rows:
            raise StoreError("the store has no tree state")
        size, root, signed, csize, cnote = rows[0]
        return TreeState(
            int(size), bytes(root), signed, None if csize is None else int(csize), cnote
        )

    def entries(self, start: int, end: int) -> list[bytes]:
        rows = self._fetch_leaves(start, end)
        if len(rows) != max(0, end - start):
            raise StoreError(f"entries [{start}, {end}) are not all stored", code="not_found")
        return rows

    def _fetch_leaves(self, start: int, end: int) -> list[bytes]:
        rows = self._query(
            self._q("SELECT data FROM {s}.entries WHERE idx >= %s AND idx < %s ORDER BY idx"),
            (start, end),
        )
        return [bytes(r[0]) for r in rows]

    def _fetch_nodes(self, level: int, start: int, end: int) -> list[bytes]:
        rows = self._query(
            self._q(
                "SELECT hash FROM {s}.nodes "
                "WHERE level = %s AND idx >= %s AND idx < %s ORDER BY idx"
            ),
            (level, start, end),
        )
        return [bytes(r[0]) for r in rows]

    def node_reader(self) -> NodeReader:
        return TreeReader(
            self._fetch_leaves, self._fetch_nodes, self.hash_alg, self._fetch_blocks, self._cache
        )

    def _fetch_blocks(self, blocks: list[tuple[int, int]]) -> dict[tuple[int, int], list[bytes]]:
        """Every requested block in ONE query (a proof costs one round trip, not ~log n)."""
        leaf_lo = [b * BLOCK for lv, b in blocks if lv == 0]
        node_lv = [lv for lv, _ in blocks if lv > 0]
        node_lo = [b * BLOCK for lv, b in blocks if lv > 0]
        rows = self._query(
            self._q(
                "SELECT 0, e.idx, e.data FROM {s}.entries e "
                "JOIN unnest(%s::bigint[]) AS r(lo) ON e.idx >= r.lo AND e.idx < r.lo + %s "
                "UNION ALL "
                "SELECT n.level, n.idx, n.hash FROM {s}.nodes n "
                "JOIN unnest(%s::smallint[], %s::bigint[]) AS r(level, lo) "
                "ON n.level = r.level AND n.idx >= r.lo AND n.idx < r.lo + %s "
                "ORDER BY 1, 2"
            ),
            (leaf_lo, BLOCK, node_lv, node_lo, BLOCK),
        )
        out: dict[tuple[int, int], list[bytes]] = {key: [] for key in blocks}
        for level, idx, value in rows:
            out.setdefault((int(level), int(idx) // BLOCK), []).append(bytes(value))
        return out

    def _find_sql(self) -> sql.Composed:
        """Entries under any of an array of digest prefixes: index probes only, whatever the
        statistics say (OFFSET 0 keeps the planner from turning the probe into a hash join
        over every entry, which it would do on a freshly bulk-loaded table)."""
        return self._q(
            "SELECT e.idx, e.data FROM {s}.digests d CROSS JOIN LATERAL "
            "(SELECT x.idx, x.data FROM {s}.entries x WHERE x.idx = d.idx OFFSET 0) e "
            "WHERE d.prefix = ANY(%s::bigint[]) ORDER BY e.idx"
        )

    def find_digest(self, digest: bytes) -> list[tuple[int, bytes]]:
        if len(digest) < PREFIX_BYTES:
            raise StoreError("a credential digest must be at least 8 bytes")
        rows = self._query(self._find_sql(), ([digest_prefix(digest)],))
        return [(int(i), bytes(d)) for i, d in rows]

    def keys(self, kind: str) -> list[KeyRecord]:
        rows = self._query(
            self._q(
                "SELECT kind, thumbprint, subject, jwk, idx, name FROM {s}.admitted "
                "WHERE kind = %s ORDER BY idx"
            ),
            (kind,),
        )
        return [KeyRecord(k, t, s, j, int(i), n) for k, t, s, j, i, n in rows]

    def key(self, kind: str, thumbprint: str) -> KeyRecord | None:
        rows = self._query(
            self._q(
                "SELECT kind, thumbprint, subject, jwk, idx, name FROM {s}.admitted "
                "WHERE kind = %s AND thumbprint = %s"
            ),
            (kind, thumbprint),
        )
        if not rows:
            return None
        k, t, s, j, i, n = rows[0]
        return KeyRecord(k, t, s, j, int(i), n)

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
            with self._pool.connection() as conn, conn.transaction():
                return self._append_locked(conn, entries, sign, keys, nonce, precheck)

        return self._guard(run)

    def _append_locked(
        self,
        conn: psycopg.Connection[Any],
        entries: Sequence[NewEntry],
        sign: CheckpointSigner,
        keys: Sequence[KeyRecord],
        nonce: Nonce | None,
        precheck: Precheck | None,
    ) -> AppendResult:
        row = conn.execute(
            self._q("SELECT size, compact FROM {s}.tree_state WHERE id = 0 FOR UPDATE")
        ).fetchone()
        if row is None:
            raise StoreError("the store has no tree state")
        size, compact = int(row[0]), bytes(row[1])
        if nonce is not None:
            conn.execute(self._q("DELETE FROM {s}.seen_jti WHERE expires < %s"), (nonce.now,))
            cur = conn.execute(
                self._q("INSERT INTO {s}.seen_jti VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"),
                (nonce.issuer, nonce.jti, nonce.expires),
            )
            if cur.rowcount != 1:
                raise NonceReused()
        if precheck is not None:
            find_many = self._find_sql()

            def lookup(digests: Sequence[bytes]) -> list[tuple[int, bytes]]:
                prefixes = sorted({digest_prefix(d) for d in digests})
                rows = conn.execute(find_many, (prefixes,)).fetchall()
                return [(int(i), bytes(d)) for i, d in rows]

            precheck(lookup)
        plan = plan_batch(size, compact, entries, keys, self.hash_alg, self._width)
        with conn.cursor() as cur:
            if plan.entry_rows:
                with cur.copy(self._q("COPY {s}.entries (idx, data) FROM STDIN")) as cp:
                    for e in plan.entry_rows:
                        cp.write_row(e)
            if plan.node_rows:
                with cur.copy(self._q("COPY {s}.nodes (level, idx, hash) FROM STDIN")) as cp:
                    for n in plan.node_rows:
                        cp.write_row(n)
            if plan.digest_rows:
                with cur.copy(self._q("COPY {s}.digests (prefix, idx) FROM STDIN")) as cp:
                    for d in plan.digest_rows:
                        cp.write_row(d)
            for k in plan.key_rows:
                cur.execute(
                    self._q(
                        "INSERT INTO {s}.admitted VALUES (%s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING"
                    ),
                    (k.kind, k.thumbprint, k.subject, k.name, k.jwk, k.position),
                )
                if cur.rowcount != 1:
                    raise StoreError("that key is already admitted", code="already_admitted")
        note = sign(plan.size, plan.root)
        conn.execute(
            self._q(
                "UPDATE {s}.tree_state SET size = %s, root = %s, compact = %s, signed_note = %s "
                "WHERE id = 0"
            ),
            (plan.size, plan.root, plan.compact, note),
        )
        return AppendResult(
            size, len(entries), plan.size, plan.root, note, list(range(size, plan.size))
        )

    def save_cosigned(self, size: int, note: str) -> bool:
        def run() -> bool:
            with self._pool.connection() as conn:
                cur = conn.execute(
                    self._q(
                        "UPDATE {s}.tree_state SET cosigned_size = %s, cosigned_note = %s "
                        "WHERE id = 0 AND size >= %s "
                        "AND (cosigned_size IS NULL OR cosigned_size <= %s)"
                    ),
                    (size, note, size, size),
                )
                return cur.rowcount == 1

        return self._guard(run)

    def drop(self) -> None:
        """Remove the whole schema (tests, benchmarks)."""

        def run() -> None:
            with self._pool.connection() as conn:
                conn.execute(self._q("DROP SCHEMA IF EXISTS {s} CASCADE"))

        self._guard(run)

    def stats(self) -> dict[str, Any]:
        rows = self._query(
            sql.SQL(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'"
            ).format(),
            (self.schema,),
        )
        return {"bytes": int(rows[0][0])}
