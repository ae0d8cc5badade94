"""Registry benchmark: batched appends, proof and lookup latency, bytes per entry.

    python -m benchmarks.registry_bench [--sizes 10000,100000,1000000]
                                        [--backends sqlite,postgres] [--batch 10000]

One tree per backend grows through each size in turn; at every size it measures
inclusion proofs (random leaf, full tree), consistency proofs (random old size),
digest lookups (half hits, half misses), and the store's bytes per entry.
Appends go through ``Log.append_batch`` — encoding, duplicate checks under the
write lock, one transaction, the log signature and an in-process witness
cosignature per batch — with 75-byte anchor entries (``iss`` of 22 characters).
Targets (DESIGN/brief): >= 10,000 appends/s on SQLite; proof p99 <= 1 ms at 10^6;
<= 150 bytes per anchor on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hash_registry.entries import AnchorEntry
from hash_registry.log import Log
from hash_registry.merkle import SHA256
from hash_registry.note import (
    SIG_COSIGNATURE_V1,
    CosignatureSigner,
    NoteSigner,
    generate_vkey_pair,
    signer_from_skey,
)
from hash_registry.store import Store
from hash_registry.witness import MemoryWitnessState, Witness

ORIGIN = "registry.bench.local/log"
ISSUER = "https://cra.example.hk"
VCT = "https://credentials.selfcarry.example/credit-report"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Row:
    backend: str
    size: int
    append_per_s: float
    incl_med_us: float
    incl_p99_us: float
    cons_med_us: float
    cons_p99_us: float
    lookup_med_us: float
    lookup_p99_us: float
    bytes_per_entry: float


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def _log(store: Store) -> Log:
    signer = signer_from_skey(generate_vkey_pair(ORIGIN)[0])
    assert isinstance(signer, NoteSigner)
    wsigner = signer_from_skey(generate_vkey_pair("witness.bench.local/w", SIG_COSIGNATURE_V1)[0])
    assert isinstance(wsigner, CosignatureSigner)
    witness = Witness(wsigner.name, wsigner, MemoryWitnessState(), {ORIGIN: signer.verifier()})
    return Log(store, signer, ORIGIN, [witness])


def _open(backend: str, workdir: Path, pg_url: str) -> Store:
    if backend == "sqlite":
        from hash_registry.store_sqlite import SqliteStore

        return SqliteStore(workdir / "bench.db", SHA256)
    from hash_registry.store_postgres import PostgresStore

    return PostgresStore(pg_url, SHA256, schema="bench_" + secrets.token_hex(4))


def _bytes(store: Store) -> int:
    checkpoint = getattr(store, "checkpoint_wal", None)
    if checkpoint is not None:
        checkpoint()
        return os.path.getsize(store.path)  # type: ignore[attr-defined]
    return int(store.stats()["bytes"])  # type: ignore[attr-defined]


def bench_backend(
    backend: str, sizes: list[int], batch: int, samples: int, pg_url: str
) -> list[Row]:
    rows: list[Row] = []
    rng = random.Random(1)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        store = _open(backend, Path(tmp), pg_url)
        log = _log(store)
        known: list[bytes] = []
        try:
            done = 0
            for size in sizes:
                t0 = time.perf_counter()
                while done < size:
                    n = min(batch, size - done)
                    entries = [
                        AnchorEntry.create(secrets.token_bytes(32), ISSUER, VCT, now, now + 10**8)
                        for _ in range(n)
                    ]
                    log.append_batch(entries)
                    known.extend(e.digest for e in rng.sample(entries, min(n, 50)))
                    done += n
                appended = size - (rows[-1].size if rows else 0)
                rate = appended / (time.perf_counter() - t0)

                def incl(size: int = size) -> None:
                    log.inclusion_proof(rng.randrange(size), size)

                def cons(size: int = size) -> None:
                    log.consistency_proof(rng.randint(1, size - 1), size)

                def lookup() -> None:
                    digest = rng.choice(known) if rng.random() < 0.5 else secrets.token_bytes(32)
                    log.lookup(digest)

                stored = _bytes(store)  # also folds SQLite's WAL before the reads are timed
                _timed(incl, 50)  # warm caches
                i, c, lk = _timed(incl, samples), _timed(cons, samples), _timed(lookup, samples)
                rows.append(
                    Row(
                        backend,
                        size,
                        rate,
                        statistics.median(i),
                        _pct(i, 0.99),
                        statistics.median(c),
                        _pct(c, 0.99),
                        statistics.median(lk),
                        _pct(lk, 0.99),
                        stored / size,
                    )
                )
                print(_format(rows[-1]), flush=True)
        finally:
            drop = getattr(store, "drop", None)
            if drop is not None:
                drop()
            store.close()
    return rows


HEADER = (
    f"{'backend':<9}{'entries':>10}{'append/s':>11}"
    f"{'incl med':>10}{'incl p99':>10}{'cons med':>10}{'cons p99':>10}"
    f"{'look med':>10}{'look p99':>10}{'B/entry':>9}"
)


def _format(r: Row) -> str:
    return (
        f"{r.backend:<9}{r.size:>10,}{r.append_per_s:>11,.0f}"
        f"{r.incl_med_us:>8.0f}us{r.incl_p99_us:>8.0f}us{r.cons_med_us:>8.0f}us"
        f"{r.cons_p99_us:>8.0f}us{r.lookup_med_us:>8.0f}us{r.lookup_p99_us:>8.0f}us"
        f"{r.bytes_per_entry:>9.1f}"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--samples", type=int, default=2_000)
    p.add_argument("--pg-url", default=PG_URL)
    args = p.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(HEADER)
    rows: list[Row] = []
    for backend in args.backends.split(","):
        try:
            rows += bench_backend(backend, sizes, args.batch, args.samples, args.pg_url)
        except Exception as exc:  # noqa: BLE001 - report a backend that is not available
            print(f"{backend:<9} skipped: {type(exc).__name__}: {exc}")
    print()
    print(HEADER)
    for r in rows:
        print(_format(r))


if __name__ == "__main__":
    main()
