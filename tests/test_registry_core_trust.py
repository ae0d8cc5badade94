"""Client-side trust: checkpoint verification with a witness quorum, split-view memory,
and offline registry receipts."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hash_registry.checkpoint import Checkpoint
from hash_registry.entries import AnchorEntry, RevocationEntry
from hash_registry.errors import (
    InconsistentCheckpoint,
    InvalidCheckpoint,
    InvalidEntry,
    InvalidKey,
    InvalidNote,
    InvalidProof,
    InvalidReceipt,
    RegistryError,
    StoreError,
    UnknownLogKey,
    WitnessQuorumNotMet,
    WitnessSplitView,
)
from hash_registry.merkle import SM3, MemoryTree, empty_root
from hash_registry.note import CosignatureSigner, NoteSigner, add_signature_lines, sign_note
from hash_registry.receipt import Receipt, verify_receipt
from hash_registry.trust import (
    CheckpointMemory,
    FileCheckpointMemory,
    MemoryCheckpointMemory,
    TrustedLog,
    verify_checkpoint,
    verify_checkpoint_note,
)
from hash_registry.witness import MemoryWitnessState, Witness

ORIGIN = "registry.example/log"
VECTORS = Path(__file__).parent / "vectors" / "merkle"


class Registry:
    """A log with two witnesses, wired from the core parts only."""

    def __init__(self, *, alg: Any = None) -> None:
        from hash_registry.merkle import SHA256

        self.alg = alg or SHA256
        self.log = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
        self.tree = MemoryTree(self.alg)
        self.witnesses = []
        for i in (1, 2):
            signer = CosignatureSigner(f"witness.example/w{i}", Ed25519PrivateKey.generate())
            self.witnesses.append(
                Witness(
                    signer.name,
                    signer,
                    MemoryWitnessState(),
                    {ORIGIN: self.log.verifier()},
                    alg=self.alg,
                )
            )

    def keys(self) -> dict[str, Any]:
        return {
            "log": {"origin": ORIGIN, "vkey": self.log.vkey},
            "witnesses": [{"name": w.name, "vkey": w.vkey} for w in self.witnesses],
        }

    def trusted(self, **kw: Any) -> TrustedLog:
        return TrustedLog.from_keys_json(self.keys(), hash_alg=self.alg.name, **kw)

    def signed(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        text = Checkpoint(ORIGIN, size, self.tree.root(size)).to_text()
        return sign_note(text, [self.log])

    def publish(self, witnesses: int = 2) -> str:
        note = self.signed()
        lines = []
        for w in self.witnesses[:witnesses]:
            record = w.latest(ORIGIN)
            old = record.size if record else 0
            proof = self.tree.consistency_proof(old) if old else []
            lines.append(w.add_checkpoint(old, proof, note))
        return add_signature_lines(note, lines)


def test_vector_checkpoint_verifies_under_a_trusted_log() -> None:
    v = next(
        x
        for x in json.loads((VECTORS / "c2sp-notes" / "signed_notes.json").read_text())["vectors"]
        if x["name"] == "checkpoint_with_ed25519_cosignature_v1"
    )
    log_vkey, witness_vkey = v["verifier_keys"]
    trusted = TrustedLog("example.com/test-log", log_vkey, [witness_vkey], 1)
    verified = verify_checkpoint_note(v["note"], trusted)
    assert verified.checkpoint.size == 8
    assert verified.witnesses == ("witness.example.com/w1",)
    assert verified.timestamps == {"witness.example.com/w1": v["cosignature"]["timestamp"]}
    assert verify_checkpoint(v["note"], trusted) == verified.checkpoint


# --- TrustedLog -------------------------------------------------------------------------


def test_trusted_log_from_keys_document() -> None:
    reg = Registry()
    trusted = TrustedLog.from_keys_json(json.dumps(reg.keys()))
    assert trusted.quorum == 2 and trusted.origin == ORIGIN and trusted.hash_alg == "sha-256"
    again = TrustedLog.from_keys_json(trusted.to_json())
    assert again.to_dict() == trusted.to_dict()
    assert TrustedLog.from_keys_json(reg.keys(), quorum=1).quorum == 1
    assert TrustedLog.from_keys_json({**reg.keys(), "quorum": 1}).quorum == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda k: {**k, "witnesses": []},  # quorum 0 by default: refused
        lambda k: {**k, "quorum": 0},
        lambda k: {**k, "quorum": 3},
        lambda k: {**k, "quorum": -1},
        lambda k: {**k, "quorum": "2"},
        lambda k: {**k, "witnesses": [k["witnesses"][0], k["witnesses"][0]]},
        lambda k: {**k, "witnesses": [{"name": "x", "vkey": k["witnesses"][0]["vkey"]}]},
        lambda k: {**k, "witnesses": [{"name": ORIGIN, "vkey": k["log"]["vkey"]}]},
        lambda k: {**k, "log": {"origin": ORIGIN, "vkey": k["witnesses"][0]["vkey"]}},
        lambda k: {**k, "log": {"origin": "", "vkey": k["log"]["vkey"]}},
        lambda k: {"log": k["log"]["vkey"]},
        lambda k: {**k, "hash_alg": "md5"},
        lambda k: [k],
    ],
)
def test_bad_trust_configurations_are_refused(change: Callable[[Any], Any]) -> None:
    with pytest.raises(RegistryError):
        TrustedLog.from_keys_json(change(Registry().keys()))


def test_unwitnessed_trust_must_be_asked_for_by_name() -> None:
    reg = Registry()
    reg.tree.append(b"x")
    keys = {**reg.keys(), "witnesses": []}
    trusted = TrustedLog.from_keys_json(keys, allow_unwitnessed=True)
    assert trusted.quorum == 0
    assert verify_checkpoint(reg.signed(), trusted).size == 1
    with pytest.raises(RegistryError) as info:
        TrustedLog(ORIGIN, reg.log.vkey, [], 0)
    assert info.value.code == "invalid_quorum"
    with pytest.raises(InvalidKey):
        TrustedLog.from_keys_json("{not json")


# --- verify_checkpoint ---------------------------------------------------------------------


def test_quorum_of_distinct_witnesses() -> None:
    reg = Registry()
    reg.tree.append(b"a")
    both = reg.publish(2)
    assert verify_checkpoint(both, reg.trusted()).size == 1
    reg.tree.append(b"b")
    one = reg.publish(1)
    with pytest.raises(WitnessQuorumNotMet) as info:
        verify_checkpoint(one, reg.trusted())
    assert info.value.code == "witness_quorum_not_met"
    assert verify_checkpoint(one, reg.trusted(quorum=1)).size == 2
    # the same witness twice does not make two
    line = one.rsplit("\n", 2)[-2] + "\n"
    with pytest.raises(InvalidNote):
        verify_checkpoint(one + line, reg.trusted())
    # a second key under the same witness name counts once
    w1 = reg.witnesses[0]
    twin = CosignatureSigner(w1.name, Ed25519PrivateKey.generate())
    text = one.split("\n\n")[0] + "\n"
    doubled = one + twin.cosign(text, 1)
    keys = reg.keys()
    keys["witnesses"].append({"name": w1.name, "vkey": twin.vkey})
    with pytest.raises(WitnessQuorumNotMet):
        verify_checkpoint(doubled, TrustedLog.from_keys_json(keys, quorum=2))


def test_witnesses_alone_are_not_the_log() -> None:
    reg = Registry()
    reg.tree.append(b"a")
    note = reg.publish()
    text = note.split("\n\n")[0] + "\n"
    only_witnesses = text + "\n" + "".join(note.split("\n\n", 1)[1].splitlines(True)[1:])
    with pytest.raises(UnknownLogKey):
        verify_checkpoint(only_witnesses, reg.trusted())
    impostor = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(UnknownLogKey):
        verify_checkpoint(sign_note(text, [impostor]), reg.trusted())


def test_checkpoint_of_another_log_is_refused() -> None:
    reg = Registry()
    text = Checkpoint("other.example/log", 0, empty_root()).to_text()
    with pytest.raises(InvalidCheckpoint):
        verify_checkpoint(sign_note(text, [reg.log]), reg.trusted(allow_unwitnessed=True, quorum=0))


# --- CheckpointMemory -------------------------------------------------------------------------


@pytest.fixture(params=["memory", "file"])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> CheckpointMemory:
    if request.param == "memory":
        return MemoryCheckpointMemory()
    return FileCheckpointMemory(tmp_path / "home" / "checkpoints.json")


def _tree(n: int, tag: bytes = b"") -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append(tag + i.to_bytes(4, "big"))
    return tree


def _cp(tree: MemoryTree, size: int) -> Checkpoint:
    return Checkpoint(ORIGIN, size, tree.root(size))


def test_memory_accepts_consistent_growth(memory: CheckpointMemory) -> None:
    tree = _tree(40)
    assert memory.latest(ORIGIN) is None
    memory.observe(_cp(tree, 5), None)
    memory.observe(_cp(tree, 5), None)  # same again: fine
    memory.observe(_cp(tree, 17), tree.consistency_proof(5, 17))
    assert memory.latest(ORIGIN) == _cp(tree, 17)
    # an older, consistent checkpoint is fine (proof from it up to the remembered one)
    memory.observe(_cp(tree, 9), tree.consistency_proof(9, 17))
    memory.observe(_cp(tree, 0), None)
    assert memory.latest(ORIGIN) == _cp(tree, 17)
    with pytest.raises(InvalidProof):
        memory.observe(_cp(tree, 40), None)  # growth needs a proof
    assert memory.latest(ORIGIN) == _cp(tree, 17)


def test_memory_detects_split_views(memory: CheckpointMemory) -> None:
    honest, fork = _tree(20), _tree(20, b"fork")
    memory.observe(_cp(honest, 12), None)
    with pytest.raises(InconsistentCheckpoint) as info:
        memory.observe(_cp(fork, 12), None)
    assert info.value.code == "split_view"
    with pytest.raises(InconsistentCheckpoint):
        memory.observe(_cp(fork, 20), fork.consistency_proof(12, 20))
    with pytest.raises(InconsistentCheckpoint):
        memory.observe(_cp(fork, 6), fork.consistency_proof(6, 12))
    with pytest.raises(InconsistentCheckpoint):
        memory.observe(_cp(honest, 20), honest.consistency_proof(11, 20))  # proof for another size
    with pytest.raises(InconsistentCheckpoint):
        memory.observe(Checkpoint(ORIGIN, 0, b"\1" * 32), None)
    assert memory.latest(ORIGIN) == _cp(honest, 12)


def test_split_view_is_caught_by_memory_and_by_the_witness() -> None:
    reg = Registry()
    for i in range(6):
        reg.tree.append(bytes([i]))
    honest = reg.signed()
    evil_tree = MemoryTree()
    for i in range(5):
        evil_tree.append(bytes([i]))
    evil_tree.append(b"other")
    evil = sign_note(Checkpoint(ORIGIN, 6, evil_tree.root()).to_text(), [reg.log])
    trusted = reg.trusted(quorum=0, allow_unwitnessed=True)
    memory = MemoryCheckpointMemory()
    memory.observe(verify_checkpoint(honest, trusted), None)
    with pytest.raises(InconsistentCheckpoint) as info:
        memory.observe(verify_checkpoint(evil, trusted), None)
    assert info.value.code == "split_view"
    witness = reg.witnesses[0]
    witness.add_checkpoint(0, [], honest)
    with pytest.raises(WitnessSplitView) as refused:
        witness.add_checkpoint(6, [], evil)
    assert refused.value.code == "split_view"


def test_file_memory_persists_atomically(tmp_path: Path) -> None:
    path = tmp_path / "home" / "checkpoints.json"
    tree = _tree(30)
    first = FileCheckpointMemory(path)
    first.observe(_cp(tree, 10), None)
    other = Checkpoint("other.example/log", 3, SM3.digest(b"x"))
    first.observe(other, None)
    second = FileCheckpointMemory(path)
    assert second.latest(ORIGIN) == _cp(tree, 10)
    assert second.latest("other.example/log") == other
    second.observe(_cp(tree, 30), tree.consistency_proof(10, 30))
    assert first.latest(ORIGIN) == _cp(tree, 30)
    assert sorted(os.listdir(path.parent)) == ["checkpoints.json", "checkpoints.json.lock"]
    with pytest.raises(InconsistentCheckpoint):
        first.observe(_cp(_tree(30, b"x"), 30), None)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[]",
        b'{"version": 2, "checkpoints": {}}',
        b'{"version": 1}',
        b'{"version": 1, "checkpoints": {"a": {"text": "b\\n0\\nAAAA\\n", "hash_size": 3}}}',
    ],
)
def test_corrupt_memory_file_is_a_store_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "checkpoints.json"
    path.write_bytes(content)
    with pytest.raises(StoreError):
        FileCheckpointMemory(path).latest(ORIGIN)


# --- receipts ----------------------------------------------------------------------------------


def _anchored(reg: Registry, count: int = 5) -> tuple[list[bytes], str]:
    entries = []
    for i in range(count):
        entry = AnchorEntry.create(
            bytes([i]) * 32, "https://cra.example.hk", "urn:t", 10, 20
        ).encode()
        entries.append(entry)
        reg.tree.append(entry)
    return entries, reg.publish()


def test_receipt_round_trip_and_verification() -> None:
    reg = Registry()
    entries, note = _anchored(reg, 7)
    receipt = Receipt(3, entries[3], reg.tree.inclusion_proof(3), note)
    text = receipt.to_json()
    assert set(json.loads(text)) == {"index", "entry", "inclusion_proof", "checkpoint"}
    assert Receipt.from_json(text) == receipt
    assert Receipt.from_json(text.encode()) == receipt
    assert Receipt.from_json(receipt.to_dict()) == receipt
    checkpoint = verify_receipt(Receipt.from_json(text), reg.trusted(), expected_entry=entries[3])
    assert checkpoint.size == 7 and checkpoint.root == reg.tree.root()
    # still valid after the log grew: the receipt is self-contained
    _anchored(reg, 3)
    assert verify_receipt(receipt, reg.trusted()).size == 7


def test_receipt_with_sm3_log() -> None:
    reg = Registry(alg=SM3)
    entries, note = _anchored(reg, 4)
    receipt = Receipt(2, entries[2], reg.tree.inclusion_proof(2), note)
    assert verify_receipt(receipt, reg.trusted()).size == 4
    with pytest.raises(InvalidProof):
        verify_receipt(receipt, TrustedLog.from_keys_json(reg.keys()))  # read as sha-256


def test_receipt_failures_have_names() -> None:
    reg = Registry()
    entries, note = _anchored(reg, 6)
    proof = reg.tree.inclusion_proof(4)
    good = Receipt(4, entries[4], proof, note)
    verify_receipt(good, reg.trusted())
    cases: list[tuple[Receipt, type[RegistryError], dict[str, Any]]] = [
        (good, InvalidReceipt, {"expected_entry": entries[3]}),
        (Receipt(3, entries[4], proof, note), InvalidProof, {}),
        (Receipt(4, entries[3], proof, note), InvalidProof, {}),
        (Receipt(6, entries[4], proof, note), InvalidReceipt, {}),
        (Receipt(4, entries[4], proof[:-1], note), InvalidProof, {}),
        (Receipt(4, entries[4], [proof[1], proof[0], *proof[2:]], note), InvalidProof, {}),
        (Receipt(4, entries[4], proof, reg.signed()), WitnessQuorumNotMet, {}),
        (Receipt(4, entries[4], proof, note.replace("\n6\n", "\n7\n")), InvalidNote, {}),
        (Receipt(4, b"\x01\x09junk", proof, note), InvalidEntry, {}),
    ]
    for receipt, error, kw in cases:
        with pytest.raises(error):
            verify_receipt(receipt, reg.trusted(), **kw)
    other = Registry()
    with pytest.raises(UnknownLogKey):
        verify_receipt(good, other.trusted())


def test_a_revocation_receipt_verifies_too() -> None:
    reg = Registry()
    _anchored(reg, 2)
    revocation = RevocationEntry(bytes([1]) * 32, "keyCompromise", 30).encode()
    reg.tree.append(revocation)
    note = reg.publish()
    assert verify_receipt(Receipt(2, revocation, reg.tree.inclusion_proof(2), note), reg.trusted())


def _doc(**change: Any) -> dict[str, Any]:
    reg = Registry()
    entries, note = _anchored(reg, 2)
    doc = Receipt(1, entries[1], reg.tree.inclusion_proof(1), note).to_dict()
    doc.update(change)
    return doc


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        "[]",
        json.dumps({**_doc(), "extra": 1}),
        json.dumps({k: v for k, v in _doc().items() if k != "checkpoint"}),
        _doc(index=-1),
        _doc(index=True),
        _doc(index="1"),
        _doc(index=2**63),
        _doc(entry=""),
        _doc(entry=base64.urlsafe_b64encode(b"\xfb\xff" * 20).decode()),
        _doc(entry=base64.b64encode(b"\0" * 5000).decode()),
        _doc(inclusion_proof="AAAA"),
        _doc(inclusion_proof=["AAAA"] * 65),
        _doc(inclusion_proof=[""]),
        _doc(inclusion_proof=["AAA"]),
        _doc(checkpoint=5),
        _doc(checkpoint="x" * 70_000),
        "x" * 200_000,
    ],
)
def test_malformed_receipts_are_refused(doc: Any) -> None:
    with pytest.raises(InvalidReceipt) as info:
        Receipt.from_json(doc)
    assert info.value.code == "invalid_receipt"
