"""In a real browser: the front desk logs a returning participant's usual kit with the
keyboard alone, in at most 6 keystrokes after the code (the issue's promise)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ssp.models import Visit
from ssp.services import visit_record

from ..support.intake import item_line, kit_line, new_uuid, on_hand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_KEYSTROKES_AFTER_CODE = 6


class CountingKeyboard:
    """Presses keys on the page and counts them: the count is what the test promises."""

    def __init__(self, page):
        self.page = page
        self.pressed: list[str] = []

    def press(self, key: str) -> None:
        self.pressed.append(key)
        self.page.keyboard.press(key)


@pytest.fixture
def returning_participant(front_desk_ana, site_a, stocked, injection_kit, supplies):
    """MAKO1993F came twice this week for one injection kit, once also for two pads:
    the kit alone is their usual."""
    for days_ago, lines in (
        (5, [kit_line(injection_kit)]),
        (3, [kit_line(injection_kit), item_line(supplies["pad"], 2)]),
        (2, [kit_line(injection_kit)]),
    ):
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=new_uuid(),
            code="MAKO1993F",
            lines=lines,
            occurred_at=timezone.now() - timedelta(days=days_ago),
        )
    return "MAKO1993F"


def test_usual_kit_is_logged_with_the_keyboard_alone_in_three_keystrokes_after_the_code(
    page, browser_login, front_desk_ana, stocked, supplies, returning_participant
):
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    before = {key: on_hand(stocked, item) for key, item in supplies.items() if key != "naloxone"}
    browser_login(page, front_desk_ana)
    page.goto("/intake/")
    code_field = page.locator("#code")
    expect(code_field).to_be_focused()  # autofocus: no click needed to start typing
    page.keyboard.type(returning_participant.lower())

    keys = CountingKeyboard(page)
    keys.press("Enter")  # look the code up; focus jumps to "Usual supplies"
    usual = page.locator("#use-usual")
    expect(usual).to_be_focused()
    panel = page.locator("#participant-panel")
    expect(panel).to_contain_text("Usual: 1 × Standard injection kit")
    expect(panel).to_contain_text("Last visit")
    keys.press("Enter")  # take the usual supplies; focus jumps to "Save visit"
    expect(page.locator("#cart tr")).to_have_count(1)
    expect(page.locator("#save")).to_be_focused()
    keys.press("Enter")  # save
    page.locator("#saved-visit").wait_for()

    assert len(keys.pressed) <= MAX_KEYSTROKES_AFTER_CODE
    assert keys.pressed == ["Enter", "Enter", "Enter"]

    today_rows = page.locator("#today tbody tr[data-visit]")
    expect(today_rows).to_have_count(1)  # the earlier visits were on other days
    row = today_rows.first
    expect(row).to_contain_text("MAKO1993F")
    expect(row).to_contain_text("1 × Standard injection kit")

    visit = Visit.objects.get(uuid=row.get_attribute("data-visit"))
    assert visit.recorded_by == front_desk_ana and visit.participant.code == "MAKO1993F"
    assert [(s.kit.code, s.quantity) for s in visit.supplies.all()] == [("std-kit", 1)]
    after = {key: on_hand(stocked, item) for key, item in supplies.items() if key != "naloxone"}
    # Exactly the kit: 10 syringes, 10 alcohol pads, 2 cookers; water untouched.
    assert {key: before[key] - after[key] for key in before} == {
        "syringe": 10,
        "pad": 10,
        "cooker": 2,
        "water": 0,
    }
    assert Visit.objects.count() == 4
    assert csp_errors == []


def test_a_new_code_gets_a_quick_kit_with_its_number_key_and_enter_saves(
    page, browser_login, front_desk_ana, stocked, supplies, injection_kit
):
    before = on_hand(stocked, supplies["syringe"])
    browser_login(page, front_desk_ana)
    page.goto("/intake/")
    expect(page.locator("#code")).to_be_focused()  # the page opens on the code
    page.keyboard.type("JOSA1988M")
    keys = CountingKeyboard(page)
    keys.press("Enter")  # unknown code: "new code" panel, focus on the first quick button
    expect(page.locator("#participant-panel")).to_contain_text("new code")
    expect(page.locator(".quick-add").first).to_be_focused()
    keys.press("1")  # quick button 1: the injection kit (the only kit)
    expect(page.locator("#cart tr")).to_have_count(1)
    expect(page.locator("#save")).to_be_focused()
    keys.press("Enter")
    page.locator("#saved-visit").wait_for()

    assert keys.pressed == ["Enter", "1", "Enter"]
    visit = Visit.objects.get()
    assert visit.participant.code == "JOSA1988M"
    assert visit.participant.first_seen_on == timezone.localdate()
    assert before - on_hand(stocked, supplies["syringe"]) == 10
