"""The witness: cosigns append-only growth, refuses everything else (tlog-witness semantics)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hash_registry.checkpoint import Checkpoint
from hash_registry.errors import (
    InconsistentCheckpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidProof,
    UnknownLogKey,
    UnknownOrigin,
    WitnessConflict,
    WitnessRefused,
    WitnessSplitView,
)
from hash_registry.merkle import MemoryTree, empty_root
from hash_registry.note import CosignatureSigner, NoteSigner, open_note, sign_note
from hash_registry.witness import (
    MemoryWitnessState,
    SqliteWitnessState,
    Witness,
    WitnessRecord,
    WitnessState,
    format_add_checkpoint_request,
    parse_add_checkpoint_request,
)

ORIGIN = "registry.example/log"
NOW = 1_800_000_000


class Log:
    """A tiny honest log (and, via ``fork``, a dishonest one)."""

    def __init__(self, signer: NoteSigner | None = None, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.signer = signer or NoteSigner(origin, Ed25519PrivateKey.generate())
        self.tree = MemoryTree()

    def grow(self, n: int, tag: bytes = b"") -> None:
        for _ in range(n):
            self.tree.append(tag + self.tree.size.to_bytes(8, "big"))

    def checkpoint(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        text = Checkpoint(self.origin, size, self.tree.root(size)).to_text()
        return sign_note(text, [self.signer])

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        return self.tree.consistency_proof(old, new)

    def fork(self, size: int) -> Log:
        """Same key, same first ``size`` leaves, then different ones: a split view."""
        other = Log(self.signer, self.origin)
        for i in range(size):
            other.tree.append_leaf_hash(self.tree.leaf_hash(i))
        return other


def make_witness(log: Log, state: WitnessState | None = None) -> Witness:
    signer = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
    return Witness(
        signer.name,
        signer,
        state or MemoryWitnessState(),
        {log.origin: log.signer.verifier()},
        clock=lambda: NOW,
    )


def cosigned(witness: Witness, log: Log, note: str, line: str) -> None:
    """The line is a valid cosignature of the checkpoint, at the witness's clock time."""
    opened = open_note(note + line, [log.signer.verifier(), witness.signer.verifier()])
    assert opened.signed_by(witness.signer.verifier())
    assert opened.timestamp_of(witness.signer.verifier()) == NOW


def test_cosigns_first_sight_then_consistent_growth() -> None:
    log = Log()
    witness = make_witness(log)
    log.grow(5)
    note = log.checkpoint()
    line = witness.add_checkpoint(0, [], note)
    cosigned(witness, log, note, line)
    assert witness.latest(ORIGIN) == WitnessRecord(5, log.tree.root(), note.split("\n\n")[0] + "\n")

    for step in [1, 2, 10, 17, 100]:
        old = log.tree.size
        log.grow(step)
        note = log.checkpoint()
        cosigned(witness, log, note, witness.add_checkpoint(old, log.proof(old), note))
    assert witness.latest(ORIGIN).size == log.tree.size  # type: ignore[union-attr]
    # re-submitting the same checkpoint is fine (a fresh cosignature, no change)
    cosigned(witness, log, note, witness.add_checkpoint(log.tree.size, [], note))


def test_empty_log_first() -> None:
    log = Log()
    witness = make_witness(log)
    note = log.checkpoint()
    assert log.tree.root() == empty_root()
    cosigned(witness, log, note, witness.add_checkpoint(0, [], note))
    log.grow(3)
    note = log.checkpoint()
    cosigned(witness, log, note, witness.add_checkpoint(0, [], note))
    bogus_empty = sign_note(Checkpoint(ORIGIN, 0, b"\1" * 32).to_text(), [log.signer])
    fresh = make_witness(log)
    with pytest.raises(InvalidProof):
        fresh.add_checkpoint(0, [], bogus_empty)


def test_wrong_old_size_is_a_conflict_that_names_the_current_size() -> None:
    log = Log()
    witness = make_witness(log)
    log.grow(8)
    witness.add_checkpoint(0, [], log.checkpoint())
    log.grow(4)
    for old in [0, 7, 9, 11]:
        with pytest.raises(WitnessConflict) as info:
            witness.add_checkpoint(old, log.proof(old) if old else [], log.checkpoint())
        assert info.value.current_size == 8
        assert info.value.code == "witness_conflict"
        assert isinstance(info.value, WitnessRefused)
    witness.add_checkpoint(8, log.proof(8), log.checkpoint())


def test_old_size_beyond_the_checkpoint_is_a_bad_request() -> None:
    log = Log()
    witness = make_witness(log)
    log.grow(3)
    with pytest.raises(WitnessRefused) as info:
        witness.add_checkpoint(4, [], log.checkpoint())
    assert type(info.value) is WitnessRefused and info.value.code == "witness_refused"
    with pytest.raises(WitnessRefused):
        witness.add_checkpoint(-1, [], log.checkpoint())
    with pytest.raises(WitnessRefused):
        witness.add_checkpoint(0, [b"\0" * 32] * 64, log.checkpoint())


def test_bad_consistency_proofs_are_refused_and_nothing_is_recorded() -> None:
    log = Log()
    witness = make_witness(log)
    log.grow(6)
    witness.add_checkpoint(0, [], log.checkpoint())
    log.grow(7)
    good = log.proof(6)
    note = log.checkpoint()
    broken = [bytes([good[0][0] ^ 1]) + good[0][1:], *good[1:]]
    for bad in [broken, good[:-1], [*good, good[0]], [], good[::-1]]:
        with pytest.raises(InvalidProof) as info:
            witness.add_checkpoint(6, bad, note)
        assert info.value.code == "invalid_proof"
    assert witness.latest(ORIGIN).size == 6  # type: ignore[union-attr]
    # a proof is not allowed from old size 0 either
    fresh = make_witness(log)
    with pytest.raises(InvalidProof):
        fresh.add_checkpoint(0, good, note)
    cosigned(witness, log, note, witness.add_checkpoint(6, good, note))


def test_split_view_is_refused() -> None:
    log = Log()
    log.grow(10)
    evil = log.fork(10)
    log.grow(5, b"A")
    evil.grow(5, b"B")
    witness = make_witness(log)
    witness.add_checkpoint(0, [], log.checkpoint(10))
    witness.add_checkpoint(10, log.proof(10), log.checkpoint())
    # same size, other root, signed by the same log key
    with pytest.raises(WitnessSplitView) as info:
        witness.add_checkpoint(15, [], evil.checkpoint())
    assert info.value.code == "split_view"
    assert isinstance(info.value, InconsistentCheckpoint) and isinstance(info.value, WitnessRefused)
    # a bigger fork is not consistent with what the witness saw
    evil.grow(3)
    with pytest.raises(InvalidProof):
        witness.add_checkpoint(15, evil.proof(15), evil.checkpoint())
    assert witness.latest(ORIGIN).root == log.tree.root()  # type: ignore[union-attr]


def test_only_the_log_key_counts() -> None:
    log = Log()
    log.grow(2)
    witness = make_witness(log)
    impostor = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    text = Checkpoint(ORIGIN, 2, log.tree.root()).to_text()
    with pytest.raises(UnknownLogKey):
        witness.add_checkpoint(0, [], sign_note(text, [impostor]))
    forged = log.checkpoint().replace("\n2\n", "\n3\n", 1)
    with pytest.raises(InvalidNote):
        witness.add_checkpoint(0, [], forged)
    other = Log(origin="other.example/log")
    other.grow(1)
    with pytest.raises(UnknownOrigin) as info:
        witness.add_checkpoint(0, [], other.checkpoint())
    assert info.value.code == "unknown_origin"
    with pytest.raises(InvalidCheckpoint):
        witness.add_checkpoint(0, [], sign_note("not a checkpoint\n", [log.signer]))
    assert witness.latest(ORIGIN) is None


def test_ignores_other_cosignatures_on_the_note() -> None:
    log = Log()
    log.grow(4)
    first, second = make_witness(log), make_witness(log)
    note = log.checkpoint()
    line = first.add_checkpoint(0, [], note)
    cosigned(second, log, note + line, second.add_checkpoint(0, [], note + line))


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "witness.db"
    log = Log()
    log.grow(9)
    signer = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
    with SqliteWitnessState(path) as state:
        witness = Witness(signer.name, signer, state, {ORIGIN: log.signer.verifier()})
        witness.add_checkpoint(0, [], log.checkpoint())
    with SqliteWitnessState(path) as state:
        again = Witness(signer.name, signer, state, {ORIGIN: [log.signer.verifier()]})
        record = again.latest(ORIGIN)
        assert record is not None and (record.size, record.root) == (9, log.tree.root())
        with pytest.raises(WitnessConflict) as info:
            again.add_checkpoint(0, [], log.checkpoint())
        assert info.value.current_size == 9
        log.grow(1)
        again.add_checkpoint(9, log.proof(9), log.checkpoint())
        journal = state._db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = state._db.execute("PRAGMA synchronous").fetchone()[0]
        assert (journal, sync) == ("wal", 2)  # 2 = FULL
    with SqliteWitnessState(path) as state:
        assert state.get(ORIGIN).size == 10  # type: ignore[union-attr]


def test_compare_and_set_refuses_a_stale_expectation(tmp_path: Path) -> None:
    a, b = SqliteWitnessState(tmp_path / "w.db"), SqliteWitnessState(tmp_path / "w.db")
    r1, r2, r3 = (WitnessRecord(n, bytes([n]) * 32, f"{n}\n") for n in (1, 2, 3))
    assert a.compare_and_set(ORIGIN, None, r1)
    assert not b.compare_and_set(ORIGIN, None, r2)  # b did not see r1
    assert b.compare_and_set(ORIGIN, r1, r2)
    assert not a.compare_and_set(ORIGIN, r1, r3)
    assert a.get(ORIGIN) == r2
    memory = MemoryWitnessState()
    assert memory.compare_and_set(ORIGIN, None, r1)
    assert not memory.compare_and_set(ORIGIN, None, r2)
    a.close()
    b.close()


class RecordingState:
    """Wraps a state; records every committed transition ``(old size, new size)``."""

    def __init__(self, inner: SqliteWitnessState, log: list[tuple[int, int]]) -> None:
        self.inner, self.log = inner, log

    def get(self, origin: str) -> WitnessRecord | None:
        return self.inner.get(origin)

    def compare_and_set(
        self, origin: str, expected: WitnessRecord | None, new: WitnessRecord
    ) -> bool:
        ok = self.inner.compare_and_set(origin, expected, new)
        if ok:
            self.log.append((expected.size if expected else 0, new.size))
        return ok


def test_racing_witness_processes_never_roll_back(tmp_path: Path) -> None:
    """Two witness instances on one state file (as two processes would be) race to
    cosign a growing log; every committed transition continues from the one before."""
    log = Log()
    log.grow(1)
    sizes = [1]
    for _ in range(30):
        log.grow(1 + log.tree.size % 3)
        sizes.append(log.tree.size)
    signer = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
    transitions: list[tuple[int, int]] = []
    states = [SqliteWitnessState(tmp_path / "w.db") for _ in range(2)]
    witnesses = [
        Witness(
            signer.name, signer, RecordingState(s, transitions), {ORIGIN: log.signer.verifier()}
        )
        for s in states
    ]
    errors: list[Exception] = []

    def run(w: Witness, order: list[int]) -> None:
        for new in order:
            while True:
                record = w.latest(ORIGIN)
                current = record.size if record else 0
                if current >= new:
                    break
                try:
                    proof = log.proof(current, new) if current else []
                    w.add_checkpoint(current, proof, log.checkpoint(new))
                    break
                except WitnessConflict:
                    continue
                except Exception as exc:  # noqa: BLE001 - reported by the main thread
                    errors.append(exc)
                    return

    threads = [
        threading.Thread(target=run, args=(witnesses[0], sizes)),
        threading.Thread(target=run, args=(witnesses[1], sizes[::2])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert witnesses[1].latest(ORIGIN).size == sizes[-1]  # type: ignore[union-attr]
    transitions.sort(key=lambda t: t[1])
    assert transitions[0][0] == 0
    for (_, before), (old, new) in itertools.pairwise(transitions):
        assert old == before < new
    assert transitions[-1][1] == sizes[-1]
    for s in states:
        s.close()


def test_add_checkpoint_request_body_round_trip() -> None:
    log = Log()
    log.grow(20)
    proof = log.proof(7)
    note = log.checkpoint()
    body = format_add_checkpoint_request(7, proof, note)
    assert body.startswith("old 7\n") and body.endswith(note)
    assert parse_add_checkpoint_request(body) == (7, proof, note)
    assert parse_add_checkpoint_request(body.encode()) == (7, proof, note)
    assert parse_add_checkpoint_request(format_add_checkpoint_request(0, [], note)) == (0, [], note)
    bad_bodies: list[str | bytes] = [
        body.replace("old 7", "old 07"),
        body.replace("old 7", "old  7"),
        body.replace("old 7", "new 7"),
        "old 7\n" + note,  # no blank line
        "old 0\n" + "AAAA\n" * 64 + "\n" + note,
        b"\xff" + body.encode(),
        "x" * 200_000,
    ]
    for bad in bad_bodies:
        with pytest.raises(WitnessRefused):
            parse_add_checkpoint_request(bad)
    with pytest.raises(WitnessRefused):
        parse_add_checkpoint_request(body.replace(body.split("\n")[1], "not*base64", 1))
