"""The account pages in a real browser at desk (1280 px) and phone (390 px) widths: no
sideways scrolling, no serious accessibility violation, and the flows work by clicking."""

import re

import pytest
from playwright.sync_api import expect

from org.services import token_create

from ..factories import PASSWORD
from ..support.accessibility import assert_no_serious_axe_violations
from ..support.walk import follow, go_to_menu_entry, horizontal_overflow, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "violet-harbour-lantern"
WIDTHS = [1280, 390]


def assert_fits(page):
    overflow = horizontal_overflow(page)
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_token_is_made_shown_once_and_revoked_from_the_account_page(
    page, browser_login, front_desk_ana, width
):
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(page, front_desk_ana)
    go_to_menu_entry(page, "My account")
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Create a token").click()
    key = page.locator("#token-key").input_value()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    follow(page, page.get_by_role("link", name="Back to my account"))
    assert key not in page.content()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator(".messages")).to_contain_text("revoked")
    assert page.get_by_role("button", name="Create a token").count() == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_a_password_is_changed_with_clear_messages(page, browser_login, manager_sam, width):
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(page, manager_sam)
    page.goto("/account/password/")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "short1")
    page.fill("#id_new_password2", "short1")
    page.get_by_role("button", name="Change password").click()
    assert "too short" in page.locator(".errorlist").first.inner_text()
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/account/")
    assert "Your password is changed" in page.locator(".messages").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_resets_a_password_and_the_person_must_choose_a_new_one(
    page, browser_login, admin_ada, front_desk_ana, width
):
    token_create(user=front_desk_ana, by=front_desk_ana)
    page.set_viewport_size({"width": width, "height": 800})
    browser_login(page, admin_ada)
    go_to_menu_entry(page, "Staff accounts")
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    page.locator(f"a[href='/staff/{front_desk_ana.pk}/reset-password/']").click()
    page.get_by_role("button", name="Reset password").click()
    temporary = page.locator("#temporary-password").input_value()
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    log_out(page)  # on a phone, Log out is in the folded menu

    browser_login(page, front_desk_ana, password=temporary)
    assert page.url.endswith("/account/password/")
    assert "reset by an admin" in page.content()
    page.fill("#id_old_password", temporary)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/account/")
    page.goto("/intake/")
    assert page.url.endswith("/intake/")
