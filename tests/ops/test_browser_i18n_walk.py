"""Spanish throughout, in a real browser: for every demo role, with the person's language
set to Spanish, every page of their menu, and the pages one step away that staff open
every day (a participant, the password form, a new referral, receiving stock…), opens as
<html lang="es">, passes axe (no serious or critical violation) at 1280 px and shows none
of the catalogue's English texts whose Spanish differs in its visible text
(document.body.innerText): neither as a whole line nor, for a text of 12 characters or
more, within one. The program's own data (names of sites, locations, items, kits, funds,
partners, referral types, and the audit trail's record names as logged) is taken out of
the text first: staff type it and it is never translated ("Street outreach team" is a
site, not the "Street outreach" service model).

Each role's Spanish home page is saved as tests/screenshots/home-<role>-es.png. English
is every other browser test's language: the phone walk (test_accessibility_pages.py)
checks <html lang="en"> and axe on the same pages."""

import pytest

from ..support.accessibility import axe_violations, describe
from ..support.catalogue import data_names, english_msgids, english_on_screen
from ..support.walk import DESKTOP, menu_paths, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Not in the menu, reached from it; the walk world has participant MAKO1993F at site A.
ONE_STEP_AWAY = {
    "front_desk": [
        "/intake/participants/?code=MAKO",
        "/intake/participants/MAKO1993F/",
        "/account/password/",
        "/referrals/ask/",
        "/referrals/new/",
    ],
    "outreach": [],
    "manager": ["/intake/participants/merge/", "/inventory/receive/"],
    "coordinator": ["/referrals/types/"],
    "admin": [],
}


@pytest.mark.parametrize("role", list(ONE_STEP_AWAY))
def test_every_page_of_a_roles_day_reads_in_spanish_and_passes_axe(
    page, browser_login, walk_world, role
):
    person = getattr(walk_world.people, role)
    person.language = "es"
    person.save(update_fields=["language"])
    page.set_viewport_size(DESKTOP)
    browser_login(page, person)
    english, names = english_msgids(), data_names()
    menu = menu_paths(page)
    assert menu, "the menu is empty"
    problems = []
    for path in dict.fromkeys([*menu, *ONE_STEP_AWAY[role]]):
        response = page.goto(path)
        if not response.ok:
            problems.append(f"{path}: HTTP {response.status}")
            continue
        if path == "/":
            screenshot(page, f"home-{role}-es")
        lang = page.locator("html").get_attribute("lang")
        if lang != "es":
            problems.append(f'{path}: <html lang="{lang}">')
        left = english_on_screen(page, english, names)
        if left:
            problems.append(f"{path}: still English: {left}")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}:\n{describe(violations)}")
    assert not problems, "\n".join(problems)
