"""base64url without padding (RFC 7515 §2), strict both ways."""

from __future__ import annotations

import binascii
import re

from .errors import InvalidBase64

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TO_STD = bytes.maketrans(b"-_", b"+/")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# For a final quantum of 2 (or 3) characters, the last character carries 4 (or 2) unused
# bits; they must be zero, or the same bytes would have several spellings.
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0x0F == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0x03 == 0),
}


_TO_URL = bytes.maketrans(b"+/", b"-_")


def b64u_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URL).decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode unpadded base64url; refuse padding, other alphabets and non-canonical tails."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise InvalidBase64()
    tail = len(text) % 4
    if tail == 1 or (tail and text[-1] not in _CANONICAL_LAST[tail]):
        raise InvalidBase64("base64url has an impossible length or non-canonical trailing bits")
    try:
        data = text.encode("ascii").translate(_TO_STD) + b"=" * (-len(text) % 4)
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64() from exc
