"""The events pages: the list by site and kind, a form per kind with field messages,
correction and void, and who sees what."""

from datetime import date
from decimal import Decimal

import pytest

from events.models import ProgramEvent
from events.services import event_record

pytestmark = pytest.mark.django_db


def test_front_desk_records_a_cleanup_from_its_form(client, front_desk_ana, site_a):
    client.force_login(front_desk_ana)
    form = client.get("/events/new/cleanup/")
    assert form.status_code == 200
    assert 'name="syringes_collected"' in form.content.decode()
    answer = client.post(
        "/events/new/cleanup/",
        {"site": site_a.pk, "occurred_on": "2026-12-15", "syringes_collected": "88",
         "staff_hours": "5"},
    )  # fmt: skip
    assert answer.status_code == 302
    event = ProgramEvent.objects.get()
    assert (event.syringes_collected, event.staff_hours, event.recorded_by) == (
        88,
        Decimal("5.00"),
        front_desk_ana,
    )
    listed = client.get("/events/").content.decode()
    assert "Downtown drop-in" in listed and "88 syringes collected" in listed


def test_a_form_shows_the_message_next_to_the_field(client, front_desk_ana, site_a):
    client.force_login(front_desk_ana)
    answer = client.post(
        "/events/new/sharps_emptied/",
        {"site": site_a.pk, "occurred_on": "2026-12-20", "container": "kiosk", "weight": "3",
         "weight_unit": "kg"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert "cannot be dated in the future" in answer.content.decode()
    assert not ProgramEvent.objects.exists()


def test_an_unknown_kind_is_not_found(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert client.get("/events/new/party/").status_code == 404


def test_the_list_filters_by_site_and_kind_and_hides_other_sites(
    client, front_desk_ana, front_desk_ben, coordinator_cleo, site_a, site_b
):
    day = date(2026, 12, 14)
    event_record(
        kind="needle_stick", site=site_a, occurred_on=day, by=front_desk_ana, person_stuck="staff"
    )
    event_record(
        kind="needle_stick", site=site_b, occurred_on=day, by=front_desk_ben,
        person_stuck="community",
    )  # fmt: skip
    client.force_login(front_desk_ana)
    mine = client.get("/events/").content.decode()
    assert "Staff or volunteer" in mine and "Community member" not in mine
    client.force_login(coordinator_cleo)
    every = client.get("/events/").content.decode()
    assert "Staff or volunteer" in every and "Community member" in every
    assert "Record a clean-up" not in every  # coordinators read
    only_b = client.get("/events/", {"site": site_b.pk, "kind": "needle_stick"}).content.decode()
    assert "Community member" in only_b and "Staff or volunteer" not in only_b
    assert client.get("/events/new/cleanup/").status_code == 403


def test_correct_and_void_from_the_event_page(client, front_desk_ana, site_a):
    event = event_record(
        kind="cleanup", site=site_a, occurred_on=date(2026, 12, 14), by=front_desk_ana,
        syringes_collected=10, staff_hours=Decimal("2"),
    )  # fmt: skip
    client.force_login(front_desk_ana)
    page = client.get(f"/events/{event.uuid}/").content.decode()
    assert "Save correction" in page and "Void event" in page
    fixed = client.post(
        f"/events/{event.uuid}/",
        {"occurred_on": "2026-12-14", "syringes_collected": "12", "staff_hours": "2"},
    )
    assert fixed.status_code == 302
    event.refresh_from_db()
    assert event.syringes_collected == 12
    client.post(f"/events/{event.uuid}/void/", {"reason": "twice"})
    event.refresh_from_db()
    assert event.void_reason == "twice"
    after = client.get(f"/events/{event.uuid}/").content.decode()
    assert "Entered twice" in after and "Save correction" not in after


def test_the_menu_lists_program_events_for_those_who_see_them(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert 'href="/events/"' in client.get("/").content.decode()
