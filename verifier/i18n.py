"""Reason texts for lending decisions, in English and Simplified Chinese.

A mainland loan officer reads the result in Simplified Chinese, an auditor in
Hong Kong may read it in English; both read the same reason ``code``. Every code
a policy can emit is in :data:`MESSAGES` with both texts (a test holds them
together), and texts take named parameters so numbers are never translated by
hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["DECISION_LABELS", "LANGUAGES", "MESSAGES", "decision_label", "message", "messages"]

LANGUAGES: Final = ("en", "zh-Hans")

DECISION_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "approve": ("Approve", "通过"),
    "refer": ("Refer for manual review", "转人工审核"),
    "decline": ("Decline", "拒绝"),
}

#: code -> (English, Simplified Chinese); ``{name}`` placeholders are filled by :func:`message`.
MESSAGES: Final[Mapping[str, tuple[str, str]]] = {
    "unsafe_no_op": (
        "No lending policy was applied (UnsafeNoOp): this is not a credit decision.",
        "未应用任何贷款政策（UnsafeNoOp）：这不是信贷决定。",
    ),
    "claim_not_disclosed": (
        "The claim {claim} was not disclosed, so it cannot be assessed.",
        "未披露声明 {claim}，无法评估。",
    ),
    "claim_invalid": (
        "The claim {claim} does not have a usable value.",
        "声明 {claim} 的值无法使用。",
    ),
    "window_not_attested": (
        "The credential attests {claim} over {attested} months; it cannot answer for "
        "{months} months.",
        "凭证证明的是{attested}个月内的 {claim}，无法据此判断{months}个月的情况。",
    ),
    "grade_meets_minimum": (
        "Credit grade {grade} meets the minimum grade {minimum} of {cra}.",
        "信用等级 {grade} 达到 {cra} 的最低等级要求 {minimum}。",
    ),
    "grade_below_minimum": (
        "Credit grade {grade} is below the minimum grade {minimum} of {cra}.",
        "信用等级 {grade} 低于 {cra} 的最低等级要求 {minimum}。",
    ),
    "grade_other_cra": (
        "The report comes from {cra}, but the policy sets a grade of {expected}; grades of "
        "different credit reference agencies are not comparable.",
        "该报告来自 {cra}，而本政策规定的是 {expected} 的等级；不同征信机构的等级不可比较。",
    ),
    "no_material_default": (
        "No material default (more than 60 days past due) in the last {months} months.",
        "最近{months}个月内无重大违约（逾期超过60天）。",
    ),
    "material_default": (
        "A material default (more than 60 days past due) in the last {months} months.",
        "最近{months}个月内有重大违约（逾期超过60天）。",
    ),
    "late_months_within_limit": (
        "{count} month(s) with a late payment in the last {months} months (limit {max}).",
        "最近{months}个月内有{count}个月出现逾期（上限{max}个月）。",
    ),
    "late_months_over_limit": (
        "{count} months with a late payment in the last {months} months, more than {max}.",
        "最近{months}个月内有{count}个月出现逾期，超过上限{max}个月。",
    ),
    "enquiries_within_limit": (
        "{count} credit enquiry(ies) in the last {months} months (limit {max}).",
        "最近{months}个月内有{count}次信贷查询（上限{max}次）。",
    ),
    "enquiries_over_limit": (
        "{count} credit enquiries in the last {months} months, more than {max}.",
        "最近{months}个月内有{count}次信贷查询，超过上限{max}次。",
    ),
    "no_public_records": (
        "No public records (litigation, judgments, bankruptcy, voluntary arrangements).",
        "无公共记录（诉讼、判决、破产、个人自愿安排）。",
    ),
    "public_records_present": (
        "The report has public records (litigation, judgments, bankruptcy or a voluntary "
        "arrangement).",
        "报告中有公共记录（诉讼、判决、破产或个人自愿安排）。",
    ),
    "utilisation_within_limit": (
        "Revolving credit utilisation is {ratio} (limit {max}).",
        "循环信贷使用率为 {ratio}（上限 {max}）。",
    ),
    "utilisation_over_limit": (
        "Revolving credit utilisation is {ratio}, above the limit of {max}.",
        "循环信贷使用率为 {ratio}，超过上限 {max}。",
    ),
    "no_current_past_due": (
        "No account is currently past due.",
        "目前没有逾期未还的账户。",
    ),
    "currently_past_due": (
        "An account is currently past due.",
        "目前有账户逾期未还。",
    ),
    "report_fresh": (
        "The report was issued {age} day(s) ago (limit {max} days).",
        "报告签发于{age}天前（上限{max}天）。",
    ),
    "report_too_old": (
        "The report was issued {age} days ago, more than {max} days: ask for a fresh report.",
        "报告签发于{age}天前，超过{max}天：请客户提供最新报告。",
    ),
    "report_from_future": (
        "The report's issue time {issued_at} is later than now.",
        "报告的签发时间 {issued_at} 晚于当前时间。",
    ),
}


def message(code: str, lang: str = "en", **params: Any) -> str:
    """The text for ``code`` in ``lang`` (``en`` or ``zh-Hans``) with ``params`` filled in."""
    en, zh = MESSAGES[code]
    template = zh if lang == "zh-Hans" else en
    return template.format(**params)


def messages(code: str, **params: Any) -> dict[str, str]:
    """``{"en": …, "zh-Hans": …}`` for ``code``."""
    return {lang: message(code, lang, **params) for lang in LANGUAGES}


def decision_label(decision: str, lang: str = "en") -> str:
    en, zh = DECISION_LABELS[decision]
    return zh if lang == "zh-Hans" else en
