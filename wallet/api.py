"""`Wallet`: every action a resident can take, behind one small API.

The CLI and the TUI both call this and nothing else. The wallet verifies everything
a bank would before it stores a credential, authenticates banks through the
registry before it answers them, discloses only what the request requires unless
the resident chooses more, and signs a consent receipt for every answer — yes or no.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from hash_registry.entries import AnchorEntry, credential_digest_hex
from hash_registry.errors import RegistryError
from hash_registry.receipt import Receipt
from hash_registry.trust import verify_checkpoint_note
from hash_registry.view import RegistryView
from vc import dcql, strict_json
from vc.credit_report import VCT
from vc.errors import SelfcarryError
from vc.jose import PublicKey, decode_compact
from vc.jsonld import check_ld
from vc.openid4vp import decode_request_object, parse_request_uri, verify_request_object
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential, holder_key_of, process_disclosures
from vc.sdjwt_vc import verify_credential
from vc.status_list import INVALID, SUSPENDED, VALID, parse_status_reference, read_status_list_token

from . import trust as trust_config
from .backup import export_backup, restore_backup
from .errors import NotFound, WalletError
from .history import ConsentEvent, History
from .keystore import KeyStore
from .model import (
    Candidate,
    ClaimChoice,
    ClaimNode,
    CredentialDetail,
    CredentialSummary,
    Delivery,
    HistoryRow,
    Preview,
    Provenance,
    RequestReview,
    Warning,
)
from .oid4vci_client import parse_offer, redeem
from .vault import Vault

CREDENTIAL = "credential"
SETTINGS = "settings"
LANGUAGES = ("en", "zh-Hant-HK", "zh-Hans")
DEFAULT_SETTINGS: dict[str, Any] = {"language": "en", "auto_lock_seconds": 300}
EXPIRING_SOON = 14 * 86400
MAX_FETCH = 512 * 1024
# What a loan pre-check never needs; asking for it earns the resident a warning.
BEYOND_PRECHECK = (
    ("ld", "credentialSubject", "identity", "hkid"),
    ("ld", "credentialSubject", "accounts"),
    ("ld", "credentialSubject", "contact"),
    ("ld", "credentialSubject", "enquiries"),
    ("ld", "credentialSubject", "publicRecords"),
)


class RequestRefused(WalletError):
    code = "request_refused"
    default_message = "the wallet will not answer this request"


def _dotted(path: Sequence[str | int]) -> str:
    return dcql.to_dotted(tuple(path))


def _value_at(claims: Any, path: Sequence[str | int]) -> Any:
    node = claims
    for step in path:
        node = node[step]
    return node


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class Wallet:
    def __init__(self, home: Path, vault: Vault) -> None:
        self.home = Path(home)
        self.vault = vault
        self.keys = KeyStore(vault)
        self.log = History(vault, self.keys)
        self._views: list[RegistryView] | None = None
        self.http = httpx.Client(timeout=10, follow_redirects=False)

    # --- lifecycle ------------------------------------------------------------------

    @staticmethod
    def exists(home: str | Path) -> bool:
        return Vault.exists(Path(home))

    @classmethod
    def create(cls, home: str | Path, passphrase: str) -> Wallet:
        return cls(Path(home), Vault.create(Path(home), passphrase))

    @classmethod
    def open(cls, home: str | Path, passphrase: str) -> Wallet:
        return cls(Path(home), Vault.open(Path(home), passphrase))

    def close(self) -> None:
        for view in self._views or []:
            view.close()
        self.http.close()
        self.vault.close()

    def __enter__(self) -> Wallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self) -> None:
        self.vault.lock()

    def unlock(self, passphrase: str) -> None:
        self.vault.unlock(passphrase)

    @property
    def locked(self) -> bool:
        return self.vault.locked

    def change_passphrase(self, old: str, new: str) -> None:
        self.vault.change_passphrase(old, new)

    # --- trust ----------------------------------------------------------------------

    def add_registry(self, keys_doc: dict[str, Any], url: str | None) -> str:
        log = trust_config.add_registry(self.home, keys_doc, url)
        self._views = None
        return log.origin

    def registries(self) -> list[dict[str, Any]]:
        return list(trust_config.load_trust(self.home)["registries"])

    def views(self) -> list[RegistryView]:
        if self._views is None:
            self._views = trust_config.registry_views(self.home)
            if not self._views:
                raise WalletError("the wallet trusts no registry yet (wallet trust add-registry)",
                                  code="no_registry")
        return self._views

    # --- receiving --------------------------------------------------------------------

    def reserve_holder_key(self) -> dict[str, str]:
        """A fresh P-256 holder key (one per credential: credentials stay unlinkable)."""
        key_id, _ = self.keys.new_holder_key()
        return self.keys.public_jwk(key_id)

    def offer_tx_code(self, offer_uri: str) -> dict[str, Any] | None:
        return parse_offer(offer_uri, self.http).tx_code

    def receive(self, offer_uri: str, tx_code: str | None = None) -> CredentialSummary:
        offer = parse_offer(offer_uri, self.http)
        reserved: list[str] = []

        def new_key() -> Any:
            key_id, _ = self.keys.new_holder_key()
            reserved.append(key_id)
            return self.keys.holder_key(key_id)

        text, receipt, _ = redeem(offer, tx_code=tx_code, new_holder_key=new_key, http=self.http)
        return self._verify_and_store(text, receipt, reserved[-1])

    def import_credential(self, text: str, receipt: dict[str, Any] | str | None = None
                          ) -> CredentialSummary:
        """Import a credential issued to a key reserved with :meth:`reserve_holder_key`."""
        text = text.strip()
        holder = HolderCredential.from_issuance(text)
        cnf = holder.claims.get("cnf", {}).get("jwk") if isinstance(holder.claims.get("cnf"),
                                                                      dict) else None
        if not isinstance(cnf, dict):
            raise WalletError("the credential is not bound to a holder key", code="no_cnf")
        try:
            key_id = self.keys.key_id_for_jwk(cnf)
        except NotFound as exc:
            raise WalletError("the credential is bound to a key this wallet does not hold",
                              code="holder_key_mismatch") from exc
        parsed = Receipt.from_json(receipt).to_dict() if receipt is not None else None
        return self._verify_and_store(text, parsed, key_id)

    def _issuer_key(self, iss: str, header: dict[str, Any]) -> tuple[RegistryView, PublicKey, int]:
        """The CRA key the registry admitted for ``iss`` (matched by the JWT's ``kid``)."""
        kid = header.get("kid")
        for view in self.views():
            for entry in view.issuer_keys(iss):
                key = PublicKey.from_jwk(entry.jwk)
                if kid is None or kid == key.thumbprint():
                    return view, key, entry.valid_from
        raise WalletError(f"{iss} is not an issuer admitted on any registry this wallet trusts",
                          code="issuer_not_on_registry")

    def _verify_and_store(self, text: str, receipt: dict[str, Any] | None,
                          key_id: str) -> CredentialSummary:
        now = int(time.time())
        holder = HolderCredential.from_issuance(text)
        jws = decode_compact(holder.jwt_text)
        payload = jws.claims()
        iss = payload.get("iss")
        if not isinstance(iss, str):
            raise WalletError("the credential names no issuer", code="missing_claim")
        view, key, valid_from = self._issuer_key(iss, jws.header)
        verified = verify_credential(text, key, now=now, key_binding=None, vcts={VCT})
        if isinstance(verified.claims.get("ld"), dict):
            check_ld(verified.claims["ld"])
        if payload.get("iat", 0) < valid_from - 60:
            raise WalletError("the credential predates its issuer key's admission",
                              code="issuer_key_not_valid_at_issuance")
        if holder_key_of(payload) != self.keys.public_key(key_id):
            raise WalletError("the credential is bound to another key", code="holder_key_mismatch")
        anchor = AnchorEntry.for_credential(text)
        proof = view.prove_anchor(anchor, receipt)
        if proof.revoked:
            raise WalletError("the registry records this credential as revoked", code="revoked")
        fresh = receipt if receipt is not None else view.fresh_receipt(proof.index).to_dict()
        self._check_status(verified.status, iss, key, now)
        digest = credential_digest_hex(text)
        credential_id = f"c-{digest[:16]}"
        cosigners = verify_checkpoint_note(Receipt.from_json(fresh).checkpoint, view.trusted)
        subject = verified.claims.get("ld", {}).get("credentialSubject", {})
        record = {
            "issuance": text, "receipt": fresh, "digest": digest, "issuer": iss,
            "issuer_name": _issuer_name(subject, iss),
            "cra": subject.get("report", {}).get("cra"), "vct": verified.vct,
            "iat": verified.iat or now, "exp": verified.exp or now, "key_id": key_id,
            "received_at": now, "registry": view.origin, "registry_index": proof.index,
            "checkpoint_size": proof.checkpoint.size,
            "cosigners": sorted(w for w in _witness_names(cosigners)),
            "status": {"revoked": False, "checked_at": now}, "shown_to": [],
        }
        with self.vault.transaction():
            self.vault.put(CREDENTIAL, credential_id, record)
            self.keys.bind(key_id, credential_id)
        return self._summary(credential_id, record)

    def _check_status(self, status: Any, iss: str, key: PublicKey, now: int) -> str | None:
        """Fetch the CRA's status list (same origin as the issuer only); return the token."""
        if status is None:
            return None
        ref = parse_status_reference(status)
        if _origin(ref.uri) != _origin(iss):
            raise WalletError("the status list is not on the issuer's origin",
                              code="untrusted_status_uri")
        try:
            response = self.http.get(ref.uri, headers={"Accept": "application/statuslist+jwt"})
        except httpx.HTTPError as exc:
            raise WalletError(f"the issuer's status list is unreachable ({exc})",
                              code="status_unavailable") from exc
        if response.status_code != 200 or len(response.content) > 6 * 1024 * 1024:
            raise WalletError(f"the status list answered {response.status_code}",
                              code="status_unavailable")
        token = response.text.strip()
        value = read_status_list_token(token, key=key, expected_sub=ref.uri, now=now,
                                       expected_iss=iss).status_list.get(ref.idx)
        if value in (INVALID, SUSPENDED):
            raise WalletError("the issuer has revoked this credential", code="revoked")
        if value != VALID:
            raise WalletError("the status list gives an unknown status", code="status_unavailable")
        return token

    # --- credentials ------------------------------------------------------------------

    def _summary(self, credential_id: str, rec: dict[str, Any]) -> CredentialSummary:
        now = int(time.time())
        status = rec.get("status", {})
        return CredentialSummary(
            id=credential_id, issuer=rec["issuer"], issuer_name=rec["issuer_name"],
            cra=rec.get("cra"), vct=rec["vct"], issued_at=rec["iat"], expires_at=rec["exp"],
            anchored=rec.get("registry_index") is not None, revoked=status.get("revoked"),
            status_checked_at=status.get("checked_at"),
            expiring_soon=rec["exp"] - now < EXPIRING_SOON,
            shown_to=tuple(rec.get("shown_to", [])),
            provenance=Provenance(rec["registry"], rec["registry_index"], rec["checkpoint_size"],
                                  tuple(rec.get("cosigners", []))),
        )

    def _record(self, credential_id: str) -> dict[str, Any]:
        try:
            return self.vault.get(CREDENTIAL, credential_id)
        except NotFound as exc:
            raise WalletError(f"no credential {credential_id!r}", code="not_found") from exc

    def credentials(self) -> list[CredentialSummary]:
        return sorted((self._summary(cid, rec) for cid, rec in self.vault.items(CREDENTIAL)),
                      key=lambda s: -s.issued_at)

    def credential(self, credential_id: str) -> CredentialDetail:
        rec = self._record(credential_id)
        holder = HolderCredential.from_issuance(rec["issuance"])
        disclosable = {tuple(p) for p in holder.disclosable_paths()}
        nodes = [ClaimNode(path, _dotted(path), str(path[-1]) if path else "",
                           None if isinstance(value, dict | list) else value,
                           path in disclosable, len(path))
                 for path, value in _walk(holder.claims) if path]
        first = ("ld", "credentialSubject", "score")
        nodes.sort(key=lambda n: (n.path[:3] != first, 0))
        return CredentialDetail(self._summary(credential_id, rec), tuple(nodes))

    def refresh_status(self, credential_id: str) -> CredentialSummary:
        rec = self._record(credential_id)
        now = int(time.time())
        iss = rec["issuer"]
        _, key, _ = self._issuer_key(iss, decode_compact(rec["issuance"].split("~")[0]).header)
        status = HolderCredential.from_issuance(rec["issuance"]).claims.get("status")
        try:
            self._check_status(status, iss, key, now)
            rec["status"] = {"revoked": False, "checked_at": now}
        except WalletError as exc:
            if exc.code != "revoked":
                raise
            rec["status"] = {"revoked": True, "checked_at": now}
        self.vault.put(CREDENTIAL, credential_id, rec)
        return self._summary(credential_id, rec)

    def delete_credential(self, credential_id: str) -> None:
        rec = self._record(credential_id)
        with self.vault.transaction():
            self.vault.delete(CREDENTIAL, credential_id)
            self.keys.delete_holder_key(rec["key_id"])

    # --- requests ---------------------------------------------------------------------

    def open_request_qr(self, png_path: str | Path) -> RequestReview:
        from vc.qr import decode_images, decode_request_uri

        codes = decode_images([Path(png_path)])
        if not codes:
            raise WalletError("no QR code found in the image", code="qr_not_found")
        return self.open_request(decode_request_uri(codes[0]))

    def _request_object(self, source: str) -> str:
        text = source.strip()
        if text.startswith("openid4vp://"):
            client_id, request_uri = parse_request_uri(text)
            try:
                response = self.http.get(
                    request_uri, headers={"Accept": "application/oauth-authz-req+jwt"})
            except httpx.HTTPError as exc:
                raise WalletError(f"the bank's request could not be fetched ({exc})",
                                  code="request_unreachable") from exc
            if response.status_code != 200 or len(response.content) > MAX_FETCH:
                raise WalletError(f"the bank answered {response.status_code}",
                                  code="request_unreachable")
            jwt = response.text.strip()
            if decode_request_object(jwt).get("client_id") != client_id:
                raise WalletError("the request object is for another client_id",
                                  code="client_id_mismatch")
            return jwt
        path = Path(text) if len(text) < 4096 and "\n" not in text else None
        if path is not None and path.is_file():
            from vc.cli_support import read_input

            return self._request_object(read_input(path))
        if text.startswith("{"):
            doc = strict_json.loads(text, max_depth=32)
            if not isinstance(doc, dict) or not isinstance(doc.get("request"), str):
                raise WalletError("the request document carries no request object",
                                  code="invalid_request")
            return str(doc["request"])
        if text.count(".") == 2 and " " not in text:
            return text
        raise WalletError("not a request: give an openid4vp:// URI, a request file, or its JSON",
                          code="invalid_request")

    def open_request(self, source: str) -> RequestReview:
        now = int(time.time())
        jwt = self._request_object(source)
        header = decode_compact(jwt).header
        unverified = decode_request_object(jwt)
        client_id = unverified.get("client_id")
        if not isinstance(client_id, str):
            raise WalletError("the request names no client_id", code="invalid_request")
        bank_name, authenticated, detail = None, False, "the bank's key is not on the registry"
        claims: dict[str, Any] | None = None
        kid = header.get("kid")
        for view in self.views():
            entry = view.admitted_verifier(kid) if isinstance(kid, str) else None
            if entry is not None and entry.client_id == client_id:
                claims = verify_request_object(jwt, key=PublicKey.from_jwk(entry.jwk),
                                               expected_client_id=client_id, now=now)
                bank_name, authenticated = entry.name, True
                detail = f"request signed by a key admitted on {view.origin} for {client_id}"
                break
        if claims is None:
            claims = unverified
            exp = claims.get("exp")
            if isinstance(exp, int) and exp < now:
                raise WalletError("the request has expired", code="request_expired")
        query = dcql.parse_query(claims.get("dcql_query"))
        response_uri, nonce = claims.get("response_uri"), claims.get("nonce")
        if not isinstance(response_uri, str) or not isinstance(nonce, str):
            raise WalletError("the request has no response_uri or nonce", code="invalid_request")
        candidates = self._candidates(query)
        warnings = self._warnings(query, candidates, authenticated, client_id)
        return RequestReview(
            request_id=str(claims.get("state", "")), client_id=client_id, bank_name=bank_name,
            authenticated=authenticated, auth_detail=detail, purpose=claims.get("purpose"),
            expires_at=claims.get("exp") if isinstance(claims.get("exp"), int) else None,
            response_uri=response_uri, nonce=nonce, dcql_query=query.to_json(),
            candidates=tuple(candidates), warnings=tuple(warnings), request_object=jwt,
        )

    def _held(self) -> list[tuple[str, dict[str, Any], HolderCredential]]:
        return [(cid, rec, HolderCredential.from_issuance(rec["issuance"]))
                for cid, rec in self.vault.items(CREDENTIAL)]

    def _candidates(self, query: dcql.DcqlQuery) -> list[Candidate]:
        held = {cid: (rec, holder) for cid, rec, holder in self._held()}
        matches = dcql.match(query, [(cid, h.claims.get("vct", ""), h.claims)
                                     for cid, (_, h) in held.items()])
        out = []
        for m in matches:
            rec, holder = held[m.credential_id]
            options = [set(o.paths) for o in m.options]
            common = set.intersection(*options)
            # every path any satisfiable claim set asks for, in the bank's order, once
            ordered = list(dict.fromkeys(p for o in m.options for p in o.paths))

            def choice(path: Any, required: bool, claims: Any = holder.claims) -> ClaimChoice:
                return ClaimChoice(tuple(path), _dotted(path), _value_at(claims, path), required)

            out.append(Candidate(
                m.credential_id, rec["issuer_name"],
                tuple(choice(p, True) for p in ordered if p in common),
                tuple(choice(p, False) for p in ordered if p not in common),
            ))
        return out

    def _warnings(self, query: dcql.DcqlQuery, candidates: list[Candidate],
                  authenticated: bool, client_id: str) -> list[Warning]:
        warnings = []
        if not authenticated:
            warnings.append(Warning("unauthenticated",
                                    "This request is not signed by a bank the registry knows. "
                                    "It may be a phishing page.", {"client_id": client_id}))
        asked = [c.path for cand in candidates for c in (*cand.required, *cand.optional)]
        beyond = sorted({_dotted(prefix) for prefix in BEYOND_PRECHECK
                         for path in asked if path[:len(prefix)] == prefix})
        if beyond:
            warnings.append(Warning("over_request",
                                    "The bank asks for more than a loan pre-check needs: "
                                    + ", ".join(beyond), {"paths": beyond}))
        for cand in candidates:
            rec = self._record(cand.credential_id)
            others = [c for c in rec.get("shown_to", []) if c != client_id]
            if others:
                warnings.append(Warning(
                    "linkable", "This credential was already shown to another bank; the two "
                    "banks could link the presentations.",
                    {"credential_id": cand.credential_id, "banks": others}))
            if rec["exp"] - int(time.time()) < EXPIRING_SOON:
                warnings.append(Warning("expiring_soon", "This credential expires soon.",
                                        {"credential_id": cand.credential_id}))
        if not candidates:
            warnings.append(Warning("no_match",
                                    "No credential in this wallet answers the request."))
        return warnings

    def _selection(self, review: RequestReview, credential_id: str,
                   optional: Sequence[str]) -> tuple[Candidate, list[tuple[str | int, ...]]]:
        cand = next((c for c in review.candidates if c.credential_id == credential_id), None)
        if cand is None:
            raise RequestRefused("that credential does not answer this request",
                                 code="not_a_candidate")
        allowed = {c.dotted: c.path for c in cand.optional}
        unknown = [p for p in optional if p not in allowed]
        if unknown:
            raise RequestRefused(f"not requested by the bank: {', '.join(unknown)}",
                                 code="unrequested_claim")
        chosen = [c.path for c in cand.required] + [allowed[p] for p in optional]
        query = dcql.parse_query(review.dcql_query)
        holder = HolderCredential.from_issuance(self._record(credential_id)["issuance"])
        match = next(m for m in dcql.match(query, [(credential_id, holder.claims["vct"],
                                                    holder.claims)]))
        if not any(set(o.paths) <= set(chosen) for o in match.options):
            chosen = list(match.options[0].paths)  # the minimum that answers the request
        return cand, chosen

    def preview(self, review: RequestReview, credential_id: str,
                optional: Sequence[str] = ()) -> Preview:
        _, chosen = self._selection(review, credential_id, optional)
        rec = self._record(credential_id)
        holder = HolderCredential.from_issuance(rec["issuance"])
        disclosures = holder.select(chosen)
        payload = decode_compact(holder.jwt_text).claims()
        disclosed = process_disclosures(payload, disclosures)
        size = len(holder.jwt_text) + sum(len(d) + 1 for d in disclosures) + 1 + 300
        return Preview(credential_id, disclosed, tuple(_dotted(p) for p in chosen), size)

    def approve(self, review: RequestReview, credential_id: str, optional: Sequence[str] = (),
                *, deliver: str = "http", confirm_unauthenticated: bool = False) -> Delivery:
        if deliver not in ("http", "qr", "none"):
            raise WalletError(f"unknown delivery {deliver!r}", code="usage_error")
        if not review.authenticated and not confirm_unauthenticated:
            raise RequestRefused("the bank is not authenticated: confirm explicitly to answer",
                                 code="unauthenticated_request")
        cand, chosen = self._selection(review, credential_id, optional)
        rec = self._record(credential_id)
        holder = HolderCredential.from_issuance(rec["issuance"])
        presentation = holder.present(chosen, holder_key=self.keys.holder_key(rec["key_id"]),
                                      aud=review.client_id, nonce=review.nonce,
                                      iat=int(time.time()))
        qid = dcql.parse_query(review.dcql_query).ids[0]
        response = PresentationResponse({qid: [presentation]}, review.request_id or None,
                                        {qid: [self._staple(rec)]})
        verdict: dict[str, Any] | None = None
        error: str | None = None
        codes: tuple[bytes, ...] = ()
        if deliver == "http":
            outcome, verdict, error = self._post(review.response_uri, response)
        elif deliver == "qr":
            from vc.qr import presentation_codes

            outcome = "qr"
            codes = tuple(presentation_codes(presentation))
        else:
            outcome = "saved"
        with self.vault.transaction():
            rec["shown_to"] = sorted({*rec.get("shown_to", []), review.client_id})
            self.vault.put(CREDENTIAL, credential_id, rec)
            self.log.record(ConsentEvent(
                request_id=review.request_id or secrets.token_urlsafe(8),
                client_id=review.client_id, bank_name=review.bank_name,
                authenticated=review.authenticated, purpose=review.purpose_text() or None,
                decision="approved", outcome=outcome, credential_id=credential_id,
                required_claims=[c.dotted for c in cand.required],
                optional_claims=[c.dotted for c in cand.optional],
                disclosed_claims=[_dotted(p) for p in chosen], bank_verdict=verdict))
        return Delivery(outcome, presentation, response.to_json(), verdict, error, codes)

    def _staple(self, rec: dict[str, Any]) -> Staple:
        """The freshest proofs the wallet can get; what it cannot refresh it sends as stored."""
        receipt, token = rec.get("receipt"), None
        try:
            view = next(v for v in self.views() if v.origin == rec["registry"])
            receipt = view.fresh_receipt(rec["registry_index"]).to_dict()
        except (StopIteration, RegistryError, SelfcarryError):
            pass
        try:
            _, key, _ = self._issuer_key(rec["issuer"],
                                         decode_compact(rec["issuance"].split("~")[0]).header)
            status = HolderCredential.from_issuance(rec["issuance"]).claims.get("status")
            token = self._check_status(status, rec["issuer"], key, int(time.time()))
        except SelfcarryError:
            token = None
        return Staple(receipt, token)

    def _post(self, response_uri: str, response: PresentationResponse
              ) -> tuple[str, dict[str, Any] | None, str | None]:
        try:
            answer = self.http.post(response_uri, content=response.to_form_body(), headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        except httpx.HTTPError as exc:
            return "failed", None, f"bank_unreachable: {exc}"
        try:
            body = strict_json.loads(answer.content[:MAX_FETCH], max_depth=16)
        except SelfcarryError:
            body = None
        verdict = body if isinstance(body, dict) else None
        if answer.status_code != 200:
            reason = verdict.get("error") if verdict else f"http_{answer.status_code}"
            return "failed", verdict, str(reason)
        if verdict is not None and verdict.get("verified") is False:
            return "rejected_by_bank", verdict, str(verdict.get("reason"))
        return "delivered", verdict, None

    def decline(self, review: RequestReview, reason: str | None = None) -> HistoryRow:
        receipt = self.log.record(ConsentEvent(
            request_id=review.request_id or secrets.token_urlsafe(8),
            client_id=review.client_id, bank_name=review.bank_name,
            authenticated=review.authenticated, purpose=review.purpose_text() or None,
            decision="declined", outcome="not_sent",
            required_claims=[c.dotted for cand in review.candidates for c in cand.required],
            optional_claims=[c.dotted for cand in review.candidates for c in cand.optional]))
        return next(r for r in self.history() if r.receipt == receipt.jws)

    # --- history, settings, backup ----------------------------------------------------

    def history(self) -> list[HistoryRow]:
        tokens = {r.jti: r.jws for r in self.log.list()}
        return [HistoryRow(
            time=row["time"], request_id=row["request_id"], client_id=row["client_id"],
            bank_name=row.get("bank_name"), authenticated=row["bank_authenticated"],
            purpose=row.get("purpose"), decision=row["decision"], outcome=row["outcome"],
            credential_id=row.get("credential_id"), disclosed=tuple(row.get("disclosed", [])),
            bank_verdict=row.get("bank_verdict"), receipt=tokens[row["jti"]],
        ) for row in self.log.disclosures()]

    def export_history(self) -> dict[str, Any]:
        return self.log.export_json()

    def settings(self) -> dict[str, Any]:
        stored = self.vault.find(SETTINGS, "ui") or {}
        return {**DEFAULT_SETTINGS, **stored}

    def set_setting(self, key: str, value: Any) -> None:
        if key == "language" and value not in LANGUAGES:
            raise WalletError(f"language is one of {', '.join(LANGUAGES)}", code="invalid_setting")
        if key == "auto_lock_seconds" and (not isinstance(value, int) or not 10 <= value <= 86400):
            raise WalletError("auto_lock_seconds is 10-86400", code="invalid_setting")
        if key not in DEFAULT_SETTINGS:
            raise WalletError(f"unknown setting {key!r}", code="invalid_setting")
        self.vault.put(SETTINGS, "ui", {**self.settings(), key: value})

    def backup(self, path: str | Path, passphrase: str) -> None:
        export_backup(self.vault, Path(path), passphrase)

    @staticmethod
    def restore(path: str | Path, home: str | Path, backup_passphrase: str,
                new_passphrase: str) -> Wallet:
        vault = restore_backup(Path(path), Path(home), backup_passphrase, new_passphrase)
        return Wallet(Path(home), vault)


def _walk(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    out: list[tuple[tuple[str | int, ...], Any]] = [(path, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_walk(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_walk(value, (*path, i)))
    return out


def _issuer_name(subject: dict[str, Any], iss: str) -> str:
    cra = subject.get("report", {}).get("cra") if isinstance(subject, dict) else None
    names = {"transunion-hk": "TransUnion Hong Kong (simulated)",
             "nova-credit-hk": "Nova Credit Hong Kong (simulated)"}
    return names.get(str(cra), iss)


def _witness_names(verified: Any) -> list[str]:
    names = getattr(verified, "witnesses", None) or getattr(verified, "cosigners", None) or []
    return [getattr(w, "name", str(w)) for w in names]
