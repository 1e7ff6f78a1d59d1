"""The indicators: reversals per 100 naloxone units and per 100 doses, syringes per
unique participant with the WHO/UNAIDS coverage band, the return ratio. Each equals the
same arithmetic over the raw rows made here, and is hidden where one of its counts is."""

from datetime import datetime

import pytest

from reports.funder_templates import TEMPLATES
from reports.indicators import coverage_band, per_year
from reports.metrics import compute_figures
from reports.rendering import render
from reports.suppression import figures_mask
from ssp.models import VisitSupply

from ..factories import ItemFactory, ParticipantFactory, VisitFactory
from ..support.reports import JANUARY, PROGRAM

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

RATE_UNITS = "Overdose reversals reported per 100 naloxone units distributed"
RATE_DOSES = "Overdose reversals reported per 100 naloxone doses distributed"
PER_PERSON = "Syringes distributed per unique participant"
COVERAGE = "Syringes distributed per unique participant, per year"
BAND = "Syringe coverage band (WHO/UNAIDS)"
RETURN = "Return ratio (used syringes collected per syringe distributed)"


@pytest.fixture
def month(site_a, site_b):
    """Site A: 30 people, enough of everything to publish. Site B: 3 visits, small."""
    syringe = ItemFactory(code="syr", name="Syringe 1 mL", category="syringe")
    nasal = ItemFactory(
        code="nasal",
        name="Naloxone nasal 4 mg",
        category="naloxone",
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )
    people = [ParticipantFactory(code=f"IND{n:02d}F") for n in range(30)]
    for n in range(60):
        visit = VisitFactory(
            site=site_a,
            occurred_at=datetime(2026, 1, 1 + n % 28, 10, tzinfo=PROGRAM),
            participant=people[n % 30],
            syringes_collected=7 * (n % 4),
            overdose_reversals=n % 3,
        )
        VisitSupply.objects.create(visit=visit, item=syringe, quantity=20 + n % 7)
        VisitSupply.objects.create(visit=visit, item=nasal, quantity=1 + n % 2)
    for n in range(3):
        visit = VisitFactory(
            site=site_b,
            occurred_at=datetime(2026, 1, 5 + n, tzinfo=PROGRAM),
            participant=people[n],
            overdose_reversals=1,
        )
        VisitSupply.objects.create(visit=visit, item=syringe, quantity=10)


def counted_here(site) -> dict:
    """The inputs, summed over the raw rows of January at one site."""
    supplies = VisitSupply.objects.filter(visit__site=site)
    visits = site.visits.all()
    return {
        "syringes": sum(s.quantity for s in supplies if s.item.category == "syringe"),
        "units": sum(s.quantity for s in supplies if s.item.category == "naloxone"),
        "doses": sum(
            s.quantity * s.item.naloxone_doses_per_unit
            for s in supplies
            if s.item.category == "naloxone"
        ),
        "people": len({v.participant_id for v in visits if v.participant_id}),
        "reversals": sum(v.overdose_reversals for v in visits),
        "collected": sum(v.syringes_collected for v in visits),
    }


def rows_of(rendered) -> dict[str, list]:
    return {row.label: row.cells for table in rendered.tables for row in table.rows}


def test_each_indicator_equals_the_arithmetic_over_the_raw_rows(month, site_a):
    figures = compute_figures(period=JANUARY)
    rows = rows_of(render(figures, TEMPLATES["program_monthly"], threshold=11, suppressed=False))
    a = counted_here(site_a)
    column = [s["key"] for s in figures["scopes"]].index(site_a.code)

    def value(label):
        return rows[label][column].value

    assert value(RATE_UNITS) == pytest.approx(100 * a["reversals"] / a["units"])
    assert value(RATE_DOSES) == pytest.approx(100 * a["reversals"] / a["doses"])
    assert value(PER_PERSON) == pytest.approx(a["syringes"] / a["people"])
    yearly = a["syringes"] / a["people"] * 365 / 31
    assert value(COVERAGE) == pytest.approx(yearly)
    assert rows[BAND][column].text == coverage_band(yearly)
    assert value(RETURN) == pytest.approx(a["collected"] / a["syringes"])
    # Hidden exactly where an input is (here: reversals, hidden beside site B's small one).
    mask = figures_mask(figures, threshold=11)
    inputs = {
        RATE_UNITS: ("overdose_reversals", "supplies.naloxone"),
        RATE_DOSES: ("overdose_reversals", "naloxone_doses"),
        PER_PERSON: ("supplies.syringe", "unique_participants"),
        COVERAGE: ("supplies.syringe", "unique_participants"),
        RETURN: ("syringes_collected", "supplies.syringe"),
    }
    for label, keys in inputs.items():
        hidden = any((site_a.code, key) in mask for key in keys)
        assert rows[label][column].is_hidden == hidden, label
    assert not rows[PER_PERSON][column].is_hidden and not rows[RETURN][column].is_hidden


def test_an_indicator_over_a_small_count_is_hidden_with_it(month, site_b):
    figures = compute_figures(period=JANUARY)
    column = [s["key"] for s in figures["scopes"]].index(site_b.code)
    published = rows_of(render(figures, TEMPLATES["program_monthly"], threshold=11))
    for label in (RATE_UNITS, RATE_DOSES, PER_PERSON, COVERAGE, BAND):
        cell = published[label][column]
        assert cell.is_hidden and cell.text == "*", label
    # Nothing collected (0 is published) over 30 syringes: the return ratio may show.
    assert published[RETURN][column].text == "0.00"
    # Unsuppressed (in the app, for people allowed): shown, but marked as hidden.
    inside = rows_of(render(figures, TEMPLATES["program_monthly"], threshold=11, suppressed=False))
    b = counted_here(site_b)
    assert inside[PER_PERSON][column].value == pytest.approx(b["syringes"] / b["people"])
    assert inside[PER_PERSON][column].is_hidden


def test_a_rate_is_hidden_when_only_its_numerator_is_small(site_a):
    """Many naloxone units, 4 reversals: the rate would give the 4 away."""
    nasal = ItemFactory(code="nasal", category="naloxone", naloxone_formulation="nasal_4mg",
                        naloxone_doses_per_unit=2)  # fmt: skip
    for n in range(40):
        visit = VisitFactory(
            site=site_a,
            occurred_at=datetime(2026, 1, 2 + n % 20, tzinfo=PROGRAM),
            overdose_reversals=1 if n < 4 else 0,
        )
        VisitSupply.objects.create(visit=visit, item=nasal, quantity=3)
    figures = compute_figures(period=JANUARY)
    rows = rows_of(render(figures, TEMPLATES["program_monthly"], threshold=11))
    assert figures["values"][site_a.code]["supplies.naloxone"] == 120
    assert [c.text for c in rows[RATE_UNITS]] == ["*", "*"]


@pytest.mark.parametrize(
    ("per_person_per_year", "band"),
    [(0, "low"), (99.9, "low"), (100, "medium"), (299.9, "medium"), (300, "high"), (5000, "high")],
)
def test_the_coverage_bands_are_the_who_unaids_ones(per_person_per_year, band):
    assert coverage_band(per_person_per_year) == band


def test_coverage_is_scaled_to_the_length_of_the_period():
    # 25 syringes a person in a 31-day month is about 294 a year: medium, not low.
    assert per_year(25, days=31) == pytest.approx(25 * 365 / 31)
    assert coverage_band(per_year(25, days=31)) == "medium"
    assert coverage_band(per_year(25, days=365)) == "low"
