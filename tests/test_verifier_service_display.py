"""The counter page's display document: every label and reason in English and Simplified
Chinese, every check listed (ok, failed, or not run), claims grouped for reading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.world import make_world
from verifier.i18n import DECISION_LABELS
from verifier.web.display import (
    CHECK_LABELS,
    CLAIM_LABELS,
    FAILURE_REASONS,
    build_display,
    reason_texts,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
VERIFY_CHECKS = [
    "size_and_syntax", "issuer_trusted", "issuer_key_on_registry",
    "signature_disclosures_key_binding", "nonce_single_use", "registry_anchor",
    "not_revoked", "jsonld_terms", "request_satisfied",
]


def test_every_text_has_both_languages() -> None:
    for table in (CHECK_LABELS, FAILURE_REASONS, CLAIM_LABELS):
        for key, (en, zh) in table.items():
            assert en.strip() and not CJK.search(en), key
            assert CJK.search(zh), key


def test_check_labels_follow_the_verifier() -> None:
    assert list(CHECK_LABELS) == VERIFY_CHECKS


def test_codes_the_verifier_emits_have_curated_reasons() -> None:
    for code in ("revoked", "suspended", "nonce_replayed", "nonce_expired", "unknown_nonce",
                 "invalid_signature", "issuer_key_not_on_registry", "not_anchored",
                 "status_unavailable", "dcql_not_satisfied", "kb_jwt_invalid", "aud_mismatch",
                 "nonce_mismatch", "expired", "wallet_declined", "verification_error"):
        assert code in FAILURE_REASONS, code


def test_unknown_codes_fall_back_to_naming_the_code() -> None:
    texts = reason_texts("some_new_code", "what the verifier said")
    assert texts["code"] == "some_new_code"
    assert "some_new_code" in texts["en"] and "some_new_code" in texts["zh-Hans"]
    assert texts["detail"] == "what the verifier said"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    world = make_world(tmp_path_factory.mktemp("world"))
    try:
        issued, holder = world.issue(21)
        with world.verifier() as v:
            request = v.create_request()
            good = v.verify(world.present(issued, holder, request), request=request).to_json()
            replay = v.verify(world.present(issued, holder, request), request=request).to_json()
    finally:
        world.cra.close()
    return {"good": good, "replay": replay}


def test_a_verified_result(results: dict[str, dict[str, object]]) -> None:
    shown = build_display(results["good"])
    assert shown["verified"] is True and shown["reason"] is None
    assert shown["headline"] == {"en": "Verified", "zh-Hans": "已验证"}
    decision = shown["decision"]
    assert decision["code"] in DECISION_LABELS
    assert (decision["en"], decision["zh-Hans"]) == DECISION_LABELS[decision["code"]]
    assert decision["reasons"] and all(r["en"] and CJK.search(r["zh-Hans"])
                                       for r in decision["reasons"])
    groups = {g["key"]: g for g in shown["claims"]}
    assert set(groups) >= {"identity", "assessment", "report"}
    rows = {r["path"]: r for g in shown["claims"] for r in g["rows"]}
    grade = rows["assessment.riskGrade"]
    assert (grade["en"], grade["zh-Hans"]) == ("Risk grade", "风险等级")
    assert grade["value"]["en"] in "ABCDEFGHIJ"
    subject = results["good"]["claims"]["ld"]["credentialSubject"]  # type: ignore[index]
    name = subject["identity"]["nameEn"]
    assert rows["identity.nameEn"]["value"]["en"] == f"{name['surname']} {name['givenNames']}"
    past_due = rows["assessment.currentlyPastDue"]["value"]
    assert past_due in ({"en": "Yes", "zh-Hans": "是"}, {"en": "No", "zh-Hans": "否"})
    assert rows["assessment.utilisation"]["value"]["en"].endswith("%")
    assert rows["report.cra"]["value"]["en"] == "transunion-hk"
    assert rows["iss"]["value"]["en"].startswith("http")
    assert [c["state"] for c in shown["checks"]] == ["ok"] * 9


def test_a_rejected_result_lists_every_check(results: dict[str, dict[str, object]]) -> None:
    shown = build_display(results["replay"])
    assert shown["verified"] is False
    assert shown["headline"] == {"en": "Not verified", "zh-Hans": "未通过验证"}
    assert shown["reason"]["code"] == "nonce_replayed"
    assert (shown["reason"]["en"], shown["reason"]["zh-Hans"]) == FAILURE_REASONS["nonce_replayed"]
    assert shown["reason"]["detail"] == "the nonce has already been used"
    assert shown["decision"] is None and shown["claims"] == []
    states = [(c["name"], c["state"]) for c in shown["checks"]]
    assert [n for n, _ in states] == VERIFY_CHECKS
    assert dict(states)["nonce_single_use"] == "fail"
    assert dict(states)["signature_disclosures_key_binding"] == "ok"
    assert dict(states)["request_satisfied"] == "not_run"


def test_hostile_or_odd_results_still_display(tmp_path: Path) -> None:
    shown = build_display({"verified": False, "reason": None, "checks": "nope", "claims": 3})
    assert shown["reason"]["code"] == "verification_error"
    assert [c["state"] for c in shown["checks"]] == ["not_run"] * 9
    many = {"verified": True, "claims": {"ld": {"credentialSubject": {
        "accounts": [{"n": i, "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}
                     for i in range(500)]}}}}
    rows = [r for g in build_display(many)["claims"] for r in g["rows"]]
    assert len(rows) == 200
