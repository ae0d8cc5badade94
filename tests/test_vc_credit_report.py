"""vc.credit_report: the typed model, grades, the assessment and the verifier's view.

Expectations come from domain.md (score range, grade bands, material default) and
from the brief's product contract (the assessment of the synthetic sample report).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.test_vc_credit_report_fixtures import (
    ISSUER,
    VALID_FROM,
    VALID_UNTIL,
    full_ld,
    report,
    report_json,
    shared_sample,
)
from vc.credit_report import (
    CREDENTIAL_TYPE,
    CREDIT_REPORT_CONTEXT_URL,
    GRADE_BANDS,
    GRADES,
    VCT,
    Assessment,
    CreditReport,
    InvalidCreditReport,
    PublicRecord,
    build_ld_claims,
    derive_assessment,
    grade_for_score,
    parse_ld_subject,
    without_sd_markers,
)
from vc.jsonld import CREDENTIALS_V2_URL, check_ld

#: the assessment of the synthetic sample, as the product brief states it
SAMPLE_ASSESSMENT = {
    "riskGrade": "B",
    "noMaterialDefault60m": True,
    "worstStatus24m": "1",
    "lateMonths24m": 1,
    "currentlyPastDue": False,
    "enquiries3m": 0,
    "totalLimit": 110000,
    "totalOutstanding": 110780,
    "utilisation": 0.257,
    "noPublicRecords": True,
}


# --- constants --------------------------------------------------------------------------------


def test_product_constants() -> None:
    assert CREDIT_REPORT_CONTEXT_URL == "https://w3id.org/selfcarry/credit-report/v1"
    assert VCT == "https://w3id.org/selfcarry/vct/hk-credit-report/v1"
    assert CREDENTIAL_TYPE == ("VerifiableCredential", "CreditReportCredential")


# --- grades (domain.md §0.1) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "low", "high"),
    [
        ("A", 3526, 4000),
        ("B", 3417, 3525),
        ("C", 3240, 3416),
        ("D", 3214, 3239),
        ("E", 3143, 3213),
        ("F", 3088, 3142),
    ],
)
def test_published_bands(grade: str, low: int, high: int) -> None:
    assert GRADE_BANDS[grade] == (low, high)
    assert grade_for_score(low) == grade_for_score(high) == grade


def test_bands_partition_the_whole_scale_in_grade_order() -> None:
    assert "".join(GRADE_BANDS) == GRADES == "ABCDEFGHIJ"
    assert GRADE_BANDS["J"][0] == 1000 and GRADE_BANDS["A"][1] == 4000
    ordered = list(GRADE_BANDS.values())
    for better, worse in itertools.pairwise(ordered):
        assert worse[1] + 1 == better[0]  # contiguous, no overlap, A highest
    # our G-J edges stay inside the brokers' combined bands "G-H" 2868-3087, "I-J" 1000-2867
    assert GRADE_BANDS["G"][1] == 3087 and GRADE_BANDS["H"][0] == 2868
    assert GRADE_BANDS["I"][1] == 2867 and GRADE_BANDS["J"][0] == 1000
    assert [grade_for_score(s) for s in range(1000, 4001)].count("B") == 3525 - 3417 + 1


@pytest.mark.parametrize("score", [999, 4001, -1, True, 3468.0, "3468"])
def test_grade_for_score_refuses_out_of_range(score: Any) -> None:
    with pytest.raises(InvalidCreditReport):
        grade_for_score(score)


# --- the CRA report shape ---------------------------------------------------------------------


def test_shared_sample_report_parses_and_matches_its_own_grade_band() -> None:
    sample = shared_sample()
    rep = CreditReport.from_report_json(sample)
    assert rep.identity.name_en.surname == "CHAN"
    assert rep.identity.hkid == "A123456(3)"
    assert rep.identity.birth_date == date(1988, 7, 14)
    assert rep.score.value == 3468 and rep.score.grade == "B"
    band = sample["credit_score"]["grade_band_used"]
    assert GRADE_BANDS[band["grade"]] == (band["min"], band["max"])
    assert grade_for_score(rep.score.value) == rep.score.grade
    assert [a.account_id for a in rep.accounts] == ["ACC-1", "ACC-2", "ACC-3", "ACC-4"]
    assert len(rep.enquiries) == 2 and rep.public_records == ()
    assert rep.meta.reference == "SYN-TU-2026-0000417"
    assert rep.meta.issued_at == datetime(
        2026, 3, 2, 10, 14, 25, tzinfo=timezone(timedelta(hours=8))
    )


def test_shared_sample_derives_the_briefs_assessment() -> None:
    rep = CreditReport.from_report_json(shared_sample())
    assert derive_assessment(rep).to_mapping() == SAMPLE_ASSESSMENT


def _subset(emitted: Any, original: Any, path: str = "") -> None:
    """Everything the model emits is in the original report, with the same value."""
    if isinstance(emitted, dict):
        assert isinstance(original, dict), path
        for key, value in emitted.items():
            assert key in original, f"{path}.{key}"
            _subset(value, original[key], f"{path}.{key}")
    elif isinstance(emitted, list):
        assert isinstance(original, list) and len(emitted) == len(original), path
        for i, (a, b) in enumerate(zip(emitted, original, strict=True)):
            _subset(a, b, f"{path}[{i}]")
    else:
        assert emitted == original, path


def test_shared_sample_round_trips_through_the_model() -> None:
    sample = shared_sample()
    rep = CreditReport.from_report_json(sample)
    emitted = rep.to_report_json()
    assert emitted["report_header"].pop("cra") == "transunion-hk"  # the sample names no CRA
    _subset(emitted, sample)
    assert CreditReport.from_report_json(emitted) == rep


def test_report_round_trips_and_keeps_public_records() -> None:
    rep = report()
    assert rep.public_records == (
        PublicRecord("judgment", date(2021, 5, 4), "satisfied", "Small Claims Tribunal", 12000),
    )
    assert rep.meta.consent_reference == "CONSENT-2026-03-02-0001"
    assert CreditReport.from_report_json(rep.to_report_json()) == rep
    assert derive_assessment(rep).no_public_records is False


def test_report_header_cra_wins_over_the_default() -> None:
    data = report_json()
    assert CreditReport.from_report_json(data).meta.cra == "transunion-hk"  # TU's scale
    assert CreditReport.from_report_json(data, cra="other-cra").meta.cra == "other-cra"
    data["report_header"]["cra"] = "nova-credit"
    rep = CreditReport.from_report_json(data, cra="other-cra")
    assert rep.meta.cra == "nova-credit"
    assert rep.score.scale == "1000-4000:A-J"


def _other_scale_report() -> dict[str, Any]:
    """A report of another CRA on its own (here fictional) 300-900 / N1-N7 scale."""
    data = report_json()
    data["credit_score"].update(
        {"score": 822, "grade": "N1", "score_range": {"min": 300, "max": 900}}
    )
    return data


def test_another_cras_scale() -> None:
    rep = CreditReport.from_report_json(_other_scale_report())
    assert rep.score.scale == "300-900" and rep.score.value == 822
    assert rep.meta.cra is None  # not TransUnion's scale and not named: left out
    assert CreditReport.from_report_json(rep.to_report_json()) == rep
    assessment = derive_assessment(rep)
    assert assessment.risk_grade == "N1"
    ld = without_sd_markers(
        build_ld_claims(
            rep, assessment, issuer=ISSUER, valid_from=VALID_FROM, valid_until=VALID_UNTIL
        )
    )
    check_ld(ld)
    assert "cra" not in ld["credentialSubject"]["report"]
    view = parse_ld_subject(ld["credentialSubject"])
    assert (view.score.value, view.score.grade, view.score.scale) == (822, "N1", "300-900")


@pytest.mark.parametrize(
    "change",
    [{"score": 950}, {"score": 299}, {"grade": "n1"}, {"score_range": {"min": 900, "max": 300}}],
)
def test_another_cras_scale_is_still_checked(change: dict[str, Any]) -> None:
    data = _other_scale_report()
    data["credit_score"].update(change)
    with pytest.raises(InvalidCreditReport):
        CreditReport.from_report_json(data)


def test_tu_risk_grade_must_be_a_tu_grade() -> None:
    rep = report()
    mapping = {**SAMPLE_ASSESSMENT, "riskGrade": "N1"}
    with pytest.raises(InvalidCreditReport):
        build_ld_claims(
            rep,
            Assessment.from_mapping(mapping),
            issuer=ISSUER,
            valid_from=VALID_FROM,
            valid_until=VALID_UNTIL,
        )


def _mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = report_json()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD_REPORTS = [
    (("personal_information", "hkid"), KeyError),
    (("personal_information", "date_of_birth"), "14/07/1988"),
    (("personal_information", "date_of_birth"), "1988-02-30"),
    (("personal_information", "name_en"), "CHAN Tai Man"),
    (("credit_score", "score"), 4001),
    (("credit_score", "score"), "3468"),
    (("credit_score", "grade"), "K"),
    (("report_header", "report_datetime"), "2026-03-02T10:14:25"),
    (("accounts", 0, "repayment_history_24m"), "00000"),
    (("accounts", 0, "repayment_history_24m"), "X" * 24),
    (("accounts", 0, "credit_limit"), -1),
    (("accounts", 0, "amount_past_due"), True),
    (("accounts", 1), "ACC-2"),
    (("enquiries", 0, "date"), None),
    (("public_records", "parking_fines"), []),
    (("public_records", "judgments", 0, "date"), KeyError),
    (("personal_information", "addresses", 0, "first_reported"), "2019-6"),
    (("summary", "material_default_last_60m"), "no"),
]


@pytest.mark.parametrize(("path", "value"), BAD_REPORTS, ids=[str(b[0]) for b in BAD_REPORTS])
def test_bad_report_json_is_refused_with_a_code(path: tuple[Any, ...], value: Any) -> None:
    with pytest.raises(InvalidCreditReport) as info:
        CreditReport.from_report_json(_mutate(path, value))
    assert info.value.code == "invalid_credit_report"


def test_not_a_report() -> None:
    for bad in (None, [], "report", {"report_header": {}}):
        with pytest.raises(InvalidCreditReport):
            CreditReport.from_report_json(bad)  # type: ignore[arg-type]


# --- the assessment ---------------------------------------------------------------------------


def test_assessment_from_and_to_mapping() -> None:
    assessment = Assessment.from_mapping(SAMPLE_ASSESSMENT)
    assert assessment.risk_grade == "B" and assessment.late_months_24m == 1
    assert assessment.to_mapping() == SAMPLE_ASSESSMENT
    assert tuple(SAMPLE_ASSESSMENT) == Assessment.KEYS


@pytest.mark.parametrize(
    "change",
    [
        {"riskGrade": ""},
        {"riskGrade": "b"},
        {"riskGrade": "A12345"},
        {"riskGrade": 2},
        {"noMaterialDefault60m": "true"},
        {"worstStatus24m": "9"},
        {"lateMonths24m": True},
        {"lateMonths24m": 25},
        {"enquiries3m": -1},
        {"totalLimit": 1.5},
        {"utilisation": "0.2"},
        {"utilisation": float("inf")},
        {"noPublicRecords": None},
        {"extra": 1},
    ],
)
def test_assessment_refuses_wrong_values_and_keys(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidCreditReport):
        Assessment.from_mapping({**SAMPLE_ASSESSMENT, **change})


def test_assessment_needs_every_key() -> None:
    for key in SAMPLE_ASSESSMENT:
        partial = {k: v for k, v in SAMPLE_ASSESSMENT.items() if k != key}
        with pytest.raises(InvalidCreditReport):
            Assessment.from_mapping(partial)


def test_derive_assessment_counts_late_months_and_defaults() -> None:
    data = report_json()
    data["accounts"][0]["repayment_history_24m"] = "000000000000000000300010"
    data["accounts"][0]["amount_past_due"] = 900
    data["accounts"][1]["repayment_history_24m"] = "000000001000000000000010"  # same last month
    del data["summary"]
    data["enquiries"][0]["date"] = "2026-01-15"  # within 3 months of the 2026-03-02 score
    derived = derive_assessment(CreditReport.from_report_json(data))
    assert derived.worst_status_24m == "3"
    assert derived.late_months_24m == 3  # months 9, 19 and 23
    assert derived.no_material_default_60m is False  # 60-89 days past due
    assert derived.currently_past_due is True
    assert derived.enquiries_3m == 1


# --- the ld body ------------------------------------------------------------------------------


def test_ld_frame() -> None:
    ld = full_ld()
    assert ld["@context"] == [CREDENTIALS_V2_URL, CREDIT_REPORT_CONTEXT_URL]
    assert ld["type"] == ["VerifiableCredential", "CreditReportCredential"]
    assert ld["issuer"] == ISSUER
    assert ld["validFrom"] == "2026-03-02T02:14:25Z"
    assert ld["validUntil"] == "2026-04-01T02:14:25Z"
    subject = ld["credentialSubject"]
    assert set(subject) == {
        "identity",
        "contact",
        "score",
        "assessment",
        "accounts",
        "enquiries",
        "publicRecords",
        "report",
    }
    assert subject["score"] == {
        "value": 3468,
        "grade": "B",
        "scoreDate": "2026-03-02",
        "scale": "1000-4000:A-J",
    }
    assert subject["report"]["permittedUse"] == "cross-boundary lending"
    assert subject["report"]["issuedAt"] == "2026-03-02T10:14:25+08:00"
    assert subject["accounts"][3]["facilityType"] == "residential_mortgage"
    assert "creditLimit" not in subject["accounts"][3]  # absent stays absent
    check_ld(ld)


def test_validity_times_are_normalised_to_utc_seconds() -> None:
    rep = report()
    hk = timezone(timedelta(hours=8))
    claims = without_sd_markers(
        build_ld_claims(
            rep,
            derive_assessment(rep),
            issuer=ISSUER,
            valid_from=datetime(2026, 3, 2, 10, 14, 25, 999, tzinfo=hk),
            valid_until=datetime(2026, 4, 1, 10, 14, 25, tzinfo=hk),
        )
    )
    assert claims["validFrom"] == "2026-03-02T02:14:25Z"
    assert claims["validUntil"] == "2026-04-01T02:14:25Z"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"issuer": "http://cra.example.com"},
        {"issuer": "cra.example.com"},
        {"valid_from": datetime(2026, 3, 2)},  # naive
        {"valid_until": VALID_FROM},
        {"valid_until": VALID_FROM - timedelta(seconds=1)},
    ],
)
def test_build_ld_claims_refuses_bad_frames(kwargs: dict[str, Any]) -> None:
    rep = report()
    args: dict[str, Any] = {"issuer": ISSUER, "valid_from": VALID_FROM, "valid_until": VALID_UNTIL}
    args.update(kwargs)
    with pytest.raises(InvalidCreditReport):
        build_ld_claims(rep, derive_assessment(rep), **args)


# --- the verifier's view ----------------------------------------------------------------------


def test_parse_full_subject_gives_back_the_model() -> None:
    rep = report()
    view = parse_ld_subject(full_ld()["credentialSubject"])
    assert view.identity.name_en == rep.identity.name_en
    assert view.identity.hkid == rep.identity.hkid
    assert view.identity.birth_date == rep.identity.birth_date
    assert view.contact.addresses == rep.addresses and view.contact.phones == rep.phones
    assert (view.score.value, view.score.grade, view.score.score_date) == (
        3468,
        "B",
        date(2026, 3, 2),
    )
    assert view.assessment.no_material_default_60m is True
    assert view.assessment.utilisation == 0.257
    assert view.accounts is not None and len(view.accounts) == 4
    assert view.accounts[2].instalments_remaining == 19
    assert view.accounts[2].credit_limit is None
    assert view.enquiries == rep.enquiries
    assert view.public_records == rep.public_records
    assert view.report.issued_at == rep.meta.issued_at
    assert view.report.consent_reference == "CONSENT-2026-03-02-0001"


def test_parse_partial_subject_none_means_not_disclosed() -> None:
    view = parse_ld_subject(
        {
            "identity": {"nameEn": {"surname": "CHAN", "givenNames": "Tai Man"}},
            "score": {"grade": "B", "scale": "1000-4000:A-J"},
            "assessment": {"noMaterialDefault60m": True},
            "contact": {},
            "report": {},
        }
    )
    assert view.score.grade == "B" and view.score.value is None
    assert view.identity.hkid is None and view.identity.name_en is not None
    assert view.assessment.no_material_default_60m is True
    assert view.assessment.currently_past_due is None
    assert view.accounts is None and view.enquiries is None and view.public_records is None
    empty = parse_ld_subject({})
    assert empty.score.grade is None and empty.contact.addresses is None


def test_parse_partial_account() -> None:
    view = parse_ld_subject({"accounts": [{"accountStatus": "open", "amountPastDue": 0}]})
    assert view.accounts is not None
    assert view.accounts[0].account_status == "open"
    assert view.accounts[0].account_id is None


TU = "1000-4000:A-J"
BAD_SUBJECTS = [
    {"score": {"value": 999, "scale": TU}},
    {"score": {"value": 4001, "scale": TU}},
    {"score": {"value": "3468", "scale": TU}},
    {"score": {"value": True, "scale": TU}},
    {"score": {"grade": "K", "scale": TU}},
    {"score": {"grade": "AB", "scale": TU}},
    {"score": {"grade": "B", "scale": TU, "rank": 1}},
    {"score": {"grade": "B"}},  # a grade without its scale
    {"score": {"value": 3468}},
    {"score": {"value": 901, "scale": "300-900"}},
    {"score": {"grade": "b", "scale": "300-900"}},
    {"score": {"scale": "1000-4000:A-Z"}},
    {"score": {"scale": "4000-1000"}},
    {"assessment": {"riskGrade": "z"}},
    {"assessment": {"lateMonths24m": 30}},
    {"accounts": [{"repaymentHistory24m": "0" * 23}]},
    {"accounts": [{"currency": ""}]},
    {"accounts": {"accountId": "ACC-1"}},
    {"contact": {"addresses": [{"addressType": "current"}]}},  # a whole unit, incomplete
    {"enquiries": [{"date": "2025-11-14"}]},
    {"publicRecords": [{"recordType": "judgment", "date": "2021-05-04"}]},
    {"identity": {"nameEn": {"surname": "CHAN"}}},
    {"identity": {"nameEn": {"surname": "CHAN", "givenNames": "Tai Man", "hkid": "A123456(3)"}}},
    {"identity": {"birthDate": "1988-7-14"}},
    {"report": {"issuedAt": "2026-03-02T10:14:25"}},
    {"bankruptcy": False},
    {"score": "B"},
]


@pytest.mark.parametrize("subject", BAD_SUBJECTS, ids=[str(s)[:60] for s in BAD_SUBJECTS])
def test_parse_refuses_bad_types_ranges_and_keys(subject: dict[str, Any]) -> None:
    with pytest.raises(InvalidCreditReport) as info:
        parse_ld_subject(subject)
    assert info.value.code == "invalid_credit_report"


def test_parse_ignores_nothing_check_ld_allows() -> None:
    # JSON-LD lets identity's scoped terms reach into nameEn; the typed view does not
    ld = full_ld()
    ld["credentialSubject"]["identity"]["nameEn"]["hkid"] = "A123456(3)"
    check_ld(ld)  # defined (cr:hkid), so the JSON-LD check passes
    with pytest.raises(InvalidCreditReport):
        parse_ld_subject(ld["credentialSubject"])


def test_timezone_aware_validity_required_by_parse() -> None:
    assert parse_ld_subject({"report": {"issuedAt": "2026-03-02T02:14:25Z"}}).report.issued_at == (
        datetime(2026, 3, 2, 2, 14, 25, tzinfo=UTC)
    )
