"""Lending policies: each rule, the composites, TOML loading, and the query check.

The thresholds under test are the loan-precheck ones (domain.md §2.3); the
rules for missing claims, windows and CRAs are those of the verifier brief:
never approve on what was not disclosed, never compare grades across CRAs.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier import i18n
from verifier.errors import PolicyError, PolicyQueryMismatch
from verifier.policy import (
    SCORE_GRADE,
    AllOf,
    AnyOf,
    CreditClaims,
    MaxEnquiries,
    MaxLateMonths,
    MaxReportAge,
    MaxUtilisation,
    MinGrade,
    NoCurrentPastDue,
    NoMaterialDefault,
    NoPublicRecords,
    Policy,
    PolicyOutcome,
    UnsafeNoOp,
    builtin_policy,
    check_policy_against_query,
    load_policy,
    parse_policy_toml,
)
from verifier.request import load_query

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
ISSUED = "2026-03-02T10:14:25+08:00"  # ten days before NOW
GOOD_ASSESSMENT: dict[str, Any] = {
    "riskGrade": "B",
    "noMaterialDefault60m": True,
    "worstStatus24m": "1",
    "lateMonths24m": 1,
    "currentlyPastDue": False,
    "enquiries3m": 2,
    "totalLimit": 120000,
    "totalOutstanding": 50000,
    "utilisation": 0.31,
    "noPublicRecords": True,
}


def credit(
    assessment: dict[str, Any] | None = None,
    *,
    report: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    now: datetime | int = NOW,
) -> CreditClaims:
    subject: dict[str, Any] = {
        "assessment": {**GOOD_ASSESSMENT, **(assessment or {})},
        "report": {"cra": "transunion-hk", "issuedAt": ISSUED, **(report or {})},
        "score": {"grade": "B"},
    }
    for name in drop:
        for group in subject.values():
            group.pop(name, None)
    claims = {
        "iss": "https://cra.example/transunion-hk",
        "vct": "https://w3id.org/selfcarry/vct/hk-credit-report/v1",
        "ld": {"credentialSubject": subject},
    }
    return CreditClaims(claims, now=now)


def decide(policy: Policy, claims: CreditClaims) -> tuple[str, list[str]]:
    outcome = policy.evaluate(claims)
    return outcome.decision, [r.code for r in outcome.reasons]


# --- leaves ----------------------------------------------------------------------------------


class TestMinGrade:
    policy = MinGrade("C", cra="transunion-hk")

    @pytest.mark.parametrize(("grade", "decision"), [("A", "approve"), ("B", "approve"), ("C", "approve"),
                                                     ("D", "decline"), ("J", "decline")])
    def test_tu_scale(self, grade: str, decision: str) -> None:
        got, codes = decide(self.policy, credit({"riskGrade": grade}))
        assert got == decision
        assert codes == ["grade_meets_minimum" if decision == "approve" else "grade_below_minimum"]

    def test_another_cra_is_referred_not_compared(self) -> None:
        got, codes = decide(self.policy, credit({"riskGrade": "A"}, report={"cra": "nova-credit-hk"}))
        assert (got, codes) == ("refer", ["grade_other_cra"])

    def test_missing_or_odd_values(self) -> None:
        assert decide(self.policy, credit(drop=("riskGrade",))) == ("refer", ["claim_not_disclosed"])
        assert decide(self.policy, credit(drop=("cra",))) == ("refer", ["claim_not_disclosed"])
        assert decide(self.policy, credit({"riskGrade": "Z"})) == ("refer", ["claim_invalid"])
        assert decide(self.policy, credit({"riskGrade": 1})) == ("refer", ["claim_invalid"])
        assert decide(self.policy, credit(report={"cra": 7})) == ("refer", ["claim_invalid"])

    def test_other_scales_and_paths(self) -> None:
        nova = MinGrade("N3", cra="nova-credit-hk", scale=["N1", "N2", "N3", "N4", "N5", "N6", "N7"])
        claims = credit({"riskGrade": "N2"}, report={"cra": "nova-credit-hk"})
        assert decide(nova, claims)[0] == "approve"
        assert decide(nova, credit({"riskGrade": "N5"}, report={"cra": "nova-credit-hk"}))[0] == "decline"
        by_score = MinGrade("C", path=SCORE_GRADE)
        assert SCORE_GRADE in by_score.required_paths()
        assert decide(by_score, credit({"riskGrade": "J"}))[0] == "approve"  # reads score.grade = B

    @pytest.mark.parametrize(
        ("args", "kwargs"),
        [(("K",), {}), (("C",), {"cra": "unknown-cra"}), (("C",), {"cra": ""}), (("C",), {"on_fail": "approve"}),
         (("C",), {"path": ("ld", "credentialSubject", "score", "value")})],
    )
    def test_misconfiguration(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with pytest.raises(PolicyError) as err:
            MinGrade(*args, **kwargs)
        assert err.value.code == "invalid_policy"


class TestWindows:
    def test_late_months(self) -> None:
        policy = MaxLateMonths(24, 6)
        assert decide(policy, credit({"lateMonths24m": 6})) == ("approve", ["late_months_within_limit"])
        assert decide(policy, credit({"lateMonths24m": 7})) == ("decline", ["late_months_over_limit"])
        assert decide(policy, credit({"lateMonths24m": True})) == ("refer", ["claim_invalid"])
        assert decide(policy, credit({"lateMonths24m": -1})) == ("refer", ["claim_invalid"])
        assert decide(policy, credit({"lateMonths24m": 1.0})) == ("refer", ["claim_invalid"])
        assert decide(policy, credit(drop=("lateMonths24m",))) == ("refer", ["claim_not_disclosed"])

    def test_shorter_window_answered_from_the_attested_one_only_when_sound(self) -> None:
        policy = MaxLateMonths(12, 1)
        assert policy.required_paths() == {("ld", "credentialSubject", "assessment", "lateMonths24m")}
        # <= 1 late month in 24 months implies <= 1 in 12 months
        assert decide(policy, credit({"lateMonths24m": 1}))[0] == "approve"
        # 3 in 24 months says nothing exact about 12 months
        assert decide(policy, credit({"lateMonths24m": 3})) == ("refer", ["window_not_attested"])

    def test_window_the_credential_does_not_attest(self) -> None:
        policy = MaxLateMonths(36, 6)
        assert policy.required_paths() == frozenset()
        assert decide(policy, credit()) == ("refer", ["window_not_attested"])
        assert decide(MaxEnquiries(6, 9), credit()) == ("refer", ["window_not_attested"])
        assert decide(NoMaterialDefault(84), credit()) == ("refer", ["window_not_attested"])

    def test_enquiries(self) -> None:
        policy = MaxEnquiries(3, 6)
        assert decide(policy, credit({"enquiries3m": 6}))[0] == "approve"
        assert decide(policy, credit({"enquiries3m": 7})) == ("decline", ["enquiries_over_limit"])
        assert decide(MaxEnquiries(2, 3), credit({"enquiries3m": 3}))[0] == "approve"
        assert decide(MaxEnquiries(2, 3), credit({"enquiries3m": 4})) == ("refer", ["window_not_attested"])

    def test_material_default(self) -> None:
        assert decide(NoMaterialDefault(), credit())[0] == "approve"
        assert decide(NoMaterialDefault(60), credit({"noMaterialDefault60m": False})) == (
            "decline",
            ["material_default"],
        )
        assert decide(NoMaterialDefault(36), credit())[0] == "approve"
        assert decide(NoMaterialDefault(36), credit({"noMaterialDefault60m": False}))[0] == "refer"
        assert decide(NoMaterialDefault(), credit({"noMaterialDefault60m": "no"}))[1] == ["claim_invalid"]

    @pytest.mark.parametrize(
        "build",
        [
            lambda: MaxLateMonths(0, 1),
            lambda: MaxLateMonths(24, -1),
            lambda: MaxEnquiries(True, 1),
            lambda: MaxEnquiries(3, "6"),  # type: ignore[arg-type]
            lambda: NoMaterialDefault(1000),
            lambda: MaxLateMonths(24, 6, on_fail="x"),
        ],
    )
    def test_misconfiguration(self, build: Any) -> None:
        with pytest.raises(PolicyError):
            build()


class TestFlagsAndRatios:
    def test_public_records(self) -> None:
        assert decide(NoPublicRecords(), credit()) == ("approve", ["no_public_records"])
        assert decide(NoPublicRecords(), credit({"noPublicRecords": False})) == ("decline", ["public_records_present"])
        assert decide(NoPublicRecords(), credit({"noPublicRecords": 0})) == ("refer", ["claim_invalid"])

    def test_past_due(self) -> None:
        assert decide(NoCurrentPastDue(), credit()) == ("approve", ["no_current_past_due"])
        assert decide(NoCurrentPastDue(), credit({"currentlyPastDue": True})) == ("decline", ["currently_past_due"])
        assert decide(NoCurrentPastDue(on_fail="refer"), credit({"currentlyPastDue": True}))[0] == "refer"
        assert decide(NoCurrentPastDue(), credit(drop=("currentlyPastDue",)))[0] == "refer"

    def test_utilisation(self) -> None:
        policy = MaxUtilisation(0.7)
        assert decide(policy, credit({"utilisation": 0.7}))[0] == "approve"
        assert decide(policy, credit({"utilisation": 0}))[0] == "approve"
        assert decide(policy, credit({"utilisation": 0.71})) == ("decline", ["utilisation_over_limit"])
        assert decide(MaxUtilisation(0.7, on_fail="refer"), credit({"utilisation": 1.2}))[0] == "refer"
        for bad in ("0.5", -0.1, True, None):
            assert decide(policy, credit({"utilisation": bad}))[1] == ["claim_invalid"]
        outcome = policy.evaluate(credit({"utilisation": 0.314}))
        assert "31.4%" in outcome.reasons[0].en and "70.0%" in outcome.reasons[0].zh_hans
        for bad_ratio in (-1, float("nan"), "0.7", True, 11):
            with pytest.raises(PolicyError):
                MaxUtilisation(bad_ratio)  # type: ignore[arg-type]

    def test_report_age(self) -> None:
        policy = MaxReportAge(30)
        assert decide(policy, credit()) == ("approve", ["report_fresh"])
        issued = datetime.fromisoformat(ISSUED)
        assert decide(policy, credit(now=issued + timedelta(days=30)))[0] == "approve"
        assert decide(policy, credit(now=issued + timedelta(days=30, seconds=1)))[0] == "refer"
        stale = credit(now=NOW + timedelta(days=21))  # 31 days after issue
        assert decide(policy, stale) == ("refer", ["report_too_old"])  # refer by default
        assert decide(MaxReportAge(30, on_fail="decline"), stale)[0] == "decline"
        assert decide(policy, credit(report={"issuedAt": "2026-04-01T00:00:00Z"})) == ("refer", ["report_from_future"])
        assert decide(policy, credit(report={"issuedAt": "2026-03-02T10:14:25"}))[1] == ["claim_invalid"]
        assert decide(policy, credit(report={"issuedAt": "yesterday"}))[1] == ["claim_invalid"]
        assert decide(policy, credit(drop=("issuedAt",)))[1] == ["claim_not_disclosed"]
        # epoch seconds work as "now" too
        assert decide(policy, credit(now=int(NOW.timestamp())))[0] == "approve"
        # other offsets are compared as instants
        plus8 = datetime(2026, 3, 2, 10, 14, 25, tzinfo=timezone(timedelta(hours=8)))
        assert decide(MaxReportAge(1), credit(now=plus8 + timedelta(hours=23)))[0] == "approve"


# --- composites --------------------------------------------------------------------------------


class TestComposites:
    def test_empty_composites_are_refused(self) -> None:
        with pytest.raises(PolicyError, match="refused"):
            AllOf([])
        with pytest.raises(PolicyError, match="refused"):
            AnyOf([])
        with pytest.raises(PolicyError):
            AllOf(["not a policy"])  # type: ignore[list-item]

    def test_all_of_worst_wins_and_keeps_every_reason(self) -> None:
        policy = AllOf([NoPublicRecords(), MaxUtilisation(0.7, on_fail="refer"), NoCurrentPastDue()])
        assert decide(policy, credit()) == (
            "approve",
            ["no_public_records", "utilisation_within_limit", "no_current_past_due"],
        )
        assert decide(policy, credit({"utilisation": 0.9}))[0] == "refer"
        got, codes = decide(policy, credit({"utilisation": 0.9, "currentlyPastDue": True}))
        assert got == "decline"
        assert codes == ["no_public_records", "utilisation_over_limit", "currently_past_due"]
        assert policy.required_paths() == {
            ("ld", "credentialSubject", "assessment", n)
            for n in ("noPublicRecords", "utilisation", "currentlyPastDue")
        }

    def test_any_of_best_wins_with_its_reasons(self) -> None:
        policy = AnyOf([NoPublicRecords(), MaxUtilisation(0.3)])
        assert decide(policy, credit({"noPublicRecords": False, "utilisation": 0.2})) == (
            "approve",
            ["utilisation_within_limit"],
        )
        assert decide(policy, credit({"noPublicRecords": False, "utilisation": 0.5})) == (
            "decline",
            ["public_records_present", "utilisation_over_limit"],
        )
        assert decide(AnyOf([NoPublicRecords()]), credit(drop=("noPublicRecords",)))[0] == "refer"

    def test_unsafe_no_op(self) -> None:
        assert decide(UnsafeNoOp(), credit(drop=tuple(GOOD_ASSESSMENT))) == ("approve", ["unsafe_no_op"])
        assert UnsafeNoOp().required_paths() == frozenset()
        assert "UnsafeNoOp" in repr(AllOf([UnsafeNoOp()]))

    def test_outcome_json(self) -> None:
        outcome = MinGrade("C").evaluate(credit())
        assert outcome.to_dict() == {
            "decision": "approve",
            "reasons": [
                {
                    "code": "grade_meets_minimum",
                    "decision": "approve",
                    "en": "Credit grade B meets the minimum grade C of transunion-hk.",
                    "zh-Hans": "信用等级 B 达到 transunion-hk 的最低等级要求 C。",
                }
            ],
        }
        json.dumps(outcome.to_dict(), ensure_ascii=False)


LOAN: AllOf = builtin_policy().policy  # type: ignore[assignment]
ASSESSMENT_AND_REPORT = [*GOOD_ASSESSMENT, "cra", "issuedAt"]


@given(st.sets(st.sampled_from(ASSESSMENT_AND_REPORT)))
def test_a_claim_not_disclosed_never_approves(hidden: set[str]) -> None:
    """Property: hide any subset of claims; approval only when everything the policy reads is there."""
    outcome = LOAN.evaluate(credit(drop=tuple(hidden)))
    read = {p[-1] for p in LOAN.required_paths()}
    if hidden & read:
        assert outcome.decision == "refer"
        assert "claim_not_disclosed" in [r.code for r in outcome.reasons]
    else:
        assert outcome.decision == "approve"


class TestCreditClaims:
    def test_now_and_shape(self) -> None:
        with pytest.raises(PolicyError):
            CreditClaims({}, now=datetime(2026, 1, 1))  # naive on purpose
        with pytest.raises(PolicyError):
            CreditClaims([], now=NOW)  # type: ignore[arg-type]
        with pytest.raises(PolicyError):
            CreditClaims({}, now="today")  # type: ignore[arg-type]
        claims = credit()
        assert claims.issuer == "https://cra.example/transunion-hk"
        assert claims.value(("ld", "credentialSubject", "score", "grade")) == "B"
        assert repr(claims.value(("ld", "nope"))) == "MISSING"


# --- the built-in policy and its query ------------------------------------------------------------


class TestLoanPrecheck:
    def test_builtin(self) -> None:
        config = builtin_policy("loan-precheck")
        assert (config.name, config.query) == ("loan-precheck", "loan-precheck")
        assert isinstance(config.policy, AllOf)
        assert [type(p).__name__ for p in config.policy.policies] == [
            "MinGrade", "NoMaterialDefault", "MaxLateMonths", "NoCurrentPastDue",
            "MaxEnquiries", "NoPublicRecords", "MaxUtilisation", "MaxReportAge",
        ]
        assert decide(config.policy, credit())[0] == "approve"

    @pytest.mark.parametrize(
        ("change", "decision", "code"),
        [
            ({"riskGrade": "D"}, "decline", "grade_below_minimum"),
            ({"noMaterialDefault60m": False}, "decline", "material_default"),
            ({"lateMonths24m": 7}, "decline", "late_months_over_limit"),
            ({"currentlyPastDue": True}, "decline", "currently_past_due"),
            ({"enquiries3m": 7}, "decline", "enquiries_over_limit"),
            ({"noPublicRecords": False}, "decline", "public_records_present"),
            ({"utilisation": 0.75}, "refer", "utilisation_over_limit"),
        ],
    )
    def test_thresholds(self, change: dict[str, Any], decision: str, code: str) -> None:
        outcome = LOAN.evaluate(credit(change))
        assert outcome.decision == decision
        assert [r.code for r in outcome.reasons if r.decision != "approve"] == [code]

    def test_stale_report_refers(self) -> None:
        outcome = LOAN.evaluate(credit(now=NOW + timedelta(days=25)))
        assert outcome.decision == "refer"
        assert [r.code for r in outcome.reasons if r.decision != "approve"] == ["report_too_old"]

    def test_reads_only_what_the_builtin_query_requests(self) -> None:
        check_policy_against_query(LOAN, load_query("loan-precheck"))

    def test_a_policy_reading_an_unrequested_claim_is_refused(self) -> None:
        query = load_query("loan-precheck")
        with pytest.raises(PolicyQueryMismatch) as err:
            check_policy_against_query(MinGrade("C", path=SCORE_GRADE), query)
        assert err.value.code == "policy_needs_unrequested_claim"
        assert "ld.credentialSubject.score.grade" in err.value.message
        narrow = copy.deepcopy(query)
        cq = narrow["credentials"][0]
        cq["claims"] = [c for c in cq["claims"] if c["id"] != "no_public_records"]
        cq["claim_sets"] = [[i for i in s if i != "no_public_records"] for s in cq["claim_sets"]]
        with pytest.raises(PolicyQueryMismatch, match="noPublicRecords"):
            check_policy_against_query(LOAN, narrow)

    def test_requested_in_only_some_claim_sets_is_not_enough(self) -> None:
        query = {"credentials": [{
            "id": "c", "format": "dc+sd-jwt", "meta": {},
            "claims": [
                {"id": "a", "path": ["ld", "credentialSubject", "assessment", "noPublicRecords"]},
                {"id": "b", "path": ["ld", "credentialSubject", "assessment", "utilisation"]},
            ],
            "claim_sets": [["a", "b"], ["b"]],
        }]}
        check_policy_against_query(MaxUtilisation(0.5), query)
        with pytest.raises(PolicyQueryMismatch):
            check_policy_against_query(NoPublicRecords(), query)

    def test_a_requested_ancestor_covers_its_claims(self) -> None:
        query = {"credentials": [{
            "id": "c", "format": "dc+sd-jwt", "meta": {},
            "claims": [{"path": ["ld", "credentialSubject", "assessment"]},
                       {"path": ["ld", "credentialSubject", "report"]}],
        }]}
        check_policy_against_query(LOAN, query)

    def test_several_credentials_need_a_name(self) -> None:
        query = load_query("loan-precheck")
        query["credentials"].append({**query["credentials"][0], "id": "second"})
        with pytest.raises(PolicyError):
            check_policy_against_query(LOAN, query)
        check_policy_against_query(LOAN, query, credential_id="second")


# --- TOML ------------------------------------------------------------------------------------------

EXAMPLE = """
[policy]
name = "my-policy"
all_of = [
  { min_grade = { grade = "C", cra = "transunion-hk" } },
  { max_late_months = { months = 24, max = 6 } },
  { any_of = [ { no_public_records = {} }, { max_utilisation = { ratio = 0.3 } } ] },
]
"""


class TestToml:
    def test_docstring_example(self) -> None:
        config = parse_policy_toml(EXAMPLE)
        assert config.name == "my-policy" and config.description is None and config.query is None
        assert repr(config.policy).startswith("AllOf([MinGrade('C'")
        assert decide(config.policy, credit({"noPublicRecords": False, "utilisation": 0.2}))[0] == "approve"

    def test_single_rule_and_every_leaf(self) -> None:
        leaves = {
            "min_grade": '{ grade = "B", claim = "ld.credentialSubject.score.grade", on_fail = "refer" }',
            "max_report_age": "{ days = 30 }",
            "no_material_default": "{}",
            "max_late_months": "{ months = 24, max = 0 }",
            "max_enquiries": "{ months = 3, max = 1 }",
            "no_public_records": '{ on_fail = "refer" }',
            "no_current_past_due": "{}",
            "max_utilisation": "{ ratio = 1 }",
            "unsafe_no_op": "{}",
        }
        for name, body in leaves.items():
            config = parse_policy_toml(f"[policy]\n{name} = {body}\n")
            assert isinstance(config.policy, Policy)
        with pytest.raises(PolicyError):
            parse_policy_toml('[policy]\nunsafe_no_op = { on_fail = "refer" }\n')

    @pytest.mark.parametrize(
        "text",
        [
            "not toml = = 1",
            "",
            "[other]\nx = 1",
            '[policy]\nname = "x"',
            "[policy]\nno_public_records = {}\nno_current_past_due = {}",
            "[policy]\nall_of = []",
            "[policy]\nany_of = {}",
            "[policy]\nall_of = [{}]",
            "[policy]\nall_of = [{ no_public_records = {}, no_current_past_due = {} }]",
            "[policy]\nall_of = [ 1 ]",
            "[policy]\nmax_credit = {}",
            "[policy]\nno_public_records = 1",
            "[policy]\nno_public_records = { strict = true }",
            '[policy]\nmin_grade = { grade = 3 }',
            '[policy]\nmin_grade = { grade = "Q" }',
            '[policy]\nmin_grade = { grade = "C", claim = "ld.*.x" }',
            "[policy]\nmin_grade = {}",
            '[policy]\nmax_report_age = { days = "30" }',
            "[policy]\nmax_report_age = { days = true }",
            "[policy]\nmax_report_age = { days = 30.5 }",
            "[policy]\nmax_late_months = { months = 24 }",
            '[policy]\nmax_utilisation = { ratio = 0.7, on_fail = "approve" }',
            '[policy]\nname = 5\nno_public_records = {}',
            '[policy]\nname = ""\nno_public_records = {}',
            "[policy]\n" + "all_of = [{ " * 10 + "no_public_records = {}" + " }]" * 10,
            "[policy]\nall_of = [" + ", ".join(["{ no_public_records = {} }"] * 65) + "]",
            "[policy]\ndescription = '" + "x" * 70_000 + "'\nno_public_records = {}",
        ],
    )
    def test_refuses(self, text: str) -> None:
        with pytest.raises(PolicyError) as err:
            parse_policy_toml(text)
        assert err.value.code == "invalid_policy"
        assert err.value.message

    def test_bytes_and_files(self, tmp_path: Path) -> None:
        assert isinstance(parse_policy_toml(EXAMPLE.encode()).policy, AllOf)
        with pytest.raises(PolicyError):
            parse_policy_toml(b"\xff\xfe")
        path = tmp_path / "p.toml"
        path.write_text(EXAMPLE)
        assert load_policy(path).name == "my-policy"
        assert load_policy(str(path)).name == "my-policy"
        assert load_policy("loan-precheck").name == "loan-precheck"
        with pytest.raises(PolicyError) as err:
            load_policy(tmp_path / "missing.toml")
        assert err.value.code == "unknown_policy"
        with pytest.raises(PolicyError) as err:
            builtin_policy("no-such-policy")
        assert err.value.code == "unknown_policy"


# --- reason texts ----------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_reason_has_both_languages() -> None:
    for code, (en, zh) in i18n.MESSAGES.items():
        assert re.fullmatch(r"[a-z0-9_]+", code)
        assert en and zh and not CJK.search(en) and CJK.search(zh), code
        # the same placeholders in both languages
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), code
    for decision in ("approve", "refer", "decline"):
        assert i18n.decision_label(decision) and CJK.search(i18n.decision_label(decision, "zh-Hans"))


def test_every_code_a_policy_emits_has_texts() -> None:
    """Drive every leaf into every branch and check each reason code is in the catalogue."""
    seen: set[str] = set()
    cases: list[tuple[Policy, CreditClaims]] = []
    for policy in (*LOAN.policies, MaxLateMonths(12, 1), MaxLateMonths(36, 1), NoMaterialDefault(36), UnsafeNoOp()):
        cases += [(policy, credit()), (policy, credit(drop=tuple(ASSESSMENT_AND_REPORT)))]
    bad = {"riskGrade": "J", "noMaterialDefault60m": False, "lateMonths24m": 20, "currentlyPastDue": True,
           "enquiries3m": 20, "noPublicRecords": False, "utilisation": 2.0}
    odd = {k: "?" for k in GOOD_ASSESSMENT}
    for policy in (*LOAN.policies, MaxLateMonths(12, 1), NoMaterialDefault(36)):
        cases += [(policy, credit(bad)), (policy, credit(odd)), (policy, credit(report={"cra": "other"})),
                  (policy, credit(now=NOW + timedelta(days=90))), (policy, credit(now=NOW - timedelta(days=90)))]
    for policy, claims in cases:
        outcome: PolicyOutcome = policy.evaluate(claims)
        for reason in outcome.reasons:
            assert reason.code in i18n.MESSAGES
            assert "{" not in reason.en and "{" not in reason.zh_hans
            seen.add(reason.code)
    assert seen == set(i18n.MESSAGES)
