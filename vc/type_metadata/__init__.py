"""SD-JWT VC Type Metadata (standards.md §2.5) and the payload JSON Schema we publish.

Read from the installed package, never fetched. :func:`integrity` gives the
``vct#integrity`` value (W3C SRI) an issuer may put next to ``vct``, so a wallet
or verifier can hold the metadata it was given to these exact bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from typing import Any, Final

HK_CREDIT_REPORT_V1: Final = "hk-credit-report-v1.json"
HK_CREDIT_REPORT_V1_SCHEMA: Final = "hk-credit-report-v1.schema.json"


def read_bytes(filename: str = HK_CREDIT_REPORT_V1) -> bytes:
    """The raw bytes of a bundled metadata or schema file."""
    return resources.files(__name__).joinpath(filename).read_bytes()


def type_metadata() -> dict[str, Any]:
    """The Type Metadata document of the credit-report ``vct``."""
    document: dict[str, Any] = json.loads(read_bytes(HK_CREDIT_REPORT_V1))
    return document


def payload_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the processed payload, whatever was disclosed."""
    document: dict[str, Any] = json.loads(read_bytes(HK_CREDIT_REPORT_V1_SCHEMA))
    return document


def integrity(filename: str = HK_CREDIT_REPORT_V1) -> str:
    """``sha256-<base64>`` of the file's bytes, the form ``vct#integrity`` uses."""
    digest = hashlib.sha256(read_bytes(filename)).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
