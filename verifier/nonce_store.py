"""Single-use nonces for presentation requests, shared by every verifier instance.

A nonce binds a presentation (its KB-JWT) to one request. It must be accepted
once, ever, even when several verifier processes serve the same bank: so
:meth:`NonceStore.consume` is one atomic step in the backend itself (an
``UPDATE … WHERE consumed_at IS NULL RETURNING`` in SQL, a Lua script in Redis)
and exactly one concurrent caller can win. Losers learn why, by name:
``unknown_nonce``, ``nonce_expired`` or ``nonce_replayed``.

The store also keeps each request's JSON (so the ``request_uri`` endpoint can
serve the signed Request Object) and the verification result the counter page
polls for. Backends: SQLite (the default, one file under the verifier's home),
PostgreSQL and Redis for banks running several instances.

Call :meth:`~NonceStore.consume` only after the KB-JWT signature verified, so
that nobody can burn a customer's nonce with a forged presentation.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, LiteralString, Protocol, TypeVar, runtime_checkable

from .errors import (
    DuplicateNonce,
    NonceExpired,
    NonceReplayed,
    NonceStoreError,
    RequestError,
    UnknownNonce,
    UnknownRequest,
)

__all__ = [
    "DEFAULT_PG_SCHEMA",
    "DEFAULT_REDIS_PREFIX",
    "DEFAULT_SQLITE_NAME",
    "NonceRecord",
    "NonceStore",
    "PostgresNonceStore",
    "RedisNonceStore",
    "SqliteNonceStore",
    "open_nonce_store",
]

DEFAULT_SQLITE_NAME: Final = "nonces.sqlite3"
DEFAULT_PG_SCHEMA: Final = "selfcarry_verifier"
DEFAULT_REDIS_PREFIX: Final = "selfcarry:verifier:"
#: Redis keeps a record this long after its request expired, so a late replay is
#: still named ``nonce_replayed``/``nonce_expired`` rather than ``unknown_nonce``.
REDIS_RETENTION_S: Final = 7 * 24 * 3600
MAX_REQUEST_JSON: Final = 256 * 1024
MAX_RESULT_JSON: Final = 1024 * 1024
_NONCE = re.compile(r"[A-Za-z0-9._~-]{1,512}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PREFIX = re.compile(r"[A-Za-z0-9:_.{}-]{1,128}")
_T = TypeVar("_T")


@dataclass(frozen=True)
class NonceRecord:
    """One issued request: its nonce, id, expiry (epoch seconds), JSON, and use."""

    nonce: str
    request_id: str
    expires_at: int
    request_json: str
    consumed_at: int | None = None


@runtime_checkable
class NonceStore(Protocol):
    """What every backend offers; all methods are safe across threads and processes."""

    def issue(self, nonce: str, request_id: str, expires_at: int, request_json: str) -> None:
        """Remember a new request; ``duplicate_nonce`` if the nonce or id exists."""

    def consume(self, nonce: str, now: int) -> NonceRecord:
        """Use the nonce, atomically; only one caller ever gets the record back."""

    def get(self, request_id: str) -> NonceRecord:
        """The request with that id (``unknown_request`` if none)."""

    def record_result(self, request_id: str, result_json: str) -> None:
        """Store (or replace) the verification result of a request."""

    def result(self, request_id: str) -> str | None:
        """The stored result, ``None`` while there is none yet."""

    def purge_expired(self, before: int) -> int:
        """Forget requests that expired before ``before``; returns how many."""

    def close(self) -> None:
        """Release connections."""


# --- input checks shared by every backend ------------------------------------------------


def _check_issue(nonce: Any, request_id: Any, expires_at: Any, request_json: Any) -> None:
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise RequestError("a nonce is 1-512 characters from A-Z a-z 0-9 - . _ ~")
    _check_request_id(request_id)
    if not isinstance(expires_at, int) or isinstance(expires_at, bool) or expires_at < 0:
        raise RequestError("expires_at is a non-negative integer (epoch seconds)")
    if not isinstance(request_json, str) or len(request_json.encode("utf-8")) > MAX_REQUEST_JSON:
        raise RequestError(f"the request JSON is a string of at most {MAX_REQUEST_JSON} bytes")


def _check_request_id(request_id: Any) -> str:
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise UnknownRequest("a request id is 1-128 characters from A-Z a-z 0-9 _ -")
    return request_id


def _check_nonce_for_use(nonce: Any) -> str:
    # A malformed nonce cannot have been issued by us: that is "unknown", not a crash.
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise UnknownNonce()
    return nonce


def _check_now(now: Any) -> int:
    if not isinstance(now, int) or isinstance(now, bool):
        raise RequestError("now is an integer (epoch seconds)")
    return now


def _check_result(result_json: Any) -> str:
    if not isinstance(result_json, str) or len(result_json.encode("utf-8")) > MAX_RESULT_JSON:
        raise RequestError(f"a result is a JSON string of at most {MAX_RESULT_JSON} bytes")
    return result_json


def _refusal(consumed_at: Any, expires_at: Any, now: int) -> Exception:
    """Why a consume of an existing nonce did not succeed, from its row after the attempt."""
    if consumed_at is not None:
        return NonceReplayed()
    if int(expires_at) <= now:
        return NonceExpired()
    return NonceStoreError("the nonce could not be consumed; try again")  # pragma: no cover


# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_DDL = (
    "CREATE TABLE IF NOT EXISTS nonces ("
    " nonce TEXT PRIMARY KEY,"
    " request_id TEXT NOT NULL UNIQUE,"
    " expires_at INTEGER NOT NULL,"
    " request_json TEXT NOT NULL,"
    " consumed_at INTEGER,"
    " result_json TEXT)",
    "CREATE INDEX IF NOT EXISTS nonces_expires_at ON nonces (expires_at)",
)


class SqliteNonceStore:
    """The default store: one SQLite file (WAL), shared by every process on this machine.

    Each thread keeps its own connection (closing the last connection of a WAL
    database checkpoints and removes the WAL, which would cost milliseconds per call).
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self._timeout = timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connection()
            conn.execute("PRAGMA journal_mode=WAL")
            for stmt in _SQLITE_DDL:
                conn.execute(stmt)
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise NonceStoreError(f"cannot open the nonce database {self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # used only by the thread that opened it; check_same_thread=False lets close() end it
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=FULL")  # a consumed nonce survives a power cut
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], _T], *, write: bool = False) -> _T:
        try:
            conn = self._connection()
            if not write:
                return fn(conn)
            # BEGIN IMMEDIATE takes the write lock up front (waiting on busy_timeout), so
            # a WAL snapshot can never go stale between our read and our write.
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        except sqlite3.IntegrityError as exc:
            raise DuplicateNonce() from exc
        except sqlite3.Error as exc:
            self._reset()
            raise NonceStoreError(f"SQLite: {exc}") from exc

    def _reset(self) -> None:
        """After a failure, never reuse a connection that may be inside a transaction."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def issue(self, nonce: str, request_id: str, expires_at: int, request_json: str) -> None:
        _check_issue(nonce, request_id, expires_at, request_json)
        self._run(
            lambda c: c.execute(
                "INSERT INTO nonces (nonce, request_id, expires_at, request_json) "
                "VALUES (?, ?, ?, ?)",
                (nonce, request_id, expires_at, request_json),
            ),
            write=True,
        )

    def consume(self, nonce: str, now: int) -> NonceRecord:
        nonce = _check_nonce_for_use(nonce)
        now = _check_now(now)

        def run(c: sqlite3.Connection) -> NonceRecord | Exception:
            rows = c.execute(
                "UPDATE nonces SET consumed_at = ? "
                "WHERE nonce = ? AND consumed_at IS NULL AND expires_at > ? "
                "RETURNING request_id, expires_at, request_json",
                (now, nonce, now),
            ).fetchall()
            if rows:
                row = rows[0]
                return NonceRecord(nonce, row[0], int(row[1]), row[2], now)
            seen = c.execute(
                "SELECT consumed_at, expires_at FROM nonces WHERE nonce = ?", (nonce,)
            ).fetchall()
            if not seen:
                return UnknownNonce()
            return _refusal(seen[0][0], seen[0][1], now)

        outcome = self._run(run, write=True)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def get(self, request_id: str) -> NonceRecord:
        _check_request_id(request_id)
        rows = self._run(
            lambda c: c.execute(
                "SELECT nonce, request_id, expires_at, request_json, consumed_at "
                "FROM nonces WHERE request_id = ?",
                (request_id,),
            ).fetchall()
        )
        if not rows:
            raise UnknownRequest()
        row = rows[0]
        return NonceRecord(row[0], row[1], int(row[2]), row[3], row[4])

    def record_result(self, request_id: str, result_json: str) -> None:
        """Store a verdict for the counter page. Unlike consuming a nonce, this need not
        survive a power cut (the nonce stays consumed; the page would show no result), so
        it commits without waiting for the disk: one fsync saved on every verification."""
        _check_request_id(request_id)
        _check_result(result_json)
        conn = self._connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            changed = self._run(
                lambda c: (
                    c.execute(
                        "UPDATE nonces SET result_json = ? WHERE request_id = ?",
                        (result_json, request_id),
                    ).rowcount
                ),
                write=True,
            )
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA synchronous=FULL")
        if changed == 0:
            raise UnknownRequest()

    def result(self, request_id: str) -> str | None:
        _check_request_id(request_id)
        rows = self._run(
            lambda c: c.execute(
                "SELECT result_json FROM nonces WHERE request_id = ?", (request_id,)
            ).fetchall()
        )
        if not rows:
            raise UnknownRequest()
        value: str | None = rows[0][0]
        return value

    def purge_expired(self, before: int) -> int:
        before = _check_now(before)
        count: int = self._run(
            lambda c: c.execute("DELETE FROM nonces WHERE expires_at < ?", (before,)).rowcount,
            write=True,
        )
        return count

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SqliteNonceStore({str(self.path)!r})"


# --- PostgreSQL ------------------------------------------------------------------------------

_PG_DDL = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE IF NOT EXISTS {s}.nonces ("
    " nonce text PRIMARY KEY,"
    " request_id text NOT NULL UNIQUE,"
    " expires_at bigint NOT NULL,"
    " request_json text NOT NULL,"
    " consumed_at bigint,"
    " result_json text)",
    "CREATE INDEX IF NOT EXISTS nonces_expires_at ON {s}.nonces (expires_at)",
)


class PostgresNonceStore:
    """The store for banks running several verifier instances against one PostgreSQL."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = DEFAULT_PG_SCHEMA,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout_s: float = 10.0,
    ) -> None:
        try:
            import psycopg
            from psycopg import sql
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError as exc:  # pragma: no cover - the 'postgres' extra is not installed
            raise NonceStoreError(
                "PostgreSQL support needs the 'postgres' extra (psycopg, psycopg-pool)"
            ) from exc
        if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
            raise NonceStoreError(
                "a schema name is 1-63 lowercase letters, digits or '_', starting with a letter",
                code="invalid_schema",
            )
        self.schema = schema
        self._sql = sql
        self._ident = sql.Identifier(schema)
        self._errors: tuple[type[Exception], ...] = (psycopg.Error, PoolTimeout)
        try:
            self._pool = ConnectionPool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout_s))},
                timeout=connect_timeout_s,
                open=False,
            )
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except self._errors as exc:
            raise NonceStoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            self._run(self._init_schema)
        except BaseException:
            self._pool.close()
            raise

    def _init_schema(self, conn: Any) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.schema,))
            for stmt in _PG_DDL:
                conn.execute(self._q(stmt))

    def _q(self, text: LiteralString) -> Any:
        """``text`` with ``{s}`` bound to the quoted schema name (never string-formatted)."""
        return self._sql.SQL(text).format(s=self._ident)

    def _run(self, fn: Callable[[Any], _T]) -> _T:
        import psycopg

        try:
            with self._pool.connection() as conn:
                return fn(conn)
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateNonce() from exc
        except self._errors as exc:
            raise NonceStoreError(f"PostgreSQL: {exc}") from exc

    def issue(self, nonce: str, request_id: str, expires_at: int, request_json: str) -> None:
        _check_issue(nonce, request_id, expires_at, request_json)
        self._run(
            lambda c: c.execute(
                self._q(
                    "INSERT INTO {s}.nonces (nonce, request_id, expires_at, request_json) "
                    "VALUES (%s, %s, %s, %s)"
                ),
                (nonce, request_id, expires_at, request_json),
            )
        )

    def consume(self, nonce: str, now: int) -> NonceRecord:
        nonce = _check_nonce_for_use(nonce)
        now = _check_now(now)

        def run(c: Any) -> NonceRecord | Exception:
            # Row locking makes concurrent UPDATEs of one row serial; after the
            # winner commits, the others re-check "consumed_at IS NULL" and match nothing.
            rows = c.execute(
                self._q(
                    "UPDATE {s}.nonces SET consumed_at = %s "
                    "WHERE nonce = %s AND consumed_at IS NULL AND expires_at > %s "
                    "RETURNING request_id, expires_at, request_json"
                ),
                (now, nonce, now),
            ).fetchall()
            if rows:
                row = rows[0]
                return NonceRecord(nonce, row[0], int(row[1]), row[2], now)
            seen = c.execute(
                self._q("SELECT consumed_at, expires_at FROM {s}.nonces WHERE nonce = %s"),
                (nonce,),
            ).fetchone()
            if seen is None:
                return UnknownNonce()
            return _refusal(seen[0], seen[1], now)

        outcome = self._run(run)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def get(self, request_id: str) -> NonceRecord:
        _check_request_id(request_id)
        row = self._run(
            lambda c: c.execute(
                self._q(
                    "SELECT nonce, request_id, expires_at, request_json, consumed_at "
                    "FROM {s}.nonces WHERE request_id = %s"
                ),
                (request_id,),
            ).fetchone()
        )
        if row is None:
            raise UnknownRequest()
        return NonceRecord(
            row[0], row[1], int(row[2]), row[3], None if row[4] is None else int(row[4])
        )

    def record_result(self, request_id: str, result_json: str) -> None:
        _check_request_id(request_id)
        _check_result(result_json)
        changed: int = self._run(
            lambda c: (
                c.execute(
                    self._q("UPDATE {s}.nonces SET result_json = %s WHERE request_id = %s"),
                    (result_json, request_id),
                ).rowcount
            )
        )
        if changed == 0:
            raise UnknownRequest()

    def result(self, request_id: str) -> str | None:
        _check_request_id(request_id)
        row = self._run(
            lambda c: c.execute(
                self._q("SELECT result_json FROM {s}.nonces WHERE request_id = %s"), (request_id,)
            ).fetchone()
        )
        if row is None:
            raise UnknownRequest()
        value: str | None = row[0]
        return value

    def purge_expired(self, before: int) -> int:
        before = _check_now(before)
        count: int = self._run(
            lambda c: (
                c.execute(
                    self._q("DELETE FROM {s}.nonces WHERE expires_at < %s"), (before,)
                ).rowcount
            )
        )
        return count

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresNonceStore(schema={self.schema!r})"


# --- Redis -----------------------------------------------------------------------------------

# KEYS: nonce key, request key. ARGV: nonce, request_id, expires_at, request_json, ttl.
_REDIS_ISSUE = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'request_id', ARGV[2], 'expires_at', ARGV[3], 'request_json', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
return 1
"""
# KEYS: nonce key. ARGV: now. One script = one atomic step: exactly one caller sees 'ok'.
_REDIS_CONSUME = """
local f = redis.call('HMGET', KEYS[1], 'request_id', 'expires_at', 'request_json', 'consumed_at')
if not f[1] then return {'unknown'} end
if f[4] then return {'replayed'} end
if tonumber(f[2]) <= tonumber(ARGV[1]) then return {'expired'} end
redis.call('HSET', KEYS[1], 'consumed_at', ARGV[1])
return {'ok', f[1], f[2], f[3]}
"""
# KEYS: request key, result key. ARGV: result_json.
_REDIS_RESULT = """
local ttl = redis.call('TTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ttl)
else
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
"""


class RedisNonceStore:
    """The store on Redis: records are hashes that expire on their own after retention."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_REDIS_PREFIX,
        timeout_s: float = 5.0,
        retention_s: int = REDIS_RETENTION_S,
    ) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover
            raise NonceStoreError("Redis support needs the 'redis' package") from exc
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise NonceStoreError(
                "a Redis key prefix is 1-128 characters from A-Z a-z 0-9 : _ . { } -",
                code="invalid_prefix",
            )
        self.prefix = prefix
        self._retention = retention_s
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                decode_responses=True,
            )
            self._client.ping()
        except (*self._errors, ValueError) as exc:
            raise NonceStoreError(f"cannot connect to Redis: {exc}") from exc
        self._issue = self._client.register_script(_REDIS_ISSUE)
        self._consume = self._client.register_script(_REDIS_CONSUME)
        self._result = self._client.register_script(_REDIS_RESULT)

    def _key(self, kind: str, value: str) -> str:
        return f"{self.prefix}{kind}:{value}"

    def _run(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except self._errors as exc:
            raise NonceStoreError(f"Redis: {exc}") from exc

    def issue(self, nonce: str, request_id: str, expires_at: int, request_json: str) -> None:
        _check_issue(nonce, request_id, expires_at, request_json)
        ttl = max(expires_at - int(time.time()), 0) + self._retention
        keys = [self._key("nonce", nonce), self._key("request", request_id)]
        args: list[str | int] = [nonce, request_id, expires_at, request_json, ttl]
        if not self._run(lambda: self._issue(keys=keys, args=args)):
            raise DuplicateNonce()

    def consume(self, nonce: str, now: int) -> NonceRecord:
        nonce = _check_nonce_for_use(nonce)
        now = _check_now(now)
        reply = self._run(lambda: self._consume(keys=[self._key("nonce", nonce)], args=[now]))
        status = reply[0] if isinstance(reply, list) and reply else None
        if status == "ok":
            return NonceRecord(nonce, reply[1], int(reply[2]), reply[3], now)
        if status == "unknown":
            raise UnknownNonce()
        if status == "replayed":
            raise NonceReplayed()
        if status == "expired":
            raise NonceExpired()
        raise NonceStoreError(f"unexpected reply from Redis: {reply!r}")

    def get(self, request_id: str) -> NonceRecord:
        _check_request_id(request_id)
        found: Any = self._run(lambda: self._client.get(self._key("request", request_id)))
        if found is None:
            raise UnknownRequest()
        nonce = str(found)
        fields: Any = self._run(
            lambda: self._client.hmget(
                self._key("nonce", nonce), ["expires_at", "request_json", "consumed_at"]
            )
        )
        if fields[0] is None or fields[1] is None:
            raise UnknownRequest()
        consumed = None if fields[2] is None else int(fields[2])
        return NonceRecord(nonce, request_id, int(fields[0]), str(fields[1]), consumed)

    def record_result(self, request_id: str, result_json: str) -> None:
        _check_request_id(request_id)
        _check_result(result_json)
        keys = [self._key("request", request_id), self._key("result", request_id)]
        if not self._run(lambda: self._result(keys=keys, args=[result_json])):
            raise UnknownRequest()

    def result(self, request_id: str) -> str | None:
        _check_request_id(request_id)
        request_key, result_key = self._key("request", request_id), self._key("result", request_id)

        def run() -> list[Any]:
            pipe = self._client.pipeline()
            pipe.exists(request_key)
            pipe.get(result_key)
            return list(pipe.execute())

        exists, value = self._run(run)
        if not exists:
            raise UnknownRequest()
        return None if value is None else str(value)

    def purge_expired(self, before: int) -> int:
        """Redis forgets on its own (key TTLs), so there is nothing to do."""
        _check_now(before)
        return 0

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._client.close()

    def __repr__(self) -> str:
        return f"RedisNonceStore(prefix={self.prefix!r})"


# --- choosing a backend ------------------------------------------------------------------------


def open_nonce_store(
    target: str | Path, *, schema: str | None = None, prefix: str | None = None
) -> NonceStore:
    """The store a URL or path names.

    ``postgresql://…`` / ``postgres://…`` → PostgreSQL (``schema``),
    ``redis://…`` / ``rediss://…`` / ``unix://…`` → Redis (``prefix``),
    ``sqlite:///path`` or a plain path → SQLite.
    """
    if isinstance(target, Path):
        return SqliteNonceStore(target)
    if not isinstance(target, str) or not target:
        raise NonceStoreError("a nonce store is a URL or a path", code="invalid_nonce_store")
    scheme, sep, rest = target.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresNonceStore(target, schema=schema or DEFAULT_PG_SCHEMA)
    if scheme in ("redis", "rediss", "unix"):
        return RedisNonceStore(target, prefix=prefix or DEFAULT_REDIS_PREFIX)
    if scheme == "sqlite":
        return SqliteNonceStore(Path(rest))
    if sep:
        raise NonceStoreError(
            f"unsupported nonce store scheme {scheme!r} (postgresql, redis or a path)",
            code="invalid_nonce_store",
        )
    return SqliteNonceStore(Path(target))
