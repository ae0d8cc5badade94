"""OpenID4VP presentation requests, as a bank's verifier creates and later reads them.

:func:`create_request` makes a fresh request: a nonce
(``secrets.token_urlsafe(32)``, 256 bits), a request id that doubles as
``state`` (as in the OpenID4VP reference design for ``direct_post``, §14.3), the
signed Request Object (the profile is described in :mod:`vc.openid4vp`), and the
short ``openid4vp://`` URI for the QR. The nonce goes into the
:class:`~verifier.nonce_store.NonceStore` together with the request's JSON, so
any verifier instance can serve ``request_uri`` and accept the answer once.

:meth:`PresentationRequest.to_json` is exactly the document ``verifier request
--json`` prints (CLI.md): ``{id, nonce, client_id, response_uri, dcql_query,
purpose, request, uri}``, where ``request`` is the signed Request Object;
:meth:`PresentationRequest.from_json` reads it back and checks that the document
and the signed object agree.

Client identifier: banks are pre-registered on the hash registry (a
verifier-key entry binds ``client_id`` to the request-signing key's RFC 7638
thumbprint); the ``kid`` of every Request Object is that thumbprint.

The built-in query ``loan-precheck`` (``verifier/queries/loan-precheck.json``)
asks for one credit report, with key binding, and only: the issuer-attested
decision claims the ``loan-precheck`` policy reads (grade, material default,
late months, current past-due, enquiries, public records, utilisation), the
report's CRA, issue time and permitted use (which must be "cross-boundary
lending", domain.md §0 fact 2), and the identity-match data of domain.md §2.3
(English name, Chinese name, date of birth; a second claim set drops the
Chinese name, which not everyone has). It does not ask for the HKID (the bank
identifies the applicant by the Mainland Travel Permit, which carries name and
date of birth), the score value (the grade is the summary signal a mainland bank
can use), nor any account, enquiry or public-record detail.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from vc import dcql, strict_json
from vc.errors import SelfcarryError
from vc.jose import (
    EDDSA,
    ES256,
    PrivateKey,
    PublicKey,
    decode_compact,
    sign_compact,
    verify_compact,
)
from vc.openid4vp import (
    REQUEST_OBJECT_TYP,
    RESPONSE_MODE,
    RESPONSE_TYPE,
    SELF_ISSUED_AUD,
    RequestObjectError,
    build_request_uri,
    check_client_id,
    check_purpose,
    check_response_uri,
    check_url_safe,
    parse_request_uri,
)

from .errors import RequestError, UnknownQuery
from .nonce_store import NonceStore

__all__ = [
    "BUILTIN_QUERIES",
    "DEFAULT_TTL",
    "REQUEST_JSON_KEYS",
    "PresentationRequest",
    "client_metadata",
    "create_request",
    "load_query",
]

DEFAULT_TTL: Final = 600
MIN_TTL: Final = 30
MAX_TTL: Final = 24 * 3600
BUILTIN_QUERIES: Final = ("loan-precheck",)
MAX_QUERY_FILE: Final = 64 * 1024
MAX_REQUEST_DOCUMENT: Final = 256 * 1024
REQUEST_JSON_KEYS: Final = (
    "id",
    "nonce",
    "client_id",
    "response_uri",
    "dcql_query",
    "purpose",
    "request",
    "uri",
)
#: What we accept from wallets: the credential's and the KB-JWT's algorithms.
SUPPORTED_ALGS: Final = (ES256, EDDSA)

Purpose = str | dict[str, str]


def client_metadata() -> dict[str, Any]:
    """The ``client_metadata`` we send: the formats and algorithms we verify (§11.1)."""
    algs = list(SUPPORTED_ALGS)
    return {
        "vp_formats_supported": {
            dcql.DC_SD_JWT: {"sd-jwt_alg_values": algs, "kb-jwt_alg_values": algs}
        }
    }


@dataclass(frozen=True)
class PresentationRequest:
    """One presentation request. ``request`` is the signed Request Object (compact JWS)."""

    id: str
    nonce: str
    state: str
    client_id: str
    response_uri: str
    request_uri: str
    dcql_query: dict[str, Any]
    purpose: Purpose
    request: str
    uri: str
    issued_at: int
    expires_at: int
    #: the parsed ``dcql_query`` when the creator already has it (parsing validates and copies)
    parsed_query: dcql.DcqlQuery | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def query(self) -> dcql.DcqlQuery:
        """The parsed query, once per request object."""
        return self.parsed_query or dcql.parse_query(self.dcql_query)

    def to_json(self) -> dict[str, Any]:
        """CLI.md's ``verifier request --json`` document, exactly these eight members."""
        return {
            "id": self.id,
            "nonce": self.nonce,
            "client_id": self.client_id,
            "response_uri": self.response_uri,
            "dcql_query": self.dcql_query,
            "purpose": self.purpose,
            "request": self.request,
            "uri": self.uri,
        }

    def to_json_text(self) -> str:
        return strict_json.dumps(self.to_json())

    @classmethod
    def from_json(
        cls, doc: Mapping[str, Any] | str | bytes, *, key: PublicKey | None = None
    ) -> PresentationRequest:
        """Read a ``verifier request --json`` document back.

        The document and the signed Request Object must agree on every member.
        With ``key`` (the bank's own request-signing key) the signature is
        checked too. Expiry is not checked here: the nonce store decides whether
        the request can still be answered.
        """
        try:
            return _from_json(doc, key)
        except RequestError:
            raise
        except (RequestObjectError, dcql.DcqlError) as exc:
            raise RequestError(exc.message, code=exc.code) from exc


def _from_json(doc: Mapping[str, Any] | str | bytes, key: PublicKey | None) -> PresentationRequest:
    if isinstance(doc, str | bytes):
        if len(doc) > MAX_REQUEST_DOCUMENT:
            raise RequestError(f"a request document is at most {MAX_REQUEST_DOCUMENT} bytes")
        try:
            doc = strict_json.loads(doc)
        except SelfcarryError as exc:
            raise RequestError(f"the request document is not JSON: {exc.message}") from exc
    if not isinstance(doc, Mapping) or set(doc) != set(REQUEST_JSON_KEYS):
        raise RequestError(f"a request document has exactly the members {list(REQUEST_JSON_KEYS)}")
    jwt = doc["request"]
    if not isinstance(jwt, str):
        raise RequestError("request must be the signed Request Object")
    if key is not None:
        claims = verify_compact(jwt, key, typ=REQUEST_OBJECT_TYP).claims()
    else:
        jws = decode_compact(jwt)
        if jws.header.get("typ") != REQUEST_OBJECT_TYP:
            raise RequestError(f"the Request Object's typ is not {REQUEST_OBJECT_TYP!r}")
        claims = jws.claims()
    for name in ("nonce", "client_id", "response_uri", "dcql_query"):
        if claims.get(name) != doc[name]:
            raise RequestError(f"the document's {name} differs from the signed Request Object's")
    if claims.get("purpose") != doc["purpose"]:
        raise RequestError("the document's purpose differs from the signed Request Object's")
    request_id = doc["id"]
    if not isinstance(request_id, str) or claims.get("state") != request_id:
        raise RequestError("the document's id is not the Request Object's state")
    check_url_safe(request_id, "state")
    nonce = check_url_safe(doc["nonce"], "nonce")
    client_id = check_client_id(doc["client_id"])
    response_uri = check_response_uri(doc["response_uri"])
    purpose = check_purpose(doc["purpose"])
    query = dcql.parse_query(doc["dcql_query"])
    uri = doc["uri"]
    parsed = parse_request_uri(uri)
    if parsed.client_id != client_id or not parsed.request_uri.endswith("/" + request_id):
        raise RequestError("the document's uri does not refer to this request")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or exp <= iat:
        raise RequestError("the Request Object needs iat < exp")
    return PresentationRequest(
        id=request_id,
        nonce=nonce,
        state=request_id,
        client_id=client_id,
        response_uri=response_uri,
        request_uri=parsed.request_uri,
        dcql_query=query.to_json(),
        purpose=purpose,
        request=jwt,
        uri=uri,
        issued_at=iat,
        expires_at=exp,
        parsed_query=query,
    )


def create_request(
    *,
    client_id: str,
    response_uri: str,
    request_uri_base: str,
    dcql_query: Mapping[str, Any] | dcql.DcqlQuery,
    purpose: Purpose,
    signing_key: PrivateKey,
    nonce_store: NonceStore,
    ttl: int = DEFAULT_TTL,
    now: int | None = None,
) -> PresentationRequest:
    """A fresh, signed presentation request, remembered in ``nonce_store``.

    ``request_uri`` is ``<request_uri_base>/<id>``; the service must answer a GET
    there with the Request Object (``application/oauth-authz-req+jwt``).

    QR budget: the ``openid4vp://`` URI is 59 bytes plus ``client_id`` plus
    ``request_uri_base``; a version-7 QR (level L) holds 154 bytes, so keep those
    two within 95 characters together (``https://loans.bank.example.cn`` and
    ``https://loans.bank.example.cn/r`` take 60).
    """
    try:
        return _create(
            client_id, response_uri, request_uri_base, dcql_query, purpose, signing_key,
            nonce_store, ttl, now,
        )  # fmt: skip
    except RequestError:
        raise
    except (RequestObjectError, dcql.DcqlError) as exc:
        raise RequestError(exc.message, code=exc.code) from exc


def _create(
    client_id: str,
    response_uri: str,
    request_uri_base: str,
    dcql_query: Mapping[str, Any] | dcql.DcqlQuery,
    purpose: Purpose,
    signing_key: PrivateKey,
    nonce_store: NonceStore,
    ttl: int,
    now: int | None,
) -> PresentationRequest:
    check_client_id(client_id)
    check_response_uri(response_uri)
    check_response_uri(request_uri_base, "request_uri")
    purpose = check_purpose(purpose)
    parsed_query = dcql.parse_query(dcql_query)
    query = parsed_query.to_json()
    if not isinstance(signing_key, PrivateKey):
        raise RequestError("signing_key must be a vc.jose.PrivateKey")
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not MIN_TTL <= ttl <= MAX_TTL:
        raise RequestError(f"ttl is {MIN_TTL}-{MAX_TTL} seconds")
    issued_at = int(time.time()) if now is None else now
    if not isinstance(issued_at, int) or isinstance(issued_at, bool) or issued_at < 0:
        raise RequestError("now is epoch seconds")
    expires_at = issued_at + ttl
    request_id = secrets.token_urlsafe(16)  # 128 bits: also the state (§5.3 asks >= 128)
    nonce = secrets.token_urlsafe(32)
    request_uri = f"{request_uri_base.rstrip('/')}/{request_id}"
    check_response_uri(request_uri, "request_uri")
    claims: dict[str, Any] = {
        "response_type": RESPONSE_TYPE,
        "response_mode": RESPONSE_MODE,
        "client_id": client_id,
        "response_uri": response_uri,
        "nonce": nonce,
        "state": request_id,
        "dcql_query": query,
        "client_metadata": client_metadata(),
        "aud": SELF_ISSUED_AUD,
        "iat": issued_at,
        "exp": expires_at,
        "purpose": purpose,
    }
    header = {"typ": REQUEST_OBJECT_TYP, "kid": signing_key.public_key().thumbprint()}
    jwt = sign_compact(header, claims, signing_key)
    request = PresentationRequest(
        id=request_id,
        nonce=nonce,
        state=request_id,
        client_id=client_id,
        response_uri=response_uri,
        request_uri=request_uri,
        dcql_query=query,
        purpose=purpose,
        request=jwt,
        uri=build_request_uri(client_id, request_uri),
        issued_at=issued_at,
        expires_at=expires_at,
        parsed_query=parsed_query,
    )
    nonce_store.issue(nonce, request_id, expires_at, request.to_json_text())
    return request


def load_query(name_or_path: str | Path) -> dict[str, Any]:
    """A built-in DCQL query by name (``loan-precheck``) or a DCQL JSON file, validated."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_QUERIES:
        text = resources.files("verifier.queries").joinpath(f"{name_or_path}.json").read_bytes()
    else:
        path = Path(name_or_path)
        try:
            with path.open("rb") as fh:
                text = fh.read(MAX_QUERY_FILE + 1)
        except OSError as exc:
            raise UnknownQuery(
                f"{name_or_path!s} is neither a built-in query ({', '.join(BUILTIN_QUERIES)}) "
                f"nor a readable file"
            ) from exc
    try:
        return dcql.parse_query(text).to_json()
    except SelfcarryError as exc:
        raise RequestError(f"{name_or_path!s}: {exc.message}", code=exc.code) from exc
