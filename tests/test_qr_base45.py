"""Base45 (RFC 9285): the RFC's own examples, strict decoding, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vc.qr import b45decode, b45encode
from vc.qr.errors import QRError, QRInvalidBase45

# RFC 9285 §4.3 and §4.4 (IETF Trust, BSD licence)
RFC9285_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC9285_EXAMPLES)
def test_rfc9285_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


def test_empty() -> None:
    assert b45encode(b"") == ""
    assert b45decode("") == b""


@pytest.mark.parametrize(
    "bad",
    [
        "GGW",      # 65536: a triple above 0xFFFF (RFC 9285 §6)
        ":::",      # 44 + 44*45 + 44*2025 = 91124
        "A",        # a single dangling character
        "BB8A",     # 3n + 1 characters
        "ab8",      # lower case is not in the alphabet
        "BB#",      # '#' is not in the alphabet
        "Z6",       # final pair 35 + 6*45 = 305 > 255
        "BB8\n",
    ],
)
def test_strict_decoding_refuses(bad: str) -> None:
    with pytest.raises(QRInvalidBase45) as info:
        b45decode(bad)
    assert info.value.code == "qr_invalid_base45"


def test_non_text_refused() -> None:
    with pytest.raises(QRInvalidBase45):
        b45decode(b"BB8")  # type: ignore[arg-type]


@given(st.binary(max_size=300))
def test_round_trip(raw: bytes) -> None:
    text = b45encode(raw)
    assert len(text) == 3 * (len(raw) // 2) + 2 * (len(raw) % 2)
    assert b45decode(text) == raw


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60))
def test_any_alphabet_text_decodes_canonically_or_is_refused(text: str) -> None:
    try:
        raw = b45decode(text)
    except QRError as exc:
        assert exc.code == "qr_invalid_base45"
    else:
        assert b45encode(raw) == text  # one spelling per byte string
