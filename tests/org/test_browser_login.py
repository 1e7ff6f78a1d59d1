"""Every demo role logs in through the real page and sees its own menu."""

import pytest

from ..support.walk import open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("persona", "sees", "does_not_see"),
    [
        ("front_desk_ana", ["Home", "Sites"], ["Audit trail"]),
        ("manager_sam", ["Home", "Sites"], ["Audit trail"]),
        ("coordinator_cleo", ["Home", "Sites"], ["Audit trail"]),
        ("admin_ada", ["Home", "Sites", "Audit trail"], []),
    ],
)
def test_each_role_logs_in_and_sees_its_menu(
    request, page, browser_login, persona, sees, does_not_see
):
    user = request.getfixturevalue(persona)
    browser_login(page, user)
    open_menu(page)
    menu = page.locator("nav[aria-label=Main]")
    for label in sees:
        assert menu.get_by_role("link", name=label, exact=True).count() == 1, label
    for label in does_not_see:
        assert menu.get_by_role("link", name=label, exact=True).count() == 0, label
    assert user.username in page.locator(".who").inner_text()


def test_wrong_password_shows_a_clear_message(page, front_desk_ana):
    page.goto("/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert "correct username and password" in page.locator("[role=alert]").inner_text()
