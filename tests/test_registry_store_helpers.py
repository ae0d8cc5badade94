"""Shared helpers for the registry store/log/service/CLI/crash tests (no tests here).

Real parts only: real SQLite files, the real PostgreSQL at 127.0.0.1:5432 (one
fresh schema per test, dropped afterwards), real witnesses. A missing server is a
visible skip, or a failure when ``CI`` is set.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hash_registry.entries import AnchorEntry
from hash_registry.log import Log
from hash_registry.merkle import SHA256, HashAlg
from hash_registry.note import (
    SIG_COSIGNATURE_V1,
    CosignatureSigner,
    NoteSigner,
    generate_vkey_pair,
    signer_from_skey,
)
from hash_registry.store import Store
from hash_registry.store_sqlite import SqliteStore
from hash_registry.trust import TrustedLog
from hash_registry.witness import MemoryWitnessState, SqliteWitnessState, Witness
from vc.jose import PrivateKey, sign_compact

PG_URL = os.environ.get("SELFCARRY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ORIGIN = "registry.test.local/log"
ISSUER = "https://cra.example.hk"
VCT = "https://credentials.selfcarry.example/credit-report"
REPO = Path(__file__).resolve().parent.parent


def server_missing(what: str, why: object) -> None:
    """Skip visibly, or fail when running under CI."""
    message = f"{what} is unreachable: {why}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        server_missing("PostgreSQL at 127.0.0.1:5432", exc)
    return PG_URL


def unique_schema() -> str:
    return "t_" + secrets.token_hex(6)


@contextmanager
def open_store(kind: str, tmp_path: Path, alg: HashAlg = SHA256) -> Iterator[Store]:
    """A fresh store of ``kind`` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        store = SqliteStore(tmp_path / f"store-{secrets.token_hex(4)}.db", alg)
        try:
            yield store
        finally:
            store.close()
    else:
        from hash_registry.store_postgres import PostgresStore

        url = require_postgres()
        store_pg = PostgresStore(url, alg, schema=unique_schema(), max_size=4)
        try:
            yield store_pg
        finally:
            store_pg.drop()
            store_pg.close()


def new_log_signer(origin: str = ORIGIN) -> NoteSigner:
    signer = signer_from_skey(generate_vkey_pair(origin)[0])
    assert isinstance(signer, NoteSigner)
    return signer


def new_witness_signer(name: str = "witness.test.local/w1") -> CosignatureSigner:
    signer = signer_from_skey(generate_vkey_pair(name, SIG_COSIGNATURE_V1)[0])
    assert isinstance(signer, CosignatureSigner)
    return signer


def new_witness(
    log_signer: NoteSigner, name: str = "witness.test.local/w1", state_path: Path | None = None
) -> Witness:
    signer = new_witness_signer(name)
    state = SqliteWitnessState(state_path) if state_path else MemoryWitnessState()
    return Witness(name, signer, state, {log_signer.name: log_signer.verifier()})


def new_log(store: Store, *, witnesses: int = 1) -> Log:
    signer = new_log_signer()
    ws = [new_witness(signer, f"witness.test.local/w{i}") for i in range(witnesses)]
    return Log(store, signer, ORIGIN, ws)


def trusted(log: Log) -> TrustedLog:
    return TrustedLog.from_keys_json(log.keys_document(), allow_unwitnessed=not log.witnesses)


def anchor(issuer: str = ISSUER, *, digest: bytes | None = None) -> AnchorEntry:
    now = int(time.time())
    return AnchorEntry.create(
        digest or secrets.token_bytes(32), issuer, VCT, now, now + 365 * 86400
    )


def issuer_metadata(key: PrivateKey, issuer: str = ISSUER) -> dict[str, Any]:
    return {"issuer": issuer, "jwks": {"keys": [key.public_key().to_jwk()]}}


def verifier_identity(
    key: PrivateKey, client_id: str = "https://bank.example.cn"
) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "name": "Example Bank",
        "jwks": {"keys": [key.public_key().to_jwk()]},
    }


def credential(key: PrivateKey, issuer: str = ISSUER, *, exp: bool = True) -> str:
    """A minimal issuer-signed SD-JWT (no disclosures): enough to anchor."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "vct": VCT, "iat": now, "_sd_alg": "sha-256"}
    if exp:
        claims["exp"] = now + 86400
    header = {"typ": "dc+sd-jwt", "kid": key.public_key().thumbprint()}
    return sign_compact(header, claims, key) + "~"


def python() -> str:
    return sys.executable
