"""Credit reference agency (CRA) profiles: who issues, and on which score scale.

Since Credit Data Smart (April 2024) Hong Kong has several consumer CRAs fed
from the same Credit Reference Platform, each with its *own* score and grades,
which are not comparable. A profile carries everything the simulator needs to
render one CRA's report: names, the issuer path segment, the score range, the
grade bands and the report reference prefix, plus the (fictional) mapping from
the simulator's internal risk points onto that CRA's scale.

``transunion-hk`` uses the published 1000–4000 / A–J scale; ``nova-credit-hk``
uses a deliberately fictional 300–900 / N1–N7 scale so that tests and demos
exercise a second, incompatible scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from vc.credit_report import GRADE_BANDS as TU_GRADE_BANDS

from .errors import IssuerError

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "GradeBand",
    "Profile",
    "ReportError",
    "UnknownProfile",
    "get_profile",
]


class ReportError(IssuerError):
    """Root of the synthetic-report errors (generator, profiles, assessment)."""

    code = "invalid_report"
    default_message = "the credit report could not be produced or read"


class UnknownProfile(ReportError):
    code = "unknown_profile"
    default_message = "no CRA profile has that id"


@dataclass(frozen=True)
class GradeBand:
    """One grade and its inclusive score range, with where the edges come from."""

    grade: str
    min: int
    max: int
    source_note: str


@dataclass(frozen=True)
class Profile:
    """One CRA as the simulator renders it."""

    id: str
    name_en: str
    name_zh_hant: str
    name_zh_hans: str
    issuer_path: str  # default path segment of the issuer URL, e.g. <base>/<issuer_path>
    score_min: int
    score_max: int
    grade_bands: tuple[GradeBand, ...]  # best (lowest risk) first, contiguous, covering the range
    reference_prefix: str  # report_reference = <prefix>-<year>-<7 digits>
    bureau_style: str
    grade_scale: str
    # Piecewise-linear map from internal risk points (1000..4000) onto this scale.
    scale_knots: tuple[tuple[int, int], ...]
    # Extra internal points per hard enquiry in 12 months (CRAs weigh factors differently).
    enquiry_weight: int = 0

    def __post_init__(self) -> None:
        bands = self.grade_bands
        if not bands or bands[0].max != self.score_max or bands[-1].min != self.score_min:
            raise ValueError(f"profile {self.id}: grade bands must cover the score range")
        for better, worse in pairwise(bands):
            if worse.max + 1 != better.min or worse.min > worse.max:
                raise ValueError(f"profile {self.id}: {better.grade}/{worse.grade} not contiguous")

    @property
    def grades(self) -> tuple[str, ...]:
        """Grade labels, best first."""
        return tuple(b.grade for b in self.grade_bands)

    def band_for(self, score: int) -> GradeBand:
        """The band a score falls in; scores outside the range are an error."""
        for band in self.grade_bands:
            if band.min <= score <= band.max:
                return band
        raise ReportError(f"score {score} is outside {self.id}'s range", code="score_out_of_range")

    def band(self, grade: str) -> GradeBand:
        for band in self.grade_bands:
            if band.grade == grade:
                return band
        raise ReportError(f"{self.id} has no grade {grade!r}", code="unknown_grade")

    def scale(self, points: float) -> int:
        """Map internal risk points onto this profile's score range (monotone, clamped)."""
        knots = self.scale_knots
        if points <= knots[0][0]:
            value = float(knots[0][1])
        elif points >= knots[-1][0]:
            value = float(knots[-1][1])
        else:
            value = float(knots[-1][1])
            for (x0, y0), (x1, y1) in pairwise(knots):
                if x0 <= points <= x1:
                    value = y0 + (points - x0) * (y1 - y0) / (x1 - x0)
                    break
        return max(self.score_min, min(self.score_max, round(value)))


_BROKER = "band edges as published by HK lenders/brokers; not an official TU table"
_SPLIT_GH = (
    "brokers publish only a combined G-H band 2868-3087; split at the midpoint by this project"
)
_SPLIT_IJ = (
    "brokers publish only a combined I-J band 1000-2867; "
    f"split at {TU_GRADE_BANDS['I'][0]} by this project"
)
_TU_NOTES = {
    **dict.fromkeys("ABCDE", _BROKER),
    "F": "derived from the brokers' combined D-F band 3088-3239",
    **dict.fromkeys("GH", _SPLIT_GH),
    **dict.fromkeys("IJ", _SPLIT_IJ),
}

TRANSUNION_HK = Profile(
    id="transunion-hk",
    name_en="TransUnion Hong Kong (synthetic simulator)",
    name_zh_hant="環聯香港（模擬）",
    name_zh_hans="环联香港（模拟）",
    issuer_path="transunion-hk",
    score_min=1000,
    score_max=4000,
    # one source of truth for the TU scale: the credential model's bands
    grade_bands=tuple(
        GradeBand(grade, low, high, _TU_NOTES[grade])
        for grade, (low, high) in TU_GRADE_BANDS.items()
    ),
    reference_prefix="SYN-TU",
    bureau_style="TransUnion Hong Kong (TUCIS) style, synthetic",
    grade_scale="A (lowest risk) to J (highest risk)",
    scale_knots=((1000, 1000), (4000, 4000)),
)

_NOVA_NOTE = "fictional scale invented for this simulator; not Nova Credit's"

NOVA_CREDIT_HK = Profile(
    id="nova-credit-hk",
    name_en="Nova Credit Hong Kong (synthetic simulator, fictional scale)",
    name_zh_hant="Nova Credit 香港（模擬，虛構評分）",
    name_zh_hans="Nova Credit 香港（模拟，虚构评分）",
    issuer_path="nova-credit-hk",
    score_min=300,
    score_max=900,
    grade_bands=(
        GradeBand("N1", 820, 900, _NOVA_NOTE),
        GradeBand("N2", 760, 819, _NOVA_NOTE),
        GradeBand("N3", 700, 759, _NOVA_NOTE),
        GradeBand("N4", 640, 699, _NOVA_NOTE),
        GradeBand("N5", 560, 639, _NOVA_NOTE),
        GradeBand("N6", 480, 559, _NOVA_NOTE),
        GradeBand("N7", 300, 479, _NOVA_NOTE),
    ),
    reference_prefix="SYN-NV",
    bureau_style="Nova Credit Hong Kong style (fictional scale), synthetic",
    grade_scale="N1 (lowest risk) to N7 (highest risk); fictional 300-900 scale",
    scale_knots=(
        (1000, 300),
        (2400, 420),
        (2868, 490),
        (3088, 560),
        (3240, 640),
        (3417, 700),
        (3500, 760),
        (3590, 820),
        (3800, 880),
        (4000, 900),
    ),
    enquiry_weight=-12,
)

PROFILES: dict[str, Profile] = {p.id: p for p in (TRANSUNION_HK, NOVA_CREDIT_HK)}
DEFAULT_PROFILE = TRANSUNION_HK.id


def get_profile(profile_id: str) -> Profile:
    try:
        return PROFILES[profile_id]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PROFILES))
        raise UnknownProfile(f"unknown CRA profile {profile_id!r} (known: {known})") from None
