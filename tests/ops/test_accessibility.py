"""axe-core finds no serious or critical accessibility problem on the main pages.

More pages join as capabilities land: add a (persona, path) pair to PAGES.
"""

import pytest

from ..support.accessibility import assert_no_serious_axe_violations, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["front_desk_ana", "manager_sam", "coordinator_cleo", "admin_ada"]


def test_login_page_has_no_serious_accessibility_violations(page):
    page.goto("/login/")
    assert_no_serious_axe_violations(page)


def test_a_failed_login_message_has_no_serious_accessibility_violations(page, front_desk_ana):
    page.goto("/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    page.locator("[role=alert]").wait_for()
    assert_no_serious_axe_violations(page)


@pytest.mark.parametrize("persona", ROLES)
def test_home_page_has_no_serious_accessibility_violations(
    request, page, browser_login, persona, site_a
):
    browser_login(page, request.getfixturevalue(persona))
    page.goto("/")
    assert_no_serious_axe_violations(page)


def test_the_check_catches_a_real_violation(page):
    """Guards the helper itself: axe really runs and reports serious problems."""
    page.goto("/login/")
    page.evaluate(
        """() => {
            const img = document.createElement('img');
            img.src = '/static/missing.png';
            document.querySelector('main').appendChild(img);
            const field = document.createElement('input');
            field.type = 'text';
            document.querySelector('main').appendChild(field);
        }"""
    )
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"image-alt", "label"} <= found
