"""The canonical bytes of log entries. Hashes, keys and public names only: never personal data.

Encoding, version 1 (every entry has exactly one spelling; :func:`decode_entry`
refuses any other)::

    entry        = version:u8 (=1) || kind:u8 || body
    anchor       (kind 1) = digest[32] || str8 issuer || vct_tag[8] || uvar iat || uvar exp
    issuer-key   (kind 2) = str8 issuer || thumbprint[32] || json16 jwk || uvar valid_from
    verifier-key (kind 3) = str8 client_id || thumbprint[32] || json16 jwk || str8 name
                            || uvar valid_from
    revocation   (kind 4) = digest[32] || str8 reason || uvar time

    str8    = u8 length (1..255) || UTF-8 bytes, no control characters
    json16  = u16 big-endian length || canonical JSON (sorted keys, no whitespace)
    uvar    = unsigned LEB128, minimal length, value < 2**63 (times are POSIX seconds)
    vct_tag = SHA-256(vct)[:8]

Anchors are what the log holds millions of, so they are compact:
``53 + len(iss)`` bytes, e.g. 75 bytes for ``iss = https://cra.example.hk``.
The issuer stays a readable string (a verifier compares it with the
credential's ``iss``; a monitor reads the log without a key lookup, and the
log's issuer-key entries carry the same string). The type is only tagged: a
``vct`` is a long URL that every anchor of an issuer repeats, and a verifier
holding the credential checks the tag with :meth:`AnchorEntry.matches_vct`.

The digest of a credential is SHA-256 of its issuer-signed JWT (the ASCII text
before the first ``~`` of the SD-JWT): it names that exact signed credential and
reveals nothing about its holder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vc import jose
from vc.b64 import b64u_decode
from vc.errors import VCError

from .errors import InvalidEntry
from .merkle import SHA256, HashAlg, leaf_hash

VERSION = 1
MAX_ENTRY_SIZE = 4096
MAX_JWK_SIZE = 2048
MAX_CREDENTIAL_SIZE = 1024 * 1024
MAX_TIME = 2**63 - 1
DIGEST_SIZE = 32
VCT_TAG_SIZE = 8

KIND_ANCHOR = 1
KIND_ISSUER_KEY = 2
KIND_VERIFIER_KEY = 3
KIND_REVOCATION = 4

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REASON = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

# RFC 7638 §3.2: the members of the thumbprint input, per key type we sign with.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


# --- credential digests ----------------------------------------------------------


def credential_digest(sd_jwt_or_issuer_jwt: str, alg: HashAlg = SHA256) -> bytes:
    """SHA-256 of the issuer-signed JWT: the part of an SD-JWT before the first ``~``."""
    if not isinstance(sd_jwt_or_issuer_jwt, str) or len(sd_jwt_or_issuer_jwt) > MAX_CREDENTIAL_SIZE:
        raise InvalidEntry(f"a credential is a string of at most {MAX_CREDENTIAL_SIZE} bytes")
    jwt = sd_jwt_or_issuer_jwt.strip().split("~", 1)[0]
    if not _JWS.fullmatch(jwt):
        raise InvalidEntry("the credential does not start with a compact JWS")
    return alg.digest(jwt.encode("ascii"))


def credential_digest_hex(sd_jwt_or_issuer_jwt: str, alg: HashAlg = SHA256) -> str:
    return credential_digest(sd_jwt_or_issuer_jwt, alg).hex()


def parse_digest_hex(text: str) -> bytes:
    """A 32-byte digest from its 64 hex digits (as the CLI and HTTP API take it)."""
    if not isinstance(text, str) or not _HEX64.fullmatch(text.strip()):
        raise InvalidEntry("a digest is 64 hexadecimal digits")
    return bytes.fromhex(text.strip())


# --- JWKs --------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _check_jwk(jwk: object) -> dict[str, str]:
    if not isinstance(jwk, Mapping):
        raise InvalidEntry("a JWK is a JSON object")
    out: dict[str, str] = {}
    for k, v in jwk.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidEntry("an entry's JWK has only string members")
        out[k] = v
    if out.keys() & _PRIVATE_MEMBERS:
        raise InvalidEntry("the JWK holds private key material")
    members = _THUMBPRINT_MEMBERS.get(out.get("kty", ""))
    if members is None:
        raise InvalidEntry(f"unsupported JWK kty {out.get('kty')!r}")
    missing = [m for m in members if not out.get(m)]
    if missing:
        raise InvalidEntry(f"the JWK lacks {', '.join(missing)}")
    if len(canonical_json(out)) > MAX_JWK_SIZE:
        raise InvalidEntry(f"the JWK is larger than {MAX_JWK_SIZE} bytes")
    return out


def jwk_thumbprint(jwk: Mapping[str, Any]) -> bytes:
    """RFC 7638 SHA-256 thumbprint (raw bytes) of a public EC or OKP JWK."""
    try:
        return b64u_decode(jose.jwk_thumbprint(_check_jwk(jwk)))
    except VCError as exc:
        raise InvalidEntry(f"no thumbprint for this JWK: {exc.message}") from exc


# --- field checks --------------------------------------------------------------------


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEntry(f"{what} must be a non-empty string")
    if _CONTROL.search(value):
        raise InvalidEntry(f"{what} contains a control character")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidEntry(f"{what} is not valid UTF-8") from exc
    if size > 255:
        raise InvalidEntry(f"{what} is longer than 255 bytes")
    return value


def _check_time(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_TIME:
        raise InvalidEntry(f"{what} must be an integer number of seconds in [0, 2**63-1]")
    return value


def _check_digest(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != DIGEST_SIZE:
        raise InvalidEntry(f"{what} must be {DIGEST_SIZE} bytes")
    return value


# --- wire primitives -----------------------------------------------------------------


class _Writer:
    def __init__(self, kind: int) -> None:
        self.buf = bytearray((VERSION, kind))

    def raw(self, data: bytes) -> _Writer:
        self.buf += data
        return self

    def str8(self, text: str) -> _Writer:
        data = text.encode("utf-8")
        self.buf.append(len(data))
        self.buf += data
        return self

    def json16(self, value: Mapping[str, str]) -> _Writer:
        data = canonical_json(dict(value))
        self.buf += len(data).to_bytes(2, "big") + data
        return self

    def uvar(self, n: int) -> _Writer:
        while n >= 0x80:
            self.buf.append((n & 0x7F) | 0x80)
            n >>= 7
        self.buf.append(n)
        return self

    def done(self) -> bytes:
        if len(self.buf) > MAX_ENTRY_SIZE:
            raise InvalidEntry(f"the entry is larger than {MAX_ENTRY_SIZE} bytes")
        return bytes(self.buf)


class _Reader:
    def __init__(self, data: bytes, start: int) -> None:
        self.data = data
        self.pos = start

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise InvalidEntry("the entry is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def str8(self, what: str) -> str:
        n = self.take(1)[0]
        try:
            text = self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEntry(f"{what} is not valid UTF-8") from exc
        return _check_str(text, what)

    def json16(self) -> dict[str, str]:
        n = int.from_bytes(self.take(2), "big")
        raw = self.take(n)
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidEntry("the entry's JWK is not JSON") from exc
        jwk = _check_jwk(value)
        if canonical_json(jwk) != raw:
            raise InvalidEntry("the entry's JWK is not canonical JSON")
        return jwk

    def uvar(self, what: str) -> int:
        n, shift = 0, 0
        for i in range(9):
            byte = self.take(1)[0]
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise InvalidEntry(f"{what} is not minimally encoded")
                return _check_time(n, what)
        raise InvalidEntry(f"{what} is out of range")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise InvalidEntry("the entry has trailing bytes")


# --- entries ---------------------------------------------------------------------------


class _Entry:
    kind: ClassVar[str]
    kind_byte: ClassVar[int]

    def encode(self) -> bytes:
        raise NotImplementedError

    def leaf_hash(self, alg: HashAlg = SHA256) -> bytes:
        """The entry's Merkle leaf hash, ``leaf_hash(entry.encode())``."""
        return leaf_hash(self.encode(), alg)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (bytes as lowercase hex) for CLIs and APIs."""
        out: dict[str, Any] = {"kind": self.kind}
        for name, value in vars(self).items():
            out[name] = value.hex() if isinstance(value, bytes) else value
        return out


def vct_tag(vct: str) -> bytes:
    """The 8-byte tag an anchor stores for a credential type: ``SHA-256(vct)[:8]``."""
    return SHA256.digest(_check_str(vct, "the vct").encode("utf-8"))[:VCT_TAG_SIZE]


@dataclass(frozen=True)
class AnchorEntry(_Entry):
    """A credential was issued: its digest, its issuer, a tag of its type, and its validity.

    Build one with :meth:`create` (from the ``vct`` string) or :meth:`for_credential`.
    """

    kind: ClassVar[str] = "anchor"
    kind_byte: ClassVar[int] = KIND_ANCHOR

    digest: bytes
    issuer: str
    vct_tag: bytes
    iat: int
    exp: int

    def __post_init__(self) -> None:
        _check_digest(self.digest, "the credential digest")
        _check_str(self.issuer, "the issuer")
        if not isinstance(self.vct_tag, bytes) or len(self.vct_tag) != VCT_TAG_SIZE:
            raise InvalidEntry(f"the vct tag must be {VCT_TAG_SIZE} bytes (use vct_tag(vct))")
        _check_time(self.iat, "iat")
        _check_time(self.exp, "exp")
        if self.exp < self.iat:
            raise InvalidEntry("exp is before iat")

    @classmethod
    def create(cls, digest: bytes, issuer: str, vct: str, iat: int, exp: int) -> AnchorEntry:
        return cls(digest, issuer, vct_tag(vct), iat, exp)

    @classmethod
    def for_credential(cls, sd_jwt_or_issuer_jwt: str) -> AnchorEntry:
        """The anchor of a credential: its digest and its ``iss``, ``vct``, ``iat``, ``exp``.

        Reads the issuer JWT's payload WITHOUT verifying its signature: the registry
        must authenticate the submitting issuer and check that ``issuer`` is theirs.
        """
        digest = credential_digest(sd_jwt_or_issuer_jwt)
        try:
            claims = jose.decode_compact(sd_jwt_or_issuer_jwt.strip().split("~", 1)[0]).claims()
        except VCError as exc:
            raise InvalidEntry(f"cannot read the credential's claims: {exc.message}") from exc
        iss, vct, iat, exp = (claims.get(k) for k in ("iss", "vct", "iat", "exp"))
        if not isinstance(iss, str) or not isinstance(vct, str):
            raise InvalidEntry("the credential lacks a string iss or vct")
        return cls.create(digest, iss, vct, _check_time(iat, "iat"), _check_time(exp, "exp"))

    def matches_vct(self, vct: str) -> bool:
        """Whether this anchor is for a credential of type ``vct``."""
        return vct_tag(vct) == self.vct_tag

    def encode(self) -> bytes:
        w = _Writer(KIND_ANCHOR).raw(self.digest).str8(self.issuer).raw(self.vct_tag)
        return w.uvar(self.iat).uvar(self.exp).done()


@dataclass(frozen=True)
class IssuerKeyEntry(_Entry):
    """The operator admitted an issuer's signing key (from its JWT VC Issuer Metadata)."""

    kind: ClassVar[str] = "issuer-key"
    kind_byte: ClassVar[int] = KIND_ISSUER_KEY

    issuer: str
    thumbprint: bytes
    jwk: dict[str, str] = field(hash=False)
    valid_from: int

    def __post_init__(self) -> None:
        _check_str(self.issuer, "the issuer")
        object.__setattr__(self, "jwk", _check_jwk(self.jwk))
        if _check_digest(self.thumbprint, "the thumbprint") != jwk_thumbprint(self.jwk):
            raise InvalidEntry("the thumbprint is not the RFC 7638 thumbprint of the JWK")
        _check_time(self.valid_from, "valid_from")

    @classmethod
    def for_jwk(cls, issuer: str, jwk: Mapping[str, Any], valid_from: int) -> IssuerKeyEntry:
        """The entry for ``jwk``, its thumbprint computed."""
        return cls(issuer, jwk_thumbprint(jwk), dict(jwk), valid_from)

    def encode(self) -> bytes:
        w = _Writer(KIND_ISSUER_KEY).str8(self.issuer).raw(self.thumbprint).json16(self.jwk)
        return w.uvar(self.valid_from).done()


@dataclass(frozen=True)
class VerifierKeyEntry(_Entry):
    """The operator admitted a bank's request-signing key, so wallets can authenticate it."""

    kind: ClassVar[str] = "verifier-key"
    kind_byte: ClassVar[int] = KIND_VERIFIER_KEY

    client_id: str
    thumbprint: bytes
    jwk: dict[str, str] = field(hash=False)
    name: str
    valid_from: int

    def __post_init__(self) -> None:
        _check_str(self.client_id, "the client_id")
        object.__setattr__(self, "jwk", _check_jwk(self.jwk))
        if _check_digest(self.thumbprint, "the thumbprint") != jwk_thumbprint(self.jwk):
            raise InvalidEntry("the thumbprint is not the RFC 7638 thumbprint of the JWK")
        _check_str(self.name, "the verifier name")
        _check_time(self.valid_from, "valid_from")

    @classmethod
    def for_jwk(
        cls, client_id: str, jwk: Mapping[str, Any], name: str, valid_from: int
    ) -> VerifierKeyEntry:
        return cls(client_id, jwk_thumbprint(jwk), dict(jwk), name, valid_from)

    def encode(self) -> bytes:
        w = _Writer(KIND_VERIFIER_KEY).str8(self.client_id).raw(self.thumbprint)
        return w.json16(self.jwk).str8(self.name).uvar(self.valid_from).done()


@dataclass(frozen=True)
class RevocationEntry(_Entry):
    """A credential was revoked: its digest, a reason code and the time."""

    kind: ClassVar[str] = "revocation"
    kind_byte: ClassVar[int] = KIND_REVOCATION

    digest: bytes
    reason: str
    time: int

    def __post_init__(self) -> None:
        _check_digest(self.digest, "the credential digest")
        if not isinstance(self.reason, str) or not _REASON.fullmatch(self.reason):
            raise InvalidEntry("the reason is a code of 1-64 characters [A-Za-z0-9_.-]")
        _check_time(self.time, "time")

    def encode(self) -> bytes:
        return _Writer(KIND_REVOCATION).raw(self.digest).str8(self.reason).uvar(self.time).done()


Entry = AnchorEntry | IssuerKeyEntry | VerifierKeyEntry | RevocationEntry


def _decode_body(kind: int, r: _Reader) -> Entry:
    if kind == KIND_ANCHOR:
        return AnchorEntry(
            r.take(32), r.str8("the issuer"), r.take(VCT_TAG_SIZE), r.uvar("iat"), r.uvar("exp")
        )
    if kind == KIND_ISSUER_KEY:
        return IssuerKeyEntry(r.str8("the issuer"), r.take(32), r.json16(), r.uvar("valid_from"))
    if kind == KIND_VERIFIER_KEY:
        return VerifierKeyEntry(
            r.str8("the client_id"),
            r.take(32),
            r.json16(),
            r.str8("the verifier name"),
            r.uvar("valid_from"),
        )
    if kind == KIND_REVOCATION:
        digest, reason = r.take(32), r.str8("the reason")
        return RevocationEntry(digest, reason, r.uvar("time"))
    raise InvalidEntry(f"unknown entry kind {kind}")


def decode_entry(data: bytes) -> Entry:
    """Parse entry bytes, refusing anything that is not the canonical encoding of an entry."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidEntry("an entry is bytes")
    data = bytes(data)
    if len(data) > MAX_ENTRY_SIZE:
        raise InvalidEntry(f"the entry is larger than {MAX_ENTRY_SIZE} bytes")
    if len(data) < 2:
        raise InvalidEntry("the entry is truncated")
    if data[0] != VERSION:
        raise InvalidEntry(f"unknown entry version {data[0]}")
    r = _Reader(data, 2)
    entry = _decode_body(data[1], r)
    r.end()
    if entry.encode() != data:  # belt and braces: one entry, one spelling
        raise InvalidEntry("the entry is not canonically encoded")
    return entry
