"""OpenID4VP 1.0 Request Objects (JAR, RFC 9101) as selfcarry profiles them, pure.

The wallet must never import the verifier (DESIGN.md), yet both must agree on
what a valid request is; so the rules live here, in ``vc``, and
``verifier.request`` builds on them.

The profile:

* **Cross-device, by reference.** The QR carries only
  ``openid4vp://?client_id=…&request_uri=…`` (§5.7, static discovery); the wallet
  fetches the signed Request Object from ``request_uri``.
* **Request Object.** Header ``typ: oauth-authz-req+jwt``, ``alg`` ES256 or
  EdDSA, ``kid`` = RFC 7638 thumbprint of the signing key. Claims:
  ``response_type=vp_token``, ``response_mode=direct_post``, ``client_id``,
  ``response_uri`` (and never ``redirect_uri``), ``nonce``, ``state``,
  ``dcql_query``, ``aud=https://self-issued.me/v2``, ``iat``, ``exp``,
  ``client_metadata.vp_formats_supported``.
* **Client identifier: pre-registered (§5.9.2).** A bank is registered on the
  hash registry: the operator appends a verifier-key entry binding its
  ``client_id`` to its request-signing key's thumbprint. Wallets look the key
  up there and verify the Request Object with it. Since §5.9.1 says a
  pre-registered identifier must not start with a defined prefix and ``:``,
  identifiers such as ``x509_hash:…`` are refused; an ``https://`` URL (whose
  ``https`` is no defined prefix) is the usual form. The KB-JWT ``aud`` is the
  full ``client_id``.
* **Purpose (extension).** OpenID4VP has no purpose parameter (``verifier_info``
  is for third-party attestations), so the Request Object carries an extension
  claim ``purpose``: a string, or an object from language tags (``en``,
  ``zh-Hans``, …) to strings. Wallets that do not know it ignore it, as §5.1
  asks of unknown parameters.
* ``transaction_data`` is not supported and therefore refused (§5.1).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Collection, Mapping
from typing import Any, Final, NamedTuple

from . import dcql
from .errors import LimitExceeded, VCError
from .jose import DEFAULT_ALGS, PublicKey, decode_compact, verify_compact

__all__ = [
    "DEFINED_CLIENT_ID_PREFIXES",
    "MAX_REQUEST_OBJECT_BYTES",
    "REQUEST_OBJECT_TYP",
    "RESPONSE_MODE",
    "RESPONSE_TYPE",
    "SELF_ISSUED_AUD",
    "URI_SCHEME",
    "ClientIdMismatch",
    "InvalidRequestURI",
    "RequestExpired",
    "RequestObjectError",
    "RequestURI",
    "build_request_uri",
    "check_client_id",
    "check_purpose",
    "check_response_uri",
    "check_url_safe",
    "decode_request_object",
    "parse_request_uri",
    "verify_request_object",
]

REQUEST_OBJECT_TYP: Final = "oauth-authz-req+jwt"
SELF_ISSUED_AUD: Final = "https://self-issued.me/v2"
RESPONSE_TYPE: Final = "vp_token"
RESPONSE_MODE: Final = "direct_post"
URI_SCHEME: Final = "openid4vp"
#: §5.9.3: a pre-registered client_id must not begin with one of these and ":".
DEFINED_CLIENT_ID_PREFIXES: Final = frozenset(
    {
        "redirect_uri",
        "openid_federation",
        "decentralized_identifier",
        "verifier_attestation",
        "x509_san_dns",
        "x509_hash",
        "origin",
    }
)
MAX_REQUEST_OBJECT_BYTES: Final = 64 * 1024
MAX_URI_LENGTH: Final = 2048
MAX_URL_SAFE: Final = 512
MAX_PURPOSE: Final = 500
MAX_PURPOSE_LANGUAGES: Final = 8
DEFAULT_SKEW: Final = 60
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class RequestObjectError(VCError):
    """Root of the request errors: a wallet refuses the request and says why."""

    code = "invalid_request_object"
    default_message = "the presentation request is not valid"


class InvalidRequestURI(RequestObjectError):
    code = "invalid_request_uri"
    default_message = "the openid4vp:// URI is not a valid request reference"


class ClientIdMismatch(RequestObjectError):
    code = "client_id_mismatch"
    default_message = "the Request Object's client_id is not the one the URI named"


class RequestExpired(RequestObjectError):
    code = "request_expired"
    default_message = "the presentation request has expired"


def _fail(code: str, message: str) -> RequestObjectError:
    return RequestObjectError(message, code=code)


def check_url_safe(value: Any, what: str) -> str:
    """``nonce`` and ``state`` (§5.2): ASCII URL-safe characters ``[A-Za-z0-9-._~]`` only."""
    if not isinstance(value, str) or not _URL_SAFE.fullmatch(value) or len(value) > MAX_URL_SAFE:
        raise _fail(
            f"invalid_{what}",
            f"{what} must be 1-{MAX_URL_SAFE} characters from A-Z a-z 0-9 - . _ ~",
        )
    return value


def check_client_id(value: Any) -> str:
    """A pre-registered client identifier (see the module docstring)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_SAFE:
        raise _fail("invalid_client_id", f"client_id must be a string of 1-{MAX_URL_SAFE} chars")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise _fail("invalid_client_id", "client_id must not contain spaces or control characters")
    prefix, colon, _rest = value.partition(":")
    if colon and prefix in DEFINED_CLIENT_ID_PREFIXES:
        raise _fail(
            "unsupported_client_id_prefix",
            f"client_id prefix {prefix!r} is not supported: banks are pre-registered on the "
            "hash registry",
        )
    return value


def check_response_uri(value: Any, what: str = "response_uri") -> str:
    """An absolute ``https`` URL (``http`` only on a loopback host, for local testing)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URI_LENGTH:
        raise _fail(f"invalid_{what}", f"{what} must be a URL of at most {MAX_URI_LENGTH} chars")
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise _fail(f"invalid_{what}", f"{what} is not a URL") from exc
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value) or not host or parts.fragment:
        raise _fail(f"invalid_{what}", f"{what} must be an absolute URL without a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK):
        return value
    raise _fail(f"invalid_{what}", f"{what} must use https (http only on a loopback host)")


def check_purpose(value: Any) -> str | dict[str, str]:
    """The ``purpose`` extension: a string, or language tag -> string."""

    def text(v: Any, where: str) -> str:
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_PURPOSE:
            raise _fail("invalid_purpose", f"{where} must be a text of 1-{MAX_PURPOSE} characters")
        return v

    if isinstance(value, str):
        return text(value, "purpose")
    if isinstance(value, Mapping) and 0 < len(value) <= MAX_PURPOSE_LANGUAGES:
        out: dict[str, str] = {}
        for lang, v in value.items():
            if not isinstance(lang, str) or not _LANG_TAG.fullmatch(lang):
                raise _fail("invalid_purpose", f"purpose key {lang!r} is not a language tag")
            out[lang] = text(v, f"purpose[{lang}]")
        return out
    raise _fail(
        "invalid_purpose",
        f"purpose is a text or an object of at most {MAX_PURPOSE_LANGUAGES} language tags",
    )


# --- the short URI ------------------------------------------------------------------------


class RequestURI(NamedTuple):
    """What an ``openid4vp://`` URI carries: who asks, and where the request is."""

    client_id: str
    request_uri: str


def _quote(value: str) -> str:
    # ':' and '/' are legal in a query (RFC 3986 §3.4); leaving them makes the QR smaller.
    return urllib.parse.quote(value, safe=":/")


def build_request_uri(client_id: str, request_uri: str) -> str:
    """``openid4vp://?client_id=…&request_uri=…`` (short enough for a small QR)."""
    check_client_id(client_id)
    check_response_uri(request_uri, "request_uri")
    return f"{URI_SCHEME}://?client_id={_quote(client_id)}&request_uri={_quote(request_uri)}"


def parse_request_uri(uri: str) -> RequestURI:
    """Parse the URI a wallet scanned or was handed (no network)."""
    if not isinstance(uri, str) or len(uri) > MAX_URI_LENGTH:
        raise InvalidRequestURI(f"a request URI is a string of at most {MAX_URI_LENGTH} chars")
    uri = uri.strip()
    try:
        parts = urllib.parse.urlsplit(uri)
        params = urllib.parse.parse_qs(
            parts.query, keep_blank_values=True, strict_parsing=True, max_num_fields=16
        )
    except ValueError as exc:
        raise InvalidRequestURI(f"the request URI does not parse ({exc})") from exc
    if parts.scheme.lower() != URI_SCHEME or parts.fragment:
        raise InvalidRequestURI(f"a request URI starts with {URI_SCHEME}:// and has no fragment")
    for name, found in params.items():
        if len(found) != 1:
            raise InvalidRequestURI(f"the parameter {name!r} appears more than once")
    if "request" in params:
        raise InvalidRequestURI("requests by value are not supported; use request_uri")
    if "client_id" not in params or "request_uri" not in params:
        raise InvalidRequestURI("the request URI needs client_id and request_uri")
    method = params.get("request_uri_method", ["get"])[0]
    if method not in ("get", "post"):  # §5.10: case-sensitive get|post
        raise _fail("invalid_request_uri_method", "request_uri_method must be get or post")
    client_id = params["client_id"][0]
    request_uri = params["request_uri"][0]
    try:
        check_client_id(client_id)
        check_response_uri(request_uri, "request_uri")
    except RequestObjectError as exc:
        raise InvalidRequestURI(exc.message) from exc
    return RequestURI(client_id, request_uri)


# --- the Request Object ---------------------------------------------------------------------


def decode_request_object(jwt: str) -> dict[str, Any]:
    """The claims of a Request Object, NOT verified: for routing and display, never for trust."""
    if not isinstance(jwt, str):
        raise _fail("invalid_request_object", "a Request Object is a compact JWS string")
    if len(jwt) > MAX_REQUEST_OBJECT_BYTES:
        raise LimitExceeded(f"the Request Object is larger than {MAX_REQUEST_OBJECT_BYTES} bytes")
    return decode_compact(jwt.strip(), max_bytes=MAX_REQUEST_OBJECT_BYTES).claims()


def _int_time(claims: Mapping[str, Any], name: str, required: bool) -> int | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail("invalid_request_object", f"{name} must be a NumericDate (integer seconds)")
    return value


def _check_client_metadata(value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail("invalid_client_metadata", "client_metadata must be an object")
    formats = value.get("vp_formats_supported")
    if formats is not None and not isinstance(formats, Mapping):
        raise _fail("invalid_client_metadata", "vp_formats_supported must be an object")


def verify_request_object(
    jwt: str,
    *,
    key: PublicKey,
    expected_client_id: str,
    now: int,
    algs: Collection[str] = DEFAULT_ALGS,
    skew: int = DEFAULT_SKEW,
) -> dict[str, Any]:
    """Verify a Request Object with the bank's registered key; return its claims.

    Checks, in order: size; ``typ`` and algorithm; signature; ``client_id`` equals
    the URI's (§5.10, prefix included); ``aud``; ``iat``/``exp`` (``exp`` is
    required); ``response_type``; ``response_mode=direct_post`` with a
    ``response_uri`` and no ``redirect_uri``; ``nonce`` and ``state`` charset;
    the DCQL query; no ``scope``; no ``transaction_data``; ``client_metadata``
    and ``purpose`` shapes. Each failure is a :class:`RequestObjectError` (or a
    JOSE/DCQL error) with its own code.
    """
    if not isinstance(jwt, str):
        raise _fail("invalid_request_object", "a Request Object is a compact JWS string")
    if len(jwt) > MAX_REQUEST_OBJECT_BYTES:
        raise LimitExceeded(f"the Request Object is larger than {MAX_REQUEST_OBJECT_BYTES} bytes")
    jws = verify_compact(
        jwt.strip(), key, algs=algs, typ=REQUEST_OBJECT_TYP, max_bytes=MAX_REQUEST_OBJECT_BYTES
    )
    claims = jws.claims()
    if claims.get("client_id") != expected_client_id:
        raise ClientIdMismatch(
            f"the Request Object is for client_id {claims.get('client_id')!r}, "
            f"the URI named {expected_client_id!r}"
        )
    check_client_id(expected_client_id)
    if claims.get("aud") != SELF_ISSUED_AUD:
        raise _fail("invalid_audience", f"aud must be {SELF_ISSUED_AUD!r} (static discovery)")
    exp = _int_time(claims, "exp", True)
    iat = _int_time(claims, "iat", False)
    assert exp is not None
    if now >= exp + skew:
        raise RequestExpired(f"the request expired at {exp}")
    if iat is not None and iat > now + skew:
        raise _fail("invalid_request_object", "the request was issued in the future")
    if claims.get("response_type") != RESPONSE_TYPE:
        raise _fail("unsupported_response_type", f"response_type must be {RESPONSE_TYPE!r}")
    if claims.get("response_mode") != RESPONSE_MODE:
        raise _fail("unsupported_response_mode", f"response_mode must be {RESPONSE_MODE!r}")
    if "redirect_uri" in claims:  # §8.2: MUST NOT be present with response_uri
        raise _fail("invalid_request", "redirect_uri must be absent with direct_post")
    check_response_uri(claims.get("response_uri"))
    check_url_safe(claims.get("nonce"), "nonce")
    if "state" in claims:
        check_url_safe(claims["state"], "state")
    if "scope" in claims:
        raise _fail("invalid_request", "exactly one of dcql_query and scope; we use dcql_query")
    if "dcql_query" not in claims:
        raise _fail("invalid_request", "the request has no dcql_query")
    dcql.parse_query(claims["dcql_query"])
    if "transaction_data" in claims:
        raise _fail("invalid_transaction_data", "transaction_data is not supported")
    if "client_metadata" in claims:
        _check_client_metadata(claims["client_metadata"])
    if "purpose" in claims:
        check_purpose(claims["purpose"])
    return claims
