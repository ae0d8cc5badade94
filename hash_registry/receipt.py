"""The registry receipt an issuer returns with each credential: offline proof of anchoring.

A receipt is the entry's bytes, its index, the inclusion proof, and the cosigned
checkpoint (a signed note) the proof leads to. Anyone who trusts the log and its
witnesses can check it without contacting the registry.

JSON form (bytes as standard padded base64)::

    {"index": 41, "entry": "AQE…", "inclusion_proof": ["…", …], "checkpoint": "<signed note>"}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .checkpoint import Checkpoint
from .entries import MAX_ENTRY_SIZE, decode_entry
from .errors import InvalidReceipt
from .merkle import MAX_TREE_SIZE, leaf_hash, verify_inclusion
from .note import MAX_NOTE_SIZE, b64std_decode, b64std_encode
from .trust import TrustedLog, verify_checkpoint

MAX_PROOF_LENGTH = 64  # an audit path in a tree of 2**63 leaves has at most 63 hashes
MAX_RECEIPT_JSON = 2 * MAX_NOTE_SIZE


@dataclass(frozen=True)
class Receipt:
    """Proof that ``entry`` is leaf ``index`` of the log as of the cosigned ``checkpoint``."""

    index: int
    entry: bytes
    inclusion_proof: list[bytes]
    checkpoint: str

    def __post_init__(self) -> None:
        if type(self.index) is not int or not 0 <= self.index < MAX_TREE_SIZE:
            raise InvalidReceipt("the receipt's index is not a leaf index")
        if not isinstance(self.entry, bytes) or not 0 < len(self.entry) <= MAX_ENTRY_SIZE:
            raise InvalidReceipt(f"the receipt's entry must be 1-{MAX_ENTRY_SIZE} bytes")
        proof = self.inclusion_proof
        if isinstance(proof, tuple):
            object.__setattr__(self, "inclusion_proof", list(proof))
        elif not isinstance(proof, list):
            raise InvalidReceipt("the inclusion proof is a list of hashes")
        if len(self.inclusion_proof) > MAX_PROOF_LENGTH or not all(
            isinstance(h, bytes) and 0 < len(h) <= 64 for h in self.inclusion_proof
        ):
            raise InvalidReceipt("the inclusion proof is not a short list of hashes")
        if not isinstance(self.checkpoint, str) or len(self.checkpoint) > MAX_NOTE_SIZE:
            raise InvalidReceipt("the receipt's checkpoint is not a signed note")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": b64std_encode(self.entry),
            "inclusion_proof": [b64std_encode(h) for h in self.inclusion_proof],
            "checkpoint": self.checkpoint,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, doc: str | bytes | Mapping[str, Any]) -> Receipt:
        """Parse the JSON text (or the already-parsed object) strictly."""
        if isinstance(doc, str | bytes | bytearray):
            if len(doc) > MAX_RECEIPT_JSON:
                raise InvalidReceipt("the receipt is too large")
            try:
                doc = json.loads(doc)
            except ValueError as exc:
                raise InvalidReceipt("the receipt is not JSON") from exc
        if not isinstance(doc, Mapping):
            raise InvalidReceipt("the receipt is not a JSON object")
        if set(doc) != {"index", "entry", "inclusion_proof", "checkpoint"}:
            raise InvalidReceipt(
                "the receipt must have exactly index, entry, inclusion_proof, checkpoint"
            )
        proof = doc["inclusion_proof"]
        if not isinstance(proof, list) or len(proof) > MAX_PROOF_LENGTH:
            raise InvalidReceipt("the inclusion proof is not a short list")
        entry = b64std_decode(doc["entry"], what="the entry", error=InvalidReceipt)
        hashes = [b64std_decode(h, what="a proof hash", error=InvalidReceipt) for h in proof]
        return cls(doc["index"], entry, hashes, doc["checkpoint"])


def verify_receipt(
    receipt: Receipt, trusted: TrustedLog, *, expected_entry: bytes | None = None
) -> Checkpoint:
    """Check a receipt offline; return the checkpoint it is proven under.

    Checks, in order: the entry is the one expected (if given) and canonical; the
    checkpoint is signed by the log and cosigned by a witness quorum; the entry's
    leaf hash is at ``index`` in that tree. Raises the named error of the first
    failure (``InvalidReceipt``, ``InvalidEntry``, ``UnknownLogKey``,
    ``WitnessQuorumNotMet``, ``InvalidCheckpoint``, ``InvalidProof`` ...).
    """
    if not isinstance(receipt, Receipt):
        raise InvalidReceipt("not a receipt")
    if expected_entry is not None and receipt.entry != expected_entry:
        raise InvalidReceipt("the receipt is for another entry")
    decode_entry(receipt.entry)
    checkpoint = verify_checkpoint(receipt.checkpoint, trusted)
    if receipt.index >= checkpoint.size:
        raise InvalidReceipt(
            f"index {receipt.index} is beyond the checkpoint's {checkpoint.size} leaves"
        )
    verify_inclusion(
        receipt.index,
        checkpoint.size,
        leaf_hash(receipt.entry, trusted.alg),
        receipt.inclusion_proof,
        checkpoint.root,
        trusted.alg,
    )
    return checkpoint
