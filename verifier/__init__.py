"""The bank's verifier: embed :class:`Verifier` to check selfcarry presentations.

    from verifier import Verifier
    v = Verifier.from_home(home)
    request = v.create_request(query="loan-precheck", purpose="consumer loan pre-check")
    result = v.verify(presentation_text, request=request)
"""

from .policy import AllOf, AnyOf, UnsafeNoOp
from .verify import Check, VerificationResult, Verifier

__all__ = ["AllOf", "AnyOf", "Check", "UnsafeNoOp", "VerificationResult", "Verifier"]
