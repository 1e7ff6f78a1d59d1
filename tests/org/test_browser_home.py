"""Each role's home page in a real browser at desk (1280 px) and phone (390 px) widths:
its numbers show, nothing scrolls sideways, axe finds nothing serious, and a
screenshot of each is kept under tests/screenshots/ (home-<role>-<width>.png)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from inventory.models import AlertCondition, AlertSeverity, StockAlert
from outbox.models import OutboxJob

from ..conftest import SCREENSHOTS
from ..factories import ParticipantFactory, VisitFactory
from ..support.accessibility import assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
PERSONAS = ["front_desk_ana", "manager_sam", "coordinator_cleo", "admin_ada"]


@pytest.fixture
def a_day_of_work(stocked, front_desk_ana, manager_sam, site_a, supplies):
    """A little of everything the home pages count."""
    now = timezone.now()
    for minutes in (5, 25, 50):
        VisitFactory(
            site=site_a,
            recorded_by=front_desk_ana,
            occurred_at=now - timedelta(minutes=minutes),
            participant=ParticipantFactory(),
        )
    for condition, severity in (
        (AlertCondition.BELOW_REORDER_POINT, AlertSeverity.UNDERSTOCK),
        (AlertCondition.STOCKOUT_SOON, AlertSeverity.EMERGENCY),
    ):
        StockAlert.objects.create(
            condition=condition,
            severity=severity,
            location=stocked,
            item=supplies["syringe"],
            raised_at=now - timedelta(hours=3),
        )
    AccessAttempt.objects.create(
        username="typo-prone",
        ip_address="10.0.0.9",
        user_agent="browser",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    OutboxJob.objects.create(task_name="reports.build", failed_at=now)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_roles_home_shows_todays_numbers(
    page, browser_login, request, a_day_of_work, persona, width
):
    user = request.getfixturevalue(persona)
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, user)
    page.goto("/")
    tiles = page.locator(".home-tile")
    assert tiles.count() >= 2
    assert page.locator(".home-value").first.inner_text().strip() != ""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    assert_no_serious_axe_violations(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    role = persona.split("_")[0] if persona != "front_desk_ana" else "front-desk"
    page.screenshot(path=str(SCREENSHOTS / f"home-{role}-{width}.png"), full_page=True)
