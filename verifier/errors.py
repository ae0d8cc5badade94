"""The verifier's named errors.

Every rejection the bank's verifier makes is one of these (or a ``vc`` /
``hash_registry`` error it passes on), each with a stable snake_case ``code``:
the CLI prints it, the HTTP service maps it, the result JSON carries it, tests
assert it.
"""

from __future__ import annotations

from vc.errors import SelfcarryError

__all__ = [
    "DuplicateNonce",
    "NonceError",
    "NonceExpired",
    "NonceReplayed",
    "NonceStoreError",
    "PolicyError",
    "PolicyQueryMismatch",
    "RequestError",
    "UnknownNonce",
    "UnknownQuery",
    "UnknownRequest",
    "VerifierError",
]


class VerifierError(SelfcarryError):
    """Root of every error the verifier raises on purpose."""

    code = "verifier_error"
    default_message = "the verifier could not complete the operation"


# --- presentation requests --------------------------------------------------------------


class RequestError(VerifierError):
    """A presentation request cannot be created or read back."""

    code = "invalid_request"
    default_message = "the presentation request is not valid"


class UnknownQuery(RequestError):
    code = "unknown_query"
    default_message = "no built-in query has that name and no such query file exists"


# --- lending policies -------------------------------------------------------------------


class PolicyError(VerifierError):
    """A lending policy is misconfigured (raised when it is built or loaded, never mid-verify)."""

    code = "invalid_policy"
    default_message = "the lending policy is not valid"


class PolicyQueryMismatch(PolicyError):
    code = "policy_needs_unrequested_claim"
    default_message = "the policy reads a claim the request's query does not ask for"


# --- nonces -----------------------------------------------------------------------------


class NonceError(VerifierError):
    """A presentation's nonce is not one we may accept now."""

    code = "invalid_nonce"
    default_message = "the nonce cannot be accepted"


class UnknownNonce(NonceError):
    code = "unknown_nonce"
    default_message = "the nonce was not issued by this verifier"


class NonceExpired(NonceError):
    code = "nonce_expired"
    default_message = "the presentation request has expired"


class NonceReplayed(NonceError):
    code = "nonce_replayed"
    default_message = "the nonce has already been used"


class DuplicateNonce(NonceError):
    code = "duplicate_nonce"
    default_message = "a request with this nonce or id already exists"


class UnknownRequest(NonceError):
    code = "unknown_request"
    default_message = "no presentation request has that id"


class NonceStoreError(VerifierError):
    """The nonce store's backend failed (unreachable, misconfigured, corrupt)."""

    code = "nonce_store_unavailable"
    default_message = "the nonce store is not available"
