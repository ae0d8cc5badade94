"""Several registry instances (processes, each with its own pool) append to one database.

They must produce ONE gap-free index sequence with no duplicates, every
acknowledged entry at the index it was acknowledged with, every proof verifying,
and a final checkpoint cosigned by the (shared) witness — for PostgreSQL, and for
SQLite when several processes share one home.
"""

from __future__ import annotations

import multiprocessing as mp
import random
from pathlib import Path
from typing import Any

import pytest

from hash_registry.log import Log
from hash_registry.merkle import MemoryTree, verify_inclusion
from hash_registry.note import NoteSigner, signer_from_skey
from hash_registry.store import Store
from hash_registry.trust import TrustedLog, verify_checkpoint
from hash_registry.witness import SqliteWitnessState, Witness

from .test_registry_store_helpers import (
    ORIGIN,
    anchor,
    new_log_signer,
    new_witness_signer,
    require_postgres,
    unique_schema,
)

WORKERS = 4
BATCHES = 12


def _open(kind: str, where: str) -> Store:
    from hash_registry.merkle import SHA256

    if kind == "postgres":
        from hash_registry.store_postgres import PostgresStore

        url, schema = where.split("#")
        return PostgresStore(url, SHA256, schema=schema, max_size=2)
    from hash_registry.store_sqlite import SqliteStore

    return SqliteStore(where, SHA256)


def _worker(
    kind: str, where: str, skey: str, wskey: str, wstate: str, seed: int, start: Any, out: Any
) -> None:
    log_signer = signer_from_skey(skey)
    wsigner = signer_from_skey(wskey)
    assert isinstance(log_signer, NoteSigner)
    witness = Witness(
        wsigner.name,
        wsigner,  # type: ignore[arg-type]
        SqliteWitnessState(wstate),
        {ORIGIN: log_signer.verifier()},
    )
    log = Log(_open(kind, where), log_signer, ORIGIN, [witness])
    rng = random.Random(seed)
    acked: list[tuple[list[int], list[bytes]]] = []
    start.wait(30)
    try:
        for _ in range(BATCHES):
            entries = [anchor() for _ in range(rng.randint(1, 20))]
            result = log.append_batch(entries)
            acked.append((result.indices, [e.encode() for e in entries]))
        out.put(("ok", acked))
    except Exception as exc:  # noqa: BLE001 - report to the parent, which fails the test
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        log.close()


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_concurrent_instances_keep_one_gap_free_sequence(kind: str, tmp_path: Path) -> None:
    if kind == "postgres":
        where = f"{require_postgres()}#{unique_schema()}"
    else:
        where = str(tmp_path / "shared.db")
    log_signer = new_log_signer()
    wsigner = new_witness_signer()
    wstate = str(tmp_path / "witness.db")
    setup = _open(kind, where)  # create the schema once, before the race
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(kind, where, log_signer.skey, wsigner.skey, wstate, seed, start, out),
        )
        for seed in range(WORKERS)
    ]
    try:
        for p in procs:
            p.start()
        start.set()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        errors = [r[1] for r in results if r[0] != "ok"]
        assert not errors, errors

        acked = [batch for _, batches in results for batch in batches]
        indices = sorted(i for ids, _ in acked for i in ids)
        size = setup.state().size
        assert indices == list(range(size)), "gaps or duplicates in the index sequence"
        for ids, datas in acked:
            assert ids == list(range(ids[0], ids[0] + len(ids)))  # a batch is contiguous
            assert setup.entries(ids[0], ids[-1] + 1) == datas

        ref = MemoryTree()
        for data in setup.entries(0, size):
            ref.append(data)
        assert setup.state().root == ref.root()
        log = Log(setup, log_signer, ORIGIN, [])
        for i in range(size):
            proof = log.inclusion_proof(i, size)
            verify_inclusion(i, size, ref.leaf_hash(i), proof.proof, ref.root())

        trust = TrustedLog(ORIGIN, log_signer.vkey, [wsigner.vkey], 1)
        st = setup.state()
        assert st.cosigned_note is not None and st.cosigned_size == size
        cp = verify_checkpoint(st.cosigned_note, trust)
        assert (cp.size, cp.root) == (size, ref.root())
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        drop = getattr(setup, "drop", None)
        if drop is not None:
            drop()
        setup.close()
