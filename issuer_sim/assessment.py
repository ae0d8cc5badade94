"""Issuer-attested decision claims: what a bank decides on, computed by the CRA.

A resident can disclose "grade B, no material default" without showing a single
account; for that to mean anything the CRA must compute these predicates from
the report with fixed, published definitions. This module is those definitions.
The report generator uses the same functions for its ``summary`` block, so the
summary and the decision claims can never disagree.

=========================== ======= =====================================================
claim                       type    definition
=========================== ======= =====================================================
riskGrade                   str     ``credit_score.grade``: the CRA's own grade on its own
                                    scale (grades of different CRAs are not comparable).
noMaterialDefault60m        bool    ``False`` if any of: a 24-month history code 3..7 or W
                                    (≥ 60 days past due, or written off); an account whose
                                    ``account_status`` is ``written_off``; a bankruptcy
                                    ordered, or discharged, within 60 months before
                                    ``as_of`` or still undischarged; an IVA approved or
                                    completed within 60 months or still in force.
                                    Otherwise ``True``. See "Older data" below.
worstStatus24m              str     The worst repayment code over every account's
                                    24-month history, ordered 0<1<…<7<W. ``C`` (closed /
                                    settled) counts as ``0``; ``-`` (no data) is not a
                                    status; ``"-"`` when no account has a status month.
lateMonths24m               int     Number of distinct months of the 24 in which at least
                                    one account has code 1..7 or W.
maxConsecutiveLateMonths24m int     Longest run of consecutive such months (the mainland
                                    "连三累六" rule reads this with ``lateMonths24m``).
                                    Only with ``assess(..., extended=True)``.
currentlyPastDue            bool    Some account has ``amount_past_due`` > 0 (open or
                                    written off — an unpaid written-off debt is past due).
enquiries3m                 int     Hard enquiries (``counted_in_score`` true) dated after
                                    ``as_of`` minus 3 calendar months and up to ``as_of``
                                    (a soft enquiry — an account review — is not counted).
totalLimit                  int     HKD: sum of ``credit_limit`` of *open revolving*
                                    facilities (credit cards, revolving loans, overdrafts).
                                    Instalment loans and mortgages have no limit; their
                                    original amounts are not counted.
totalOutstanding            int     HKD: sum of ``current_balance`` of every account that is
                                    not closed (open and written off), *excluding
                                    mortgages*: positive mortgage data need not carry a
                                    balance, so including them would make the claim depend
                                    on an optional field.
utilisation                 float   Open revolving balance / open revolving limit, rounded
                                    to 3 decimals; ``0.0`` when there is no revolving limit.
noPublicRecords             bool    Litigation, judgments, bankruptcy and IVA lists are all
                                    empty.
=========================== ======= =====================================================

Older data (months 25–60). A report carries only 24 months of history per
account, so a delinquency that was cured more than 24 months ago is invisible to
``noMaterialDefault60m``. Material defaults that matter stay visible, because a
CRA keeps a defaulted account for up to five years after settlement (or
discharge from bankruptcy): the account keeps its ``written_off`` status, and
bankruptcy and IVA records carry their own dates. ``True`` therefore means "no
evidence of a material default in the histories, account statuses and public
records", which is the strongest statement the report supports.

The 24 months are the report's own window (the months before its report date);
``as_of`` anchors only the date-based windows (enquiries, public records).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from .profiles import ReportError

__all__ = [
    "DECISION_CLAIMS",
    "HISTORY_CODES",
    "HISTORY_MONTHS",
    "REVOLVING_TYPES",
    "STATUS_ORDER",
    "InvalidReport",
    "accounts_currently_past_due",
    "add_months",
    "assess",
    "currently_past_due",
    "hard_enquiries_within",
    "late_month_flags",
    "late_months_24m",
    "material_default_60m",
    "max_consecutive_late_months_24m",
    "public_records_count",
    "revolving_totals",
    "status_rank",
    "total_outstanding",
    "utilisation",
    "worst_status",
    "worst_status_24m",
]

HISTORY_MONTHS = 24
STATUS_ORDER = "01234567W"  # worst last
HISTORY_CODES = frozenset(STATUS_ORDER + "C-")
REVOLVING_TYPES = frozenset({"credit_card", "revolving_loan", "overdraft"})
MORTGAGE_TYPES = frozenset({"residential_mortgage", "non_residential_mortgage"})
PUBLIC_RECORD_KINDS = ("litigation", "judgments", "bankruptcy", "individual_voluntary_arrangement")
MATERIAL_DEFAULT_MONTHS = 60
DECISION_CLAIMS = (
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
EXTENDED_CLAIMS = ("maxConsecutiveLateMonths24m",)
MAX_ACCOUNTS = 500
MAX_ENQUIRIES = 1000
MAX_RECORDS = 200


class InvalidReport(ReportError):
    code = "invalid_report"
    default_message = "the credit report does not have the expected shape"


# --- small helpers ------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole calendar months, the day clamped to the target month's length."""
    y, m0 = divmod(d.year * 12 + (d.month - 1) + months, 12)
    return date(y, m0 + 1, min(d.day, calendar.monthrange(y, m0 + 1)[1]))


def status_rank(code: str) -> int | None:
    """Position of a repayment code in 0<1<…<7<W; ``None`` for ``C`` and ``-``."""
    pos = STATUS_ORDER.find(code) if len(code) == 1 else -1
    return pos if pos >= 0 else None


def worst_status(codes: Iterable[str]) -> str:
    """The worst status among ``codes`` (``C``, settled, counts as ``0``); ``"-"`` if none."""
    best = -1
    for code in codes:
        rank = 0 if code == "C" else status_rank(code)
        if rank is not None and rank > best:
            best = rank
    return STATUS_ORDER[best] if best >= 0 else "-"


def _is_late(code: str) -> bool:
    rank = status_rank(code)
    return rank is not None and rank >= 1


# --- reading the report defensively -----------------------------------------------------


def _obj(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        raise InvalidReport(f"{key} must be an object")
    return value


def _list(parent: Mapping[str, Any], key: str, limit: int) -> Sequence[Any]:
    value = parent.get(key)
    if not isinstance(value, list):
        raise InvalidReport(f"{key} must be a list")
    if len(value) > limit:
        raise InvalidReport(f"{key} has more than {limit} entries", code="report_too_large")
    return value


def _int(parent: Mapping[str, Any], key: str, *, default: int | None = None) -> int:
    value = parent.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidReport(f"{key} must be an integer")
    return value


def _date(value: object, what: str) -> date:
    if not isinstance(value, str):
        raise InvalidReport(f"{what} must be an ISO date string")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InvalidReport(f"{what} is not an ISO date") from exc


def _report(report: object) -> Mapping[str, Any]:
    if not isinstance(report, Mapping):
        raise InvalidReport("a credit report must be a JSON object")
    return report


def _accounts(report: object) -> list[Mapping[str, Any]]:
    accounts = _list(_report(report), "accounts", MAX_ACCOUNTS)
    for acc in accounts:
        if not isinstance(acc, Mapping):
            raise InvalidReport("every account must be an object")
    return list(accounts)


def _history(account: Mapping[str, Any]) -> str:
    hist = account.get("repayment_history_24m")
    if not isinstance(hist, str) or len(hist) != HISTORY_MONTHS or not set(hist) <= HISTORY_CODES:
        raise InvalidReport(
            f"repayment_history_24m must be {HISTORY_MONTHS} codes from {''.join(STATUS_ORDER)}C-"
        )
    return hist


def _status(account: Mapping[str, Any]) -> str:
    status = account.get("account_status")
    if not isinstance(status, str) or not status:
        raise InvalidReport("account_status must be a non-empty string")
    return status


def _is_revolving(account: Mapping[str, Any]) -> bool:
    return account.get("facility_type") in REVOLVING_TYPES


# --- the definitions ---------------------------------------------------------------------


def late_month_flags(report: object) -> list[bool]:
    """For each of the 24 months (oldest first): was any account late (code 1..7 or W)?"""
    flags = [False] * HISTORY_MONTHS
    for acc in _accounts(report):
        for i, code in enumerate(_history(acc)):
            if _is_late(code):
                flags[i] = True
    return flags


def late_months_24m(report: object) -> int:
    return sum(late_month_flags(report))


def max_consecutive_late_months_24m(report: object) -> int:
    best = run = 0
    for late in late_month_flags(report):
        run = run + 1 if late else 0
        best = max(best, run)
    return best


def worst_status_24m(report: object) -> str:
    return worst_status("".join(_history(acc) for acc in _accounts(report)))


def accounts_currently_past_due(report: object) -> int:
    return sum(1 for acc in _accounts(report) if _int(acc, "amount_past_due", default=0) > 0)


def currently_past_due(report: object) -> bool:
    return accounts_currently_past_due(report) > 0


def revolving_totals(report: object) -> tuple[int, int]:
    """``(limit, balance)`` over open revolving facilities."""
    limit = balance = 0
    for acc in _accounts(report):
        if _is_revolving(acc) and _status(acc) == "open":
            limit += _int(acc, "credit_limit")
            balance += _int(acc, "current_balance")
    return limit, balance


def utilisation(report: object) -> float:
    limit, balance = revolving_totals(report)
    return round(balance / limit, 3) if limit > 0 else 0.0


def total_outstanding(report: object) -> int:
    """Balances of every account not closed, mortgages excluded (see the module doc)."""
    total = 0
    for acc in _accounts(report):
        if _status(acc) == "closed" or acc.get("facility_type") in MORTGAGE_TYPES:
            continue
        total += _int(acc, "current_balance")
    return total


def hard_enquiries_within(report: object, *, as_of: date, months: int) -> int:
    """Hard enquiries (``counted_in_score``) dated after ``as_of - months`` and up to ``as_of``."""
    start, end = add_months(as_of, -months), as_of
    count = 0
    for enq in _list(_report(report), "enquiries", MAX_ENQUIRIES):
        if not isinstance(enq, Mapping):
            raise InvalidReport("every enquiry must be an object")
        counted = enq.get("counted_in_score")
        if not isinstance(counted, bool):
            raise InvalidReport("enquiry counted_in_score must be a boolean")
        if counted and start < _date(enq.get("date"), "enquiry date") <= end:
            count += 1
    return count


def _records(report: object) -> Mapping[str, Sequence[Any]]:
    section = _obj(_report(report), "public_records")
    out: dict[str, Sequence[Any]] = {}
    for kind in PUBLIC_RECORD_KINDS:
        records = _list(section, kind, MAX_RECORDS)
        if not all(isinstance(r, Mapping) for r in records):
            raise InvalidReport(f"every {kind} record must be an object")
        out[kind] = records
    return out


def public_records_count(report: object) -> int:
    return sum(len(v) for v in _records(report).values())


def _recent(value: object, what: str, since: date) -> bool:
    return value is not None and _date(value, what) >= since


def material_default_60m(report: object, *, as_of: date) -> bool:
    """``True`` when the report shows a material default within 60 months (see module doc)."""
    for acc in _accounts(report):
        if _status(acc) == "written_off":
            return True
        if any((status_rank(c) or 0) >= 3 for c in _history(acc)):
            return True
    since = add_months(as_of, -MATERIAL_DEFAULT_MONTHS)
    records = _records(report)
    for rec in records["bankruptcy"]:
        if rec.get("status") != "discharged":
            return True
        if _recent(rec.get("date"), "bankruptcy date", since) or _recent(
            rec.get("discharge_date"), "bankruptcy discharge_date", since
        ):
            return True
    for rec in records["individual_voluntary_arrangement"]:
        if rec.get("status") != "completed":
            return True
        if _recent(rec.get("date"), "IVA date", since) or _recent(
            rec.get("completion_date"), "IVA completion_date", since
        ):
            return True
    return False


def assess(report: dict[str, Any], *, as_of: date, extended: bool = False) -> dict[str, Any]:
    """The decision claims of ``report`` as of ``as_of`` (keys: :data:`DECISION_CLAIMS`).

    With ``extended=True`` also ``maxConsecutiveLateMonths24m``. Raises
    :class:`InvalidReport` (code ``invalid_report``) when the report is malformed.
    """
    if not isinstance(as_of, date):
        raise InvalidReport("as_of must be a date")
    grade = _obj(_report(report), "credit_score").get("grade")
    if not isinstance(grade, str) or not grade:
        raise InvalidReport("credit_score.grade must be a non-empty string")
    limit, _balance = revolving_totals(report)
    claims: dict[str, Any] = {
        "riskGrade": grade,
        "noMaterialDefault60m": not material_default_60m(report, as_of=as_of),
        "worstStatus24m": worst_status_24m(report),
        "lateMonths24m": late_months_24m(report),
        "currentlyPastDue": currently_past_due(report),
        "enquiries3m": hard_enquiries_within(report, as_of=as_of, months=3),
        "totalLimit": limit,
        "totalOutstanding": total_outstanding(report),
        "utilisation": utilisation(report),
        "noPublicRecords": public_records_count(report) == 0,
    }
    if extended:
        claims["maxConsecutiveLateMonths24m"] = max_consecutive_late_months_24m(report)
    return claims
