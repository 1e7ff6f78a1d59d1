"""The stock manager pages: stock on hand (and its CSV), item detail, stock card, and
the receive, transfer, adjust and count forms. Each write goes through the services;
a refused one shows its message on the page and writes nothing."""

import csv
import io
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory.models import (
    AdjustmentReason,
    Lot,
    MovementKind,
    StockBalance,
    StockCount,
    StockMovement,
)
from inventory.selectors import stock_on_hand
from inventory.services import DispenseLine, ReceiptLine, stock_dispense, stock_receive

from ..factories import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def next_year(today):
    return today + timedelta(days=365)


@pytest.fixture
def downtown(site_a):
    return LocationFactory(name="Downtown storeroom", site=site_a)


@pytest.fixture
def eastside(site_b):
    return LocationFactory(name="Eastside storeroom", site=site_b)


def receive(location, item, quantity, *, by, fund, days_ago=0, **line):
    return stock_receive(
        location=location,
        lines=[ReceiptLine(item=item, quantity=quantity, **line)],
        funding_source=fund,
        by=by,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def dispense(location, item, quantity, *, by, days_ago=0):
    return stock_dispense(
        location=location,
        lines=[DispenseLine(item=item, quantity=quantity)],
        by=by,
        reference="event:test",
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def stocked(downtown, eastside, central, syringe, naloxone, state_fund, admin_ada, next_year):
    """Downtown: 300 syringes of which 270 were used over the last 60 days (30 left:
    emergency), and 20 naloxone in lot NX-1. Eastside: 500 syringes. Central: 1,000."""
    receive(downtown, syringe, 300, by=admin_ada, fund=state_fund, days_ago=80)
    for days_ago in (60, 30, 5):
        dispense(downtown, syringe, 90, by=admin_ada, days_ago=days_ago)
    receive(
        downtown,
        naloxone,
        20,
        by=admin_ada,
        fund=state_fund,
        lot_number="NX-1",
        expires_on=next_year,
    )
    receive(eastside, syringe, 500, by=admin_ada, fund=state_fund)
    receive(central, syringe, 1000, by=admin_ada, fund=state_fund)
    return {"nx1": Lot.objects.get(lot_number="NX-1")}


@pytest.fixture
def sam(client, manager_sam):
    client.force_login(manager_sam)
    return client


def movement_count() -> int:
    return StockMovement.objects.count()


def formset(prefix: str, lines: list[dict], *, extra_empty: int = 1) -> dict:
    """POST data of a formset: the lines, then `extra_empty` untouched lines."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(lines) + extra_empty),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


# --- Who may see the pages --------------------------------------------------------------


def test_every_page_renders_for_a_manager(sam, stocked, downtown, syringe):
    pages = [
        "/inventory/",
        f"/inventory/items/{syringe.pk}/",
        "/inventory/card/",
        f"/inventory/card/?location={downtown.pk}&item={syringe.pk}",
        "/inventory/receive/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        "/inventory/count/",
        f"/inventory/count/?location={downtown.pk}",
        "/inventory/stock.csv",
    ]
    for path in pages:
        response = sam.get(path)
        assert response.status_code == 200, path


def test_the_menu_offers_stock_to_managers_and_coordinators_only(
    client, manager_sam, coordinator_cleo, front_desk_ana
):
    for user, expected in ((manager_sam, True), (coordinator_cleo, True), (front_desk_ana, False)):
        client.force_login(user)
        labels = [entry.label for entry in client.get("/").context["nav_items"]]
        assert ("Stock" in labels) is expected, user.username


def test_front_desk_may_not_see_stock(client, front_desk_ana, stocked):
    client.force_login(front_desk_ana)
    assert client.get("/inventory/").status_code == 403
    assert client.get("/inventory/stock.csv").status_code == 403
    assert client.get("/inventory/receive/").status_code == 403


def test_a_coordinator_sees_every_site_but_changes_nothing(
    client, coordinator_cleo, stocked, eastside, syringe
):
    client.force_login(coordinator_cleo)
    page = client.get("/inventory/")
    assert page.status_code == 200
    assert {level.location.name for level in page.context["levels"]} == {
        "Downtown storeroom",
        "Eastside storeroom",
        "Central store",
    }
    assert b'href="/inventory/receive/"' not in page.content
    card = client.get(f"/inventory/card/?location={eastside.pk}&item={syringe.pk}")
    assert card.status_code == 200
    for path in ("/inventory/receive/", "/inventory/transfer/", "/inventory/adjust/"):
        assert client.get(path).status_code == 403
    assert client.get("/inventory/count/").status_code == 403


# --- Stock on hand and the CSV ------------------------------------------------------------


def test_stock_page_shows_levels_with_status_bands_only_at_my_locations(sam, stocked):
    page = sam.get("/inventory/")
    rows = {(lv.location.name, lv.item.name): lv for lv in page.context["levels"]}
    assert set(rows) == {
        ("Downtown storeroom", "1 mL 28G syringe"),
        ("Downtown storeroom", "Naloxone nasal 4 mg"),
        ("Central store", "1 mL 28G syringe"),
    }
    downtown_syringes = rows[("Downtown storeroom", "1 mL 28G syringe")]
    # 270 used in 90 days = 90 a month; 30 on hand = 0.3 month: emergency.
    assert downtown_syringes.on_hand == 30
    assert downtown_syringes.avg_monthly == 90
    assert downtown_syringes.months_of_stock == 0.3
    assert downtown_syringes.status == "emergency"
    assert downtown_syringes.reorder_point == 135
    html = page.content.decode()
    assert 'class="band-emergency"' in html
    assert '<span class="status status-emergency">Emergency</span>' in html
    assert "Eastside" not in html


def test_stock_page_filters_by_location_category_and_status(sam, stocked, downtown, central):
    by_location = sam.get(f"/inventory/?location={central.pk}").context["levels"]
    assert [(lv.location, lv.on_hand) for lv in by_location] == [(central, 1000)]
    by_category = sam.get("/inventory/?category=naloxone").context["levels"]
    assert [(lv.location, lv.item.code) for lv in by_category] == [(downtown, "nx4")]
    by_status = sam.get("/inventory/?status=emergency").context["levels"]
    assert [(lv.location, lv.item.code) for lv in by_status] == [(downtown, "s28")]


def test_stock_page_groups_rows_by_location_folding_those_that_need_nothing(
    sam, stocked, downtown, central
):
    page = sam.get("/inventory/")
    groups = {g["location"].name: g for g in page.context["groups"]}
    assert {name: len(g["levels"]) for name, g in groups.items()} == {
        "Central store": 1,
        "Downtown storeroom": 2,
    }
    # Downtown's syringes are in emergency: open; the central store has nothing to do.
    assert (groups["Downtown storeroom"]["open"], groups["Central store"]["open"]) == (True, False)
    html = page.content.decode()
    assert html.count('<details class="stock-group"') == 2
    assert html.count('<details class="stock-group" open>') == 1
    assert '<option value="" selected>All my locations</option>' in html


def test_stock_page_searches_items_by_name_or_code(sam, stocked, downtown):
    by_name = sam.get("/inventory/?search=naloxone").context["levels"]
    assert [(lv.location, lv.item.code) for lv in by_name] == [(downtown, "nx4")]
    by_code = sam.get("/inventory/?search=S28").context["levels"]
    assert {lv.item.code for lv in by_code} == {"s28"}
    page = sam.get("/inventory/?search=s28")
    assert all(group["open"] for group in page.context["groups"])


def test_alert_filters_say_all_rather_than_dashes(sam, stocked):
    html = sam.get("/inventory/alerts/").content.decode()
    assert "---------" not in html
    assert ">All sites<" in html and ">All items<" in html


def test_stock_page_refuses_a_location_of_another_site_as_a_filter(sam, stocked, eastside):
    page = sam.get(f"/inventory/?location={eastside.pk}")
    assert page.status_code == 200
    assert "location" in page.context["form"].errors
    # The bad filter is ignored: the page shows my own locations, never Eastside's.
    assert eastside not in {level.location for level in page.context["levels"]}
    assert "Eastside" not in page.content.decode()


def test_stock_csv_has_the_filtered_rows(sam, stocked):
    page = sam.get("/inventory/?category=syringe")
    assert b'href="/inventory/stock.csv?category=syringe"' in page.content
    response = sam.get("/inventory/stock.csv?category=syringe")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["location"], r["item_code"], r["on_hand"], r["status"]) for r in rows] == [
        ("Central store", "s28", "1000", "no_use"),
        ("Downtown storeroom", "s28", "30", "emergency"),
    ]
    downtown = rows[1]
    assert downtown["avg_monthly"] == "90.0"
    assert downtown["months_of_stock"] == "0.3"
    assert downtown["reorder_point"] == "135"
    assert downtown["used_last_90_days"] == "270"


# --- Item detail and stock card -------------------------------------------------------------


def test_item_detail_lists_lots_with_expiry_funding_and_on_hand(sam, stocked, naloxone, next_year):
    page = sam.get(f"/inventory/items/{naloxone.pk}/")
    html = page.content.decode()
    (lot,) = page.context["lots"]
    assert (lot.lot_number, lot.expires_on, lot.on_hand, lot.received) == (
        "NX-1",
        next_year,
        20,
        20,
    )
    assert "State harm reduction grant" in html
    assert next_year.strftime("%Y-%m-%d") in html
    # The chart reads its data from a json_script tag and a static file (no inline script).
    assert 'id="item-trend-data" type="application/json"' in html
    assert "inventory/item_trend.js" in html
    trend = page.context["trend"]
    assert len(trend["labels"]) == 90
    assert trend["on_hand"][-1] == 20


def test_item_detail_shows_only_my_locations(sam, stocked, syringe):
    page = sam.get(f"/inventory/items/{syringe.pk}/")
    assert {b.location.name for b in page.context["balances"]} == {
        "Downtown storeroom",
        "Central store",
    }
    assert page.context["trend"]["on_hand"][-1] == 1030


def test_stock_card_shows_the_ledger_newest_first_with_running_balance(
    sam, stocked, downtown, syringe
):
    page = sam.get(f"/inventory/card/?location={downtown.pk}&item={syringe.pk}")
    rows = [(m.kind, m.quantity, m.running_balance) for m in page.context["page"]]
    assert rows == [
        (MovementKind.DISPENSE, -90, 30),
        (MovementKind.DISPENSE, -90, 120),
        (MovementKind.DISPENSE, -90, 210),
        (MovementKind.RECEIPT, 300, 300),
    ]
    assert page.context["on_hand"] == 30


def test_stock_card_is_paginated(sam, downtown, syringe, state_fund, admin_ada):
    receive(downtown, syringe, 100, by=admin_ada, fund=state_fund, days_ago=2)
    for _ in range(55):
        dispense(downtown, syringe, 1, by=admin_ada)
    first = sam.get(f"/inventory/card/?location={downtown.pk}&item={syringe.pk}")
    assert len(first.context["page"]) == 50
    assert first.context["page"][0].running_balance == 45
    second = sam.get(f"/inventory/card/?location={downtown.pk}&item={syringe.pk}&page=2")
    assert [m.running_balance for m in second.context["page"]][-1] == 100
    assert b"Newer" in second.content


def test_stock_card_of_another_sites_location_is_not_found(sam, stocked, eastside, syringe):
    response = sam.get(f"/inventory/card/?location={eastside.pk}&item={syringe.pk}")
    assert response.status_code == 404


# --- Receive -------------------------------------------------------------------------


def receive_post(location, fund, lines, **header):
    return {
        "location": location.pk,
        "funding_source": fund.pk,
        "reference": "PO-2291",
        **header,
        **formset("lines", lines),
    }


def test_receiving_several_lines_converts_packs_and_records_lots(
    sam, downtown, syringe, naloxone, state_fund, next_year
):
    box = syringe.pack_sizes.get()
    response = sam.post(
        "/inventory/receive/",
        receive_post(
            downtown,
            state_fund,
            [
                {"item": syringe.pk, "quantity": "3", "pack_size": box.pk},
                {
                    "item": naloxone.pk,
                    "quantity": "24",
                    "lot_number": "NX-77",
                    "expires_on": next_year.isoformat(),
                    "unit_cost": "37.50",
                },
            ],
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/inventory/?location={downtown.pk}"
    assert "Received 324 units in 2 lot lines at Downtown storeroom." in response.content.decode()
    assert stock_on_hand(location=downtown, item=syringe) == 300
    lot = Lot.objects.get(item=naloxone)
    assert (lot.lot_number, lot.expires_on, lot.funding_source, str(lot.unit_cost)) == (
        "NX-77",
        next_year,
        state_fund,
        "37.5000",
    )
    movements = StockMovement.objects.filter(kind=MovementKind.RECEIPT)
    assert {(m.item_id, m.quantity, m.reference) for m in movements} == {
        (syringe.pk, 300, "PO-2291"),
        (naloxone.pk, 24, "PO-2291"),
    }


def test_a_funding_rule_refusal_is_shown_on_the_line_and_nothing_is_written(
    sam, downtown, syringe, naloxone, federal_grant, next_year
):
    response = sam.post(
        "/inventory/receive/",
        receive_post(
            downtown,
            federal_grant,
            [
                {
                    "item": naloxone.pk,
                    "quantity": "10",
                    "lot_number": "NX-9",
                    "expires_on": next_year.isoformat(),
                },
                {"item": syringe.pk, "quantity": "100"},
            ],
        ),
    )
    assert response.status_code == 200
    lines = response.context["lines"].forms
    assert lines[1].errors["item"] == [
        "Federal grant may not buy syringe items such as 1 mL 28G syringe."
    ]
    assert not lines[0].errors
    assert "Federal grant may not buy syringe items" in response.content.decode()
    assert movement_count() == 0
    assert not Lot.objects.exists()


def test_a_tracked_item_without_lot_and_expiry_is_refused(sam, downtown, naloxone, state_fund):
    response = sam.post(
        "/inventory/receive/",
        receive_post(downtown, state_fund, [{"item": naloxone.pk, "quantity": "10"}]),
    )
    (line, _empty) = response.context["lines"].forms
    assert line.errors["lot_number"] == ["Naloxone nasal 4 mg is tracked by lot: enter the lot."]
    assert line.errors["expires_on"] == ["Naloxone nasal 4 mg is tracked by lot: enter expiry."]
    assert movement_count() == 0


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-4", "Ensure this value is greater than or equal to 1."),
        ("2.5", "Enter a whole number."),
        ("lots", "Enter a whole number."),
    ],
)
def test_bad_quantities_are_refused_next_to_the_field(
    sam, downtown, syringe, state_fund, quantity, message
):
    response = sam.post(
        "/inventory/receive/",
        receive_post(downtown, state_fund, [{"item": syringe.pk, "quantity": quantity}]),
    )
    assert response.context["lines"].forms[0].errors["quantity"] == [message]
    assert message in response.content.decode()
    assert movement_count() == 0


def test_an_expired_lot_is_not_received(sam, downtown, naloxone, state_fund, today):
    response = sam.post(
        "/inventory/receive/",
        receive_post(
            downtown,
            state_fund,
            [
                {
                    "item": naloxone.pk,
                    "quantity": "10",
                    "lot_number": "OLD",
                    "expires_on": (today - timedelta(days=1)).isoformat(),
                }
            ],
        ),
    )
    assert response.context["lines"].forms[0].errors["expires_on"] == [
        "This lot has expired; do not receive it."
    ]
    assert movement_count() == 0


def test_a_large_receipt_asks_are_you_sure_on_the_page(
    sam, downtown, syringe, state_fund, settings
):
    box = syringe.pack_sizes.get()
    packs = settings.SSP_LARGE_QUANTITY // box.units + 1
    data = receive_post(
        downtown, state_fund, [{"item": syringe.pk, "quantity": str(packs), "pack_size": box.pk}]
    )
    asked = sam.post("/inventory/receive/", data)
    assert asked.status_code == 200
    units = packs * box.units
    message = f"{units:,} units of {syringe.name} is unusually large"
    assert message in asked.context["form"].errors["confirm_large_quantity"][0]
    page = asked.content.decode()
    assert message in page and 'name="confirm_large_quantity"' in page
    assert movement_count() == 0
    confirmed = sam.post("/inventory/receive/", {**data, "confirm_large_quantity": "on"})
    assert confirmed.status_code == 302
    assert stock_on_hand(location=downtown, item=syringe) == units


def test_a_receipt_within_the_large_quantity_asks_nothing(
    sam, downtown, syringe, state_fund, settings
):
    quantity = settings.SSP_LARGE_QUANTITY
    data = receive_post(downtown, state_fund, [{"item": syringe.pk, "quantity": str(quantity)}])
    assert sam.post("/inventory/receive/", data).status_code == 302
    assert stock_on_hand(location=downtown, item=syringe) == quantity


def test_an_empty_shipment_is_refused(sam, downtown, state_fund):
    data = receive_post(downtown, state_fund, [])
    response = sam.post("/inventory/receive/", data)
    assert response.status_code == 200
    assert response.context["lines"].non_form_errors()
    assert movement_count() == 0


def test_a_manager_cannot_receive_into_another_sites_location(sam, eastside, syringe, state_fund):
    response = sam.post(
        "/inventory/receive/",
        receive_post(eastside, state_fund, [{"item": syringe.pk, "quantity": "5"}]),
    )
    assert "location" in response.context["form"].errors
    assert b"Eastside" not in response.content
    assert movement_count() == 0


# --- Transfer ------------------------------------------------------------------------


def transfer_post(source, target, lines):
    return {
        "from_location": source.pk,
        "to_location": target.pk,
        "reference": "",
        **formset("lines", lines),
    }


def test_transfer_moves_stock_between_locations(sam, stocked, central, downtown, syringe):
    before = movement_count()
    response = sam.post(
        "/inventory/transfer/",
        transfer_post(central, downtown, [{"item": syringe.pk, "quantity": "250"}]),
        follow=True,
    )
    assert "Sent 250 units from Central store to Downtown storeroom." in response.content.decode()
    assert stock_on_hand(location=central, item=syringe) == 750
    assert stock_on_hand(location=downtown, item=syringe) == 280
    legs = StockMovement.objects.order_by("pk")[before:]
    assert [(m.kind, m.quantity) for m in legs] == [
        (MovementKind.TRANSFER_OUT, -250),
        (MovementKind.TRANSFER_IN, 250),
    ]
    assert legs[0].reference == legs[1].reference != ""


def test_transfer_of_a_named_lot(
    sam, stocked, central, downtown, naloxone, state_fund, admin_ada, today
):
    receive(
        downtown,
        naloxone,
        5,
        by=admin_ada,
        fund=state_fund,
        lot_number="NX-0",
        expires_on=today + timedelta(days=30),
    )
    nx1 = stocked["nx1"]
    sam.post(
        "/inventory/transfer/",
        transfer_post(downtown, central, [{"item": naloxone.pk, "quantity": "4", "lot": nx1.pk}]),
    )
    assert StockBalance.objects.get(location=central, lot=nx1).quantity == 4
    assert StockBalance.objects.get(location=downtown, lot=nx1).quantity == 16


def test_the_lot_menu_offers_only_lots_on_hand_at_the_source_first_expiry_first(
    sam, stocked, central, downtown, naloxone, syringe, state_fund, admin_ada, today
):
    soon = receive(
        downtown, naloxone, 5, by=admin_ada, fund=state_fund, lot_number="NX-0",
        expires_on=today + timedelta(days=30),
    )[0].lot  # fmt: skip
    elsewhere = receive(
        central, naloxone, 7, by=admin_ada, fund=state_fund, lot_number="NX-C",
        expires_on=today + timedelta(days=10),
    )[0].lot  # fmt: skip
    page = sam.get(f"/inventory/transfer/?from_location={downtown.pk}")
    lots = page.context["lines"].forms[0].fields["lot"]
    syringes = Lot.objects.get(item=syringe, balances__location=downtown)
    # By item, then first expiry first, each with what is on hand at the source.
    assert list(lots.queryset) == [syringes, soon, stocked["nx1"]]
    assert [lot.on_hand for lot in lots.queryset] == [30, 5, 20]
    html = page.content.decode()
    assert "lot NX-0" in html and "5 on hand" in html and "lot NX-C" not in html
    # No source chosen yet: no lot to pick, only "earliest expiry first".
    assert not sam.get("/inventory/transfer/").context["lines"].forms[0].fields["lot"].queryset
    assert elsewhere.pk not in set(lots.queryset.values_list("pk", flat=True))


def test_changing_the_source_refreshes_the_lot_menus_keeping_the_lines(
    sam, stocked, central, downtown, naloxone, syringe
):
    nx1 = stocked["nx1"]
    query = {
        "from_location": central.pk,
        **formset("lines", [{"item": naloxone.pk, "quantity": "3", "lot": nx1.pk}], extra_empty=0),
    }
    fragment = sam.get("/inventory/transfer/", query, headers={"HX-Request": "true"})
    assert fragment.templates[0].name == "inventory/_transfer_lines.html"
    html = fragment.content.decode()
    assert 'id="transfer-lines"' in html and "<html" not in html
    (line,) = fragment.context["lines"].forms
    # The item and quantity stay; NX-1 is not at the central store, so the lot is dropped.
    assert line.initial == {"item": naloxone.pk, "quantity": 3, "lot": None}
    assert nx1 not in line.fields["lot"].queryset


def test_a_lot_not_at_the_source_is_refused_on_the_page(sam, stocked, central, downtown, naloxone):
    before = movement_count()
    response = sam.post(
        "/inventory/transfer/",
        transfer_post(
            central, downtown, [{"item": naloxone.pk, "quantity": "1", "lot": stocked["nx1"].pk}]
        ),
    )
    assert response.status_code == 200
    assert "That lot is not on hand at the sending location." in response.content.decode()
    assert movement_count() == before


def test_receipt_pack_sizes_name_their_item(sam, syringe):
    html = sam.get("/inventory/receive/").content.decode()
    for pack in syringe.pack_sizes.all():
        assert f'data-item="{syringe.pk}" value="{pack.pk}"' in html or (
            f'value="{pack.pk}" data-item="{syringe.pk}"' in html
        )


def test_transfer_to_the_same_location_is_refused(sam, stocked, downtown, syringe):
    before = movement_count()
    response = sam.post(
        "/inventory/transfer/",
        transfer_post(downtown, downtown, [{"item": syringe.pk, "quantity": "5"}]),
    )
    assert response.context["form"].errors["to_location"] == [
        "Choose a different location to send to."
    ]
    assert movement_count() == before


def test_transfer_of_more_than_is_on_hand_names_what_is_available(
    sam, stocked, downtown, central, syringe
):
    before = movement_count()
    response = sam.post(
        "/inventory/transfer/",
        transfer_post(downtown, central, [{"item": syringe.pk, "quantity": "31"}]),
    )
    assert response.context["form"].non_field_errors() == [
        "Not enough 1 mL 28G syringe at Downtown storeroom: 31 requested, 30 available."
    ]
    assert movement_count() == before
    assert stock_on_hand(location=downtown, item=syringe) == 30


def test_a_manager_cannot_send_from_another_sites_location(
    sam, stocked, eastside, downtown, syringe
):
    before = movement_count()
    response = sam.post(
        "/inventory/transfer/",
        transfer_post(eastside, downtown, [{"item": syringe.pk, "quantity": "5"}]),
    )
    assert "from_location" in response.context["form"].errors
    assert movement_count() == before


# --- Adjust --------------------------------------------------------------------------


def test_adjustment_records_the_reason(sam, stocked, downtown, naloxone):
    nx1 = stocked["nx1"]
    response = sam.post(
        "/inventory/adjust/",
        {
            "location": downtown.pk,
            "lot": nx1.pk,
            "reason": AdjustmentReason.DAMAGED,
            "quantity": "-3",
            "reference": "box crushed",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == (
        f"/inventory/card/?location={downtown.pk}&item={naloxone.pk}"
    )
    assert "Recorded damaged: -3 Naloxone nasal 4 mg at Downtown storeroom." in (
        response.content.decode()
    )
    movement = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (movement.quantity, movement.reason, movement.lot) == (-3, "damaged", nx1)
    assert StockBalance.objects.get(location=downtown, lot=nx1).quantity == 17


@pytest.mark.parametrize(
    ("reason", "quantity", "field", "message"),
    [
        ("damaged", "4", "quantity", "Damaged, expired or lost stock is removed"),
        ("found", "-4", "quantity", "Found stock is added: use a positive number."),
        ("correction", "0", "quantity", "Enter a quantity other than 0."),
        ("reversal", "-1", "reason", "Select a valid choice."),
        ("lost", "-21", None, "Not enough Naloxone nasal 4 mg at Downtown storeroom"),
    ],
)
def test_a_bad_adjustment_is_refused_and_writes_nothing(
    sam, stocked, downtown, reason, quantity, field, message
):
    before = movement_count()
    response = sam.post(
        "/inventory/adjust/",
        {"location": downtown.pk, "lot": stocked["nx1"].pk, "reason": reason, "quantity": quantity},
    )
    form = response.context["form"]
    errors = form.errors[field] if field else form.non_field_errors()
    assert any(message in error for error in errors), errors
    assert movement_count() == before


def test_a_manager_cannot_adjust_another_sites_stock(sam, stocked, eastside, syringe, admin_ada):
    lot = Lot.objects.get(item=syringe)
    before = movement_count()
    response = sam.post(
        "/inventory/adjust/",
        {"location": eastside.pk, "lot": lot.pk, "reason": "lost", "quantity": "-1"},
    )
    assert "location" in response.context["form"].errors
    assert movement_count() == before


# --- Count ---------------------------------------------------------------------------


def count_post(location, counted: dict, action: str, *, reason: str = "correction"):
    lines = [
        {"lot": lot.pk, "counted": str(units), "reason": reason} for lot, units in counted.items()
    ]
    data = formset("lines", lines, extra_empty=0)
    data.update({"location": location.pk, "action": action})
    return data


def test_the_count_sheet_lists_every_lot_on_hand(sam, stocked, downtown):
    page = sam.get(f"/inventory/count/?location={downtown.pk}")
    # In shelf order: item name, then earliest expiry.
    assert [(row["lot"].item.code, row["booked"]) for row in page.context["rows"]] == [
        ("s28", 30),
        ("nx4", 20),
    ]
    assert b"Check differences" in page.content


def test_the_preview_shows_differences_and_writes_nothing(sam, stocked, downtown, syringe):
    syringe_lot = Lot.objects.get(item=syringe)
    before = movement_count()
    response = sam.post(
        "/inventory/count/",
        count_post(downtown, {syringe_lot: 26, stocked["nx1"]: 20}, "preview"),
    )
    assert response.status_code == 200
    differences = {
        (row.lot.item.code, row.booked, row.counted, row.difference)
        for row in (response.context["differences"])
    }
    assert differences == {("s28", 30, 26, -4), ("nx4", 20, 20, 0)}
    assert len(response.context["changed"]) == 1
    assert b"Record the count" in response.content
    assert movement_count() == before
    assert not StockCount.objects.exists()


def test_committing_the_count_makes_the_counted_figures_the_balance(
    sam, stocked, downtown, syringe
):
    syringe_lot = Lot.objects.get(item=syringe)
    response = sam.post(
        "/inventory/count/",
        count_post(downtown, {syringe_lot: 26, stocked["nx1"]: 21}, "commit"),
        follow=True,
    )
    assert (
        "Count recorded at Downtown storeroom: 2 lines counted, 2 differences written to the "
        "ledger." in response.content.decode()
    )
    count = StockCount.objects.get()
    assert {(m.lot_id, m.quantity) for m in StockMovement.objects.filter(kind="count")} == {
        (syringe_lot.pk, -4),
        (stocked["nx1"].pk, 1),
    }
    assert all(m.reference == count.reference for m in StockMovement.objects.filter(kind="count"))
    assert StockBalance.objects.get(location=downtown, lot=syringe_lot).quantity == 26
    ledger = StockMovement.objects.filter(location=downtown, lot=syringe_lot).aggregate(
        t=Sum("quantity")
    )["t"]
    assert ledger == 26


def test_the_blind_count_sheet_hides_the_books_until_the_count_is_entered(
    sam, stocked, downtown, syringe, settings
):
    settings.SSP_BLIND_COUNT = True
    sheet = sam.get(f"/inventory/count/?location={downtown.pk}").content.decode()
    assert "Books say" not in sheet and "blind count" in sheet
    # The books' figures (30 syringes, 20 naloxone) are nowhere in the table.
    table = sheet[sheet.index("<table") : sheet.index("</table>")]
    assert ">30<" not in table and ">20<" not in table
    syringe_lot = Lot.objects.get(item=syringe)
    preview = sam.post(
        "/inventory/count/", count_post(downtown, {syringe_lot: 26}, "preview")
    ).content.decode()
    assert "Books say" in preview and ">30<" in preview


def test_the_count_sheet_shows_the_books_when_blind_counts_are_off(
    sam, stocked, downtown, settings
):
    settings.SSP_BLIND_COUNT = False
    sheet = sam.get(f"/inventory/count/?location={downtown.pk}").content.decode()
    assert "Books say" in sheet and '<td class="num">30</td>' in sheet


def test_a_difference_without_a_reason_is_refused_and_writes_nothing(
    sam, stocked, downtown, syringe
):
    syringe_lot = Lot.objects.get(item=syringe)
    before = movement_count()
    response = sam.post(
        "/inventory/count/",
        count_post(downtown, {syringe_lot: 26, stocked["nx1"]: 20}, "commit", reason=""),
    )
    assert response.status_code == 400
    assert "Choose why the shelf differs from the books (-4)." in response.content.decode()
    # The preview again, with a reason menu on the line that differs only.
    assert response.templates[0].name == "inventory/count_preview.html"
    assert response.content.decode().count('name="lines-') and "Why it differs" in (
        response.content.decode()
    )
    assert movement_count() == before
    assert not StockCount.objects.exists()


def test_a_reason_is_a_choice_kept_on_the_count_line_and_its_movement(
    sam, stocked, downtown, syringe
):
    syringe_lot = Lot.objects.get(item=syringe)
    refused = sam.post(
        "/inventory/count/",
        count_post(downtown, {syringe_lot: 26}, "commit", reason="my cat ate them"),
    )
    assert refused.status_code == 400 and not StockCount.objects.exists()
    sam.post("/inventory/count/", count_post(downtown, {syringe_lot: 26}, "commit", reason="lost"))
    (line,) = StockCount.objects.get().lines.all()
    assert (line.difference, line.reason) == (-4, AdjustmentReason.LOST)
    movement = StockMovement.objects.get(kind=MovementKind.COUNT)
    assert (movement.quantity, movement.reason) == (-4, AdjustmentReason.LOST)


def test_a_line_left_empty_is_not_counted(sam, stocked, downtown, syringe):
    syringe_lot = Lot.objects.get(item=syringe)
    data = count_post(downtown, {syringe_lot: 30, stocked["nx1"]: 0}, "commit")
    data["lines-1-counted"] = ""
    sam.post("/inventory/count/", data)
    assert StockCount.objects.get().lines.count() == 1
    assert StockBalance.objects.get(location=downtown, lot=stocked["nx1"]).quantity == 20


def test_a_negative_count_is_refused(sam, stocked, downtown, syringe):
    syringe_lot = Lot.objects.get(item=syringe)
    response = sam.post("/inventory/count/", count_post(downtown, {syringe_lot: -1}, "commit"))
    assert response.status_code == 400
    assert "A count cannot be negative." in response.content.decode()
    assert not StockCount.objects.exists()


def test_a_count_of_another_sites_location_is_not_found(sam, stocked, eastside, syringe):
    assert sam.get(f"/inventory/count/?location={eastside.pk}").status_code == 404
    lot = Lot.objects.get(item=syringe)
    response = sam.post("/inventory/count/", count_post(eastside, {lot: 0}, "commit"))
    assert response.status_code == 404
    assert not StockCount.objects.exists()


def test_a_count_line_for_a_lot_not_on_the_sheet_is_refused(
    sam, stocked, downtown, central, naloxone, state_fund, admin_ada, next_year
):
    receive(
        central,
        naloxone,
        5,
        by=admin_ada,
        fund=state_fund,
        lot_number="NX-C",
        expires_on=next_year,
    )
    elsewhere = Lot.objects.get(lot_number="NX-C")
    response = sam.post("/inventory/count/", count_post(downtown, {elsewhere: 3}, "commit"))
    assert response.status_code == 400
    assert "This lot is not on this location&#x27;s sheet." in response.content.decode()
    assert not StockCount.objects.exists()
