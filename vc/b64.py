"""base64url without padding (RFC 7515 §2), strict both ways."""

from __future__ import annotations

import base64
import binascii
import re

from .errors import InvalidBase64

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode unpadded base64url; refuse padding, other alphabets and non-canonical tails."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidBase64()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64() from exc
    if b64u_encode(raw) != text:  # non-zero trailing bits: a second spelling of the same bytes
        raise InvalidBase64("base64url has non-canonical trailing bits")
    return raw
