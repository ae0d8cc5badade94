"""The bank's verifier: embed :class:`Verifier` to check selfcarry presentations.

    from verifier import Verifier
    v = Verifier.from_home(home)
    request = v.create_request(query="loan-precheck", purpose="consumer loan pre-check")
    result = v.verify(presentation_text, request=request)

Names are imported on first use, so the ``verifier`` command starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .policy import AllOf, AnyOf, UnsafeNoOp
    from .verify import Check, VerificationResult, Verifier

_EXPORTS = {
    "AllOf": "policy", "AnyOf": "policy", "UnsafeNoOp": "policy",
    "Check": "verify", "VerificationResult": "verify", "Verifier": "verify",
}
__all__ = ["AllOf", "AnyOf", "Check", "UnsafeNoOp", "VerificationResult", "Verifier"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'verifier' has no attribute {name!r}")
