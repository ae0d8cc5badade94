"""`make bench`: every benchmark, one after the other, each printing its own table."""

from __future__ import annotations

import runpy
import sys

BENCHMARKS = [
    "benchmarks.vc_bench",
    "benchmarks.jsonld_bench",
    "benchmarks.status_list",
    "benchmarks.registry_bench",
    "benchmarks.issuer_bench",
    "benchmarks.verifier_bench",
    "benchmarks.verifier_service_bench",
    "benchmarks.qr_sizes",
    "benchmarks.wallet_unlock_bench",
    "benchmarks.wallet_tui_bench",
]


def main() -> None:
    only = sys.argv[1:]
    for name in BENCHMARKS:
        if only and not any(o in name for o in only):
            continue
        print(f"\n=== {name} ===", flush=True)
        sys.argv = [name]
        try:
            runpy.run_module(name, run_name="__main__")
        except ModuleNotFoundError as exc:
            print(f"(skipped: {exc})")
        except SystemExit:
            pass


if __name__ == "__main__":
    main()
