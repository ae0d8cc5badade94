"""The decision-claim definitions, checked on small hand-built reports."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from issuer_sim.assessment import (
    DECISION_CLAIMS,
    InvalidReport,
    add_months,
    assess,
    max_consecutive_late_months_24m,
    worst_status,
)

AS_OF = date(2026, 3, 2)
CLEAN = "0" * 24


def card(
    hist: str = CLEAN,
    *,
    limit: int = 50_000,
    balance: int = 10_000,
    past_due: int = 0,
    status: str = "open",
) -> dict[str, Any]:
    return {
        "facility_type": "credit_card",
        "credit_limit": limit,
        "current_balance": balance,
        "amount_past_due": past_due,
        "account_status": status,
        "repayment_history_24m": hist,
    }


def loan(
    hist: str = CLEAN, *, balance: int = 80_000, past_due: int = 0, status: str = "open"
) -> dict[str, Any]:
    return {
        "facility_type": "personal_instalment_loan",
        "original_amount": 150_000,
        "instalment_amount": 4_565,
        "current_balance": balance,
        "amount_past_due": past_due,
        "account_status": status,
        "repayment_history_24m": hist,
    }


def mortgage(hist: str = CLEAN, **extra: Any) -> dict[str, Any]:
    return {
        "facility_type": "residential_mortgage",
        "original_amount": 4_200_000,
        "amount_past_due": 0,
        "account_status": "open",
        "repayment_history_24m": hist,
        **extra,
    }


def enquiry(day: str, hard: bool = True) -> dict[str, Any]:
    return {
        "date": day,
        "enquirer": "Harbour Example Bank Limited",
        "purpose": "new application" if hard else "account review",
        "facility_type": "credit_card",
        "counted_in_score": hard,
    }


def build(
    accounts: list[dict[str, Any]] | None = None,
    enquiries: list[dict[str, Any]] | None = None,
    grade: str = "B",
    **records: list[dict[str, Any]],
) -> dict[str, Any]:
    public = {
        "litigation": [],
        "judgments": [],
        "bankruptcy": [],
        "individual_voluntary_arrangement": [],
    }
    public.update(records)
    return {
        "credit_score": {"score": 3468, "grade": grade},
        "accounts": accounts or [],
        "enquiries": enquiries or [],
        "public_records": public,
    }


def late_at(*months: int, code: str = "1") -> str:
    hist = list(CLEAN)
    for m in months:
        hist[m] = code
    return "".join(hist)


# --- keys --------------------------------------------------------------------------------


def test_exactly_the_decision_claims() -> None:
    claims = assess(build([card()]), as_of=AS_OF)
    assert (
        tuple(claims)
        == DECISION_CLAIMS
        == (
            "riskGrade",
            "noMaterialDefault60m",
            "worstStatus24m",
            "lateMonths24m",
            "currentlyPastDue",
            "enquiries3m",
            "totalLimit",
            "totalOutstanding",
            "utilisation",
            "noPublicRecords",
        )
    )
    types = {k: type(v) for k, v in claims.items()}
    assert types == {
        "riskGrade": str,
        "noMaterialDefault60m": bool,
        "worstStatus24m": str,
        "lateMonths24m": int,
        "currentlyPastDue": bool,
        "enquiries3m": int,
        "totalLimit": int,
        "totalOutstanding": int,
        "utilisation": float,
        "noPublicRecords": bool,
    }
    extended = assess(build([card()]), as_of=AS_OF, extended=True)
    assert list(extended) == [*DECISION_CLAIMS, "maxConsecutiveLateMonths24m"]


def test_a_spotless_file() -> None:
    r = build(
        [
            card(limit=80_000, balance=25_400),
            card(limit=30_000, balance=2_850),
            loan(),
            mortgage(current_balance=3_322_460),
        ],
        grade="A",
    )
    assert assess(r, as_of=AS_OF, extended=True) == {
        "riskGrade": "A",
        "noMaterialDefault60m": True,
        "worstStatus24m": "0",
        "lateMonths24m": 0,
        "currentlyPastDue": False,
        "enquiries3m": 0,
        "totalLimit": 110_000,
        "totalOutstanding": 25_400 + 2_850 + 80_000,  # the mortgage is not counted
        "utilisation": 0.257,  # 28 250 / 110 000 = 0.2568…
        "noPublicRecords": True,
        "maxConsecutiveLateMonths24m": 0,
    }


# --- worst status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ("0000", "0"),
        ("0120", "2"),
        ("0712", "7"),
        ("7W00", "W"),
        ("W", "W"),
        ("C---", "0"),  # closed / settled counts as paid as agreed
        ("-C-", "0"),
        ("----", "-"),
        ("", "-"),
        ("0C", "0"),
        ("1C", "1"),
    ],
)
def test_worst_status_ordering(codes: str, worst: str) -> None:
    assert worst_status(codes) == worst


def test_worst_status_over_accounts() -> None:
    r = build([card(late_at(3, code="2")), loan(late_at(20, code="1")), card("-" * 24)])
    assert assess(r, as_of=AS_OF)["worstStatus24m"] == "2"
    assert assess(build([]), as_of=AS_OF)["worstStatus24m"] == "-"  # no data at all
    assert assess(build([card("-" * 23 + "0")]), as_of=AS_OF)["worstStatus24m"] == "0"
    closed = "0" * 10 + "C" + "-" * 13
    assert assess(build([card(closed, status="closed")]), as_of=AS_OF)["worstStatus24m"] == "0"


# --- late months ------------------------------------------------------------------------------


def test_late_months_are_distinct_months_across_accounts() -> None:
    r = build(
        [
            card(late_at(2, 3, code="1")),
            loan(late_at(3, 10, code="2")),  # month 3 again: counted once
            card(late_at(23, code="1"), past_due=300),
        ]
    )
    claims = assess(r, as_of=AS_OF, extended=True)
    assert claims["lateMonths24m"] == 4  # months 2, 3, 10, 23
    assert claims["maxConsecutiveLateMonths24m"] == 2  # months 2-3


def test_consecutive_runs_span_accounts_and_write_offs_count_as_late() -> None:
    r = build([card(late_at(5, 6)), loan(late_at(7, code="3"))])
    assert max_consecutive_late_months_24m(r) == 3  # 5, 6 on one account, 7 on another
    written = "0" * 18 + "123WWW"
    claims = assess(
        build([card(written, status="written_off", balance=9, past_due=9)]),
        as_of=AS_OF,
        extended=True,
    )
    assert claims["lateMonths24m"] == 6
    assert claims["maxConsecutiveLateMonths24m"] == 6
    assert claims["worstStatus24m"] == "W"


def test_closed_and_no_data_months_are_not_late() -> None:
    r = build([card("--" + "0" * 10 + "C" + "-" * 11, status="closed", balance=0)])
    claims = assess(r, as_of=AS_OF, extended=True)
    assert claims["lateMonths24m"] == 0 and claims["maxConsecutiveLateMonths24m"] == 0


# --- past due ----------------------------------------------------------------------------------


def test_currently_past_due() -> None:
    assert not assess(build([card(), loan()]), as_of=AS_OF)["currentlyPastDue"]
    ongoing = build([card(), loan("0" * 22 + "12", past_due=9_130)])
    assert assess(ongoing, as_of=AS_OF)["currentlyPastDue"]
    written = build([card("W" * 24, status="written_off", balance=50_000, past_due=50_000)])
    assert assess(written, as_of=AS_OF)["currentlyPastDue"]  # an unpaid write-off is past due
    cured = build([card(late_at(5, 6, code="2"))])
    assert not assess(cured, as_of=AS_OF)["currentlyPastDue"]


# --- enquiries --------------------------------------------------------------------------------


def test_enquiries_within_three_calendar_months() -> None:
    r = build(
        enquiries=[
            enquiry("2026-03-02"),  # as_of itself: in
            enquiry("2026-03-03"),  # after as_of: out
            enquiry("2025-12-03"),  # the first day inside the window: in
            enquiry("2025-12-02"),  # exactly three months before: out
            enquiry("2025-11-30"),
            enquiry("2026-01-15", hard=False),  # soft (account review): out
            enquiry("2026-02-01"),
        ]
    )
    assert assess(r, as_of=AS_OF)["enquiries3m"] == 3


def test_enquiry_window_clamps_month_ends() -> None:
    r = build(enquiries=[enquiry("2026-02-28"), enquiry("2026-03-01")])
    assert assess(r, as_of=date(2026, 5, 31))["enquiries3m"] == 1  # 31 May - 3 months = 28 Feb
    assert add_months(date(2024, 5, 31), -3) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 2), -24) == date(2024, 3, 2)


# --- limits, balances, utilisation ---------------------------------------------------------------


def test_total_limit_is_open_revolving_limits_only() -> None:
    r = build(
        [
            card(limit=80_000, balance=40_000),
            card(limit=30_000, balance=0, status="closed", hist="0" * 10 + "C" + "-" * 13),
            card("W" * 24, limit=20_000, balance=21_000, past_due=21_000, status="written_off"),
            loan(balance=82_530),  # an instalment loan has no limit
            {**card(limit=15_000, balance=3_000), "facility_type": "revolving_loan"},
        ]
    )
    claims = assess(r, as_of=AS_OF)
    assert claims["totalLimit"] == 95_000
    assert claims["utilisation"] == round(43_000 / 95_000, 3) == 0.453
    assert claims["totalOutstanding"] == 40_000 + 21_000 + 82_530 + 3_000  # closed excluded


def test_utilisation_edges() -> None:
    assert assess(build([loan()]), as_of=AS_OF)["utilisation"] == 0.0  # no revolving limit
    assert assess(build([card(limit=10_000, balance=0)]), as_of=AS_OF)["utilisation"] == 0.0
    over = assess(build([card(limit=10_000, balance=10_500)]), as_of=AS_OF)
    assert over["utilisation"] == 1.05
    third = assess(build([card(limit=30_000, balance=10_000)]), as_of=AS_OF)
    assert third["utilisation"] == 0.333


def test_mortgages_are_outside_total_outstanding() -> None:
    """Positive mortgage data need not carry a balance, so no mortgage counts, with or without."""
    claims = assess(build([mortgage(), loan(balance=1_000)]), as_of=AS_OF)
    assert claims["totalOutstanding"] == 1_000
    with_balance = assess(build([mortgage(current_balance=2_000_000)]), as_of=AS_OF)
    assert with_balance["totalOutstanding"] == 0
    no_balance_loan = loan()
    del no_balance_loan["current_balance"]
    with pytest.raises(InvalidReport):
        assess(build([no_balance_loan]), as_of=AS_OF)


# --- material default within 60 months ----------------------------------------------------------


@pytest.mark.parametrize(
    ("hist", "status", "expected"),
    [
        (CLEAN, "open", True),
        (late_at(4, code="1"), "open", True),
        (late_at(4, 5, code="2"), "open", True),  # 30-59 days: not material
        ("0" * 10 + "123" + "0" * 11, "open", False),  # 60-89 days: material
        ("0" * 20 + "1234", "open", False),
        ("0" * 18 + "1234WW", "written_off", False),
        ("W" * 24, "written_off", False),
        (CLEAN, "written_off", False),  # written off before the 24 months: status still says so
        ("0" * 10 + "C" + "-" * 13, "closed", True),
    ],
)
def test_material_default_from_accounts(hist: str, status: str, expected: bool) -> None:
    r = build([card(hist, status=status)])
    assert assess(r, as_of=AS_OF)["noMaterialDefault60m"] is expected


def bankruptcy(order: str, status: str, discharge: str | None) -> dict[str, Any]:
    return {
        "case_number": "SYN-HCB 1234/2020",
        "court": "Court of First Instance",
        "petition_type": "debtor",
        "date": order,
        "status": status,
        "discharge_date": discharge,
    }


def iva(approved: str, status: str, completed: str | None) -> dict[str, Any]:
    return {
        "reference": "SYN-IVA-2020-0001",
        "date": approved,
        "nominee": "Example Nominee Services Limited",
        "status": status,
        "completion_date": completed,
    }


@pytest.mark.parametrize(
    ("records", "no_default"),
    [
        ({"bankruptcy": [bankruptcy("2024-01-10", "undischarged", None)]}, False),
        ({"bankruptcy": [bankruptcy("2014-01-10", "undischarged", None)]}, False),
        ({"bankruptcy": [bankruptcy("2019-01-10", "discharged", "2023-01-10")]}, False),
        ({"bankruptcy": [bankruptcy("2016-01-10", "discharged", "2021-03-02")]}, False),  # 60 m
        ({"bankruptcy": [bankruptcy("2016-01-10", "discharged", "2021-03-01")]}, True),
        ({"individual_voluntary_arrangement": [iva("2015-01-01", "in_force", None)]}, False),
        (
            {"individual_voluntary_arrangement": [iva("2022-06-01", "completed", "2025-06-01")]},
            False,
        ),
        (
            {"individual_voluntary_arrangement": [iva("2014-06-01", "completed", "2019-06-01")]},
            True,
        ),
        (
            {
                "judgments": [
                    {
                        "case_number": "SYN-DCCJ 1/2025",
                        "court": "District Court",
                        "date": "2025-05-01",
                        "creditor": "Harbour Example Bank Limited",
                        "amount": 90_000,
                        "status": "unsatisfied",
                        "satisfied_date": None,
                    }
                ]
            },
            True,  # a judgment is a public record, not by itself a >60-day default
        ),
    ],
)
def test_material_default_from_public_records(records: dict[str, Any], no_default: bool) -> None:
    claims = assess(build([card()], **records), as_of=AS_OF)
    assert claims["noMaterialDefault60m"] is no_default
    assert claims["noPublicRecords"] is False


def test_no_public_records() -> None:
    assert assess(build([card()]), as_of=AS_OF)["noPublicRecords"] is True
    lit = {"case_number": "SYN-DCCJ 2/2026", "status": "pending"}
    assert assess(build([card()], litigation=[lit]), as_of=AS_OF)["noPublicRecords"] is False


# --- malformed reports are named errors ----------------------------------------------------------


def _mutations() -> list[tuple[str, Any]]:
    def drop(path: tuple[Any, ...]) -> Any:
        def f(r: dict[str, Any]) -> None:
            target: Any = r
            for step in path[:-1]:
                target = target[step]
            del target[path[-1]]

        return f

    def put(path: tuple[Any, ...], value: Any) -> Any:
        def f(r: dict[str, Any]) -> None:
            target: Any = r
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value

        return f

    return [
        ("no accounts", drop(("accounts",))),
        ("accounts not a list", put(("accounts",), {"a": 1})),
        ("account not an object", put(("accounts", 0), "ACC-1")),
        ("short history", put(("accounts", 0, "repayment_history_24m"), "0" * 23)),
        ("bad code", put(("accounts", 0, "repayment_history_24m"), "0" * 23 + "X")),
        ("history not a string", put(("accounts", 0, "repayment_history_24m"), list(CLEAN))),
        ("past due as text", put(("accounts", 0, "amount_past_due"), "0")),
        ("past due bool", put(("accounts", 0, "amount_past_due"), False)),
        ("limit missing", drop(("accounts", 0, "credit_limit"))),
        ("status missing", drop(("accounts", 0, "account_status"))),
        ("no grade", drop(("credit_score", "grade"))),
        ("score not an object", put(("credit_score",), 3468)),
        ("no public records", drop(("public_records",))),
        ("no bankruptcy list", drop(("public_records", "bankruptcy"))),
        ("record not an object", put(("public_records", "judgments"), ["x"])),
        ("enquiries missing", drop(("enquiries",))),
        ("enquiry date bad", put(("enquiries", 0, "date"), "02/03/2026")),
        ("enquiry date missing", drop(("enquiries", 0, "date"))),
        ("enquiry flag missing", drop(("enquiries", 0, "counted_in_score"))),
        (
            "bankruptcy date bad",
            put(("public_records", "bankruptcy"), [bankruptcy("x", "discharged", "y")]),
        ),
    ]


@pytest.mark.parametrize(("name", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_reports_are_invalid_report(name: str, mutate: Any) -> None:
    r = copy.deepcopy(build([card()], enquiries=[enquiry("2026-01-01")]))
    mutate(r)
    with pytest.raises(InvalidReport) as exc:
        assess(r, as_of=AS_OF)
    assert exc.value.code == "invalid_report"


def test_not_a_report_and_not_a_date() -> None:
    for bad in (None, [], "report", 5):
        with pytest.raises(InvalidReport):
            assess(bad, as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(InvalidReport):
        assess(build([card()]), as_of="2026-03-02")  # type: ignore[arg-type]


def test_size_limits() -> None:
    with pytest.raises(InvalidReport) as exc:
        assess(build([card() for _ in range(501)]), as_of=AS_OF)
    assert exc.value.code == "report_too_large"
    with pytest.raises(InvalidReport) as exc:
        assess(build([card()], enquiries=[enquiry("2026-01-01")] * 1001), as_of=AS_OF)
    assert exc.value.code == "report_too_large"
