"""The offline app in a real browser (Debian's chromium) on a 390 × 844 phone, logged in
as an outreach account: visits and a street shift recorded with no connection are kept
on the device, survive a reload and a restarted browser, reach the server exactly once
when the connection returns, and the device forgets its caches at logout."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from org import roles
from ssp.models import Visit
from ssp.services import visit_record

from ..factories import LocationFactory, SiteFactory, make_staff
from ..support.intake import kit_line, new_uuid, on_hand, receive
from ..support.offline import (
    csrf_token,
    device_cache,
    device_records,
    go_offline,
    go_online,
    kept_pages,
    phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYNC = "/api/v1/sync/"


@pytest.fixture
def van(db):
    return SiteFactory(name="Northside van", code="VAN1")


@pytest.fixture
def street(db):
    return SiteFactory(name="Street outreach team", code="OUTR")


@pytest.fixture
def outreach_olu(van, street):
    """Like the demo's `outreach`: front desk at the van and on street shifts."""
    return make_staff("olu", roles.FRONT_DESK, [van, street])


@pytest.fixture
def van_stock(van, supplies, injection_kit, admin_ada):
    location = LocationFactory(name="Van shelf", kind="van", site=van)
    receive(location, {i: 1000 for key, i in supplies.items() if key != "naloxone"}, admin_ada)
    return location


@pytest.fixture
def known_code(outreach_olu, van, van_stock, injection_kit):
    """MAKO1993F came to the van last week: the device keeps the code."""
    visit_record(
        site=van,
        by=outreach_olu,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
        occurred_at=timezone.now() - timedelta(days=6),
    )
    return "MAKO1993F"


def log_in(page, user, browser_login):
    browser_login(page, user)


def open_front_desk(page, site):
    page.goto(f"/intake/?site={site.pk}")
    # The worker has kept this page and the menu's offline pages; the catalog and the
    # codes are on the device.
    expect(page.locator("#device-status")).to_have_attribute("data-offline-ready", "true")
    expect(page.locator("#intake-form")).to_have_attribute("data-device-copies", "ready")


def waiting_rows(page):
    return page.locator("#today tbody tr.device-waiting")


def record_visit(page, *, code=None, quick=0, collected=None):
    if code:
        page.fill("#code", code)
    else:
        page.check("#anonymous")
    page.locator(".quick-add").nth(quick).click()
    if collected is not None:
        page.fill("#id_syringes_collected", str(collected))
    page.click("#save")
    expect(page.locator("#device-notice")).to_contain_text("waiting to send")


def test_five_visits_and_a_shift_recorded_offline_reach_the_server_exactly_once(
    chromium,
    live_server,
    tmp_path,
    browser_login,
    outreach_olu,
    van,
    van_stock,
    supplies,
    injection_kit,
    known_code,
):
    profile = tmp_path / "phone"
    stock_before = {key: on_hand(van_stock, item) for key, item in supplies.items()}
    visits_before = Visit.objects.count()
    started = timezone.now()
    sync_bodies: list[dict] = []

    with phone(chromium, profile, live_server.url) as context:
        page = context.pages[0]
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        assert {"/intake/", "/intake/shift/", "/"} <= set(kept_pages(page))
        assert known_code in device_cache(page, "codes")["codes"]

        go_offline(context)
        expect(page.locator("#device-status")).to_have_attribute("data-state", "offline")

        # The look-up panel answers from the device, not blank.
        page.fill("#code", "MAKO1994F")
        panel = page.locator("#participant-panel")
        expect(panel).to_contain_text("offline — suggestions from this device")
        expect(panel.locator(".use-code[data-code=MAKO1993F]")).to_contain_text(
            "one character different"
        )
        panel.locator(".use-code[data-code=MAKO1993F]").click()
        expect(page.locator("#code")).to_have_value("MAKO1993F")
        page.locator(".quick-add").first.click()  # the injection kit
        page.click("#save")
        expect(page.locator("#device-notice")).to_contain_text("waiting to send")

        record_visit(page, code="JOSA1988M", quick=0, collected=20)
        record_visit(page, quick=0)
        record_visit(page, code="MAKO1993F", quick=0)
        record_visit(page, code="LUPE2001X", quick=0, collected=5)
        expect(waiting_rows(page)).to_have_count(5)
        expect(page.locator("#device-status")).to_contain_text("Offline · 5 waiting to send")

        # The street shift page was kept while online: it opens offline.
        page.goto("/intake/shift/")
        page.fill("#id_contacts", "12")
        page.select_option("#other-supply", f"kit:{injection_kit.pk}")
        page.click("#add-other")
        page.locator("#cart input.qty").fill("3")
        page.fill("#id_syringes_collected", "150")
        page.click("#save")
        expect(page.locator("#device-notice")).to_contain_text("Shift kept on this device")
        expect(page.locator("#device-outbox tbody tr")).to_have_count(6)

        # Reload while still offline: the queue and the waiting rows are still there.
        page.goto(f"/intake/?site={van.pk}")
        page.reload()
        expect(waiting_rows(page)).to_have_count(6)
        expect(waiting_rows(page).filter(has_text="shift · 12 contacts")).to_have_count(1)
        assert len(device_records(page)) == 6
        assert Visit.objects.count() == visits_before  # nothing reached the server

    # The browser is closed and opened again, still without a connection.
    with phone(chromium, profile, live_server.url, offline=True) as context:
        page = context.pages[0]
        page.on(
            "request",
            lambda r: sync_bodies.append(json.loads(r.post_data)) if r.url.endswith(SYNC) else None,
        )
        page.goto(f"/intake/?site={van.pk}")
        expect(waiting_rows(page)).to_have_count(6)
        assert {r["status"] for r in device_records(page)} == {"waiting"}

        # Online again. The restarted browser lost its session cookie: log in again.
        go_online(context)
        log_in(page, outreach_olu, browser_login)
        page.goto(f"/intake/?site={van.pk}")
        expect(page.locator("#device-status")).to_have_attribute("data-waiting", "0")
        assert device_records(page) == []
        assert sync_bodies, "the records went through the batch endpoint"

        new = Visit.objects.filter(recorded_by=outreach_olu, recorded_at__gte=started)
        assert new.filter(contacts=1).count() == 5
        shift = new.get(contacts__gt=1)
        assert (shift.contacts, shift.syringes_collected) == (12, 150)
        assert Visit.objects.count() == visits_before + 6

        # Stock moved once: 5 kits at the desk, 3 in the shift, each kit 10 + 10 + 2.
        kits = 5 + 3
        moved = {
            key: stock_before[key] - on_hand(van_stock, item) for key, item in supplies.items()
        }
        assert moved == {
            "syringe": 10 * kits,
            "pad": 10 * kits,
            "cooker": 2 * kits,
            "water": 0,
            "naloxone": 0,
        }

        # Loaded again, the rows are the server's own.
        page.reload()
        expect(page.locator("#today tbody tr[data-visit]")).to_have_count(6)

        # Replaying the queue creates nothing.
        # (A try before the new login was refused, 401, and kept every record.)
        sent = {r["client_uuid"]: r for body in sync_bodies for r in body["records"]}
        assert len(sent) == 6
        replay = {"records": list(sent.values())}
        answer = page.request.post(
            SYNC,
            data=json.dumps(replay),
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf_token(page)},
        )
        assert answer.status == 200
        assert {r["status"] for r in answer.json()["results"]} == {"duplicate"}
        assert Visit.objects.count() == visits_before + 6
        after_replay = {
            key: stock_before[key] - on_hand(van_stock, item) for key, item in supplies.items()
        }
        assert after_replay == moved
