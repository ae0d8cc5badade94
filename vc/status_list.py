"""Token Status List (draft-ietf-oauth-status-list-20): revocation without tracking.

A CRA revokes a credential by flipping its entry in one large, compressed list
that every verifier downloads whole; the CRA therefore cannot tell *which*
credential a bank is checking (herd privacy). This module is the pure part:

* :class:`StatusList` — the packed array (``bits`` ∈ {1, 2, 4, 8}, entry *i*
  filled from the least-significant bit of byte ``i*bits // 8``), its JSON form
  ``{"bits", "lst"}`` (``lst`` = base64url of ZLIB/RFC 1950, level 9), and a
  strict, bounded decoder that refuses decompression bombs;
* the Status List Token (``typ: statuslist+jwt``): :func:`build_status_list_token`
  and :func:`verify_status_list_token` (signature via :mod:`vc.jose`, ``sub``,
  ``iat``, ``exp``, ``ttl``, optional historical ``time``);
* the referenced-token side: :func:`parse_status_reference` and
  :func:`check_status`.

Fetching the token over HTTP is the caller's job (wallet, verifier); nothing
here does I/O.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from .b64 import b64u_decode, b64u_encode
from .errors import InvalidBase64, VCError
from .jose import DEFAULT_ALGS, PrivateKey, PublicKey, sign_compact, verify_compact

__all__ = [
    "ALLOWED_BITS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LST_CHARS",
    "DEFAULT_MAX_SKEW",
    "DEFAULT_MAX_TOKEN_BYTES",
    "INVALID",
    "MIN_HERD_SIZE",
    "STATUS_LIST_TYP",
    "SUSPENDED",
    "VALID",
    "InvalidStatusList",
    "InvalidStatusListToken",
    "InvalidStatusReference",
    "InvalidStatusValue",
    "Status",
    "StatusIndexOutOfRange",
    "StatusList",
    "StatusListError",
    "StatusListExpired",
    "StatusListNotYetValid",
    "StatusListStale",
    "StatusListSubjectMismatch",
    "StatusListTimeMismatch",
    "StatusListToken",
    "StatusListTooLarge",
    "StatusReference",
    "build_status_list_token",
    "check_status",
    "check_token_window",
    "parse_status_reference",
    "read_status_list_token",
    "status_name",
    "verify_status_list_token",
]

STATUS_LIST_TYP = "statuslist+jwt"
ALLOWED_BITS: frozenset[int] = frozenset({1, 2, 4, 8})
#: ``max_size``: refuse any list that inflates beyond this many bytes (16 MiB = 2^27 1-bit entries).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
#: Refuse an encoded ``lst`` longer than this before even base64-decoding it.
DEFAULT_MAX_LST_CHARS = 4 * 1024 * 1024
#: Status List Tokens are bigger than credentials; still bounded.
DEFAULT_MAX_TOKEN_BYTES = 6 * 1024 * 1024
#: Seconds of clock skew tolerated on ``iat`` and ``exp``.
DEFAULT_MAX_SKEW = 60
#: The size below which a list gives its holders too small a herd (W3C uses the same floor).
MIN_HERD_SIZE = 131_072
_ZLIB_LEVEL = 9  # "the highest compression level" the draft recommends


class Status(IntEnum):
    """The registered Status Type values (draft §7.1)."""

    VALID = 0x00
    INVALID = 0x01  # revoked; irreversible
    SUSPENDED = 0x02  # temporarily invalid; needs bits >= 2


VALID = Status.VALID
INVALID = Status.INVALID
SUSPENDED = Status.SUSPENDED
_APPLICATION_SPECIFIC = frozenset({0x03, 0x0C, 0x0D, 0x0E, 0x0F})


def status_name(value: int) -> str:
    """A human label for a status value (unregistered values are named as such)."""
    if value in Status._value2member_map_:
        return Status(value).name
    if value in _APPLICATION_SPECIFIC:
        return "APPLICATION_SPECIFIC"
    return "RESERVED"


# --- errors ----------------------------------------------------------------------------


class StatusListError(VCError):
    """Root of the status-list errors: no status statement can be made."""

    code = "invalid_status_list"
    default_message = "the status list is not valid"


class InvalidStatusList(StatusListError):
    code = "invalid_status_list"
    default_message = "the status list is malformed"


class StatusListTooLarge(StatusListError):
    code = "status_list_too_large"
    default_message = "the status list exceeds the configured size limit"


class StatusIndexOutOfRange(StatusListError):
    code = "status_index_out_of_range"
    default_message = "the status index is outside the status list"


class InvalidStatusValue(StatusListError):
    code = "invalid_status_value"
    default_message = "the status value does not fit the list's bit size"


class InvalidStatusReference(StatusListError):
    code = "invalid_status_reference"
    default_message = "the credential's status claim is not a valid status_list reference"


class InvalidStatusListToken(StatusListError):
    code = "invalid_status_list_token"
    default_message = "the Status List Token lacks a required claim or has a malformed one"


class StatusListSubjectMismatch(StatusListError):
    code = "status_list_sub_mismatch"
    default_message = "the Status List Token's sub is not the referenced uri"


class StatusListExpired(StatusListError):
    code = "status_list_expired"
    default_message = "the Status List Token has expired"


class StatusListNotYetValid(StatusListError):
    code = "status_list_not_yet_valid"
    default_message = "the Status List Token was issued in the future"


class StatusListStale(StatusListError):
    code = "status_list_stale"
    default_message = "the Status List Token is older than its ttl or the local freshness policy"


class StatusListTimeMismatch(StatusListError):
    code = "status_list_time_mismatch"
    default_message = "the Status List Token does not cover the requested point in time"


# --- the list --------------------------------------------------------------------------


def _check_int(value: object, what: str, error: type[StatusListError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be an integer")
    return value


def _check_bits(bits: object) -> int:
    b = _check_int(bits, "bits", InvalidStatusList)
    if b not in ALLOWED_BITS:
        raise InvalidStatusList(f"bits must be 1, 2, 4 or 8, not {b}")
    return b


class StatusList:
    """A mutable, packed list of ``size`` statuses of ``bits`` bits each."""

    __slots__ = ("_bits", "_data", "_mask", "_per_byte", "_size")

    def __init__(self, bits: int, size: int, *, max_size: int = DEFAULT_MAX_BYTES) -> None:
        self._bits = _check_bits(bits)
        size = _check_int(size, "size", InvalidStatusList)
        if size < 0:
            raise InvalidStatusList("size must not be negative")
        nbytes = (size * self._bits + 7) // 8
        if nbytes > max_size:
            raise StatusListTooLarge(f"{size} entries of {bits} bits exceed {max_size} bytes")
        self._size = size
        self._data = bytearray(nbytes)
        self._per_byte = 8 // self._bits
        self._mask = (1 << self._bits) - 1

    @classmethod
    def from_bytes(cls, bits: int, data: bytes | bytearray) -> StatusList:
        """Wrap an uncompressed byte array; the size is every entry it can hold."""
        b = _check_bits(bits)
        sl = cls(b, 0)
        sl._data = bytearray(data)
        sl._size = len(data) * 8 // b
        return sl

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._size

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def _index(self, idx: object) -> int:
        i = _check_int(idx, "idx", StatusIndexOutOfRange)
        if not 0 <= i < self._size:
            raise StatusIndexOutOfRange(f"index {i} is outside a list of {self._size} entries")
        return i

    def get(self, idx: int) -> int:
        """The status at ``idx``; out of bounds is an error, never a default VALID."""
        i = self._index(idx)
        shift = (i % self._per_byte) * self._bits
        return (self._data[i // self._per_byte] >> shift) & self._mask

    def set(self, idx: int, value: int) -> None:
        i = self._index(idx)
        v = _check_int(value, "status value", InvalidStatusValue)
        if not 0 <= v <= self._mask:
            raise InvalidStatusValue(f"status {v} does not fit in {self._bits} bit(s)")
        shift = (i % self._per_byte) * self._bits
        pos = i // self._per_byte
        self._data[pos] = (self._data[pos] & ~(self._mask << shift) & 0xFF) | (v << shift)

    def iter_nonzero(self) -> Iterator[tuple[int, int]]:
        """``(idx, status)`` for every entry that is not VALID, skipping zero bytes fast."""
        data, bits, per, mask = self._data, self._bits, self._per_byte, self._mask
        pos = 0
        n = len(data)
        while pos < n:
            pos = _next_nonzero(data, pos)
            if pos >= n:
                return
            byte = data[pos]
            for k in range(per):
                value = (byte >> (k * bits)) & mask
                idx = pos * per + k
                if value and idx < self._size:
                    yield idx, value
            pos += 1

    def encode(self, *, aggregation_uri: str | None = None) -> dict[str, Any]:
        """The JSON Status List: ``{"bits": n, "lst": base64url(zlib(bytes))}``."""
        out: dict[str, Any] = {
            "bits": self._bits,
            "lst": b64u_encode(zlib.compress(bytes(self._data), _ZLIB_LEVEL)),
        }
        if aggregation_uri is not None:
            out["aggregation_uri"] = aggregation_uri
        return out

    @classmethod
    def decode(
        cls,
        obj: object,
        *,
        max_size: int = DEFAULT_MAX_BYTES,
        max_lst_chars: int = DEFAULT_MAX_LST_CHARS,
    ) -> StatusList:
        """Parse a JSON Status List strictly.

        ``max_size`` bounds the *inflated* byte array (a decompression bomb stops there);
        ``max_lst_chars`` bounds the encoded ``lst`` before it is even decoded. The JSON
        form carries bytes, not a count, so the decoded ``size`` is every entry the bytes
        hold (a 5-entry 2-bit list comes back with 8 entries, the extra ones VALID).
        """
        if not isinstance(obj, Mapping):
            raise InvalidStatusList("a status list must be a JSON object")
        if "bits" not in obj or "lst" not in obj:
            raise InvalidStatusList("a status list needs both bits and lst")
        bits = _check_bits(obj["bits"])
        lst = obj["lst"]
        if not isinstance(lst, str):
            raise InvalidStatusList("lst must be a string")
        if "aggregation_uri" in obj and not isinstance(obj["aggregation_uri"], str):
            raise InvalidStatusList("aggregation_uri must be a string")
        if len(lst) > max_lst_chars:
            raise StatusListTooLarge(f"lst is longer than {max_lst_chars} characters")
        try:
            compressed = b64u_decode(lst)
        except InvalidBase64 as exc:
            raise InvalidStatusList(f"lst is not unpadded base64url: {exc.message}") from exc
        return cls.from_bytes(bits, _inflate(compressed, max_size))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StatusList)
            and other._bits == self._bits
            and other._size == self._size
            and other._data == self._data
        )

    def __hash__(self) -> int:
        return hash((self._bits, self._size, bytes(self._data)))

    def __repr__(self) -> str:
        return f"StatusList(bits={self._bits}, size={self._size})"


def _next_nonzero(data: bytearray, start: int) -> int:
    """Index of the first non-zero byte at or after ``start`` (``len(data)`` if none)."""
    n = len(data)
    step = 4096
    pos = start
    while pos < n:
        chunk = bytes(data[pos : pos + step])
        skipped = len(chunk) - len(chunk.lstrip(b"\x00"))
        if skipped < len(chunk):
            return pos + skipped
        pos += step
    return n


def _inflate(compressed: bytes, max_size: int) -> bytes:
    """ZLIB (RFC 1950) only — not raw DEFLATE, not gzip — one complete stream, bounded."""
    inflater = zlib.decompressobj(wbits=15)
    try:
        raw = inflater.decompress(compressed, max_size + 1)
    except zlib.error as exc:
        raise InvalidStatusList("lst is not a valid ZLIB (RFC 1950) stream") from exc
    if len(raw) > max_size or inflater.unconsumed_tail:
        raise StatusListTooLarge(f"the status list inflates beyond {max_size} bytes")
    if not inflater.eof:
        raise InvalidStatusList("the ZLIB stream in lst is truncated")
    if inflater.unused_data:
        raise InvalidStatusList("lst has data after the end of the ZLIB stream")
    return raw


# --- the referenced token's side -------------------------------------------------------


@dataclass(frozen=True)
class StatusReference:
    """``status.status_list`` of a referenced token: where to look, and at which index."""

    idx: int
    uri: str


def parse_status_reference(status: object) -> StatusReference:
    """Validate a ``status`` claim holding ``{"status_list": {"idx", "uri"}}`` (draft §6.2)."""
    if not isinstance(status, Mapping):
        raise InvalidStatusReference("the status claim must be a JSON object")
    ref = status.get("status_list")
    if not isinstance(ref, Mapping):
        raise InvalidStatusReference("the status claim has no status_list object")
    idx = ref.get("idx")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidStatusReference("status_list.idx must be a non-negative integer")
    uri = ref.get("uri")
    if not isinstance(uri, str) or not uri:
        raise InvalidStatusReference("status_list.uri must be a non-empty string")
    try:
        scheme = urlsplit(uri).scheme
    except ValueError as exc:
        raise InvalidStatusReference("status_list.uri is not a URI") from exc
    if not scheme:
        raise InvalidStatusReference("status_list.uri must be an absolute URI")
    return StatusReference(idx=idx, uri=uri)


# --- the Status List Token ---------------------------------------------------------------


@dataclass(frozen=True)
class StatusListToken:
    """A verified Status List Token: the list plus the claims a cache needs."""

    status_list: StatusList
    sub: str
    iat: int | float
    exp: int | float | None
    ttl: int | float | None
    iss: str | None
    header: dict[str, Any]


def _numeric_date(value: object, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidStatusListToken(f"{what} must be a number")
    if not math.isfinite(value) or value < 0:
        raise InvalidStatusListToken(f"{what} must be a finite, non-negative number")
    return value


def build_status_list_token(
    status_list: StatusList,
    *,
    sub: str,
    iat: int,
    exp: int | None,
    ttl: int | None,
    key: PrivateKey,
    kid: str,
    iss: str | None = None,
    aggregation_uri: str | None = None,
) -> str:
    """Sign ``status_list`` as a ``statuslist+jwt`` whose ``sub`` is the list's own URI."""
    if not isinstance(sub, str) or not sub:
        raise InvalidStatusListToken("sub must be the status list's URI")
    _numeric_date(iat, "iat")
    claims: dict[str, Any] = {"sub": sub, "iat": iat}
    if iss is not None:
        claims["iss"] = iss
    if exp is not None:
        if _numeric_date(exp, "exp") <= iat:
            raise InvalidStatusListToken("exp must be after iat")
        claims["exp"] = exp
    if ttl is not None:
        if _numeric_date(ttl, "ttl") <= 0:
            raise InvalidStatusListToken("ttl must be positive")
        claims["ttl"] = ttl
    claims["status_list"] = status_list.encode(aggregation_uri=aggregation_uri)
    header = {"alg": key.alg, "kid": kid, "typ": STATUS_LIST_TYP}
    return sign_compact(header, claims, key)


def _check_window(iat: int | float, exp: int | float | None, now: int | float,
                  max_skew: int) -> None:
    if iat > now + max_skew:
        raise StatusListNotYetValid()
    if exp is not None and now >= exp + max_skew:
        raise StatusListExpired()


def check_token_window(
    token: StatusListToken, *, now: int | float, max_skew: int = DEFAULT_MAX_SKEW
) -> None:
    """Re-apply :func:`read_status_list_token`'s ``iat``/``exp`` checks at ``now`` to a token
    verified earlier — what a cache of verified tokens must do on every use."""
    _check_window(token.iat, token.exp, now, max_skew)


def read_status_list_token(
    token: str,
    *,
    key: PublicKey,
    expected_sub: str,
    now: int | float,
    algs: Collection[str] = DEFAULT_ALGS,
    max_skew: int = DEFAULT_MAX_SKEW,
    fetched_at: int | float | None = None,
    max_age: int | None = None,
    time: int | float | None = None,
    expected_iss: str | None = None,
    max_size: int = DEFAULT_MAX_BYTES,
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
) -> StatusListToken:
    """Verify a Status List Token (draft §8.3 steps 3–5) and return it with its claims.

    * signature and ``typ: statuslist+jwt`` through :func:`vc.jose.verify_compact`;
    * ``sub`` must equal ``expected_sub`` (the referenced token's ``status_list.uri``);
    * ``iat`` must not lie more than ``max_skew`` seconds in the future;
    * ``exp``, when present, must not have passed (``max_skew`` grace);
    * ``ttl``: a copy resolved at ``fetched_at`` is stale once ``fetched_at + ttl < now``
      (pass ``fetched_at`` when the token comes from a cache; a fresh fetch has none);
    * ``max_age``: the caller's own freshness policy on ``iat``;
    * ``time``: for a historical query (``?time=``), the token must cover it (``iat``..``exp``).
    """
    jws = verify_compact(token, key, algs=algs, typ=STATUS_LIST_TYP, max_bytes=max_token_bytes)
    claims = jws.claims()
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidStatusListToken("the Status List Token has no sub")
    if "iat" not in claims:
        raise InvalidStatusListToken("the Status List Token has no iat")
    iat = _numeric_date(claims["iat"], "iat")
    exp = _numeric_date(claims["exp"], "exp") if "exp" in claims else None
    ttl = _numeric_date(claims["ttl"], "ttl") if "ttl" in claims else None
    if ttl is not None and ttl <= 0:
        raise InvalidStatusListToken("ttl must be a positive number")
    iss = claims.get("iss")
    if iss is not None and not isinstance(iss, str):
        raise InvalidStatusListToken("iss must be a string")
    if "status_list" not in claims:
        raise InvalidStatusListToken("the Status List Token has no status_list")
    if sub != expected_sub:
        raise StatusListSubjectMismatch(f"sub {sub!r} is not the referenced uri {expected_sub!r}")
    if expected_iss is not None and iss != expected_iss:
        raise InvalidStatusListToken(f"iss {iss!r} is not the credential's issuer")
    _check_window(iat, exp, now, max_skew)
    if ttl is not None and fetched_at is not None and fetched_at + ttl < now:
        raise StatusListStale("the cached Status List Token has outlived its ttl; fetch it again")
    if max_age is not None and now - iat > max_age:
        raise StatusListStale(f"the Status List Token is older than {max_age} seconds")
    if time is not None and (time < iat or (exp is not None and time > exp)):
        raise StatusListTimeMismatch()
    status_list = StatusList.decode(claims["status_list"], max_size=max_size)
    return StatusListToken(status_list, sub, iat, exp, ttl, iss, dict(jws.header))


def verify_status_list_token(
    token: str,
    *,
    key: PublicKey,
    expected_sub: str,
    now: int | float,
    algs: Collection[str] = DEFAULT_ALGS,
    max_skew: int = DEFAULT_MAX_SKEW,
    fetched_at: int | float | None = None,
    max_age: int | None = None,
    time: int | float | None = None,
    expected_iss: str | None = None,
    max_size: int = DEFAULT_MAX_BYTES,
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
) -> StatusList:
    """Like :func:`read_status_list_token`, returning only the verified :class:`StatusList`."""
    return read_status_list_token(
        token,
        key=key,
        expected_sub=expected_sub,
        now=now,
        algs=algs,
        max_skew=max_skew,
        fetched_at=fetched_at,
        max_age=max_age,
        time=time,
        expected_iss=expected_iss,
        max_size=max_size,
        max_token_bytes=max_token_bytes,
    ).status_list


def check_status(
    reference: object,
    token: str,
    *,
    key: PublicKey,
    now: int | float,
    algs: Collection[str] = DEFAULT_ALGS,
    max_skew: int = DEFAULT_MAX_SKEW,
    fetched_at: int | float | None = None,
    max_age: int | None = None,
    expected_iss: str | None = None,
    max_size: int = DEFAULT_MAX_BYTES,
) -> int:
    """The status value of a referenced token (its ``status`` claim) in ``token``.

    Returns the raw value (compare with :data:`VALID`, :data:`INVALID`, :data:`SUSPENDED`);
    any failure raises a :class:`StatusListError` (or a :class:`vc.errors.JoseError`), in
    which case no status statement can be made and the credential should be rejected.
    """
    ref = parse_status_reference(reference)
    status_list = verify_status_list_token(
        token,
        key=key,
        expected_sub=ref.uri,
        now=now,
        algs=algs,
        max_skew=max_skew,
        fetched_at=fetched_at,
        max_age=max_age,
        expected_iss=expected_iss,
        max_size=max_size,
    )
    return status_list.get(ref.idx)
