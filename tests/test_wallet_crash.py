"""Crash safety with real ``kill -9``: whatever was acknowledged survives, intact.

A child process writes to the vault in a loop and prints each acknowledged
operation only after the call returned; the parent kills it with SIGKILL at a
random moment, reopens the vault and checks every acknowledged record is there,
byte-for-byte, and that no half-done transaction is visible. The same for
changing the passphrase (exactly one of old/new opens it afterwards, with all
records), creating a vault, and restoring a backup over an existing vault.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from wallet.backup import export_backup
from wallet.errors import WrongPassphrase
from wallet.vault import UNSAFE_TEST_KDF, Vault

REPO = Path(__file__).resolve().parents[1]
PASS = "correct horse battery"
PASS_B = "another horse battery"


def payload(rid: str) -> dict[str, Any]:
    """Deterministic record content for an id, 100 B – 40 KB, so the parent can check it."""
    seed = hashlib.sha256(rid.encode()).digest()
    size = 100 + int.from_bytes(seed[:2], "big") % 40_000
    chunks, block = [], seed
    while sum(len(c) for c in chunks) < size:
        block = hashlib.sha256(block).digest()
        chunks.append(block.hex())
    return {"id": rid, "data": "".join(chunks)[:size], "name": "陳大文"}


expected = functools.lru_cache(maxsize=None)(payload)  # the parent checks thousands of records

PRELUDE = (
    "import os, sys, hashlib\n"
    "def ack(line): os.write(1, (line + '\\n').encode())  # one write(2): atomic on a pipe\n"
    "from typing import Any\n"
    "from wallet.vault import Vault, UNSAFE_TEST_KDF\n"
    f"PASS = {PASS!r}\nPASS_B = {PASS_B!r}\n" + inspect.getsource(payload)
)

CHILD_WRITES = (
    PRELUDE
    + """
home, run = sys.argv[1], int(sys.argv[2])
v = Vault.open(home, PASS)
ack("READY")
i = 0
while True:
    rid = f"r{run}-{i}"
    with v.transaction():
        v.put("credential", rid, payload(rid))
        v.put("settings", "counter", {"run": run, "i": i})
    ack(f"A {rid}")
    if i % 4 == 3:
        victim = f"r{run}-{i - 2}"
        v.delete("credential", victim)
        ack(f"D {victim}")
    i += 1
"""
)

CHILD_PASSPHRASE = (
    PRELUDE
    + """
home, current = sys.argv[1], int(sys.argv[2])
phrases = [PASS, PASS_B]
v = Vault.open(home, phrases[current])
ack("READY")
while True:
    v.change_passphrase(phrases[current], phrases[1 - current])
    current = 1 - current
    ack(f"P {current}")
"""
)

CHILD_CREATE = (
    PRELUDE
    + """
ack("READY")
Vault.create(sys.argv[1], PASS, kdf=UNSAFE_TEST_KDF).close()
ack("DONE")
"""
)

CHILD_RESTORE = (
    PRELUDE
    + """
from wallet.backup import restore_backup
ack("READY")
restore_backup(sys.argv[2], sys.argv[1], PASS_B, PASS_B, replace=True, kdf=UNSAFE_TEST_KDF).close()
ack("DONE")
"""
)


class Child:
    """A child process whose stdout lines are collected by a thread."""

    def __init__(self, script: str, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())
            if line.startswith("READY"):
                self.ready.set()
        self.ready.set()

    def kill_after(self, delay: float, pattern: str, *, from_ready: bool = True) -> list[str]:
        """SIGKILL the child ``delay`` s after it is ready; its acknowledgements (all complete)."""
        if from_ready:
            assert self.ready.wait(60), "the child never became ready"
        time.sleep(delay)
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(60)
        self._reader.join(60)
        if self.proc.returncode not in (-signal.SIGKILL, 0):
            assert self.proc.stderr is not None
            pytest.fail(f"child failed: {self.proc.stderr.read()}")
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        acks = [line for line in self.lines if line != "READY"]
        for line in acks:
            assert re.fullmatch(pattern, line), f"garbled acknowledgement {line!r}"
        return acks


def test_kill_during_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Vault.create(home, PASS, kdf=UNSAFE_TEST_KDF).close()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    present: set[str] = set()
    deleted: set[str] = set()
    for run in range(40):
        child = Child(CHILD_WRITES, str(home), str(run))
        early = run % 10 == 0  # sometimes kill while it is still starting / opening
        delay = rng.uniform(0.0, 0.35 if early else 0.25)
        lines = child.kill_after(delay, r"[AD] r\d+-\d+", from_ready=not early)
        last_i, last_op = -1, ""
        for line in lines:
            op, rid = line.split()
            last_op = op
            if op == "A":
                present.add(rid)
                last_i = int(rid.split("-")[1])
            else:
                present.discard(rid)
                deleted.add(rid)
        # the one operation in flight at the kill may have landed without an acknowledgement
        maybe_new = {f"r{run}-{last_i + 1}"}
        maybe_gone = {f"r{run}-{last_i - 2}"} if last_op == "A" and last_i % 4 == 3 else set()
        with Vault.open(home, PASS) as v:
            contents = dict(v.items("credential"))  # every record decrypted and authenticated
            stored = set(contents)
            assert present - maybe_gone <= stored, "an acknowledged record was lost"
            for rid, obj in contents.items():
                assert obj == expected(rid), rid
            assert not deleted & stored, "an acknowledged delete came back"
            assert stored - present <= maybe_new, (stored - present, last_i)
            # the two puts of each transaction landed together or not at all
            counter = v.find("settings", "counter")
            if counter is not None and counter["run"] == run:
                assert counter["i"] in (last_i, last_i + 1)
                assert f"r{run}-{counter['i']}" in stored
                assert f"r{run}-{counter['i'] + 1}" not in stored
            elif last_i >= 0:
                pytest.fail("an acknowledged transaction's counter update is missing")
            present = stored  # adopt what landed, so later runs check it too


def test_kill_during_passphrase_change_leaves_exactly_one_working(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Vault.create(home, PASS, kdf=UNSAFE_TEST_KDF) as v:
        for i in range(30):
            v.put("credential", f"c{i}", payload(f"c{i}"))
    phrases = [PASS, PASS_B]
    current = 0
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    for _ in range(20):
        child = Child(CHILD_PASSPHRASE, str(home), str(current))
        lines = child.kill_after(rng.uniform(0.0, 0.3), r"P [01]")
        acked = int(lines[-1].split()[1]) if lines else current
        opened = []
        for idx, phrase in enumerate(phrases):
            try:
                with Vault.open(home, phrase) as v:
                    assert v.verify() == 30
                    for i in range(30):
                        assert v.get("credential", f"c{i}") == payload(f"c{i}")
                opened.append(idx)
            except WrongPassphrase:
                pass
        assert len(opened) == 1, opened
        # the acknowledged passphrase, or the next one if the in-flight change committed
        assert opened[0] in (acked, 1 - acked)
        current = opened[0]


def test_kill_during_create_leaves_no_vault_or_a_whole_one(tmp_path: Path) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    for run in range(10):
        home = tmp_path / f"home{run}"
        child = Child(CHILD_CREATE, str(home))
        lines = child.kill_after(rng.uniform(0.0, 0.03), "DONE")
        if "DONE" in lines:
            assert Vault.exists(home)
        if Vault.exists(home):
            Vault.open(home, PASS).close()
        else:
            Vault.create(home, PASS, kdf=UNSAFE_TEST_KDF).close()  # a retry just works
            Vault.open(home, PASS).close()


def test_kill_during_restore_over_a_vault_leaves_old_or_new(tmp_path: Path) -> None:
    src = tmp_path / "src"
    with Vault.create(src, PASS, kdf=UNSAFE_TEST_KDF) as v:
        for i in range(20):
            v.put("credential", f"new{i}", payload(f"new{i}"))
        backup = tmp_path / "w.backup"
        export_backup(v, backup, PASS_B, kdf=UNSAFE_TEST_KDF)
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    for run in range(10):
        home = tmp_path / f"home{run}"
        with Vault.create(home, PASS, kdf=UNSAFE_TEST_KDF) as v:
            v.put("credential", "old", payload("old"))
        child = Child(CHILD_RESTORE, str(home), str(backup))
        lines = child.kill_after(rng.uniform(0.0, 0.05), "DONE")
        outcomes = []
        for phrase, expected in ((PASS, {"old"}), (PASS_B, {f"new{i}" for i in range(20)})):
            try:
                with Vault.open(home, phrase) as v:
                    v.verify()
                    assert set(v.ids("credential")) == expected
                    for rid in expected:
                        assert v.get("credential", rid) == payload(rid)
                outcomes.append(phrase)
            except WrongPassphrase:
                pass
        assert len(outcomes) == 1, outcomes
        if "DONE" in lines:
            assert outcomes == [PASS_B]
