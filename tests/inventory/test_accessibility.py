"""axe-core finds no serious or critical accessibility problem on the stock pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Category
from inventory.services import DispenseLine, ReceiptLine, stock_dispense, stock_receive

from ..factories import FundingSourceFactory, ItemFactory, LocationFactory
from ..support.accessibility import assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stock(site_a, admin_ada):
    """Rows in several bands, so every status colour is on the page being checked."""
    downtown = LocationFactory(name="Downtown storeroom", site=site_a)
    central = LocationFactory(name="Central store", kind="central", site=None)
    fund = FundingSourceFactory(name="State harm reduction grant", code="state")
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    naloxone = ItemFactory(
        name="Naloxone nasal 4 mg",
        code="nx4",
        category=Category.NALOXONE,
        is_lot_tracked=True,
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )
    long_ago = timezone.now() - timedelta(days=80)
    stock_receive(
        location=downtown,
        lines=[
            ReceiptLine(item=syringe, quantity=300),
            ReceiptLine(
                item=naloxone,
                quantity=40,
                lot_number="NX-1",
                expires_on=timezone.localdate() + timedelta(days=45),
            ),
        ],
        funding_source=fund,
        by=admin_ada,
        occurred_at=long_ago,
    )
    stock_receive(
        location=central,
        lines=[ReceiptLine(item=syringe, quantity=1000)],
        funding_source=fund,
        by=admin_ada,
    )
    stock_dispense(
        location=downtown,
        lines=[DispenseLine(item=syringe, quantity=270), DispenseLine(item=naloxone, quantity=10)],
        by=admin_ada,
        reference="event:a11y",
        occurred_at=timezone.now() - timedelta(days=10),
    )
    return {"downtown": downtown, "syringe": syringe}


@pytest.mark.parametrize("persona", ["manager_sam", "coordinator_cleo"])
def test_stock_page_has_no_serious_accessibility_violations(
    request, page, browser_login, persona, stock
):
    browser_login(page, request.getfixturevalue(persona))
    page.goto("/inventory/")
    # Locations needing attention are open; the others fold away (<details>).
    page.locator("details[open] table.stock-table tbody tr").first.wait_for()
    assert page.locator(".status-emergency").count() >= 1
    assert_no_serious_axe_violations(page)


def test_stock_forms_have_no_serious_accessibility_violations(
    page, browser_login, manager_sam, stock
):
    browser_login(page, manager_sam)
    for path in (
        "/inventory/receive/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        f"/inventory/count/?location={stock['downtown'].pk}",
        f"/inventory/card/?location={stock['downtown'].pk}&item={stock['syringe'].pk}",
    ):
        page.goto(path)
        assert_no_serious_axe_violations(page)
