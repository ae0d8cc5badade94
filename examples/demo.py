"""`make demo`, for now: the credential round trip that exists — issue → present → verify.

A fictional CRA issues a key-bound credit-report SD-JWT VC; the resident's wallet
discloses only what a loan pre-check needs; the bank's verifier checks it and
prints what it concluded. Later issues grow this into the full multi-process demo.
"""

from __future__ import annotations

import json
import secrets
import time

from vc.jose import PrivateKey
from vc.sdjwt import SD, HolderCredential, KeyBindingPolicy
from vc.sdjwt_vc import issue_credential, verify_credential

CRA = "https://cra.transunion-hk.example"
BANK = "https://bank.shenzhen.example/verifier"


def main() -> int:
    cra_key, holder_key = PrivateKey.generate(), PrivateKey.generate()
    now = int(time.time())
    subject = {
        "identity": {SD("nameEn"): {"surname": "CHAN", "givenNames": "Tai Man"},
                     SD("hkid"): "A123456(3)"},
        "score": {SD("grade"): "B", SD("value"): 3468},
        "assessment": {SD("noMaterialDefault60m"): True, SD("enquiries3m"): 0},
    }
    credential = issue_credential(
        {SD("credentialSubject"): subject}, cra_key, issuer=CRA,
        vct="https://w3id.org/selfcarry/vct/hk-credit-report/v1",
        iat=now, exp=now + 90 * 86400, holder_key=holder_key.public_key(),
    )
    print(f"CRA issued a credential: {len(str(credential))} bytes, "
          f"{len(credential.disclosures)} disclosures")

    wallet = HolderCredential.from_issuance(str(credential))
    nonce = secrets.token_urlsafe(16)
    chosen = [["credentialSubject", "score", "grade"],
              ["credentialSubject", "assessment", "noMaterialDefault60m"]]
    presentation = wallet.present(chosen, holder_key=holder_key, aud=BANK, nonce=nonce, iat=now)
    print(f"Resident presents grade and 'no material default' only: {len(presentation)} bytes")

    result = verify_credential(
        presentation, cra_key.public_key(), now=now,
        key_binding=KeyBindingPolicy(aud=BANK, nonce=nonce, now=now),
    )
    print("Bank verified:", json.dumps(result.claims["credentialSubject"], ensure_ascii=False))
    print("The bank did not see the score, the name or the HKID.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
