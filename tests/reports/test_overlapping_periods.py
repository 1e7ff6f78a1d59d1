"""Differencing overlapping periods: a quarter and its months are published (in either
order) on generated small sites, and the exact attacker (tests/support/attacker.py),
told that the quarter's counts are the sums of its months', must pin no hidden cell of
any of them; a range of days that is not whole months is refused to anyone without
the unsuppressed figures."""

import time
from datetime import date, datetime

import pytest
import time_machine
from django.conf import settings

from reports.models import PeriodSuppression, ReportSnapshot
from reports.periods import Period
from reports.releases import _time_equations

from ..support.attacker import (
    NOT_ADDITIVE,
    Release,
    _breakdown_equations,
    _multiple_equations,
    _ranges,
    exposed,
    report_release,
    trend_release,
    truth_of,
)
from ..support.generated import generated_months
from ..support.reports import PROGRAM

pytestmark = pytest.mark.django_db

MONTHS = [Period.month(2026, m) for m in (1, 2, 3)]
QUARTER = Period.quarter(2026, 1)


def publish(api, body, capture) -> ReportSnapshot:
    with capture(execute=True):
        response = api.post("/api/v1/reports/", body, format="json")
    assert response.status_code == 202, response.json()
    return ReportSnapshot.objects.get(pk=response.json()["id"])


def released(api, snapshot: ReportSnapshot) -> Release:
    detail = api.get(f"/api/v1/reports/{snapshot.pk}/").json()
    files = api.get(f"/api/v1/reports/{snapshot.pk}/files/csv/")
    return report_release(detail, b"".join(files.streaming_content))


def attack_periods(releases: dict, *, keys, truth: dict, runs: dict):
    """The attacker over several periods at once: each period's cells as in `attack`,
    named (period, scope) — and, what a reader of overlapping periods adds, a run's
    count equal to the sum of its parts' (`runs`: run -> its periods) for every figure
    that adds up over months (not unique participants, not the survey)."""
    published, hidden, equations = {}, set(), []
    for period, period_releases in releases.items():
        groups = {}
        for release in period_releases:
            groups.update(release.groups)
            for (scope, key), value in release.cells.items():
                cell = ((period, scope), key)
                if value is None:
                    hidden.add(cell)
                else:
                    assert published.get(cell, value) == value
                    published[cell] = value
        sites = sorted({code for codes in groups.values() for code in codes})
        scopes = [(period, scope) for scope in [*sites, *groups]]
        equations += _breakdown_equations(scopes, keys) + _multiple_equations(scopes)
        for total, codes in groups.items():
            for key in keys:
                if key in NOT_ADDITIVE and len(codes) > 1:
                    continue
                equations.append(
                    {((period, total), key): 1, **{((period, c), key): -1 for c in codes}}
                )
    hidden -= set(published)
    seen = published.keys() | hidden
    for run, parts in runs.items():
        for (period, scope), key in list(seen):
            if period != run or key in NOT_ADDITIVE or key.startswith("survey"):
                continue
            terms = [((part, scope), key) for part in parts]
            if all(term in seen for term in terms):
                equations.append({((run, scope), key): 1, **dict.fromkeys(terms, -1)})
    for equation in equations:
        if all(cell in truth for cell in equation):
            assert sum(c * truth[cell] for cell, c in equation.items()) == 0, equation
    # Breakdown equations name lines a template leaves out: unknowns, as for `attack`.
    return _ranges(equations, published, hidden)


@pytest.mark.parametrize("quarter_first", [False, True], ids=["months-first", "quarter-first"])
def test_a_quarter_and_its_months_give_no_hidden_cell_away(
    quarter_first, api_as, coordinator_cleo, reporter_rita, django_capture_on_commit_callbacks
):
    threshold = settings.SSP_SUPPRESSION_THRESHOLD
    with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=PROGRAM), tick=False):
        begun = time.perf_counter()
        world = generated_months(seed=29, sites=3, months=MONTHS)
        generated_in = time.perf_counter() - begun
        api = api_as(coordinator_cleo)
        order = [QUARTER, *MONTHS] if quarter_first else [*MONTHS, QUARTER]
        releases, truth, keys = {}, {}, None
        for period in order:
            body = {"template": "state_ssp", "period": period.slug}
            snapshot = publish(api, body, django_capture_on_commit_callbacks)
            releases.setdefault(period.slug, []).append(released(api, snapshot))
            truth.update({((period.slug, s), k): v for (s, k), v in truth_of(snapshot).items()})
            keys = keys or snapshot.figures["keys"]
        # The differencing a reader would try next: half a month beside the month.
        half = {"template": "state_ssp", "period_start": "2026-03-01", "period_end": "2026-03-15"}
        assert (
            api_as(reporter_rita).post("/api/v1/reports/", half, format="json").status_code == 400
        )
        assert not ReportSnapshot.objects.filter(period_end=date(2026, 3, 15)).exists()
        api = api_as(coordinator_cleo)
        trends = api.get("/api/v1/reports/trends/?months=4").json()
        for month in MONTHS:
            releases[month.slug].append(trend_release(trends, month.slug))
    started = time.perf_counter()
    published_in = started - begun - generated_in
    findings = attack_periods(
        releases, keys=keys, truth=truth, runs={QUARTER.slug: [m.slug for m in MONTHS]}
    )
    attacked_in = time.perf_counter() - started
    found = exposed(findings, threshold=threshold)
    widths = [f.width for f in findings]
    print(
        f"\n{'quarter' if quarter_first else 'months'} first: {world.visits} visits at "
        f"{len(world.sites)} sites; hidden cells tried: {len(findings)}; smallest range: "
        f"{min(widths, default=None)}; exposed: {len(found)}; seconds: data {generated_in:.1f}, "
        f"publishing {published_in:.1f}, attack {attacked_in:.1f}"
    )
    for finding in found[:20]:
        print(f"  {finding.cell}: {finding.low} … {finding.high}")
    # The quarter's hidden cells are tied to its months' (one linked set).
    quarter_cells = [f for f in findings if f.cell[0][0] == QUARTER.slug]
    assert quarter_cells, "the quarter hides nothing: the test shows nothing"
    assert not found


def test_days_that_are_not_whole_months_are_refused_without_unsuppressed_figures(
    api_as, client, reporter_rita, coordinator_cleo, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime(2026, 2, 10, 12, tzinfo=PROGRAM), tick=False):
        body = {
            "template": "program_monthly",
            "period_start": "2026-01-01",
            "period_end": "2026-01-15",
        }
        response = api_as(reporter_rita).post("/api/v1/reports/", body, format="json")
        assert response.status_code == 400
        assert "whole months" in str(response.json())
        client.force_login(reporter_rita)
        page = client.post(
            "/reports/",
            {
                "template": "program_monthly",
                "period_kind": "custom",
                "start": "2026-01-01",
                "end": "2026-01-16",
            },
        )
        assert page.status_code == 400
        assert "whole months" in page.content.decode()
        # Whole months in any run (not a quarter) are fine: they join the months' set.
        months = {**body, "period_end": "2026-01-31"}
        months["period_start"] = "2026-01-01"
        assert (
            api_as(reporter_rita).post("/api/v1/reports/", months, format="json").status_code == 202
        )
        # Someone who may see unsuppressed figures may still build the days; nobody else
        # sees that report or its files.
        days = publish(api_as(coordinator_cleo), body, django_capture_on_commit_callbacks)
        assert api_as(reporter_rita).get(f"/api/v1/reports/{days.pk}/").status_code == 404
        assert client.get(f"/reports/{days.pk}/").status_code == 404
        assert api_as(coordinator_cleo).get(f"/api/v1/reports/{days.pk}/").status_code == 200


def test_a_quarter_built_first_puts_its_months_in_the_set_unshown_and_days_stay_apart(
    api_as, coordinator_cleo, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=PROGRAM), tick=False):
        generated_months(seed=13, sites=3, months=MONTHS[:1])
        api = api_as(coordinator_cleo)
        publish(
            api,
            {"template": "program_monthly", "period": "2026-Q1"},
            django_capture_on_commit_callbacks,
        )
        publish(
            api,
            {
                "template": "program_monthly",
                "period_start": "2026-01-01",
                "period_end": "2026-01-15",
            },
            django_capture_on_commit_callbacks,
        )
    rows = {(r.period_start, r.period_end): r for r in PeriodSuppression.objects.all()}
    # The quarter's months were released unshown with it: in the set, never published.
    for month in MONTHS:
        row = rows[(month.start, month.end)]
        assert row.values and not row.released
    quarter = rows[(QUARTER.start, QUARTER.end)]
    assert quarter.released
    days = rows[(date(2026, 1, 1), date(2026, 1, 15))]
    assert days.values


def row_of(period: Period, values: dict) -> PeriodSuppression:
    return PeriodSuppression(period_start=period.start, period_end=period.end, values=values)


def test_a_year_is_tied_to_its_quarters_and_a_fiscal_year_to_the_quarters_it_spans(settings):
    settings.SSP_FISCAL_YEAR_START_MONTH = 7
    quarters = [Period.quarter(2025, q) for q in (3, 4)] + [Period.quarter(2026, q) for q in (1, 2)]
    rows = [row_of(q, {"A|visits": 10 * n}) for n, q in enumerate(quarters, start=1)]
    rows.append(row_of(Period.fiscal_year(2026), {"A|visits": 100}))
    rows.append(row_of(Period.year(2026), {"A|visits": 70}))  # Q3, Q4 of 2026 not released
    equations = _time_equations(rows)
    assert equations == [
        (
            (1, "2025-07-01..2026-06-30#A|visits"),
            (-1, "2025-07-01..2025-09-30#A|visits"),
            (-1, "2025-10-01..2025-12-31#A|visits"),
            (-1, "2026-01-01..2026-03-31#A|visits"),
            (-1, "2026-04-01..2026-06-30#A|visits"),
        )
    ]


def test_only_figures_that_add_up_over_months_and_agree_are_tied():
    values = {"A|visits": 5, "A|unique_participants": 3, "A|survey_responses": 1, "A|referred": 2}
    rows = [row_of(month, values) for month in MONTHS]
    rows.append(
        row_of(
            QUARTER,
            {"A|visits": 15, "A|unique_participants": 4, "A|survey_responses": 4, "A|referred": 7},
        )
    )
    tied = {eq[0][1] for eq in _time_equations(rows)}
    # Referred: counted again after a month's release (7, not 6): no exact sum to use.
    assert tied == {"2026-01-01..2026-03-31#A|visits"}
