"""Revocation status from the CRA's Token Status List, stapled or fetched with a cache.

A status list is fetched only from the URI the credential names, and only when that
URI is on the same origin as the credential's trusted issuer: a credential cannot
steer the verifier to an arbitrary host. Fetched tokens are cached until their ``ttl``.
A stapled token, once verified, is remembered by its exact text (a signed token never
changes); every later use still re-checks its ``iat``/``exp`` window at that moment.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from vc.jose import PublicKey
from vc.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusListToken,
    check_token_window,
    parse_status_reference,
    read_status_list_token,
    status_name,
)

from .errors import VerifierError

MAX_STATUS_BYTES = 6 * 1024 * 1024
DEFAULT_CACHE_TTL = 300
VERIFIED_TOKENS = 64  # stapled tokens remembered by exact text (one per CRA list and ttl)


class StatusCheckFailed(VerifierError):
    code = "status_unavailable"
    default_message = "no status statement can be made for this credential"


class RevokedCredential(VerifierError):
    code = "revoked"
    default_message = "the issuer has revoked this credential"


@dataclass(frozen=True)
class StatusOutcome:
    value: int
    source: str  # "stapled", "fetched" or "cached"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class StatusChecker:
    def __init__(self, *, timeout: float = 5.0, http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(timeout=timeout, follow_redirects=False)
        self._cache: dict[str, tuple[float, StatusListToken]] = {}
        self._verified: dict[tuple[str, str, str, str], StatusListToken] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def check(self, status_claim: object, *, issuer: str, key: PublicKey, now: int,
              stapled: str | None) -> StatusOutcome:
        ref = parse_status_reference(status_claim)
        if stapled is not None:
            token = self._stapled(stapled, key=key, expected_sub=ref.uri, now=now,
                                  issuer=issuer)
            source = "stapled"
        else:
            token, source = self._fetch(ref.uri, issuer=issuer, key=key, now=now)
        value = token.status_list.get(ref.idx)
        if value == INVALID:
            raise RevokedCredential()
        if value == SUSPENDED:
            raise RevokedCredential("the issuer has suspended this credential", code="suspended")
        if value != VALID:
            raise StatusCheckFailed(f"unknown status value {status_name(value)}")
        return StatusOutcome(value, source)

    def _stapled(self, text: str, *, key: PublicKey, expected_sub: str, now: int,
                 issuer: str) -> StatusListToken:
        """:func:`read_status_list_token`, with the signature and decoding done once per
        (exact text, key, list, issuer); the time window is checked on every use."""
        cache_key = (text, key.thumbprint(), expected_sub, issuer)
        with self._lock:
            token = self._verified.get(cache_key)
        if token is not None:
            check_token_window(token, now=now)
            return token
        token = read_status_list_token(text, key=key, expected_sub=expected_sub, now=now,
                                       expected_iss=issuer)
        with self._lock:
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.pop(next(iter(self._verified)))  # oldest first
            self._verified[cache_key] = token
        return token

    def _fetch(self, uri: str, *, issuer: str, key: PublicKey,
               now: int) -> tuple[StatusListToken, str]:
        if _origin(uri) != _origin(issuer):
            raise StatusCheckFailed("the status list is not on the issuer's own origin",
                                    code="untrusted_status_uri")
        with self._lock:
            cached = self._cache.get(uri)
        if cached is not None:
            fetched_at, token = cached
            ttl = token.ttl or DEFAULT_CACHE_TTL
            if now < fetched_at + ttl and (token.exp is None or now < token.exp):
                return token, "cached"
        try:
            with self._http.stream("GET", uri, headers={"Accept": "application/statuslist+jwt"}
                                   ) as response:
                if response.status_code // 100 != 2:
                    raise StatusCheckFailed(f"the status list answered {response.status_code}")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_STATUS_BYTES:
                        raise StatusCheckFailed("the status list is too large")
        except httpx.HTTPError as exc:
            raise StatusCheckFailed(f"the status list could not be fetched ({exc})") from exc
        token = read_status_list_token(body.decode("ascii", "replace").strip(), key=key,
                                       expected_sub=uri, now=now, expected_iss=issuer)
        with self._lock:
            self._cache[uri] = (time.time() if now is None else now, token)
        return token, "fetched"
