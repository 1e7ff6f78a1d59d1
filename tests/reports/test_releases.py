"""One linked set per period: what one release hides stays hidden in every later one
(another site grouping, another template, the dashboard), and nobody without the
unsuppressed capability gets an unsuppressed figure from any endpoint."""

from datetime import datetime

import pytest
import time_machine

from reports.metrics import TOTAL
from reports.models import PeriodSuppression, ReportSnapshot
from reports.releases import cell_name, group_scope
from reports.services import report_build, report_request

from ..support.reports import JANUARY, PROGRAM, january_visits

pytestmark = pytest.mark.django_db

FEBRUARY_10 = datetime(2026, 2, 10, 12, tzinfo=PROGRAM)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def built(template, by, site_ids=None) -> ReportSnapshot:
    snapshot = report_request(template=template, period=JANUARY, by=by, site_ids=site_ids)
    report_build(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot


def hidden_now() -> set[str]:
    row = PeriodSuppression.objects.get(period_start=JANUARY.start, period_end=JANUARY.end)
    return set(row.hidden)


def test_a_cell_hidden_for_a_period_stays_hidden_in_every_later_release(
    api_as, coordinator_cleo, reporter_rita, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(FEBRUARY_10, tick=False):
        first = built("program_monthly", coordinator_cleo)
        after_first = hidden_now()
        assert cell_name("EAST", "visits") in after_first  # Eastside's 3 visits
        built("state_ssp", coordinator_cleo, site_ids=[site_a.pk])
        built("ontario_monthly", coordinator_cleo, site_ids=[site_b.pk])
        api_as(reporter_rita).get("/api/v1/reports/trends/?months=3")
        after_all = hidden_now()
        assert after_first <= after_all
        # Downtown alone: its column is its total, hidden wherever Downtown's is.
        alone = group_scope(["DTWN"])
        released = PeriodSuppression.objects.get(period_start=JANUARY.start).values
        for cell in after_all:
            scope, key = cell.split("|")
            if scope == "DTWN" and cell_name(alone, key) in released:
                assert cell_name(alone, key) in after_all
        # The first report's page hides everything hidden since, not only what it hid.
        detail = api_as(reporter_rita).get(f"/api/v1/reports/{first.pk}/").json()
        columns = detail["tables"][0]["columns"]
        scopes = [
            "DTWN" if c == site_a.name else "EAST" if c == site_b.name else TOTAL for c in columns
        ]
        total = group_scope(["DTWN", "EAST"])
        for table in detail["tables"]:
            for row in table["rows"]:
                for scope, cell in zip(scopes, row["cells"], strict=True):
                    name = cell_name(total if scope == TOTAL else scope, row["key"])
                    if row["key"] and name in after_all:
                        assert cell["suppressed"] and cell["value"] is None, name
        # The dashboard hides what the report hides for the same month and figure.
        trends = api_as(reporter_rita).get("/api/v1/reports/trends/?months=3").json()
    january = trends["months"].index("2026-01")
    for series, key in (("visits", "visits"), ("syringes_distributed", "supplies.syringe")):
        for scope in ("DTWN", "EAST"):
            if cell_name(scope, key) in after_all:
                assert trends["series"][series][scope][january] is None


def test_without_the_unsuppressed_capability_every_endpoint_is_suppressed(
    api_as, client, coordinator_cleo, reporter_rita, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(FEBRUARY_10, tick=False):
        snapshot = built("program_monthly", coordinator_cleo)
        api = api_as(reporter_rita)
        detail = api.get(f"/api/v1/reports/{snapshot.pk}/").json()
        values = [c["value"] for t in detail["tables"] for r in t["rows"] for c in r["cells"]]
        assert not [v for v in values if isinstance(v, int) and 0 < v < 11]
        trends = api.get("/api/v1/reports/trends/?months=3").json()
        counts = [
            v
            for name, by_scope in trends["series"].items()
            if name != "linkage_rate"
            for series in by_scope.values()
            for v in series
        ]
        assert not [v for v in counts if v is not None and 0 < v < 11]
        assert api.get(f"/api/v1/reports/{snapshot.pk}/?unsuppressed=true").status_code == 403
        assert api.get("/api/v1/reports/trends/?unsuppressed=true").status_code == 403
        client.force_login(reporter_rita)
        page = client.get("/reports/dashboard/?view=unsuppressed").content.decode()
        assert "suppressed" in page
        assert client.get(f"/reports/{snapshot.pk}/?view=unsuppressed").status_code == 403


@pytest.mark.parametrize("persona", ["front_desk_ana", "manager_sam"])
def test_front_desk_and_managers_get_no_report_figures_at_all(
    persona, request, api_as, client, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(FEBRUARY_10, tick=False):
        snapshot = built("program_monthly", coordinator_cleo)
    user = request.getfixturevalue(persona)
    api = api_as(user)
    for path in (
        "/api/v1/reports/",
        f"/api/v1/reports/{snapshot.pk}/",
        f"/api/v1/reports/{snapshot.pk}/files/csv/",
        f"/api/v1/reports/{snapshot.pk}/files/xlsx/",
        "/api/v1/reports/trends/",
        "/api/v1/reports/templates/",
    ):
        assert api.get(path).status_code == 403, path
    client.force_login(user)
    for path in ("/reports/", f"/reports/{snapshot.pk}/", "/reports/dashboard/"):
        assert client.get(path).status_code == 403, path
