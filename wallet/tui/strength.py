"""A rough passphrase strength meter for the first-run screen.

It only advises: the vault's own rules (8–1024 characters) are enforced by the
vault, and Argon2id is what makes guessing slow. The estimate is deliberately
conservative about what attackers try first — repeated characters, runs like
``abcd``/``1234``, keyboard rows and the most common passwords — and generous to
long passphrases of several words, which is what we encourage.
"""

from __future__ import annotations

import math
from typing import Final

MIN_LENGTH: Final = 8
# (level, catalogue key) from worst to best; level 0 is refused by the vault itself.
LEVELS: Final = ("too_short", "very_weak", "weak", "fair", "strong", "very_strong")
_COMMON: Final = frozenset({
    "password", "passw0rd", "123456", "12345678", "123456789", "1234567890", "qwerty",
    "qwertyuiop", "asdfghjkl", "letmein", "welcome", "iloveyou", "admin", "abc123",
    "football", "monkey", "dragon", "sunshine", "princess", "selfcarry", "wallet",
    "hongkong", "11111111", "00000000", "88888888", "66666666",
})
_SEQUENCES: Final = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl",
                     "zxcvbnm")


def _pool(text: str) -> int:
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(c == " " for c in text):
        pool += 1
    if any(not c.isalnum() and c != " " and ord(c) < 128 for c in text):
        pool += 33
    if any(ord(c) >= 128 for c in text):
        pool += 100  # CJK and other scripts: large alphabets
    return max(pool, 1)


def _effective_length(text: str) -> float:
    """Length, counting repeats and keyboard/alphabet runs as a fraction of a character."""
    low = text.lower()
    total = 0.0
    for i, c in enumerate(low):
        if i and c == low[i - 1]:
            total += 0.25
        elif i and any(low[i - 1 : i + 1] in seq or low[i - 1 : i + 1][::-1] in seq
                       for seq in _SEQUENCES):
            total += 0.35
        else:
            total += 1.0
    return total


def bits(passphrase: str) -> float:
    """Estimated entropy in bits (an estimate, not a guarantee)."""
    if not passphrase:
        return 0.0
    core = passphrase.lower().strip()
    for common in _COMMON:
        if common in core:
            core = core.replace(common, "")
            passphrase = passphrase.lower().replace(common, "x")
    return _effective_length(passphrase) * math.log2(_pool(passphrase)) if core else 8.0


def level(passphrase: str) -> int:
    """0 too short, 1 very weak, 2 weak, 3 fair, 4 strong, 5 very strong."""
    if len(passphrase) < MIN_LENGTH:
        return 0
    b = bits(passphrase)
    if b < 30:
        return 1
    if b < 45:
        return 2
    if b < 60:
        return 3
    if b < 80:
        return 4
    return 5


def is_weak(passphrase: str) -> bool:
    """Long enough for the vault, but weak enough that we ask the resident to confirm."""
    return level(passphrase) in (1, 2)
