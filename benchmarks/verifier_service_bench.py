"""Verifier service benchmark: direct_post verifications per second over loopback.

    python -m benchmarks.verifier_service_bench [--count 2000] [--concurrency 32]
                                                [--workers 2] [--warmup 200]

Starts ``verifier serve`` (``serve(home, workers=N)``: N uvicorn worker processes
sharing the bank's home and its SQLite nonce store) on a free loopback port,
pre-creates ``count`` + ``warmup`` requests and wallet answers with the test world
builder (a real registry, CRA and bank; each answer is an SD-JWT+KB with stapled
registry receipt and status list token), then fires them at ``POST /response``
from ``concurrency`` concurrent client threads (keep-alive connections) in a separate
process.
Every answer must come back ``verified: true``. Prints verifications/s and the
latency distribution, plus the single-thread in-process ``Verifier.verify`` cost
for scale. Note that server workers and load generator share this machine's cores.

Targets (verifier issue): >= 300 verifications/s with 2 workers; p99 <= 100 ms at
32 concurrent clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import free_port
from tests.world import BANK_ID, World, make_world
from verifier.home import init_verifier, load_config, save_config

FORM = {"content-type": "application/x-www-form-urlencoded"}
SERVE = ("import sys; from verifier.service import serve; "
         "serve(sys.argv[1], '127.0.0.1', int(sys.argv[2]), workers=int(sys.argv[3]))")
CREDENTIALS = 8


def _start_server(home: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(home), str(port), str(workers)],
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"verifier serve exited:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("verifier serve did not start within 60 s")
        time.sleep(0.2)


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _answers(world: World, total: int) -> tuple[list[bytes], list[tuple[str, str]]]:
    """``total`` fresh requests (in the shared nonce store) and one wallet answer each;
    also the (request id, nonce) pairs, to clean a shared store up afterwards."""
    issued = [world.issue(seed) for seed in range(1, CREDENTIALS + 1)]
    bodies, made = [], []
    with world.verifier() as verifier:
        for i in range(total):
            credential, holder = issued[i % CREDENTIALS]
            request = verifier.create_request(ttl=3600)
            bodies.append(world.present(credential, holder, request).to_form_body())
            made.append((request.id, request.nonce))
    return bodies, made


def _forget(url: str, made: list[tuple[str, str]]) -> None:
    """Delete this run's records from a shared Redis (SQLite and schemas go with the home;
    a PostgreSQL store keeps them until ``purge_expired``)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return
    import redis

    from verifier.nonce_store import DEFAULT_REDIS_PREFIX as P

    client = redis.Redis.from_url(url)
    try:
        for start in range(0, len(made), 500):
            chunk = made[start:start + 500]
            client.delete(*[f"{P}{kind}:{rid}" for rid, _ in chunk for kind in ("request",
                                                                                 "result")],
                          *[f"{P}nonce:{nonce}" for _, nonce in chunk])
    finally:
        client.close()


def _fire(port: int, bodies: list[bytes], concurrency: int) -> tuple[list[float], int, float]:
    """``concurrency`` client threads, each on its own keep-alive connection, share the
    answers. (Plain ``http.client``: httpx's AsyncClient costs several milliseconds of CPU
    per request at this concurrency, which would be measured instead of the server.)"""
    pending = list(reversed(bodies))
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def client_loop() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    body = pending.pop()
                start = time.perf_counter()
                conn.request("POST", "/response", body=body, headers=FORM)
                response = conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - start
                ok = response.status == 200 and json.loads(data).get("verified") is True
                with lock:
                    latencies.append(elapsed)
                    failures += 0 if ok else 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - began


def _load(port: int, warm: list[bytes], bodies: list[bytes], concurrency: int,
          conn: Any) -> None:
    """The load generator's own process: warm up, wait for "go", measure (and its own CPU)."""
    _fire(port, warm, concurrency)
    conn.send("warm")
    conn.recv()
    cpu = time.process_time()
    latencies, failures, wall = _fire(port, bodies, concurrency)
    conn.send((latencies, failures, wall, time.process_time() - cpu))
    conn.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children (the uvicorn workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def _library_cost(world: World, made: list[tuple[str, str]], samples: int = 200) -> float:
    """Milliseconds per in-process ``Verifier.verify`` on one thread (no HTTP)."""
    issued, holder = world.issue(99)
    with world.verifier() as verifier:
        pairs = [(r, world.present(issued, holder, r))
                 for r in (verifier.create_request() for _ in range(samples))]
        made.extend((r.id, r.nonce) for r, _ in pairs)
        began = time.perf_counter()
        for request, response in pairs:
            assert verifier.verify(response, request=request).verified
        return (time.perf_counter() - began) / samples * 1000


def _pct(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=2000, help="measured verifications")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nonce-store", help="a postgresql:// or redis:// URL (default: SQLite "
                        "under the bank's home)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="selfcarry-verifier-bench-") as tmp:
        root = Path(tmp)
        world = make_world(root)
        try:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            init_verifier(world.bank_home, client_id=BANK_ID, name="Bench Bank", url=url)
            if args.nonce_store:
                config = load_config(world.bank_home)
                save_config(world.bank_home, replace(config, nonce_store=args.nonce_store))
            began = time.perf_counter()
            bodies, made = _answers(world, args.warmup + args.count)
            prepared = time.perf_counter() - began
            per_verify_ms = _library_cost(world, made)
            proc = _start_server(world.bank_home, port, args.workers, root / "serve.log")
            try:
                ctx = multiprocessing.get_context("spawn")
                mine, theirs = ctx.Pipe()
                loader = ctx.Process(target=_load, args=(
                    port, bodies[:args.warmup], bodies[args.warmup:], args.concurrency, theirs))
                loader.start()
                assert mine.recv() == "warm"
                server_cpu = _cpu_seconds(proc.pid)
                mine.send("go")
                latencies, failures, wall, client_cpu = mine.recv()
                server_cpu = _cpu_seconds(proc.pid) - server_cpu
                loader.join(timeout=60)
            finally:
                _stop_server(proc)
        finally:
            world.cra.close()
            if args.nonce_store and "made" in locals():
                _forget(args.nonce_store, made)

    ordered = sorted(latencies)
    rate = len(latencies) / wall
    print(f"nonce store: {args.nonce_store or 'SQLite under the home'}")
    print(f"verifier serve: {args.workers} worker(s), {args.concurrency} concurrent clients, "
          f"{len(latencies)} verifications (+{args.warmup} warm-up), {os.cpu_count()} CPUs "
          f"shared with the load generator; {prepared:.1f} s to prepare")
    print(f"{'verifications/s':>16} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'mean ms':>8} {'failed':>7}")
    print(f"{rate:16.1f} {_pct(ordered, 0.50):8.1f} {_pct(ordered, 0.90):8.1f} "
          f"{_pct(ordered, 0.99):8.1f} {ordered[-1] * 1000:8.1f} "
          f"{statistics.fmean(ordered) * 1000:8.1f} {failures:7d}")
    count = len(latencies)
    print(f"CPU per verification: server {server_cpu / count * 1000:.1f} ms (all workers), "
          f"load generator {client_cpu / count * 1000:.1f} ms; so {os.cpu_count()} CPUs for the "
          f"server alone would give <= {(os.cpu_count() or 1) * count / server_cpu:.0f}/s")
    print(f"in-process Verifier.verify, one thread: {per_verify_ms:.1f} ms "
          f"({1000 / per_verify_ms:.0f}/s per core)")
    print(f"targets: >= 300 verifications/s -> {'met' if rate >= 300 else 'NOT met'}; "
          f"p99 <= 100 ms -> {'met' if _pct(ordered, 0.99) <= 100 else 'NOT met'}")
    if failures:
        raise SystemExit(f"{failures} answers were not verified")


if __name__ == "__main__":
    main()
