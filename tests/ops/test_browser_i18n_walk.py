"""The walk in both languages: for every demo role, with the person's language set to
Spanish and then English, every page of their menu opens as <html lang="es"> (or "en")
and passes axe (no serious or critical violation). In Spanish it shows none of the
catalogue's English msgids whose Spanish differs (at least 12 characters, so codes and
short words do not give false alarms) in its visible text (document.body.innerText). The
program's own data (names of sites, locations, items, kits, funds, partners, and the
audit trail's record names as logged) are taken out of the text first: they are typed by
staff and never translated ("Street outreach team" is a site, not the "Street outreach"
service model).

STILL_ENGLISH_PAGES is empty; a page listed there would be reported as a warning, and a
listed page found clean fails the test until it is taken off."""

import re
import warnings

import pytest
from auditlog.models import LogEntry

from inventory.models import FundingSource, Item, Kit, Location
from org.models import Site
from referrals.models import Partner

from ..support.accessibility import axe_violations, describe
from ..support.catalogue import LOCALE, entries
from ..support.walk import DESKTOP, menu_paths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["front_desk", "outreach", "manager", "coordinator", "admin"]
MIN_LENGTH = 12

# The pages a role still sees partly in English: none since every app was translated.
# A page that regresses is a failure, not an entry here, unless there is a reason to give.
STILL_ENGLISH_PAGES: dict[str, set[str]] = {role: set() for role in ROLES}


def english_msgids() -> set[str]:
    """The catalogue's English texts whose Spanish differs, as they read on screen (tags
    dropped, entities read), without placeholders (on screen they are filled in)."""
    found = set()
    for entry in entries(LOCALE / "es" / "LC_MESSAGES" / "django.po")[1:]:
        for english, spanish in (
            (entry.msgid, entry.msgstr[0]),
            (entry.msgid_plural, entry.msgstr[-1]),
        ):
            text = re.sub(r"<[^>]+>", "", english).replace("&lt;", "<").replace("&gt;", ">")
            text = text.replace("&amp;", "&").strip()
            if len(text) >= MIN_LENGTH and "%(" not in text and english != spanish:
                found.add(text)
    return found


def data_names() -> list[str]:
    """What staff typed and the pages show as it is, longest first."""
    names = set()
    for model in (Site, Location, Item, Kit, FundingSource, Partner):
        names |= set(model.objects.values_list("name", flat=True))
    # The audit trail names each record as it was when logged (auditlog's object_repr):
    # history, kept in the words of its day, not rewritten in the reader's language.
    names |= set(LogEntry.objects.values_list("object_repr", flat=True))
    return sorted(names, key=len, reverse=True)


def english_on_screen(page, english: set[str], names: list[str]) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    for name in names:
        text = text.replace(name, " ")
    return sorted(msgid for msgid in english if msgid in text)


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_of_a_role_reads_in_its_language_and_passes_axe(
    page, browser_login, walk_world, role, language
):
    person = getattr(walk_world.people, role)
    person.language = language
    person.save(update_fields=["language"])
    page.set_viewport_size(DESKTOP)
    browser_login(page, person)
    english, names = english_msgids(), data_names()
    still = STILL_ENGLISH_PAGES[role] if language == "es" else set()
    problems, walked = [], []
    for path in menu_paths(page):
        response = page.goto(path)
        walked.append(path)
        if not response.ok:
            problems.append(f"{path}: HTTP {response.status}")
            continue
        lang = page.locator("html").get_attribute("lang")
        if lang != language:
            problems.append(f'{path}: <html lang="{lang}">')
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}:\n{describe(violations)}")
        if language != "es":
            continue
        left = english_on_screen(page, english, names)
        if path in still:
            if left:
                warnings.warn(f"{role} {path} still English: {left}", stacklevel=1)
            else:
                problems.append(f"{path} reads in Spanish: take it off STILL_ENGLISH_PAGES")
        elif left:
            problems.append(f"{path}: still English: {left}")
    assert walked, "the menu is empty"
    assert not (still - set(walked)), f"not in the menu any more: {still - set(walked)}"
    assert not problems, "\n".join(problems)
