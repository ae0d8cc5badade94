"""The credential format: JOSE, SD-JWT (RFC 9901), SD-JWT VC and the JSON-LD ``ld`` body.

Pure: no I/O, no network. Everything else in selfcarry depends on this package
and it depends on none of them.
"""

from .errors import SelfcarryError, VCError

__all__ = ["SelfcarryError", "VCError"]
