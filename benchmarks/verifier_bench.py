"""The bank's full `Verifier.verify` against the reference implementation's bare SD-JWT verify,
in one run, on the same presentations; then where our time goes, check by check.

Ours does everything a bank decision needs: size and syntax, issuer trust, issuer key
admitted on the registry, signature + disclosures + KB-JWT + SD-JWT VC rules, single-use
nonce (SQLite, written), registry anchor (stapled receipt: cosigned checkpoint, inclusion
proof, consistency with the last checkpoint seen, and a revocation lookup), status list
(stapled token), JSON-LD terms, the DCQL re-check, the lending policy, and the recorded
result. Theirs (``sd-jwt`` on PyPI): ``SDJWTVerifier(presentation, cb_get_issuer_key,
expected_aud, expected_nonce).get_verified_payload()`` — signature, disclosures, KB-JWT.

Every verify consumes its request's nonce, so N requests and presentations are made up
front and each is verified once by each side (theirs does not consume nonces).

    python -m benchmarks.verifier_bench [--count N] [--status stapled|cached]
                                        [--nonce-store URL]

What stays per call, by design: the two ES256 signature checks (credential, KB-JWT), the
durable nonce consumption and result record (two committed, fsync'd SQLite transactions
by default), the registry's online revocation lookup, and every check. What is done once
per exact artefact: a checkpoint note's signatures, a tree head's consistency, a stapled
status token's signature and decoding (its time window is re-checked on every use).
"""

from __future__ import annotations

import argparse
import gc
import json
import secrets
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra
from issuer_sim.home import init_issuer
from vc import dcql
from vc.jose import PrivateKey
from vc.presentation_response import PresentationResponse, Staple
from vc.sdjwt import HolderCredential
from verifier import verify as verify_module
from verifier.home import add_issuer, add_registry, identity, init_verifier
from verifier.request import PresentationRequest
from verifier.verify import Verifier

CRA_URL = "http://127.0.0.1:8701"
BANK_ID = "https://bank.shenzhen.example"
TARGET = 0.6


def _world(root: Path) -> Cra:
    init_registry(root / "reg")
    init_issuer(root / "cra", registry=str(root / "reg"), url=CRA_URL)
    cra = Cra(root / "cra")
    init_verifier(root / "bank", client_id=BANK_ID, name="Bench Bank")
    log = open_log(root / "reg")
    try:
        log.admit_issuer(cra.metadata())
        log.admit_verifier(identity(root / "bank"))
        keys = log.keys_document()
    finally:
        log.close()
    add_issuer(root / "bank", cra.metadata(), "TransUnion HK (simulated)")
    add_registry(root / "bank", keys, str(root / "reg"))
    return cra


def _present(wallet: HolderCredential, holder: PrivateKey, request: PresentationRequest) -> str:
    matches = dcql.match(request.dcql_query, [("c", wallet.claims["vct"], wallet.claims)])
    return wallet.present([list(p) for p in matches[0].required], holder_key=holder,
                          aud=request.client_id, nonce=request.nonce, iat=int(time.time()))


class _TimedStore:
    """The nonce store, with ``record_result`` timed (benchmark instrumentation)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def record_result(self, request_id: str, result_json: str) -> None:
        start = time.perf_counter()
        self._store.record_result(request_id, result_json)
        _TimedRun.totals["(after the checks) result record"].append(
            time.perf_counter() - start)


class _TimedRun(verify_module._Run):
    """The verifier's check runner, timing each named check (benchmark instrumentation)."""

    totals: ClassVar[dict[str, list[float]]] = defaultdict(list)

    @contextmanager
    def check(self, name: str, ok_detail: str = "ok") -> Iterator[list[str]]:
        start = time.perf_counter()
        with super().check(name, ok_detail) as detail:
            yield detail
        _TimedRun.totals[name].append(time.perf_counter() - start)


def _per_op(fn: Callable[[int], Any], first: int, stop: int) -> float:
    """µs per call of ``fn(i)`` over ``first <= i < stop``."""
    gc.collect()
    start = time.perf_counter()
    for i in range(first, stop):
        fn(i)
    return (time.perf_counter() - start) / (stop - first) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="presentations per side")
    parser.add_argument("--status", choices=("stapled", "cached"), default="stapled",
                        help="stapled status token, or none stapled and a warm status cache")
    parser.add_argument("--nonce-store", help="postgresql://… or redis://… (default: the "
                        "bank's SQLite file, WAL, synchronous=FULL)")
    args = parser.parse_args()
    count = args.count

    with tempfile.TemporaryDirectory(prefix="verifier-bench-") as tmp:
        root = Path(tmp)
        cra = _world(root)
        holder = PrivateKey.generate()
        issued = cra.issue(7, holder.public_key())
        wallet = HolderCredential.from_issuance(issued.credential)
        receipt = json.loads(issued.receipt.to_json())
        token = cra.status_list_token()
        cra_jwk = JWK(**cra.key.public_key().to_jwk())

        overrides: dict[str, Any] = {}
        if args.nonce_store:
            from verifier.nonce_store import open_nonce_store

            overrides["nonce_store"] = open_nonce_store(
                args.nonce_store, schema=f"bench_{secrets.token_hex(4)}",
                prefix=f"bench:{secrets.token_hex(4)}:")
        with Verifier.from_home(root / "bank", **overrides) as verifier:
            if args.status == "cached":  # a warm cache: the token the status URI would serve
                from vc.status_list import read_status_list_token

                parsed = read_status_list_token(token, key=cra.key.public_key(),
                                                expected_sub=cra.config.status_uri,
                                                now=int(time.time()), expected_iss=cra.issuer_id)
                verifier.status._cache[cra.config.status_uri] = (int(time.time()), parsed)
            staple = Staple(receipt, token if args.status == "stapled" else None)
            warm = 20
            requests = [verifier.create_request() for _ in range(count + warm)]
            texts = [_present(wallet, holder, r) for r in requests]
            responses = [PresentationResponse({"credit_report": [t]}, r.state,
                                              {"credit_report": [staple]})
                         for r, t in zip(requests, texts, strict=True)]

            def ours(i: int) -> None:
                result = verifier.verify(responses[i], request=requests[i])
                if not result.verified:
                    raise SystemExit(f"our verify refused the presentation: {result.reason}: "
                                     f"{result.message}")

            def theirs(i: int) -> None:
                SDJWTVerifier(texts[i], lambda _iss, _hdr: cra_jwk, BANK_ID,
                              requests[i].nonce).get_verified_payload()

            for i in range(count, count + warm):  # warm both (caches, imports, JIT-less paths)
                theirs(i)
                ours(i)
            samples_ours, samples_theirs = [], []
            chunk = max(1, count // 5)
            for first in range(0, count, chunk):  # interleaved, so load drift hits both
                stop = min(count, first + chunk)
                samples_theirs.append(_per_op(theirs, first, stop))
                samples_ours.append(_per_op(ours, first, stop))
            t_ours, t_theirs = statistics.median(samples_ours), statistics.median(samples_theirs)

            # breakdown: a separate pass with each check timed
            breakdown_requests = [verifier.create_request() for _ in range(min(count, 100))]
            breakdown = [(r, PresentationResponse(
                {"credit_report": [_present(wallet, holder, r)]}, r.state,
                {"credit_report": [staple]})) for r in breakdown_requests]
            original, store = verify_module._Run, verifier.nonce_store
            verify_module._Run = _TimedRun  # type: ignore[misc]
            verifier.nonce_store = _TimedStore(store)
            try:
                start = time.perf_counter()
                for request, response in breakdown:
                    assert verifier.verify(response, request=request).verified
                total = (time.perf_counter() - start) / len(breakdown) * 1e6
            finally:
                verify_module._Run = original  # type: ignore[misc]
                verifier.nonce_store = store
        cra.close()

    print(f"presentation: {len(texts[0])} bytes, {texts[0].count('~') - 1} disclosures; "
          f"{count} presentations per side; status {args.status}; nonce store "
          f"{args.nonce_store.split('://')[0] if args.nonce_store else 'sqlite'}")
    print(f"{'verify':58} {'µs/op':>10}")
    print(f"{'ours: Verifier.verify (everything)':58} {t_ours:10.1f}")
    print(f"{'reference: SDJWTVerifier(...).get_verified_payload()':58} {t_theirs:10.1f}")
    ratio = t_ours / t_theirs
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"ratio ours/theirs: {ratio:.2f}  ({verdict} the target ≤ {TARGET})")
    print(f"\nwhere our time goes ({len(breakdown)} verifies, each check timed, µs/op):")
    accounted = 0.0
    for name, times in _TimedRun.totals.items():
        us = sum(times) / len(times) * 1e6
        accounted += us
        print(f"  {name:40} {us:8.1f}  {us / total:6.1%}")
    rest = total - accounted
    print(f"  {'(rest) lending policy, result JSON':40} {rest:8.1f}  {rest / total:6.1%}")
    print(f"  {'total':40} {total:8.1f}")


if __name__ == "__main__":
    main()
