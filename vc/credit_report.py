"""The Hong Kong credit report as a typed model, and as the credential's ``ld`` body.

One table (:data:`DISCLOSURE_UNITS`) decides what a resident can show separately;
:func:`build_ld_claims` marks exactly those units with :class:`vc.sdjwt.SD`, the type
metadata and ``docs/credit-report-vocabulary.md`` list exactly those, and tests hold the
three together. :func:`parse_ld_subject` is the verifier's way back: a typed, partial
view in which ``None`` means "not disclosed".

Amounts are whole units of the account's (or report's) currency, as the CRA reports them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Final, TypeVar

from .contexts import CREDENTIALS_V2_URL, CREDIT_REPORT_CONTEXT_URL
from .errors import VCError
from .jsonld import check_ld, parse_date_time_stamp
from .sdjwt import SD

__all__ = [
    "CREDENTIAL_TYPE",
    "CREDIT_REPORT_CONTEXT_URL",
    "DISCLOSURE_UNITS",
    "GRADES",
    "GRADE_BANDS",
    "LD_CONTEXT",
    "NEVER_DISCLOSABLE",
    "PERMITTED_USE",
    "REPAYMENT_STATUSES",
    "SCORE_MAX",
    "SCORE_MIN",
    "TU_SCALE",
    "VCT",
    "Account",
    "Address",
    "Assessment",
    "CreditReport",
    "DisclosedAccount",
    "DisclosedAssessment",
    "DisclosedContact",
    "DisclosedIdentity",
    "DisclosedReportMeta",
    "DisclosedScore",
    "DisclosedSubject",
    "Enquiry",
    "Identity",
    "InvalidCreditReport",
    "NameEn",
    "Phone",
    "PublicRecord",
    "ReportMeta",
    "Score",
    "ScoreScale",
    "Summary",
    "build_ld_claims",
    "derive_assessment",
    "grade_for_score",
    "parse_ld_subject",
    "without_sd_markers",
]

VCT: Final = "https://w3id.org/selfcarry/vct/hk-credit-report/v1"
CREDENTIAL_TYPE: Final = ("VerifiableCredential", "CreditReportCredential")
LD_CONTEXT: Final = (CREDENTIALS_V2_URL, CREDIT_REPORT_CONTEXT_URL)
PERMITTED_USE: Final = "cross-boundary lending"

SCORE_MIN: Final = 1000
SCORE_MAX: Final = 4000
GRADES: Final = "ABCDEFGHIJ"
#: Inclusive score bands. A-F: as published by HK lenders and brokers (domain.md §0.1).
#: G-J are OURS: TransUnion publishes no per-grade edges there, so we split the brokers'
#: combined bands "G-H" 2868-3087 and "I-J" 1000-2867 (G/H in half; I/J at 2300).
GRADE_BANDS: Final[Mapping[str, tuple[int, int]]] = {
    "A": (3526, 4000),
    "B": (3417, 3525),
    "C": (3240, 3416),
    "D": (3214, 3239),
    "E": (3143, 3213),
    "F": (3088, 3142),
    "G": (2978, 3087),
    "H": (2868, 2977),
    "I": (2300, 2867),
    "J": (1000, 2299),
}
#: Monthly repayment status codes of the report (project legend): 0 current, 1-7 thirty-day
#: steps of lateness (3 = 60-89 days: a material default), C closed, W written off, - no data.
REPAYMENT_STATUSES: Final = "01234567CW-"
_LATE_STATUSES: Final = frozenset("1234567W")
_STATUS_SEVERITY: Final = {s: i for i, s in enumerate("-C01234567W")}
_WORST_STATUSES: Final = frozenset("01234567W-")


class InvalidCreditReport(VCError):
    code = "invalid_credit_report"
    default_message = "the credit report does not have the expected shape or values"


def grade_for_score(score: int) -> str:
    """The A-J grade whose TransUnion band (see :data:`GRADE_BANDS`) holds ``score``."""
    if score.__class__ is not int or not SCORE_MIN <= score <= SCORE_MAX:
        raise InvalidCreditReport(f"score must be an integer {SCORE_MIN}-{SCORE_MAX}")
    for grade, (low, high) in GRADE_BANDS.items():
        if low <= score <= high:
            return grade
    raise AssertionError("the bands cover the whole range")  # pragma: no cover


@dataclass(frozen=True)
class ScoreScale:
    """The range (and, when known, the grades) a CRA scores on; ``score.scale`` names it.

    Since Credit Data Smart each CRA has its own, incomparable scale. TransUnion's is
    1000-4000 with grades A-J (label ``"1000-4000:A-J"``); for another scale a report
    gives its range (``credit_score.score_range``) and the label is ``"<min>-<max>"``.
    """

    low: int
    high: int
    grades: tuple[str, ...] | None = None  # best first; None: not known to this model

    @property
    def label(self) -> str:
        span = f"{self.low}-{self.high}"
        return f"{span}:A-J" if self.grades == tuple(GRADES) else span

    @classmethod
    def from_label(cls, label: object, where: str = "score.scale") -> ScoreScale:
        match = _SCALE_RE.fullmatch(label) if isinstance(label, str) else None
        if match is None:
            raise _bad(where, "a score scale like '1000-4000:A-J' or '300-900'")
        low, high = int(match.group(1)), int(match.group(2))
        if low >= high:
            raise _bad(where, "a range whose minimum is below its maximum")
        return cls(low, high, tuple(GRADES) if match.group(3) else None)

    def check(self, value: int | None, grade: str | None, where: str) -> None:
        """``value`` within the range, ``grade`` one of the grades (or grade-shaped)."""
        if value is not None and not self.low <= value <= self.high:
            raise _bad(f"{where}.value", f"a score in {self.low}-{self.high}")
        if grade is not None and self.grades is not None and grade not in self.grades:
            raise _bad(f"{where}.grade", f"one of the grades {'/'.join(self.grades)}")


#: TransUnion Hong Kong's published scale (domain.md §0.1); the default.
TU_SCALE: Final = ScoreScale(SCORE_MIN, SCORE_MAX, tuple(GRADES))
_SCALE_RE = re.compile(r"([0-9]{1,6})-([0-9]{1,6})(:A-J)?", re.ASCII)
_GRADE_RE = re.compile(r"[A-Z][A-Z0-9]{0,3}", re.ASCII)


# --- value converters (each: JSON value, where -> Python value, or InvalidCreditReport) ----

_MAX_TEXT: Final = 1024
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_YEAR_MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
_HISTORY_RE = re.compile(f"[{re.escape(REPAYMENT_STATUSES)}]{{24}}")

Conv = Callable[[Any, str], Any]


def _bad(where: str, what: str) -> InvalidCreditReport:
    return InvalidCreditReport(f"{where} must be {what}")


def _text(value: Any, where: str) -> str:
    if value.__class__ is not str or not 0 < len(value) <= _MAX_TEXT:
        raise _bad(where, f"a non-empty string of at most {_MAX_TEXT} characters")
    return str(value)


def _boolean(value: Any, where: str) -> bool:
    if value.__class__ is not bool:
        raise _bad(where, "true or false")
    return bool(value)


def _int_range(low: int | None = None, high: int | None = None) -> Conv:
    def convert(value: Any, where: str) -> int:
        if value.__class__ is not int:
            raise _bad(where, "an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise _bad(
                where,
                f"an integer in {low if low is not None else '…'}"
                f"-{high if high is not None else '…'}",
            )
        return int(value)

    return convert


_count = _int_range(0)
_amount = _int_range(0)
_signed_amount = _int_range()
_score_value = _int_range(0)  # the range is the scale's: see ScoreScale.check


def _ratio(value: Any, where: str) -> float:
    if value.__class__ not in (int, float) or not math.isfinite(value) or value < 0:
        raise _bad(where, "a finite number >= 0")
    return float(value)


def _grade(value: Any, where: str) -> str:
    """A grade token (``B``, ``N2``); which grades exist is the scale's business."""
    if value.__class__ is not str or not _GRADE_RE.fullmatch(value):
        raise _bad(where, "a grade: a capital letter and up to 3 more letters or digits")
    return str(value)


def _worst_status(value: Any, where: str) -> str:
    if value.__class__ is not str or len(value) != 1 or value not in _WORST_STATUSES:
        raise _bad(where, "a repayment status 0-7, W or -")
    return str(value)


def _history(value: Any, where: str) -> str:
    if value.__class__ is not str or not _HISTORY_RE.fullmatch(value):
        raise _bad(where, f"24 repayment status codes from {REPAYMENT_STATUSES!r}")
    return str(value)


def _day(value: Any, where: str) -> date:
    if value.__class__ is not str or not _DATE_RE.fullmatch(value):
        raise _bad(where, "a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(where, "a real calendar date") from None


def _year_month(value: Any, where: str) -> str:
    if value.__class__ is not str or not _YEAR_MONTH_RE.fullmatch(value):
        raise _bad(where, "a month YYYY-MM")
    return str(value)


def _instant(value: Any, where: str) -> datetime:
    parsed = parse_date_time_stamp(value)
    if parsed is None:
        raise _bad(where, "a date-time with a timezone")
    return parsed


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return _format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _format_instant(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        raise InvalidCreditReport("date-times must carry a timezone")
    if offset == timedelta(0):
        return (
            value.strftime("%Y-%m-%dT%H:%M:%S")
            + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
            + "Z"
        )
    return value.isoformat()


# --- field tables: one row per field, naming it in the report JSON and in the ld body -------


@dataclass(frozen=True)
class _F:
    attr: str
    ld: str
    report: str | None  # None: not in the CRA's report JSON under this name
    conv: Conv
    required: bool = True


T = TypeVar("T")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(where, "an object")
    return value


def _sequence(value: Any, where: str, limit: int = 256) -> Sequence[Any]:
    if not isinstance(value, list) or len(value) > limit:
        raise _bad(where, f"an array of at most {limit} items")
    return value


def _from_fields(
    cls: type[T],
    table: Sequence[_F],
    source: Any,
    where: str,
    *,
    side: str,
    partial: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> T:
    """Build ``cls`` from ``source`` through ``table`` (``side``: "ld" or "report").

    On the ld side unknown keys are refused (every disclosed key must mean something);
    the report side ignores the CRA's notes and fields we do not carry.
    """
    data = _mapping(source, where)
    kwargs: dict[str, Any] = dict(extra or {})
    for f in table:
        key = f.ld if side == "ld" else f.report
        if key is None:
            continue
        if key in data:
            kwargs[f.attr] = f.conv(data[key], f"{where}.{key}")
        elif f.required and not partial:
            raise InvalidCreditReport(f"{where}.{key} is missing")
        else:
            kwargs.setdefault(f.attr, None)
    if side == "ld":
        unknown = set(data) - {f.ld for f in table}
        if unknown:
            raise InvalidCreditReport(f"{where} has unexpected keys {sorted(unknown)}")
    return cls(**kwargs)


def _to_fields(obj: Any, table: Sequence[_F], *, side: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in table:
        key = f.ld if side == "ld" else f.report
        value = getattr(obj, f.attr)
        if key is not None and value is not None:
            out[key] = _dump(value)
    return out


# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameEn:
    surname: str
    given_names: str

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("surname", "surname", "surname", _text),
        _F("given_names", "givenNames", "given_names", _text),
    )


@dataclass(frozen=True)
class Identity:
    name_en: NameEn
    hkid: str
    birth_date: date
    name_zh: str | None = None
    gender: str | None = None


@dataclass(frozen=True)
class Address:
    address_type: str
    address: str
    first_reported: str | None = None  # YYYY-MM
    last_reported: str | None = None  # YYYY-MM

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("address_type", "addressType", "type", _text),
        _F("address", "address", "address", _text),
        _F("first_reported", "firstReported", "first_reported", _year_month, False),
        _F("last_reported", "lastReported", "last_reported", _year_month, False),
    )


@dataclass(frozen=True)
class Phone:
    phone_type: str
    number: str
    last_reported: str | None = None  # YYYY-MM

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("phone_type", "phoneType", "type", _text),
        _F("number", "number", "number", _text),
        _F("last_reported", "lastReported", "last_reported", _year_month, False),
    )


@dataclass(frozen=True)
class Score:
    value: int
    grade: str
    score_date: date
    scale: str

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("value", "value", "score", _score_value),
        _F("grade", "grade", "grade", _grade),
        _F("score_date", "scoreDate", "score_date", _day),
        _F("scale", "scale", None, _text),
    )

    def __post_init__(self) -> None:
        ScoreScale.from_label(self.scale).check(self.value, self.grade, "score")


@dataclass(frozen=True)
class Account:
    account_id: str
    credit_provider: str
    facility_type: str
    capacity: str
    currency: str
    date_opened: date
    current_balance: int
    amount_past_due: int
    account_status: str
    last_updated: date
    repayment_history_24m: str  # oldest month first
    account_number_masked: str | None = None
    credit_limit: int | None = None
    original_amount: int | None = None
    tenor_months: int | None = None
    instalment_amount: int | None = None
    instalments_remaining: int | None = None
    last_payment_date: date | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("account_id", "accountId", "account_id", _text),
        _F("credit_provider", "creditProvider", "credit_provider", _text),
        _F("facility_type", "facilityType", "facility_type", _text),
        _F("account_number_masked", "accountNumberMasked", "account_number_masked", _text, False),
        _F("capacity", "capacity", "capacity", _text),
        _F("currency", "currency", "currency", _text),
        _F("date_opened", "dateOpened", "date_opened", _day),
        _F("credit_limit", "creditLimit", "credit_limit", _amount, False),
        _F("original_amount", "originalAmount", "original_amount", _amount, False),
        _F("tenor_months", "tenorMonths", "tenor_months", _count, False),
        _F("instalment_amount", "instalmentAmount", "instalment_amount", _amount, False),
        _F("instalments_remaining", "instalmentsRemaining", "instalments_remaining", _count, False),
        _F("current_balance", "currentBalance", "current_balance", _signed_amount),
        _F("amount_past_due", "amountPastDue", "amount_past_due", _amount),
        _F("last_payment_date", "lastPaymentDate", "last_payment_date", _day, False),
        _F("account_status", "accountStatus", "account_status", _text),
        _F("last_updated", "lastUpdated", "last_updated", _day),
        _F("repayment_history_24m", "repaymentHistory24m", "repayment_history_24m", _history),
    )


@dataclass(frozen=True)
class Enquiry:
    date: date
    enquirer: str
    purpose: str
    facility_type: str
    counted_in_score: bool | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("date", "date", "date", _day),
        _F("enquirer", "enquirer", "enquirer", _text),
        _F("purpose", "purpose", "purpose", _text),
        _F("facility_type", "facilityType", "facility_type", _text),
        _F("counted_in_score", "countedInScore", "counted_in_score", _boolean, False),
    )


#: report JSON ``public_records`` section -> our ``recordType``
PUBLIC_RECORD_SECTIONS: Final[Mapping[str, str]] = {
    "litigation": "litigation",
    "judgments": "judgment",
    "bankruptcy": "bankruptcy",
    "individual_voluntary_arrangement": "individual_voluntary_arrangement",
}


@dataclass(frozen=True)
class PublicRecord:
    record_type: str  # litigation | judgment | bankruptcy | individual_voluntary_arrangement
    date: date
    status: str
    court: str | None = None
    amount: int | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("record_type", "recordType", None, _text),
        _F("date", "date", "date", _day),
        _F("court", "court", "court", _text, False),
        _F("amount", "amount", "amount", _amount, False),
        _F("status", "status", "status", _text),
    )


@dataclass(frozen=True)
class ReportMeta:
    reference: str
    issued_at: datetime
    cra: str | None = None  # short name, e.g. "transunion-hk"; the issuer URL is authoritative
    currency: str = "HKD"
    permitted_use: str = PERMITTED_USE
    consent_reference: str | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("reference", "reference", "report_reference", _text),
        _F("cra", "cra", "cra", _text, False),
        _F("issued_at", "issuedAt", "report_datetime", _instant),
        _F("permitted_use", "permittedUse", None, _text),
        _F("consent_reference", "consentReference", "consent_reference", _text, False),
    )


@dataclass(frozen=True)
class Summary:
    """The report's own summary section (used to derive the assessment; not in ``ld``)."""

    number_of_open_accounts: int
    number_of_closed_accounts: int
    total_revolving_credit_limit: int
    total_revolving_balance: int
    accounts_currently_past_due: int
    worst_status_last_24m: str
    material_default_last_60m: bool
    public_records_count: int
    bankruptcy_flag: bool
    number_of_mortgage_loans: int | None = None
    revolving_utilisation_ratio: float | None = None
    total_instalment_outstanding_excl_mortgage: int | None = None
    total_monthly_instalments_excl_mortgage: int | None = None
    enquiries_last_6m: int | None = None
    enquiries_last_12m: int | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("number_of_open_accounts", "", "number_of_open_accounts", _count),
        _F("number_of_closed_accounts", "", "number_of_closed_accounts", _count),
        _F("number_of_mortgage_loans", "", "number_of_mortgage_loans", _count, False),
        _F("total_revolving_credit_limit", "", "total_revolving_credit_limit", _amount),
        _F("total_revolving_balance", "", "total_revolving_balance", _signed_amount),
        _F("revolving_utilisation_ratio", "", "revolving_utilisation_ratio", _ratio, False),
        _F(
            "total_instalment_outstanding_excl_mortgage",
            "",
            "total_instalment_outstanding_excl_mortgage",
            _amount,
            False,
        ),
        _F(
            "total_monthly_instalments_excl_mortgage",
            "",
            "total_monthly_instalments_excl_mortgage",
            _amount,
            False,
        ),
        _F("accounts_currently_past_due", "", "accounts_currently_past_due", _count),
        _F("worst_status_last_24m", "", "worst_status_last_24m", _worst_status),
        _F("material_default_last_60m", "", "material_default_last_60m", _boolean),
        _F("enquiries_last_6m", "", "enquiries_last_6m", _count, False),
        _F("enquiries_last_12m", "", "enquiries_last_12m", _count, False),
        _F("public_records_count", "", "public_records_count", _count),
        _F("bankruptcy_flag", "", "bankruptcy_flag", _boolean),
    )


@dataclass(frozen=True)
class Assessment:
    """The issuer-attested decision claims a bank actually decides on (DESIGN.md)."""

    risk_grade: str
    no_material_default_60m: bool
    worst_status_24m: str
    late_months_24m: int
    currently_past_due: bool
    enquiries_3m: int
    total_limit: int
    total_outstanding: int
    utilisation: float
    no_public_records: bool

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("risk_grade", "riskGrade", None, _grade),
        _F("no_material_default_60m", "noMaterialDefault60m", None, _boolean),
        _F("worst_status_24m", "worstStatus24m", None, _worst_status),
        _F("late_months_24m", "lateMonths24m", None, _int_range(0, 24)),
        _F("currently_past_due", "currentlyPastDue", None, _boolean),
        _F("enquiries_3m", "enquiries3m", None, _count),
        _F("total_limit", "totalLimit", None, _amount),
        _F("total_outstanding", "totalOutstanding", None, _amount),
        _F("utilisation", "utilisation", None, _ratio),
        _F("no_public_records", "noPublicRecords", None, _boolean),
    )
    KEYS: ClassVar[tuple[str, ...]] = tuple(f.ld for f in FIELDS)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Assessment:
        """From a plain mapping with exactly the camelCase keys of :attr:`KEYS`."""
        data = _mapping(mapping, "assessment")
        missing = [k for k in cls.KEYS if k not in data]
        if missing:
            raise InvalidCreditReport(f"assessment is missing {missing}")
        return _from_fields(cls, cls.FIELDS, data, "assessment", side="ld")

    def to_mapping(self) -> dict[str, Any]:
        return _to_fields(self, self.FIELDS, side="ld")


@dataclass(frozen=True)
class CreditReport:
    identity: Identity
    addresses: tuple[Address, ...]
    phones: tuple[Phone, ...]
    score: Score
    accounts: tuple[Account, ...]
    enquiries: tuple[Enquiry, ...]
    public_records: tuple[PublicRecord, ...]
    meta: ReportMeta
    summary: Summary | None = None

    @classmethod
    def from_report_json(cls, report: Mapping[str, Any], *, cra: str | None = None) -> CreditReport:
        """Parse a CRA report in the shape of ``shared/samples/tu_report_synthetic.json``.

        The agency's short name comes from ``report_header.cra``, else from ``cra``, else
        it is ``transunion-hk`` when the score is on TransUnion's 1000-4000 scale (the
        sample's case), else it is left out. The score scale comes from
        ``credit_score.score_range`` (TransUnion's when absent).
        """
        doc = _mapping(report, "report")
        header = _mapping(doc.get("report_header"), "report_header")
        person = _mapping(doc.get("personal_information"), "personal_information")
        score_json = _mapping(doc.get("credit_score"), "credit_score")
        scale = _scale_from_report(score_json)
        if "cra" not in header and cra is None and scale == TU_SCALE:
            cra = "transunion-hk"
        meta = _from_fields(
            ReportMeta,
            ReportMeta.FIELDS,
            {"cra": cra, **header} if cra is not None else header,
            "report_header",
            side="report",
            extra={"currency": _text(header.get("currency", "HKD"), "report_header.currency")},
        )
        identity = Identity(
            name_en=_from_fields(
                NameEn,
                NameEn.FIELDS,
                person.get("name_en"),
                "personal_information.name_en",
                side="report",
            ),
            name_zh=_optional(person, "name_zh", _text, "personal_information"),
            hkid=_text(person.get("hkid"), "personal_information.hkid"),
            birth_date=_day(person.get("date_of_birth"), "personal_information.date_of_birth"),
            gender=_optional(person, "gender", _text, "personal_information"),
        )
        score = _from_fields(
            Score,
            Score.FIELDS,
            score_json,
            "credit_score",
            side="report",
            extra={"scale": scale.label},
        )
        records: list[PublicRecord] = []
        public = doc.get("public_records", {})
        for section, items in _mapping(public, "public_records").items():
            record_type = PUBLIC_RECORD_SECTIONS.get(section)
            if record_type is None:
                raise InvalidCreditReport(f"public_records.{section} is not a known section")
            for i, item in enumerate(_sequence(items, f"public_records.{section}")):
                records.append(
                    _from_fields(
                        PublicRecord,
                        PublicRecord.FIELDS,
                        item,
                        f"public_records.{section}[{i}]",
                        side="report",
                        extra={"record_type": record_type},
                    )
                )
        summary_json = doc.get("summary")
        return cls(
            identity=identity,
            addresses=_items(
                Address, person.get("addresses", []), "personal_information.addresses"
            ),
            phones=_items(Phone, person.get("phones", []), "personal_information.phones"),
            score=score,
            accounts=_items(Account, doc.get("accounts", []), "accounts"),
            enquiries=_items(Enquiry, doc.get("enquiries", []), "enquiries"),
            public_records=tuple(records),
            meta=meta,
            summary=None
            if summary_json is None
            else _from_fields(Summary, Summary.FIELDS, summary_json, "summary", side="report"),
        )

    def to_report_json(self) -> dict[str, Any]:
        """Back to the CRA report shape (only the fields this model carries)."""
        person: dict[str, Any] = {
            "name_en": _to_fields(self.identity.name_en, NameEn.FIELDS, side="report")
        }
        if self.identity.name_zh is not None:
            person["name_zh"] = self.identity.name_zh
        person["hkid"] = self.identity.hkid
        person["date_of_birth"] = self.identity.birth_date.isoformat()
        if self.identity.gender is not None:
            person["gender"] = self.identity.gender
        person["addresses"] = [_to_fields(a, Address.FIELDS, side="report") for a in self.addresses]
        person["phones"] = [_to_fields(p, Phone.FIELDS, side="report") for p in self.phones]
        header = _to_fields(self.meta, ReportMeta.FIELDS, side="report")
        header["currency"] = self.meta.currency
        public: dict[str, list[dict[str, Any]]] = {s: [] for s in PUBLIC_RECORD_SECTIONS}
        sections = {v: k for k, v in PUBLIC_RECORD_SECTIONS.items()}
        for record in self.public_records:
            public[sections[record.record_type]].append(
                _to_fields(record, PublicRecord.FIELDS, side="report")
            )
        out: dict[str, Any] = {
            "report_header": header,
            "personal_information": person,
            "credit_score": self._score_json(),
        }
        if self.summary is not None:
            out["summary"] = _to_fields(self.summary, Summary.FIELDS, side="report")
        out["accounts"] = [_to_fields(a, Account.FIELDS, side="report") for a in self.accounts]
        out["enquiries"] = [_to_fields(e, Enquiry.FIELDS, side="report") for e in self.enquiries]
        out["public_records"] = public
        return out

    def _score_json(self) -> dict[str, Any]:
        scale = ScoreScale.from_label(self.score.scale)
        out = _to_fields(self.score, Score.FIELDS, side="report")
        out["score_range"] = {"min": scale.low, "max": scale.high}
        return out

    def to_ld_subject(self, assessment: Assessment | None = None) -> dict[str, Any]:
        """The ``credentialSubject`` object (no disclosure markers), camelCase terms."""
        name_en = _to_fields(self.identity.name_en, NameEn.FIELDS, side="ld")
        identity: dict[str, Any] = {"nameEn": name_en}
        if self.identity.name_zh is not None:
            identity["nameZh"] = self.identity.name_zh
        identity["hkid"] = self.identity.hkid
        identity["birthDate"] = self.identity.birth_date.isoformat()
        if self.identity.gender is not None:
            identity["gender"] = self.identity.gender
        subject: dict[str, Any] = {
            "identity": identity,
            "contact": {
                "addresses": [_to_fields(a, Address.FIELDS, side="ld") for a in self.addresses],
                "phones": [_to_fields(p, Phone.FIELDS, side="ld") for p in self.phones],
            },
            "score": _to_fields(self.score, Score.FIELDS, side="ld"),
        }
        if assessment is not None:
            subject["assessment"] = assessment.to_mapping()
        subject["accounts"] = [_to_fields(a, Account.FIELDS, side="ld") for a in self.accounts]
        subject["enquiries"] = [_to_fields(e, Enquiry.FIELDS, side="ld") for e in self.enquiries]
        subject["publicRecords"] = [
            _to_fields(r, PublicRecord.FIELDS, side="ld") for r in self.public_records
        ]
        subject["report"] = _to_fields(self.meta, ReportMeta.FIELDS, side="ld")
        return subject


def _scale_from_report(score_json: Mapping[str, Any]) -> ScoreScale:
    """TransUnion's scale, unless the report states another ``score_range``."""
    score_range = score_json.get("score_range")
    if score_range is None:
        return TU_SCALE
    bounds = _mapping(score_range, "credit_score.score_range")
    low = _int_range(0)(bounds.get("min"), "credit_score.score_range.min")
    high = _int_range(0)(bounds.get("max"), "credit_score.score_range.max")
    if (low, high) == (TU_SCALE.low, TU_SCALE.high):
        return TU_SCALE
    return ScoreScale.from_label(f"{low}-{high}", "credit_score.score_range")


def _optional(data: Mapping[str, Any], key: str, conv: Conv, where: str) -> Any:
    return conv(data[key], f"{where}.{key}") if data.get(key) is not None else None


def _items(cls: type[T], value: Any, where: str) -> tuple[T, ...]:
    table: Sequence[_F] = cls.FIELDS  # type: ignore[attr-defined]
    return tuple(
        _from_fields(cls, table, item, f"{where}[{i}]", side="report")
        for i, item in enumerate(_sequence(value, where))
    )


# --- derived claims -----------------------------------------------------------------------


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def derive_assessment(report: CreditReport) -> Assessment:
    """The decision claims as this project computes them from a report.

    Revolving = credit cards; outstanding excludes mortgages (PMDS carries no reliable
    balances); a late month is one in which any account was 1+ days late or written off;
    material default is the report's own 60-month flag when it has one, otherwise any
    status 3+ or W in the 24 months we can see.
    """
    as_of = report.score.score_date
    revolving = [a for a in report.accounts if a.facility_type == "credit_card"]
    total_limit = sum(a.credit_limit or 0 for a in revolving)
    revolving_balance = sum(max(a.current_balance, 0) for a in revolving)
    outstanding = sum(
        max(a.current_balance, 0) for a in report.accounts if "mortgage" not in a.facility_type
    )
    late_months = {
        i
        for a in report.accounts
        for i, s in enumerate(a.repayment_history_24m)
        if s in _LATE_STATUSES
    }
    statuses = [s for a in report.accounts for s in a.repayment_history_24m]
    worst = max(statuses, key=_STATUS_SEVERITY.__getitem__, default="-")
    if worst == "C":
        worst = "0"
    material = (
        report.summary.material_default_last_60m
        if report.summary is not None
        else any(s in "34567W" for s in statuses)
    )
    cutoff = _months_before(as_of, 3)
    return Assessment(
        risk_grade=report.score.grade,
        no_material_default_60m=not material,
        worst_status_24m=worst,
        late_months_24m=len(late_months),
        currently_past_due=any(a.amount_past_due > 0 for a in report.accounts),
        enquiries_3m=sum(1 for e in report.enquiries if cutoff < e.date <= as_of),
        total_limit=total_limit,
        total_outstanding=outstanding,
        utilisation=round(revolving_balance / total_limit, 3) if total_limit else 0.0,
        no_public_records=not report.public_records,
    )


# --- what is separately disclosable -----------------------------------------------------------

Path = tuple[str | None, ...]  # claim path inside ``ld``; None = every element of an array
_CS = "credentialSubject"

#: Every selectively disclosable unit, as a claim path from the root of ``ld``.
DISCLOSURE_UNITS: Final[tuple[Path, ...]] = (
    *((_CS, "identity", k) for k in ("nameEn", "nameZh", "hkid", "birthDate", "gender")),
    (_CS, "contact", "addresses"),
    (_CS, "contact", "addresses", None),
    (_CS, "contact", "phones"),
    (_CS, "contact", "phones", None),
    *((_CS, "score", f.ld) for f in Score.FIELDS if f.ld != "scale"),
    *((_CS, "assessment", k) for k in Assessment.KEYS),
    (_CS, "accounts"),
    (_CS, "accounts", None),
    *((_CS, "accounts", None, f.ld) for f in Account.FIELDS),
    (_CS, "enquiries"),
    (_CS, "enquiries", None),
    (_CS, "publicRecords"),
    (_CS, "publicRecords", None),
    *((_CS, "report", f.ld) for f in ReportMeta.FIELDS),
)
#: Always shown: the VCDM frame and the group objects that hold the units above.
NEVER_DISCLOSABLE: Final[tuple[Path, ...]] = (
    ("@context",),
    ("type",),
    ("issuer",),
    ("validFrom",),
    ("validUntil",),
    (_CS,),
    *((_CS, group) for group in ("identity", "contact", "score", "assessment", "report")),
    (_CS, "score", "scale"),  # a score or grade means nothing without its scale
)
_UNITS: Final = frozenset(DISCLOSURE_UNITS)


def _mark(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            child = (*path, key)
            marked = _mark(item, child)
            out[SD(key) if child in _UNITS else key] = marked
        return out
    if isinstance(value, list):
        child = (*path, None)
        return [SD(_mark(item, child)) if child in _UNITS else _mark(item, child) for item in value]
    return value


def without_sd_markers(value: Any) -> Any:
    """The fully disclosed form of a marked claims tree (what a verifier sees if all is shown)."""
    if isinstance(value, SD):
        return without_sd_markers(value.value)
    if isinstance(value, dict):
        return {
            (k.value if isinstance(k, SD) else k): without_sd_markers(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_sd_markers(v) for v in value]
    return value


def _issuer_url_ok(issuer: str) -> bool:
    """https, or plain http on a loopback host (local demos and tests only)."""
    if issuer.startswith("https://"):
        return True
    host = issuer.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)[0]
    return issuer.startswith("http://") and host in ("127.0.0.1", "localhost", "[::1]")


def build_ld_claims(
    report: CreditReport,
    assessment: Assessment,
    *,
    issuer: str,
    valid_from: datetime,
    valid_until: datetime,
) -> dict[Any, Any]:
    """The ``ld`` claim, with :class:`~vc.sdjwt.SD` markers on every :data:`DISCLOSURE_UNITS`.

    The unmarked document is run through :func:`vc.jsonld.check_ld` first, so an issuer
    cannot produce a body that verifiers would reject.
    """
    if not isinstance(issuer, str) or not _issuer_url_ok(issuer):
        raise InvalidCreditReport("issuer must be an https URL (http only on loopback)")
    if valid_from.utcoffset() is None or valid_until.utcoffset() is None:
        raise InvalidCreditReport("validity times must carry a timezone")
    if valid_until <= valid_from:
        raise InvalidCreditReport("validUntil must be later than validFrom")
    scale = ScoreScale.from_label(report.score.scale)
    if scale.grades is not None and assessment.risk_grade not in scale.grades:
        raise InvalidCreditReport("assessment.riskGrade is not a grade of the report's scale")
    document: dict[str, Any] = {
        "@context": list(LD_CONTEXT),
        "type": list(CREDENTIAL_TYPE),
        "issuer": issuer,
        "validFrom": _format_instant(valid_from.astimezone(UTC).replace(microsecond=0)),
        "validUntil": _format_instant(valid_until.astimezone(UTC).replace(microsecond=0)),
        _CS: report.to_ld_subject(assessment),
    }
    check_ld(document)
    marked: dict[Any, Any] = _mark(document, ())
    return marked


# --- the verifier's typed, partial view -------------------------------------------------------


@dataclass(frozen=True)
class DisclosedIdentity:
    name_en: NameEn | None = None
    name_zh: str | None = None
    hkid: str | None = None
    birth_date: date | None = None
    gender: str | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F(
            "name_en",
            "nameEn",
            None,
            lambda v, w: _from_fields(NameEn, NameEn.FIELDS, v, w, side="ld"),
        ),
        _F("name_zh", "nameZh", None, _text),
        _F("hkid", "hkid", None, _text),
        _F("birth_date", "birthDate", None, _day),
        _F("gender", "gender", None, _text),
    )


def _ld_items(cls: type[T]) -> Conv:
    table: Sequence[_F] = cls.FIELDS  # type: ignore[attr-defined]

    def convert(value: Any, where: str) -> tuple[T, ...]:
        return tuple(
            _from_fields(cls, table, item, f"{where}.{i}", side="ld")
            for i, item in enumerate(_sequence(value, where))
        )

    return convert


@dataclass(frozen=True)
class DisclosedContact:
    addresses: tuple[Address, ...] | None = None
    phones: tuple[Phone, ...] | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("addresses", "addresses", None, _ld_items(Address)),
        _F("phones", "phones", None, _ld_items(Phone)),
    )


@dataclass(frozen=True)
class DisclosedScore:
    value: int | None = None
    grade: str | None = None
    score_date: date | None = None
    scale: str | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = Score.FIELDS

    def __post_init__(self) -> None:
        if self.scale is not None:
            ScoreScale.from_label(self.scale).check(self.value, self.grade, "score")
        elif self.value is not None or self.grade is not None:
            raise InvalidCreditReport("score.scale must accompany a score or a grade")


@dataclass(frozen=True)
class DisclosedAssessment:
    risk_grade: str | None = None
    no_material_default_60m: bool | None = None
    worst_status_24m: str | None = None
    late_months_24m: int | None = None
    currently_past_due: bool | None = None
    enquiries_3m: int | None = None
    total_limit: int | None = None
    total_outstanding: int | None = None
    utilisation: float | None = None
    no_public_records: bool | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = Assessment.FIELDS


@dataclass(frozen=True)
class DisclosedAccount:
    account_id: str | None = None
    credit_provider: str | None = None
    facility_type: str | None = None
    capacity: str | None = None
    currency: str | None = None
    date_opened: date | None = None
    current_balance: int | None = None
    amount_past_due: int | None = None
    account_status: str | None = None
    last_updated: date | None = None
    repayment_history_24m: str | None = None
    account_number_masked: str | None = None
    credit_limit: int | None = None
    original_amount: int | None = None
    tenor_months: int | None = None
    instalment_amount: int | None = None
    instalments_remaining: int | None = None
    last_payment_date: date | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = Account.FIELDS


@dataclass(frozen=True)
class DisclosedReportMeta:
    reference: str | None = None
    cra: str | None = None
    issued_at: datetime | None = None
    permitted_use: str | None = None
    consent_reference: str | None = None

    FIELDS: ClassVar[tuple[_F, ...]] = ReportMeta.FIELDS


def _partial(cls: type[T]) -> Conv:
    table: Sequence[_F] = cls.FIELDS  # type: ignore[attr-defined]

    def convert(value: Any, where: str) -> T:
        return _from_fields(cls, table, value, where, side="ld", partial=True)

    return convert


def _partial_items(cls: type[T]) -> Conv:
    one = _partial(cls)

    def convert(value: Any, where: str) -> tuple[T, ...]:
        return tuple(one(item, f"{where}.{i}") for i, item in enumerate(_sequence(value, where)))

    return convert


@dataclass(frozen=True)
class DisclosedSubject:
    """What a verifier learned. Groups are always present; ``None`` = not disclosed."""

    identity: DisclosedIdentity = DisclosedIdentity()
    contact: DisclosedContact = DisclosedContact()
    score: DisclosedScore = DisclosedScore()
    assessment: DisclosedAssessment = DisclosedAssessment()
    accounts: tuple[DisclosedAccount, ...] | None = None
    enquiries: tuple[Enquiry, ...] | None = None
    public_records: tuple[PublicRecord, ...] | None = None
    report: DisclosedReportMeta = DisclosedReportMeta()

    FIELDS: ClassVar[tuple[_F, ...]] = (
        _F("identity", "identity", None, _partial(DisclosedIdentity)),
        _F("contact", "contact", None, _partial(DisclosedContact)),
        _F("score", "score", None, _partial(DisclosedScore)),
        _F("assessment", "assessment", None, _partial(DisclosedAssessment)),
        _F("accounts", "accounts", None, _partial_items(DisclosedAccount)),
        _F("enquiries", "enquiries", None, _ld_items(Enquiry)),
        _F("public_records", "publicRecords", None, _ld_items(PublicRecord)),
        _F("report", "report", None, _partial(DisclosedReportMeta)),
    )


def parse_ld_subject(disclosed_subject: Mapping[str, Any]) -> DisclosedSubject:
    """A typed view of a disclosed ``credentialSubject``; refuses bad types, ranges and keys.

    Run it after :func:`vc.jsonld.check_ld`; it adds what a term table cannot say:
    score 1000-4000, grade A-J, 24-month histories, no keys outside their group.
    """
    data = _mapping(disclosed_subject, _CS)
    kwargs: dict[str, Any] = {}
    for f in DisclosedSubject.FIELDS:
        if f.ld in data:
            kwargs[f.attr] = f.conv(data[f.ld], f"{_CS}.{f.ld}")
    unknown = set(data) - {f.ld for f in DisclosedSubject.FIELDS}
    if unknown:
        raise InvalidCreditReport(f"{_CS} has unexpected keys {sorted(unknown)}")
    return DisclosedSubject(**kwargs)
