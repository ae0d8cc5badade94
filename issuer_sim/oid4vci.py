"""OpenID4VCI 1.0, pre-authorized code flow, as plain functions over the CRA's state.

The HTTP service only translates requests to these calls and errors to JSON bodies,
so the same rules hold whether a test calls them directly or over loopback.
Transport note: the specification requires HTTPS; this simulator also serves plain
HTTP on loopback for demos and tests, and says so in its metadata URL.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from vc.credit_report import VCT
from vc.errors import VCError
from vc.jose import EDDSA, ES256, PublicKey, check_header, decode_compact

from .cra import Cra, Issued
from .errors import (
    InvalidCredentialRequest,
    InvalidGrant,
    InvalidNonce,
    InvalidProof,
    InvalidRequest,
    InvalidToken,
    UnknownCredentialConfiguration,
)
from .state import Offer

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIG_ID = "hk_credit_report_sd_jwt"
PROOF_TYP = "openid4vci-proof+jwt"
PROOF_ALGS = frozenset({ES256, EDDSA})
TOKEN_TTL = 300
NONCE_TTL = 300
PROOF_MAX_AGE = 300
PROOF_MAX_FUTURE = 60
TX_CODE_LENGTH = 6


@dataclass(frozen=True)
class CreatedOffer:
    uri: str
    offer: dict[str, Any]
    tx_code: str | None


def issuer_metadata(cra: Cra) -> dict[str, Any]:
    """Credential Issuer Metadata (OpenID4VCI §12.2), served at the well-known path."""
    base = cra.issuer_id
    names = cra.profile
    return {
        "credential_issuer": base,
        "authorization_servers": [base],
        "credential_endpoint": f"{base}/credential",
        "nonce_endpoint": f"{base}/nonce",
        "display": [
            {"name": names.name_en, "locale": "en"},
            {"name": names.name_zh_hant, "locale": "zh-Hant-HK"},
            {"name": names.name_zh_hans, "locale": "zh-Hans"},
        ],
        "credential_configurations_supported": {
            CONFIG_ID: {
                "format": "dc+sd-jwt",
                "vct": VCT,
                "scope": "hk_credit_report",
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [cra.key.alg],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": sorted(PROOF_ALGS)}
                },
                "display": [
                    {"name": "Credit report", "locale": "en"},
                    {"name": "信貸報告", "locale": "zh-Hant-HK"},
                    {"name": "信用报告", "locale": "zh-Hans"},
                ],
            }
        },
    }


def authorization_server_metadata(cra: Cra) -> dict[str, Any]:
    base = cra.issuer_id
    return {
        "issuer": base,
        "token_endpoint": f"{base}/token",
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def create_offer(cra: Cra, seed: int, *, tx_code: bool = True,
                 now: int | None = None) -> CreatedOffer:
    """A credential offer by value, with a single-use pre-authorized code (and tx_code)."""
    now = int(time.time()) if now is None else now
    code = secrets.token_urlsafe(32)
    pin = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH)) if tx_code else None
    cra.state.add_offer(Offer(code, pin, seed, CONFIG_ID, now + cra.config.offer_ttl))
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if pin is not None:
        grant["tx_code"] = {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                            "description": "The 6-digit code the CRA showed you"}
    offer = {"credential_issuer": cra.issuer_id, "credential_configuration_ids": [CONFIG_ID],
             "grants": {PRE_AUTH_GRANT: grant}}
    text = json.dumps(offer, separators=(",", ":"))
    return CreatedOffer(f"openid-credential-offer://?credential_offer={quote(text, safe='')}",
                        offer, pin)


def token(cra: Cra, form: Mapping[str, str], *, now: int | None = None) -> dict[str, Any]:
    """The token endpoint for the pre-authorized code grant (§6)."""
    now = int(time.time()) if now is None else now
    if form.get("grant_type") != PRE_AUTH_GRANT:
        raise InvalidRequest("grant_type must be the pre-authorized code grant",
                             code="unsupported_grant_type")
    code = form.get("pre-authorized_code")
    if not code:
        raise InvalidRequest("pre-authorized_code is missing")
    found = cra.state.offer(code)
    if found is None:
        raise InvalidGrant("unknown pre-authorized code")
    offer, redeemed = found
    pin = form.get("tx_code")
    if offer.tx_code is not None and pin is None:
        raise InvalidRequest("this offer needs the transaction code (tx_code)")
    if offer.tx_code is None and pin is not None:
        raise InvalidRequest("this offer has no transaction code")
    if offer.tx_code is not None and not secrets.compare_digest(str(pin), offer.tx_code):
        raise InvalidGrant("wrong transaction code")
    if redeemed or offer.expires <= now or not cra.state.redeem_offer(code, now):
        raise InvalidGrant("the pre-authorized code was already used or has expired")
    access = secrets.token_urlsafe(32)
    cra.state.add_token(access, offer.seed, offer.config_id, now + TOKEN_TTL)
    return {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_TTL,
            "authorization_details": [{"type": "openid_credential",
                                       "credential_configuration_id": offer.config_id}]}


def nonce(cra: Cra, *, now: int | None = None) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    return {"c_nonce": cra.state.new_nonce(now + NONCE_TTL)}


def verify_proof(cra: Cra, proof: Any, *, now: int) -> PublicKey:
    """The `jwt` key proof (§8.2.1.1): typ, alg, one header key, aud, iat, fresh c_nonce."""
    if not isinstance(proof, str):
        raise InvalidProof("the jwt proof must be a string")
    try:
        jws = decode_compact(proof, max_bytes=8192)
        alg = check_header(jws.header, algs=PROOF_ALGS, typ=PROOF_TYP)
        keys = [k for k in ("jwk", "kid", "x5c") if k in jws.header]
        if keys != ["jwk"]:
            raise InvalidProof("the proof header must carry exactly one key, as jwk")
        holder = PublicKey.from_jwk(jws.header["jwk"])  # refuses private key material
        holder.verify(jws.signature, jws.signing_input, alg)
        claims = jws.claims()
    except InvalidProof:
        raise
    except VCError as exc:
        raise InvalidProof(f"the key proof is invalid ({exc.code})") from exc
    if claims.get("aud") != cra.issuer_id:
        raise InvalidProof("the key proof's aud is not this credential issuer")
    iat = claims.get("iat")
    if not isinstance(iat, int) or not now - PROOF_MAX_AGE <= iat <= now + PROOF_MAX_FUTURE:
        raise InvalidProof("the key proof's iat is missing or not fresh")
    c_nonce = claims.get("nonce")
    if not isinstance(c_nonce, str) or not cra.state.use_nonce(c_nonce, now):
        raise InvalidNonce()
    return holder


def credential(
    cra: Cra, authorization: str | None, body: Any, *, now: int | None = None
) -> dict[str, Any]:
    """The credential endpoint (§8): one key proof in, one anchored credential out.

    Besides ``credential``, each entry carries ``registry_receipt`` (our extension):
    the registry index, inclusion proof and cosigned checkpoint of its anchor.
    """
    now = int(time.time()) if now is None else now
    if not authorization or not authorization.startswith("Bearer "):
        raise InvalidToken("a Bearer access token is required")
    if not isinstance(body, dict):
        raise InvalidCredentialRequest("the request body must be a JSON object")
    has_id, has_ident = "credential_configuration_id" in body, "credential_identifier" in body
    if has_id == has_ident:
        raise InvalidCredentialRequest(
            "give exactly one of credential_configuration_id and credential_identifier")
    config_id = body.get("credential_configuration_id", body.get("credential_identifier"))
    if config_id != CONFIG_ID:
        raise UnknownCredentialConfiguration()
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise InvalidProof("proofs must be {\"jwt\": [<proof>]}")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1:
        raise InvalidProof("exactly one jwt proof is accepted")
    access = authorization.removeprefix("Bearer ").strip()
    grant = cra.state.peek_token(access, now)
    if grant is None:
        raise InvalidToken()
    if grant[1] != config_id:
        raise UnknownCredentialConfiguration("the access token is for another configuration")
    # A bad proof (say, a stale c_nonce) must not burn the token: the wallet fetches a
    # fresh nonce and retries. The token is consumed only once the proof holds.
    holder = verify_proof(cra, jwts[0], now=now)
    if cra.state.use_token(access, now) is None:
        raise InvalidToken("the access token was used concurrently")
    seed = grant[0]
    issued: Issued = cra.issue(seed, holder, now=now)
    return {"credentials": [{"credential": issued.credential,
                             "registry_receipt": json.loads(issued.receipt.to_json())}]}
