"""C2SP signed notes, tlog-cosignature/v1 and tlog-checkpoint, against the published examples."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hash_registry.checkpoint import Checkpoint
from hash_registry.errors import InvalidCheckpoint, InvalidKey, InvalidNote, UnknownLogKey
from hash_registry.merkle import MemoryTree, verify_inclusion
from hash_registry.note import (
    MAX_NOTE_SIZE,
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    CosignatureSigner,
    CosignatureVerifier,
    NoteSigner,
    NoteVerifier,
    add_signature_lines,
    generate_vkey_pair,
    key_id,
    open_note,
    sign_note,
    signer_from_skey,
    split_note,
    verifier_from_vkey,
)

VECTORS = Path(__file__).parent / "vectors" / "merkle"
NOTES = json.loads((VECTORS / "c2sp-notes" / "signed_notes.json").read_text())["vectors"]
BY_NAME = {v["name"]: v for v in NOTES}
REFERENCE = json.loads((VECTORS / "reference_tree.json").read_text())
COSIGNED = BY_NAME["checkpoint_with_ed25519_cosignature_v1"]


def _seeded(hex_seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hex_seed))


def _log_signer() -> NoteSigner:
    return NoteSigner(
        "example.com/test-log", _seeded(COSIGNED["test_private_keys"]["log_ed25519_seed_hex"])
    )


def _witness_signer() -> CosignatureSigner:
    return CosignatureSigner(
        "witness.example.com/w1", _seeded(COSIGNED["test_private_keys"]["witness_ed25519_seed_hex"])
    )


# --- the published vectors ------------------------------------------------------------


@pytest.mark.parametrize("vector", NOTES, ids=lambda v: v["name"])
def test_c2sp_note_vectors(vector: dict[str, Any]) -> None:
    verifiers = [verifier_from_vkey(k) for k in vector["verifier_keys"]]
    assert [v.vkey for v in verifiers] == vector["verifier_keys"]
    expect = vector["expect"]
    if not expect["valid"]:
        with pytest.raises(InvalidNote) as info:
            open_note(vector["note"], verifiers)
        assert info.value.code == "invalid_note"
        return
    opened = open_note(vector["note"], verifiers)
    assert [s.name for s in opened.signatures] == expect["verified_by"]
    assert [u.name for u in opened.unverified] == expect.get("ignored_lines", [])
    if "origin" in expect:
        checkpoint = Checkpoint.parse(opened.text)
        assert checkpoint.origin == expect["origin"]
        assert checkpoint.size == expect["size"]
        if "root_hash_b64" in expect:
            assert checkpoint.root_b64 == expect["root_hash_b64"]


def test_cosigned_checkpoint_vector_end_to_end() -> None:
    log_v, witness_v = (verifier_from_vkey(k) for k in COSIGNED["verifier_keys"])
    assert isinstance(log_v, NoteVerifier)
    assert isinstance(witness_v, CosignatureVerifier)
    assert f"{log_v.key_id:08x}" == COSIGNED["key_ids"]["log"]["key_id_hex"]
    assert f"{witness_v.key_id:08x}" == COSIGNED["key_ids"]["witness"]["key_id_hex"]

    opened = open_note(COSIGNED["note"], [log_v, witness_v])
    assert opened.text == COSIGNED["checkpoint_text"]
    assert opened.signed_by(log_v) and opened.signed_by(witness_v)
    assert opened.timestamp_of(witness_v) == COSIGNED["cosignature"]["timestamp"]
    assert opened.timestamp_of(log_v) is None

    # the checkpoint commits to the 8-leaf reference tree; a proof from it verifies
    checkpoint = Checkpoint.parse(opened.text)
    assert checkpoint.to_text() == COSIGNED["checkpoint_text"]
    tree = MemoryTree()
    for data in REFERENCE["leaf_inputs_hex"]:
        tree.append(bytes.fromhex(data))
    assert tree.root() == checkpoint.root
    verify_inclusion(
        5, checkpoint.size, tree.leaf_hash(5), tree.inclusion_proof(5), checkpoint.root
    )

    # the witness key alone does not make the cosignature a log signature, and vice versa
    assert open_note(COSIGNED["note"], [witness_v]).signatures[0].name == "witness.example.com/w1"


def test_we_reproduce_the_vector_signatures_from_the_test_keys() -> None:
    log, witness = _log_signer(), _witness_signer()
    assert [log.vkey, witness.vkey] == COSIGNED["verifier_keys"]
    assert log.skey == COSIGNED["test_private_keys"]["log_skey_go_note_format"]
    text = COSIGNED["checkpoint_text"]
    line = witness.cosign(text, COSIGNED["cosignature"]["timestamp"])
    # Ed25519 is deterministic: our lines are byte-for-byte the published ones
    assert sign_note(text, [log]) + line == COSIGNED["note"]


def test_cosignature_signed_message_layout() -> None:
    witness = _witness_signer()
    line = witness.cosign(COSIGNED["checkpoint_text"], COSIGNED["cosignature"]["timestamp"])
    raw = base64.b64decode(line.rsplit(" ", 1)[1])
    assert int.from_bytes(raw[:4], "big") == witness.key_id
    assert int.from_bytes(raw[4:12], "big") == COSIGNED["cosignature"]["timestamp"]
    message = COSIGNED["cosignature"]["signed_message"].encode()
    _witness_signer()._private_key.public_key().verify(raw[12:], message)


def test_key_id_rule() -> None:
    vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    public = base64.b64decode(vkey.split("+")[2])
    assert key_id("example.com/foo", public[0], public[1:]) == 0x530D903A


# --- signing and opening our own notes ------------------------------------------------


def test_generated_keys_round_trip() -> None:
    skey, vkey = generate_vkey_pair("registry.example/log")
    signer = signer_from_skey(skey)
    assert isinstance(signer, NoteSigner)
    assert signer.vkey == vkey
    note = sign_note("hello\n", [signer])
    assert open_note(note, [NoteVerifier.from_vkey(vkey)]).text == "hello\n"

    wskey, wvkey = generate_vkey_pair("registry.example/witness", SIG_COSIGNATURE_V1)
    witness = signer_from_skey(wskey)
    assert isinstance(witness, CosignatureSigner)
    both = note + witness.cosign("hello\n", 1_800_000_000)
    opened = open_note(both, [NoteVerifier.from_vkey(vkey), CosignatureVerifier.from_vkey(wvkey)])
    assert len(opened.signatures) == 2
    assert opened.timestamp_of(witness.verifier()) == 1_800_000_000
    with pytest.raises(InvalidKey):
        NoteVerifier.from_vkey(wvkey)  # a cosignature key is not a note-signing key
    with pytest.raises(InvalidKey):
        CosignatureVerifier.from_vkey(vkey)


def test_a_known_key_with_a_bad_signature_rejects_the_note() -> None:
    log = _log_signer()
    note = sign_note("a\nb\n", [log])
    tampered = note.replace("a\nb\n", "a\nc\n", 1)
    with pytest.raises(InvalidNote, match="does not verify"):
        open_note(tampered, [log.verifier()])
    # a good signature from another known key does not save it
    other = NoteSigner("other.example", Ed25519PrivateKey.generate())
    with pytest.raises(InvalidNote):
        open_note(tampered + other.sign("a\nc\n"), [log.verifier(), other.verifier()])


def test_unknown_keys_only_is_unknown_log_key() -> None:
    note = sign_note("a\n", [_log_signer()])
    stranger = NoteVerifier("someone.example", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(UnknownLogKey) as info:
        open_note(note, [stranger])
    assert info.value.code == "unknown_log_key"
    with pytest.raises(UnknownLogKey):
        open_note(note, [])


def test_same_name_other_key_is_ignored_not_failed() -> None:
    log = _log_signer()
    impostor = NoteSigner(log.name, Ed25519PrivateKey.generate())
    note = sign_note("a\n", [impostor, log])
    opened = open_note(note, [log.verifier()])
    assert [s.key_id for s in opened.signatures] == [log.key_id]
    assert [u.key_id for u in opened.unverified] == [impostor.key_id]


def test_a_cosignature_with_an_altered_timestamp_fails() -> None:
    witness = _witness_signer()
    text = COSIGNED["checkpoint_text"]
    line = witness.cosign(text, 1000)
    raw = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    raw[11] ^= 1
    forged = f"— {witness.name} {base64.b64encode(bytes(raw)).decode()}\n"
    note = sign_note(text, [_log_signer()]) + forged
    with pytest.raises(InvalidNote):
        open_note(note, [_log_signer().verifier(), witness.verifier()])


def test_duplicate_signature_from_a_known_key_is_refused() -> None:
    log = _log_signer()
    note = sign_note("a\n", [log, log])
    with pytest.raises(InvalidNote, match="two signatures"):
        open_note(note, [log.verifier()])


GOOD = sign_note("origin\n1\n" + "A" * 43 + "=\n", [NoteSigner("k", Ed25519PrivateKey.generate())])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n— k AAAAAAA=\n",
        "text\n\n",  # no signatures
        "text\n\n— k AAAAAAA=",  # no final newline
        "text\n\n- k AAAAAAA=\n",  # hyphen, not em dash
        "text\n\n—k AAAAAAA=\n",  # no space after the dash
        "text\n\n— k+x AAAAAAA=\n",  # '+' in the key name
        "text\n\n—  AAAAAAA=\n",  # empty key name
        "text\n\n— k AAAA\n",  # fewer than 5 bytes
        "text\n\n— k AAAAAAA\n",  # missing padding
        "text\n\n— k AAAAAA-_\n",  # base64url alphabet
        "text\n\n— k AAAAAAB=\n",  # non-canonical trailing bits
        "text\n\n— k  AAAAAAA=\n",  # two spaces
        "te\tx\n\n— k AAAAAAA=\n",  # tab
        "text\r\n\n— k AAAAAAA=\n",  # carriage return
        "te\x00xt\n\n— k AAAAAAA=\n",  # NUL
        "te\x1bxt\n\n— k AAAAAAA=\n",  # escape
        "text\n\n— k AAAAAAA=\n\n",  # blank line after the signatures
        "te\ud800xt\n\n— k AAAAAAA=\n",  # lone surrogate: not UTF-8
        b"te\xffxt\n\n\xe2\x80\x94 k AAAAAAA=\n",  # invalid UTF-8 bytes
    ],
)
def test_malformed_notes_are_refused(bad: str | bytes) -> None:
    with pytest.raises(InvalidNote) as info:
        open_note(bad, [NoteVerifier("k", Ed25519PrivateKey.generate().public_key())])
    assert info.value.code in {"invalid_note", "invalid_note_key"}


def test_size_and_signature_count_limits() -> None:
    signer = NoteSigner("k", Ed25519PrivateKey.generate())
    big = "x" * (MAX_NOTE_SIZE) + "\n"
    with pytest.raises(InvalidNote, match="larger"):
        open_note(big + "\n" + "— k AAAAAAA=\n", [signer.verifier()])
    with pytest.raises(InvalidNote, match="larger"):
        signer.sign(big)
    many = "t\n\n" + "— z AAAAAAA=\n" * (MAX_SIGNATURES + 1)
    with pytest.raises(InvalidNote, match="more than"):
        open_note(many, [signer.verifier()])
    # the spec asks verifiers to accept at least 16 signatures
    strangers = "".join(
        NoteSigner(f"s{i}", Ed25519PrivateKey.generate()).sign("t\n") for i in range(20)
    )
    opened = open_note(sign_note("t\n", [signer]) + strangers, [signer.verifier()])
    assert len(opened.unverified) == 20


@pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "nul\x00\n"])
def test_signing_refuses_bad_text(text: str) -> None:
    with pytest.raises(InvalidNote):
        sign_note(text, [_log_signer()])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "tab\t", "\u2003"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidKey):
        NoteSigner(name, Ed25519PrivateKey.generate())


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "nameonly",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong ID
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # uppercase
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  # bad base64
        "example.com/foo+530d903a+Aeky",  # short key
        "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "x" * 5000,
    ],
)
def test_bad_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(InvalidKey) as info:
        verifier_from_vkey(vkey)
    assert info.value.code == "invalid_note_key"


def test_bad_skeys_are_refused() -> None:
    good = COSIGNED["test_private_keys"]["log_skey_go_note_format"]
    for bad in [
        good.replace("0fc0bcd8", "0fc0bcd9"),
        good[:-4],
        "PRIVATE+KEY+x",
        good.replace("PRIVATE", "PUBLIC"),
    ]:
        with pytest.raises(InvalidKey):
            signer_from_skey(bad)


def test_add_signature_lines_merges_without_duplicates() -> None:
    log, witness = _log_signer(), _witness_signer()
    text = COSIGNED["checkpoint_text"]
    note = sign_note(text, [log])
    line = witness.cosign(text, COSIGNED["cosignature"]["timestamp"])
    merged = add_signature_lines(note, [line, line])
    assert merged == COSIGNED["note"]
    assert add_signature_lines(merged, [line]) == merged
    with pytest.raises(InvalidNote):
        add_signature_lines(note, ["— w bad\n"])
    with pytest.raises(InvalidNote):
        add_signature_lines(note, ["no newline"])
    text_part, lines = split_note(merged)
    assert text_part == text and [x.name for x in lines] == [log.name, witness.name]


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip_with_extensions() -> None:
    cp = Checkpoint("example.com/log", 20852163, bytes(range(32)), ("ext one", "ext two"))
    text = cp.to_text()
    assert (
        text
        == f"example.com/log\n20852163\n{base64.b64encode(bytes(range(32))).decode()}\next one\next two\n"
    )
    assert Checkpoint.parse(text) == cp
    assert Checkpoint.parse("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").size == 0


ROOT = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@pytest.mark.parametrize(
    "text",
    [
        f"o\n1\n{ROOT}",  # no final newline
        "o\n1\n",  # no root
        f"\n1\n{ROOT}\n",  # empty origin
        f"o\n01\n{ROOT}\n",  # leading zero
        f"o\n-1\n{ROOT}\n",
        f"o\n+1\n{ROOT}\n",
        f"o\n 1\n{ROOT}\n",
        f"o\n1.0\n{ROOT}\n",
        f"o\n99999999999999999999\n{ROOT}\n",  # beyond 2**63-1
        f"o\n9223372036854775808\n{ROOT}\n",
        f"o\n1\n{ROOT[:-1]}\n",  # missing padding
        f"o\n1\n{ROOT.replace('+', '-').replace('/', '_')}\n",  # base64url
        "o\n1\nAAAA\n",  # 3 bytes
        f"o\n1\n{ROOT}\n\n",  # empty extension line
        f"o\t\n1\n{ROOT}\n",
        f"o\n1\n{ROOT}\nx\ty\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(InvalidCheckpoint) as info:
        Checkpoint.parse(text)
    assert info.value.code == "invalid_checkpoint"


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(InvalidCheckpoint):
        Checkpoint("", 1, b"\0" * 32)
    with pytest.raises(InvalidCheckpoint):
        Checkpoint("o", -1, b"\0" * 32)
    with pytest.raises(InvalidCheckpoint):
        Checkpoint("o", True, b"\0" * 32)
    with pytest.raises(InvalidCheckpoint):
        Checkpoint("o", 1, b"\0" * 32, ("a\nb",))
    assert Checkpoint("o", 1, b"\0" * 32, ["x"]).extensions == ("x",)  # type: ignore[arg-type]
    assert Checkpoint.parse(f"o\n9223372036854775807\n{ROOT}\n").size == 2**63 - 1
    with pytest.raises(InvalidCheckpoint):
        Checkpoint.parse(f"o\n1\n{ROOT}\n", hash_size=48)
