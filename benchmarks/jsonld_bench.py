"""How long a verifier spends on the JSON-LD check of one disclosed credit report.

Side by side, in one run: ``vc.jsonld.check_ld`` (compiled term tables, plain
Python walk) and pyld's full expansion with the same offline loader (the
reference processor, ``vc.jsonld.expand``). Both see the fully disclosed ``ld``
of a report shaped like the synthetic sample (4 accounts, 2 enquiries, …).

    python -m benchmarks.jsonld_bench [--json] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from vc.credit_report import (
    Account,
    Address,
    CreditReport,
    Enquiry,
    Identity,
    NameEn,
    Phone,
    PublicRecord,
    ReportMeta,
    Score,
    build_ld_claims,
    derive_assessment,
    without_sd_markers,
)
from vc.jsonld import check_ld, expand, explain


def _account(n: int, facility: str, **extra: Any) -> Account:
    return Account(
        account_id=f"ACC-{n}",
        credit_provider="Harbour Example Bank Limited",
        facility_type=facility,
        capacity="individual",
        currency="HKD",
        date_opened=date(2014 + n, 3, 18),
        current_balance=25400 * n,
        amount_past_due=0,
        account_status="open",
        last_updated=date(2026, 2, 28),
        repayment_history_24m="000000001000000000000000",
        account_number_masked=f"XXXX-XXXX-XXXX-48{n:02d}",
        last_payment_date=date(2026, 2, 11),
        **extra,
    )


def full_report_ld() -> dict[str, Any]:
    """The fully disclosed ``ld`` of a report like ``shared/samples/tu_report_synthetic.json``."""
    report = CreditReport(
        identity=Identity(
            NameEn("CHAN", "Tai Man"), "A123456(3)", date(1988, 7, 14), "陳大文", "M"
        ),
        addresses=(
            Address("current", "Flat 12B, Block 3, Example Garden, Sha Tin", "2019-06", "2026-02"),
            Address("previous", "Room 1507, Specimen Building, Mong Kok", "2012-09", "2019-05"),
        ),
        phones=(
            Phone("mobile", "+852 9123 4567", "2026-02"),
            Phone("home", "+852 2123 4567", "2021-11"),
        ),
        score=Score(3468, "B", date(2026, 3, 2), "1000-4000:A-J"),
        accounts=(
            _account(1, "credit_card", credit_limit=80000),
            _account(2, "credit_card", credit_limit=30000),
            _account(
                3,
                "personal_instalment_loan",
                original_amount=150000,
                tenor_months=36,
                instalment_amount=4565,
                instalments_remaining=19,
            ),
            _account(
                4,
                "residential_mortgage",
                original_amount=4200000,
                tenor_months=300,
                instalment_amount=18842,
            ),
        ),
        enquiries=(
            Enquiry(
                date(2025, 11, 14),
                "Pearl Delta Example Money Lender",
                "new application",
                "personal_instalment_loan",
                True,
            ),
            Enquiry(
                date(2025, 4, 3),
                "Lion Rock Example Finance",
                "new application",
                "credit_card",
                True,
            ),
        ),
        public_records=(
            PublicRecord("judgment", date(2021, 5, 4), "satisfied", "Small Claims Tribunal", 12000),
        ),
        meta=ReportMeta(
            "SYN-TU-2026-0000417",
            datetime(2026, 3, 2, 10, 14, 25, tzinfo=timezone(timedelta(hours=8))),
            cra="transunion-hk",
            consent_reference="CONSENT-0001",
        ),
    )
    valid_from = datetime(2026, 3, 2, 2, 14, 25, tzinfo=UTC)
    marked = build_ld_claims(
        report,
        derive_assessment(report),
        issuer="https://cra.example.com",
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=30),
    )
    document: dict[str, Any] = without_sd_markers(marked)
    return document


def measure(call: Callable[[], object], *, rounds: int, per_round: int) -> dict[str, float]:
    """Microseconds per call: the best and the median of ``rounds`` timed batches."""
    for _ in range(max(per_round // 10, 1)):
        call()  # warm-up: compile contexts, fill caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            call()
        samples.append((time.perf_counter() - start) / per_round * 1e6)
    return {"best_us": min(samples), "median_us": statistics.median(samples)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    document = full_report_ld()
    properties = len(explain(document))
    results = {
        "document": {"bytes": len(json.dumps(document).encode()), "properties": properties},
        "check_ld": measure(lambda: check_ld(document), rounds=args.rounds, per_round=2000),
        "pyld_expand_strict": measure(lambda: expand(document), rounds=args.rounds, per_round=20),
    }
    ratio = results["pyld_expand_strict"]["median_us"] / results["check_ld"]["median_us"]
    results["speedup_median"] = round(ratio, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    doc = results["document"]
    print(f"full credit-report ld: {doc['bytes']} bytes, {doc['properties']} properties")
    print(f"{'what':<32}{'best µs':>12}{'median µs':>12}")
    for name in ("check_ld", "pyld_expand_strict"):
        row = results[name]
        print(f"{name:<32}{row['best_us']:>12.1f}{row['median_us']:>12.1f}")
    print(f"check_ld is {ratio:.0f}x faster than pyld expansion (target: <= 100 µs per check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
