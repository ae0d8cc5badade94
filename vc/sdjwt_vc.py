"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): ``typ: dc+sd-jwt`` credentials.

Adds to plain SD-JWT: the registered claims (``iss``, ``vct``, ``iat``, ``nbf``,
``exp``, ``cnf``, ``status``), the rule that validity-critical claims are never
selectively disclosable, and time checks with a bounded clock skew.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    CredentialError,
    Expired,
    MissingClaim,
    NotYetValid,
    SelectionError,
    WrongType,
)
from .jose import DEFAULT_ALGS, PrivateKey, PublicKey
from .sdjwt import (
    DEFAULT_LIMITS,
    DEFAULT_SD_ALG,
    NO_DECOYS,
    SD,
    Decoys,
    IssuedSDJWT,
    KeyBindingPolicy,
    KeyResolver,
    Limits,
    ParsedSDJWT,
    VerifiedSDJWT,
    issue,
    parse,
    verify,
)

DC_SD_JWT = "dc+sd-jwt"
LEGACY_VC_SD_JWT = "vc+sd-jwt"
# Never selectively disclosable (SD-JWT VC §3.2.2 and RFC 9901 §9.7): a verifier must see them.
NEVER_DISCLOSABLE = frozenset({"iss", "vct", "vct#integrity", "nbf", "exp", "cnf", "status"})
DEFAULT_SKEW = 60


def issue_credential(
    claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    issuer: str,
    vct: str,
    iat: int,
    exp: int | None,
    nbf: int | None = None,
    holder_key: PublicKey | None = None,
    status: Mapping[str, Any] | None = None,
    kid: str | None = None,
    hash_alg: str = DEFAULT_SD_ALG,
    decoys: Decoys = NO_DECOYS,
) -> IssuedSDJWT:
    """Issue a ``dc+sd-jwt`` credential. ``claims`` may carry :class:`SD` markers."""
    for name in claims:
        plain = name.value if isinstance(name, SD) else name
        if plain in NEVER_DISCLOSABLE or plain == "iat":
            raise SelectionError(f"{plain!r} is set by issue_credential, not passed in claims")
    registered: dict[str, Any] = {"iss": issuer, "vct": vct, "iat": iat}
    if nbf is not None:
        registered["nbf"] = nbf
    if exp is not None:
        registered["exp"] = exp
    if status is not None:
        registered["status"] = dict(status)
    header: dict[str, Any] = {"typ": DC_SD_JWT}
    if kid is not None:
        header["kid"] = kid
    return issue(
        {**registered, **claims}, key, header=header, holder_key=holder_key,
        hash_alg=hash_alg, decoys=decoys,
    )


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential that passed every SD-JWT VC check; ``claims`` are the disclosed ones."""

    issuer: str
    vct: str
    iat: int | None
    exp: int | None
    status: dict[str, Any] | None
    claims: dict[str, Any]
    sd_jwt: VerifiedSDJWT

    @property
    def holder_key(self) -> PublicKey | None:
        return self.sd_jwt.holder_key


def _int_time(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise CredentialError(f"{name} must be a NumericDate", code="invalid_time_claim")
    return int(value)


def check_times(
    payload: Mapping[str, Any], *, now: int, skew: int = DEFAULT_SKEW, require_exp: bool = True
) -> None:
    """``exp``/``nbf``/``iat`` against ``now`` with a bounded skew, as RFC 7519 §4.1 defines."""
    exp, nbf, iat = (_int_time(payload, n) for n in ("exp", "nbf", "iat"))
    if exp is None and require_exp:
        raise MissingClaim("the credential has no exp")
    if exp is not None and now - skew >= exp:
        raise Expired()
    if nbf is not None and now + skew < nbf:
        raise NotYetValid()
    if iat is not None and now + skew < iat:
        raise NotYetValid("the credential was issued in the future")


def verify_credential(
    presentation: str | ParsedSDJWT,
    issuers: PublicKey | KeyResolver,
    *,
    now: int,
    key_binding: KeyBindingPolicy | None,
    skew: int = DEFAULT_SKEW,
    typs: Collection[str] = (DC_SD_JWT,),
    algs: Collection[str] = DEFAULT_ALGS,
    require_exp: bool = True,
    vcts: Collection[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedCredential:
    """Verify an SD-JWT VC presentation end to end (format level; no registry, no status)."""
    parsed = presentation if isinstance(presentation, ParsedSDJWT) else parse(
        presentation, limits=limits
    )
    typ = parsed.jwt.header.get("typ")
    if typ not in typs:
        raise WrongType(f"credential typ {typ!r} is not accepted")
    result = verify(parsed, issuers, key_binding=key_binding, algs=algs, typ=typ, limits=limits)
    signed, claims = result.issuer_payload, result.claims
    for name in NEVER_DISCLOSABLE:
        if name in claims and name not in signed:
            raise CredentialError(
                f"{name} was selectively disclosed; it must be in the signed payload",
                code="disclosed_validity_claim",
            )
    vct, iss = signed.get("vct"), signed.get("iss")
    if not isinstance(vct, str) or not vct:
        raise MissingClaim("the credential has no vct")
    if not isinstance(iss, str) or not iss:
        raise MissingClaim("the credential has no iss")
    if vcts is not None and vct not in vcts:
        raise CredentialError(f"vct {vct!r} is not accepted", code="unsupported_vct")
    check_times(claims, now=now, skew=skew, require_exp=require_exp)
    status = signed.get("status")
    if status is not None and not isinstance(status, dict):
        raise CredentialError("status must be an object", code="invalid_status_claim")
    return VerifiedCredential(
        iss, vct, _int_time(claims, "iat"), _int_time(signed, "exp"), status, claims, result
    )
