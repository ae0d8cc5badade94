"""Synthetic credit reports: HKID, shape, determinism, internal consistency, coverage."""

from __future__ import annotations

import collections
import itertools
import json
import random
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from issuer_sim.assessment import (
    HISTORY_CODES,
    add_months,
    assess,
    late_months_24m,
    status_rank,
    worst_status,
)
from issuer_sim.errors import IssuerError
from issuer_sim.profiles import PROFILES, ReportError, UnknownProfile, get_profile
from issuer_sim.reports import (
    DEFAULT_AS_OF,
    REPAYMENT_STATUS_LEGEND,
    format_hkid,
    generate_hkid,
    generate_report,
    hkid_check_digit,
    is_valid_hkid,
    summarise,
)
from vc.credit_report import GRADE_BANDS as TU_GRADE_BANDS

SAMPLE = Path(__file__).resolve().parent / "vectors" / "samples" / "tu_report_synthetic.json"

# The sample's shape (samples/tu_report_synthetic.json), key order included.
TOP_KEYS = [
    "_synthetic_notice", "schema_version", "report_header", "personal_information",
    "credit_score", "summary", "repayment_status_legend", "accounts", "enquiries",
    "public_records", "consumer_statements", "alerts",
]  # fmt: skip
HEADER_KEYS = [
    "report_type", "bureau_style", "operating_model", "report_reference", "enquiry_datetime",
    "report_datetime", "purpose_of_access", "language", "currency",
]  # fmt: skip
PERSON_KEYS = [
    "name_en", "name_zh", "hkid", "other_id_documents", "date_of_birth", "gender", "addresses",
    "phones",
]  # fmt: skip
SCORE_KEYS = [
    "score", "score_range", "grade", "grade_scale", "grade_band_used", "score_date",
    "key_factors",
]  # fmt: skip
SUMMARY_KEYS = [
    "number_of_open_accounts", "number_of_closed_accounts", "number_of_mortgage_loans",
    "total_revolving_credit_limit", "total_revolving_balance", "revolving_utilisation_ratio",
    "total_instalment_outstanding_excl_mortgage", "total_monthly_instalments_excl_mortgage",
    "accounts_currently_past_due", "worst_status_last_24m", "worst_status_last_24m_text",
    "material_default_last_60m", "enquiries_last_6m", "enquiries_last_12m",
    "public_records_count", "bankruptcy_flag",
]  # fmt: skip
ACCOUNT_KEYS = {
    "credit_card": [
        "account_id", "credit_provider", "facility_type", "account_number_masked", "capacity",
        "currency", "date_opened", "credit_limit", "current_balance", "amount_past_due",
        "last_payment_date", "account_status", "last_updated", "repayment_history_24m",
        "repayment_history_months",
    ],
    "personal_instalment_loan": [
        "account_id", "credit_provider", "facility_type", "account_number_masked", "capacity",
        "currency", "date_opened", "original_amount", "tenor_months", "instalment_amount",
        "instalments_remaining", "current_balance", "amount_past_due", "account_status",
        "last_updated", "repayment_history_24m", "repayment_history_months",
    ],
    "residential_mortgage": [
        "account_id", "credit_provider", "facility_type", "capacity", "currency", "date_opened",
        "positive_mortgage_data_note", "original_amount", "tenor_months", "instalment_amount",
        "current_balance", "amount_past_due", "account_status", "last_updated",
        "repayment_history_24m", "repayment_history_months",
    ],
}  # fmt: skip
ENQUIRY_KEYS = ["date", "enquirer", "purpose", "facility_type", "counted_in_score"]
RECORD_KEYS = ["litigation", "judgments", "bankruptcy", "individual_voluntary_arrangement"]
DISTRICTS = (
    "Central|Sheung Wan|Wan Chai|Causeway Bay|North Point|Quarry Bay|Shau Kei Wan|Chai Wan|"
    "Aberdeen|Ap Lei Chau|Kennedy Town|Happy Valley|Mong Kok|Yau Ma Tei|Tsim Sha Tsui|"
    "Sham Shui Po|Cheung Sha Wan|Kowloon City|To Kwa Wan|Hung Hom|Kwun Tong|Lam Tin|"
    "Wong Tai Sin|Diamond Hill|Kowloon Bay|Lai Chi Kok|Sha Tin|Ma On Shan|Tai Po|Fanling|"
    "Sheung Shui|Yuen Long|Tin Shui Wai|Tuen Mun|Tsuen Wan|Kwai Chung|Tsing Yi|Tseung Kwan O|"
    "Sai Kung|Tung Chung"
)
ADDRESS_RE = re.compile(rf", ({DISTRICTS}), (Kowloon, |New Territories, )?Hong Kong$")
AS_OF = DEFAULT_AS_OF


@cache
def report(seed: int, profile: str = "transunion-hk", as_of: date = AS_OF) -> dict[str, Any]:
    return generate_report(seed, profile=profile, as_of=as_of)


# --- HKID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hkid", "valid"),
    [
        ("A123456(3)", True),  # the specimen number
        ("A1234563", True),
        ("AB987654(3)", True),  # 10·9+11·8+9·7+8·6+7·5+6·4+5·3+4·2 = 371 ≡ 8 → 3
        ("G123456(A)", True),  # 36·9+16·8+… = 529 ≡ 1 → 10 → A
        ("A123452(0)", True),  # 473 ≡ 0 → 11 → 0
        ("A123456(4)", False),
        ("AB987654(4)", False),
        ("G123456(0)", False),
        ("a123456(3)", False),
        ("ABC123456(3)", False),
        ("A12345(3)", False),
        ("A1234567(3)", False),
        ("A123456(3", False),
        ("A123456)3(", False),
        ("A123456(B)", False),
        ("", False),
        (None, False),
        (1234563, False),
    ],
)
def test_hkid_validator(hkid: object, valid: bool) -> None:
    assert is_valid_hkid(hkid) is valid


def test_hkid_check_digit_and_format() -> None:
    assert hkid_check_digit("A", "123456") == "3"
    assert hkid_check_digit("AB", "987654") == "3"
    assert format_hkid("G", "123456") == "G123456(A)"
    for bad in (("", "123456"), ("ABC", "123456"), ("A", "12345"), ("a", "123456")):
        with pytest.raises(ReportError) as exc:
            hkid_check_digit(*bad)
        assert exc.value.code == "invalid_hkid"


def test_generated_hkids_are_valid_with_one_and_two_letter_prefixes() -> None:
    rng = random.Random(7)
    ids = [generate_hkid(rng) for _ in range(3000)]
    assert all(is_valid_hkid(i) for i in ids)
    prefixes = {re.match(r"[A-Z]+", i).group(0) for i in ids}  # type: ignore[union-attr]
    assert any(len(p) == 2 for p in prefixes) and any(len(p) == 1 for p in prefixes)
    assert {i[-2] for i in ids} >= set("0123456789A")  # every check value occurs


# --- shape ------------------------------------------------------------------------------


def _check_shape(r: dict[str, Any]) -> None:
    assert list(r) == TOP_KEYS
    assert list(r["report_header"]) == HEADER_KEYS
    assert list(r["personal_information"]) == PERSON_KEYS
    assert list(r["credit_score"]) == SCORE_KEYS
    assert list(r["summary"]) == SUMMARY_KEYS
    assert r["repayment_status_legend"] == REPAYMENT_STATUS_LEGEND
    assert list(r["public_records"]) == RECORD_KEYS
    assert list(r["personal_information"]["name_en"]) == ["surname", "given_names"]
    assert list(r["credit_score"]["score_range"]) == ["min", "max"]
    assert list(r["credit_score"]["grade_band_used"]) == ["grade", "min", "max", "source_note"]
    for acc in r["accounts"]:
        assert list(acc) == ACCOUNT_KEYS[acc["facility_type"]]
    for enq in r["enquiries"]:
        assert list(enq) == ENQUIRY_KEYS
    for kf in r["credit_score"]["key_factors"]:
        assert list(kf) == ["code", "text"]
    json.dumps(r, ensure_ascii=False)  # plain JSON types only


def test_shape_matches_the_sample_key_for_key() -> None:
    for seed in range(200):
        _check_shape(report(seed))
    _check_shape(report(3, "nova-credit-hk"))


def test_expected_shape_is_the_shared_sample() -> None:
    if not SAMPLE.exists():
        pytest.skip(f"shared sample not present at {SAMPLE}")
    sample = json.loads(SAMPLE.read_text("utf-8"))
    _check_shape(sample)
    assert sample["repayment_status_legend"] == REPAYMENT_STATUS_LEGEND
    assert sample["schema_version"] == report(0)["schema_version"]


def test_the_sample_summary_is_reproduced_by_the_definitions() -> None:
    """Our summary definitions, applied to the hand-written sample, give its own summary."""
    if not SAMPLE.exists():
        pytest.skip(f"shared sample not present at {SAMPLE}")
    sample = json.loads(SAMPLE.read_text("utf-8"))
    assert summarise(sample, as_of=date(2026, 3, 2)) == sample["summary"]


# --- determinism ----------------------------------------------------------------------------


def test_deterministic_per_seed_profile_and_as_of() -> None:
    for seed in (0, 1, 42, -5, 2**40):
        a = generate_report(seed)
        b = generate_report(seed, profile="transunion-hk", as_of=DEFAULT_AS_OF)
        assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)
    assert generate_report(1) != generate_report(2)
    assert generate_report(1) != generate_report(1, as_of=date(2027, 6, 15))


def test_no_global_random_state_is_used_or_disturbed() -> None:
    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    random.seed(1234)
    generate_report(99)
    assert [random.random() for _ in range(3)] == expected
    random.seed(1)
    a = generate_report(5)
    random.seed(2)
    assert generate_report(5) == a


def test_default_as_of_is_fixed_not_today() -> None:
    assert DEFAULT_AS_OF == date(2026, 3, 2)
    r = generate_report(8)
    assert r["credit_score"]["score_date"] == "2026-03-02"
    assert r["report_header"]["enquiry_datetime"].startswith("2026-03-02T")


def test_as_of_moves_every_window() -> None:
    as_of = date(2030, 1, 15)
    r = generate_report(11, as_of=as_of)
    assert r["credit_score"]["score_date"] == "2030-01-15"
    assert r["report_header"]["report_reference"].startswith("SYN-TU-2030-")
    for acc in r["accounts"]:
        assert acc["repayment_history_months"].startswith("2028-01..2029-12 (oldest first)")
        assert date.fromisoformat(acc["date_opened"]) <= as_of
    assert r["personal_information"]["addresses"][0]["last_reported"] == "2029-12"
    # a datetime is accepted as its date
    assert generate_report(11, as_of=datetime(2030, 1, 15, 23, 59)) == r


def test_same_person_on_two_incomparable_scales() -> None:
    """Credit Data Smart: every CRA sees the same data, each scores it its own way."""
    for seed in range(30):
        tu, nova = report(seed), report(seed, "nova-credit-hk")
        for key in ("personal_information", "summary", "accounts", "enquiries", "public_records"):
            assert tu[key] == nova[key]
        assert 1000 <= tu["credit_score"]["score"] <= 4000
        assert 300 <= nova["credit_score"]["score"] <= 900
        assert tu["report_header"]["report_reference"].startswith("SYN-TU-")
        assert nova["report_header"]["report_reference"].startswith("SYN-NV-")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"seed": "1"}, "invalid_seed"),
        ({"seed": True}, "invalid_seed"),
        ({"seed": 1.5}, "invalid_seed"),
        ({"seed": 1, "profile": "experian-hk"}, "unknown_profile"),
        ({"seed": 1, "profile": ["transunion-hk"]}, "unknown_profile"),
        ({"seed": 1, "as_of": "2026-03-02"}, "invalid_as_of"),
        ({"seed": 1, "as_of": date(1900, 1, 1)}, "invalid_as_of"),
    ],
)
def test_bad_arguments_are_named_errors(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ReportError) as exc:
        generate_report(**kwargs)
    assert exc.value.code == code
    assert isinstance(exc.value, IssuerError)


# --- internal consistency ----------------------------------------------------------------------


def _consistent(r: dict[str, Any], as_of: date) -> None:
    prof = next(
        p for p in PROFILES.values() if p.reference_prefix in r["report_header"]["report_reference"]
    )
    person = r["personal_information"]
    assert is_valid_hkid(person["hkid"])
    dob = date.fromisoformat(person["date_of_birth"])
    age = as_of.year - dob.year - ((as_of.month, as_of.day) < (dob.month, dob.day))
    assert 21 <= age <= 75
    assert person["gender"] in ("M", "F")
    surname = person["name_en"]["surname"]
    assert re.fullmatch(r"[A-Z]+( [A-Z]+)?", surname)
    given = person["name_en"]["given_names"].split(" ")
    assert all(re.fullmatch(r"[A-Z][a-z]+", g) for g in given) and 1 <= len(given) <= 2
    zh = person["name_zh"]
    assert all("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert len(zh) - len(given) in (1, 2)  # one character per given syllable; 1-2 for the surname
    for addr in person["addresses"]:
        assert ADDRESS_RE.search(addr["address"]), addr["address"]
        assert addr["first_reported"] <= addr["last_reported"] <= f"{as_of:%Y-%m}"
    assert person["addresses"][0]["type"] == "current"
    for phone in person["phones"]:
        pattern = (
            r"\+852 [569]\d{3} \d{4}" if phone["type"] == "mobile" else r"\+852 [23]\d{3} \d{4}"
        )
        assert re.fullmatch(pattern, phone["number"])

    score = r["credit_score"]
    band = prof.band_for(score["score"])
    assert score["grade"] == band.grade
    assert score["grade_band_used"] == {
        "grade": band.grade, "min": band.min, "max": band.max, "source_note": band.source_note,
    }  # fmt: skip
    assert score["score_range"] == {"min": prof.score_min, "max": prof.score_max}
    assert 1 <= len(score["key_factors"]) <= 4

    accounts = r["accounts"]
    window_start = add_months(as_of.replace(day=1), -24)
    for acc in accounts:
        hist = acc["repayment_history_24m"]
        assert len(hist) == 24 and set(hist) <= HISTORY_CODES
        opened = date.fromisoformat(acc["date_opened"])
        assert dob < opened <= as_of
        open_idx = (opened.year * 12 + opened.month) - (window_start.year * 12 + window_start.month)
        for i, code in enumerate(hist):
            if i < open_idx:
                assert code == "-", (acc["account_id"], hist)
        if 0 <= open_idx < 24:
            assert hist[open_idx] in "0W", hist  # nothing falls due in the opening month
        assert acc["current_balance"] >= 0 and acc["amount_past_due"] >= 0
        status = acc["account_status"]
        assert status in ("open", "closed", "written_off")
        if status == "closed":
            assert "C" in hist and acc["current_balance"] == 0 and acc["amount_past_due"] == 0
            assert set(hist[hist.index("C") + 1 :]) <= {"-"}
        if status == "written_off":
            assert "W" in hist and set(hist[hist.index("W") :]) == {"W"}
            assert acc["amount_past_due"] == acc["current_balance"] > 0
        if status == "open":
            last = hist[-1]
            assert (acc["amount_past_due"] > 0) == (last in "1234567"), (hist, acc)
        if acc["facility_type"] == "personal_instalment_loan":
            assert 0 <= acc["instalments_remaining"] < acc["tenor_months"] or status == "closed"
            assert acc["current_balance"] <= acc["original_amount"]
        if acc["facility_type"] == "credit_card":
            assert opened <= date.fromisoformat(acc["last_payment_date"]) <= as_of
            assert acc["credit_limit"] > 0
    assert [a["account_id"] for a in accounts] == [f"ACC-{i}" for i in range(1, len(accounts) + 1)]

    s = r["summary"]
    assert s == summarise(r, as_of=as_of)
    open_cards = [
        a for a in accounts if a["facility_type"] == "credit_card" and a["account_status"] == "open"
    ]
    open_loans = [
        a for a in accounts
        if a["facility_type"] == "personal_instalment_loan" and a["account_status"] == "open"
    ]  # fmt: skip
    assert s["total_revolving_credit_limit"] == sum(a["credit_limit"] for a in open_cards)
    assert s["total_revolving_balance"] == sum(a["current_balance"] for a in open_cards)
    assert s["total_instalment_outstanding_excl_mortgage"] == sum(
        a["current_balance"] for a in open_loans
    )
    assert s["total_monthly_instalments_excl_mortgage"] == sum(
        a["instalment_amount"] for a in open_loans
    )
    assert s["number_of_open_accounts"] + s["number_of_closed_accounts"] == len(accounts)
    assert s["public_records_count"] == sum(len(v) for v in r["public_records"].values())
    assert s["bankruptcy_flag"] == bool(r["public_records"]["bankruptcy"])
    assert s["worst_status_last_24m"] == worst_status(
        "".join(a["repayment_history_24m"] for a in accounts)
    )
    assert s["worst_status_last_24m_text"] == REPAYMENT_STATUS_LEGEND[s["worst_status_last_24m"]]

    claims = assess(r, as_of=as_of, extended=True)
    assert claims["riskGrade"] == score["grade"]
    assert claims["noMaterialDefault60m"] is not s["material_default_last_60m"]
    assert claims["worstStatus24m"] == s["worst_status_last_24m"]
    assert claims["currentlyPastDue"] == (s["accounts_currently_past_due"] > 0)
    assert claims["totalLimit"] == s["total_revolving_credit_limit"]
    assert claims["utilisation"] == s["revolving_utilisation_ratio"]
    assert claims["noPublicRecords"] == (s["public_records_count"] == 0)
    assert claims["enquiries3m"] <= s["enquiries_last_6m"] <= s["enquiries_last_12m"]
    assert claims["lateMonths24m"] == late_months_24m(r)
    assert claims["maxConsecutiveLateMonths24m"] <= claims["lateMonths24m"]

    # the grade must agree with what the report shows
    grades = prof.grades
    rank = grades.index(score["grade"])
    if s["bankruptcy_flag"] or any(a["account_status"] == "written_off" for a in accounts):
        assert rank >= grades.index(prof.band_for(prof.scale(2867)).grade), score
    if s["material_default_last_60m"]:
        assert rank >= 2, score  # never in the two best grades
    if claims["worstStatus24m"] in ("0", "-") and claims["noPublicRecords"]:
        assert rank <= grades.index(prof.band_for(prof.scale(3088)).grade), score

    dates = [e["date"] for e in r["enquiries"]]
    assert dates == sorted(dates, reverse=True) and all(d <= as_of.isoformat() for d in dates)
    for recs in r["public_records"].values():
        for rec in recs:
            assert all(v is None or isinstance(v, str | int) for v in rec.values())
            number = rec.get("case_number") or rec.get("reference")
            assert isinstance(number, str) and number.startswith("SYN-")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_report_is_internally_consistent(profile: str) -> None:
    for seed in range(400):
        _consistent(report(seed, profile), AS_OF)


def test_consistent_on_other_dates() -> None:
    for as_of in (date(2024, 2, 29), date(2031, 12, 31), date(2026, 1, 1)):
        for seed in range(0, 400, 7):
            _consistent(generate_report(seed, as_of=as_of), as_of)


def _coverage(profile: str) -> dict[str, Any]:
    grades: collections.Counter[str] = collections.Counter()
    worst: collections.Counter[str] = collections.Counter()
    bankrupt = iva = clean = thin = pastdue = 0
    for seed in range(2000):
        r = report(seed, profile) if seed < 400 else generate_report(seed, profile=profile)
        c = assess(r, as_of=AS_OF)
        grades[c["riskGrade"]] += 1
        worst[c["worstStatus24m"]] += 1
        bankrupt += bool(r["public_records"]["bankruptcy"])
        iva += bool(r["public_records"]["individual_voluntary_arrangement"])
        clean += c["lateMonths24m"] == 0 and c["noPublicRecords"]
        thin += not r["accounts"]
        pastdue += c["currentlyPastDue"]
    return {"grades": grades, "worst": worst, "bankrupt": bankrupt, "iva": iva, "clean": clean,
            "thin": thin, "pastdue": pastdue}  # fmt: skip


def test_generated_reports_cover_the_whole_range() -> None:
    cov = _coverage("transunion-hk")
    assert set(cov["grades"]) == set("ABCDEFGHIJ"), cov["grades"]
    assert 0.005 * 2000 <= cov["bankrupt"] <= 0.02 * 2000  # ~1% bankrupt
    assert cov["iva"] >= 3
    assert cov["clean"] >= 0.6 * 2000  # most people are clean
    assert cov["grades"]["A"] + cov["grades"]["B"] + cov["grades"]["C"] >= 0.7 * 2000
    assert cov["grades"]["J"] <= 0.08 * 2000  # few defaults
    assert set(cov["worst"]) >= set("01234W")
    assert cov["thin"] >= 1 and cov["pastdue"] >= 20


def test_second_profile_covers_its_own_scale() -> None:
    cov = _coverage("nova-credit-hk")
    assert set(cov["grades"]) == set(get_profile("nova-credit-hk").grades), cov["grades"]


# --- profiles --------------------------------------------------------------------------------


def test_transunion_bands_are_the_published_edges() -> None:
    tu = get_profile("transunion-hk")
    published = {"A": (3526, 4000), "B": (3417, 3525), "C": (3240, 3416), "D": (3214, 3239),
                 "E": (3143, 3213), "F": (3088, 3142)}  # fmt: skip
    for grade, (lo, hi) in published.items():
        band = tu.band(grade)
        assert (band.min, band.max) == (lo, hi)
    # G-H and I-J are published only as combined bands: our split must stay inside them
    assert tu.band("H").min == 2868 and tu.band("G").max == 3087
    assert tu.band("J").min == 1000 and tu.band("I").max == 2867
    assert tu.grades == tuple("ABCDEFGHIJ")
    # one scale for the generator and the credential model
    assert {b.grade: (b.min, b.max) for b in tu.grade_bands} == dict(TU_GRADE_BANDS)
    edges = {4000: "A", 3526: "A", 3525: "B", 3240: "C", 3239: "D", 3214: "D", 3213: "E",
             3088: "F", 3087: "G", 2978: "G", 2977: "H", 2868: "H", 2867: "I", 1000: "J"}  # fmt: skip
    for score, grade in edges.items():
        assert tu.band_for(score).grade == grade
    for bad in (999, 4001):
        with pytest.raises(ReportError) as exc:
            tu.band_for(bad)
        assert exc.value.code == "score_out_of_range"


@pytest.mark.parametrize("profile_id", sorted(PROFILES))
def test_profile_fields(profile_id: str) -> None:
    p = get_profile(profile_id)
    assert p.id == profile_id and p.issuer_path
    assert p.name_en and p.name_zh_hant and p.name_zh_hans
    assert p.reference_prefix.startswith("SYN-")
    bands = p.grade_bands
    assert bands[0].max == p.score_max and bands[-1].min == p.score_min
    for better, worse in itertools.pairwise(bands):
        assert worse.max + 1 == better.min
    previous = p.scale(0)
    for points in range(1000, 4001, 25):  # the scale is monotone and inside the range
        value = p.scale(points)
        assert p.score_min <= value <= p.score_max and value >= previous
        previous = value
    with pytest.raises(ReportError) as exc:
        p.band("Z9")
    assert exc.value.code == "unknown_grade"


def test_unknown_profile() -> None:
    with pytest.raises(UnknownProfile) as exc:
        get_profile("softmedia")
    assert exc.value.code == "unknown_profile"
    assert "transunion-hk" in exc.value.message


def test_a_handful_of_status_ranks() -> None:
    """The ordering the generator and the assessment share: 0<1<…<7<W; C and - are not statuses."""
    assert [status_rank(c) for c in "01234567W"] == list(range(9))
    assert status_rank("C") is None and status_rank("-") is None and status_rank("") is None
