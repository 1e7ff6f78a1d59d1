"""Each role's pages in English and in Spanish, in a real browser: the language chosen
on the account follows the person, no English msgid is left on a translated page, and
axe is clean in both. Screenshots of each role's home page in both languages go to
tests/screenshots/ (home-<role>-<language>.png)."""

import re

import pytest

from referrals.defaults import default_types_ensure
from referrals.models import ReferralType

from ..support.accessibility import axe_violations, describe
from ..support.catalogue import LOCALE, entries
from ..support.walk import DESKTOP, open_menu, screenshot
from ..support.world import two_sites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["front_desk", "manager", "coordinator", "admin"]
# The pages opened in both languages (tests/ops/test_browser_i18n_walk.py walks every menu page).
TRANSLATED_PAGES = {
    "front_desk": [
        "/",
        "/intake/",
        "/intake/shift/",
        "/intake/visits/",
        "/intake/participants/?code=MAKO",
        "/intake/participants/MAKO1993F/",
        "/account/",
        "/account/password/",
        "/help/",
        "/referrals/",
        "/referrals/ask/",
        "/referrals/new/",
    ],
    "manager": [
        "/",
        "/intake/participants/merge/",
        "/sites/",
        "/account/",
        "/help/",
        "/inventory/",
        "/inventory/alerts/",
        "/inventory/receive/",
    ],
    "coordinator": [
        "/",
        "/account/",
        "/help/",
        "/referrals/",
        "/referrals/overdue/",
        "/referrals/linkage/",
        "/referrals/partners/",
        "/referrals/types/",
        "/reports/",
        "/reports/dashboard/",
    ],
    "admin": ["/", "/staff/", "/sites/", "/account/", "/help/"],
}


def english_texts() -> set[str]:
    """The English msgids whose Spanish differs, as they read on screen (tags dropped);
    those with placeholders are left out: on screen they are filled in."""
    found = set()
    for entry in entries(LOCALE / "es" / "LC_MESSAGES" / "django.po")[1:]:
        text = re.sub(r"<[^>]+>", "", entry.msgid).replace("&lt;", "<").replace("&gt;", ">")
        if "%(" not in text and "{" not in text and entry.msgstr[0] != entry.msgid:
            found.add(text)
    return found


def untranslated_on_screen(page) -> list[str]:
    """English msgids on the visible page: a whole line, or a sentence within one."""
    lines = {line.strip() for line in page.locator("body").inner_text().splitlines()}
    english = english_texts()
    text = "\n".join(lines)
    return sorted(
        msgid for msgid in english if msgid in lines or (len(msgid) > 20 and msgid in text)
    )


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # An earlier transactional test may have flushed the referral types migrate seeds.
    default_types_ensure(ReferralType)
    return two_sites(tmp_path)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("role", ROLES)
def test_each_roles_translated_pages_in_both_languages(page, browser_login, world, role, language):
    person = getattr(world.people, role)
    person.language = language
    person.save(update_fields=["language"])
    page.set_viewport_size(DESKTOP)
    browser_login(page, person)
    problems = []
    for path in TRANSLATED_PAGES[role]:
        response = page.goto(path)
        assert response.ok, f"{path}: HTTP {response.status}"
        assert page.locator("html").get_attribute("lang") == language
        if path == "/":
            screenshot(page, f"home-{role}-{language}")
        if language == "es":
            left = untranslated_on_screen(page)
            if left:
                problems.append(f"{path}: still English: {left}")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path} ({language}):\n{describe(violations)}")
    assert not problems, "\n".join(problems)


def test_the_menus_switch_turns_the_page_spanish_and_back(page, browser_login, world):
    page.set_viewport_size(DESKTOP)
    browser_login(page, world.people.front_desk)
    page.goto("/intake/")
    open_menu(page)
    page.locator(".language-form button[value=es]").click()
    page.wait_for_url("**/intake/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("button", name="Guardar visita").is_visible()
    assert not untranslated_on_screen(page)
    # The Spanish menu still keeps to one line at 1280 px: no Menu button.
    assert not page.locator("#topbar .menu-toggle").is_visible()
    open_menu(page)
    page.locator(".language-form button[value=en]").click()
    page.wait_for_url("**/intake/")
    assert page.get_by_role("button", name="Save visit").is_visible()


def test_the_help_link_opens_the_screens_section(page, browser_login, world):
    browser_login(page, world.people.front_desk)
    page.goto("/intake/")
    page.locator("#topbar .help-link").click()
    page.wait_for_url("**/help/#front-desk")
    keys = page.locator("#front-desk").locator("xpath=..")
    assert "Add this person's usual supplies" in keys.inner_text()
