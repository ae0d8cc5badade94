"""Base45 (RFC 9285): bytes as QR alphanumeric-mode characters, strict both ways.

Strict means one spelling per byte string: characters outside the 45-symbol
alphabet, a dangling single character, or a group whose value overflows
(> 65535 for three characters, > 255 for a final two) are refused.
"""

from __future__ import annotations

from .errors import QRInvalidBase45

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def b45encode(data: bytes) -> str:
    """Two bytes become three characters, a trailing byte becomes two (least significant first)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        c, d = data[-1] % 45, data[-1] // 45
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """The exact inverse of :func:`b45encode`; anything it cannot have produced is refused."""
    if not isinstance(text, str):
        raise QRInvalidBase45("Base45 input must be text")
    if len(text) % 3 == 1:
        raise QRInvalidBase45("Base45 text has an impossible length")
    try:
        values = [_VALUE[c] for c in text]
    except KeyError as exc:
        raise QRInvalidBase45("Base45 text has a character outside the alphabet") from exc
    out = bytearray()
    for i in range(0, len(values) - 2, 3):
        n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
        if n > 0xFFFF:
            raise QRInvalidBase45("a Base45 group encodes a value above 65535")
        out += n.to_bytes(2, "big")
    if len(values) % 3 == 2:
        n = values[-2] + values[-1] * 45
        if n > 0xFF:
            raise QRInvalidBase45("the final Base45 pair encodes a value above 255")
        out.append(n)
    return bytes(out)
