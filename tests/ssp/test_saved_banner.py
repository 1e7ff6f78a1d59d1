"""The banner after a save names the day whenever the visit is not today: a backdated
visit that said only "Saved 14:30" read as today's."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from org.time import moment_label
from ssp.models import Visit

from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db

PROGRAM = ZoneInfo("America/New_York")
# 00:20 on a Tuesday, program time (05:20 UTC): 23:50 the evening before is the same UTC day.
JUST_AFTER_MIDNIGHT = datetime(2026, 3, 3, 0, 20, tzinfo=PROGRAM)


def saved_banner(client, site, occurred_at: str) -> str:
    data = {"client_uuid": new_uuid(), "site": site.pk, "code": "MAKO1993F",
            "occurred_at": occurred_at}  # fmt: skip
    response = client.post(f"/intake/?site={site.pk}", data)
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(response["Location"]).content.decode()
    start = page.index('id="saved-visit"')
    return page[start : page.index("</div>", start)]


@pytest.fixture
def desk(client, front_desk_ana, storeroom, settings):
    settings.SSP_VISIT_BACKDATE_DAYS = 7
    client.force_login(front_desk_ana)
    return client


def test_a_visit_saved_for_today_shows_the_time_alone(desk, site_a):
    with time_machine.travel(datetime(2026, 3, 3, 15, 0, tzinfo=PROGRAM), tick=False):
        banner = saved_banner(desk, site_a, "2026-03-03T14:30")
    assert ">14:30<" in banner
    assert "2026" not in banner


def test_a_backdated_visit_shows_its_date_and_time(desk, site_a):
    with time_machine.travel(datetime(2026, 3, 3, 15, 0, tzinfo=PROGRAM), tick=False):
        banner = saved_banner(desk, site_a, "2026-03-01T14:30")
    assert "Sun 1 Mar 2026, 14:30" in banner
    assert Visit.objects.get().occurred_at == datetime(2026, 3, 1, 14, 30, tzinfo=PROGRAM)


def test_yesterday_late_evening_is_not_today_just_after_midnight(desk, site_a):
    # Under an hour ago, and the same day in UTC: still another day for the program.
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        banner = saved_banner(desk, site_a, "2026-03-02T23:50")
    assert "Mon 2 Mar 2026, 23:50" in banner


def test_the_label_is_read_in_the_program_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    now = datetime(2026, 3, 3, 0, 20, tzinfo=PROGRAM)
    assert moment_label(datetime(2026, 3, 3, 0, 5, tzinfo=PROGRAM), now=now) == "00:05"
    assert moment_label(datetime(2026, 3, 2, 23, 55, tzinfo=PROGRAM), now=now) == (
        "Mon 2 Mar 2026, 23:55"
    )
