"""What the counter page shows, in English and Simplified Chinese, built from a result.

A loan officer in Shenzhen reads Simplified Chinese, an auditor in Hong Kong may
read English, so every label and sentence here carries both (``en``, ``zh-Hans``).
The page's script only lays this document out (with ``textContent``); all wording
lives here, next to the reason codes it explains, so a test can hold them together.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from ..i18n import DECISION_LABELS

__all__ = [
    "CHECK_LABELS",
    "CLAIM_LABELS",
    "FAILURE_REASONS",
    "build_display",
    "reason_texts",
]

Texts = tuple[str, str]  # (English, Simplified Chinese)

#: Every check of :meth:`verifier.verify.Verifier.verify`, in the order it runs.
CHECK_LABELS: Final[Mapping[str, Texts]] = {
    "size_and_syntax": ("Size and syntax", "大小与格式"),
    "issuer_trusted": ("Issuer is trusted", "签发机构受信任"),
    "issuer_key_on_registry": ("Issuer key admitted on the registry", "签发密钥已在登记册登记"),
    "signature_disclosures_key_binding": (
        "Signature, disclosures and key binding", "签名、披露内容与密钥绑定"),
    "nonce_single_use": ("Answers this request, once", "仅回应本次请求一次"),
    "registry_anchor": ("Anchored on the hash registry", "已在哈希登记册存证"),
    "not_revoked": ("Not revoked", "未被撤销"),
    "jsonld_terms": ("Every term defined", "所有字段均有定义"),
    "request_satisfied": ("Everything requested was shown", "已提供全部所需信息"),
}

#: Why a presentation was not accepted, for the reason codes a counter meets.
FAILURE_REASONS: Final[Mapping[str, Texts]] = {
    "revoked": ("The credit reference agency has revoked this report.",
                "征信机构已撤销该报告。"),
    "suspended": ("The credit reference agency has suspended this report.",
                  "征信机构已暂停该报告。"),
    "nonce_replayed": ("This answer was already used once; a copy cannot be accepted.",
                       "该响应已被使用过，不能重复接受。"),
    "nonce_expired": ("The request expired before the answer arrived; start a new pre-check.",
                      "请求在响应到达前已过期，请重新发起预审。"),
    "request_expired": ("The request has expired; start a new pre-check.",
                        "请求已过期，请重新发起预审。"),
    "unknown_nonce": ("The answer is not for a request of this bank.",
                      "该响应并非针对本行的请求。"),
    "unknown_request": ("No such request at this bank.", "本行没有该请求。"),
    "nonce_mismatch": ("The answer was made for a different request.",
                       "该响应是为另一个请求生成的。"),
    "aud_mismatch": ("The answer was made for a different bank.", "该响应是为另一家银行生成的。"),
    "wrong_audience": ("The answer was made for a different bank.", "该响应是为另一家银行生成的。"),
    "invalid_signature": ("A signature does not verify: the report may have been altered.",
                          "签名验证失败：报告可能已被篡改。"),
    "sd_hash_mismatch": ("The holder's signature does not cover what was shown.",
                         "持有人签名与所提供的内容不符。"),
    "kb_jwt_missing": ("The holder did not prove possession of the credential.",
                       "持有人未证明其持有该凭证。"),
    "kb_jwt_invalid": ("The holder's proof of possession is not valid.",
                       "持有人的持有证明无效。"),
    "kb_jwt_iat_out_of_window": ("The holder's proof is too old or dated in the future.",
                                 "持有人的证明时间过早或晚于当前时间。"),
    "expired": ("The credential has expired.", "凭证已过期。"),
    "not_yet_valid": ("The credential is not valid yet.", "凭证尚未生效。"),
    "untrusted_issuer": ("The report comes from an issuer this bank does not trust.",
                         "报告来自本行不信任的签发机构。"),
    "issuer_mismatch": ("The report comes from an issuer this bank does not trust.",
                        "报告来自本行不信任的签发机构。"),
    "issuer_key_not_on_registry": (
        "The issuer's signing key is not admitted on the hash registry.",
        "签发机构的签名密钥未在哈希登记册登记。"),
    "issuer_key_not_valid_at_issuance": (
        "The report predates the admission of its issuer's key.",
        "报告的签发时间早于签发密钥的登记时间。"),
    "not_anchored": ("The report is not recorded on the hash registry.",
                     "该报告未在哈希登记册存证。"),
    "registry_check_failed": ("The hash registry does not vouch for this report.",
                              "哈希登记册无法为该报告作证。"),
    "registry_unavailable": ("The hash registry could not be reached; try again.",
                             "无法连接哈希登记册，请重试。"),
    "split_view": ("The hash registry showed inconsistent histories.",
                   "哈希登记册呈现了不一致的历史记录。"),
    "invalid_receipt": ("The registry receipt does not verify.", "登记册回执验证失败。"),
    "invalid_proof": ("A registry proof does not verify.", "登记册证明验证失败。"),
    "status_unavailable": ("The revocation status could not be established; try again.",
                           "无法确认撤销状态，请重试。"),
    "untrusted_status_uri": ("The revocation list is not on the issuer's own site.",
                             "撤销列表不在签发机构自己的网站上。"),
    "wrong_typ": ("This is not a credit report credential.", "这不是征信报告凭证。"),
    "unsupported_vct": ("This is not a credit report credential.", "这不是征信报告凭证。"),
    "unsupported_response": ("The answer holds an unsupported set of credentials.",
                             "响应中包含不受支持的凭证组合。"),
    "dcql_not_satisfied": ("The resident did not show everything the request asks for.",
                           "客户未提供请求所需的全部信息。"),
    "undefined_term": ("The report uses a term no trusted vocabulary defines.",
                       "报告使用了未在受信任词汇表中定义的字段。"),
    "unknown_context": ("The report uses an unknown vocabulary.", "报告使用了未知的词汇表。"),
    "malformed": ("The answer is malformed.", "响应格式错误。"),
    "invalid_sd_jwt": ("The answer is malformed.", "响应格式错误。"),
    "limit_exceeded": ("The answer is too large.", "响应过大。"),
    "duplicate_disclosure": ("The answer repeats a disclosed item.", "响应中重复披露了内容。"),
    "unreferenced_disclosure": ("The answer shows an item the report does not contain.",
                                "响应披露了报告中不存在的内容。"),
    "wallet_declined": ("The resident declined to share the report.", "客户拒绝提供报告。"),
    "wallet_error": ("The resident's wallet reported an error.", "客户钱包报告了错误。"),
    "verification_error": ("The check could not be completed; try again.",
                           "检查未能完成，请重试。"),
}

_FALLBACK: Final[Texts] = ("The answer was not accepted ({code}).", "响应未被接受（{code}）。")

_YES_NO: Final = {True: ("Yes", "是"), False: ("No", "否")}

#: (group key, English title, Chinese title, path prefix under credentialSubject)
_GROUPS: Final = (
    ("identity", "Identity", "身份信息", ("identity",)),
    ("assessment", "Credit assessment", "信用评估", ("assessment",)),
    ("score", "Credit score", "信用评分", ("score",)),
    ("report", "Report", "报告", ("report",)),
)

#: Labels of the claims a bank asks for, keyed by their path under ``credentialSubject``.
CLAIM_LABELS: Final[Mapping[str, Texts]] = {
    "identity.nameEn": ("Name (English)", "英文姓名"),
    "identity.nameZh": ("Name (Chinese)", "中文姓名"),
    "identity.birthDate": ("Date of birth", "出生日期"),
    "identity.hkid": ("HKID", "香港身份证号码"),
    "identity.gender": ("Gender", "性别"),
    "assessment.riskGrade": ("Risk grade", "风险等级"),
    "assessment.noMaterialDefault60m": ("No material default, 60 months",
                                        "60个月内无重大违约"),
    "assessment.worstStatus24m": ("Worst status, 24 months", "24个月内最差状态"),
    "assessment.lateMonths24m": ("Months with a late payment, 24 months", "24个月内逾期月数"),
    "assessment.currentlyPastDue": ("Currently past due", "当前有逾期"),
    "assessment.enquiries3m": ("Credit enquiries, 3 months", "3个月内信贷查询次数"),
    "assessment.totalLimit": ("Total credit limit", "总信用额度"),
    "assessment.totalOutstanding": ("Total outstanding", "未偿还总额"),
    "assessment.utilisation": ("Revolving utilisation", "循环信贷使用率"),
    "assessment.noPublicRecords": ("No public records", "无公共记录"),
    "score.value": ("Score", "评分"),
    "score.grade": ("Score grade", "评分等级"),
    "score.scoreDate": ("Score date", "评分日期"),
    "score.scale": ("Score scale", "评分标准"),
    "report.cra": ("Credit reference agency", "征信机构"),
    "report.issuedAt": ("Report issued at", "报告签发时间"),
    "report.permittedUse": ("Permitted use", "许可用途"),
    "report.reference": ("Report reference", "报告编号"),
    "report.consentReference": ("Consent reference", "授权编号"),
}

MAX_ROWS: Final = 200
MAX_DEPTH: Final = 8
MAX_VALUE_CHARS: Final = 500


def reason_texts(code: str, message: str | None = None) -> dict[str, str]:
    """``{code, en, zh-Hans, detail}`` for a failure code (``detail``: the verifier's words)."""
    en, zh = FAILURE_REASONS.get(code, _FALLBACK)
    return {"code": code, "en": en.format(code=code), "zh-Hans": zh.format(code=code),
            "detail": message or ""}


def _value(path: str, value: Any) -> dict[str, str]:
    """A leaf value as text in both languages (only booleans need translating)."""
    if isinstance(value, bool):
        en, zh = _YES_NO[value]
        return {"en": en, "zh-Hans": zh}
    if path == "assessment.utilisation" and isinstance(value, int | float):
        text = f"{value:.1%}"
    elif path == "identity.nameEn" and isinstance(value, Mapping):
        text = " ".join(str(value[k]) for k in ("surname", "givenNames") if k in value)
    elif value is None:
        text = "—"
    else:
        text = str(value)
    text = text[:MAX_VALUE_CHARS]
    return {"en": text, "zh-Hans": text}


def _leaves(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if path in CLAIM_LABELS or depth >= MAX_DEPTH or not isinstance(value, Mapping | list):
        yield path, value
        return
    items = value.items() if isinstance(value, Mapping) else enumerate(value)
    for key, item in items:
        yield from _leaves(item, f"{path}.{key}" if path else str(key), depth + 1)


def _claim_groups(claims: Mapping[str, Any]) -> list[dict[str, Any]]:
    ld = claims.get("ld")
    subject = ld.get("credentialSubject") if isinstance(ld, Mapping) else None
    if not isinstance(subject, Mapping):
        return []
    groups: dict[str, dict[str, Any]] = {
        key: {"key": key, "en": en, "zh-Hans": zh, "rows": []} for key, en, zh, _ in _GROUPS}
    groups["other"] = {"key": "other", "en": "Other disclosed claims", "zh-Hans": "其他披露信息",
                       "rows": []}
    count = 0
    for path, value in _leaves(subject, ""):
        if count >= MAX_ROWS:
            break
        head = path.split(".", 1)[0]
        group = groups[head] if head in groups else groups["other"]
        en, zh = CLAIM_LABELS.get(path, (path, path))
        group["rows"].append({"path": path, "en": en, "zh-Hans": zh, "value": _value(path, value)})
        count += 1
    order = {path: i for i, path in enumerate(CLAIM_LABELS)}  # the table's reading order
    for group in groups.values():
        group["rows"].sort(key=lambda row: order.get(row["path"], len(order)))
    iss = claims.get("iss")
    if isinstance(iss, str):
        groups["report"]["rows"].append({"path": "iss", "en": "Issuer", "zh-Hans": "签发方",
                                         "value": _value("iss", iss)})
    return [g for g in groups.values() if g["rows"]]


def _checks(checks: Any) -> list[dict[str, Any]]:
    ran = [c for c in checks if isinstance(c, Mapping)] if isinstance(checks, list) else []
    out = []
    for check in ran:
        name = str(check.get("name", ""))
        en, zh = CHECK_LABELS.get(name, (name, name))
        out.append({"name": name, "en": en, "zh-Hans": zh,
                    "state": "ok" if check.get("ok") is True else "fail",
                    "detail": str(check.get("detail", ""))[:MAX_VALUE_CHARS]})
    seen = {c["name"] for c in out}
    for name, (en, zh) in CHECK_LABELS.items():  # the checks a failure stopped short of
        if name not in seen:
            out.append({"name": name, "en": en, "zh-Hans": zh, "state": "not_run",
                        "detail": ""})
    return out


def _decision(policy: Any) -> dict[str, Any] | None:
    if not isinstance(policy, Mapping) or policy.get("decision") not in DECISION_LABELS:
        return None
    code = str(policy["decision"])
    en, zh = DECISION_LABELS[code]
    reasons = [{"code": str(r.get("code", "")), "decision": str(r.get("decision", "")),
                "en": str(r.get("en", "")), "zh-Hans": str(r.get("zh-Hans", ""))}
               for r in policy.get("reasons", []) if isinstance(r, Mapping)]
    return {"code": code, "en": en, "zh-Hans": zh, "reasons": reasons}


def build_display(result: Mapping[str, Any]) -> dict[str, Any]:
    """The page's document for a ``VerificationResult.to_json()``: banner, reason, decision,
    claims grouped for reading, and every check (ok, fail, or not run)."""
    verified = result.get("verified") is True
    reason = None
    if not verified:
        code = result.get("reason")
        message = result.get("message")
        reason = reason_texts(code if isinstance(code, str) else "verification_error",
                              message if isinstance(message, str) else None)
    headline = ("Verified", "已验证") if verified else ("Not verified", "未通过验证")
    claims = result.get("claims")
    return {
        "verified": verified,
        "headline": {"en": headline[0], "zh-Hans": headline[1]},
        "reason": reason,
        "decision": _decision(result.get("policy")) if verified else None,
        "claims": _claim_groups(claims) if verified and isinstance(claims, Mapping) else [],
        "checks": _checks(result.get("checks")),
    }
