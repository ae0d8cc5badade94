"""Shared inputs for the vc.jsonld / vc.credit_report tests (no tests here).

``report_json()`` is a fictional report in the CRA report shape of
``shared/samples/tu_report_synthetic.json`` (same person and accounts), plus the
parts that sample leaves empty: a public record and a consent reference, so every
disclosure unit of the vocabulary occurs at least once.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vc.credit_report import CreditReport, build_ld_claims, derive_assessment, without_sd_markers

SHARED_SAMPLE = Path(__file__).resolve().parent / "vectors" / "samples"
SAMPLE_REPORT = SHARED_SAMPLE / "tu_report_synthetic.json"

ISSUER = "https://cra.example.com"
VALID_FROM = datetime(2026, 3, 2, 2, 14, 25, tzinfo=UTC)
VALID_UNTIL = VALID_FROM + timedelta(days=30)

_REPORT: dict[str, Any] = {
    "report_header": {
        "report_reference": "SYN-TU-2026-0000417",
        "report_datetime": "2026-03-02T10:14:25+08:00",
        "currency": "HKD",
        "consent_reference": "CONSENT-2026-03-02-0001",
    },
    "personal_information": {
        "name_en": {"surname": "CHAN", "given_names": "Tai Man"},
        "name_zh": "陳大文",
        "hkid": "A123456(3)",
        "date_of_birth": "1988-07-14",
        "gender": "M",
        "addresses": [
            {
                "type": "current",
                "address": "Flat 12B, Block 3, Example Garden, 88 Sample Road, Sha Tin",
                "first_reported": "2019-06",
                "last_reported": "2026-02",
            },
            {
                "type": "previous",
                "address": "Room 1507, 15/F, Specimen Building, Mong Kok",
                "first_reported": "2012-09",
                "last_reported": "2019-05",
            },
        ],
        "phones": [
            {"type": "mobile", "number": "+852 9123 4567", "last_reported": "2026-02"},
            {"type": "home", "number": "+852 2123 4567", "last_reported": "2021-11"},
        ],
    },
    "credit_score": {"score": 3468, "grade": "B", "score_date": "2026-03-02"},
    "summary": {
        "number_of_open_accounts": 4,
        "number_of_closed_accounts": 0,
        "number_of_mortgage_loans": 1,
        "total_revolving_credit_limit": 110000,
        "total_revolving_balance": 28250,
        "revolving_utilisation_ratio": 0.257,
        "total_instalment_outstanding_excl_mortgage": 82530,
        "total_monthly_instalments_excl_mortgage": 4565,
        "accounts_currently_past_due": 0,
        "worst_status_last_24m": "1",
        "material_default_last_60m": False,
        "enquiries_last_6m": 1,
        "enquiries_last_12m": 2,
        "public_records_count": 1,
        "bankruptcy_flag": False,
    },
    "accounts": [
        {
            "account_id": "ACC-1",
            "credit_provider": "Harbour Example Bank Limited",
            "facility_type": "credit_card",
            "account_number_masked": "XXXX-XXXX-XXXX-4821",
            "capacity": "individual",
            "currency": "HKD",
            "date_opened": "2014-03-18",
            "credit_limit": 80000,
            "current_balance": 25400,
            "amount_past_due": 0,
            "last_payment_date": "2026-02-11",
            "account_status": "open",
            "last_updated": "2026-02-28",
            "repayment_history_24m": "000000000000000000000000",
        },
        {
            "account_id": "ACC-2",
            "credit_provider": "Lion Rock Example Finance Limited",
            "facility_type": "credit_card",
            "account_number_masked": "XXXX-XXXX-XXXX-0937",
            "capacity": "individual",
            "currency": "HKD",
            "date_opened": "2017-08-02",
            "credit_limit": 30000,
            "current_balance": 2850,
            "amount_past_due": 0,
            "last_payment_date": "2026-02-05",
            "account_status": "open",
            "last_updated": "2026-02-28",
            "repayment_history_24m": "000000001000000000000000",
        },
        {
            "account_id": "ACC-3",
            "credit_provider": "Victoria Example Bank (Hong Kong) Limited",
            "facility_type": "personal_instalment_loan",
            "account_number_masked": "XXXXXX7710",
            "capacity": "individual",
            "currency": "HKD",
            "date_opened": "2024-09-10",
            "original_amount": 150000,
            "tenor_months": 36,
            "instalment_amount": 4565,
            "instalments_remaining": 19,
            "current_balance": 82530,
            "amount_past_due": 0,
            "account_status": "open",
            "last_updated": "2026-02-28",
            "repayment_history_24m": "------000000000000000000",
        },
        {
            "account_id": "ACC-4",
            "credit_provider": "Harbour Example Bank Limited",
            "facility_type": "residential_mortgage",
            "capacity": "borrower",
            "currency": "HKD",
            "date_opened": "2019-06-21",
            "original_amount": 4200000,
            "tenor_months": 300,
            "instalment_amount": 18842,
            "current_balance": 3322460,
            "amount_past_due": 0,
            "account_status": "open",
            "last_updated": "2026-02-28",
            "repayment_history_24m": "000000000000000000000000",
        },
    ],
    "enquiries": [
        {
            "date": "2025-11-14",
            "enquirer": "Pearl Delta Example Money Lender Limited",
            "purpose": "new application",
            "facility_type": "personal_instalment_loan",
            "counted_in_score": True,
        },
        {
            "date": "2025-04-03",
            "enquirer": "Lion Rock Example Finance Limited",
            "purpose": "new application",
            "facility_type": "credit_card",
            "counted_in_score": True,
        },
    ],
    "public_records": {
        "litigation": [],
        "judgments": [
            {
                "date": "2021-05-04",
                "court": "Small Claims Tribunal",
                "amount": 12000,
                "status": "satisfied",
            }
        ],
        "bankruptcy": [],
        "individual_voluntary_arrangement": [],
    },
}


def report_json() -> dict[str, Any]:
    """A fresh copy of the full fictional report (mutate it freely)."""
    return copy.deepcopy(_REPORT)


def report() -> CreditReport:
    return CreditReport.from_report_json(report_json())


def marked_ld() -> dict[Any, Any]:
    """The ``ld`` claim with its SD markers, as an issuer would hand it to the SD-JWT issuer."""
    rep = report()
    return build_ld_claims(
        rep, derive_assessment(rep), issuer=ISSUER, valid_from=VALID_FROM, valid_until=VALID_UNTIL
    )


def full_ld() -> dict[str, Any]:
    """The ``ld`` document as a verifier sees it when everything is disclosed."""
    document: dict[str, Any] = without_sd_markers(marked_ld())
    return document


def shared_sample() -> dict[str, Any]:
    """The project's synthetic sample report; skips (visibly) when ``shared/`` is absent."""
    if not SAMPLE_REPORT.is_file():
        pytest.skip(f"shared sample report not found at {SAMPLE_REPORT}")
    loaded: dict[str, Any] = json.loads(SAMPLE_REPORT.read_text(encoding="utf-8"))
    return loaded
