"""The offline app in Spanish, in a real browser: with no connection the scripts' words
come from the kept page itself (no fetch), so the waiting count, the look-up from the
device, the kept visit's notice and row, and the worker's own "not kept" page all read
in the person's language."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from org import roles
from ssp.services import visit_record

from ..factories import LocationFactory, SiteFactory, make_staff
from ..support.intake import kit_line, new_uuid, receive
from ..support.offline import go_offline, go_online, kept_pages, phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def van(db):
    return SiteFactory(name="Northside van", code="VAN1")


@pytest.fixture
def outreach_olga(van, supplies, injection_kit, admin_ada):
    """Front desk at the van, reading the app in Spanish; MAKO1993F came last week."""
    person = make_staff("olga", roles.FRONT_DESK, [van])
    person.language = "es"
    person.save()
    shelf = LocationFactory(name="Van shelf", kind="van", site=van)
    receive(shelf, {i: 1000 for key, i in supplies.items() if key != "naloxone"}, admin_ada)
    visit_record(
        site=van,
        by=person,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
        occurred_at=timezone.now() - timedelta(days=6),
    )
    return person


def test_the_offline_front_desk_speaks_spanish(
    chromium, live_server, tmp_path, browser_login, outreach_olga, van
):
    with phone(chromium, tmp_path / "phone", live_server.url) as context:
        page = context.pages[0]
        browser_login(page, outreach_olga)
        page.goto(f"/intake/?site={van.pk}")
        status = page.locator("#device-status")
        # The worker keeps the menu's offline pages first (slow on a busy machine).
        expect(status).to_have_attribute("data-offline-ready", "true", timeout=30_000)
        expect(page.locator("#intake-form")).to_have_attribute("data-device-copies", "ready")
        assert "/intake/" in kept_pages(page)
        expect(status).to_have_attribute("title", "En línea")

        go_offline(context)
        page.reload()  # the kept copy, from the device: its words came with it
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(status).to_have_text("Sin conexión")

        page.fill("#code", "MAKO1994F")
        panel = page.locator("#participant-panel")
        expect(panel).to_contain_text("sin conexión — sugerencias de este dispositivo")
        expect(panel).to_contain_text("¿Quiso decir un código existente?")
        expect(panel.locator(".use-code[data-code=MAKO1993F]")).to_contain_text(
            "año de nacimiento ±1"
        )
        panel.locator(".use-code[data-code=MAKO1993F]").click()
        page.locator(".quick-add").first.click()
        # The cart's row is drawn by intake.js: its label is Spanish too.
        expect(page.locator("#cart input.qty").first).to_have_attribute(
            "aria-label", "Cantidad de Standard injection kit"
        )
        page.click("#save")
        notice = page.locator("#device-notice")
        expect(notice).to_contain_text("Visita guardada en este dispositivo a las")
        expect(notice).to_contain_text("en espera de envío")
        expect(status).to_have_text("Sin conexión · 1 en espera de envío")
        row = page.locator("#today tbody tr.device-waiting")
        expect(row).to_contain_text("este dispositivo")
        expect(row.locator(".device-discard")).to_have_text("Descartar")

        # A page the worker never kept: its own page, in the language the last page left.
        page.goto("/visits/")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.locator("h1")).to_have_text("Sin conexión")
        expect(page.locator("body")).to_contain_text(
            "Esta página no se guardó en este dispositivo."
        )
        expect(page.locator("a")).to_have_text("Inicio")
        go_online(context)
