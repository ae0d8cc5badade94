"""The wallet side of OpenID4VCI 1.0: redeem a pre-authorized credential offer.

offer → issuer metadata → token (pre-authorized code + tx_code) → c_nonce → a `jwt`
key proof with a fresh holder key → the credential and its registry receipt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from vc import strict_json
from vc.errors import SelfcarryError
from vc.jose import PrivateKey, sign_compact

from .errors import WalletError

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer"
MAX_BODY = 2 * 1024 * 1024


class IssuanceFailed(WalletError):
    code = "issuance_failed"
    default_message = "the credential issuer did not issue the credential"


@dataclass(frozen=True)
class CredentialOffer:
    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: dict[str, Any] | None


def parse_offer(uri: str, http: httpx.Client | None = None) -> CredentialOffer:
    """An offer by value (`credential_offer=`) or by reference (`credential_offer_uri=`)."""
    if not isinstance(uri, str) or len(uri) > 16384:
        raise WalletError("not a credential offer", code="invalid_offer")
    parts = urlsplit(uri.strip())
    if parts.scheme not in (OFFER_SCHEME, "https", "http"):
        raise WalletError("a credential offer starts with openid-credential-offer://",
                          code="invalid_offer")
    query = parse_qs(parts.query, max_num_fields=4)
    try:
        if "credential_offer" in query:
            doc = strict_json.loads(query["credential_offer"][0], max_depth=8)
        elif "credential_offer_uri" in query:
            doc = _get_json(http, query["credential_offer_uri"][0])
        else:
            raise WalletError("the URI carries no credential offer", code="invalid_offer")
    except SelfcarryError as exc:
        if isinstance(exc, WalletError):
            raise
        raise WalletError(f"the credential offer is not valid JSON ({exc.code})",
                          code="invalid_offer") from exc
    grant = doc.get("grants", {}).get(PRE_AUTH_GRANT) if isinstance(doc, dict) else None
    ids = doc.get("credential_configuration_ids") if isinstance(doc, dict) else None
    issuer = doc.get("credential_issuer") if isinstance(doc, dict) else None
    if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
        raise WalletError("only pre-authorized code offers are supported", code="invalid_offer")
    if not isinstance(issuer, str) or not isinstance(ids, list) or not ids:
        raise WalletError("the offer names no issuer or configuration", code="invalid_offer")
    tx = grant.get("tx_code")
    return CredentialOffer(issuer.rstrip("/"), tuple(str(i) for i in ids),
                           grant["pre-authorized_code"], tx if isinstance(tx, dict) else None)


def _get_json(http: httpx.Client | None, url: str) -> Any:
    client = http or httpx.Client(timeout=10)
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise IssuanceFailed(f"could not reach {url} ({exc})", code="issuer_unreachable") from exc
    finally:
        if http is None:
            client.close()
    return _json_body(response)


def _json_body(response: httpx.Response) -> Any:
    if len(response.content) > MAX_BODY:
        raise IssuanceFailed("the issuer's answer is too large")
    try:
        body = strict_json.loads(response.content, max_depth=16)
    except SelfcarryError as exc:
        raise IssuanceFailed(f"the issuer answered {response.status_code} without JSON") from exc
    if response.status_code >= 400:
        code = body.get("error", "issuance_failed") if isinstance(body, dict) else "issuance_failed"
        desc = body.get("error_description", "") if isinstance(body, dict) else ""
        raise IssuanceFailed(f"the issuer refused: {code} {desc}".strip(), code=str(code))
    return body


def redeem(
    offer: CredentialOffer,
    *,
    tx_code: str | None,
    new_holder_key: Callable[[], PrivateKey],
    http: httpx.Client | None = None,
    now: Callable[[], float] = time.time,
) -> tuple[str, dict[str, Any] | None, PrivateKey]:
    """Run the pre-authorized flow; returns (credential, registry receipt, holder key)."""
    if offer.tx_code is not None and not tx_code:
        raise WalletError("this offer needs its transaction code", code="tx_code_required")
    client = http or httpx.Client(timeout=15)
    try:
        base = offer.credential_issuer
        meta = _json_body(client.get(f"{base}/.well-known/openid-credential-issuer"))
        if not isinstance(meta, dict) or meta.get("credential_issuer", "").rstrip("/") != base:
            raise IssuanceFailed("the issuer metadata names another issuer",
                                 code="issuer_metadata_mismatch")
        config_id = offer.configuration_ids[0]
        if config_id not in meta.get("credential_configurations_supported", {}):
            raise IssuanceFailed("the issuer does not support the offered credential")
        auth = _json_body(client.get(f"{base}/.well-known/oauth-authorization-server"))
        token_endpoint = auth.get("token_endpoint") if isinstance(auth, dict) else None
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code}
        if tx_code:
            form["tx_code"] = tx_code
        token = _json_body(client.post(str(token_endpoint or f"{base}/token"), data=form))
        access = token.get("access_token") if isinstance(token, dict) else None
        if not isinstance(access, str):
            raise IssuanceFailed("the token response has no access token")
        nonce_doc = _json_body(client.post(str(meta.get("nonce_endpoint", f"{base}/nonce"))))
        holder = new_holder_key()
        proof = sign_compact(
            {"typ": "openid4vci-proof+jwt", "jwk": holder.public_key().to_jwk()},
            {"aud": base, "iat": int(now()), "nonce": nonce_doc.get("c_nonce")}, holder)
        body = {"credential_configuration_id": config_id, "proofs": {"jwt": [proof]}}
        answer = _json_body(client.post(
            str(meta["credential_endpoint"]), content=json.dumps(body),
            headers={"Authorization": f"Bearer {access}", "Content-Type": "application/json"}))
    except httpx.HTTPError as exc:
        raise IssuanceFailed(f"could not reach the issuer ({exc})",
                             code="issuer_unreachable") from exc
    finally:
        if http is None:
            client.close()
    credentials = answer.get("credentials") if isinstance(answer, dict) else None
    if not isinstance(credentials, list) or len(credentials) != 1:
        raise IssuanceFailed("the credential response carries no single credential")
    item = credentials[0]
    if not isinstance(item, dict) or not isinstance(item.get("credential"), str):
        raise IssuanceFailed("the credential response is malformed")
    receipt = item.get("registry_receipt")
    return item["credential"], receipt if isinstance(receipt, dict) else None, holder
