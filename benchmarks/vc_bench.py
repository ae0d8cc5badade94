"""Issue, present and verify one credit-report credential with `vc` and with the
reference implementation (`sd-jwt` on PyPI), in one run, and print µs/op and ratios.

Both sides get the same claims (the synthetic sample report, every unit of
DISCLOSURE_UNITS selectively disclosable), the same P-256 keys, and verify the same
presentation (the loan pre-check selection, key-bound). Our verify also runs the
SD-JWT VC checks and the JSON-LD term check; theirs runs only bare SD-JWT + KB.

    python -m benchmarks.vc_bench [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from vc.credit_report import VCT, CreditReport, build_ld_claims, derive_assessment
from vc.jose import PrivateKey
from vc.jsonld import check_ld
from vc.sdjwt import SD, HolderCredential, KeyBindingPolicy
from vc.sdjwt_vc import issue_credential, verify_credential

SAMPLE = Path(__file__).resolve().parents[1] / "tests/vectors/samples/tu_report_synthetic.json"
ISS = "https://cra.transunion-hk.example"
AUD, NONCE = "https://bank.example/verifier", "bench-nonce"
PRECHECK = [
    ["ld", "credentialSubject", "assessment"],
    ["ld", "credentialSubject", "score", "grade"],
    ["ld", "credentialSubject", "report", "issuedAt"],
    ["ld", "credentialSubject", "identity", "nameEn"],
]


def _timeit(fn: Callable[[], Any], rounds: int) -> float:
    for _ in range(max(3, rounds // 20)):
        fn()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        samples.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(samples)


def _to_theirs(value: Any) -> Any:
    if isinstance(value, SD):
        return SDObj(_to_theirs(value.value))
    if isinstance(value, dict):
        return {_to_theirs(k): _to_theirs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_theirs(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds

    report = CreditReport.from_report_json(json.loads(SAMPLE.read_text("utf-8")))
    now = datetime.now(UTC).replace(microsecond=0)
    ld = build_ld_claims(report, derive_assessment(report), issuer=ISS,
                         valid_from=now, valid_until=now + timedelta(days=90))
    claims: dict[Any, Any] = {"ld": ld}
    issuer, holder = PrivateKey.generate(), PrivateKey.generate()
    issuer_jwk, holder_jwk = JWK(**issuer.to_jwk()), JWK(**holder.to_jwk())
    iat = int(now.timestamp())

    def ours_issue() -> str:
        return str(issue_credential(claims, issuer, issuer=ISS, vct=VCT, iat=iat,
                                    exp=iat + 90 * 86400, holder_key=holder.public_key()))

    theirs_claims = _to_theirs({"iss": ISS, "vct": VCT, "iat": iat, "exp": iat + 90 * 86400,
                                **claims})

    def theirs_issue() -> str:
        return SDJWTIssuer(theirs_claims, issuer_jwk, holder_key=holder_jwk,
                           sign_alg="ES256").sd_jwt_issuance

    issued = ours_issue()
    wallet = HolderCredential.from_issuance(issued)
    presentation = wallet.present(PRECHECK, holder_key=holder, aud=AUD, nonce=NONCE, iat=iat)
    policy = KeyBindingPolicy(aud=AUD, nonce=NONCE, now=iat)

    def ours_present() -> str:
        return wallet.present(PRECHECK, holder_key=holder, aud=AUD, nonce=NONCE, iat=iat)

    def ours_verify() -> None:
        result = verify_credential(presentation, issuer.public_key(), now=iat, key_binding=policy)
        check_ld(result.claims["ld"])

    def ld_only() -> None:
        check_ld(disclosed_ld)

    disclosed_ld = verify_credential(presentation, issuer.public_key(), now=iat,
                                     key_binding=policy).claims["ld"]

    def theirs_verify() -> None:
        SDJWTVerifier(presentation, lambda _i, _h: issuer_jwk, expected_aud=AUD,
                      expected_nonce=NONCE).get_verified_payload()

    rows = [
        ("issue", _timeit(ours_issue, rounds // 4 or 1), _timeit(theirs_issue, rounds // 4 or 1)),
        ("verify (sig + disclosures + KB + VC + JSON-LD)", _timeit(ours_verify, rounds),
         _timeit(theirs_verify, rounds)),
        ("present (select + KB-JWT)", _timeit(ours_present, rounds), float("nan")),
        ("JSON-LD check alone", _timeit(ld_only, rounds * 5), float("nan")),
    ]
    print(f"credential: {len(issued)} bytes, {len(issued.split('~')) - 2} disclosures; "
          f"presentation: {len(presentation)} bytes, {len(presentation.split('~')) - 2} disclosed")
    print(f"{'operation':48} {'ours µs':>10} {'reference µs':>13} {'ratio':>7}")
    for name, ours, theirs in rows:
        ratio = ours / theirs if theirs == theirs else float("nan")
        print(f"{name:48} {ours:10.1f} {theirs:13.1f} {ratio:7.2f}")


if __name__ == "__main__":
    main()
