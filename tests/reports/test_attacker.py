"""The exact attacker (tests/support/attacker.py) against everything released for each of
several generated months at many small sites: every template program-wide, one template
over several site groupings (one of them a single site), and the dashboard's trend API
over all sites and over a subset. No hidden cell may be pinned to one value or to a
range inside 1 … threshold − 1."""

from datetime import datetime

import pytest
import time_machine
from django.conf import settings

from reports.funder_templates import TEMPLATES
from reports.models import ReportSnapshot
from reports.periods import Period

from ..support.attacker import (
    attack,
    exposed,
    report_release,
    trend_release,
    truth_of,
)
from ..support.generated import generated_months
from ..support.reports import PROGRAM

pytestmark = pytest.mark.django_db

MONTHS = [Period.month(2026, m) for m in (1, 2, 3)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def publish(api, period: Period, grouping, capture) -> ReportSnapshot:
    template, sites = grouping
    body = {"template": template, "period": period.slug}
    if sites:
        body["site_ids"] = sites
    with capture(execute=True):
        response = api.post("/api/v1/reports/", body, format="json")
    assert response.status_code == 202, response.json()
    return ReportSnapshot.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize("seed", [13, 41])
def test_no_hidden_cell_of_a_generated_month_can_be_worked_out(
    seed, api_as, coordinator_cleo, django_capture_on_commit_callbacks
):
    threshold = settings.SSP_SUPPRESSION_THRESHOLD
    with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=PROGRAM), tick=False):
        world = generated_months(seed=seed, sites=10, months=MONTHS)
        api = api_as(coordinator_cleo)
        ids = [s.pk for s in world.sites]
        groupings = [
            *((key, None) for key in TEMPLATES),
            ("program_monthly", ids[:5]),
            ("program_monthly", ids[3:9]),
            ("program_monthly", ids[:1]),
        ]
        trends = {
            "all": api.get("/api/v1/reports/trends/?months=4").json(),
            "some": api.get(
                "/api/v1/reports/trends/?months=4&" + "&".join(f"site={pk}" for pk in ids[2:7])
            ).json(),
        }
        tried, smallest, found = 0, None, []
        for period in MONTHS:
            releases, truth, keys = [], {}, None
            for grouping in groupings:
                snapshot = publish(api, period, grouping, django_capture_on_commit_callbacks)
                snapshot.refresh_from_db()
                detail = api.get(f"/api/v1/reports/{snapshot.pk}/").json()
                files = api.get(f"/api/v1/reports/{snapshot.pk}/files/csv/")
                csv_bytes = b"".join(files.streaming_content)
                releases.append(report_release(detail, csv_bytes))
                truth.update(truth_of(snapshot))
                keys = keys or snapshot.figures["keys"]
            releases += [trend_release(t, period.slug) for t in trends.values()]
            findings = attack(releases, keys=keys, truth=truth)
            tried += len(findings)
            widths = [f.width for f in findings]
            if widths:
                smallest = min(widths) if smallest is None else min(smallest, *widths)
            found += [(period.slug, f) for f in exposed(findings, threshold=threshold)]
    print(f"\nseed {seed}: {world.visits} visits at {len(world.sites)} sites, {len(MONTHS)} months")
    print(f"hidden cells tried: {tried}; smallest range: {smallest}; exposed: {len(found)}")
    for month, finding in found[:40]:
        print(f"  {month} {finding.cell}: {finding.low} … {finding.high}")
    assert tried > 0
    assert not found
