"""The preset DEFLATE dictionary of presentation container v1 (docs/qr.md §3.4).

DEFLATE can copy from a preset dictionary as if it preceded the data, so the
JSON that every selfcarry presentation repeats (header members, the SD-JWT VC
registered claims, the VCDM frame, our credit-report claim names, the KB-JWT
members) costs a few bits per copy instead of its full length. The dictionary
is part of the wire format: changing one byte is a new container version.
Fragments that occur in almost every presentation come last, because DEFLATE
codes short distances in fewer bits.
"""

from __future__ import annotations

import hashlib
from typing import Final

#: The dictionary is the UTF-8 encoding of these strings, concatenated in order.
FRAGMENTS_V1: Final[tuple[str, ...]] = (
    # credit-report detail claims (rarely presented in a QR; furthest away)
    '"publicRecords"', '"recordType"', '"court"', '"amount"', '"status"',
    '"enquiries"', '"enquirer"', '"purpose"', '"countedInScore"',
    '"accounts"', '"accountId"', '"creditProvider"', '"facilityType":"credit_card"',
    '"accountNumberMasked"', '"capacity"', '"currency":"HKD"', '"dateOpened"',
    '"creditLimit"', '"originalAmount"', '"tenorMonths"', '"instalmentAmount"',
    '"instalmentsRemaining"', '"currentBalance"', '"amountPastDue"', '"lastPaymentDate"',
    '"accountStatus"', '"lastUpdated"', '"repaymentHistory24m"',
    '"contact"', '"addresses"', '"addressType"', '"address"', '"firstReported"',
    '"lastReported"', '"phones"', '"phoneType"', '"number"',
    '"report"', '"reference"', '"cra":"transunion-hk"', '"issuedAt"',
    '"permittedUse":"cross-boundary lending"', '"consentReference"',
    # identity and score
    '"nameEn",{"surname":"', '","givenNames":"', '"nameZh"', '"hkid"', '"birthDate"',
    '"gender"', '"value"', '"grade"', '"scoreDate"', '"scale":"transunion-hk:1000-4000:A-J"',
    # alternative header and key shapes
    '{"alg":"EdDSA","typ":"dc+sd-jwt"}', '{"alg":"EdDSA","typ":"kb+jwt"}',
    '"kty":"OKP","crv":"Ed25519","x":"',
    '{"alg":"ES256","typ":"dc+sd-jwt","kid":"', '{"alg":"ES256","typ":"kb+jwt"}',
    # the decision claims (the loan pre-check's core)
    '"riskGrade","', '"noMaterialDefault60m",true]', '"worstStatus24m","',
    '"lateMonths24m",', '"maxConsecutiveLateMonths24m",', '"currentlyPastDue",false]',
    '"enquiries3m",', '"totalLimit",', '"totalOutstanding",', '"utilisation",0.',
    '"noPublicRecords",true]',
    # issuer-signed payload, in the order issue_credential writes it
    '{"typ":"dc+sd-jwt","kid":"', '","alg":"ES256"}',
    '{"iss":"https://', '","vct":"https://w3id.org/selfcarry/vct/hk-credit-report/v1"',
    ',"iat":17', ',"nbf":17', ',"exp":17',
    ',"status":{"status_list":{"idx":', ',"uri":"https://', '"}},',
    '"ld":{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://w3id.org/selfcarry/credit-report/v1"],'
    '"type":["VerifiableCredential","CreditReportCredential"],"issuer":"https://',
    '","validFrom":"20', 'T00:00:00Z","validUntil":"20',
    '","credentialSubject":{"identity":{"_sd":["', '"]},"contact":{"_sd":["',
    '"]},"score":{"_sd":["', '"]},"assessment":{"_sd":["', '"]},"report":{"_sd":["',
    '"]},"_sd":["', '"]}},"_sd_alg":"sha-256"', ',"cnf":{"jwk":{"kty":"EC","crv":"P-256","x":"',
    '","y":"', '"}}}', '{"...":"',
    # key binding JWT (every key-bound presentation)
    '{"typ":"kb+jwt","alg":"ES256"}', '{"iat":17', ',"aud":"x509_hash:', '","nonce":"',
    '","sd_hash":"', '"}',
)

DICTIONARY_V1: Final[bytes] = "".join(FRAGMENTS_V1).encode("utf-8")
#: Published in docs/qr.md so a re-implementation can check it built the same bytes.
DICTIONARY_V1_SHA256: Final[str] = hashlib.sha256(DICTIONARY_V1).hexdigest()
