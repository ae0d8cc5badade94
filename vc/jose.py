"""Compact JWS for ES256 and Ed25519, built on pyca/cryptography.

Safe by construction: every verification names its algorithm allow-list, ``none``
and every HMAC algorithm are refused outright, unknown ``crit`` extensions are
refused, and the verification key always comes from the caller — never from the
token's own header (``jwk``, ``jku``, ``x5u``, ``x5c`` are not trust).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from . import strict_json
from .b64 import b64u_decode, b64u_encode
from .errors import (
    InvalidJSON,
    InvalidKey,
    InvalidSignature,
    JoseError,
    LimitExceeded,
    MalformedError,
    UnknownCritical,
    UnsupportedAlgorithm,
    WrongType,
)

ES256 = "ES256"
EDDSA = "EdDSA"
ED25519 = "Ed25519"  # the fully specified name (RFC 9864) for the same signature
SUPPORTED_ALGS: frozenset[str] = frozenset({ES256, EDDSA, ED25519})
DEFAULT_ALGS: frozenset[str] = SUPPORTED_ALGS
MAX_TOKEN_BYTES = 256 * 1024
_P256_COORD = 32


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = strict_json.loads(raw)
    except InvalidJSON as exc:
        raise InvalidJSON(f"the {what} is not valid JSON ({exc.message})") from exc
    if not isinstance(value, dict):
        raise InvalidJSON(f"the {what} is not a JSON object")
    return value


def _key_alg_ok(alg: str, key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> bool:
    if alg == ES256:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return alg in (EDDSA, ED25519) and isinstance(key, ed25519.Ed25519PublicKey)


class PublicKey:
    """A P-256 or Ed25519 public key, imported from a JWK (RFC 7517/7518/8037)."""

    __slots__ = ("_jwk", "_key")

    def __init__(self, key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> None:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise InvalidKey("only the P-256 curve is supported for EC keys")
            nums = key.public_numbers()
            self._jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64u_encode(nums.x.to_bytes(_P256_COORD, "big")),
                "y": b64u_encode(nums.y.to_bytes(_P256_COORD, "big")),
            }
        elif isinstance(key, ed25519.Ed25519PublicKey):
            from cryptography.hazmat.primitives import serialization

            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self._jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw)}
        else:
            raise InvalidKey("unsupported key type")
        self._key = key

    @classmethod
    def from_jwk(cls, jwk: Any) -> PublicKey:
        """Import a public JWK; private members are refused, not silently dropped."""
        if not isinstance(jwk, Mapping):
            raise InvalidKey("a JWK must be a JSON object")
        if "d" in jwk:
            raise InvalidKey("a public JWK must not carry private key material")
        fields = (jwk.get("kty"), jwk.get("crv"), jwk.get("x"), jwk.get("y"))
        if all(isinstance(f, str | None) for f in fields):
            return _cached_public(*fields)
        return cls(_public_from_jwk(jwk))

    @property
    def alg(self) -> str:
        return ES256 if isinstance(self._key, ec.EllipticCurvePublicKey) else EDDSA

    @property
    def crypto_key(self) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
        return self._key

    def to_jwk(self) -> dict[str, str]:
        return dict(self._jwk)

    def thumbprint(self) -> str:
        return jwk_thumbprint(self._jwk)

    def verify(self, signature: bytes, data: bytes, alg: str) -> None:
        """Verify a raw JWS signature (``r||s`` for ES256) or raise :class:`InvalidSignature`."""
        if not _key_alg_ok(alg, self._key):
            raise UnsupportedAlgorithm(f"algorithm {alg!r} does not match the key type")
        try:
            if isinstance(self._key, ec.EllipticCurvePublicKey):
                if len(signature) != 2 * _P256_COORD:
                    raise InvalidSignature("an ES256 signature is 64 bytes")
                r = int.from_bytes(signature[:_P256_COORD], "big")
                s = int.from_bytes(signature[_P256_COORD:], "big")
                self._key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            else:
                self._key.verify(signature, data)
        except _CryptoInvalidSignature as exc:
            raise InvalidSignature() from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._jwk == self._jwk

    def __hash__(self) -> int:
        return hash(self.thumbprint())

    def __repr__(self) -> str:
        return f"PublicKey({self._jwk['kty']}/{self._jwk['crv']}, {self.thumbprint()[:12]}…)"


@functools.lru_cache(maxsize=1024)
def _cached_public(kty: str | None, crv: str | None, x: str | None, y: str | None) -> PublicKey:
    """Importing a P-256 point costs a curve check (~30 µs); holder and issuer keys recur."""
    jwk = {k: v for k, v in (("kty", kty), ("crv", crv), ("x", x), ("y", y)) if v is not None}
    return PublicKey(_public_from_jwk(jwk))


def _coord(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} is missing")
    raw = b64u_decode(value)
    if len(raw) != size:
        raise InvalidKey(f"JWK member {name!r} must be {size} bytes")
    return raw


_AnyPublic = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def _public_from_jwk(jwk: Mapping[str, Any]) -> _AnyPublic:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "EC" and crv == "P-256":
            x = int.from_bytes(_coord(jwk, "x", _P256_COORD), "big")
            y = int.from_bytes(_coord(jwk, "y", _P256_COORD), "big")
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        if kty == "OKP" and crv == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(_coord(jwk, "x", 32))
    except ValueError as exc:  # point not on the curve
        raise InvalidKey("the JWK is not a valid public key") from exc
    raise InvalidKey(f"unsupported JWK kty/crv {kty!r}/{crv!r}")


class PrivateKey:
    """A signing key: P-256 (ES256, the default) or Ed25519."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self._public = PublicKey(key.public_key())

    @classmethod
    def generate(cls, alg: str = ES256) -> PrivateKey:
        if alg == ES256:
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if alg in (EDDSA, ED25519):
            return cls(ed25519.Ed25519PrivateKey.generate())
        raise UnsupportedAlgorithm(f"cannot generate a key for {alg!r}")

    @classmethod
    def from_jwk(cls, jwk: Any) -> PrivateKey:
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("d"), str):
            raise InvalidKey("a private JWK needs the member 'd'")
        public = _public_from_jwk(jwk)
        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                d = int.from_bytes(_coord(jwk, "d", _P256_COORD), "big")
                key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = (
                    ec.EllipticCurvePrivateNumbers(d, public.public_numbers()).private_key()
                )
            else:
                key = ed25519.Ed25519PrivateKey.from_private_bytes(_coord(jwk, "d", 32))
        except ValueError as exc:
            raise InvalidKey("the private JWK is not consistent") from exc
        result = cls(key)
        if result.public_key().to_jwk() != PublicKey(public).to_jwk():
            raise InvalidKey("the private JWK's d does not match its public part")
        return result

    @property
    def alg(self) -> str:
        return self._public.alg

    def public_key(self) -> PublicKey:
        return self._public

    def to_jwk(self) -> dict[str, str]:
        """The private JWK (includes ``d``): store it encrypted, never log it."""
        jwk = self._public.to_jwk()
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            d = self._key.private_numbers().private_value.to_bytes(_P256_COORD, "big")
        else:
            from cryptography.hazmat.primitives import serialization

            d = self._key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        jwk["d"] = b64u_encode(d)
        return jwk

    def sign(self, data: bytes) -> bytes:
        """A raw JWS signature over ``data`` (``r||s`` for ES256)."""
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(_P256_COORD, "big") + s.to_bytes(_P256_COORD, "big")
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"PrivateKey({self.alg}, {self._public.thumbprint()[:12]}…)"


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members only."""
    kty = jwk.get("kty")
    members: tuple[str, ...]
    if kty == "EC":
        members = ("crv", "kty", "x", "y")
    elif kty == "OKP":
        members = ("crv", "kty", "x")
    else:
        raise InvalidKey(f"no thumbprint rule for kty {kty!r}")
    try:
        subset = {m: jwk[m] for m in members}
    except KeyError as exc:
        raise InvalidKey("the JWK lacks a required member") from exc
    canonical = json.dumps(subset, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64u_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _json_b64(value: Mapping[str, Any]) -> str:
    return b64u_encode(strict_json.dumps(value).encode("utf-8"))


def sign_compact(
    header: Mapping[str, Any], payload: Mapping[str, Any] | bytes, key: PrivateKey
) -> str:
    """Sign as a compact JWS; ``alg`` is set from the key (any caller value must agree)."""
    hdr = dict(header)
    alg = hdr.setdefault("alg", key.alg)
    if alg not in SUPPORTED_ALGS or not _key_alg_ok(alg, key.public_key().crypto_key):
        raise UnsupportedAlgorithm(f"cannot sign {alg!r} with this key")
    body = payload if isinstance(payload, bytes) else strict_json.dumps(payload).encode("utf-8")
    signing_input = f"{_json_b64(hdr)}.{b64u_encode(body)}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64u_encode(key.sign(signing_input))}"


@dataclass(frozen=True)
class DecodedJWS:
    """A parsed, *not yet verified* compact JWS."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes

    def claims(self) -> dict[str, Any]:
        return _json_object(self.payload, "JWS payload")


VerifiedJWS = DecodedJWS  # the same shape, returned only after the signature verified


def decode_compact(token: str, *, max_bytes: int = MAX_TOKEN_BYTES) -> DecodedJWS:
    """Split and decode a compact JWS without verifying it (for routing, never for trust)."""
    if not isinstance(token, str):
        raise MalformedError("a compact JWS must be a string")
    if len(token) > max_bytes:
        raise LimitExceeded(f"the JWS is larger than {max_bytes} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("a compact JWS has exactly three parts")
    h, p, s = parts
    header = _json_object(b64u_decode(h), "JWS header")
    return DecodedJWS(header, b64u_decode(p), b64u_decode(s), f"{h}.{p}".encode("ascii"))


def check_header(
    header: Mapping[str, Any],
    *,
    algs: Collection[str],
    typ: str | None,
    understood_crit: Collection[str] = (),
) -> str:
    """Apply the header allow-lists; returns the algorithm."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algs or alg not in SUPPORTED_ALGS:
        raise UnsupportedAlgorithm(f"algorithm {alg!r} is not allowed")
    if "crit" in header:
        crit = header["crit"]
        if (
            not isinstance(crit, list)
            or not crit
            or not all(isinstance(c, str) and c in header for c in crit)
        ):
            raise UnknownCritical("the crit header is malformed")
        unknown = [c for c in crit if c not in understood_crit]
        if unknown:
            raise UnknownCritical(f"unknown critical header parameter(s): {', '.join(unknown)}")
    if typ is not None and header.get("typ") != typ:
        raise WrongType(f"expected typ {typ!r}, got {header.get('typ')!r}")
    return alg


def verify_compact(
    token: str | DecodedJWS,
    key: PublicKey,
    *,
    algs: Collection[str] = DEFAULT_ALGS,
    typ: str | None = None,
    understood_crit: Collection[str] = (),
    max_bytes: int = MAX_TOKEN_BYTES,
) -> VerifiedJWS:
    """Verify a compact JWS with a key the caller trusts; return its decoded parts."""
    jws = token if isinstance(token, DecodedJWS) else decode_compact(token, max_bytes=max_bytes)
    alg = check_header(jws.header, algs=algs, typ=typ, understood_crit=understood_crit)
    key.verify(jws.signature, jws.signing_input, alg)
    return jws
