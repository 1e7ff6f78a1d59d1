"""axe-core on the main working pages, with real content on them: the intake screen with
a participant's panel open, stock alerts, funder reports (list, one report, dashboard)
and the referrals list. No serious or critical violation is allowed.

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

from ..support.accessibility import assert_no_serious_axe_violations
from ..support.intake import kit_line, new_uuid
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
