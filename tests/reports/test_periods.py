"""Report periods (month, quarter, calendar and fiscal year), the funder templates that
use them, the beat jobs that build them, and how a quarter's figures relate to its months."""

from collections import defaultdict
from datetime import date, datetime

import pytest

from reports.funder_templates import TEMPLATES
from reports.metrics import NON_ADDITIVE, TOTAL, compute_figures
from reports.models import ReportSnapshot, ReportStatus, ReportTrigger
from reports.periods import Period, PeriodError
from reports.services import monthly_reports_build, quarterly_reports_build
from ssp.models import VisitSupply

from ..factories import ItemFactory, ParticipantFactory, VisitFactory
from ..support.reports import PROGRAM

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SSP_FISCAL_YEAR_START_MONTH = 7
    return tmp_path


def test_periods_are_parsed_in_every_kind(settings):
    assert Period.parse("2026-02") == Period(date(2026, 2, 1), date(2026, 2, 28), "month")
    assert Period.parse("2026-q2") == Period(date(2026, 4, 1), date(2026, 6, 30), "quarter")
    assert Period.parse("2025") == Period(date(2025, 1, 1), date(2025, 12, 31), "year")
    fiscal = Period.parse("FY2026")
    assert fiscal == Period(date(2025, 7, 1), date(2026, 6, 30), "fiscal_year")
    assert (fiscal.label, fiscal.slug) == ("FY2026 (Jul 2025 – Jun 2026)", "FY2026")
    settings.SSP_FISCAL_YEAR_START_MONTH = 10  # the US federal fiscal year
    assert Period.parse("FY2026") == Period(date(2025, 10, 1), date(2026, 9, 30), "fiscal_year")
    settings.SSP_FISCAL_YEAR_START_MONTH = 1
    assert Period.parse("FY2026").start == date(2026, 1, 1)
    with pytest.raises(PeriodError, match="fiscal year as FY2026"):
        Period.parse("2026-13")


def test_a_range_of_days_is_recognised_as_the_period_it_is():
    assert Period.between(date(2026, 1, 1), date(2026, 12, 31)).kind == "year"
    assert Period.between(date(2025, 7, 1), date(2026, 6, 30)).kind == "fiscal_year"
    assert Period.between(date(2026, 4, 1), date(2026, 6, 30)).kind == "quarter"
    assert Period.between(date(2026, 4, 1), date(2026, 5, 31)).kind == "custom"
    assert [m.slug for m in Period.parse("2026-Q1").months()] == ["2026-01", "2026-02", "2026-03"]
    assert len(Period.parse("FY2026").months()) == 12


@pytest.mark.parametrize(
    ("today", "quarter", "fiscal"),
    [
        (date(2026, 1, 1), "2025-Q4", "FY2025"),
        (date(2026, 6, 30), "2026-Q1", "FY2025"),
        (date(2026, 7, 1), "2026-Q2", "FY2026"),
    ],
)
def test_the_previous_quarter_and_fiscal_year(today, quarter, fiscal):
    assert Period.previous_quarter(today).slug == quarter
    assert Period.previous_fiscal_year(today).slug == fiscal


def quarter_of_visits(site_a, site_b):
    """Q1 2026: people who come back in several months, at both sites."""
    syringe = ItemFactory(code="syr-q", name="Syringe Q", category="syringe")
    people = [
        ParticipantFactory(code=f"QTR{n:02d}F", first_seen_on=date(2026, 1, 4)) for n in range(6)
    ]
    visits = []
    for month in (1, 2, 3):
        for n, person in enumerate(people):
            if (n + month) % 3 == 0:
                continue
            site = site_a if n % 2 else site_b
            visits.append(
                VisitFactory(
                    site=site,
                    participant=person,
                    occurred_at=datetime(2026, month, 4 + n, 12, tzinfo=PROGRAM),
                    syringes_collected=month + n,
                )
            )
    for n, visit in enumerate(visits):
        VisitSupply.objects.create(visit=visit, item=syringe, quantity=5 + n)
    return visits


def test_a_quarter_adds_up_its_months_and_counts_people_afresh(site_a, site_b):
    visits = quarter_of_visits(site_a, site_b)
    quarter = compute_figures(period=Period.parse("2026-Q1"))
    months = [compute_figures(period=m) for m in Period.parse("2026-Q1").months()]
    additive = [k for k in quarter["keys"] if k not in NON_ADDITIVE and k != "new_participants"]
    for scope in quarter["values"]:
        for key in additive:
            assert quarter["values"][scope][key] == sum(m["values"][scope][key] for m in months)
    # Unique participants: the distinct people of the quarter, not the sum of the months.
    people = defaultdict(set)
    for visit in visits:
        people[visit.site.code].add(visit.participant_id)
        people[TOTAL].add(visit.participant_id)
    for scope, seen in people.items():
        assert quarter["values"][scope]["unique_participants"] == len(seen)
    summed = sum(m["values"][TOTAL]["unique_participants"] for m in months)
    assert summed > len(people[TOTAL])  # people came back: the sum would count them twice
    # New participants: each person once, in the quarter of their first visit.
    assert quarter["values"][TOTAL]["new_participants"] == len(people[TOTAL])


PERIOD_OF_KIND = {"month": "2026-02", "quarter": "2026-Q1", "year": "2025", "fiscal_year": "FY2026"}


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("period", list(PERIOD_OF_KIND.values()))
def test_every_template_builds_for_every_kind_of_period_through_the_api(
    template, period, api_as, coordinator_cleo, site_a, site_b, django_capture_on_commit_callbacks
):
    quarter_of_visits(site_a, site_b)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(coordinator_cleo).post(
            "/api/v1/reports/", {"template": template, "period": period}, format="json"
        )
    assert response.status_code == 202, response.json()
    snapshot = ReportSnapshot.objects.get(pk=response.json()["id"])
    assert snapshot.status == ReportStatus.READY  # jobs run in-process in tests
    assert Period.parse(period) == Period.between(snapshot.period_start, snapshot.period_end)
    detail = api_as(coordinator_cleo).get(f"/api/v1/reports/{snapshot.pk}/").json()
    assert detail["tables"] and detail["period_label"] == Period.parse(period).label
    assert (
        api_as(coordinator_cleo).get(f"/api/v1/reports/{snapshot.pk}/files/csv/").status_code == 200
    )


def test_the_template_list_shows_every_template(api_as, coordinator_cleo):
    keys = [t["key"] for t in api_as(coordinator_cleo).get("/api/v1/reports/templates/").json()]
    assert keys == list(TEMPLATES)


def scheduled(period: Period) -> dict[str, ReportSnapshot]:
    return {
        s.template: s
        for s in ReportSnapshot.objects.filter(
            trigger=ReportTrigger.SCHEDULED, period_start=period.start, period_end=period.end
        )
    }


def test_the_beat_jobs_build_each_template_for_its_own_period(site_a, site_b):
    quarter_of_visits(site_a, site_b)
    by_schedule = defaultdict(set)
    for template in TEMPLATES.values():
        by_schedule[template.schedule].add(template.key)

    monthly_reports_build(today=date(2026, 4, 1))
    assert set(scheduled(Period.parse("2026-03"))) == by_schedule["month"]

    quarterly_reports_build(today=date(2026, 4, 1))
    assert set(scheduled(Period.parse("2026-Q1"))) == by_schedule["quarter"]
    assert not scheduled(Period.parse("2026")) and not scheduled(Period.parse("FY2026"))

    quarterly_reports_build(today=date(2026, 7, 1))  # Q2 closes the fiscal year
    assert set(scheduled(Period.parse("FY2026"))) == by_schedule["fiscal_year"]

    quarterly_reports_build(today=date(2027, 1, 1))  # Q4 closes the calendar year
    assert set(scheduled(Period.parse("2026"))) == by_schedule["year"]
    assert all(
        s.status == ReportStatus.READY
        for s in ReportSnapshot.objects.filter(trigger=ReportTrigger.SCHEDULED)
    )
    count = ReportSnapshot.objects.count()
    assert quarterly_reports_build(today=date(2027, 1, 1)) == []  # a second run finds them
    assert ReportSnapshot.objects.count() == count
