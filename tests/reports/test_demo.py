"""The reports demo step: last month's snapshot of every template, shown on the pages."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from org.demo import seed_sites_and_staff
from org.models import Site, User
from reports.demo import seed_reports
from reports.funder_templates import TEMPLATES
from reports.models import ReportSnapshot, ReportTrigger

from ..factories import VisitFactory

pytestmark = pytest.mark.django_db

PROGRAM = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_demo_builds_last_months_reports_once_and_the_pages_show_them(client, media):
    seed_sites_and_staff(log=lambda *a: None)
    downtown = Site.objects.get(code="DTWN")
    for day in range(1, 29):  # 28 visits in February 2026, one in March (left out)
        VisitFactory(
            site=downtown, occurred_at=datetime.combine(date(2026, 2, day), time(10), PROGRAM)
        )
    VisitFactory(site=downtown, occurred_at=datetime(2026, 3, 1, 9, tzinfo=PROGRAM))
    lines = []
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=PROGRAM), tick=False):
        seed_reports(log=lines.append)
        seed_reports(log=lines.append)  # a second seed_demo run adds nothing

    snapshots = ReportSnapshot.objects.order_by("template")
    assert [s.template for s in snapshots] == sorted(TEMPLATES)
    for snapshot in snapshots:
        assert snapshot.is_ready and snapshot.trigger == ReportTrigger.SCHEDULED
        assert (snapshot.period_start, snapshot.period_end) == (date(2026, 2, 1), date(2026, 2, 28))
        assert snapshot.figures["values"]["TOTAL"]["visits"] == 28
        assert (media / snapshot.csv_file.name).exists()
        assert (media / snapshot.xlsx_file.name).exists()
    assert any("February 2026" in line for line in lines)

    client.force_login(User.objects.get(username="coordinator"))
    listing = client.get("/reports/").content.decode()
    assert "February 2026" in listing
    state = snapshots.get(template="state_ssp")
    page = client.get(f"/reports/{state.pk}/").content.decode()
    assert "Total encounters" in page and ">28<" in page.replace(" ", "")
