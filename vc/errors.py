"""Errors are values with names.

Every rejection in selfcarry is an exception carrying a stable machine ``code``
(snake_case, part of the public contract: CLIs print it, tests assert it) and a
human sentence. Each package roots its own hierarchy in :class:`SelfcarryError`.
"""

from __future__ import annotations


class SelfcarryError(Exception):
    """Root of every error selfcarry raises on purpose."""

    code: str = "error"
    default_message: str = "the operation failed"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class VCError(SelfcarryError):
    """Root of the credential-format errors (``vc`` package)."""

    code = "invalid_credential"
    default_message = "the credential or presentation is not valid"


class MalformedError(VCError):
    code = "malformed"
    default_message = "the input is not well-formed"


class LimitExceeded(VCError):
    code = "limit_exceeded"
    default_message = "the input exceeds a size or nesting limit"


class InvalidBase64(MalformedError):
    code = "invalid_base64url"
    default_message = "a component is not valid unpadded base64url"


class InvalidJSON(MalformedError):
    code = "invalid_json"
    default_message = "a component is not valid JSON"


# --- JOSE -------------------------------------------------------------------


class JoseError(VCError):
    code = "invalid_jws"
    default_message = "the JWS is not valid"


class UnsupportedAlgorithm(JoseError):
    code = "unsupported_alg"
    default_message = "the signature algorithm is not allowed"


class InvalidSignature(JoseError):
    code = "invalid_signature"
    default_message = "the signature does not verify"


class UnknownCritical(JoseError):
    code = "unknown_crit"
    default_message = "the JWS header names a critical extension we do not understand"


class InvalidKey(JoseError):
    code = "invalid_key"
    default_message = "the key is not a usable public key"


class WrongType(JoseError):
    code = "wrong_typ"
    default_message = "the JWS header typ is not the one expected"


# --- SD-JWT (RFC 9901 §7) ----------------------------------------------------


class SDJWTError(VCError):
    code = "invalid_sd_jwt"
    default_message = "the SD-JWT is not valid"


class MalformedDisclosure(SDJWTError):
    code = "malformed_disclosure"
    default_message = "a disclosure is not a base64url JSON array of the right shape"


class UnreferencedDisclosure(SDJWTError):
    code = "unreferenced_disclosure"
    default_message = "a disclosure is not referenced by any digest"


class DuplicateDigest(SDJWTError):
    code = "duplicate_digest"
    default_message = "a digest appears more than once"


class DuplicateDisclosure(SDJWTError):
    code = "duplicate_disclosure"
    default_message = "the same disclosure was presented twice"


class ReservedClaimName(SDJWTError):
    code = "reserved_claim_name"
    default_message = "a disclosure uses the reserved claim name _sd or ..."


class ClaimNameCollision(SDJWTError):
    code = "claim_name_collision"
    default_message = "a disclosed claim name already exists at that level"


class UnsupportedHashAlg(SDJWTError):
    code = "unsupported_sd_alg"
    default_message = "the _sd_alg hash algorithm is not supported"


class KeyBindingMissing(SDJWTError):
    code = "kb_jwt_missing"
    default_message = "a Key Binding JWT is required but was not presented"


class UnexpectedKeyBinding(SDJWTError):
    code = "kb_jwt_unexpected"
    default_message = "a Key Binding JWT was present where none is allowed"


class KeyBindingInvalid(SDJWTError):
    code = "kb_jwt_invalid"
    default_message = "the Key Binding JWT is not valid"


class SdHashMismatch(KeyBindingInvalid):
    code = "sd_hash_mismatch"
    default_message = "the Key Binding JWT's sd_hash does not match the presentation"


class AudienceMismatch(KeyBindingInvalid):
    code = "aud_mismatch"
    default_message = "the Key Binding JWT is for another audience"


class NonceMismatch(KeyBindingInvalid):
    code = "nonce_mismatch"
    default_message = "the Key Binding JWT carries another nonce"


class KeyBindingStale(KeyBindingInvalid):
    code = "kb_jwt_iat_out_of_window"
    default_message = "the Key Binding JWT's iat is outside the acceptance window"


class HolderKeyMissing(KeyBindingInvalid):
    code = "cnf_missing"
    default_message = "the credential has no usable cnf.jwk holder key"


class SelectionError(SDJWTError):
    code = "invalid_selection"
    default_message = "the requested claim path cannot be disclosed"


# --- SD-JWT VC ----------------------------------------------------------------


class CredentialError(VCError):
    code = "invalid_credential"
    default_message = "the credential does not meet the SD-JWT VC rules"


class MissingClaim(CredentialError):
    code = "missing_claim"
    default_message = "a required claim is missing"


class Expired(CredentialError):
    code = "expired"
    default_message = "the credential has expired"


class NotYetValid(CredentialError):
    code = "not_yet_valid"
    default_message = "the credential is not valid yet"


class IssuerMismatch(CredentialError):
    code = "untrusted_issuer"
    default_message = "the credential's issuer is not trusted for this key"


# --- JSON-LD ------------------------------------------------------------------


class JsonLdError(VCError):
    code = "invalid_jsonld"
    default_message = "the JSON-LD document is not valid"


class UnknownContext(JsonLdError):
    code = "unknown_context"
    default_message = "the JSON-LD document uses a context that is not on the allow-list"


class UndefinedTerm(JsonLdError):
    code = "undefined_term"
    default_message = "a property is not defined by a trusted context"


class TypeMismatch(JsonLdError):
    code = "jsonld_type_mismatch"
    default_message = "a value does not have the type its term defines"
