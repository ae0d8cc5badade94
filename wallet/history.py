"""The disclosure history: a hash chain of signed consent receipts.

Every request the resident answers — approved *or declined* — becomes a consent
receipt: a compact JWS (``typ: consent-receipt+jwt``) saying when, which bank
(its ``client_id``, display name, and whether its request was authenticated),
the purpose, which claims were requested (required / optional) and disclosed,
the decision and the delivery outcome. It is signed with the holder key of the
credential concerned, so it proves the *holder of that credential* agreed; a
request declined before any credential was chosen is signed with the wallet's
receipt key (see :mod:`wallet.keystore`).

Why a chain: each receipt carries ``seq`` and ``prev``, the SHA-256 (base64url)
of the previous receipt's compact serialisation. Altering a receipt breaks its
signature; deleting or reordering one breaks the chain. An export also carries a
*head* — ``{count, head hash}`` signed by the wallet receipt key — so cutting off
the newest receipts is detected too. :func:`verify_history_export` checks all of
it with nothing but the export itself: the resident can later prove what they
agreed to, and what they did not.

Outcomes that arrive later (the bank's verdict after delivery) are recorded as a
second, linked receipt (``type: outcome``, ``refers_to`` the consent receipt's
``jti`` and hash) rather than by editing the first: signed receipts stay
immutable, and the chain shows when each fact was learnt.
:meth:`History.disclosures` merges them into one row per request.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vc import strict_json
from vc.b64 import b64u_encode
from vc.errors import VCError
from vc.jose import ES256, PrivateKey, PublicKey, decode_compact, sign_compact, verify_compact

from .errors import HistoryInvalid, InvalidConsentEvent, NotFound, VaultTampered
from .keystore import KeyStore
from .vault import MAX_JSON_DEPTH, Vault

__all__ = [
    "DECISIONS",
    "HEAD_TYP",
    "OUTCOMES",
    "RECEIPT_TYP",
    "ConsentEvent",
    "ConsentReceipt",
    "History",
    "receipt_hash",
    "verify_history_export",
    "verify_receipt",
]

RECEIPT_TYP = "consent-receipt+jwt"
HEAD_TYP = "consent-history-head+jwt"
EXPORT_FORMAT = "selfcarry-consent-history"
EXPORT_VERSION = 1
DECISIONS = ("approved", "declined")
# "saved": the presentation was written to a file for the resident to hand over themselves.
OUTCOMES = ("delivered", "failed", "rejected_by_bank", "qr", "saved", "not_sent")
# What can become of a declined request: nothing sent, or an access_denied response sent (or not).
DECLINED_OUTCOMES = ("not_sent", "delivered", "failed")
APPROVED_OUTCOMES = ("delivered", "failed", "rejected_by_bank", "qr", "saved")
RECEIPT_ALGS = frozenset({ES256, "EdDSA"})

MAX_TEXT = 4096
MAX_PATHS = 1000
MAX_PATH_CHARS = 512
MAX_VERDICT_BYTES = 16 * 1024
MAX_EXPORT_BYTES = 64 * 1024 * 1024
MAX_RECEIPTS = 1_000_000

KIND_HISTORY = "history"
KIND_HEAD = "history_head"
HEAD_ID = "head"


def receipt_hash(jws: str) -> str:
    """The chain link: SHA-256 of a receipt's compact serialisation, base64url."""
    return b64u_encode(hashlib.sha256(jws.encode("ascii")).digest())


def _text(value: Any, name: str, *, optional: bool = False, limit: int = MAX_TEXT) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidConsentEvent(f"{name} must be a non-empty string of at most {limit} chars")
    return value


def _paths(value: Any, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidConsentEvent(f"{name} must be a list of claim paths")
    if len(value) > MAX_PATHS:
        raise InvalidConsentEvent(f"{name} lists more than {MAX_PATHS} claim paths")
    return [str(_text(p, f"a path in {name}", limit=MAX_PATH_CHARS)) for p in value]


def _verdict(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidConsentEvent("bank_verdict must be a JSON object")
    try:
        text = strict_json.dumps(dict(value))
        strict_json.depth(value, 16)
    except VCError as exc:
        raise InvalidConsentEvent(f"bank_verdict is not JSON ({exc.message})") from exc
    if len(text.encode("utf-8")) > MAX_VERDICT_BYTES:
        raise InvalidConsentEvent(f"bank_verdict is larger than {MAX_VERDICT_BYTES} bytes")
    parsed: dict[str, Any] = strict_json.loads(text, max_depth=MAX_JSON_DEPTH)
    return parsed


def _when(value: Any) -> int:
    if value is None:
        return int(time.time())
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidConsentEvent("time must be a non-negative integer (seconds since the epoch)")
    return value


@dataclass(frozen=True)
class ConsentEvent:
    """One answered presentation request, as the wallet saw it."""

    request_id: str
    client_id: str
    bank_name: str | None
    authenticated: bool  # was the bank's request signed by a key the registry admitted?
    purpose: str | None
    decision: str  # "approved" | "declined"
    outcome: str  # see OUTCOMES
    credential_id: str | None = None
    required_claims: Sequence[str] = field(default_factory=tuple)
    optional_claims: Sequence[str] = field(default_factory=tuple)
    disclosed_claims: Sequence[str] = field(default_factory=tuple)
    bank_verdict: Mapping[str, Any] | None = None  # e.g. {verified, reason, decision}, if known
    time: int | None = None  # seconds since the epoch; None = now

    def to_claims(self) -> dict[str, Any]:
        """Validated receipt fields (raises :class:`InvalidConsentEvent`)."""
        if self.decision not in DECISIONS:
            raise InvalidConsentEvent(f"decision must be one of {', '.join(DECISIONS)}")
        allowed = APPROVED_OUTCOMES if self.decision == "approved" else DECLINED_OUTCOMES
        if self.outcome not in allowed:
            raise InvalidConsentEvent(
                f"outcome of a {self.decision} request must be one of {', '.join(allowed)}"
            )
        if not isinstance(self.authenticated, bool):
            raise InvalidConsentEvent("authenticated must be true or false")
        disclosed = _paths(self.disclosed_claims, "disclosed_claims")
        if self.decision == "approved" and self.credential_id is None:
            raise InvalidConsentEvent("an approved request names the credential presented")
        if self.decision == "declined" and disclosed:
            raise InvalidConsentEvent("a declined request discloses nothing")
        return {
            "time": _when(self.time),
            "request_id": _text(self.request_id, "request_id"),
            "client_id": _text(self.client_id, "client_id"),
            "bank_name": _text(self.bank_name, "bank_name", optional=True),
            "bank_authenticated": self.authenticated,
            "purpose": _text(self.purpose, "purpose", optional=True),
            "credential_id": _text(self.credential_id, "credential_id", optional=True, limit=256),
            "requested": {
                "required": _paths(self.required_claims, "required_claims"),
                "optional": _paths(self.optional_claims, "optional_claims"),
            },
            "disclosed": disclosed,
            "decision": self.decision,
            "outcome": self.outcome,
            "bank_verdict": _verdict(self.bank_verdict),
        }


@dataclass(frozen=True)
class ConsentReceipt:
    """A signed receipt: the compact JWS and its (verified) claims."""

    jws: str
    claims: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.claims["seq"])

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def type(self) -> str:
        return str(self.claims["type"])

    @property
    def hash(self) -> str:
        return receipt_hash(self.jws)

    def to_json(self) -> dict[str, Any]:
        return {"receipt": self.jws, "claims": self.claims}


# --- verification (standalone: needs only receipts and public keys) ----------------------

_CONSENT_FIELDS = {
    "v", "type", "seq", "jti", "iat", "time", "request_id", "client_id", "bank_name",
    "bank_authenticated", "purpose", "credential_id", "requested", "disclosed", "decision",
    "outcome", "bank_verdict", "holder_jkt", "wallet_jkt", "prev",
}  # fmt: skip
_OUTCOME_FIELDS = {
    "v", "type", "seq", "jti", "iat", "time", "refers_to", "refers_to_hash", "outcome",
    "bank_verdict", "holder_jkt", "wallet_jkt", "prev",
}  # fmt: skip


def _check_consent_shape(c: Mapping[str, Any]) -> None:
    """Re-validate a consent receipt's fields with the same rules as recording."""
    req = c.get("requested")
    if not isinstance(req, Mapping) or set(req) != {"required", "optional"}:
        raise InvalidConsentEvent("requested must be {required, optional}")
    ConsentEvent(
        request_id=c["request_id"],
        client_id=c["client_id"],
        bank_name=c["bank_name"],
        authenticated=c["bank_authenticated"],
        purpose=c["purpose"],
        decision=c["decision"],
        outcome=c["outcome"],
        credential_id=c["credential_id"],
        required_claims=req["required"],
        optional_claims=req["optional"],
        disclosed_claims=c["disclosed"],
        bank_verdict=c["bank_verdict"],
        time=c["time"],
    ).to_claims()


def verify_receipt(token: str, key: PublicKey) -> dict[str, Any]:
    """Verify one receipt's signature, type and shape with a known public key; its claims."""
    try:
        jws = verify_compact(token, key, algs=RECEIPT_ALGS, typ=RECEIPT_TYP)
        claims = jws.claims()
    except VCError as exc:
        raise HistoryInvalid(f"the receipt does not verify ({exc.code})") from exc
    if jws.header.get("kid") != key.thumbprint() or claims.get("holder_jkt") != key.thumbprint():
        raise HistoryInvalid("the receipt names another signing key")
    kind = claims.get("type")
    expected = _CONSENT_FIELDS if kind == "consent" else _OUTCOME_FIELDS
    if kind not in ("consent", "outcome") or set(claims) != expected or claims.get("v") != 1:
        raise HistoryInvalid("the receipt does not have the consent-receipt shape")
    if not isinstance(claims["seq"], int) or isinstance(claims["seq"], bool) or claims["seq"] < 1:
        raise HistoryInvalid("the receipt's seq is invalid")
    if not isinstance(claims["jti"], str) or not isinstance(claims["iat"], int):
        raise HistoryInvalid("the receipt's jti or iat is invalid")
    try:
        if kind == "consent":
            _check_consent_shape(claims)
        else:
            if claims["outcome"] not in OUTCOMES:
                raise InvalidConsentEvent("unknown outcome")
            _verdict(claims["bank_verdict"])
            _when(claims["time"])
    except (InvalidConsentEvent, KeyError, TypeError) as exc:
        raise HistoryInvalid(f"the receipt's fields are invalid ({exc})") from exc
    return claims


def _verify_chain(
    receipts: Sequence[Any], keys: Mapping[str, PublicKey], wallet_jkt: str
) -> list[dict[str, Any]]:
    """Check every receipt's signature and the chain links; return the claims in order."""
    out: list[dict[str, Any]] = []
    prev: str | None = None
    consents: dict[str, tuple[str, str, str]] = {}  # jti -> (hash, kid, decision)
    jtis: set[str] = set()
    for i, token in enumerate(receipts, start=1):
        where = f"receipt {i}"
        if not isinstance(token, str):
            raise HistoryInvalid(f"{where} is not a compact JWS")
        try:
            kid = decode_compact(token).header.get("kid")
        except VCError as exc:
            raise HistoryInvalid(f"{where} is not a compact JWS ({exc.code})") from exc
        if not isinstance(kid, str) or kid not in keys:
            raise HistoryInvalid(f"{where} is signed by a key the history does not list")
        try:
            claims = verify_receipt(token, keys[kid])
        except HistoryInvalid as exc:
            raise HistoryInvalid(f"{where}: {exc.message}") from exc
        if claims["seq"] != i:
            raise HistoryInvalid(f"{where} has seq {claims['seq']}: an entry is missing or moved")
        if claims["prev"] != prev:
            raise HistoryInvalid(f"{where} does not link to the receipt before it")
        if claims["wallet_jkt"] != wallet_jkt:
            raise HistoryInvalid(f"{where} belongs to another wallet")
        if claims["jti"] in jtis:
            raise HistoryInvalid(f"{where} repeats a receipt id")
        jtis.add(claims["jti"])
        this = receipt_hash(token)
        if claims["type"] == "consent":
            consents[claims["jti"]] = (this, kid, claims["decision"])
        else:
            ref = consents.get(claims["refers_to"])
            if ref is None or ref[0] != claims["refers_to_hash"]:
                raise HistoryInvalid(f"{where} updates a consent receipt that is not before it")
            if kid not in (ref[1], wallet_jkt):
                raise HistoryInvalid(f"{where} is signed by an unexpected key")
            allowed = APPROVED_OUTCOMES if ref[2] == "approved" else DECLINED_OUTCOMES
            if claims["outcome"] not in allowed:
                raise HistoryInvalid(f"{where} gives an impossible outcome for that decision")
        out.append(claims)
        prev = this
    return out


def _load_doc(doc: Any) -> Mapping[str, Any]:
    if isinstance(doc, bytes | str):
        if len(doc) > MAX_EXPORT_BYTES:
            raise HistoryInvalid("the history export is too large")
        try:
            doc = strict_json.loads(doc, max_depth=MAX_JSON_DEPTH)
        except VCError as exc:
            raise HistoryInvalid(f"the history export is not JSON ({exc.code})") from exc
    if not isinstance(doc, Mapping):
        raise HistoryInvalid("the history export is not a JSON object")
    if doc.get("format") != EXPORT_FORMAT or doc.get("version") != EXPORT_VERSION:
        raise HistoryInvalid("not a selfcarry consent-history export (format/version)")
    if set(doc) != {"format", "version", "wallet_jkt", "keys", "receipts", "head"}:
        raise HistoryInvalid("the history export has unexpected or missing members")
    return doc


def verify_history_export(
    doc: Mapping[str, Any] | str | bytes, *, wallet_jkt: str | None = None
) -> list[dict[str, Any]]:
    """Verify a history export standalone; returns every receipt's claims, oldest first.

    Checks each receipt's signature with the key it names (listed in ``keys`` under
    its RFC 7638 thumbprint), the ``seq``/``prev`` chain, that outcome receipts
    refer to earlier consents, and the head signed by the wallet receipt key
    (receipt count and last hash: nothing cut off). Pass ``wallet_jkt`` to pin the
    wallet you expect. Raises :class:`HistoryInvalid` naming the first failure.
    """
    d = _load_doc(doc)
    wjkt, raw_keys, receipts, head = d["wallet_jkt"], d["keys"], d["receipts"], d["head"]
    if not isinstance(wjkt, str) or (wallet_jkt is not None and wjkt != wallet_jkt):
        raise HistoryInvalid("the export is not from the expected wallet")
    if not isinstance(raw_keys, Mapping) or not isinstance(receipts, list):
        raise HistoryInvalid("keys must be an object and receipts a list")
    if len(receipts) > MAX_RECEIPTS or len(raw_keys) > MAX_RECEIPTS + 1:
        raise HistoryInvalid("the history export lists too many entries")
    keys: dict[str, PublicKey] = {}
    for name, jwk in raw_keys.items():
        try:
            key = PublicKey.from_jwk(jwk)
        except VCError as exc:
            raise HistoryInvalid(f"key {name!r} is not a public JWK ({exc.code})") from exc
        if key.thumbprint() != name:
            raise HistoryInvalid(f"key {name!r} is listed under the wrong thumbprint")
        keys[name] = key
    if wjkt not in keys:
        raise HistoryInvalid("the wallet receipt key is not listed")
    try:
        head_claims = verify_compact(head, keys[wjkt], algs=RECEIPT_ALGS, typ=HEAD_TYP).claims()
    except VCError as exc:
        raise HistoryInvalid(f"the history head does not verify ({exc.code})") from exc
    claims = _verify_chain(receipts, keys, wjkt)
    last = receipt_hash(receipts[-1]) if receipts else None
    if (
        head_claims.get("count") != len(receipts)
        or head_claims.get("head") != last
        or head_claims.get("wallet_jkt") != wjkt
    ):
        raise HistoryInvalid("the history head does not match the receipts: entries were cut off")
    return claims


# --- the history in the vault --------------------------------------------------------------


class History:
    """Record, list and export consent receipts (all stored encrypted in the vault)."""

    def __init__(self, vault: Vault, keystore: KeyStore | None = None) -> None:
        self._vault = vault
        self._keys = keystore or KeyStore(vault)

    def record(self, event: ConsentEvent) -> ConsentReceipt:
        """Sign and append a consent receipt for ``event``."""
        fields = event.to_claims()
        with self._vault.transaction():
            if event.credential_id is not None:
                kid = self._keys.key_for_credential(event.credential_id)
                key = self._keys.holder_key(kid)
            else:
                kid, key = self._keys.receipt_key()
            return self._append({"type": "consent", **fields}, kid, key)

    def record_outcome(
        self,
        refers_to: str | ConsentReceipt,
        outcome: str,
        *,
        bank_verdict: Mapping[str, Any] | None = None,
        time: int | None = None,
    ) -> ConsentReceipt:
        """Append a linked receipt with an outcome learnt later (e.g. the bank's verdict)."""
        jti = refers_to.jti if isinstance(refers_to, ConsentReceipt) else refers_to
        when = _when(time)
        verdict = _verdict(bank_verdict)
        with self._vault.transaction():
            original = next((r for r in self.list() if r.jti == jti and r.type == "consent"), None)
            if original is None:
                raise NotFound(f"no consent receipt {jti!r}")
            allowed = (
                APPROVED_OUTCOMES
                if original.claims["decision"] == "approved"
                else DECLINED_OUTCOMES
            )
            if outcome not in allowed:
                raise InvalidConsentEvent(f"outcome must be one of {', '.join(allowed)}")
            kid = str(original.claims["holder_jkt"])
            try:
                key = self._keys.signing_key(kid)
            except NotFound:  # the credential and its key are gone: the wallet key signs
                kid, key = self._keys.receipt_key()
            body = {
                "type": "outcome",
                "time": when,
                "refers_to": jti,
                "refers_to_hash": original.hash,
                "outcome": outcome,
                "bank_verdict": verdict,
            }
            return self._append(body, kid, key)

    def list(self) -> builtins.list[ConsentReceipt]:
        """Every receipt, oldest first, chain and signatures checked."""
        receipts, keys, wallet_jkt = self._load()
        claims = self._verify(receipts, keys, wallet_jkt)
        return [ConsentReceipt(t, c) for t, c in zip(receipts, claims, strict=True)]

    def disclosures(self) -> builtins.list[dict[str, Any]]:
        """One row per answered request with its latest outcome (what ``wallet history`` shows)."""
        rows: dict[str, dict[str, Any]] = {}
        for r in self.list():
            c = r.claims
            if r.type == "consent":
                rows[r.jti] = {
                    "jti": r.jti,
                    "seq": r.seq,
                    **{k: c[k] for k in c if k not in ("v", "type", "seq", "jti", "prev", "iat")},
                    "outcome_updated": None,
                }
            else:
                row = rows[c["refers_to"]]
                row["outcome"] = c["outcome"]
                if c["bank_verdict"] is not None:
                    row["bank_verdict"] = c["bank_verdict"]
                row["outcome_updated"] = c["time"]
        return builtins.list(rows.values())

    def export_json(self) -> dict[str, Any]:
        """All receipts, the public keys to check them, and a head signed by the wallet key."""
        wallet_jkt, wallet_key = self._keys.receipt_key()
        receipts, keys, _ = self._load()
        self._verify(receipts, keys, wallet_jkt)
        keys = {**keys, wallet_jkt: wallet_key.public_key().to_jwk()}
        head = sign_compact(
            {"typ": HEAD_TYP, "kid": wallet_jkt},
            {
                "v": 1,
                "count": len(receipts),
                "head": receipt_hash(receipts[-1]) if receipts else None,
                "wallet_jkt": wallet_jkt,
                "iat": int(time.time()),
            },
            wallet_key,
        )
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "wallet_jkt": wallet_jkt,
            "keys": dict(sorted(keys.items())),
            "receipts": receipts,
            "head": head,
        }

    # -- internals ----------------------------------------------------------------------------

    def _append(self, body: dict[str, Any], kid: str, key: PrivateKey) -> ConsentReceipt:
        """Sign ``body`` as the next link of the chain (inside the caller's transaction)."""
        v = self._vault
        head = v.find(KIND_HEAD, HEAD_ID) or {"seq": 0, "hash": None}
        wallet_jkt, _ = self._keys.receipt_key()
        seq = int(head["seq"]) + 1
        claims = {
            "v": 1,
            **body,
            "seq": seq,
            "jti": b64u_encode(secrets.token_bytes(16)),
            "iat": int(time.time()),
            "holder_jkt": kid,
            "wallet_jkt": wallet_jkt,
            "prev": head["hash"],
        }
        token = sign_compact({"typ": RECEIPT_TYP, "kid": kid}, claims, key)
        v.put(KIND_HISTORY, f"{seq:010d}", {"receipt": token, "jwk": key.public_key().to_jwk()})
        v.put(KIND_HEAD, HEAD_ID, {"seq": seq, "hash": receipt_hash(token)})
        return ConsentReceipt(token, verify_receipt(token, key.public_key()))

    def _load(self) -> tuple[builtins.list[str], dict[str, dict[str, str]], str | None]:
        items = self._vault.items(KIND_HISTORY)  # ids are zero-padded seq: sorted = chain order
        head = self._vault.find(KIND_HEAD, HEAD_ID) or {"seq": 0, "hash": None}
        receipts: builtins.list[str] = []
        keys: dict[str, dict[str, str]] = {}
        for _rid, obj in items:
            token, jwk = obj.get("receipt"), obj.get("jwk")
            if not isinstance(token, str) or not isinstance(jwk, dict):
                raise VaultTampered("a history record has the wrong shape")
            receipts.append(token)
            try:
                keys[PublicKey.from_jwk(jwk).thumbprint()] = jwk
            except VCError as exc:
                raise VaultTampered("a history record's key is invalid") from exc
        last = receipt_hash(receipts[-1]) if receipts else None
        if head.get("seq") != len(receipts) or head.get("hash") != last:
            raise VaultTampered("the history head does not match its receipts")
        wallet_jkt = None
        if receipts:
            try:
                wallet_jkt = decode_compact(receipts[0]).claims().get("wallet_jkt")
            except VCError as exc:
                raise VaultTampered("a history receipt does not decode") from exc
        return receipts, keys, wallet_jkt if isinstance(wallet_jkt, str) else None

    def _verify(
        self,
        receipts: builtins.list[str],
        jwks: Mapping[str, Mapping[str, str]],
        wallet_jkt: str | None,
    ) -> builtins.list[dict[str, Any]]:
        if not receipts:
            return []
        keys = {kid: PublicKey.from_jwk(jwk) for kid, jwk in jwks.items()}
        try:
            return _verify_chain(receipts, keys, str(wallet_jkt))
        except HistoryInvalid as exc:
            raise VaultTampered(f"the stored history does not verify: {exc.message}") from exc
