"""The front desk and the street shift on a 390 × 844 phone, as the outreach account:
thumb-sized targets, quick-add keys on the shift, the street-outreach site by default.
Screenshots at 390 and 1280 px go to tests/screenshots/ for people to look at."""

import pytest
from playwright.sync_api import expect

from inventory.models import LocationKind
from ssp.models import Visit
from ssp.services import visit_record

from ..factories import LocationFactory
from ..support.intake import kit_line, new_uuid, on_hand, receive
from ..support.walk import DESKTOP, PHONE, horizontal_overflow, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_TARGET = 44  # px: WCAG 2.5.5's target size, and a gloved thumb's

# Every control in the page's main part that a thumb may press, with its size; a
# checkbox counts with the label around it, which takes the tap too.
TARGETS = """() => [...document.querySelectorAll(
    'main button, main a.button, main select, main summary, main input:not([type=hidden])')]
  .filter(e => e.getClientRects().length > 0)
  .map(e => {
    const target = e.type === 'checkbox' && e.closest('label') ? e.closest('label') : e;
    const box = target.getBoundingClientRect();
    return {what: e.outerHTML.slice(0, 90), width: box.width, height: box.height,
            tag: e.tagName};
  })"""


@pytest.fixture
def street_stock(outreach_olu, injection_kit, supplies, admin_ada):
    """Each of the outreach account's sites has a stock of the kit's items."""
    locations = {}
    for site in outreach_olu.sites.all():
        locations[site.code] = LocationFactory(
            name=f"{site.name} stock", kind=LocationKind.VAN, site=site
        )
        receive(
            locations[site.code],
            {item: 500 for key, item in supplies.items() if key != "naloxone"},
            admin_ada,
        )
    return locations


@pytest.fixture
def visit_at_the_van(outreach_olu, street_stock, injection_kit):
    visit, _ = visit_record(
        site=outreach_olu.sites.get(code="VAN1"),
        by=outreach_olu,
        client_uuid=new_uuid(),
        code="JUPE1969M",
        lines=[kit_line(injection_kit)],
    )
    return visit


def too_small(page) -> list[str]:
    small = []
    for target in page.evaluate(TARGETS):
        # Buttons are also tapped across: at least as wide as they are high.
        narrow = target["tag"] == "BUTTON" and target["width"] < MIN_TARGET
        if target["height"] < MIN_TARGET or narrow:
            small.append(f"{target['width']:.0f}×{target['height']:.0f} {target['what']}")
    return small


def test_front_desk_targets_are_thumb_sized_and_undo_and_correct_in_reach(
    page, browser_login, outreach_olu, visit_at_the_van
):
    page.set_viewport_size(PHONE)
    browser_login(page, outreach_olu)
    page.goto(f"/intake/?site={visit_at_the_van.site_id}")
    page.fill("#code", "JUPE1969M")
    page.keyboard.press("Enter")
    expect(page.locator("#participant-panel")).to_contain_text("Last visit")
    page.locator("#build-code summary").click()  # the code's parts, opened
    assert horizontal_overflow(page) <= 0
    assert too_small(page) == []
    # Today's visit is a card: Undo and Correct sit inside the screen, no sideways scroll.
    row = page.locator("#today tr", has_text="JUPE1969M")
    for name in ("Undo", "Correct"):
        box = row.get_by_role(
            "button" if name == "Undo" else "link", name=name, exact=True
        ).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    screenshot(page, "front_desk_390")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "front_desk_1280")


def test_the_street_shift_starts_at_the_street_site_and_takes_quick_add_keys(
    page, browser_login, outreach_olu, street_stock, injection_kit, supplies
):
    street = street_stock["OUTR"]
    before = on_hand(street, supplies["syringe"])
    page.set_viewport_size(PHONE)
    browser_login(page, outreach_olu)
    page.goto("/intake/shift/")
    # The van comes first by name; the shift opens on the street-outreach site.
    expect(page.locator("#id_site")).to_have_value(str(street.site_id))
    assert horizontal_overflow(page) <= 0
    assert too_small(page) == []

    first = page.locator(".quick-add").first
    expect(first).to_contain_text(injection_kit.name)
    page.locator("main h1").click()  # no field has focus: keys are shortcuts
    page.keyboard.press("1")
    page.keyboard.press("1")
    line = page.locator("#cart tr", has_text=injection_kit.name)
    expect(line.locator("input.qty")).to_have_value("2")
    screenshot(page, "street_shift_390")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "street_shift_1280")

    page.fill("#id_contacts", "12")
    page.get_by_role("button", name="Save shift").click()
    expect(page.locator(".messages")).to_contain_text("Shift saved: 12 contacts")
    shift = Visit.objects.get(site=street.site, contacts=12)
    assert shift.recorded_by == outreach_olu
    syringes_per_kit = injection_kit.components.get(item=supplies["syringe"]).quantity
    assert on_hand(street, supplies["syringe"]) == before - 2 * syringes_per_kit
