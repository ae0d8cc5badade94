"""Issuer errors. The OpenID4VCI ones carry the spec's own error codes (§6.3, §8.3.1),
so a wallet reads the same code from the CLI, the library and the HTTP body."""

from __future__ import annotations

from vc.errors import SelfcarryError


class IssuerError(SelfcarryError):
    code = "issuer_error"
    default_message = "the credit reference agency could not complete the operation"
    http_status = 400


class NotInitialised(IssuerError):
    code = "issuer_not_initialised"
    default_message = "no issuer here: run `issuer-sim init` first"


class NotAdmitted(IssuerError):
    code = "issuer_not_admitted"
    default_message = (
        "the registry operator has not admitted this CRA's key yet "
        "(`hash-registry admit-issuer`), so it cannot anchor credentials"
    )


class UnknownCredential(IssuerError):
    code = "unknown_credential"
    default_message = "this CRA issued no credential with that digest"
    http_status = 404


# --- OpenID4VCI (codes exactly as the specification names them) ----------------


class InvalidRequest(IssuerError):
    code = "invalid_request"
    default_message = "the request is missing a parameter or is malformed"


class InvalidGrant(IssuerError):
    code = "invalid_grant"
    default_message = "the pre-authorized code or transaction code is wrong, used or expired"


class InvalidToken(IssuerError):
    code = "invalid_token"
    default_message = "the access token is missing, wrong, used or expired"
    http_status = 401


class InvalidCredentialRequest(IssuerError):
    code = "invalid_credential_request"
    default_message = "the credential request is malformed"


class UnknownCredentialConfiguration(IssuerError):
    code = "unknown_credential_configuration"
    default_message = "the issuer offers no credential configuration with that id"


class InvalidProof(IssuerError):
    code = "invalid_proof"
    default_message = "the key proof is missing or invalid"


class InvalidNonce(IssuerError):
    code = "invalid_nonce"
    default_message = "the key proof does not carry a fresh c_nonce from this issuer"


class CredentialRequestDenied(IssuerError):
    code = "credential_request_denied"
    default_message = "the issuer will not issue this credential"
    http_status = 403
