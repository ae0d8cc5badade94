"""Lending policies: small composable objects that turn disclosed claims into a decision.

Modelled on sigstore-python's verification policies. A :class:`Policy` reads a
few claims of a verified credit report (:class:`CreditClaims`) and says
``approve``, ``refer`` (a person must look) or ``decline``, with reasons in
English and Simplified Chinese. Composites combine them: :class:`AllOf` (the
worst decision wins) and :class:`AnyOf` (the best wins); both refuse to be built
empty, because an empty conjunction would approve everybody. The policy that
approves everybody exists, but is called :class:`UnsafeNoOp`.

Rules every policy here keeps:

* It reads only the issuer-attested decision claims (``assessment``) and report
  metadata, never raw accounts, and it declares every path it reads in
  :meth:`Policy.required_paths`; :func:`check_policy_against_query` refuses, at
  configuration time, a policy that reads a claim the request does not ask for.
* A claim that was not disclosed gives ``refer`` (``claim_not_disclosed``), never
  ``approve``; a value of the wrong type gives ``refer`` (``claim_invalid``).
* Windows the credential does not attest are not guessed. The CRA attests
  late months over 24 months, enquiries over 3 and material defaults over 60.
  A shorter window is answered from the longer one only where that is sound
  (a count within the limit over 24 months is within it over 12); otherwise the
  outcome is ``refer`` (``window_not_attested``).
* Grades of different credit reference agencies are not comparable
  (domain.md §1.1): a :class:`MinGrade` set for one agency refers a report from
  another.

The built-in ``loan-precheck`` policy (``verifier/policies/loan-precheck.toml``)
documents each threshold and its source in domain.md §2.3.

Policies load from TOML with :func:`load_policy`::

    [policy]
    name = "my-policy"
    all_of = [
      { min_grade = { grade = "C", cra = "transunion-hk" } },
      { max_late_months = { months = 24, max = 6 } },
      { any_of = [ { no_public_records = {} }, { max_utilisation = { ratio = 0.3 } } ] },
    ]

Every leaf also takes ``on_fail = "refer"`` to soften its ``decline``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, Protocol, runtime_checkable

from vc import dcql
from vc.credit_report import GRADES
from vc.dcql import ConcretePath
from vc.jsonld import parse_date_time_stamp

from . import i18n
from .errors import PolicyError, PolicyQueryMismatch

__all__ = [
    "APPROVE",
    "BUILTIN_POLICIES",
    "DECLINE",
    "GRADE_SCALES",
    "REFER",
    "AllOf",
    "AnyOf",
    "CreditClaims",
    "Decision",
    "MaxEnquiries",
    "MaxLateMonths",
    "MaxReportAge",
    "MaxUtilisation",
    "MinGrade",
    "NoCurrentPastDue",
    "NoMaterialDefault",
    "NoPublicRecords",
    "Policy",
    "PolicyConfig",
    "PolicyOutcome",
    "Reason",
    "UnsafeNoOp",
    "builtin_policy",
    "check_policy_against_query",
    "load_policy",
    "parse_policy_toml",
]

Decision = Literal["approve", "refer", "decline"]
APPROVE: Final = "approve"
REFER: Final = "refer"
DECLINE: Final = "decline"
_SEVERITY: Final[Mapping[str, int]] = {APPROVE: 0, REFER: 1, DECLINE: 2}

# --- claim paths (from the root of the SD-JWT VC claims) ------------------------------------

SUBJECT: Final = ("ld", "credentialSubject")
ASSESSMENT: Final = (*SUBJECT, "assessment")
RISK_GRADE: Final = (*ASSESSMENT, "riskGrade")
SCORE_GRADE: Final = (*SUBJECT, "score", "grade")
REPORT_CRA: Final = (*SUBJECT, "report", "cra")
REPORT_ISSUED_AT: Final = (*SUBJECT, "report", "issuedAt")
CURRENTLY_PAST_DUE: Final = (*ASSESSMENT, "currentlyPastDue")
NO_PUBLIC_RECORDS: Final = (*ASSESSMENT, "noPublicRecords")
UTILISATION: Final = (*ASSESSMENT, "utilisation")
#: The windows the credential attests: months -> claim path.
LATE_MONTHS_WINDOWS: Final[Mapping[int, ConcretePath]] = {24: (*ASSESSMENT, "lateMonths24m")}
ENQUIRY_WINDOWS: Final[Mapping[int, ConcretePath]] = {3: (*ASSESSMENT, "enquiries3m")}
MATERIAL_DEFAULT_WINDOWS: Final[Mapping[int, ConcretePath]] = {
    60: (*ASSESSMENT, "noMaterialDefault60m")
}
#: Grade scales by CRA id, best grade first. Only TransUnion's A-J scale is public.
GRADE_SCALES: Final[Mapping[str, tuple[str, ...]]] = {"transunion-hk": tuple(GRADES)}
FUTURE_SKEW_S: Final = 300


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a policy decided what it did: a stable code and the text in both languages."""

    code: str
    decision: Decision
    en: str
    zh_hans: str

    @classmethod
    def of(cls, code: str, decision: Decision, **params: Any) -> Reason:
        texts = i18n.messages(code, **params)
        return cls(code, decision, texts["en"], texts["zh-Hans"])

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "decision": self.decision,
            "en": self.en,
            "zh-Hans": self.zh_hans,
        }


@dataclass(frozen=True)
class PolicyOutcome:
    """A decision and every reason behind it (each reason carries its own decision)."""

    decision: Decision
    reasons: tuple[Reason, ...]

    @classmethod
    def single(cls, code: str, decision: Decision, **params: Any) -> PolicyOutcome:
        return cls(decision, (Reason.of(code, decision, **params),))

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reasons": [r.to_dict() for r in self.reasons]}


# --- the claims a policy reads -----------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class CreditClaims:
    """The disclosed claims of one verified credit-report credential, and the time of decision.

    ``claims`` is the processed SD-JWT VC payload (``iss``, ``vct``, ``ld``, …) as
    the verifier obtained it after checking signatures and disclosures.
    """

    __slots__ = ("claims", "now")

    def __init__(self, claims: Mapping[str, Any], *, now: int | datetime) -> None:
        if not isinstance(claims, Mapping):
            raise PolicyError("credit claims are a JSON object", code="invalid_claims")
        if isinstance(now, datetime):
            if now.utcoffset() is None:
                raise PolicyError("the decision time needs a timezone", code="invalid_claims")
            self.now = now
        elif isinstance(now, int) and not isinstance(now, bool):
            self.now = datetime.fromtimestamp(now, UTC)
        else:
            raise PolicyError("now is a datetime or epoch seconds", code="invalid_claims")
        self.claims = claims

    def value(self, path: ConcretePath) -> Any:
        """The value at ``path``, or :data:`MISSING` when it was not disclosed."""
        node: Any = self.claims
        for comp in path:
            if isinstance(comp, str) and isinstance(node, Mapping) and comp in node:
                node = node[comp]
            elif isinstance(comp, int) and isinstance(node, list) and 0 <= comp < len(node):
                node = node[comp]
            else:
                return MISSING
        return node

    @property
    def issuer(self) -> str | None:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else None


# --- the protocol and the composites --------------------------------------------------------


@runtime_checkable
class Policy(Protocol):
    """Anything that can decide on credit claims and say which claims it reads."""

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome: ...

    def required_paths(self) -> frozenset[ConcretePath]: ...


def _check_children(kind: str, policies: Sequence[Policy]) -> tuple[Policy, ...]:
    children = tuple(policies)
    if not children:
        raise PolicyError(f"{kind}([]) is refused: an empty {kind} would decide for everybody")
    for child in children:
        if not isinstance(child, Policy):
            raise PolicyError(f"{kind} takes policies, not {type(child).__name__}")
    return children


class AllOf:
    """Every policy must approve: the worst decision wins, and all reasons are kept."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = _check_children("AllOf", policies)

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        outcomes = [p.evaluate(claims) for p in self.policies]
        decision = max((o.decision for o in outcomes), key=_SEVERITY.__getitem__)
        return PolicyOutcome(decision, tuple(r for o in outcomes for r in o.reasons))

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset().union(*(p.required_paths() for p in self.policies))

    def __repr__(self) -> str:
        return f"AllOf({list(self.policies)!r})"


class AnyOf:
    """One policy approving suffices: the best decision wins, with the reasons that led to it."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = _check_children("AnyOf", policies)

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        outcomes = [p.evaluate(claims) for p in self.policies]
        decision = min((o.decision for o in outcomes), key=_SEVERITY.__getitem__)
        reasons = tuple(r for o in outcomes if o.decision == decision for r in o.reasons)
        return PolicyOutcome(decision, reasons)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset().union(*(p.required_paths() for p in self.policies))

    def __repr__(self) -> str:
        return f"AnyOf({list(self.policies)!r})"


class UnsafeNoOp:
    """Approves everything and reads nothing. For demos of the verification flow only."""

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        return PolicyOutcome.single("unsafe_no_op", APPROVE)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset()

    def __repr__(self) -> str:
        return "UnsafeNoOp()"


# --- leaves -----------------------------------------------------------------------------------


def _dotted(path: ConcretePath) -> str:
    return dcql.to_dotted(path)


def _not_disclosed(path: ConcretePath) -> PolicyOutcome:
    return PolicyOutcome.single("claim_not_disclosed", REFER, claim=_dotted(path))


def _invalid(path: ConcretePath) -> PolicyOutcome:
    return PolicyOutcome.single("claim_invalid", REFER, claim=_dotted(path))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _check_on_fail(on_fail: Any) -> Decision:
    if on_fail == DECLINE:
        return DECLINE
    if on_fail == REFER:
        return REFER
    raise PolicyError('on_fail is "decline" or "refer"')


def _check_int(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise PolicyError(f"{what} must be an integer from {low} to {high}")
    return value


def _attested(windows: Mapping[int, ConcretePath], months: int) -> tuple[int, ConcretePath] | None:
    """The shortest attested window that contains ``months``."""
    usable = sorted(w for w in windows if w >= months)
    return (usable[0], windows[usable[0]]) if usable else None


class _WindowedMax:
    """``count over <months> <= max``, answered from an attested window >= months."""

    windows: Mapping[int, ConcretePath]
    claim_name: str
    ok_code: str
    over_code: str

    def __init__(self, months: int, max: int, *, on_fail: str = DECLINE) -> None:
        self.months = _check_int(months, "months", 1, 120)
        self.max = _check_int(max, "max", 0, 10_000)
        self.on_fail = _check_on_fail(on_fail)
        self._window = _attested(self.windows, self.months)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset() if self._window is None else frozenset({self._window[1]})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        if self._window is None:
            attested = max(self.windows)
            return PolicyOutcome.single(
                "window_not_attested",
                REFER,
                claim=_dotted(self.windows[attested]),
                attested=attested,
                months=self.months,
            )
        attested, path = self._window
        raw = claims.value(path)
        if raw is MISSING:
            return _not_disclosed(path)
        count = _count(raw)
        if count is None:
            return _invalid(path)
        if count <= self.max:
            return PolicyOutcome.single(
                self.ok_code, APPROVE, count=count, months=attested, max=self.max
            )
        if attested != self.months:  # over the limit in the longer window says nothing exact
            return PolicyOutcome.single(
                "window_not_attested",
                REFER,
                claim=_dotted(path),
                attested=attested,
                months=self.months,
            )
        return PolicyOutcome.single(
            self.over_code, self.on_fail, count=count, months=attested, max=self.max
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.months}, {self.max}, on_fail={self.on_fail!r})"


class MaxLateMonths(_WindowedMax):
    """At most ``max`` months with a late payment in ``months`` (reads ``lateMonths24m``)."""

    windows = LATE_MONTHS_WINDOWS
    ok_code = "late_months_within_limit"
    over_code = "late_months_over_limit"


class MaxEnquiries(_WindowedMax):
    """At most ``max`` hard credit enquiries in ``months`` (reads ``enquiries3m``)."""

    windows = ENQUIRY_WINDOWS
    ok_code = "enquiries_within_limit"
    over_code = "enquiries_over_limit"


class NoMaterialDefault:
    """No default of more than 60 days in ``months`` (reads ``noMaterialDefault60m``)."""

    def __init__(self, months: int = 60, *, on_fail: str = DECLINE) -> None:
        self.months = _check_int(months, "months", 1, 120)
        self.on_fail = _check_on_fail(on_fail)
        self._window = _attested(MATERIAL_DEFAULT_WINDOWS, self.months)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset() if self._window is None else frozenset({self._window[1]})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        if self._window is None:
            attested = max(MATERIAL_DEFAULT_WINDOWS)
            return PolicyOutcome.single(
                "window_not_attested",
                REFER,
                claim=_dotted(MATERIAL_DEFAULT_WINDOWS[attested]),
                attested=attested,
                months=self.months,
            )
        attested, path = self._window
        raw = claims.value(path)
        if raw is MISSING:
            return _not_disclosed(path)
        if not isinstance(raw, bool):
            return _invalid(path)
        if raw:
            return PolicyOutcome.single("no_material_default", APPROVE, months=self.months)
        if attested != self.months:
            return PolicyOutcome.single(
                "window_not_attested",
                REFER,
                claim=_dotted(path),
                attested=attested,
                months=self.months,
            )
        return PolicyOutcome.single("material_default", self.on_fail, months=attested)

    def __repr__(self) -> str:
        return f"NoMaterialDefault({self.months}, on_fail={self.on_fail!r})"


class _Flag:
    """A boolean assessment claim that must have one value."""

    path: ConcretePath
    good: bool
    ok_code: str
    bad_code: str

    def __init__(self, *, on_fail: str = DECLINE) -> None:
        self.on_fail = _check_on_fail(on_fail)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset({self.path})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        raw = claims.value(self.path)
        if raw is MISSING:
            return _not_disclosed(self.path)
        if not isinstance(raw, bool):
            return _invalid(self.path)
        if raw is self.good:
            return PolicyOutcome.single(self.ok_code, APPROVE)
        return PolicyOutcome.single(self.bad_code, self.on_fail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(on_fail={self.on_fail!r})"


class NoPublicRecords(_Flag):
    """No litigation, judgment, bankruptcy or IVA (reads ``noPublicRecords``)."""

    path = NO_PUBLIC_RECORDS
    good = True
    ok_code = "no_public_records"
    bad_code = "public_records_present"


class NoCurrentPastDue(_Flag):
    """No account currently past due (reads ``currentlyPastDue``)."""

    path = CURRENTLY_PAST_DUE
    good = False
    ok_code = "no_current_past_due"
    bad_code = "currently_past_due"


class MaxUtilisation:
    """Revolving utilisation (balance / limit) at most ``ratio`` (reads ``utilisation``)."""

    def __init__(self, ratio: float, *, on_fail: str = DECLINE) -> None:
        if (
            not isinstance(ratio, int | float)
            or isinstance(ratio, bool)
            or not math.isfinite(ratio)
            or not 0 <= ratio <= 10
        ):
            raise PolicyError("ratio must be a number from 0 to 10 (0.7 = 70%)")
        self.ratio = float(ratio)
        self.on_fail = _check_on_fail(on_fail)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset({UTILISATION})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        raw = claims.value(UTILISATION)
        if raw is MISSING:
            return _not_disclosed(UTILISATION)
        if (
            not isinstance(raw, int | float)
            or isinstance(raw, bool)
            or not math.isfinite(raw)
            or raw < 0
        ):
            return _invalid(UTILISATION)
        shown = {"ratio": f"{raw:.1%}", "max": f"{self.ratio:.1%}"}
        if raw <= self.ratio:
            return PolicyOutcome.single("utilisation_within_limit", APPROVE, **shown)
        return PolicyOutcome.single("utilisation_over_limit", self.on_fail, **shown)

    def __repr__(self) -> str:
        return f"MaxUtilisation({self.ratio}, on_fail={self.on_fail!r})"


class MaxReportAge:
    """The report was issued at most ``days`` ago (reads ``report.issuedAt``).

    A stale report says nothing bad about the borrower, so the default is to
    refer (ask for a fresh one) rather than decline.
    """

    def __init__(self, days: int, *, on_fail: str = REFER) -> None:
        self.days = _check_int(days, "days", 1, 3660)
        self.on_fail = _check_on_fail(on_fail)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset({REPORT_ISSUED_AT})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        raw = claims.value(REPORT_ISSUED_AT)
        if raw is MISSING:
            return _not_disclosed(REPORT_ISSUED_AT)
        issued = parse_date_time_stamp(raw)
        if issued is None:
            return _invalid(REPORT_ISSUED_AT)
        age_s = (claims.now - issued).total_seconds()
        if age_s < -FUTURE_SKEW_S:
            return PolicyOutcome.single("report_from_future", REFER, issued_at=raw)
        age_days = max(0, int(age_s // 86400))
        if age_s <= self.days * 86400:
            return PolicyOutcome.single("report_fresh", APPROVE, age=age_days, max=self.days)
        return PolicyOutcome.single("report_too_old", self.on_fail, age=age_days, max=self.days)

    def __repr__(self) -> str:
        return f"MaxReportAge({self.days}, on_fail={self.on_fail!r})"


class MinGrade:
    """The CRA's grade is ``grade`` or better, on that CRA's own scale.

    Reads ``report.cra`` and the grade (``assessment.riskGrade`` by default; the
    same value as ``score.grade``, attested as a decision claim). A report from
    another CRA is referred: grades of different agencies are not comparable.
    """

    def __init__(
        self,
        grade: str,
        cra: str = "transunion-hk",
        *,
        scale: Sequence[str] | None = None,
        path: ConcretePath = RISK_GRADE,
        on_fail: str = DECLINE,
    ) -> None:
        if not isinstance(cra, str) or not cra:
            raise PolicyError("cra is the id of a credit reference agency, e.g. transunion-hk")
        grades = tuple(scale) if scale is not None else GRADE_SCALES.get(cra)
        if not grades or not all(isinstance(g, str) and g for g in grades):
            raise PolicyError(f"no grade scale is known for {cra!r}: pass scale=[best, …, worst]")
        if grade not in grades:
            raise PolicyError(f"{grade!r} is not a grade of {cra} ({', '.join(grades)})")
        if path not in (RISK_GRADE, SCORE_GRADE):
            raise PolicyError("MinGrade reads assessment.riskGrade or score.grade")
        self.grade, self.cra, self.scale, self.path = grade, cra, grades, path
        self.on_fail = _check_on_fail(on_fail)

    def required_paths(self) -> frozenset[ConcretePath]:
        return frozenset({REPORT_CRA, self.path})

    def evaluate(self, claims: CreditClaims) -> PolicyOutcome:
        cra = claims.value(REPORT_CRA)
        if cra is MISSING:
            return _not_disclosed(REPORT_CRA)
        if not isinstance(cra, str):
            return _invalid(REPORT_CRA)
        if cra != self.cra:
            return PolicyOutcome.single("grade_other_cra", REFER, cra=cra, expected=self.cra)
        grade = claims.value(self.path)
        if grade is MISSING:
            return _not_disclosed(self.path)
        if not isinstance(grade, str) or grade not in self.scale:
            return _invalid(self.path)
        params = {"grade": grade, "minimum": self.grade, "cra": self.cra}
        if self.scale.index(grade) <= self.scale.index(self.grade):
            return PolicyOutcome.single("grade_meets_minimum", APPROVE, **params)
        return PolicyOutcome.single("grade_below_minimum", self.on_fail, **params)

    def __repr__(self) -> str:
        return f"MinGrade({self.grade!r}, cra={self.cra!r}, on_fail={self.on_fail!r})"


# --- a policy never reads a claim the query did not request ------------------------------------


def check_policy_against_query(
    policy: Policy, dcql_query: Any, credential_id: str | None = None
) -> None:
    """Refuse (``policy_needs_unrequested_claim``) a policy reading what the query may not get.

    The claims considered requested are those of the credential query's
    *every* claim-set option: whichever option the wallet meets, the policy's
    claims are among those disclosed. ``credential_id`` names the credential
    query the policy judges (default: the only one).
    """
    query = dcql.parse_query(dcql_query)
    if credential_id is None:
        if len(query.credentials) != 1:
            raise PolicyError("the query has several credentials: name the one the policy judges")
        cq = query.credentials[0]
    else:
        cq = query.credential(credential_id)
    guaranteed = cq.guaranteed_paths()
    missing = sorted(
        _dotted(p)
        for p in policy.required_paths()
        if not any(dcql.covers(q, p) for q in guaranteed)
    )
    if missing:
        raise PolicyQueryMismatch(
            f"the policy reads {', '.join(missing)}, which the query {cq.id!r} does not request"
        )


# --- TOML ---------------------------------------------------------------------------------------

MAX_POLICY_BYTES: Final = 64 * 1024
MAX_POLICY_DEPTH: Final = 8
MAX_POLICY_LEAVES: Final = 64
BUILTIN_POLICIES: Final = ("loan-precheck",)


@dataclass(frozen=True)
class PolicyConfig:
    """A loaded policy with its metadata; ``query`` names the query it was written for."""

    policy: Policy
    name: str | None = None
    description: str | None = None
    query: str | None = None


_Param = tuple[str, type | tuple[type, ...], bool]  # name, accepted types, required


def _leaf(
    factory: Callable[..., Policy], *params: _Param, on_fail: bool = True
) -> Callable[[Mapping[str, Any], str], Policy]:
    allowed = {p[0] for p in params} | ({"on_fail"} if on_fail else set())

    def build(table: Mapping[str, Any], where: str) -> Policy:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise PolicyError(f"{where}: unknown setting(s) {unknown}")
        kwargs: dict[str, Any] = {}
        for name, types, required in params:
            if name not in table:
                if required:
                    raise PolicyError(f"{where}: {name} is required")
                continue
            value = table[name]
            if isinstance(value, bool) or not isinstance(value, types):
                raise PolicyError(f"{where}: {name} has the wrong type")
            kwargs[name] = value
        if "on_fail" in table:
            kwargs["on_fail"] = table["on_fail"]
        try:
            return factory(**kwargs)
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc.message}") from exc

    return build


def _min_grade(
    grade: str, cra: str = "transunion-hk", claim: str | None = None, on_fail: str = DECLINE
) -> Policy:
    path: ConcretePath = RISK_GRADE
    if claim is not None:
        parsed = dcql.from_dotted(claim)
        if None in parsed:
            raise PolicyError("claim has no wildcards")
        path = tuple(c for c in parsed if c is not None)
    return MinGrade(grade, cra, path=path, on_fail=on_fail)


_LEAVES: Final[Mapping[str, Callable[[Mapping[str, Any], str], Policy]]] = {
    "min_grade": _leaf(
        _min_grade, ("grade", str, True), ("cra", str, False), ("claim", str, False)
    ),
    "max_report_age": _leaf(MaxReportAge, ("days", int, True)),
    "no_material_default": _leaf(NoMaterialDefault, ("months", int, False)),
    "max_late_months": _leaf(MaxLateMonths, ("months", int, True), ("max", int, True)),
    "max_enquiries": _leaf(MaxEnquiries, ("months", int, True), ("max", int, True)),
    "no_public_records": _leaf(NoPublicRecords),
    "no_current_past_due": _leaf(NoCurrentPastDue),
    "max_utilisation": _leaf(MaxUtilisation, ("ratio", (int, float), True)),
    "unsafe_no_op": _leaf(UnsafeNoOp, on_fail=False),
}


def _node(value: Any, where: str, depth: int, leaves: list[int]) -> Policy:
    if depth > MAX_POLICY_DEPTH:
        raise PolicyError(f"{where}: policies nest at most {MAX_POLICY_DEPTH} deep")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise PolicyError(f"{where}: a policy is a table with exactly one key")
    ((kind, body),) = value.items()
    if kind in ("all_of", "any_of"):
        if not isinstance(body, list) or not body:
            raise PolicyError(f"{where}.{kind}: a non-empty array of policies")
        children = [_node(v, f"{where}.{kind}[{i}]", depth + 1, leaves) for i, v in enumerate(body)]
        return AllOf(children) if kind == "all_of" else AnyOf(children)
    build = _LEAVES.get(kind)
    if build is None:
        known = ", ".join(sorted([*_LEAVES, "all_of", "any_of"]))
        raise PolicyError(f"{where}: unknown policy {kind!r} (known: {known})")
    if not isinstance(body, Mapping):
        raise PolicyError(f"{where}.{kind}: settings are a table, e.g. {kind} = {{}}")
    leaves.append(1)
    if len(leaves) > MAX_POLICY_LEAVES:
        raise PolicyError(f"a policy has at most {MAX_POLICY_LEAVES} leaves")
    return build(body, f"{where}.{kind}")


def parse_policy_toml(text: str | bytes) -> PolicyConfig:
    """Parse a policy file's text (see the module docstring for the schema)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError("a policy file is UTF-8 text") from exc
    if not isinstance(text, str):
        raise PolicyError("a policy is TOML text")
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise PolicyError(f"a policy file is at most {MAX_POLICY_BYTES} bytes")
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise PolicyError(f"the policy is not valid TOML: {exc}") from exc
    if set(doc) != {"policy"} or not isinstance(doc["policy"], Mapping):
        raise PolicyError("a policy file has exactly one table, [policy]")
    table = doc["policy"]
    meta: dict[str, str | None] = {}
    for key in ("name", "description", "query"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value or len(value) > 1000):
            raise PolicyError(f"policy.{key} is a non-empty text")
        meta[key] = value
    rules = {k: v for k, v in table.items() if k not in meta}
    if len(rules) != 1:
        raise PolicyError("[policy] holds exactly one rule: all_of, any_of or a single policy")
    policy = _node(rules, "policy", 1, [])
    return PolicyConfig(policy, meta["name"], meta["description"], meta["query"])


def builtin_policy(name: str = "loan-precheck") -> PolicyConfig:
    """A policy shipped with selfcarry (``verifier/policies/<name>.toml``)."""
    if name not in BUILTIN_POLICIES:
        raise PolicyError(
            f"no built-in policy {name!r} (built in: {', '.join(BUILTIN_POLICIES)})",
            code="unknown_policy",
        )
    text = resources.files("verifier.policies").joinpath(f"{name}.toml").read_text("utf-8")
    return parse_policy_toml(text)


def load_policy(name_or_path: str | Path) -> PolicyConfig:
    """A built-in policy by name, or a policy TOML file."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_POLICIES:
        return builtin_policy(name_or_path)
    path = Path(name_or_path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(
            f"cannot read the policy file {path}: {exc}", code="unknown_policy"
        ) from exc
    return parse_policy_toml(data)
