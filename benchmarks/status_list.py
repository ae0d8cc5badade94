"""Token Status List at herd-privacy sizes: encode/decode time and compressed size.

A CRA's list must be large (≥ 2^17 entries) so that fetching it reveals nothing
about which credential is being checked; this measures what that costs for lists
of 2^17 and 2^20 entries with about 1% of entries revoked, at 1 bit (revoked or
not) and 2 bits (revoked / suspended), plus the full signed-token round trip
(build + verify, ES256). For scale it also prints the size of the same 1-bit list
as a W3C Bitstring Status List (GZIP, MSB-first) — the other common format.

    python -m benchmarks.status_list [--rounds N] [--revoked 0.01]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from vc.jose import PrivateKey
from vc.status_list import (
    INVALID,
    SUSPENDED,
    StatusList,
    build_status_list_token,
    verify_status_list_token,
)

URI = "https://cra.example/statuslists/1"
NOW = 1_772_400_000


def _timeit(fn: Callable[[], Any], rounds: int) -> float:
    """Median milliseconds per call over 5 batches of ``rounds`` calls."""
    fn()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        samples.append((time.perf_counter() - start) / rounds * 1e3)
    return statistics.median(samples)


def _list(bits: int, size: int, revoked: float, rng: random.Random) -> StatusList:
    sl = StatusList(bits, size)
    for idx in rng.sample(range(size), int(size * revoked)):
        sl.set(idx, SUSPENDED if bits > 1 and rng.random() < 0.1 else INVALID)
    return sl


def _w3c_size(sl: StatusList) -> int:
    """Characters of the W3C ``encodedList`` for the same 1-bit statuses (MSB-first, GZIP)."""
    raw = sl.to_bytes()
    msb_first = bytes(int(f"{b:08b}"[::-1], 2) for b in raw)
    return 1 + len(base64.urlsafe_b64encode(gzip.compress(msb_first, 9)).rstrip(b"="))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--revoked", type=float, default=0.01)
    args = parser.parse_args()
    rng = random.Random(2026)
    key = PrivateKey.generate("ES256")
    pub = key.public_key()

    print(
        f"Token Status List, {args.revoked:.1%} of entries revoked (10% of those suspended "
        "at 2 bits); median of 5 batches"
    )
    header = (
        f"{'entries':>9} {'bits':>4} {'raw B':>8} {'lst chars':>10} {'token B':>8} "
        f"{'encode ms':>10} {'decode ms':>10} {'build ms':>9} {'verify ms':>10} {'W3C chars':>10}"
    )
    print(header)
    print("-" * len(header))
    for size in (2**17, 2**20):
        for bits in (1, 2):
            sl = _list(bits, size, args.revoked, rng)
            encoded = sl.encode()
            token = build_status_list_token(
                sl, sub=URI, iat=NOW, exp=NOW + 86400, ttl=3600, key=key, kid="k1"
            )
            assert StatusList.decode(encoded) == sl
            assert verify_status_list_token(token, key=pub, expected_sub=URI, now=NOW) == sl
            encode_ms = _timeit(sl.encode, args.rounds)
            decode_ms = _timeit(lambda enc=encoded: StatusList.decode(enc), args.rounds)
            build_ms = _timeit(
                lambda s=sl: build_status_list_token(
                    s, sub=URI, iat=NOW, exp=NOW + 86400, ttl=3600, key=key, kid="k1"
                ),
                args.rounds,
            )
            verify_ms = _timeit(
                lambda t=token: verify_status_list_token(t, key=pub, expected_sub=URI, now=NOW),
                args.rounds,
            )
            w3c = str(_w3c_size(sl)) if bits == 1 else "-"
            print(
                f"{size:>9} {bits:>4} {len(sl.to_bytes()):>8} {len(encoded['lst']):>10} "
                f"{len(token):>8} {encode_ms:>10.2f} {decode_ms:>10.2f} {build_ms:>9.2f} "
                f"{verify_ms:>10.2f} {w3c:>10}"
            )


if __name__ == "__main__":
    main()
