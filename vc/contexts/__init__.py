"""The JSON-LD contexts selfcarry ships, pinned by URL and SHA-256.

A verifier never fetches a context: it serves these files, read from the
installed package, and only after their digests match the pins below (a
changed file is a different context, so it must come with a new URL or pin).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

CREDENTIALS_V2_URL: Final = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V2_SHA256: Final = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"

CREDIT_REPORT_CONTEXT_URL: Final = "https://w3id.org/selfcarry/credit-report/v1"
CREDIT_REPORT_CONTEXT_SHA256: Final = (
    "395afb8653a2b26d5476ae6f44dc267294b07faf2db51a0cfa3ee3ddef40d4cb"
)

#: url -> (file in this package, expected SHA-256 hex of its bytes)
BUNDLED: Final[dict[str, tuple[str, str]]] = {
    CREDENTIALS_V2_URL: ("credentials-v2.jsonld", CREDENTIALS_V2_SHA256),
    CREDIT_REPORT_CONTEXT_URL: ("credit-report-v1.jsonld", CREDIT_REPORT_CONTEXT_SHA256),
}


def read_bundled(filename: str) -> bytes:
    """The raw bytes of a bundled context file (hash these, then parse)."""
    return resources.files(__name__).joinpath(filename).read_bytes()
