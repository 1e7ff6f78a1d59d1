"""axe-core on the main working pages, with real content on them: the intake screen with
a participant's panel open, stock alerts, funder reports (list, one report, dashboard)
and the referrals list. No serious or critical violation is allowed.

The walk: for each demo role, every page of its menu and every page one link away (a
visit and its correction, a participant, follow-ups, the stock card, a report…) on a
390 × 844 phone, in English: no sideways scroll (`scrollWidth <= innerWidth`), axe clean
and <html lang="en"> (the Spanish walk is tests/ops/test_browser_i18n_walk.py).

(Login and home are in test_accessibility.py; the stock pages are the inventory tests'.)
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import AlertCondition, AlertSeverity, StockAlert
from referrals.models import ReferralType
from referrals.services import referral_create
from reports.services import report_build, report_request
from ssp.services import visit_record

from ..support.accessibility import assert_no_serious_axe_violations, axe_violations, describe
from ..support.intake import kit_line, new_uuid
from ..support.walk import PHONE, horizontal_overflow, menu_paths, walk
from ..support.world import report_period

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def returning_visit(front_desk_ana, site_a, stocked, injection_kit):
    """MAKO1993F came yesterday for an injection kit."""
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
        occurred_at=timezone.now() - timedelta(days=1),
    )
    return visit


@pytest.fixture
def built_report(settings, tmp_path, coordinator_cleo, site_a, site_b):
    settings.MEDIA_ROOT = tmp_path
    snapshot = report_request(
        template="program_monthly", period=report_period(), by=coordinator_cleo
    )
    report_build(snapshot_id=snapshot.pk)
    return snapshot


def test_intake_with_a_participant_panel_open(page, browser_login, front_desk_ana, returning_visit):
    browser_login(page, front_desk_ana)
    page.goto("/intake/")
    page.fill("#code", "MAKO1993F")
    page.keyboard.press("Enter")
    expect(page.locator("#participant-panel")).to_contain_text("Last visit")
    assert_no_serious_axe_violations(page)


def test_intake_with_near_match_suggestions(page, browser_login, front_desk_ana, returning_visit):
    browser_login(page, front_desk_ana)
    page.goto("/intake/")
    page.fill("#code", "MAKO1994F")  # one year off: suggests MAKO1993F
    page.keyboard.press("Enter")
    expect(page.locator("#participant-panel")).to_contain_text("MAKO1993F")
    assert_no_serious_axe_violations(page)


def test_stock_alerts_page(page, browser_login, manager_sam, stocked, supplies):
    StockAlert.objects.create(
        condition=AlertCondition.BELOW_REORDER_POINT,
        severity=AlertSeverity.EMERGENCY,
        location=stocked,
        item=supplies["syringe"],
        facts={"on_hand": 3, "reorder_point": 40},
        raised_at=timezone.now(),
    )
    browser_login(page, manager_sam)
    page.goto("/inventory/alerts/")
    expect(page.locator("main")).to_contain_text(supplies["syringe"].name)
    assert_no_serious_axe_violations(page)


@pytest.mark.parametrize(
    "path",
    [
        "/reports/",
        "/reports/{pk}/",
        "/reports/{pk}/?view=unsuppressed",
        "/reports/{pk}/print/",
        "/reports/dashboard/",
    ],
)
def test_report_pages(page, browser_login, coordinator_cleo, built_report, path):
    browser_login(page, coordinator_cleo)
    page.goto(path.format(pk=built_report.pk))
    expect(page.locator("main")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the dashboard draws its charts after load
    assert_no_serious_axe_violations(page)


def test_referrals_list(page, browser_login, front_desk_ana, returning_visit):
    referral_create(
        # get_or_create: an earlier transactional test may have flushed the seeded types.
        referral_type=ReferralType.objects.get_or_create(
            code="hcv-testing", defaults={"name": "Hepatitis C testing", "group": "testing"}
        )[0],
        visit=returning_visit,
        by=front_desk_ana,
    )
    browser_login(page, front_desk_ana)
    page.goto("/referrals/")
    expect(page.locator("main")).to_contain_text("MAKO1993F")
    assert_no_serious_axe_violations(page)


# --- The walk --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["front_desk", "outreach", "manager", "coordinator", "admin"])
def test_every_page_a_role_reaches_from_its_menu_fits_a_phone_and_passes_axe(
    page, browser_login, walk_world, role
):
    page.set_viewport_size(PHONE)
    browser_login(page, getattr(walk_world.people, role))
    problems, walked = [], []
    for path, response in walk(page):
        walked.append(path)
        if not response.ok:
            problems.append(f"{path}: HTTP {response.status}")
        lang = page.locator("html").get_attribute("lang")
        if lang != "en":
            problems.append(f'{path}: <html lang="{lang}">')
        overflow = horizontal_overflow(page)
        if overflow > 0:
            problems.append(f"{path}: scrolls sideways by {overflow}px")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}:\n{describe(violations)}")
    # The walk goes past the menu: detail and edit pages are part of the street's day.
    assert len(walked) > len(menu_paths(page))
    # The folded menu itself, opened.
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("nav[aria-label=Main]").get_by_role("link", name="Home")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    violations = axe_violations(page)
    if violations:
        problems.append(f"{page.url} with the menu open:\n{describe(violations)}")
    assert not problems, "\n".join(problems)
