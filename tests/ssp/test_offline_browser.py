"""The offline app in a real browser (Debian's chromium) on a 390 × 844 phone, logged in
as an outreach account: visits and a street shift recorded with no connection are kept
on the device, survive a reload and a restarted browser, reach the server exactly once
when the connection returns, and the device forgets its caches at logout."""

import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from org import roles
from referrals.defaults import default_types_ensure
from referrals.models import Referral, ReferralType
from ssp.models import Visit
from ssp.serializers import VisitSerializer
from ssp.services import visit_record

from ..factories import LocationFactory, SiteFactory, make_staff
from ..support.accessibility import assert_no_serious_axe_violations
from ..support.intake import kit_line, new_uuid, on_hand, receive
from ..support.offline import (
    csrf_token,
    cut_off_the_worker,
    device_cache,
    device_records,
    go_offline,
    go_online,
    kept_pages,
    phone,
    reconnect_the_worker,
)
from ..support.walk import open_menu

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


def saved_on_device(page, waiting_before: int) -> None:
    """Wait for this save to be queued, not the last one: the notice still says "waiting
    to send" from the save before, and typing into a form the last save is still
    clearing loses the code."""
    expect(waiting_rows(page)).to_have_count(waiting_before + 1)
    expect(page.locator("#device-notice")).to_contain_text("waiting to send")


def record_visit(page, *, code=None, quick=0, collected=None):
    waiting = waiting_rows(page).count()
    if code:
        page.fill("#code", code)
    else:
        page.check("#anonymous")
    page.locator(".quick-add").nth(quick).click()
    if collected is not None:
        page.fill("#id_syringes_collected", str(collected))
    page.click("#save")
    saved_on_device(page, waiting)


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
        expect(panel.locator(".use-code[data-code=MAKO1993F]")).to_contain_text("birth year ±1")
        panel.locator(".use-code[data-code=MAKO1993F]").click()
        expect(page.locator("#code")).to_have_value("MAKO1993F")
        page.locator(".quick-add").first.click()  # the injection kit
        page.click("#save")
        saved_on_device(page, 0)

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
        assert_no_serious_axe_violations(page)

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
        page.goto(f"/intake/?site={van.pk}")
        # A browser just started boots its service worker and opens the device's store
        # before it draws the queue: slower than a reload on a loaded CI machine.
        expect(waiting_rows(page)).to_have_count(6, timeout=20_000)
        assert {r["status"] for r in device_records(page)} == {"waiting"}
        assert Visit.objects.count() == visits_before

    # Started again with a connection. The restarted browser lost its session cookie:
    # log in again.
    with phone(chromium, profile, live_server.url) as context:
        page = context.pages[0]
        page.on(
            "request",
            lambda r: sync_bodies.append(json.loads(r.post_data)) if r.url.endswith(SYNC) else None,
        )
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


def typed_time(when) -> str:
    """A value for the form's "When" field (datetime-local, the program's time)."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def record_backdated_visit(page, code, days):
    waiting = waiting_rows(page).count()
    page.fill("#code", code)
    page.locator(".quick-add").first.click()
    page.locator("details.more").evaluate("(details) => { details.open = true; }")
    page.fill("#id_occurred_at", typed_time(timezone.now() - timedelta(days=days)))
    page.click("#save")
    saved_on_device(page, waiting)


def test_a_record_the_server_refuses_stays_on_the_device_with_its_message_until_fixed(
    chromium, live_server, tmp_path, browser_login, outreach_olu, van, van_stock, settings
):
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        go_offline(context)
        too_old = settings.SSP_VISIT_BACKDATE_DAYS + 3
        record_backdated_visit(page, "JOSA1988M", too_old)
        record_backdated_visit(page, "LUPE2001X", too_old)
        record_visit(page, code="MAKO1993F")

        go_online(context)
        status = page.locator("#device-status")
        expect(status).to_have_attribute("data-refused", "2")
        expect(status).to_contain_text("2 not accepted")
        refused = page.locator("#today tbody tr.device-refused")
        expect(refused).to_have_count(2)
        expect(refused.first).to_contain_text("not accepted")
        expect(refused.first.locator(".refused-message")).to_contain_text("occurred_at")
        assert Visit.objects.filter(participant__code="MAKO1993F").count() == 1
        records = device_records(page)
        assert [r["status"] for r in records] == ["refused", "refused"]
        assert all(r["message"] for r in records)
        assert_no_serious_axe_violations(page)

        # Sending again (a reload, the timer) does not drop or resend them.
        page.reload()
        expect(page.locator("#today tbody tr.device-refused")).to_have_count(2)
        assert Visit.objects.filter(participant__code__in=["JOSA1988M", "LUPE2001X"]).count() == 0

        # Fix: the record comes back into the form with its client UUID; saved with a
        # time inside the window, it is that visit, and it leaves the device.
        josa = next(r for r in records if r["summary"]["code"] == "JOSA1988M")
        page.locator(f"tr[data-client-uuid='{josa['client_uuid']}'] .device-fix").click()
        expect(page.locator("#code")).to_have_value("JOSA1988M")
        expect(page.locator("#cart tr")).to_have_count(1)
        page.fill("#id_occurred_at", "")
        page.click("#save")
        page.locator("#saved-visit").wait_for()
        assert Visit.objects.get(uuid=josa["client_uuid"]).participant.code == "JOSA1988M"
        expect(page.locator("#today tbody tr.device-refused")).to_have_count(1)

        # Discard, on purpose and after a question: the other one is gone for good.
        page.locator("#today tbody tr.device-refused .device-discard").click()
        expect(page.locator("#today tbody tr.device-refused")).to_have_count(0)
        assert device_records(page) == []
        expect(status).to_have_attribute("data-refused", "0")


def test_logout_and_the_end_of_the_session_wipe_the_device_cache_but_keep_the_outbox(
    chromium, live_server, tmp_path, browser_login, outreach_olu, van, van_stock, known_code
):
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        assert known_code in device_cache(page, "codes")["codes"]
        assert device_cache(page, "catalog")["sites"]
        assert kept_pages(page)
        # One record the server will refuse: it must outlive the logout.
        go_offline(context)
        record_backdated_visit(page, "JOSA1988M", 30)
        go_online(context)
        expect(page.locator("#device-status")).to_have_attribute("data-refused", "1")

        open_menu(page)  # on a phone Log out sits in the folded menu
        page.click(".logout-form button")
        page.wait_for_url("**/login/")
        assert "1 record has not reached the server yet" in dialogs[0]
        expect(page.locator("#id_username")).to_be_visible()
        for key in ["codes", "catalog", "csrf", "user", "sent"]:
            assert device_cache(page, key) is None, key
        assert kept_pages(page) == []
        assert [r["summary"]["code"] for r in device_records(page)] == ["JOSA1988M"]

        # Logged in again, the copies come back; then the session ends on the server.
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        expect(page.locator("#today tbody tr.device-refused")).to_have_count(1)
        assert device_cache(page, "codes")["codes"]
        Session.objects.all().delete()
        page.goto(f"/intake/?site={van.pk}")
        page.wait_for_url("**/login/**")
        expect(page.locator("#id_username")).to_be_visible()
        assert device_cache(page, "codes") is None
        assert kept_pages(page) == []
        assert len(device_records(page)) == 1


def test_the_page_form_and_the_offline_body_record_the_same_visit(
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
    """One mapping: what the front desk's form posts and the API body the device
    builds from the same filled-in form give the same visit (services and the referral
    made with it included)."""
    default_types_ensure(ReferralType)  # transactional tests empty the seeded types
    when = typed_time(timezone.now() - timedelta(hours=2))
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        log_in(page, outreach_olu, browser_login)

        def fill_front_desk():
            open_front_desk(page, van)
            page.fill("#code", known_code)
            page.locator(".quick-add").first.click()
            page.select_option("#other-supply", f"item:{supplies['pad'].pk}")
            page.click("#add-other")
            page.locator("#cart tr").nth(1).locator("input.qty").fill("3")
            page.fill("#id_syringes_collected", "25")
            page.select_option("#id_collection_method", "estimated")
            page.locator("details.more summary").click()
            page.fill("#id_secondary_people", "2")
            page.select_option("#id_naloxone_refill_reason", "used")
            page.fill("#id_overdose_reversals", "1")
            page.fill("#id_occurred_at", when)
            page.fill("#id_notes", "came with a friend")
            page.check("#service-hiv_test")
            page.check("#service-counselling")
            page.select_option("#referral-type-1", "moud-methadone")

        def fill_shift():
            page.goto("/intake/shift/")
            page.select_option("#id_site", str(van.pk))
            page.fill("#id_contacts", "14")
            page.select_option("#id_service_model", "outreach")
            page.select_option("#other-supply", f"kit:{injection_kit.pk}")
            page.click("#add-other")
            page.locator("#cart input.qty").fill("4")
            page.fill("#id_syringes_collected", "300")
            page.select_option("#id_collection_method", "weighed")
            page.fill("#id_occurred_at", when)
            page.fill("#service-education", "9")

        for fill, form in ((fill_front_desk, "#intake-form"), (fill_shift, "#shift-form")):
            fill()
            body = page.evaluate(
                """(selector) => window.sspDevice.cacheGet("catalog").then((catalog) => {
                    const form = document.querySelector(selector);
                    const entries = window.sspOutbox.keptEntries(form);
                    return window.sspOutbox.visitBody(entries, catalog, new Date().toISOString());
                })""",
                form,
            )
            page.click("#save")  # online: the page's own form POST
            page.wait_for_load_state()
            from_form = Visit.objects.get(uuid=body["client_uuid"])
            body["client_uuid"] = new_uuid()
            answer = page.request.post(
                "/api/v1/visits/",
                data=json.dumps(body),
                headers={"Content-Type": "application/json", "X-CSRFToken": csrf_token(page)},
            )
            assert answer.status == 201, answer.text()
            from_api = Visit.objects.get(uuid=body["client_uuid"])
            assert visit_facts(from_api) == visit_facts(from_form)
            assert visit_facts(from_form)["contacts"] == (14 if form == "#shift-form" else 1)
            assert visit_facts(from_form)["services"]  # the services came along
            referred = [
                list(Referral.objects.filter(visit=v).values_list("type__code", flat=True))
                for v in (from_form, from_api)
            ]
            assert (
                referred[0] == referred[1] == (["moud-methadone"] if form == "#intake-form" else [])
            )


def visit_facts(visit) -> dict:
    data = VisitSerializer(visit).data
    for key in ("uuid", "recorded_at", "stock_reference", "updated_at"):
        data.pop(key)
    return data


def test_a_save_whose_request_fails_on_the_way_is_kept_by_the_service_worker(
    chromium, live_server, tmp_path, browser_login, outreach_olu, van, van_stock, injection_kit
):
    """The page believes it is online and posts its form; the request never arrives.
    The service worker keeps the visit (without the parts of a code) instead of the
    browser's "no internet" page, and the page shows it waiting."""
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        cut_off_the_worker(context)
        page.fill("#code", "JOSA1988M")
        page.locator("#build-code").evaluate("(details) => { details.open = true; }")
        page.locator(".parts input").first.fill("Josephine")  # typed, then not used
        page.locator(".quick-add").first.click()
        page.click("#save")
        expect(waiting_rows(page)).to_have_count(1)
        expect(waiting_rows(page)).to_contain_text("JOSA1988M")
        [kept] = device_records(page)
        assert kept["body"]["code"] == "JOSA1988M"
        assert kept["body"]["supplies"] == [{"kit": injection_kit.code, "quantity": 1}]
        assert not any(name.startswith("part_") for name, _ in kept["entries"])
        assert "Josephine" not in json.dumps(kept)
        assert not Visit.objects.filter(participant__code="JOSA1988M").exists()

        reconnect_the_worker(context)
        page.reload()  # the next load sends what waits
        expect(page.locator("#device-status")).to_have_attribute("data-waiting", "0")
        visit = Visit.objects.get(uuid=kept["client_uuid"])
        assert visit.participant.code == "JOSA1988M"


def test_a_page_kept_for_one_person_is_never_shown_to_the_next_on_the_same_phone(
    chromium, live_server, tmp_path, browser_login, outreach_olu, van, van_stock, street
):
    """Each kept copy says whose it is; with no connection the worker shows it only to
    the person the device is used by now. (Logout and the login page wipe the copies; this
    is the case where a wipe came too late: a session ended under a page still fetching.)"""
    other = make_staff("bea", roles.FRONT_DESK, [van])
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        log_in(page, outreach_olu, browser_login)
        open_front_desk(page, van)
        assert "/intake/" in kept_pages(page)
        page.evaluate("(user) => window.sspDevice.cachePut('user', user)", str(other.pk))
        go_offline(context)
        page.goto(f"/intake/?site={van.pk}")
        expect(page.locator("h1")).to_have_text("No connection")
        assert "olu" not in page.content()

        # Back with its own person (whose page, opened online, says so): offline, the copy
        # is shown again.
        go_online(context)
        open_front_desk(page, van)
        go_offline(context)
        page.goto(f"/intake/?site={van.pk}")
        expect(page.locator("#intake-form")).to_be_visible()
        assert "olu" in page.locator(".who").inner_text()
