"""The Spanish stock pages in Chromium: their longer words still fit a phone (390 px)
and the desktop (1280 px) without sideways scrolling. (tests/org/test_browser_i18n.py
checks that no English is left on the stock pages it opens.)"""

import pytest

from referrals.defaults import default_types_ensure
from referrals.models import ReferralType

from ..support.walk import DESKTOP, PHONE, horizontal_overflow
from ..support.world import two_sites

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # An earlier transactional test may have flushed the referral types migrate seeds.
    default_types_ensure(ReferralType)
    return two_sites(tmp_path)


def test_the_spanish_stock_pages_fit_a_phone_and_a_desktop(page, browser_login, world):
    manager = world.people.manager
    manager.language = "es"
    manager.save(update_fields=["language"])
    storeroom, syringe = world.A.storeroom, world.syringe
    paths = [
        "/inventory/",
        f"/inventory/items/{syringe.pk}/",
        f"/inventory/card/?location={storeroom.pk}&item={syringe.pk}",
        "/inventory/receive/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        f"/inventory/count/?location={storeroom.pk}",
        "/inventory/alerts/",
    ]
    browser_login(page, manager)
    problems = []
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        for path in paths:
            response = page.goto(path)
            assert response.ok, f"{path}: HTTP {response.status}"
            assert page.locator("html").get_attribute("lang") == "es"
            overflow = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{path} at {viewport['width']} px: {overflow} px sideways")
    assert not problems, "\n".join(problems)
