"""SD-JWT (RFC 9901): issuer, holder and verifier.

The verifier follows RFC 9901 §7.1 and §7.3 step by step and turns every
MUST-reject into a named error from :mod:`vc.errors`. Digests are computed over
the disclosure text exactly as received (there is no canonicalisation), and the
holder key for key binding is read from the issuer-signed payload only.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import strict_json
from .b64 import b64u_decode, b64u_encode
from .errors import (
    AudienceMismatch,
    ClaimNameCollision,
    DuplicateDigest,
    DuplicateDisclosure,
    HolderKeyMissing,
    InvalidJSON,
    InvalidSignature,
    JoseError,
    KeyBindingInvalid,
    KeyBindingMissing,
    KeyBindingStale,
    LimitExceeded,
    MalformedDisclosure,
    MalformedError,
    NonceMismatch,
    ReservedClaimName,
    SdHashMismatch,
    SDJWTError,
    SelectionError,
    UnexpectedKeyBinding,
    UnreferencedDisclosure,
    UnsupportedHashAlg,
)
from .jose import (
    DEFAULT_ALGS,
    DecodedJWS,
    PrivateKey,
    PublicKey,
    check_header,
    decode_compact,
    sign_compact,
)

KB_JWT_TYP = "kb+jwt"
SD_KEY = "_sd"
ARRAY_KEY = "..."
SD_ALG_KEY = "_sd_alg"
DEFAULT_SD_ALG = "sha-256"

# IANA "Named Information Hash Algorithm" names; truncated variants are unfit (RFC 9901 §4.1.1).
_HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}


@dataclass(frozen=True)
class SD:
    """Marks a claim as selectively disclosable in the input to :func:`issue`.

    As a dict key, ``{SD("name"): value}`` makes the property ``name`` disclosable;
    as a list element, ``[SD(value)]`` makes that element disclosable. Markers may
    nest (recursive disclosures).
    """

    value: Any


@dataclass(frozen=True)
class Limits:
    """Bounds applied before and during parsing, so no input can make us work unboundedly."""

    max_bytes: int = 512 * 1024
    max_disclosures: int = 2048
    max_depth: int = 48
    max_disclosure_bytes: int = 64 * 1024


DEFAULT_LIMITS = Limits()


def _hash_fn(alg: str, allowed: Collection[str] | None = None) -> Callable[[bytes], Any]:
    if alg not in _HASHES or (allowed is not None and alg not in allowed):
        raise UnsupportedHashAlg(f"_sd_alg {alg!r} is not supported")
    return _HASHES[alg]


def digest_of(disclosure: str, alg: str = DEFAULT_SD_ALG) -> str:
    """``base64url(HASH(ASCII(disclosure)))`` — over the encoded text, not the decoded JSON."""
    return b64u_encode(_hash_fn(alg)(disclosure.encode("ascii")).digest())


# --------------------------------------------------------------------------- disclosures


@dataclass(frozen=True)
class Disclosure:
    """A decoded disclosure: ``[salt, name, value]`` (object property) or ``[salt, value]``."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @classmethod
    def create(cls, name: str | None, value: Any) -> Disclosure:
        salt = b64u_encode(secrets.token_bytes(16))
        items: list[Any] = [salt, value] if name is None else [salt, name, value]
        encoded = b64u_encode(strict_json.dumps(items).encode("utf-8"))
        return cls(encoded, salt, name, value)

    @classmethod
    def decode(cls, encoded: str, limits: Limits = DEFAULT_LIMITS) -> Disclosure:
        if len(encoded) > limits.max_disclosure_bytes:
            raise LimitExceeded("a disclosure is larger than allowed")
        try:
            raw = b64u_decode(encoded)
        except MalformedError as exc:
            raise MalformedDisclosure("a disclosure is not valid base64url") from exc
        try:
            items = strict_json.loads(raw.decode("utf-8"))  # depth: bounded by _Walk
        except (InvalidJSON, UnicodeDecodeError) as exc:
            raise MalformedDisclosure("a disclosure is not UTF-8 JSON") from exc
        if not isinstance(items, list) or len(items) not in (2, 3):
            raise MalformedDisclosure("a disclosure must be a JSON array of 2 or 3 elements")
        if not isinstance(items[0], str):
            raise MalformedDisclosure("a disclosure's salt must be a string")
        if len(items) == 3:
            if not isinstance(items[1], str):
                raise MalformedDisclosure("a disclosure's claim name must be a string")
            return cls(encoded, items[0], items[1], items[2])
        return cls(encoded, items[0], None, items[1])


# --------------------------------------------------------------------------- issuer


@dataclass(frozen=True)
class Decoys:
    """How many decoy digests to add to each ``_sd`` array (uniform in [low, high])."""

    low: int = 0
    high: int = 0

    def count(self) -> int:
        return self.low + secrets.randbelow(self.high - self.low + 1) if self.high else 0


NO_DECOYS = Decoys()


class _Issuer:
    def __init__(self, hash_alg: str, decoys: Decoys) -> None:
        self.hash = _hash_fn(hash_alg)
        self.decoys = decoys
        self.disclosures: list[Disclosure] = []

    def digest(self, disclosure: Disclosure) -> str:
        self.disclosures.append(disclosure)
        return b64u_encode(self.hash(disclosure.encoded.encode("ascii")).digest())

    def decoy(self) -> str:
        return b64u_encode(self.hash(secrets.token_bytes(32)).digest())

    def build(self, value: Any) -> Any:
        if isinstance(value, SD):
            raise SelectionError("an SD marker must wrap a dict key or a list element")
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            digests: list[str] = []
            for key, item in value.items():
                if isinstance(key, SD):
                    name = key.value
                    if not isinstance(name, str) or name in (SD_KEY, ARRAY_KEY):
                        raise SelectionError(f"cannot make {name!r} a disclosable claim name")
                    digests.append(self.digest(Disclosure.create(name, self.build(item))))
                elif isinstance(key, str):
                    if key in (SD_KEY, ARRAY_KEY):
                        raise SelectionError(f"the claim name {key!r} is reserved")
                    out[key] = self.build(item)
                else:
                    raise SelectionError("claim names must be strings")
            names = [k.value for k in value if isinstance(k, SD)]
            if len(set(names)) != len(names) or set(names) & set(out):
                raise SelectionError("a disclosable claim name repeats a name at the same level")
            if digests:
                digests.extend(self.decoy() for _ in range(self.decoys.count()))
                out[SD_KEY] = sorted(digests)  # hides the original claim order
            return out
        if isinstance(value, list | tuple):
            elems: list[Any] = []
            for item in value:
                if isinstance(item, SD):
                    disclosure = Disclosure.create(None, self.build(item.value))
                    elems.append({ARRAY_KEY: self.digest(disclosure)})
                else:
                    elems.append(self.build(item))
            return elems
        return value


@dataclass(frozen=True)
class IssuedSDJWT:
    """What an issuer hands to a holder: the signed JWT and every disclosure."""

    jwt: str
    disclosures: tuple[str, ...]

    @property
    def serialization(self) -> str:
        return "~".join((self.jwt, *self.disclosures)) + "~"

    def __str__(self) -> str:
        return self.serialization


def issue(
    claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    holder_key: PublicKey | None = None,
    hash_alg: str = DEFAULT_SD_ALG,
    decoys: Decoys = NO_DECOYS,
) -> IssuedSDJWT:
    """Issue an SD-JWT: claims marked with :class:`SD` become disclosures.

    ``holder_key`` adds ``cnf.jwk`` (RFC 7800) so presentations can be key-bound.
    """
    builder = _Issuer(hash_alg, decoys)
    payload = builder.build(claims)
    if builder.disclosures:
        payload[SD_ALG_KEY] = hash_alg
    if holder_key is not None:
        if "cnf" in payload:
            raise SelectionError("claims already carry cnf; pass holder_key or cnf, not both")
        payload["cnf"] = {"jwk": holder_key.to_jwk()}
    jwt = sign_compact(dict(header or {}), payload, key)
    return IssuedSDJWT(jwt, tuple(d.encoded for d in builder.disclosures))


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class ParsedSDJWT:
    """An SD-JWT split into its parts; nothing is verified yet."""

    jwt: DecodedJWS
    jwt_text: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    extra_signatures: tuple[DecodedJWS, ...] = ()

    @property
    def sd_hash_input(self) -> str:
        """The exact string the KB-JWT's ``sd_hash`` covers (RFC 9901 §4.3.1)."""
        return "~".join((self.jwt_text, *self.disclosures)) + "~"


def parse(
    text: str, *, limits: Limits = DEFAULT_LIMITS
) -> ParsedSDJWT:
    """Split an SD-JWT or SD-JWT+KB in compact form (or JWS JSON form, RFC 9901 §8)."""
    if not isinstance(text, str):
        raise MalformedError("an SD-JWT must be text")
    if len(text) > limits.max_bytes:
        raise LimitExceeded(f"the presentation is larger than {limits.max_bytes} bytes")
    stripped = text.strip()
    if stripped.startswith("{"):
        return _parse_json_serialization(stripped, limits)
    parts = stripped.split("~")
    if len(parts) < 2:
        raise MalformedError("an SD-JWT must contain at least one '~'")
    if len(parts) - 2 > limits.max_disclosures:
        raise LimitExceeded("too many disclosures")
    jwt_text, disclosures, last = parts[0], parts[1:-1], parts[-1]
    if any(d == "" for d in disclosures):
        raise MalformedError("empty disclosure between '~' separators")
    return ParsedSDJWT(
        decode_compact(jwt_text, max_bytes=limits.max_bytes),
        jwt_text,
        tuple(disclosures),
        last or None,
    )


def _parse_json_serialization(text: str, limits: Limits) -> ParsedSDJWT:
    doc = strict_json.loads(text, max_depth=limits.max_depth)
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), str):
        raise MalformedError("the SD-JWT JSON serialization lacks a payload")
    if "signatures" in doc:
        sigs = doc["signatures"]
        if not isinstance(sigs, list) or not sigs or not all(isinstance(s, dict) for s in sigs):
            raise MalformedError("signatures must be a non-empty array of objects")
        for extra in sigs[1:]:
            if isinstance(extra.get("header"), dict) and (
                "disclosures" in extra["header"] or "kb_jwt" in extra["header"]
            ):
                raise MalformedError("disclosures belong in the first signature's header only")
    else:
        sigs = [doc]
    decoded: list[tuple[DecodedJWS, str]] = []
    for sig in sigs:
        protected, signature = sig.get("protected"), sig.get("signature")
        if not isinstance(protected, str) or not isinstance(signature, str):
            raise MalformedError("a JWS signature needs protected and signature members")
        compact = f"{protected}.{doc['payload']}.{signature}"
        decoded.append((decode_compact(compact, max_bytes=limits.max_bytes), compact))
    unprotected = sigs[0].get("header", {})
    if not isinstance(unprotected, dict):
        raise MalformedError("the unprotected header must be an object")
    disclosures = unprotected.get("disclosures", [])
    kb = unprotected.get("kb_jwt")
    if not isinstance(disclosures, list) or not all(isinstance(d, str) and d for d in disclosures):
        raise MalformedError("disclosures must be an array of strings")
    if len(disclosures) > limits.max_disclosures:
        raise LimitExceeded("too many disclosures")
    if kb is not None and not isinstance(kb, str):
        raise MalformedError("kb_jwt must be a string")
    return ParsedSDJWT(
        decoded[0][0], decoded[0][1], tuple(disclosures), kb or None,
        tuple(d for d, _ in decoded[1:]),
    )


def to_json_serialization(
    sd_jwt: str, *, general: bool = False
) -> dict[str, Any]:
    """Re-express a compact SD-JWT (or SD-JWT+KB) in the JWS JSON serialization (§8)."""
    parsed = parse(sd_jwt)
    protected, payload, signature = parsed.jwt_text.split(".")
    header: dict[str, Any] = {"disclosures": list(parsed.disclosures)}
    if parsed.kb_jwt:
        header["kb_jwt"] = parsed.kb_jwt
    sig = {"protected": protected, "header": header, "signature": signature}
    if general:
        return {"payload": payload, "signatures": [sig]}
    return {"payload": payload, **sig}


# --------------------------------------------------------------------------- processing


@dataclass
class _Walk:
    """State of one RFC 9901 §7.1 step 3–5 pass over a payload."""

    by_digest: dict[str, Disclosure]
    limits: Limits
    seen: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    # holder bookkeeping: claim path -> digests that must be released to reach it
    paths: list[tuple[tuple[str | int, ...], tuple[str, ...]]] | None = None

    def see(self, digest: Any) -> None:
        if not isinstance(digest, str):
            raise MalformedError("a digest must be a string")
        if digest in self.seen:
            raise DuplicateDigest(f"the digest {digest[:16]}… appears more than once")
        self.seen.add(digest)

    def value(
        self, node: Any, depth: int, path: tuple[str | int, ...], chain: tuple[str, ...]
    ) -> Any:
        if depth > self.limits.max_depth:
            raise LimitExceeded("the payload is nested too deeply")
        if self.paths is not None:
            self.paths.append((path, chain))
        if isinstance(node, dict):
            return self.obj(node, depth, path, chain)
        if isinstance(node, list):
            return self.array(node, depth, path, chain)
        return node

    def obj(
        self, node: dict[str, Any], depth: int, path: tuple[str | int, ...], chain: tuple[str, ...]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in node.items():
            if key == SD_KEY:
                continue
            if key == ARRAY_KEY:
                raise ReservedClaimName("'...' is only valid as an array-element digest")
            if key == SD_ALG_KEY and depth > 0:
                raise ReservedClaimName("_sd_alg is only allowed at the top level")
            out[key] = self.value(item, depth + 1, (*path, key) if self.paths is not None else path,
                                  chain)
        if SD_KEY in node:
            digests = node[SD_KEY]
            if not isinstance(digests, list):
                raise MalformedError("_sd must be an array of digests")
            for digest in digests:
                self.see(digest)
                disclosure = self.by_digest.get(digest)
                if disclosure is None:
                    continue  # undisclosed claim or decoy
                if disclosure.name is None:
                    raise MalformedDisclosure("an array-element disclosure is referenced from _sd")
                if disclosure.name in (SD_KEY, ARRAY_KEY):
                    raise ReservedClaimName(f"a disclosure uses the claim name {disclosure.name!r}")
                if disclosure.name in out:
                    raise ClaimNameCollision(f"the claim {disclosure.name!r} is disclosed twice")
                self.used.add(digest)
                record = self.paths is not None
                out[disclosure.name] = self.value(
                    disclosure.value, depth + 1, (*path, disclosure.name) if record else path,
                    (*chain, digest) if record else chain,
                )
        return out

    def array(
        self, node: list[Any], depth: int, path: tuple[str | int, ...], chain: tuple[str, ...]
    ) -> list[Any]:
        out: list[Any] = []
        for position, item in enumerate(node):
            if isinstance(item, dict) and ARRAY_KEY in item:
                if len(item) != 1:
                    raise MalformedError("an array-element digest object has exactly one key")
                digest = item[ARRAY_KEY]
                self.see(digest)
                disclosure = self.by_digest.get(digest)
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise MalformedDisclosure("an object-property disclosure is used in an array")
                self.used.add(digest)
                record = self.paths is not None
                out.append(self.value(
                    disclosure.value, depth + 1, (*path, position) if record else path,
                    (*chain, digest) if record else chain,
                ))
            elif self.paths is not None:
                out.append(self.value(item, depth + 1, (*path, position), chain))
            else:
                out.append(self.value(item, depth + 1, path, chain))
        return out


def _index_disclosures(
    disclosures: Iterable[str], hash_fn: Callable[[bytes], Any], limits: Limits
) -> dict[str, Disclosure]:
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        decoded = Disclosure.decode(encoded, limits)
        digest = b64u_encode(hash_fn(encoded.encode("ascii")).digest())
        if digest in by_digest:
            raise DuplicateDisclosure()
        by_digest[digest] = decoded
    return by_digest


def process_disclosures(
    payload: Mapping[str, Any],
    disclosures: Sequence[str],
    *,
    sd_algs: Collection[str] = (DEFAULT_SD_ALG,),
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """RFC 9901 §7.1 steps 3–5: the processed payload, or a named rejection."""
    sd_alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
    if not isinstance(sd_alg, str):
        raise UnsupportedHashAlg("_sd_alg must be a string")
    walk = _Walk(_index_disclosures(disclosures, _hash_fn(sd_alg, sd_algs), limits), limits)
    result = walk.obj(dict(payload), 0, (), ())
    result.pop(SD_ALG_KEY, None)
    unreferenced = set(walk.by_digest) - walk.used
    if unreferenced:
        raise UnreferencedDisclosure(f"{len(unreferenced)} disclosure(s) are not referenced")
    return result


# --------------------------------------------------------------------------- holder


ClaimPath = Sequence[str | int | None]


def _matches(pattern: ClaimPath, path: tuple[str | int, ...], descendants: bool) -> bool:
    """True when ``path`` is ``pattern`` (or lies below it); ``None`` matches any index."""
    if len(path) < len(pattern) or (not descendants and len(path) != len(pattern)):
        return False
    for want, got in zip(pattern, path, strict=False):
        if want is None:
            if not isinstance(got, int):
                return False
        elif want != got:
            return False
    return True


@dataclass(frozen=True)
class HolderCredential:
    """An SD-JWT as a holder keeps it, with the map from claim paths to disclosures."""

    jwt_text: str
    disclosures: tuple[str, ...]
    claims: dict[str, Any]
    path_index: tuple[tuple[tuple[str | int, ...], tuple[str, ...]], ...]
    digest_to_disclosure: dict[str, str]

    @classmethod
    def from_issuance(
        cls, issuance: str, *, limits: Limits = DEFAULT_LIMITS
    ) -> HolderCredential:
        """Parse what an issuer sent; an SD-JWT+KB from an issuer is refused (RFC 9901 §7.2)."""
        parsed = parse(issuance, limits=limits)
        if parsed.kb_jwt is not None:
            raise UnexpectedKeyBinding("an issuer must not send a Key Binding JWT")
        payload = parsed.jwt.claims()
        sd_alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
        hash_fn = _hash_fn(sd_alg if isinstance(sd_alg, str) else "", None)
        walk = _Walk(_index_disclosures(parsed.disclosures, hash_fn, limits), limits, paths=[])
        claims = walk.value(payload, 0, (), ())
        claims.pop(SD_ALG_KEY, None)
        if set(walk.by_digest) - walk.used:
            raise UnreferencedDisclosure("the issuer sent a disclosure that nothing references")
        assert walk.paths is not None
        return cls(
            parsed.jwt_text,
            parsed.disclosures,
            claims,
            tuple(walk.paths),
            {d: walk.by_digest[d].encoded for d in walk.by_digest},
        )

    def disclosable_paths(self) -> list[tuple[str | int, ...]]:
        """Every claim path that is itself selectively disclosable (has its own disclosure)."""
        chains = dict(self.path_index)
        return [p for p, chain in self.path_index if p and len(chain) > len(chains[p[:-1]])]

    def select(self, paths: Iterable[ClaimPath], *, descendants: bool = True) -> tuple[str, ...]:
        """The disclosures (in issuance order) that reveal each path.

        With ``descendants`` (the default) everything below a selected path is
        revealed too — asking for ``score`` means the whole score object.
        """
        needed: set[str] = set()
        for pattern in paths:
            hits = [c for p, c in self.path_index if _matches(pattern, p, descendants)]
            if not hits:
                raise SelectionError(f"no claim at path {list(pattern)!r}")
            for chain in hits:
                needed.update(chain)
        by_text = {text: digest for digest, text in self.digest_to_disclosure.items()}
        return tuple(d for d in self.disclosures if by_text[d] in needed)

    def present(
        self,
        paths: Iterable[ClaimPath],
        *,
        holder_key: PrivateKey | None = None,
        aud: str | None = None,
        nonce: str | None = None,
        iat: int | None = None,
        extra_kb_claims: Mapping[str, Any] | None = None,
        descendants: bool = True,
    ) -> str:
        """An SD-JWT (or SD-JWT+KB when ``holder_key`` is given) revealing ``paths``."""
        chosen = self.select(paths, descendants=descendants)
        base = "~".join((self.jwt_text, *chosen)) + "~"
        if holder_key is None:
            return base
        if aud is None or nonce is None or iat is None:
            raise SelectionError("key binding needs aud, nonce and iat")
        return base + make_kb_jwt(base, holder_key, aud=aud, nonce=nonce, iat=iat,
                                  sd_alg=self._sd_alg(), extra=extra_kb_claims)

    def _sd_alg(self) -> str:
        alg = decode_compact(self.jwt_text).claims().get(SD_ALG_KEY, DEFAULT_SD_ALG)
        return alg if isinstance(alg, str) else DEFAULT_SD_ALG


def make_kb_jwt(
    sd_jwt: str,
    holder_key: PrivateKey,
    *,
    aud: str,
    nonce: str,
    iat: int,
    sd_alg: str = DEFAULT_SD_ALG,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A Key Binding JWT (RFC 9901 §4.3) over ``sd_jwt`` (which must end with ``~``)."""
    if not sd_jwt.endswith("~"):
        raise SelectionError("the SD-JWT to bind must end with '~'")
    sd_hash = b64u_encode(_hash_fn(sd_alg)(sd_jwt.encode("ascii")).digest())
    claims = {**(extra or {}), "iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash}
    return sign_compact({"typ": KB_JWT_TYP}, claims, holder_key)


# --------------------------------------------------------------------------- verifier


KeyResolver = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]
"""Given the issuer JWT's header and payload, return the key the verifier trusts for it."""


@dataclass(frozen=True)
class KeyBindingPolicy:
    """What a verifier demands of the KB-JWT. Whether KB is required is policy, not presence."""

    aud: str
    nonce: str
    now: int
    max_age: int = 300
    max_future_skew: int = 60
    algs: Collection[str] = DEFAULT_ALGS


@dataclass(frozen=True)
class VerifiedSDJWT:
    header: dict[str, Any]
    issuer_payload: dict[str, Any]
    claims: dict[str, Any]
    disclosures: tuple[str, ...]
    kb_claims: dict[str, Any] | None
    holder_key: PublicKey | None


def verify(
    presentation: str | ParsedSDJWT,
    issuer_key: PublicKey | KeyResolver,
    *,
    key_binding: KeyBindingPolicy | None,
    algs: Collection[str] = DEFAULT_ALGS,
    typ: str | None = None,
    sd_algs: Collection[str] = (DEFAULT_SD_ALG,),
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedSDJWT:
    """Verify an SD-JWT per RFC 9901 §7.1 and §7.3, failing at the first broken rule.

    ``key_binding=None`` means the verifier's policy is *no* key binding: then a
    presented KB-JWT is refused rather than silently ignored.
    """
    parsed = presentation if isinstance(presentation, ParsedSDJWT) else parse(
        presentation, limits=limits
    )
    jws = parsed.jwt
    alg = check_header(jws.header, algs=algs, typ=typ)
    payload = jws.claims()
    if callable(issuer_key) and not isinstance(issuer_key, PublicKey):
        _verify_issuer_signatures(parsed, payload, issuer_key, algs, typ)
    else:
        issuer_key.verify(jws.signature, jws.signing_input, alg)
    claims = process_disclosures(payload, parsed.disclosures, sd_algs=sd_algs, limits=limits)
    if key_binding is None:
        if parsed.kb_jwt is not None:
            raise UnexpectedKeyBinding("this verifier does not accept key-bound presentations")
        return VerifiedSDJWT(jws.header, payload, claims, parsed.disclosures, None, None)
    if parsed.kb_jwt is None:
        raise KeyBindingMissing()
    holder_key = holder_key_of(payload)
    sd_alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
    kb_claims = verify_kb_jwt(
        parsed.kb_jwt, holder_key, key_binding, parsed.sd_hash_input, str(sd_alg)
    )
    return VerifiedSDJWT(jws.header, payload, claims, parsed.disclosures, kb_claims, holder_key)


def _verify_issuer_signatures(
    parsed: ParsedSDJWT,
    payload: Mapping[str, Any],
    resolve: KeyResolver,
    algs: Collection[str],
    typ: str | None,
) -> None:
    """All signatures must check out; extra ones (JSON general form) only if resolvable."""
    first = True
    for jws in (parsed.jwt, *parsed.extra_signatures):
        try:
            key = resolve(jws.header, payload)
        except SDJWTError:
            raise
        except JoseError:
            if first:
                raise
            continue
        alg = check_header(jws.header, algs=algs, typ=typ)
        key.verify(jws.signature, jws.signing_input, alg)
        first = False


def holder_key_of(payload: Mapping[str, Any]) -> PublicKey:
    """The holder key from the issuer-signed ``cnf.jwk`` (never from a disclosure)."""
    cnf = payload.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise HolderKeyMissing()
    try:
        return PublicKey.from_jwk(cnf["jwk"])
    except JoseError as exc:
        raise HolderKeyMissing("cnf.jwk is not a usable public key") from exc


def verify_kb_jwt(
    kb_jwt: str,
    holder_key: PublicKey,
    policy: KeyBindingPolicy,
    sd_hash_input: str,
    sd_alg: str = DEFAULT_SD_ALG,
) -> dict[str, Any]:
    """RFC 9901 §7.3 step 5: signature, typ, iat window, nonce, aud, sd_hash."""
    try:
        jws = decode_compact(kb_jwt)
        alg = check_header(jws.header, algs=policy.algs, typ=KB_JWT_TYP)
        holder_key.verify(jws.signature, jws.signing_input, alg)
        claims = jws.claims()
    except InvalidSignature as exc:
        raise KeyBindingInvalid("the Key Binding JWT signature does not verify") from exc
    except JoseError as exc:
        raise KeyBindingInvalid(f"the Key Binding JWT is not valid ({exc.code})") from exc
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise KeyBindingInvalid("the Key Binding JWT lacks a numeric iat")
    if iat > policy.now + policy.max_future_skew or iat < policy.now - policy.max_age:
        raise KeyBindingStale()
    if not isinstance(claims.get("aud"), str) or claims["aud"] != policy.aud:
        raise AudienceMismatch()
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
        claims["nonce"].encode(), policy.nonce.encode()
    ):
        raise NonceMismatch()
    expected = b64u_encode(_hash_fn(sd_alg)(sd_hash_input.encode("ascii")).digest())
    sd_hash = claims.get("sd_hash")
    if not isinstance(sd_hash, str) or not secrets.compare_digest(sd_hash, expected):
        raise SdHashMismatch()
    return claims
