"""Crash safety with a real killed process.

A child process appends batches to a registry home in a loop and prints every
acknowledged batch; the parent ``kill -9``s it at random moments, several times.
After each kill the registry must open, hold every acknowledged entry at its
acknowledged index, have a signed and a cosigned checkpoint that agree with the
stored leaves (root recomputed from the entries), publish, and keep appending.

Run as ``python -m tests.test_registry_crash_kill HOME SEED`` it is the child.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hash_registry import home as H
from hash_registry.checkpoint import Checkpoint
from hash_registry.merkle import MemoryTree, tree_root
from hash_registry.note import open_note, split_note
from hash_registry.trust import TrustedLog, verify_checkpoint

from .test_registry_store_helpers import REPO, anchor, require_postgres, unique_schema

KILLS = 5


def child(home: str, seed: int) -> None:
    rng = random.Random(seed)
    log = H.open_log(home)
    while True:
        entries = [anchor() for _ in range(rng.randint(1, 40))]
        appended = log.append_batch(entries)
        line = {"indices": appended.indices, "digests": [e.digest.hex() for e in entries]}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def _run_and_kill(home: Path, seed: int, rng: random.Random) -> list[dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.test_registry_crash_kill", str(home), str(seed)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acks: list[dict] = []
    first = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a torn last line was never acknowledged
                acks.append(json.loads(line))
                first.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        if not first.wait(60):
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            pytest.fail(f"the child never acknowledged an append: {err}")
        time.sleep(rng.uniform(0.02, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
    assert proc.returncode == -signal.SIGKILL
    return acks


def _check_recovered(home: Path, acks: list[dict], trust: TrustedLog) -> int:
    log = H.open_log(home)
    try:
        st = log.store.state()
        for ack in acks:
            for index, digest in zip(ack["indices"], ack["digests"], strict=True):
                status = log.lookup(bytes.fromhex(digest))
                assert status.anchored and status.index == index, (index, digest)
                assert index < st.size
        ref = MemoryTree()
        for data in log.store.entries(0, st.size):
            ref.append(data)
        assert st.root == ref.root() == tree_root(st.size, log.store.node_reader())
        assert st.signed_note is not None
        opened = open_note(st.signed_note, [log.signer.verifier()])
        cp = Checkpoint.parse(opened.text)
        assert (cp.size, cp.root) == (st.size, st.root)
        if st.cosigned_note is not None:
            cosigned = verify_checkpoint(st.cosigned_note, trust)
            assert cosigned.size <= st.size
            assert cosigned.root == ref.root(cosigned.size)
        # publishing completes whatever the crash interrupted, and appends continue
        note = log.publish()
        assert verify_checkpoint(note, trust).size == st.size
        more = log.append_batch([anchor()])
        assert more.indices == [st.size]
        assert Checkpoint.parse(split_note(more.checkpoint)[0]).size == st.size + 1
        return st.size + 1
    finally:
        log.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill_9_never_loses_an_acknowledged_append(kind: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    schema = unique_schema()
    db = f"{require_postgres()}" if kind == "postgres" else None
    H.init_registry(home, db=db, schema=schema)
    log = H.open_log(home)
    trust = TrustedLog.from_keys_json(log.keys_document())
    log.close()
    rng = random.Random()
    all_acks: list[dict] = []
    try:
        for k in range(KILLS):
            acks = _run_and_kill(home, rng.randrange(2**31), rng)
            assert acks, "the child was killed before it acknowledged anything"
            all_acks.extend(acks)
            size = _check_recovered(home, all_acks, trust)
            assert size > len(all_acks) + k  # every batch holds at least one entry
    finally:
        if kind == "postgres":
            from hash_registry.store_postgres import PostgresStore

            cfg = H.RegistryConfig.load(home)
            store = H.open_store(cfg)
            assert isinstance(store, PostgresStore)
            store.drop()
            store.close()


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
