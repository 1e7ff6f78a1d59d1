"""Indicator lines of a template: rates per 100 and the syringe coverage band.

Declared in reports/funder_templates.py beside Line, Family and Ratio; rendered by
reports/rendering.py. Like a ratio, an indicator is hidden wherever one of the counts
it is computed from is hidden (the suppression mask of reports/suppression.py), so it
never gives a small count away.
"""

from dataclasses import dataclass

# WHO/UNODC/UNAIDS syringe coverage: syringes per person who injects per year.
COVERAGE_LOW_BELOW = 100
COVERAGE_HIGH_FROM = 300
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Rate:
    """numerator per `per` units of denominator, e.g. reversals per 100 kits."""

    label: str
    numerator: str
    denominator: str
    per: int = 100


@dataclass(frozen=True)
class Coverage:
    """Syringes distributed per unique participant, scaled to a year, with its band."""

    label: str = "Syringes distributed per unique participant, per year"
    band_label: str = "Syringe coverage band (WHO/UNAIDS)"
    syringes: str = "supplies.syringe"
    people: str = "unique_participants"


def per_year(value: float, *, days: int) -> float:
    """A figure over a period of `days` days, scaled to a year."""
    return value * DAYS_PER_YEAR / days


def coverage_band(syringes_per_person_per_year: float) -> str:
    """low (< 100), medium (100 to < 300) or high (≥ 300 syringes per person per year)."""
    if syringes_per_person_per_year < COVERAGE_LOW_BELOW:
        return "low"
    if syringes_per_person_per_year < COVERAGE_HIGH_FROM:
        return "medium"
    return "high"


COVERAGE_DEFINITION = (
    f"Syringes distributed ÷ unique participants, scaled to {DAYS_PER_YEAR} days; band as "
    f"WHO/UNAIDS: below {COVERAGE_LOW_BELOW} low, {COVERAGE_LOW_BELOW} to "
    f"{COVERAGE_HIGH_FROM - 1} medium, {COVERAGE_HIGH_FROM} or more high (per person per year)."
)
