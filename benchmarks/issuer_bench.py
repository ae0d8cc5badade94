"""Issue-and-anchor throughput of the CRA simulator into the SQLite registry, one process.

Each credential: a synthetic report, its decision claims, the VCDM body with ~90
selectively disclosable units (and decoys), an ES256 SD-JWT VC, a status slot, the
anchor appended to the registry in batches, and its receipt.

    python -m benchmarks.issuer_bench [--count 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hash_registry.home import init_registry, open_log
from issuer_sim.cra import Cra
from issuer_sim.home import init_issuer
from vc.jose import PrivateKey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="issuer-bench-") as tmp:
        root = Path(tmp)
        init_registry(root / "reg")
        init_issuer(root / "cra", registry=str(root / "reg"), url="http://127.0.0.1:8701")
        with Cra(root / "cra") as cra:
            log = open_log(root / "reg")
            log.admit_issuer(cra.metadata())
            log.close()
            holder = PrivateKey.generate().public_key()
            cra.issue_batch([(0, holder)])  # warm-up
            start = time.perf_counter()
            done = 0
            sizes = []
            while done < args.count:
                n = min(args.batch, args.count - done)
                issued = cra.issue_batch([(done + i + 1, holder) for i in range(n)])
                sizes.append(len(issued[0].credential))
                done += n
            elapsed = time.perf_counter() - start
    print(f"issued and anchored {done} credentials in {elapsed:.1f} s: "
          f"{done / elapsed:,.0f} credentials/s (one process, batches of {args.batch}); "
          f"credential ≈ {sum(sizes) // len(sizes):,} bytes")


if __name__ == "__main__":
    main()
