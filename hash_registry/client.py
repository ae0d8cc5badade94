"""Talking to a registry: over HTTP (:class:`RegistryClient`, :class:`AsyncRegistryClient`)
or to a registry home on this machine (:class:`LocalRegistry`), with the same methods.

Clients never trust what they fetch: they return proofs and notes for the caller
to verify against its :class:`~hash_registry.trust.TrustedLog`. Every response is
size-bounded, every failure is a named error (:class:`RegistryUnavailable` when
the registry cannot be reached or answers 5xx).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from vc.errors import SelfcarryError
from vc.jose import PrivateKey, sign_compact

from . import errors as E
from .entries import Entry, parse_digest_hex
from .errors import RegistryError
from .log import (
    APPEND_TYP,
    AlreadyAnchored,
    AlreadyRevoked,
    Appended,
    AuthenticationFailed,
    ConsistencyProof,
    DigestStatus,
    Forbidden,
    InclusionProof,
    Log,
    LogEntry,
)
from .merkle import SHA256, HashAlg, get_hash_alg, leaf_hash
from .note import MAX_NOTE_SIZE
from .receipt import Receipt
from .store import NonceReused
from .witness import format_add_checkpoint_request

DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class RegistryUnavailable(RegistryError):
    """The registry (or witness) could not be reached, timed out, or failed on its side."""

    code = "registry_unavailable"
    default_message = "the registry is unavailable"


class ProtocolError(RegistryError):
    """The registry answered with something that is not what the API promises."""

    code = "registry_protocol_error"
    default_message = "the registry's response is malformed"


def _error_classes() -> dict[str, type[RegistryError]]:
    out: dict[str, type[RegistryError]] = {}
    extra = [AlreadyAnchored, AlreadyRevoked, AuthenticationFailed, Forbidden, NonceReused]
    for obj in [*vars(E).values(), *extra]:
        if isinstance(obj, type) and issubclass(obj, RegistryError):
            out.setdefault(obj.code, obj)
    out["registry_unavailable"] = RegistryUnavailable
    return out


_ERRORS = _error_classes()
_BY_STATUS: dict[int, type[RegistryError]] = {
    401: AuthenticationFailed,
    403: Forbidden,
    404: E.NotFound,
    413: E.RegistryError,
}


def error_from_response(status: int, body: bytes) -> RegistryError:
    """The named error an error response carries (``{error, message}``)."""
    code, message = f"http_{status}", f"the registry answered HTTP {status}"
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            code = doc["error"][:64]
            message = str(doc.get("message") or message)[:500]
    except ValueError:
        pass
    if status >= 500:
        return RegistryUnavailable(message, code=code if code in _ERRORS else None)
    cls = _ERRORS.get(code) or _BY_STATUS.get(status, RegistryError)
    try:
        err = cls(message)
    except TypeError:  # an error class with a different constructor
        err = RegistryError(message)
    err.code = code
    return err


# --- response parsing (shared by the sync and async clients) ----------------------------


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"{what} is not base64") from exc


def _int(doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    if type(value) is not int or value < 0:
        raise ProtocolError(f"{key} is not a non-negative integer")
    return value


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ProtocolError("the response is not JSON") from exc


def _obj(body: bytes) -> dict[str, Any]:
    doc = _json(body)
    if not isinstance(doc, dict):
        raise ProtocolError("the response is not a JSON object")
    return doc


def parse_inclusion(body: bytes) -> InclusionProof:
    d = _obj(body)
    proof = d.get("proof")
    if not isinstance(proof, list) or len(proof) > 64:
        raise ProtocolError("proof is not a list of hashes")
    return InclusionProof(
        _int(d, "index"),
        _int(d, "tree_size"),
        _b64(d.get("leaf_hash"), "leaf_hash"),
        _b64(d.get("root"), "root"),
        [_b64(h, "a proof hash") for h in proof],
    )


def parse_consistency(body: bytes) -> ConsistencyProof:
    d = _obj(body)
    proof = d.get("proof")
    if not isinstance(proof, list) or len(proof) > 128:
        raise ProtocolError("proof is not a list of hashes")
    return ConsistencyProof(
        _int(d, "old_size"),
        _int(d, "new_size"),
        _b64(d.get("old_root"), "old_root"),
        _b64(d.get("new_root"), "new_root"),
        [_b64(h, "a proof hash") for h in proof],
    )


def parse_entry(body: bytes, index: int, alg: HashAlg) -> LogEntry:
    d = _obj(body)
    data = _b64(d.get("entry"), "entry")
    if d.get("index") != index:
        raise ProtocolError("the registry returned another entry")
    return LogEntry(index, data, leaf_hash(data, alg))


def parse_status(body: bytes, digest: bytes) -> DigestStatus:
    d = _obj(body)
    anchored, revoked = d.get("anchored"), d.get("revoked")
    if not isinstance(anchored, bool) or not isinstance(revoked, bool):
        raise ProtocolError("anchored and revoked must be booleans")

    def opt_int(key: str) -> int | None:
        return None if d.get(key) is None else _int(d, key)

    def opt_str(key: str) -> str | None:
        v = d.get(key)
        return v if isinstance(v, str) else None

    return DigestStatus(
        digest,
        anchored,
        opt_int("index"),
        opt_str("issuer"),
        revoked,
        opt_int("revocation_index"),
        opt_str("reason"),
    )


def parse_appended(body: bytes) -> Appended:
    d = _obj(body)
    indices = d.get("indices")
    checkpoint = d.get("checkpoint")
    if not isinstance(indices, list) or not all(type(i) is int for i in indices):
        raise ProtocolError("indices is not a list of integers")
    if not isinstance(checkpoint, str):
        raise ProtocolError("checkpoint is not a string")
    return Appended(indices, _int(d, "tree_size"), checkpoint)


def parse_list(body: bytes, key: str) -> list[dict[str, Any]]:
    d = _obj(body)
    items = d.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProtocolError(f"{key} is not a list of objects")
    return items


def _digest(digest: bytes | str) -> bytes:
    if isinstance(digest, str):
        return parse_digest_hex(digest)
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise E.InvalidEntry("a credential digest is 32 bytes")
    return digest


def _index(value: int, what: str) -> int:
    if type(value) is not int or value < 0:
        raise E.InvalidRange(f"{what} must be a non-negative integer")
    return value


def append_request(
    entries: Sequence[Entry | bytes],
    signer_key: PrivateKey,
    issuer: str,
    audience: str,
    *,
    now: int | None = None,
) -> str:
    """The signed append request: a compact JWS of ``typ`` ``registry-append+jwt``."""
    encoded = [e if isinstance(e, bytes) else e.encode() for e in entries]
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": int(time.time()) if now is None else now,
        "jti": secrets.token_urlsafe(18),
        "entries": [base64.b64encode(e).decode("ascii") for e in encoded],
    }
    header = {"typ": APPEND_TYP, "kid": signer_key.public_key().thumbprint()}
    return sign_compact(header, claims, signer_key)


# --- HTTP ------------------------------------------------------------------------------


class _Request:
    """One API call: method, path, params, body, and how to parse a 200."""

    def __init__(
        self,
        method: str,
        path: str,
        params: Mapping[str, int] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.params = dict(params or {})
        self.content = content
        self.headers = {"content-type": content_type} if content_type else {}


def _check(status: int, body: bytes) -> bytes:
    if status == 200:
        return body
    raise error_from_response(status, body)


class RegistryClient:
    """A synchronous client of ``hash-registry serve`` (explicit timeout, bounded responses)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        hash_alg: HashAlg = SHA256,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise RegistryUnavailable(f"not an http(s) URL: {base_url!r:.80}", code="invalid_url")
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.hash_alg = hash_alg
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self._origin: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, req: _Request) -> bytes:
        try:
            with self._http.stream(
                req.method,
                self.base_url + req.path,
                params=req.params,
                content=req.content,
                headers=req.headers,
            ) as resp:
                chunks: list[bytes] = []
                total = 0
                for chunk in resp.iter_bytes():
                    total += len(chunk)
                    if total > self.max_response_bytes:
                        raise ProtocolError("the registry's response is too large")
                    chunks.append(chunk)
                return _check(resp.status_code, b"".join(chunks))
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"{self.base_url}: {exc.__class__.__name__}: {exc}") from exc

    def checkpoint(self) -> str:
        body = self._call(_Request("GET", "/checkpoint"))
        if len(body) > MAX_NOTE_SIZE:
            raise ProtocolError("the checkpoint is too large")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("the checkpoint is not UTF-8") from exc

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        params = {"index": _index(index, "index")}
        if size is not None:
            params["size"] = _index(size, "size")
        return parse_inclusion(self._call(_Request("GET", "/proof/inclusion", params)))

    def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        params = {"old": _index(old, "old")}
        if new is not None:
            params["new"] = _index(new, "new")
        return parse_consistency(self._call(_Request("GET", "/proof/consistency", params)))

    def entry(self, index: int) -> LogEntry:
        body = self._call(_Request("GET", f"/entries/{_index(index, 'index')}"))
        return parse_entry(body, index, self.hash_alg)

    def lookup(self, digest: bytes | str) -> DigestStatus:
        raw = _digest(digest)
        return parse_status(self._call(_Request("GET", f"/lookup/{raw.hex()}")), raw)

    def receipt(self, index: int) -> Receipt:
        body = self._call(_Request("GET", f"/receipt/{_index(index, 'index')}"))
        try:
            return Receipt.from_json(body)
        except SelfcarryError as exc:
            raise ProtocolError(f"the receipt is malformed: {exc.message}") from exc

    def keys(self) -> dict[str, Any]:
        return _obj(self._call(_Request("GET", "/keys")))

    def issuers(self) -> list[dict[str, Any]]:
        return parse_list(self._call(_Request("GET", "/issuers")), "issuers")

    def verifiers(self) -> list[dict[str, Any]]:
        return parse_list(self._call(_Request("GET", "/verifiers")), "verifiers")

    def origin(self) -> str:
        if self._origin is None:
            log = self.keys().get("log")
            origin = log.get("origin") if isinstance(log, dict) else None
            if not isinstance(origin, str):
                raise ProtocolError("the keys document names no origin")
            self._origin = origin
        return self._origin

    def append(
        self, entries: Sequence[Entry | bytes], signer_key: PrivateKey, issuer: str
    ) -> Appended:
        """Append as an admitted issuer: the request is signed with ``signer_key``."""
        token = append_request(entries, signer_key, issuer, self.origin())
        req = _Request("POST", "/append", content=token.encode(), content_type="application/jwt")
        return parse_appended(self._call(req))


class AsyncRegistryClient:
    """The asynchronous twin of :class:`RegistryClient` (same methods, awaitable)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        hash_alg: HashAlg = SHA256,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise RegistryUnavailable(f"not an http(s) URL: {base_url!r:.80}", code="invalid_url")
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.hash_alg = hash_alg
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)
        self._origin: str | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, req: _Request) -> bytes:
        try:
            async with self._http.stream(
                req.method,
                self.base_url + req.path,
                params=req.params,
                content=req.content,
                headers=req.headers,
            ) as resp:
                chunks: list[bytes] = []
                total = 0
                async for chunk in resp.aiter_bytes():
                    total += len(chunk)
                    if total > self.max_response_bytes:
                        raise ProtocolError("the registry's response is too large")
                    chunks.append(chunk)
                return _check(resp.status_code, b"".join(chunks))
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"{self.base_url}: {exc.__class__.__name__}: {exc}") from exc

    async def checkpoint(self) -> str:
        body = await self._call(_Request("GET", "/checkpoint"))
        if len(body) > MAX_NOTE_SIZE:
            raise ProtocolError("the checkpoint is too large")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("the checkpoint is not UTF-8") from exc

    async def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        params = {"index": _index(index, "index")}
        if size is not None:
            params["size"] = _index(size, "size")
        return parse_inclusion(await self._call(_Request("GET", "/proof/inclusion", params)))

    async def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        params = {"old": _index(old, "old")}
        if new is not None:
            params["new"] = _index(new, "new")
        return parse_consistency(await self._call(_Request("GET", "/proof/consistency", params)))

    async def entry(self, index: int) -> LogEntry:
        body = await self._call(_Request("GET", f"/entries/{_index(index, 'index')}"))
        return parse_entry(body, index, self.hash_alg)

    async def lookup(self, digest: bytes | str) -> DigestStatus:
        raw = _digest(digest)
        return parse_status(await self._call(_Request("GET", f"/lookup/{raw.hex()}")), raw)

    async def receipt(self, index: int) -> Receipt:
        body = await self._call(_Request("GET", f"/receipt/{_index(index, 'index')}"))
        try:
            return Receipt.from_json(body)
        except SelfcarryError as exc:
            raise ProtocolError(f"the receipt is malformed: {exc.message}") from exc

    async def keys(self) -> dict[str, Any]:
        return _obj(await self._call(_Request("GET", "/keys")))

    async def issuers(self) -> list[dict[str, Any]]:
        return parse_list(await self._call(_Request("GET", "/issuers")), "issuers")

    async def verifiers(self) -> list[dict[str, Any]]:
        return parse_list(await self._call(_Request("GET", "/verifiers")), "verifiers")

    async def origin(self) -> str:
        if self._origin is None:
            log = (await self.keys()).get("log")
            origin = log.get("origin") if isinstance(log, dict) else None
            if not isinstance(origin, str):
                raise ProtocolError("the keys document names no origin")
            self._origin = origin
        return self._origin

    async def append(
        self, entries: Sequence[Entry | bytes], signer_key: PrivateKey, issuer: str
    ) -> Appended:
        token = append_request(entries, signer_key, issuer, await self.origin())
        req = _Request("POST", "/append", content=token.encode(), content_type="application/jwt")
        return parse_appended(await self._call(req))


# --- a registry home on this machine ---------------------------------------------------


class LocalRegistry:
    """The read (and issuer-append) API of :class:`RegistryClient`, against a registry home.

    Opens the store for each call batch lazily and keeps it open until :meth:`close`.
    Appends go through the same signed-request checks as the HTTP service.
    """

    def __init__(self, home: str | Path) -> None:
        from .home import RegistryConfig

        self.home = Path(home)
        self._config = RegistryConfig.load(self.home)  # NotInitialized if it is no registry
        self.hash_alg = get_hash_alg(self._config.hash_alg)
        self._log: Log | None = None

    def _open(self) -> Log:
        if self._log is None:
            from .home import open_log

            self._log = open_log(self.home)
        return self._log

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self) -> str:
        return self._open().checkpoint()

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        return self._open().inclusion_proof(index, size)

    def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        return self._open().consistency_proof(old, new)

    def entry(self, index: int) -> LogEntry:
        return self._open().entry(index)

    def lookup(self, digest: bytes | str) -> DigestStatus:
        return self._open().lookup(_digest(digest))

    def receipt(self, index: int) -> Receipt:
        return self._open().receipt(index)

    def keys(self) -> dict[str, Any]:
        return self._open().keys_document()

    def issuers(self) -> list[dict[str, Any]]:
        return self._open().issuers()

    def verifiers(self) -> list[dict[str, Any]]:
        return self._open().verifiers()

    def origin(self) -> str:
        return self._config.origin

    def append(
        self, entries: Sequence[Entry | bytes], signer_key: PrivateKey, issuer: str
    ) -> Appended:
        log = self._open()
        token = append_request(entries, signer_key, issuer, log.origin)
        return log.append_signed(token)


def open_registry(
    url_or_home: str | Path, *, timeout: float = DEFAULT_TIMEOUT
) -> RegistryClient | LocalRegistry:
    """An HTTP client for an ``http(s)://`` URL, else the registry home at that path."""
    text = str(url_or_home)
    if text.startswith(("http://", "https://")):
        return RegistryClient(text, timeout=timeout)
    return LocalRegistry(Path(text))


# --- witnesses over HTTP ----------------------------------------------------------------


class WitnessClient:
    """A remote witness speaking C2SP tlog-witness ``POST /add-checkpoint``."""

    def __init__(
        self,
        url: str,
        vkey: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        from .note import CosignatureVerifier

        self._verifier = CosignatureVerifier.from_vkey(vkey)
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def vkey(self) -> str:
        return self._verifier.vkey

    def close(self) -> None:
        self._http.close()

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str) -> str:
        body = format_add_checkpoint_request(old_size, proof, note).encode("utf-8")
        try:
            resp = self._http.post(
                self.url + "/add-checkpoint", content=body, headers={"content-type": "text/plain"}
            )
        except httpx.HTTPError as exc:
            raise E.WitnessRefused(
                f"{self.name} at {self.url}: {exc.__class__.__name__}: {exc}",
                code="witness_unavailable",
            ) from exc
        text = resp.content[:MAX_NOTE_SIZE].decode("utf-8", "replace")
        if resp.status_code == 200:
            return text
        ctype = resp.headers.get("content-type", "")
        if resp.status_code == 409 and ctype.startswith("text/x.tlog.size"):
            try:
                size = int(text.strip())
            except ValueError as exc:
                raise ProtocolError("the witness's 409 body is not a size") from exc
            raise E.WitnessConflict(size)
        detail = f"{self.name}: HTTP {resp.status_code}: {text.strip()[:200]}"
        if resp.status_code == 409:
            raise E.WitnessSplitView(detail)
        if resp.status_code == 404:
            raise E.UnknownOrigin(detail)
        if resp.status_code == 403:
            raise E.UnknownLogKey(detail)
        if resp.status_code == 422:
            raise E.InvalidProof(detail)
        if resp.status_code == 400:
            raise E.WitnessRefused(detail)
        raise E.WitnessRefused(detail, code="witness_unavailable")
