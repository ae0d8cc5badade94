"""A credit reference agency issuing a report credential and anchoring it on the registry.

What a CRA's own back end does with selfcarry's libraries (``issuer_sim.cra.Cra`` is
the full simulator; :class:`CraBackend` below is the minimum):

1. build the report's claims — every field selectively disclosable, plus the
   issuer-attested decision claims a bank actually reads;
2. sign them as an SD-JWT VC (``dc+sd-jwt``) bound to the resident's holder key;
3. anchor the digest of the issuer-signed JWT on the hash registry over HTTP (the
   registry receives the digest, the issuer, a tag of the type and the validity
   period — never the report) and hand the resident the credential together with
   its receipt;
4. revoke: a status-list bit the CRA publishes and a revocation entry on the log.

Run ``python -m examples.issuer_integration``: it first plays the platform's part (a
throwaway registry served on loopback, whose operator admits the CRA's key), then
the CRA's part against it over HTTP, then checks the receipt as a wallet would.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hash_registry.client import RegistryClient
from hash_registry.entries import AnchorEntry, RevocationEntry, credential_digest
from hash_registry.home import init_registry, open_log
from hash_registry.receipt import Receipt, verify_receipt
from hash_registry.service import create_app
from hash_registry.trust import TrustedLog
from issuer_sim.assessment import assess
from issuer_sim.reports import generate_report
from vc.credit_report import VCT, Assessment, CreditReport, build_ld_claims
from vc.jose import PrivateKey, PublicKey
from vc.sdjwt import Decoys
from vc.sdjwt_vc import issue_credential, verify_credential
from vc.status_list import Status, StatusList, build_status_list_token

from .scenarios._world import free_port, serving

ISSUER = "https://cra.example.hk"  # the CRA's base URL: `iss`, issuer metadata, status list
STATUS_URI = f"{ISSUER}/status/1"
STATUS_LIST_SIZE = 131_072  # ≥ 2^17 slots: a revoked bit hides in a large herd
VALID_DAYS = 90


class CraBackend:
    """The CRA's issuing service: one ES256 signing key and the registry's URL."""

    def __init__(self, key: PrivateKey, registry_url: str) -> None:
        self.key = key
        self.kid = key.public_key().thumbprint()
        self.registry = RegistryClient(registry_url)
        self.revoked: set[int] = set()

    def metadata(self) -> dict[str, Any]:
        """JWT VC Issuer Metadata: what the registry operator admits and banks trust."""
        jwk = {**self.key.public_key().to_jwk(), "kid": self.kid, "use": "sig", "alg": "ES256"}
        return {"issuer": ISSUER, "jwks": {"keys": [jwk]}}

    def issue(self, report_json: dict[str, Any], holder_jwk: dict[str, Any],
              status_idx: int) -> tuple[str, dict[str, Any]]:
        """Sign, anchor, and return (credential, its registry receipt) for the resident."""
        now = int(time.time())
        exp = now + VALID_DAYS * 86400
        decisions = Assessment.from_mapping(assess(report_json, as_of=datetime.now(UTC).date()))
        ld = build_ld_claims(CreditReport.from_report_json(report_json), decisions,
                             issuer=ISSUER, valid_from=datetime.fromtimestamp(now, UTC),
                             valid_until=datetime.fromtimestamp(exp, UTC))
        credential = str(issue_credential(
            {"ld": ld}, self.key, issuer=ISSUER, vct=VCT, iat=now, exp=exp,
            holder_key=PublicKey.from_jwk(holder_jwk), kid=self.kid, decoys=Decoys(1, 4),
            status={"status_list": {"idx": status_idx, "uri": STATUS_URI}}))
        appended = self.registry.append([AnchorEntry.for_credential(credential)], self.key,
                                        ISSUER)
        receipt = self.registry.receipt(appended.indices[0])
        return credential, json.loads(receipt.to_json())

    def revoke(self, credential: str, status_idx: int, reason: str = "data_error") -> int:
        """Set the status bit and append a revocation entry; returns the entry's index."""
        self.revoked.add(status_idx)
        entry = RevocationEntry(credential_digest(credential), reason, int(time.time()))
        return self.registry.append([entry], self.key, ISSUER).indices[0]

    def status_list_token(self) -> str:
        """What ``GET /status/1`` serves: a signed, short-lived Token Status List."""
        statuses = StatusList(1, STATUS_LIST_SIZE)
        for idx in self.revoked:
            statuses.set(idx, Status.INVALID)
        now = int(time.time())
        return build_status_list_token(statuses, sub=STATUS_URI, iat=now, exp=now + 600,
                                       ttl=300, key=self.key, kid=self.kid, iss=ISSUER)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="selfcarry-issuer-") as tmp:
        registry_home = Path(tmp) / "registry"
        init_registry(registry_home)  # the platform: log key, witness, SQLite store
        log = open_log(registry_home)
        keys = log.keys_document()
        port = free_port()
        with serving(create_app(log, close_on_shutdown=True), port) as registry_url:
            cra = CraBackend(PrivateKey.generate("ES256"), registry_url)
            admit = open_log(registry_home)  # the operator admits the CRA's key
            try:
                admit.admit_issuer(cra.metadata())
            finally:
                admit.close()
            print(f"registry at {registry_url}; CRA {ISSUER} admitted")

            holder = PrivateKey.generate("ES256")  # in reality: the resident's wallet makes it
            report = generate_report(seed=21)  # in reality: the CRA's own database
            credential, receipt = cra.issue(report, holder.public_key().to_jwk(), status_idx=42)
            anchor = AnchorEntry.for_credential(credential)
            print(f"issued {len(credential)} characters; the registry received only "
                  f"digest={anchor.digest.hex()} issuer={anchor.issuer} "
                  f"vct_tag={anchor.vct_tag.hex()} iat={anchor.iat} exp={anchor.exp}, "
                  f"anchored at index {receipt['index']}")

            # What the resident's wallet checks before storing it:
            verify_credential(credential, cra.key.public_key(), now=int(time.time()),
                              key_binding=None, vcts={VCT})
            checkpoint = verify_receipt(Receipt.from_json(receipt),
                                        TrustedLog.from_keys_json(keys),
                                        expected_entry=anchor.encode())
            print(f"signature and receipt check out: included under cosigned checkpoint "
                  f"of size {checkpoint.size}")

            index = cra.revoke(credential, status_idx=42)
            status = cra.registry.lookup(anchor.digest)
            print(f"revoked at registry index {index}: the registry now says "
                  f"revoked={status.revoked}; the status list token is "
                  f"{len(cra.status_list_token())} characters")
            cra.registry.close()
            return 0 if status.revoked else 1


if __name__ == "__main__":
    raise SystemExit(main())
