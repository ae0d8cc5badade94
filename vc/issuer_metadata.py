"""JWT VC Issuer Metadata (SD-JWT VC §5): which keys a verifier trusts for which ``iss``.

A verifier is configured with these documents ahead of time (for us: from
``issuer-sim jwks``); it never fetches a ``jwks_uri`` at verification time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidKey, IssuerMismatch, MalformedError
from .jose import PublicKey

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
MAX_KEYS = 16


def metadata_url(iss: str) -> str:
    """Where the metadata of ``iss`` lives: the well-known path goes between host and path."""
    parts = urlsplit(iss)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise MalformedError("an issuer identifier is an http(s) URL without query or fragment")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class IssuerMetadata:
    issuer: str
    keys: tuple[tuple[str, PublicKey], ...]  # (kid, key); kid defaults to the JWK thumbprint

    @classmethod
    def from_json(cls, doc: Any) -> IssuerMetadata:
        if not isinstance(doc, Mapping) or not isinstance(doc.get("issuer"), str):
            raise MalformedError("issuer metadata needs an 'issuer' string")
        if ("jwks" in doc) == ("jwks_uri" in doc):
            raise MalformedError("issuer metadata must carry exactly one of jwks and jwks_uri")
        if "jwks_uri" in doc:
            raise MalformedError("jwks_uri is not accepted: configure the keys inline (jwks)")
        jwks = doc["jwks"]
        raw = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(raw, list) or not raw or len(raw) > MAX_KEYS:
            raise MalformedError(f"jwks.keys must be a list of 1 to {MAX_KEYS} keys")
        keys: list[tuple[str, PublicKey]] = []
        for jwk in raw:
            if not isinstance(jwk, Mapping):
                raise InvalidKey("a JWK must be an object")
            public = {k: v for k, v in jwk.items() if k not in ("kid", "use", "alg", "key_ops")}
            key = PublicKey.from_jwk(public)
            kid = jwk.get("kid", key.thumbprint())
            if not isinstance(kid, str):
                raise InvalidKey("kid must be a string")
            keys.append((kid, key))
        return cls(doc["issuer"], tuple(keys))

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks": {"keys": [{**key.to_jwk(), "kid": kid} for kid, key in self.keys]},
        }

    def key_for(self, kid: Any) -> PublicKey:
        if kid is None:
            if len(self.keys) == 1:
                return self.keys[0][1]
            raise IssuerMismatch("the JWT names no kid and the issuer has several keys")
        for known, key in self.keys:
            if known == kid:
                return key
        raise IssuerMismatch(f"the issuer has no key with kid {kid!r}")


class TrustedIssuers:
    """The set of CRAs a verifier (or wallet) trusts; usable as an SD-JWT key resolver."""

    def __init__(self, issuers: Iterable[IssuerMetadata] = ()) -> None:
        self._by_iss: dict[str, IssuerMetadata] = {}
        for meta in issuers:
            self.add(meta)

    def add(self, meta: IssuerMetadata) -> None:
        self._by_iss[meta.issuer] = meta

    def __contains__(self, iss: object) -> bool:
        return iss in self._by_iss

    def __iter__(self) -> Any:
        return iter(self._by_iss.values())

    def get(self, iss: str) -> IssuerMetadata | None:
        return self._by_iss.get(iss)

    def __call__(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        iss = payload.get("iss")
        meta = self._by_iss.get(iss) if isinstance(iss, str) else None
        if meta is None:
            raise IssuerMismatch(f"the issuer {iss!r} is not trusted")
        return meta.key_for(header.get("kid"))
