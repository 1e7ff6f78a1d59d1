"""In a real browser: a near-match suggestion takes the focus, so the habitual Enter
accepts the known code instead of adding supplies to a split one; Escape dismisses it,
and saving the new code then asks "new person?" explicitly."""

import pytest
from playwright.sync_api import expect

from ssp.models import Participant, Visit
from ssp.services import visit_record

from ..support.intake import kit_line, new_uuid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def known_code(front_desk_ana, site_a, stocked, injection_kit):
    visit_record(site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
                 lines=[kit_line(injection_kit)])  # fmt: skip
    return "MAKO1993F"


def type_a_near_miss(page, browser_login, user, typed):
    """Type a code one edit from a known one and press Enter: the first suggestion is focused."""
    browser_login(page, user)
    page.goto("/intake/")
    expect(page.locator("#code")).to_be_focused()  # the page opens on the code
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    suggestion = page.locator("#participant-panel .use-code").first
    expect(suggestion).to_be_focused()
    return suggestion


def test_enter_on_a_near_miss_takes_the_known_code_and_its_usual_supplies(
    page, browser_login, front_desk_ana, known_code
):
    suggestion = type_a_near_miss(page, browser_login, front_desk_ana, "MAOK1993F")
    expect(suggestion).to_contain_text("letters swapped")
    page.keyboard.press("Enter")  # takes MAKO1993F
    expect(page.locator("#code")).to_have_value(known_code)
    expect(page.locator("#use-usual")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.locator("#saved-visit").wait_for()
    assert Visit.objects.filter(participant__code=known_code).count() == 2
    assert not Participant.objects.filter(code="MAOK1993F").exists()


def test_escape_keeps_the_new_code_and_saving_asks_new_person(
    page, browser_login, front_desk_ana, known_code
):
    type_a_near_miss(page, browser_login, front_desk_ana, "MAKO1994F")
    page.keyboard.press("Escape")
    expect(page.locator("#participant-panel .suggestions")).to_have_count(0)
    page.keyboard.press("1")  # a quick supply, then Save is focused
    expect(page.locator("#save")).to_be_focused()
    page.keyboard.press("Enter")
    ask = page.locator("#confirm-new-person")
    expect(ask).to_be_focused()
    expect(page.locator(".ask-new-person")).to_contain_text("New person: create MAKO1994F")
    expect(page.locator("body")).to_contain_text("(birth year ±1)")
    assert not Participant.objects.filter(code="MAKO1994F").exists()
    page.keyboard.press("Space")
    page.locator("#save").focus()
    page.keyboard.press("Enter")
    page.locator("#saved-visit").wait_for()
    assert Participant.objects.filter(code="MAKO1994F").exists()
