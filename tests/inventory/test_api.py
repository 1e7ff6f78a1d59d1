"""The stock API: operations, field-level 400s that write nothing, 409 when short,
capability checks and site scoping."""

from datetime import timedelta

import pytest

from inventory.models import Category, Lot, StockCount, StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import DispenseLine, ReceiptLine, stock_dispense, stock_receive

from ..factories import FundingSourceFactory, ItemFactory, KitFactory, LocationFactory

API = "/api/v1/inventory"


@pytest.fixture
def world(site_a, site_b):
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    box = syringe.pack_sizes.create(name="box of 100", units=100)
    return {
        "downtown": LocationFactory(name="Downtown drop-in", site=site_a),
        "eastside": LocationFactory(name="Eastside clinic", site=site_b),
        "central": LocationFactory(name="Central store", kind="central", site=None),
        "syringe": syringe,
        "box": box,
        "naloxone": ItemFactory(
            name="Naloxone nasal 4 mg",
            code="nx4",
            category=Category.NALOXONE,
            is_lot_tracked=True,
            naloxone_formulation="nasal_4mg",
            naloxone_doses_per_unit=2,
        ),
        "state": FundingSourceFactory(name="State grant", code="state"),
        "federal": FundingSourceFactory(
            name="Federal grant", code="federal", disallowed_categories=["syringe", "needle"]
        ),
    }


def stock(world, location, item, quantity, by, **line):
    stock_receive(
        location=world[location],
        lines=[ReceiptLine(item=world[item], quantity=quantity, **line)],
        funding_source=world["state"],
        by=by,
    )


def test_receive_a_shipment_of_several_lines(api_as, world, manager_sam, today):
    response = api_as(manager_sam).post(
        f"{API}/receipts/",
        {
            "location": world["downtown"].pk,
            "funding_source": world["state"].pk,
            "reference": "Packing slip 4411",
            "lines": [
                {"item": world["syringe"].pk, "quantity": 5, "pack_size": world["box"].pk},
                {
                    "item": world["naloxone"].pk,
                    "quantity": 24,
                    "lot_number": "NX-88",
                    "expires_on": str(today + timedelta(days=400)),
                },
            ],
        },
    )
    assert response.status_code == 201, response.json()
    assert sorted(m["quantity"] for m in response.json()) == [24, 500]
    assert stock_on_hand(location=world["downtown"], item=world["syringe"]) == 500


@pytest.mark.parametrize(
    ("case", "line", "field"),
    [
        ("zero quantity", {"item": "syringe", "quantity": 0}, "quantity"),
        ("negative quantity", {"item": "syringe", "quantity": -3}, "quantity"),
        ("non-integer quantity", {"item": "syringe", "quantity": 2.5}, "quantity"),
        ("text quantity", {"item": "syringe", "quantity": "many"}, "quantity"),
        ("unknown item", {"item": 999999, "quantity": 1}, "item"),
        ("inactive item", {"item": "inactive", "quantity": 1}, "item"),
        ("tracked item without lot", {"item": "naloxone", "quantity": 1}, "lot_number"),
        (
            "expired lot",
            {
                "item": "naloxone",
                "quantity": 1,
                "lot_number": "OLD",
                "expires_on": "yesterday",  # a date, filled in when the test runs
            },
            "expires_on",
        ),
        ("pack size of another item", {"item": "naloxone_pack", "quantity": 1}, "pack_size"),
    ],
)
def test_bad_receipt_lines_get_a_field_error_and_write_nothing(
    api_as, world, manager_sam, case, line, field, today
):
    line = dict(line)
    if line.get("expires_on") == "yesterday":
        line["expires_on"] = str(today - timedelta(days=1))
    if line["item"] == "inactive":
        line["item"] = ItemFactory(name="Retired cooker", code="old-cook", is_active=False).pk
    elif line["item"] == "naloxone_pack":
        line.update(
            item=world["naloxone"].pk,
            pack_size=world["box"].pk,
            lot_number="L",
            expires_on=str(today + timedelta(days=90)),
        )
    elif isinstance(line["item"], str):
        line["item"] = world[line["item"]].pk
    response = api_as(manager_sam).post(
        f"{API}/receipts/",
        {"location": world["downtown"].pk, "funding_source": world["state"].pk, "lines": [line]},
    )
    assert response.status_code == 400, (case, response.json())
    body = response.json()
    assert field in body["errors"]["lines"]["0"], (case, body)
    assert body["detail"]
    assert not StockMovement.objects.exists()
    assert not Lot.objects.exists()


def test_receipt_refused_by_funding_rule_says_why(api_as, world, manager_sam):
    response = api_as(manager_sam).post(
        f"{API}/receipts/",
        {
            "location": world["downtown"].pk,
            "funding_source": world["federal"].pk,
            "lines": [{"item": world["syringe"].pk, "quantity": 100}],
        },
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Line 1: Federal grant may not buy syringe items such as 1 mL 28G syringe."
    )
    assert not StockMovement.objects.exists()


def test_transfer_to_the_same_location_is_a_field_error(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    response = api_as(manager_sam).post(
        f"{API}/transfers/",
        {
            "from_location": world["downtown"].pk,
            "to_location": world["downtown"].pk,
            "lines": [{"item": world["syringe"].pk, "quantity": 1}],
        },
    )
    assert response.status_code == 400
    assert "to_location" in response.json()["errors"]
    assert StockMovement.objects.count() == 1


def test_the_lots_on_hand_at_a_location_first_expiry_first(api_as, world, manager_sam, today):
    later, sooner = today + timedelta(days=300), today + timedelta(days=40)
    stock(world, "downtown", "naloxone", 6, manager_sam, lot_number="NX-L", expires_on=later)
    stock(world, "downtown", "naloxone", 4, manager_sam, lot_number="NX-S", expires_on=sooner)
    stock(world, "central", "naloxone", 9, manager_sam, lot_number="NX-C", expires_on=sooner)
    response = api_as(manager_sam).get(f"{API}/lots/", {"on_hand_at": world["downtown"].pk})
    assert response.status_code == 200
    rows = [(lot["lot_number"], lot["on_hand"]) for lot in response.json()["results"]]
    assert rows == [("NX-S", 4), ("NX-L", 6)]
    # A location the person may not see is a field error, not an empty list.
    refused = api_as(manager_sam).get(f"{API}/lots/", {"on_hand_at": world["eastside"].pk})
    assert refused.status_code == 400


def test_transfer_of_a_lot_not_at_the_source_is_a_field_error(api_as, world, manager_sam, today):
    expiry = today + timedelta(days=300)
    stock(world, "downtown", "naloxone", 6, manager_sam, lot_number="NX-D", expires_on=expiry)
    stock(world, "central", "naloxone", 9, manager_sam, lot_number="NX-C", expires_on=expiry)
    before = StockMovement.objects.count()
    response = api_as(manager_sam).post(
        f"{API}/transfers/",
        {
            "from_location": world["downtown"].pk,
            "to_location": world["central"].pk,
            "lines": [
                {
                    "item": world["naloxone"].pk,
                    "quantity": 1,
                    "lot": Lot.objects.get(lot_number="NX-C").pk,
                }
            ],
        },
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"]["lines"] == {
        "0": {"lot": ["Lot NX-C is not on hand at Downtown drop-in."]}
    }
    assert StockMovement.objects.count() == before


def test_a_count_line_that_differs_needs_a_reason(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    client = api_as(manager_sam)
    body = {"location": world["downtown"].pk, "lines": [{"item": world["syringe"].pk}]}
    body["lines"][0]["counted"] = 7
    refused = client.post(f"{API}/counts/record/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["lines"] == {
        "0": {"reason": ["Choose why the shelf differs from the books (-3)."]}
    }
    body["lines"][0]["reason"] = "typed a story"
    assert client.post(f"{API}/counts/record/", body, format="json").status_code == 400
    assert not StockCount.objects.exists()
    # A line that matches the books needs none.
    body["lines"][0] = {"item": world["syringe"].pk, "counted": 10}
    assert client.post(f"{API}/counts/record/", body, format="json").status_code == 201


def test_transfer_short_of_stock_is_409_naming_the_item(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 3, manager_sam)
    response = api_as(manager_sam).post(
        f"{API}/transfers/",
        {
            "from_location": world["downtown"].pk,
            "to_location": world["central"].pk,
            "lines": [{"item": world["syringe"].pk, "quantity": 5}],
        },
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Not enough 1 mL 28G syringe at Downtown drop-in: 5 requested, 3 available.",
        "code": "insufficient_stock",
        "errors": {},
    }
    assert StockMovement.objects.count() == 1


def test_count_lines_for_a_location_the_user_does_not_manage_are_refused(
    api_as, world, manager_sam, admin_ada
):
    stock(world, "eastside", "syringe", 10, admin_ada)
    response = api_as(manager_sam).post(
        f"{API}/counts/record/",
        {
            "location": world["eastside"].pk,
            "lines": [{"item": world["syringe"].pk, "counted": 0}],
        },
    )
    assert response.status_code == 400
    assert "location" in response.json()["errors"]
    assert stock_on_hand(location=world["eastside"], item=world["syringe"]) == 10
    assert not StockCount.objects.exists()


def test_count_returns_booked_and_counted_figures(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    response = api_as(manager_sam).post(
        f"{API}/counts/record/",
        {
            "location": world["downtown"].pk,
            "lines": [{"item": world["syringe"].pk, "counted": 8, "reason": "lost"}],
        },
    )
    assert response.status_code == 201, response.json()
    (line,) = response.json()["lines"]
    assert (line["expected"], line["counted"], line["difference"]) == (10, 8, -2)
    assert line["reason"] == "lost"
    assert stock_on_hand(location=world["downtown"], item=world["syringe"]) == 8


def test_adjustment_and_its_reason(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    lot = Lot.objects.get()
    client = api_as(manager_sam)
    wrong_sign = client.post(
        f"{API}/adjustments/",
        {"location": world["downtown"].pk, "lot": lot.pk, "quantity": 4, "reason": "damaged"},
    )
    assert wrong_sign.status_code == 400
    assert "quantity" in wrong_sign.json()["errors"]
    ok = client.post(
        f"{API}/adjustments/",
        {"location": world["downtown"].pk, "lot": lot.pk, "quantity": -4, "reason": "damaged"},
    )
    assert ok.status_code == 201
    assert ok.json()[0]["reason"] == "damaged"
    assert stock_on_hand(location=world["downtown"], item=world["syringe"]) == 6


def test_dispense_and_reverse_through_the_api(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 50, manager_sam)
    kit = KitFactory(name="Syringe pack", components=[(world["syringe"], 10)])
    client = api_as(manager_sam)
    out = client.post(
        f"{API}/dispenses/",
        {
            "location": world["downtown"].pk,
            "reference": "event:health-fair",
            "lines": [{"kit": kit.pk, "quantity": 2}],
        },
    )
    assert out.status_code == 201
    assert stock_on_hand(location=world["downtown"], item=world["syringe"]) == 30
    back = client.post(f"{API}/reversals/", {"reference": "event:health-fair"})
    assert back.status_code == 201
    assert stock_on_hand(location=world["downtown"], item=world["syringe"]) == 50
    again = client.post(f"{API}/reversals/", {"reference": "event:health-fair"})
    assert again.status_code == 201
    assert again.json() == []


def test_front_desk_may_look_but_not_move_stock(api_as, world, front_desk_ana, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    client = api_as(front_desk_ana)
    assert client.get(f"{API}/balances/").json()["count"] == 1
    response = client.post(
        f"{API}/receipts/",
        {
            "location": world["downtown"].pk,
            "funding_source": world["state"].pk,
            "lines": [{"item": world["syringe"].pk, "quantity": 1}],
        },
    )
    assert response.status_code == 403
    assert StockMovement.objects.count() == 1


def test_lists_are_scoped_to_the_users_sites(api_as, world, front_desk_ben, manager_sam, admin_ada):
    stock(world, "downtown", "syringe", 10, manager_sam)
    stock(world, "eastside", "syringe", 7, admin_ada)
    client = api_as(front_desk_ben)
    balances = client.get(f"{API}/balances/").json()["results"]
    assert [b["location"] for b in balances] == [world["eastside"].pk]
    movements = client.get(f"{API}/movements/").json()["results"]
    assert {m["location"] for m in movements} == {world["eastside"].pk}
    locations = client.get(f"{API}/locations/").json()["results"]
    assert [loc["name"] for loc in locations] == ["Eastside clinic"]
    card = client.get(
        f"{API}/stock-card/", {"location": world["downtown"].pk, "item": world["syringe"].pk}
    )
    assert card.status_code == 400
    levels = client.get(f"{API}/levels/").json()
    assert {row["location_name"] for row in levels} == {"Eastside clinic"}


def test_stock_card_carries_a_running_balance(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    stock_dispense(
        location=world["downtown"],
        lines=[DispenseLine(item=world["syringe"], quantity=3)],
        by=manager_sam,
        reference="event:a",
    )
    stock(world, "downtown", "syringe", 5, manager_sam)
    rows = (
        api_as(manager_sam)
        .get(f"{API}/stock-card/", {"location": world["downtown"].pk, "item": world["syringe"].pk})
        .json()["results"]
    )
    assert [(r["quantity"], r["running_balance"]) for r in rows] == [(5, 12), (-3, 7), (10, 10)]


def test_movements_filter_by_kind_and_reference(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    stock_dispense(
        location=world["downtown"],
        lines=[DispenseLine(item=world["syringe"], quantity=3)],
        by=manager_sam,
        reference="event:abc",
    )
    client = api_as(manager_sam)
    assert client.get(f"{API}/movements/", {"kind": "dispense"}).json()["count"] == 1
    assert client.get(f"{API}/movements/", {"reference": "event:abc"}).json()["count"] == 1
    assert client.get(f"{API}/movements/", {"kind": "receipt"}).json()["count"] == 1


def test_levels_report_consumption_months_and_band(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 400, manager_sam)
    stock_dispense(
        location=world["downtown"],
        lines=[DispenseLine(item=world["syringe"], quantity=300)],
        by=manager_sam,
        reference="event:big",
    )
    (row,) = api_as(manager_sam).get(f"{API}/levels/", {"location": world["downtown"].pk}).json()
    # 300 used in 90 days → 100 a month; 100 on hand → 1 month: understock.
    assert row["on_hand"] == 100
    assert row["avg_monthly"] == 100
    assert row["months_of_stock"] == 1.0
    assert row["status"] == "understock"
    assert row["reorder_point"] == 150
    assert row["suggested_order"] == 200


def test_trend_gives_one_point_per_day(api_as, world, manager_sam):
    stock(world, "downtown", "syringe", 10, manager_sam)
    points = (
        api_as(manager_sam).get(f"{API}/trend/", {"item": world["syringe"].pk, "days": 30}).json()
    )
    assert len(points) == 30
    assert points[-1]["on_hand"] == 10
    assert points[0]["on_hand"] == 0
