"""The print view in a real browser: printed, no menu and no button shows, every table
starts a page, the legend and definitions are there; on a phone nothing overflows."""

import pytest
from playwright.sync_api import expect

from ..support.reports import built_report, january_visits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def printable(coordinator_cleo, site_a, site_b, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    january_visits(site_a, site_b)
    return built_report(coordinator_cleo)


@pytest.mark.parametrize("width", [1280, 390])
def test_printed_report_has_no_menu_or_buttons_and_a_page_per_table(
    page, browser_login, coordinator_cleo, printable, width
):
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, coordinator_cleo)
    page.goto(f"/reports/{printable.pk}/")
    page.click("text=Print view")
    expect(page.locator("h1")).to_contain_text("Program monthly summary")
    expect(page.locator("header.topbar")).to_be_visible()  # on screen, the menu stays

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    buttons = page.locator("button, a.button, nav")
    assert buttons.count() >= 2
    for n in range(buttons.count()):
        expect(buttons.nth(n)).to_be_hidden()
    sections = page.locator(".print-section")
    assert sections.count() > 3
    breaks = sections.evaluate_all("els => els.map(e => getComputedStyle(e).breakBefore)")
    assert breaks[0] == "auto" and set(breaks[1:]) == {"page"}
    expect(page.locator(".print-legend")).to_contain_text("<11: a count from 1 to 10")
    expect(page.locator(".print-definitions dt").first).to_be_visible()

    page.emulate_media(media="screen")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px wider than a {width}px screen"
