"""C2SP signed notes (signed-note v1.0.0) and tlog-cosignature v1 witness cosignatures.

A note is UTF-8 text ending in ``\\n``, a blank line, then signature lines
``— <key name> <base64(4-byte key ID || signature)>\\n``. We sign with Ed25519
(type 0x01) and cosign with timestamped Ed25519 (type 0x04, message
``"cosignature/v1\\ntime <ts>\\n" + text``). Verification follows the spec:
lines from unknown (name, key ID) pairs are ignored; a known key's signature that
fails rejects the whole note; no verified known key rejects it too.

Limits (so a hostile note costs little): at most :data:`MAX_NOTE_SIZE` bytes
(64 KiB: a checkpoint with 100 Ed25519 signature lines is under 16 KiB, which
leaves room for a few post-quantum lines from cosigners we ignore) and at most
:data:`MAX_SIGNATURES` signature lines (the spec asks verifiers to accept 16).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import InvalidKey, InvalidNote, RegistryError, UnknownLogKey
from .merkle import SHA256

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04

MAX_NOTE_SIZE = 64 * 1024
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1

SIG_PREFIX = "\u2014 "  # em dash, space
_COSIG_HEADER = "cosignature/v1\n"
_BAD_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_B64STD = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX8 = re.compile(r"[0-9a-f]{8}")


# --- base64 (standard alphabet, padded: the alphabet of notes and checkpoints) ----


def b64std_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64std_decode(
    text: object, *, what: str = "value", error: type[RegistryError] = InvalidNote
) -> bytes:
    """Decode standard padded base64, refusing every other spelling of the bytes."""
    if not isinstance(text, str) or not _B64STD.fullmatch(text):
        raise error(f"{what} is not standard padded base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not standard padded base64") from exc
    if b64std_encode(raw) != text:
        raise error(f"{what} has non-canonical base64 trailing bits")
    return raw


# --- names, texts, key IDs -----------------------------------------------------


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidNote(f"{what} is not valid UTF-8") from exc


def check_key_name(name: object) -> str:
    """A key name: non-empty, no Unicode spaces, no ``+``, no control characters."""
    if (
        not isinstance(name, str)
        or not name
        or "+" in name
        or any(c.isspace() or c < " " for c in name)
    ):
        raise InvalidKey(f"invalid note key name {name!r:.80}")
    _utf8(name, "the key name")
    return name


def check_note_text(text: object) -> str:
    """Note text: UTF-8, no control characters but ``\\n``, ending in ``\\n``."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise InvalidNote("the note text must be a string ending in a newline")
    if _BAD_CONTROL.search(text):
        raise InvalidNote("the note text contains a control character")
    if len(_utf8(text, "the note text")) > MAX_NOTE_SIZE:
        raise InvalidNote(f"the note text is larger than {MAX_NOTE_SIZE} bytes")
    return text


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32."""
    digest = SHA256.digest(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key)
    return int.from_bytes(digest[:4], "big")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _vkey(name: str, sig_type: int, public: bytes) -> str:
    return (
        f"{name}+{key_id(name, sig_type, public):08x}+{b64std_encode(bytes([sig_type]) + public)}"
    )


def _signature_line(name: str, kid: int, signature: bytes) -> str:
    return f"{SIG_PREFIX}{name} {b64std_encode(kid.to_bytes(4, 'big') + signature)}\n"


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return f"{_COSIG_HEADER}time {timestamp}\n".encode("ascii") + text


def _parse_vkey(vkey: object) -> tuple[str, int, int, bytes]:
    """(name, key ID, type, public key) of a ``<name>+<hex8>+<base64(type||key)>`` string."""
    if not isinstance(vkey, str) or len(vkey) > 4096:
        raise InvalidKey("a verifier key must be a short string")
    parts = vkey.split("+", 2)
    if len(parts) != 3 or not _HEX8.fullmatch(parts[1]):
        raise InvalidKey(f"not a note verifier key: {vkey!r:.80}")
    name = check_key_name(parts[0])
    raw = b64std_decode(parts[2], what="the verifier key", error=InvalidKey)
    if len(raw) < 2:
        raise InvalidKey("the verifier key has no key material")
    kid = int(parts[1], 16)
    if key_id(name, raw[0], raw[1:]) != kid:
        raise InvalidKey(f"the key ID of {name} does not match its public key")
    return name, kid, raw[0], raw[1:]


# --- verifiers -----------------------------------------------------------------


class Verifier(Protocol):
    """What :func:`open_note` needs from a key: its name, ID, and a verify function."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    @property
    def vkey(self) -> str: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class _Ed25519Verifier:
    sig_type: int = SIG_ED25519

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        self._name = check_key_name(name)
        self._public_key = public_key
        self._public = _raw_public(public_key)
        self._key_id = key_id(self._name, self.sig_type, self._public)

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex8>+<base64(type||key)>``; the type must be this class's."""
        name, _, sig_type, public = _parse_vkey(vkey)
        if sig_type != cls.sig_type:
            raise InvalidKey(f"{name}: key type 0x{sig_type:02x}, expected 0x{cls.sig_type:02x}")
        if len(public) != 32:
            raise InvalidKey(f"{name}: an Ed25519 public key is 32 bytes")
        try:
            key = Ed25519PublicKey.from_public_bytes(public)
        except ValueError as exc:
            raise InvalidKey(f"{name}: not an Ed25519 public key") from exc
        return cls(name, key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def vkey(self) -> str:
        return _vkey(self._name, self.sig_type, self._public)

    @property
    def public_key_bytes(self) -> bytes:
        return self._public

    def _ed25519(self, message: bytes, signature: bytes) -> bool:
        try:
            self._public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Ed25519Verifier)
            and type(other) is type(self)
            and other.vkey == self.vkey
        )

    def __hash__(self) -> int:
        return hash((type(self), self.vkey))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vkey!r})"


class NoteVerifier(_Ed25519Verifier):
    """An Ed25519 (type 0x01) note verifier: the log's checkpoint key."""

    sig_type = SIG_ED25519

    def verify(self, text: bytes, signature: bytes) -> bool:
        return len(signature) == 64 and self._ed25519(text, signature)


class CosignatureVerifier(_Ed25519Verifier):
    """A tlog-cosignature/v1 (type 0x04) verifier: a witness's key."""

    sig_type = SIG_COSIGNATURE_V1

    @staticmethod
    def timestamp(signature: bytes) -> int:
        """The POSIX time a cosignature carries (its first 8 bytes, big-endian)."""
        return int.from_bytes(signature[:8], "big")

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 72:
            return False
        ts = self.timestamp(signature)
        return ts <= MAX_TIMESTAMP and self._ed25519(_cosigned_message(text, ts), signature[8:])


def verifier_from_vkey(vkey: str) -> NoteVerifier | CosignatureVerifier:
    """A verifier of whichever supported type the vkey names (0x01 or 0x04)."""
    _, _, sig_type, _ = _parse_vkey(vkey)
    if sig_type == SIG_ED25519:
        return NoteVerifier.from_vkey(vkey)
    if sig_type == SIG_COSIGNATURE_V1:
        return CosignatureVerifier.from_vkey(vkey)
    raise InvalidKey(f"unsupported note signature type 0x{sig_type:02x}")


# --- signers -------------------------------------------------------------------


class _Ed25519Signer:
    sig_type: int = SIG_ED25519

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._name = check_key_name(name)
        self._private_key = private_key
        self._public = _raw_public(private_key.public_key())
        self._key_id = key_id(self._name, self.sig_type, self._public)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def vkey(self) -> str:
        return _vkey(self._name, self.sig_type, self._public)

    @property
    def skey(self) -> str:
        """The private key as ``PRIVATE+KEY+<name>+<hex8>+<base64(type||seed)>`` (Go's format)."""
        seed = self._private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        body = b64std_encode(bytes([self.sig_type]) + seed)
        return f"PRIVATE+KEY+{self._name}+{self._key_id:08x}+{body}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vkey!r})"


class NoteSigner(_Ed25519Signer):
    """Signs notes with Ed25519 (type 0x01): the log's checkpoint signer."""

    sig_type = SIG_ED25519

    def sign(self, text: str) -> str:
        """One signature line (ending in ``\\n``) over ``text``."""
        data = check_note_text(text).encode("utf-8")
        return _signature_line(self._name, self._key_id, self._private_key.sign(data))

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self._name, self._private_key.public_key())


class CosignatureSigner(_Ed25519Signer):
    """A witness's tlog-cosignature/v1 signer (type 0x04)."""

    sig_type = SIG_COSIGNATURE_V1

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """One cosignature line (ending in ``\\n``) over the checkpoint text at ``timestamp``."""
        if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise InvalidNote("a cosignature timestamp is an integer in [0, 2**63-1]")
        data = check_note_text(checkpoint_text).encode("utf-8")
        sig = self._private_key.sign(_cosigned_message(data, timestamp))
        return _signature_line(self._name, self._key_id, timestamp.to_bytes(8, "big") + sig)

    def sign(self, text: str) -> str:
        """Cosign at the current time (so a cosigner can be passed to :func:`sign_note`)."""
        return self.cosign(text, int(time.time()))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._private_key.public_key())


class Signer(Protocol):
    """Anything that turns note text into one signature line."""

    def sign(self, text: str) -> str: ...


def generate_vkey_pair(name: str, sig_type: int = SIG_ED25519) -> tuple[str, str]:
    """A fresh key: ``(skey, vkey)``, the skey in Go's ``PRIVATE+KEY+…`` format."""
    key = Ed25519PrivateKey.from_private_bytes(secrets.token_bytes(32))
    signer: _Ed25519Signer
    if sig_type == SIG_ED25519:
        signer = NoteSigner(name, key)
    elif sig_type == SIG_COSIGNATURE_V1:
        signer = CosignatureSigner(name, key)
    else:
        raise InvalidKey(f"unsupported note signature type 0x{sig_type:02x}")
    return signer.skey, signer.vkey


def signer_from_skey(skey: str) -> NoteSigner | CosignatureSigner:
    """Load a signer from its ``PRIVATE+KEY+<name>+<hex8>+<base64(type||seed)>`` string."""
    if not isinstance(skey, str) or len(skey) > 4096:
        raise InvalidKey("a signer key must be a short string")
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX8.fullmatch(parts[3]):
        raise InvalidKey("not a PRIVATE+KEY+<name>+<id>+<key> signer key")
    name = check_key_name(parts[2])
    raw = b64std_decode(parts[4], what="the signer key", error=InvalidKey)
    if len(raw) != 33:
        raise InvalidKey("an Ed25519 signer key is a type byte and a 32-byte seed")
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    signer: NoteSigner | CosignatureSigner
    if raw[0] == SIG_ED25519:
        signer = NoteSigner(name, key)
    elif raw[0] == SIG_COSIGNATURE_V1:
        signer = CosignatureSigner(name, key)
    else:
        raise InvalidKey(f"unsupported note signature type 0x{raw[0]:02x}")
    if signer.key_id != int(parts[3], 16):
        raise InvalidKey(f"the key ID of {name} does not match its key")
    return signer


# --- notes ---------------------------------------------------------------------


class SignatureLine(NamedTuple):
    """One parsed (not yet verified) signature line."""

    name: str
    key_id: int
    signature: bytes
    line: str  # the line as it appeared, with its final newline


class VerifiedSignature(NamedTuple):
    name: str
    key_id: int
    verifier: Verifier


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from known keys all verified.

    ``signatures`` lists the verified ones; ``unverified`` the lines from unknown
    keys (kept so they can be passed on, never trusted); ``timestamps`` maps the
    ``(name, key_id)`` of each verified cosignature (type 0x04) to its POSIX time.
    """

    text: str
    signatures: list[VerifiedSignature]
    unverified: list[SignatureLine] = field(default_factory=list)
    timestamps: dict[tuple[str, int], int] = field(default_factory=dict)

    def signed_by(self, verifier: Verifier) -> bool:
        return any(s.name == verifier.name and s.key_id == verifier.key_id for s in self.signatures)

    def timestamp_of(self, verifier: Verifier) -> int | None:
        return self.timestamps.get((verifier.name, verifier.key_id))


def split_note(
    note: str | bytes, *, max_size: int = MAX_NOTE_SIZE
) -> tuple[str, list[SignatureLine]]:
    """Parse a signed note into its text and signature lines, without verifying anything."""
    if isinstance(note, bytes | bytearray):
        if len(note) > max_size:
            raise InvalidNote(f"the note is larger than {max_size} bytes")
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidNote("the note is not valid UTF-8") from exc
    if not isinstance(note, str):
        raise InvalidNote("a note is text")
    if len(note) > max_size or len(_utf8(note, "the note")) > max_size:
        raise InvalidNote(f"the note is larger than {max_size} bytes")
    if _BAD_CONTROL.search(note):
        raise InvalidNote("the note contains a control character")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise InvalidNote("the note has no blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    if not block or not block.endswith("\n"):
        raise InvalidNote("the note's signature block is empty or lacks its final newline")
    raw_lines = block[:-1].split("\n")
    if len(raw_lines) > MAX_SIGNATURES:
        raise InvalidNote(f"the note has more than {MAX_SIGNATURES} signatures")
    lines = [_parse_signature_line(raw) for raw in raw_lines]
    return text, lines


def _parse_signature_line(raw: str) -> SignatureLine:
    if not raw.startswith(SIG_PREFIX):
        raise InvalidNote(f"not a signature line: {raw!r:.80}")
    name, _, b64 = raw[len(SIG_PREFIX) :].partition(" ")
    try:
        check_key_name(name)
    except InvalidKey as exc:
        raise InvalidNote(f"invalid key name in signature line: {name!r:.80}") from exc
    sig = b64std_decode(b64, what=f"the signature of {name}")
    if len(sig) < 5:
        raise InvalidNote(f"the signature of {name} is too short")
    return SignatureLine(name, int.from_bytes(sig[:4], "big"), sig[4:], raw + "\n")


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        pair = (v.name, v.key_id)
        if pair in known and known[pair].vkey != v.vkey:
            raise InvalidKey(f"two different keys share the name and ID {v.name}+{v.key_id:08x}")
        known[pair] = v
    return known


def open_note(
    note: str | bytes, verifiers: Sequence[Verifier], *, max_size: int = MAX_NOTE_SIZE
) -> OpenedNote:
    """Verify a signed note against the known keys ``verifiers`` (C2SP rules, see module doc).

    Raises :class:`InvalidNote` (malformed, too big, a known key's signature fails,
    a known key signed twice) or :class:`UnknownLogKey` (no known key signed it).
    """
    text, lines = split_note(note, max_size=max_size)
    known = _index_verifiers(verifiers)
    data = text.encode("utf-8")
    verified: list[VerifiedSignature] = []
    unverified: list[SignatureLine] = []
    timestamps: dict[tuple[str, int], int] = {}
    seen_unknown: set[str] = set()
    for line in lines:
        pair = (line.name, line.key_id)
        verifier = known.get(pair)
        if verifier is None:
            if line.line not in seen_unknown:
                seen_unknown.add(line.line)
                unverified.append(line)
            continue
        if any((s.name, s.key_id) == pair for s in verified):
            raise InvalidNote(f"the note carries two signatures from {line.name}")
        if not verifier.verify(data, line.signature):
            raise InvalidNote(
                f"the signature from known key {line.name}+{line.key_id:08x} does not verify"
            )
        verified.append(VerifiedSignature(line.name, line.key_id, verifier))
        if isinstance(verifier, CosignatureVerifier):
            timestamps[pair] = CosignatureVerifier.timestamp(line.signature)
    if not verified:
        raise UnknownLogKey("no signature on the note is from a known key")
    return OpenedNote(text, verified, unverified, timestamps)


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note: ``text``, a blank line, one signature line per signer."""
    check_note_text(text)
    if not signers:
        raise InvalidNote("a signed note needs at least one signer")
    return text + "\n" + "".join(s.sign(text) for s in signers)


def add_signature_lines(note: str, lines: Iterable[str]) -> str:
    """Append signature lines (e.g. a witness's cosignatures) to a signed note.

    Each line is checked for form (not verified: open the result to verify);
    lines already on the note are not repeated.
    """
    text, existing = split_note(note)
    have = {sig.line for sig in existing}
    out = [sig.line for sig in existing]
    for line in lines:
        if not isinstance(line, str) or not line.endswith("\n") or "\n" in line[:-1]:
            raise InvalidNote("a signature line is one line ending in a newline")
        parsed = _parse_signature_line(line[:-1])
        if parsed.line not in have:
            have.add(parsed.line)
            out.append(parsed.line)
    result = text + "\n" + "".join(out)
    split_note(result)  # re-check the limits on the merged note
    return result
