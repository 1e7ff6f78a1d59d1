"""The main menu in a real browser: one line at 1280 px for every role, a Menu button on a
phone, and both work from the keyboard alone (real buttons with aria-expanded)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import AlertCondition, AlertSeverity, StockAlert

from ..factories import ItemFactory, LocationFactory
from ..support.walk import DESKTOP, PHONE, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONAS = ["front_desk_ana", "outreach_olu", "manager_sam", "coordinator_cleo", "admin_ada"]

# Brand, top-level entries, More and the person's name overlap in height: one line.
ON_ONE_LINE = """() => {
  const boxes = [...document.querySelectorAll('#topbar .brand, #topbar .nav > li, #topbar .who')]
    .map(e => e.getBoundingClientRect()).filter(b => b.width > 0);
  return Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom));
}"""


@pytest.fixture
def open_alert(site_a):
    """An alert nobody acknowledged: the managers' and admin's menus carry a badge."""
    return StockAlert.objects.create(
        condition=AlertCondition.BELOW_REORDER_POINT,
        severity=AlertSeverity.EMERGENCY,
        location=LocationFactory(name="Downtown storeroom", site=site_a),
        item=ItemFactory(name="1 mL 28G syringe", code="s28"),
        facts={"on_hand": 3, "reorder_point": 40},
        raised_at=timezone.now(),
    )


def menu(page):
    return page.locator("nav[aria-label=Main]")


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_menu_fits_one_line_at_1280_px_for_every_role(
    request, page, browser_login, open_alert, persona
):
    page.set_viewport_size(DESKTOP)
    browser_login(page, request.getfixturevalue(persona))
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(menu(page).get_by_role("link", name="Home")).to_be_visible()
    assert page.evaluate(ON_ONE_LINE)
    assert horizontal_overflow(page) <= 0
    # The entries used now and then are one click away, under More.
    menu(page).get_by_role("button", name="More").click()
    expect(menu(page).get_by_role("link", name="My account")).to_be_visible()


@pytest.mark.parametrize("width", [390, 768, 1024])
def test_at_any_width_the_menu_is_one_line_or_a_menu_button(
    page, browser_login, admin_ada, open_alert, width
):
    """The admin has the longest menu: where it does not fit it folds, it never wraps."""
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(page, admin_ada)
    button = page.get_by_role("button", name="Menu")
    if button.is_visible():
        expect(menu(page).get_by_role("link", name="Home")).to_be_hidden()
    else:
        assert page.evaluate(ON_ONE_LINE)
    if width == PHONE["width"]:
        expect(button).to_be_visible()
    assert horizontal_overflow(page) <= 0


def test_on_a_phone_the_menu_button_works_from_the_keyboard_alone(
    page, browser_login, manager_sam, open_alert
):
    page.set_viewport_size(PHONE)
    browser_login(page, manager_sam)
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu(page).get_by_role("link", name="Stock")).to_be_hidden()
    # The open alert is counted on the button while its own badge is folded away.
    expect(button.locator(".badge")).to_have_text("1")

    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    home = menu(page).get_by_role("link", name="Home")
    expect(home).to_be_visible()
    # The More entries are listed in the open menu, with no second button to press.
    expect(menu(page).get_by_role("link", name="My account")).to_be_visible()
    expect(menu(page).get_by_role("button", name="More")).to_be_hidden()
    page.keyboard.press("Tab")
    expect(home).to_be_focused()

    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(home).to_be_hidden()

    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "true")
    stock = menu(page).get_by_role("link", name="Stock")
    stock.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/inventory/")
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")


def test_at_1280_px_more_opens_and_closes_from_the_keyboard(page, browser_login, admin_ada):
    page.set_viewport_size(DESKTOP)
    browser_login(page, admin_ada)
    more = menu(page).get_by_role("button", name="More")
    expect(more).to_have_attribute("aria-expanded", "false")
    audit = menu(page).get_by_role("link", name="Audit trail")
    expect(audit).to_be_hidden()

    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(audit).to_be_visible()
    page.keyboard.press("Escape")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()

    # Tabbing on past the last entry closes the list again.
    page.keyboard.press("Enter")
    last = menu(page).locator("#nav-more a, #nav-more button").last  # the language switch
    last.focus()
    page.keyboard.press("Tab")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(audit).to_be_hidden()

    # A click anywhere else closes it too.
    more.click()
    expect(audit).to_be_visible()
    page.locator("main h1").click()
    expect(audit).to_be_hidden()
