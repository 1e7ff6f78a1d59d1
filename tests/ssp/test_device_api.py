"""What the offline app keeps on a phone, as the API hands it out: the catalog of the
sites one records at, and the codes seen at one's own sites — codes only, never a code
seen only at another site (issue 15's rule), refreshed from the server's current state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ssp.models import Visit
from ssp.services import participant_merge

from ..factories import LocationFactory, ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db

CODES = "/api/v1/device/codes/"
CATALOG = "/api/v1/device/catalog/"


def visit_at(site, code, *, days_ago=0, voided=False):
    return VisitFactory(
        site=site,
        participant=ParticipantFactory(code=code),
        occurred_at=timezone.now() - timedelta(days=days_ago),
        voided_at=timezone.now() if voided else None,
    )


def test_the_device_gets_the_codes_seen_at_ones_own_sites_only(
    api_as, front_desk_ana, site_a, site_b, settings
):
    settings.SSP_DEVICE_CODES_DAYS = 30
    visit_at(site_a, "MAKO1993F")
    visit_at(site_a, "JOSA1988M", days_ago=29)
    visit_at(site_b, "LUPE2001X")  # only at another site: never on ana's phone
    visit_at(site_a, "OLDX1970M", days_ago=31)  # not seen for longer than the setting
    visit_at(site_a, "VOID1990F", voided=True)
    response = api_as(front_desk_ana).get(CODES)
    assert response.status_code == 200
    assert response.json() == {"codes": ["JOSA1988M", "MAKO1993F"], "days": 30}


def test_a_merged_code_reaches_the_device_as_the_code_kept(
    api_as, front_desk_ana, manager_sam, site_a
):
    visit_at(site_a, "MAKO1993F")
    visit_at(site_a, "MAK01993F")
    kept, merged = (ParticipantFactory(code=c) for c in ("MAKO1993F", "MAK01993F"))
    participant_merge(merged=merged, kept=kept, by=manager_sam)
    assert api_as(front_desk_ana).get(CODES).json()["codes"] == ["MAKO1993F"]


def test_anonymous_visits_and_shifts_add_no_code(api_as, front_desk_ana, site_a):
    VisitFactory(site=site_a, participant=None)
    VisitFactory(site=site_a, participant=None, contacts=12)
    assert Visit.objects.count() == 2
    assert api_as(front_desk_ana).get(CODES).json()["codes"] == []


def test_the_code_list_counts_as_a_look_up(api_as, front_desk_ana, settings):
    settings.SSP_LOOKUP_RATE = "1/min"
    client = api_as(front_desk_ana)
    assert client.get(CODES).status_code == 200
    assert client.get(CODES).status_code == 429


def test_the_catalog_lists_the_sites_one_records_at_with_their_stock_locations(
    api_as, front_desk_ana, site_a, site_b, supplies, injection_kit
):
    van_shelf = LocationFactory(name="Van shelf", site=site_a)
    LocationFactory(name="Eastside shelf", site=site_b)
    body = api_as(front_desk_ana).get(CATALOG).json()
    assert [(s["code"], [loc["id"] for loc in s["locations"]]) for s in body["sites"]] == [
        ("DTWN", [van_shelf.pk])
    ]
    assert {i["code"] for i in body["items"]} == {i.code for i in supplies.values()}
    assert [(k["id"], k["code"]) for k in body["kits"]] == [(injection_kit.pk, "std-kit")]
    assert body["session_ends_at"] is None  # a token or forced login: no browser session


def test_the_catalog_says_when_the_login_ends(client, front_desk_ana, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 3600
    client.force_login(front_desk_ana)
    client.get("/")  # the session's start is noted on the first request
    before = timezone.now()
    ends = client.get(CATALOG).json()["session_ends_at"]
    ends_at = timezone.datetime.fromisoformat(ends)
    assert before + timedelta(minutes=59) < ends_at <= before + timedelta(hours=1)


@pytest.mark.parametrize("path", [CODES, CATALOG])
def test_the_device_copies_are_for_people_who_log_visits(api_as, coordinator_cleo, path):
    assert api_as(coordinator_cleo).get(path).status_code == 403
