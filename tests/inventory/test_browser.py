"""In a real browser: a manager receives a shipment with a lot through the page (adding
a second line with the page's own script) and sees it on the stock page and on the
item's detail page, whose trend chart draws without breaking the CSP."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from inventory.models import Category, Lot, StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import ReceiptLine, stock_receive

from ..factories import FundingSourceFactory, ItemFactory, LocationFactory
from ..support.walk import go_to_menu_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def expiry(today):
    return today + timedelta(days=400)


@pytest.fixture
def catalog(site_a):
    downtown = LocationFactory(name="Downtown storeroom", site=site_a)
    LocationFactory(name="Central store", kind="central", site=None)
    fund = FundingSourceFactory(name="State harm reduction grant", code="state")
    naloxone = ItemFactory(
        name="Naloxone nasal 4 mg",
        code="nx4",
        category=Category.NALOXONE,
        is_lot_tracked=True,
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )
    naloxone.pack_sizes.create(name="case of 24", units=24)
    cooker = ItemFactory(name="Cooker", code="cook", category=Category.INJECTION_SUPPLIES)
    return {
        "downtown": downtown,
        "fund": fund,
        "naloxone": naloxone,
        "cooker": cooker,
    }


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return errors


def test_a_manager_receives_a_lot_and_sees_it_on_the_stock_page(
    page, browser_login, manager_sam, catalog, expiry
):
    csp_errors = _csp_errors(page)
    browser_login(page, manager_sam)
    go_to_menu_entry(page, "Stock")  # the menu may be folded at 1024 px
    page.wait_for_url("**/inventory/")
    page.get_by_role("link", name="Receive", exact=True).click()
    page.wait_for_url("**/inventory/receive/")

    page.select_option("#id_location", label="Downtown storeroom")
    page.select_option("#id_funding_source", label="State harm reduction grant")
    page.fill("#id_reference", "PO-4471")
    page.select_option("#id_lines-0-item", label="Naloxone nasal 4 mg (by lot)")
    page.fill("#id_lines-0-quantity", "2")
    page.select_option("#id_lines-0-pack_size", label="Naloxone nasal 4 mg: case of 24 (24)")
    page.fill("#id_lines-0-lot_number", "NX-2291")
    page.fill("#id_lines-0-expires_on", expiry.isoformat())
    # The form starts with three lines; the button adds a fourth from the template.
    page.get_by_role("button", name="Add a line").click()
    assert page.locator("#id_lines-TOTAL_FORMS").input_value() == "4"
    page.select_option("#id_lines-3-item", label="Cooker")
    page.fill("#id_lines-3-quantity", "150")
    page.get_by_role("button", name="Receive", exact=True).click()

    page.wait_for_url("**/inventory/?location=*")
    message = page.locator(".messages")
    assert "Received 198 units in 2 lot lines at Downtown storeroom." in message.inner_text()
    # One table per location (its name is the group's heading): item, category, on hand…
    naloxone_row = page.locator("table.stock-table tbody tr", has_text="Naloxone nasal 4 mg")
    assert naloxone_row.locator("td").nth(2).inner_text() == "48"
    assert naloxone_row.locator("td").nth(8).inner_text() == expiry.isoformat()
    cooker_row = page.locator("table.stock-table tbody tr", has_text="Cooker")
    assert cooker_row.locator("td").nth(2).inner_text() == "150"

    lot = Lot.objects.get(lot_number="NX-2291")
    assert (lot.expires_on, lot.funding_source) == (expiry, catalog["fund"])
    assert stock_on_hand(location=catalog["downtown"], item=catalog["naloxone"]) == 48
    assert set(StockMovement.objects.values_list("reference", flat=True)) == {"PO-4471"}

    naloxone_row.get_by_role("link", name="Naloxone nasal 4 mg", exact=True).click()
    page.wait_for_url(f"**/inventory/items/{catalog['naloxone'].pk}/")
    page.wait_for_function("document.body.dataset.chartsReady === 'true'")
    lots = page.locator("#lots tbody tr")
    assert lots.count() == 1
    assert "NX-2291" in lots.inner_text()
    assert "State harm reduction grant" in lots.inner_text()
    assert (
        page.evaluate("document.getElementById('item-trend').chart.data.datasets[0].data.at(-1)")
        == 48
    )
    assert csp_errors == []


def test_a_refused_receipt_shows_the_message_next_to_the_line(
    page, browser_login, manager_sam, catalog
):
    browser_login(page, manager_sam)
    page.goto("/inventory/receive/")
    page.select_option("#id_location", label="Downtown storeroom")
    page.select_option("#id_funding_source", label="State harm reduction grant")
    page.select_option("#id_lines-0-item", label="Naloxone nasal 4 mg (by lot)")
    page.fill("#id_lines-0-quantity", "5")
    page.get_by_role("button", name="Receive", exact=True).click()
    page.locator("td.lot_number .errorlist").wait_for()
    assert "tracked by lot: enter the lot" in page.locator("td.lot_number").first.inner_text()
    assert "tracked by lot: enter expiry" in page.locator("td.expires_on").first.inner_text()
    assert not StockMovement.objects.exists()


def test_the_transfer_lot_menu_follows_the_sending_location(
    page, browser_login, manager_sam, admin_ada, catalog, expiry
):
    """Choosing the source refreshes every line's lot menu (htmx) with that location's
    lots and quantities, keeping the item and quantity already typed; the receipt's
    "Counted in" offers only the chosen item's pack sizes."""
    central = LocationFactory(name="Central store", kind="central", site=None)
    for location, lot_number, units in ((catalog["downtown"], "NX-D", 6), (central, "NX-C", 9)):
        stock_receive(
            location=location,
            lines=[
                ReceiptLine(
                    item=catalog["naloxone"], quantity=units, lot_number=lot_number,
                    expires_on=expiry,
                )
            ],
            funding_source=catalog["fund"],
            by=admin_ada,
        )  # fmt: skip
    csp_errors = _csp_errors(page)
    browser_login(page, manager_sam)
    page.goto("/inventory/transfer/")
    page.select_option("#id_lines-0-item", label="Naloxone nasal 4 mg (by lot)")
    page.fill("#id_lines-0-quantity", "2")
    lots = page.locator("#id_lines-0-lot option")
    assert lots.count() == 1  # no source yet: only "earliest expiry first"
    page.select_option("#id_from_location", label="Central store")
    expect(page.locator("#id_lines-0-lot option", has_text="NX-C")).to_have_count(1)
    assert "lot NX-C" in lots.nth(1).inner_text() and "9 on hand" in lots.nth(1).inner_text()
    assert "NX-D" not in page.locator("#id_lines-0-lot").inner_text()
    assert page.locator("#id_lines-0-quantity").input_value() == "2"
    page.select_option("#id_from_location", label="Downtown storeroom")
    expect(page.locator("#id_lines-0-lot option", has_text="NX-D")).to_have_count(1)
    assert "NX-C" not in page.locator("#id_lines-0-lot").inner_text()
    # "Add a line" still works after the swap.
    page.get_by_role("button", name="Add a line").click()
    assert page.locator("#id_lines-TOTAL_FORMS").input_value() == "4"

    page.goto("/inventory/receive/")
    page.select_option("#id_lines-0-item", label="Cooker")
    enabled = page.locator("#id_lines-0-pack_size option:not([disabled])")
    assert [enabled.nth(i).inner_text() for i in range(enabled.count())] == ["Single units"]
    page.select_option("#id_lines-0-item", label="Naloxone nasal 4 mg (by lot)")
    assert enabled.count() == 2
    assert csp_errors == []
