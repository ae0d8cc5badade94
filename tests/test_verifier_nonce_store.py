"""Single-use nonces, the same suite over SQLite, PostgreSQL and Redis (real servers).

PostgreSQL: 127.0.0.1:5432, database ``test`` (override with SELFCARRY_TEST_POSTGRES_URL);
Redis: 127.0.0.1:6379 (override with SELFCARRY_TEST_REDIS_URL). A missing server
skips its tests with the reason shown, except when ``CI`` is set: then it fails.
Each test gets its own schema or key prefix, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from verifier.errors import (
    DuplicateNonce,
    NonceExpired,
    NonceReplayed,
    NonceStoreError,
    RequestError,
    UnknownNonce,
    UnknownRequest,
)
from verifier.nonce_store import (
    NonceRecord,
    NonceStore,
    PostgresNonceStore,
    RedisNonceStore,
    SqliteNonceStore,
    open_nonce_store,
)

PG_URLS = (
    [os.environ["SELFCARRY_TEST_POSTGRES_URL"]]
    if os.environ.get("SELFCARRY_TEST_POSTGRES_URL")
    else ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]
)
REDIS_URL = os.environ.get("SELFCARRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NOW = 1_770_000_000
BACKENDS = ["sqlite", "postgres", "redis"]


def unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so a missing server is a failure)")
    pytest.skip(message)


def pg_url() -> str:
    psycopg = pytest.importorskip("psycopg")
    last: BaseException | None = None
    for url in PG_URLS:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            last = exc
    assert last is not None
    unavailable("PostgreSQL (database test)", last)
    raise AssertionError("unreachable")


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def drop_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


Factory = Callable[[], NonceStore]


@pytest.fixture(params=BACKENDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Makes independent store instances (own connections/pools) over one shared backend."""
    opened: list[NonceStore] = []
    kind = request.param
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if kind == "sqlite":
        path = tmp_path / "verifier" / "nonces.sqlite3"

        def make() -> NonceStore:
            return SqliteNonceStore(path)
    elif kind == "postgres":
        request.applymarker(pytest.mark.postgres)
        url = pg_url()
        schema = f"nonce_test_{secrets.token_hex(6)}"

        def make() -> NonceStore:
            return PostgresNonceStore(url, schema=schema, max_size=4, connect_timeout_s=5)

        def cleanup() -> None:
            drop_schema(url, schema)
    else:
        request.applymarker(pytest.mark.redis)
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=3, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            unavailable("Redis", exc)
        prefix = f"selfcarry-test:{secrets.token_hex(6)}:"

        def make() -> NonceStore:
            return RedisNonceStore(REDIS_URL, prefix=prefix)

        def cleanup() -> None:
            drop_prefix(prefix)

    def tracked() -> NonceStore:
        store = make()
        opened.append(store)
        return store

    try:
        yield tracked
    finally:
        for store in opened:
            store.close()
        cleanup()


@pytest.fixture
def store(factory: Factory) -> NonceStore:
    return factory()


def fresh() -> tuple[str, str]:
    return secrets.token_urlsafe(32), secrets.token_urlsafe(16)


# --- the contract ------------------------------------------------------------------------------


def test_is_a_nonce_store(store: NonceStore) -> None:
    assert isinstance(store, NonceStore)


def test_issue_then_consume_once(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, '{"id": "x"}')
    record = store.consume(nonce, NOW)
    assert record == NonceRecord(nonce, rid, NOW + 600, '{"id": "x"}', NOW)
    with pytest.raises(NonceReplayed) as err:
        store.consume(nonce, NOW + 1)
    assert err.value.code == "nonce_replayed"
    assert store.get(rid).consumed_at == NOW


def test_unknown_nonce(store: NonceStore) -> None:
    with pytest.raises(UnknownNonce) as err:
        store.consume(secrets.token_urlsafe(32), NOW)
    assert err.value.code == "unknown_nonce"


@pytest.mark.parametrize("bad", ["", "has space", "ü", "x" * 600, None, 5])
def test_malformed_nonce_is_unknown_not_a_crash(store: NonceStore, bad: Any) -> None:
    with pytest.raises(UnknownNonce):
        store.consume(bad, NOW)


def test_expired(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, "{}")
    with pytest.raises(NonceExpired) as err:
        store.consume(nonce, NOW + 600)  # expires_at itself is already too late
    assert err.value.code == "nonce_expired"
    with pytest.raises(NonceExpired):
        store.consume(nonce, NOW + 10_000)
    # an expired nonce stays unused: it is not "replayed"
    assert store.get(rid).consumed_at is None


def test_last_valid_second(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, "{}")
    assert store.consume(nonce, NOW + 599).request_id == rid


def test_replay_after_expiry_is_still_a_replay(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, "{}")
    store.consume(nonce, NOW)
    with pytest.raises(NonceReplayed):
        store.consume(nonce, NOW + 3600)


def test_duplicates_are_refused(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, "{}")
    with pytest.raises(DuplicateNonce) as err:
        store.issue(nonce, "other-id", NOW + 600, "{}")
    assert err.value.code == "duplicate_nonce"
    with pytest.raises(DuplicateNonce):
        store.issue(secrets.token_urlsafe(32), rid, NOW + 600, "{}")
    # the original is untouched
    assert store.consume(nonce, NOW).request_id == rid


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("bad nonce", "rid", NOW, "{}"), RequestError),
        (("n", "bad/id", NOW, "{}"), UnknownRequest),
        (("n", "rid", -1, "{}"), RequestError),
        (("n", "rid", True, "{}"), RequestError),
        (("n", "rid", NOW, None), RequestError),
        (("n", "rid", NOW, "x" * (256 * 1024 + 1)), RequestError),
    ],
)
def test_issue_validates(store: NonceStore, args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        store.issue(*args)


def test_get_and_results(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, '{"request": "r"}')
    record = store.get(rid)
    assert (record.nonce, record.request_json, record.consumed_at) == (nonce, '{"request": "r"}', None)
    assert store.result(rid) is None  # nothing yet: the counter page keeps polling
    store.record_result(rid, '{"verified": false}')
    store.record_result(rid, '{"verified": true}')  # the latest result wins
    assert store.result(rid) == '{"verified": true}'
    # utf-8 round trip
    store.record_result(rid, '{"reason": "通过"}')
    assert store.result(rid) == '{"reason": "通过"}'


def test_unknown_request(store: NonceStore) -> None:
    for call in (
        lambda: store.get("no-such-request"),
        lambda: store.result("no-such-request"),
        lambda: store.record_result("no-such-request", "{}"),
        lambda: store.get("../etc/passwd"),
    ):
        with pytest.raises(UnknownRequest) as err:
            call()
        assert err.value.code == "unknown_request"


def test_result_size_limit(store: NonceStore) -> None:
    nonce, rid = fresh()
    store.issue(nonce, rid, NOW + 600, "{}")
    with pytest.raises(RequestError):
        store.record_result(rid, "x" * (1024 * 1024 + 1))


def test_purge(store: NonceStore) -> None:
    old, old_id = fresh()
    new, new_id = fresh()
    store.issue(old, old_id, NOW - 100, "{}")
    store.issue(new, new_id, NOW + 600, "{}")
    removed = store.purge_expired(NOW)
    if isinstance(store, RedisNonceStore):
        assert removed == 0  # key TTLs do this in Redis
    else:
        assert removed == 1
        with pytest.raises(UnknownRequest):
            store.get(old_id)
    assert store.get(new_id).nonce == new


# --- several verifier instances ---------------------------------------------------------------


def test_instances_share_state(factory: Factory) -> None:
    a, b = factory(), factory()
    nonce, rid = fresh()
    a.issue(nonce, rid, NOW + 600, "{}")
    assert b.get(rid).nonce == nonce
    b.record_result(rid, '{"ok": 1}')
    assert a.result(rid) == '{"ok": 1}'


@pytest.mark.parametrize("rounds", [12])
def test_race_exactly_one_consumer_wins(factory: Factory, rounds: int) -> None:
    """Two instances (separate connections/pools), eight threads, one nonce: one winner."""
    a, b = factory(), factory()
    threads = 8
    for _ in range(rounds):
        nonce, rid = fresh()
        a.issue(nonce, rid, NOW + 600, "{}")
        barrier = threading.Barrier(threads)

        def attempt(i: int, nonce: str = nonce, barrier: threading.Barrier = barrier) -> str:
            barrier.wait(timeout=30)
            try:
                (a if i % 2 else b).consume(nonce, NOW)
            except NonceReplayed:
                return "replayed"
            return "won"

        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(attempt, range(threads)))
        assert outcomes.count("won") == 1, outcomes
        assert outcomes.count("replayed") == threads - 1
        # a replay through the other instance is refused as well
        with pytest.raises(NonceReplayed):
            b.consume(nonce, NOW + 1)
        with pytest.raises(NonceReplayed):
            a.consume(nonce, NOW + 1)


# --- opening by URL -------------------------------------------------------------------------------


def test_open_sqlite_by_path(tmp_path: Path) -> None:
    for target in (tmp_path / "a.sqlite3", str(tmp_path / "b.sqlite3"), f"sqlite://{tmp_path}/c.sqlite3"):
        store = open_nonce_store(target)
        assert isinstance(store, SqliteNonceStore)
        nonce, rid = fresh()
        store.issue(nonce, rid, NOW + 1, "{}")
        assert store.consume(nonce, NOW).nonce == nonce
    assert (tmp_path / "c.sqlite3").is_file()


@pytest.mark.postgres
def test_open_postgres_by_url() -> None:
    url = pg_url()
    schema = f"nonce_test_{secrets.token_hex(6)}"
    store = open_nonce_store(url, schema=schema)
    try:
        assert isinstance(store, PostgresNonceStore) and store.schema == schema
    finally:
        store.close()
        drop_schema(url, schema)


@pytest.mark.redis
def test_open_redis_by_url() -> None:
    prefix = f"selfcarry-test:{secrets.token_hex(6)}:"
    try:
        store = open_nonce_store(REDIS_URL, prefix=prefix)
    except NonceStoreError as exc:
        unavailable("Redis", exc)
    try:
        assert isinstance(store, RedisNonceStore) and store.prefix == prefix
    finally:
        store.close()
        drop_prefix(prefix)


@pytest.mark.parametrize("target", ["mysql://localhost/db", "", 5])
def test_open_refuses_unknown_targets(target: Any) -> None:
    with pytest.raises(NonceStoreError) as err:
        open_nonce_store(target)
    assert err.value.code == "invalid_nonce_store"


def test_unreachable_servers_are_named_errors() -> None:
    with pytest.raises(NonceStoreError) as err:
        PostgresNonceStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=1)
    assert err.value.code == "nonce_store_unavailable"
    with pytest.raises(NonceStoreError) as err:
        RedisNonceStore("redis://127.0.0.1:1/0", timeout_s=1)
    assert err.value.code == "nonce_store_unavailable"


def test_bad_names_are_refused() -> None:
    with pytest.raises(NonceStoreError) as err:
        PostgresNonceStore("postgresql://x/y", schema='x"; DROP TABLE y; --')
    assert err.value.code == "invalid_schema"
    with pytest.raises(NonceStoreError) as err:
        RedisNonceStore("redis://x", prefix="has space")
    assert err.value.code == "invalid_prefix"


def test_unusable_sqlite_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NonceStoreError) as err:
        SqliteNonceStore(blocker / "nonces.sqlite3")
    assert err.value.code == "nonce_store_unavailable"
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(NonceStoreError):
        SqliteNonceStore(corrupt)
