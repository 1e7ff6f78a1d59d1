"""In a real browser at 1280 and 390 px: the menu leads to program events, each kind's
form records one, the list and the event page fit the screen (no sideways scroll)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from events.models import ProgramEvent
from events.services import event_record

from ..support.walk import DESKTOP, PHONE, go_to_menu_entry, horizontal_overflow, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fixed_today():
    """Replaces the module's frozen clock: the live server runs in another thread, on
    the real clock, as staff have it."""
    yield


@pytest.fixture(autouse=True)
def _server_warmed(page):
    """The live server's first request loads the middleware (WhiteNoise scans the static
    files), which on a busy machine outlasts a page's 10 s: wait for it once."""
    page.goto("/healthz", timeout=90_000)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "390"])
def test_front_desk_records_each_kind_and_every_events_page_fits(
    page, browser_login, front_desk_ana, site_a, size
):
    page.set_viewport_size(size)
    browser_login(page, front_desk_ana)
    go_to_menu_entry(page, "Program events")
    page.wait_for_url("**/events/")
    assert horizontal_overflow(page) <= 0

    page.get_by_role("link", name="Record a clean-up").click()
    page.fill("#id_syringes_collected", "64")
    page.fill("#id_staff_hours", "4.5")
    assert horizontal_overflow(page) <= 0
    page.get_by_role("button", name="Save event").click()
    page.wait_for_url("**/events/")

    page.get_by_role("link", name="Record a needle-stick injury").click()
    page.get_by_label("Community member").check()
    page.get_by_role("button", name="Save event").click()
    page.wait_for_url("**/events/")

    page.get_by_role("link", name="Record a kiosk or bin emptied").click()
    page.select_option("#id_container", "kiosk")
    page.fill("#id_weight", "3")
    page.get_by_label("lb", exact=True).check()
    assert horizontal_overflow(page) <= 0
    page.get_by_role("button", name="Save event").click()
    page.wait_for_url("**/events/")

    listed = page.locator("main table tbody")
    assert "64 syringes collected" in listed.inner_text()
    assert "Community member" in listed.inner_text()
    assert "about 840 syringes" in listed.inner_text()
    assert horizontal_overflow(page) <= 0
    screenshot(page, f"events-list-{size['width']}")

    kinds = sorted(ProgramEvent.objects.values_list("kind", flat=True))
    assert kinds == ["cleanup", "needle_stick", "sharps_emptied"]
    assert all(e.recorded_by == front_desk_ana for e in ProgramEvent.objects.all())


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_event_page_corrects_and_voids_and_fits(
    page, browser_login, front_desk_ana, site_a, size
):
    event = event_record(
        kind="cleanup", site=site_a, occurred_on=timezone.localdate(), by=front_desk_ana,
        syringes_collected=10, staff_hours=Decimal("2"),
    )  # fmt: skip
    page.set_viewport_size(size)
    browser_login(page, front_desk_ana)
    page.goto(f"/events/{event.uuid}/")
    assert horizontal_overflow(page) <= 0
    screenshot(page, f"events-detail-{size['width']}")
    page.fill("#id_syringes_collected", "12")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_load_state()
    event.refresh_from_db()
    assert event.syringes_collected == 12
    page.select_option("#id_reason", "twice")
    page.get_by_role("button", name="Void event").click()
    page.wait_for_url("**/events/")
    event.refresh_from_db()
    assert event.void_reason == "twice"
