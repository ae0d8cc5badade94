"""The compact presentation container: an SD-JWT+KB in as few QR bytes as honesty allows.

A presentation ``<jwt>~<d1>~…~<dn>~<kb-jwt>`` is mostly base64url of JSON,
plus signatures and digests that no compressor can shrink. The container
(docs/qr.md §3) keeps the *exact* text recoverable, because every signature and
digest covers exact bytes:

* each base64url segment is carried as its raw bytes (a quarter smaller);
* the JSON segments are DEFLATEd together with a preset dictionary
  (:mod:`vc.qr.dictionary`); signatures stay raw;
* digests the reader can recompute are replaced by short tokens: the digest of
  each presented disclosure (wherever it appears as a JSON string) and the
  KB-JWT's ``sd_hash``. The reader recomputes them from the restored text, so
  nothing the signatures cover is changed or taken on the container's word;
* other high-entropy base64url strings (undisclosed digests, salts, key
  coordinates, the nonce) move out of the DEFLATE stream into a raw area as
  their decoded bytes: DEFLATE would spend more than 6 bits on each character;
* a CRC-32 of the restored text names a damaged decode (``qr_corrupted``)
  before it can surface as a confusing signature failure.

The encoder decodes what it wrote and refuses (``qr_not_encodable``) unless it
gets the identical text back.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .. import strict_json
from ..b64 import b64u_decode, b64u_encode
from ..errors import InvalidBase64, InvalidJSON, LimitExceeded
from .base45 import b45decode, b45encode
from .dictionary import DICTIONARY_V1
from .errors import (
    QRCorrupted,
    QRMalformed,
    QRNotEncodable,
    QRNotPresentation,
    QRTooLarge,
    QRTruncated,
    QRUnsupportedVersion,
)

MAGIC: Final = 0xC5
FORMAT_VERSION: Final = 1
#: Prefix of the Base45 text form, for QR alphanumeric mode.
TEXT_PREFIX: Final = "SC:"

FLAG_KB: Final = 0x01
FLAG_TOKENS: Final = 0x02
_HASH_SHIFT: Final = 2
_HASH_MASK: Final = 0x0C
_KNOWN_FLAGS: Final = FLAG_KB | FLAG_TOKENS | _HASH_MASK

TOKEN_DIGEST: Final = 0x01
TOKEN_SD_HASH: Final = 0x02
TOKEN_RAW: Final = 0x03

#: Digest-token hash ids (flags bits 2-3) and the SD-JWT ``_sd_alg`` names they stand for.
REF_HASHES: Final[tuple[tuple[str, Callable[[bytes], Any]], ...]] = (
    ("sha-256", hashlib.sha256),
    ("sha-384", hashlib.sha384),
    ("sha-512", hashlib.sha512),
)

MAX_CONTAINER: Final = 64 * 1024
MAX_JSON_BLOCK: Final = 64 * 1024
MAX_TEXT: Final = 256 * 1024
MAX_DISCLOSURES: Final = 1024
MAX_SIGNATURE: Final = 256
_MAX_VARINT_BYTES: Final = 4


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Segments:
    """A compact SD-JWT(+KB) as raw bytes: what the base64url text encodes, nothing lost."""

    issuer_header: bytes
    issuer_payload: bytes
    issuer_signature: bytes
    disclosures: tuple[bytes, ...]
    kb: tuple[bytes, bytes, bytes] | None

    def text(self) -> str:
        """The compact serialization these segments spell."""
        jwt = _jws_text(self.issuer_header, self.issuer_payload, self.issuer_signature)
        prefix = "~".join((jwt, *(b64u_encode(d) for d in self.disclosures))) + "~"
        return prefix if self.kb is None else prefix + _jws_text(*self.kb)


def _jws_text(header: bytes, payload: bytes, signature: bytes) -> str:
    return f"{b64u_encode(header)}.{b64u_encode(payload)}.{b64u_encode(signature)}"


def _raw(segment: str, what: str) -> bytes:
    try:
        raw = b64u_decode(segment)
    except InvalidBase64 as exc:
        raise QRNotEncodable(f"the {what} is not canonical base64url") from exc
    if b64u_encode(raw) != segment:  # b64u_decode is canonical; this is the promise, checked
        raise QRNotEncodable(f"the {what} does not re-encode to the same text")
    return raw


def _jws(token: str, what: str) -> tuple[bytes, bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise QRNotEncodable(f"the {what} is not a compact JWS")
    h, p, s = parts
    return _raw(h, f"{what} header"), _raw(p, f"{what} payload"), _raw(s, f"{what} signature")


def split_presentation(text: str) -> Segments:
    """Split a compact SD-JWT or SD-JWT+KB into raw segments (refusing anything inexact)."""
    if not isinstance(text, str) or not text.isascii():
        raise QRNotEncodable("a compact SD-JWT is ASCII text")
    if len(text) > MAX_TEXT:
        raise QRTooLarge(f"the presentation is larger than {MAX_TEXT} bytes")
    parts = text.split("~")
    if len(parts) < 2:
        raise QRNotEncodable("a compact SD-JWT contains at least one '~'")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise QRTooLarge(f"more than {MAX_DISCLOSURES} disclosures")
    header, payload, signature = _jws(parts[0], "issuer-signed JWT")
    disclosures = tuple(_raw(d, "disclosure") if d else b"" for d in parts[1:-1])
    if any(not d for d in disclosures):
        raise QRNotEncodable("an empty disclosure")
    kb = _jws(parts[-1], "key binding JWT") if parts[-1] else None
    segments = Segments(header, payload, signature, disclosures, kb)
    if segments.text() != text:
        raise QRNotEncodable("the presentation does not re-serialize to the same text")
    return segments


# --------------------------------------------------------------------------- varints


def write_varint(value: int) -> bytes:
    """Unsigned LEB128 (7 bits per byte, least significant group first)."""
    if value < 0 or value >= 1 << (7 * _MAX_VARINT_BYTES):
        raise QRTooLarge("a length does not fit the container")
    out = bytearray()
    while True:
        group, value = value & 0x7F, value >> 7
        out.append(group | (0x80 if value else 0))
        if not value:
            return bytes(out)


class _Reader:
    """Bounded reads over a byte string; running out is ``qr_truncated``."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise QRTruncated(f"the {self.what} ends early")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def varint(self) -> int:
        value = 0
        for i in range(_MAX_VARINT_BYTES):
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise QRMalformed(f"the {self.what} has a non-minimal length")
                return value
        raise QRMalformed(f"the {self.what} has a length longer than {_MAX_VARINT_BYTES} bytes")

    def rest(self) -> bytes:
        return self.data[self.pos :]

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


# --------------------------------------------------------------------------- tokens

_QUOTED_B64URL = re.compile(rb'"([A-Za-z0-9_-]+)"')
_MIN_RAW = 16


def _ref_hash(payload: bytes) -> int | None:
    """The reference hash id for this issuer payload's ``_sd_alg``, or None (no references)."""
    try:
        claims = strict_json.loads(payload, max_depth=64)
    except (InvalidJSON, LimitExceeded):
        return None
    if not isinstance(claims, dict):
        return None
    sd_alg = claims.get("_sd_alg", "sha-256")
    names = [name for name, _ in REF_HASHES]
    return names.index(sd_alg) if sd_alg in names else None


def _digest(hash_id: int, text: str) -> bytes:
    return b64u_encode(REF_HASHES[hash_id][1](text.encode("ascii")).digest()).encode("ascii")


def _raw_length(chars: int) -> int:
    """How many bytes a canonical unpadded base64url string of ``chars`` characters holds."""
    return chars * 6 // 8


def _looks_random(text: bytes) -> bytes | None:
    """Raw bytes for a high-entropy base64url string (salt, digest, key, nonce), else None.

    Only the encoder uses this heuristic; the reader just expands whatever was extracted.
    Words and repetitive values (``noMaterialDefault60m``, a 24-month history of zeros)
    compress better through DEFLATE and the dictionary, so they stay literal.
    """
    if len(text) < _MIN_RAW or len(text) % 4 == 1 or text in DICTIONARY_V1:
        return None
    classes = sum(
        any(c in group for c in text)
        for group in (b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz",
                      b"0123456789", b"-_")
    )
    if classes < 2 or len(set(text)) < min(len(text), 64) // 2:
        return None
    try:
        return b64u_decode(text.decode("ascii"))
    except InvalidBase64:
        return None  # non-canonical spelling: keep it literal


@dataclass
class _Tokenizer:
    """Encoder side of docs/qr.md §3.3: one left-to-right pass per JSON segment."""

    digests: dict[bytes, int]
    sd_hash: bytes | None = None
    raw: bytearray = field(default_factory=bytearray)

    def segment(self, data: bytes, *, sd_hash_allowed: bool = False) -> bytes:
        out = bytearray()
        last = 0
        for match in _QUOTED_B64URL.finditer(data):
            value = match.group(1)
            token = self._token(value, sd_hash_allowed)
            if token is None:
                continue
            out += data[last : match.start(1)] + token
            last = match.end(1)
        out += data[last:]
        return bytes(out)

    def _token(self, value: bytes, sd_hash_allowed: bool) -> bytes | None:
        index = self.digests.get(value)
        if index is not None:
            return bytes([TOKEN_DIGEST]) + write_varint(index)
        if sd_hash_allowed and value == self.sd_hash:
            return bytes([TOKEN_SD_HASH])
        raw = _looks_random(value)
        if raw is None:
            return None
        self.raw += raw
        return bytes([TOKEN_RAW]) + write_varint(len(value))


# --------------------------------------------------------------------------- encoder


def _deflate(block: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_V1)
    return compressor.compress(block) + compressor.flush()


def _json_segments(seg: Segments) -> list[bytes]:
    out = [seg.issuer_header, seg.issuer_payload, *seg.disclosures]
    return out if seg.kb is None else [*out, seg.kb[0], seg.kb[1]]


def encode_presentation(text: str, *, tokens: bool = True) -> bytes:
    """The binary container (docs/qr.md §3) for a compact SD-JWT or SD-JWT+KB.

    ``tokens=False`` keeps every segment literal (to measure what the tokens save).
    """
    seg = split_presentation(text)
    segments = _json_segments(seg)
    flags = FLAG_KB if seg.kb is not None else 0
    hash_id = _ref_hash(seg.issuer_payload) if tokens else None
    raw = b""
    if hash_id is not None and not any(
        t in s for s in segments for t in (TOKEN_DIGEST, TOKEN_SD_HASH, TOKEN_RAW)
    ):
        digests: dict[bytes, int] = {}
        for i, d in enumerate(seg.disclosures):
            digests.setdefault(_digest(hash_id, b64u_encode(d)), i)
        tokenizer = _Tokenizer(digests)
        if seg.kb is not None:
            tokenizer.sd_hash = _digest(hash_id, seg.text()[: -len(_jws_text(*seg.kb))])
        last = len(segments) - 1
        segments = [
            tokenizer.segment(s, sd_hash_allowed=seg.kb is not None and i == last)
            for i, s in enumerate(segments)
        ]
        raw = bytes(tokenizer.raw)
        flags |= FLAG_TOKENS | (hash_id << _HASH_SHIFT)
    block = b"".join(write_varint(len(s)) + s for s in segments)
    if len(block) > MAX_JSON_BLOCK:
        raise QRTooLarge(f"the presentation's JSON exceeds {MAX_JSON_BLOCK} bytes")
    out = bytearray((MAGIC, FORMAT_VERSION, flags))
    out += write_varint(len(seg.disclosures))
    out += _deflate(block)
    out += raw
    out += write_varint(len(seg.issuer_signature)) + seg.issuer_signature
    if seg.kb is not None:
        out += write_varint(len(seg.kb[2])) + seg.kb[2]
    out += zlib.crc32(text.encode("ascii")).to_bytes(4, "big")
    container = bytes(out)
    if len(container) > MAX_CONTAINER:
        raise QRTooLarge(f"the container exceeds {MAX_CONTAINER} bytes")
    if decode_container(container) != text:
        raise QRNotEncodable("the container does not decode to the identical presentation")
    return container


def encode_presentation_text(text: str) -> str:
    """The Base45 text form ``SC:<base45(container)>``, for QR alphanumeric mode."""
    return TEXT_PREFIX + b45encode(encode_presentation(text))


# --------------------------------------------------------------------------- decoder


def _inflate(reader: _Reader) -> bytes:
    decompressor = zlib.decompressobj(-15, zdict=DICTIONARY_V1)
    data = reader.rest()
    try:
        block = decompressor.decompress(data, MAX_JSON_BLOCK + 1)
    except zlib.error as exc:
        raise QRCorrupted("the compressed block is damaged") from exc
    if len(block) > MAX_JSON_BLOCK:
        raise QRTooLarge(f"the compressed block expands beyond {MAX_JSON_BLOCK} bytes")
    if not decompressor.eof:
        raise QRTruncated("the compressed block ends early")
    reader.pos += len(data) - len(decompressor.unused_data)
    return block


_SD_HASH_ITEM: Final = -1
Item = bytes | int  # literal bytes; int i >= 0: digest of disclosure i; -1: sd_hash


def _token_varint(reader: _Reader) -> int:
    try:
        return reader.varint()
    except QRTruncated as exc:  # inside a complete segment: a broken token, not a short scan
        raise QRMalformed("a token is cut off at the end of its segment") from exc


def _parse_tokens(
    segment: bytes, raw: _Reader, n: int, sd_hash_allowed: bool
) -> list[Item]:
    """Decoder side of docs/qr.md §3.3; raw-area bytes are taken in token order."""
    items: list[Item] = []
    reader = _Reader(segment, "JSON segment")
    start = 0
    while not reader.done:
        token = reader.take(1)[0]
        if token not in (TOKEN_DIGEST, TOKEN_SD_HASH, TOKEN_RAW):
            continue
        items.append(segment[start : reader.pos - 1])
        if token == TOKEN_SD_HASH:
            if not sd_hash_allowed:
                raise QRMalformed("an sd_hash token outside the key binding payload")
            items.append(_SD_HASH_ITEM)
        elif token == TOKEN_DIGEST:
            index = _token_varint(reader)
            if index >= n:
                raise QRMalformed("a digest token names a disclosure that is not there")
            items.append(index)
        else:
            chars = _token_varint(reader)
            if chars < 2 or chars % 4 == 1:
                raise QRMalformed("a raw token has an impossible base64url length")
            items.append(b64u_encode(raw.take(_raw_length(chars))).encode("ascii"))
        start = reader.pos
    items.append(segment[start:])
    return items


class _Resolver:
    """Restores tokens; a disclosure's digest is known once its own text is."""

    def __init__(self, hash_id: int, n: int) -> None:
        self.hash_id = hash_id
        self.digests: list[bytes | None] = [None] * n
        self.sd_hash: bytes | None = None
        self.size = 0

    def render(self, items: list[Item]) -> bytes:
        out = bytearray()
        for item in items:
            if isinstance(item, bytes):
                out += item
            else:
                value = self.sd_hash if item == _SD_HASH_ITEM else self.digests[item]
                assert value is not None  # dependencies are resolved before use
                out += value
        self.size += len(out)
        if self.size > MAX_TEXT:
            raise QRTooLarge(f"the restored presentation exceeds {MAX_TEXT} bytes")
        return bytes(out)

    def disclosures(self, parts: list[list[Item]]) -> list[bytes]:
        """Restore disclosures in dependency order (Kahn's algorithm); a cycle is malformed."""
        n = len(parts)
        waiting = [{i for i in p if isinstance(i, int)} for p in parts]
        users: list[list[int]] = [[] for _ in range(n)]
        for i, deps in enumerate(waiting):
            for j in deps:
                users[j].append(i)
        ready = [i for i in range(n) if not waiting[i]]
        restored: list[bytes | None] = [None] * n
        while ready:
            i = ready.pop()
            raw = self.render(parts[i])
            restored[i] = raw
            self.digests[i] = _digest(self.hash_id, b64u_encode(raw))
            for user in users[i]:
                waiting[user].discard(i)
                if not waiting[user]:
                    ready.append(user)
        if any(r is None for r in restored):
            raise QRMalformed("disclosure digest tokens form a cycle")
        return [r for r in restored if r is not None]


def decode_container(container: bytes) -> str:
    """The exact compact SD-JWT(+KB) a binary container carries, or a named rejection."""
    if not isinstance(container, bytes | bytearray):
        raise QRMalformed("a presentation container is bytes")
    if len(container) > MAX_CONTAINER:
        raise QRTooLarge(f"the container exceeds {MAX_CONTAINER} bytes")
    reader = _Reader(bytes(container), "presentation container")
    if reader.take(1)[0] != MAGIC:
        raise QRNotPresentation("the payload is not a selfcarry presentation container")
    version = reader.take(1)[0]
    if version != FORMAT_VERSION:
        raise QRUnsupportedVersion(f"container version {version} is not supported")
    flags = reader.take(1)[0]
    hash_id = (flags & _HASH_MASK) >> _HASH_SHIFT
    if flags & ~_KNOWN_FLAGS or hash_id >= len(REF_HASHES):
        raise QRUnsupportedVersion(f"container flags {flags:#04x} are not supported")
    tokens, kb = bool(flags & FLAG_TOKENS), bool(flags & FLAG_KB)
    if not tokens and hash_id:
        raise QRMalformed("a digest hash is named but tokens are off")
    n = reader.varint()
    if n > MAX_DISCLOSURES:
        raise QRTooLarge(f"more than {MAX_DISCLOSURES} disclosures")
    block = _Reader(_inflate(reader), "JSON block")
    segments: list[bytes] = []
    for _ in range(2 + n + (2 if kb else 0)):
        try:
            segments.append(block.take(block.varint()))
        except QRTruncated as exc:
            raise QRMalformed("the JSON block holds fewer segments than declared") from exc
    if not block.done:
        raise QRMalformed("the JSON block holds more than the declared segments")
    last = len(segments) - 1
    parts: list[list[Item]] = [
        _parse_tokens(s, reader, n, kb and i == last) if tokens else [s]
        for i, s in enumerate(segments)
    ]
    issuer_sig = _signature(reader)
    kb_sig = _signature(reader) if kb else b""
    crc = int.from_bytes(reader.take(4), "big")
    if not reader.done:
        raise QRMalformed("bytes follow the container's checksum")
    text = _restore(parts, n, kb, hash_id, issuer_sig, kb_sig)
    if zlib.crc32(text.encode("ascii")) != crc:
        raise QRCorrupted("the restored presentation does not match the container checksum")
    return text


def _signature(reader: _Reader) -> bytes:
    length = reader.varint()
    if length == 0 or length > MAX_SIGNATURE:
        raise QRMalformed("a signature length is out of range")
    return reader.take(length)


def _restore(
    parts: list[list[Item]], n: int, kb: bool, hash_id: int, issuer_sig: bytes, kb_sig: bytes
) -> str:
    resolver = _Resolver(hash_id, n)
    disclosures = resolver.disclosures(parts[2 : 2 + n])
    header, payload = resolver.render(parts[0]), resolver.render(parts[1])
    kb_parts = None
    if kb:
        prefix = Segments(header, payload, issuer_sig, tuple(disclosures), None).text()
        resolver.sd_hash = _digest(hash_id, prefix)
        kb_parts = (resolver.render(parts[n + 2]), resolver.render(parts[n + 3]), kb_sig)
    return Segments(header, payload, issuer_sig, tuple(disclosures), kb_parts).text()


def decode_presentation_payload(payload: bytes | str) -> str:
    """One static presentation code: binary container, or ``SC:`` Base45 text (str or bytes)."""
    if isinstance(payload, bytes | bytearray) and payload[:1] == bytes([MAGIC]):
        return decode_container(bytes(payload))
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("ascii")
        except UnicodeDecodeError as exc:
            raise QRNotPresentation("the payload is not a selfcarry presentation") from exc
    if not isinstance(payload, str) or not payload.startswith(TEXT_PREFIX):
        raise QRNotPresentation("the payload is not a selfcarry presentation")
    if len(payload) > len(TEXT_PREFIX) + MAX_CONTAINER * 3 // 2 + 2:
        raise QRTooLarge("the Base45 text exceeds the container limit")
    return decode_container(b45decode(payload[len(TEXT_PREFIX) :]))
