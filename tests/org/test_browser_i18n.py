"""The language in a real browser: the menu's switch turns the page Spanish and back,
and the help link opens the screen's own section. (Every role's pages in Spanish are
walked by tests/ops/test_browser_i18n_walk.py.)"""

import pytest

from referrals.defaults import default_types_ensure
from referrals.models import ReferralType

from ..support.catalogue import data_names, english_msgids, english_on_screen
from ..support.walk import DESKTOP, open_menu
from ..support.world import two_sites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # An earlier transactional test may have flushed the referral types migrate seeds.
    default_types_ensure(ReferralType)
    return two_sites(tmp_path)


def test_the_menus_switch_turns_the_page_spanish_and_back(page, browser_login, world):
    page.set_viewport_size(DESKTOP)
    browser_login(page, world.people.front_desk)
    page.goto("/intake/")
    open_menu(page)
    page.locator(".language-form button[value=es]").click()
    page.wait_for_url("**/intake/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("button", name="Guardar visita").is_visible()
    assert not english_on_screen(page, english_msgids(), data_names())
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
